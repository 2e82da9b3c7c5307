"""End to end: the Python client against the real server binary.

The binary is $APPOINTMENTD, or <repo>/.build/debug/appointmentd (`swift build` in the repo).
These tests are skipped when that file does not exist, and only then. The server runs as

    appointmentd --host 127.0.0.1 --port 0 --data-dir <tmp>/data --password-cost test --log-level info

and the tests learn its port from the `listening … port=N` line it logs. One server serves the
whole module and is stopped with SIGTERM at the end; the SIGTERM test (which must see a drain
with GOAWAY and exit 0) starts a server of its own.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import pathlib
import queue
import re
import signal
import socket
import subprocess
import threading
import uuid

import pytest

from appointments_client import (
    Client,
    FrameDecoder,
    FrameType,
    Reason,
    RpcError,
    StatusCode,
    encode_frame,
    encode_message_frame,
    pb,
    wire,
)
from appointments_client.aio import AsyncClient

REPO = pathlib.Path(__file__).resolve().parents[3]
BINARY = pathlib.Path(os.environ.get("APPOINTMENTD") or REPO / ".build" / "debug" / "appointmentd")
START_TIMEOUT = float(os.environ.get("APPOINTMENTD_START_TIMEOUT", "60"))

pytestmark = pytest.mark.skipif(
    not BINARY.exists(),
    reason=f"server binary {BINARY} not found: run `swift build` in {REPO} or set APPOINTMENTD",
)

PASSWORD = "correct horse battery"
TODAY = datetime.datetime.now(datetime.timezone.utc).date()


def day(offset: int) -> datetime.date:
    """A date `offset` days after today in UTC, the zone of every doctor registered here.

    Each test books on days of its own so that tests do not take each other's slots.
    """
    return TODAY + datetime.timedelta(days=offset)


def unique_email(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}@example.org"


# -- the server ------------------------------------------------------------------------------


# What the server logs (swift-log's stream format) once it listens, e.g.
# `2026-11-30T18:15:37+0000 info appointmentd: host=127.0.0.1 port=36149 [AppointmentsServer] listening`.
LISTENING = re.compile(rb"\bport=(\d+)\b.*\blistening\s*$")


class Server:
    """A running appointmentd. Its output goes through a pipe, copied line by line to ``log``."""

    def __init__(self, tmp: pathlib.Path, *flags: str) -> None:
        self.log = tmp / "server.log"
        command = [
            str(BINARY), "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp / "data"),
            "--password-cost", "test", "--log-level", "info", *flags,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ports: "queue.Queue[int | None]" = queue.Queue()
        self._copier = threading.Thread(target=self._copy_output, args=(ports,), daemon=True)
        self._copier.start()
        try:
            port = ports.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.stop()
            pytest.fail(f"appointmentd logged no `listening … port=` line within {START_TIMEOUT} s:\n{self.output()}")
        if port is None:
            self.stop()
            pytest.fail(f"appointmentd exited with code {self.process.returncode} before listening:\n{self.output()}")
        self.port: int = port

    def _copy_output(self, ports: "queue.Queue[int | None]") -> None:
        """Copies the server's output to the log; puts the port when it is logged, None at the end."""
        with open(self.log, "wb") as out, self.process.stdout as lines:
            for line in lines:
                out.write(line)
                out.flush()
                match = LISTENING.search(line)
                if match:
                    ports.put(int(match.group(1)))
        ports.put(None)

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited 30 s later; then the output is all copied."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._copier.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = Server(tmp_path_factory.mktemp("appointmentd"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def connect(server):
    clients = []

    def open_client(**kwargs) -> Client:
        client = Client.connect("127.0.0.1", server.port, timeout=10, default_timeout=30, **kwargs)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


def register_doctor(client: Client, specialization: str = "cardiology"):
    email = unique_email("doctor")
    reply = client.register_doctor(
        "Dr. Grey", email, PASSWORD, "+1 555 0100", specialization, idempotency_key=uuid.uuid4().hex
    )
    assert reply.id > 0
    return reply.id, email


def new_patient(connect, name: str = "Ann Patient"):
    """A fresh patient, logged in on a client of its own: (client, id, email)."""
    client = connect()
    email = unique_email("patient")
    patient_id = client.register_patient(name, email, PASSWORD, "+1 555 0199", idempotency_key=uuid.uuid4().hex).id
    login = client.login("patient", email, PASSWORD)
    assert login.account_id == patient_id and login.role == pb.ROLE_PATIENT
    return client, patient_id, email


def new_doctor(connect, specialization: str = "cardiology"):
    """A fresh doctor, logged in on a client of its own: (client, id, email)."""
    client = connect()
    doctor_id, email = register_doctor(client, specialization)
    login = client.login("doctor", email, PASSWORD)
    assert login.account_id == doctor_id and login.role == pb.ROLE_DOCTOR
    return client, doctor_id, email


def find_all(client: Client, specialization: str, date) -> list:
    """Every DoctorAvailability of FindDoctors, following next_page_token."""
    found, token = [], b""
    for _ in range(1000):
        page = client.find_doctors(specialization, date, page_size=50, page_token=token)
        found.extend(page.doctors)
        token = page.next_page_token
        if not token:
            return found
    raise AssertionError("FindDoctors never reached its last page")


def expect_error(code: StatusCode, *reasons: str):
    class Expect:
        def __enter__(self):
            return self

        def __exit__(self, kind, error, tb):
            if error is None:
                raise AssertionError(f"expected {code.name} {reasons}, the call succeeded")
            if not isinstance(error, RpcError):
                return False
            assert error.code is code, f"expected {code.name} {reasons}, got {error}"
            if reasons:
                assert error.reason in reasons, f"expected {code.name} {reasons}, got {error}"
            self.error = error
            return True

    return Expect()


# -- tests -------------------------------------------------------------------------------------


def test_hello_health_and_server_info(connect):
    client = connect()
    hello = client.server_hello
    assert hello.protocol_version == 1
    assert (hello.max_frame_bytes, hello.max_header_bytes, hello.max_concurrent_calls) == (1048576, 16384, 256)
    assert client.health().status == pb.SERVING_STATUS_SERVING
    info = client.server_info()
    assert info.protocol_version == 1 and info.version
    assert (info.max_frame_bytes, info.max_header_bytes, info.max_concurrent_calls) == (1048576, 16384, 256)
    assert "cardiology" in info.specializations
    assert info.booking_horizon_days > 0
    assert info.started_at_ms > 0
    # Returns only once a PONG echoing this PING's opaque value arrives (DEADLINE_EXCEEDED
    # otherwise); test_ping_is_echoed checks the echo byte for byte.
    client.ping(timeout=10)


def test_the_original_flow_register_login_find_book_list(connect):
    admin = connect()
    doctor_id, doctor_email = register_doctor(admin)
    patient, patient_id, patient_email = new_patient(connect)
    assert patient.token

    date = day(1)
    found = {d.doctor.id: d for d in find_all(patient, "cardiology", date)}
    assert doctor_id in found, "the new doctor is not among the free cardiologists of tomorrow"
    availability = found[doctor_id]
    assert availability.doctor.email == doctor_email
    assert availability.doctor.specialization == "cardiology"
    assert list(availability.free_start_minutes) == [540]  # default schedule: one slot, 09:00

    appointment = patient.book_slot(doctor_id, date, idempotency_key=uuid.uuid4().hex).appointment
    assert appointment.id > 0
    assert appointment.doctor.id == doctor_id
    assert (appointment.doctor.name, appointment.doctor.email, appointment.doctor.contact) == (
        "Dr. Grey", doctor_email, "+1 555 0100",
    )
    assert appointment.date == pb.Date(year=date.year, month=date.month, day=date.day)
    assert (appointment.start_minute, appointment.duration_minutes) == (540, 480)
    assert appointment.status == pb.APPOINTMENT_STATUS_BOOKED
    assert appointment.booked_at_ms > 0 and appointment.cancelled_at_ms == 0

    # Fully booked now: no longer offered that day.
    assert doctor_id not in {d.doctor.id for d in find_all(patient, "cardiology", date)}

    mine = patient.list_my_appointments(date, date).appointments
    assert [a.id for a in mine] == [appointment.id]
    assert mine[0].doctor.email == doctor_email


def test_a_taken_slot_and_a_second_booking_are_refused(connect):
    admin = connect()
    doctor_id, _ = register_doctor(admin)
    first, _, _ = new_patient(connect, "First Patient")
    second, _, _ = new_patient(connect, "Second Patient")
    date = day(2)
    first.book_slot(doctor_id, date, 540)
    with expect_error(StatusCode.ALREADY_EXISTS, "SLOT_TAKEN"):
        second.book_slot(doctor_id, date, 540)
    with expect_error(StatusCode.ALREADY_EXISTS, "SLOT_TAKEN"):
        second.book_slot(doctor_id, date)
    # The patient's own hold on that doctor's day is checked before the free slots.
    with expect_error(StatusCode.ALREADY_EXISTS, "ALREADY_BOOKED"):
        first.book_slot(doctor_id, date)


def test_roles_are_checked_and_doctors_see_their_patients(connect):
    doctor, doctor_id, _ = new_doctor(connect)
    patient, patient_id, patient_email = new_patient(connect, "Carol Patient")
    date = day(3)
    booked = patient.book_slot(doctor_id, date).appointment

    with expect_error(StatusCode.PERMISSION_DENIED, "WRONG_ROLE"):
        patient.list_filled_slots(date, date)
    with expect_error(StatusCode.PERMISSION_DENIED, "WRONG_ROLE"):
        doctor.book_slot(doctor_id, day(4))
    with expect_error(StatusCode.PERMISSION_DENIED, "WRONG_ROLE"):
        doctor.list_my_appointments(date, date)

    filled = doctor.list_filled_slots(date, date)
    assert [a.id for a in filled.appointments] == [booked.id]
    assert filled.next_page_token == b""
    who = filled.appointments[0].patient
    assert (who.id, who.name, who.email, who.contact) == (patient_id, "Carol Patient", patient_email, "+1 555 0199")


def test_tokens_are_required_and_checked(connect):
    anonymous = connect()
    with expect_error(StatusCode.UNAUTHENTICATED, "MISSING_TOKEN"):
        anonymous.find_doctors("cardiology", day(1))
    anonymous.token = "not-a-jwt"  # an authorization entry is there, so not MISSING_TOKEN
    with expect_error(StatusCode.UNAUTHENTICATED, "INVALID_TOKEN"):
        anonymous.find_doctors("cardiology", day(1))
    anonymous.token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"
    with expect_error(StatusCode.UNAUTHENTICATED, "INVALID_TOKEN"):
        anonymous.list_my_appointments(day(1), day(1))

    with expect_error(StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS"):
        anonymous.login("patient", unique_email("nobody"), PASSWORD)

    patient, _, _ = new_patient(connect)
    token = patient.token
    patient.logout()
    assert patient.token is None
    patient.token = token
    with expect_error(StatusCode.UNAUTHENTICATED, "TOKEN_REVOKED"):
        patient.list_my_appointments(day(1), day(1))


def test_cancel_frees_the_slot_and_keeps_history(connect):
    admin = connect()
    doctor_id, _ = register_doctor(admin)
    patient, _, _ = new_patient(connect)
    other, _, _ = new_patient(connect, "Other Patient")
    date = day(5)
    booked = patient.book_slot(doctor_id, date).appointment

    # A stranger learns nothing: the same answer as for an id that does not exist.
    with expect_error(StatusCode.NOT_FOUND, "APPOINTMENT_NOT_FOUND"):
        other.cancel_appointment(booked.id)

    cancelled = patient.cancel_appointment(booked.id, idempotency_key=uuid.uuid4().hex).appointment
    assert cancelled.id == booked.id
    assert cancelled.status == pb.APPOINTMENT_STATUS_CANCELLED and cancelled.cancelled_at_ms > 0
    again = patient.cancel_appointment(booked.id).appointment
    assert again.status == pb.APPOINTMENT_STATUS_CANCELLED and again.cancelled_at_ms == cancelled.cancelled_at_ms

    rebooked = other.book_slot(doctor_id, date, 540).appointment
    assert rebooked.id != booked.id

    history = patient.list_my_appointments(date, date).appointments
    assert [(a.id, a.status) for a in history] == [(booked.id, pb.APPOINTMENT_STATUS_CANCELLED)]


def test_book_any_books_a_free_doctor_of_the_specialization(connect):
    admin = connect()
    doctor_id, _ = register_doctor(admin, "neurology")
    patient, _, _ = new_patient(connect)
    date = day(6)
    appointment = patient.book_any("neurology", date, idempotency_key=uuid.uuid4().hex).appointment
    assert appointment.doctor.specialization == "neurology"
    assert appointment.status == pb.APPOINTMENT_STATUS_BOOKED
    assert appointment.date == pb.Date(year=date.year, month=date.month, day=date.day)
    with expect_error(StatusCode.INVALID_ARGUMENT, "UNKNOWN_SPECIALIZATION"):
        patient.book_any("astrology", date)
    with expect_error(StatusCode.INVALID_ARGUMENT, "PAST_DATE"):
        patient.book_slot(doctor_id, day(-2))


def test_idempotency_keys_replay_the_first_answer(connect):
    admin = connect()
    doctor_id, _ = register_doctor(admin)
    patient, _, _ = new_patient(connect)
    key = uuid.uuid4().hex
    first = patient.book_slot(doctor_id, day(7), idempotency_key=key).appointment
    retry = patient.book_slot(doctor_id, day(7), idempotency_key=key).appointment
    assert retry.id == first.id
    with expect_error(StatusCode.FAILED_PRECONDITION, "IDEMPOTENCY_KEY_REUSED"):
        patient.book_slot(doctor_id, day(8), idempotency_key=key)
    assert len(patient.list_my_appointments(day(7), day(8)).appointments) == 1

    email = unique_email("patient")
    key = uuid.uuid4().hex
    one = admin.register_patient("Dee", email, PASSWORD, "555", idempotency_key=key).id
    two = admin.register_patient("Dee", email, PASSWORD, "555", idempotency_key=key).id
    assert one == two
    with expect_error(StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN"):
        admin.register_patient("Dee", email, PASSWORD, "555")


def test_fifty_calls_in_flight_on_one_connection(connect):
    patient, _, _ = new_patient(connect)
    calls = []
    for i in range(50):
        if i % 3 == 0:
            calls.append(("health", patient.futures.health()))
        elif i % 3 == 1:
            calls.append(("info", patient.futures.server_info()))
        else:
            calls.append(("find", patient.futures.find_doctors("cardiology", day(1), page_size=5)))
    ids = [future.call_id for _, future in calls]
    assert ids == sorted(ids) and len(set(ids)) == 50
    for kind, future in calls:
        reply = future.result(timeout=30)
        if kind == "health":
            assert reply.status == pb.SERVING_STATUS_SERVING
        elif kind == "info":
            assert reply.protocol_version == 1
        else:
            assert len(reply.doctors) <= 5


def test_fifty_calls_in_flight_with_asyncio(server):
    async def main():
        async with await AsyncClient.connect("127.0.0.1", server.port, default_timeout=30) as client:
            replies = await asyncio.gather(*(client.health() for _ in range(50)))
            return {reply.status for reply in replies}

    assert asyncio.run(main()) == {pb.SERVING_STATUS_SERVING}


# -- the wire itself, byte by byte ---------------------------------------------------------------


class RawConnection:
    """A bare socket speaking frames, to check the server's connection rules."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.decoder = FrameDecoder(16 << 20, 65535)
        self.frames: list = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def hello(self) -> wire.Hello:
        self.send(encode_message_frame(FrameType.HELLO, 0, wire.Hello(protocol_version=1, agent="raw-test")))
        frame = self.next()
        assert frame.type == FrameType.HELLO and frame.call_id == 0
        return wire.Hello.FromString(frame.header)

    def next(self):
        """The next frame, or None at end of stream."""
        while not self.frames:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.frames.extend(self.decoder.feed(data))
        return self.frames.pop(0)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(server):
    connections = []

    def open_raw() -> RawConnection:
        connection = RawConnection(server.port)
        connections.append(connection)
        return connection

    yield open_raw
    for connection in connections:
        connection.close()


def request(call_id: int, method: str, payload: bytes = b"") -> bytes:
    header = wire.RequestHeader(method=f"/appointments.v1.Appointments/{method}")
    return encode_frame(FrameType.REQUEST, call_id, header.SerializeToString(), payload)


def status_of(frame) -> wire.Status:
    assert frame is not None and frame.type == FrameType.RESPONSE
    return wire.ResponseHeader.FromString(frame.header).status


def test_call_errors_leave_the_connection_open(raw):
    connection = raw()
    connection.hello()
    connection.send(request(1, "NoSuchMethod"))
    connection.send(request(2, "BookSlot", b"\xff\xff\xff"))
    connection.send(request(5, "Health"))
    replies = {}
    for _ in range(3):
        frame = connection.next()
        replies[frame.call_id] = frame
    assert (status_of(replies[1]).code, status_of(replies[1]).reason) == (StatusCode.UNIMPLEMENTED, "UNKNOWN_METHOD")
    assert (status_of(replies[2]).code, status_of(replies[2]).reason) == (StatusCode.INVALID_ARGUMENT, "MALFORMED_PAYLOAD")
    assert replies[1].payload == b"" and replies[2].payload == b""
    assert status_of(replies[5]).code == StatusCode.OK
    assert pb.HealthResponse.FromString(replies[5].payload).status == pb.SERVING_STATUS_SERVING


def test_ping_is_echoed(raw):
    connection = raw()
    connection.hello()
    connection.send(encode_message_frame(FrameType.PING, 0, wire.Ping(opaque=0xDEADBEEF12345678)))
    pong = connection.next()
    assert pong.type == FrameType.PONG and pong.call_id == 0
    assert wire.Ping.FromString(pong.header).opaque == 0xDEADBEEF12345678


def expect_goaway_then_close(connection: RawConnection) -> wire.GoAway:
    frame = connection.next()
    assert frame is not None and frame.type == FrameType.GOAWAY, f"expected GOAWAY, got {frame}"
    goaway = wire.GoAway.FromString(frame.header)
    assert goaway.code != 0 and goaway.message
    assert connection.next() is None, "the server kept the connection open after GOAWAY"
    return goaway


def test_a_frame_over_the_limit_is_refused_from_its_length(raw):
    connection = raw()
    connection.hello()
    # Only the fixed header of a 2 MiB frame: the server must not wait for the body.
    connection.send((2 << 20).to_bytes(4, "big"))
    expect_goaway_then_close(connection)


def test_a_request_before_hello_is_a_connection_error(raw):
    connection = raw()
    connection.send(request(1, "Health"))
    frame = connection.next()
    if frame is not None and frame.type == FrameType.HELLO:
        frame = connection.next()
    assert frame is not None and frame.type == FrameType.GOAWAY
    assert connection.next() is None


def test_call_ids_must_increase(raw):
    connection = raw()
    connection.hello()
    connection.send(request(3, "Health"))
    assert status_of(connection.next()).code == StatusCode.OK
    connection.send(request(3, "Health"))
    expect_goaway_then_close(connection)


def test_non_zero_flags_are_a_connection_error(raw):
    connection = raw()
    connection.hello()
    connection.send(encode_frame(FrameType.REQUEST, 1, b"", flags=1))
    expect_goaway_then_close(connection)


def test_a_wrong_protocol_version_gets_goaway_instead_of_hello(raw):
    connection = raw()
    connection.send(encode_message_frame(FrameType.HELLO, 0, wire.Hello(protocol_version=2)))
    frame = connection.next()
    assert frame is not None and frame.type == FrameType.GOAWAY, f"expected GOAWAY, got {frame}"
    assert wire.GoAway.FromString(frame.header).code == StatusCode.UNIMPLEMENTED
    assert connection.next() is None


def test_a_client_goaway_ends_the_connection_politely(raw):
    connection = raw()
    connection.hello()
    connection.send(request(1, "Health"))
    connection.send(encode_message_frame(FrameType.GOAWAY, 0, wire.GoAway()))
    frames = []
    while (frame := connection.next()) is not None:
        frames.append(frame)
    # The server may send its GOAWAY before or after the answer of a call it took: either way
    # the call is answered before the connection closes.
    assert sorted(f.type for f in frames) == sorted([FrameType.RESPONSE, FrameType.GOAWAY])
    response = next(f for f in frames if f.type == FrameType.RESPONSE)
    goaway = next(f for f in frames if f.type == FrameType.GOAWAY)
    assert (response.call_id, status_of(response).code) == (1, StatusCode.OK)
    assert wire.GoAway.FromString(goaway.header).code == 0


def test_page_sizes_are_bounded(connect):
    patient, _, _ = new_patient(connect)
    doctor_id, _ = register_doctor(connect())
    # 500 is allowed: with fewer free cardiologists than that, one page holds them all, the
    # same ones as pages of 50.
    page = patient.find_doctors("cardiology", day(1), page_size=500)
    assert page.next_page_token == b""
    ids = [d.doctor.id for d in page.doctors]
    assert doctor_id in ids
    assert ids == [d.doctor.id for d in find_all(patient, "cardiology", day(1))]
    with expect_error(StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_SIZE"):
        patient.find_doctors("cardiology", day(1), page_size=501)
    with expect_error(StatusCode.INVALID_ARGUMENT, "INVALID_RANGE"):
        patient.list_my_appointments(day(2), day(1))


# -- shutdown, on a server of its own ------------------------------------------------------------


def test_sigterm_drains_with_goaway_and_exits(tmp_path):
    server = Server(tmp_path)
    try:
        with Client.connect("127.0.0.1", server.port, timeout=10, default_timeout=30) as client:
            assert client.health().status == pb.SERVING_STATUS_SERVING
            server.process.send_signal(signal.SIGTERM)
            try:
                code = server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail("appointmentd did not exit within 30 s of SIGTERM:\n" + server.output())
            assert code == 0, f"appointmentd exited with {code} after SIGTERM:\n{server.output()}"
            assert client.wait_closed(10), "the connection outlived the server"
            assert client.closed
            assert client.goaway is not None and client.goaway.code == 0, "no GOAWAY (code 0) before the server closed"
    finally:
        server.stop()


def test_a_connection_past_the_limit_per_address_is_refused_with_a_goaway(tmp_path):
    server = Server(tmp_path, "--max-connections-per-address", "1")
    try:
        with Client.connect("127.0.0.1", server.port, timeout=10, default_timeout=30) as first:
            with pytest.raises(RpcError) as refused:
                Client.connect("127.0.0.1", server.port, timeout=10, default_timeout=30)
            assert (refused.value.code, refused.value.reason) == (StatusCode.RESOURCE_EXHAUSTED, Reason.GOAWAY)
            assert "too many connections from 127.0.0.1" in str(refused.value)
            assert first.health().status == pb.SERVING_STATUS_SERVING
    finally:
        server.stop()
