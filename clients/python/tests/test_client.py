"""The threaded client against a scripted server (fake_server.py): connection rules only."""

from __future__ import annotations

import threading
import time

import pytest

from fake_server import FakeServer, metadata_of, request_of, serving
from appointments_client import Client, FrameType, RpcError, StatusCode, pb, wire


@pytest.fixture
def server():
    servers = []

    def start(handler=serving, hello=None):
        s = FakeServer(handler, hello)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()
        assert not s.errors, s.errors


def connect(server, **kwargs) -> Client:
    return Client.connect("127.0.0.1", server.port, timeout=5, **kwargs)


def requests(conn):
    return [f for f in conn.frames if f.type == FrameType.REQUEST]


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def test_hello_both_ways_then_a_call(server):
    s = server()
    with connect(s, agent="tests/1") as client:
        assert client.server_hello.agent == "fake-server/1"
        assert client.server_limits.max_concurrent_calls == 256
        assert client.health().status == pb.SERVING_STATUS_SERVING
        conn = s.connections[0]
        assert conn.client_hello.protocol_version == 1 and conn.client_hello.agent == "tests/1"
        assert [f.call_id for f in requests(conn)] == [1]


def test_login_keeps_the_token_and_sends_it_where_needed(server):
    s = server()
    with connect(s) as client:
        assert client.token is None
        reply = client.login("patient", "ann@example.org", "secret-password")
        assert reply.account_id == 7
        assert client.token == "token-for-ann@example.org"
        client.find_doctors("cardiology", (2026, 12, 1))
        client.register_patient("Bob", "bob@example.org", "pw-pw-pw-pw", "555", idempotency_key="reg-1")
        client.logout()
        assert client.token is None
        client.health()
        sent = [request_of(f) for f in requests(s.connections[0])]
        auth = [(name, metadata_of(header).get("authorization")) for name, header, _ in sent]
        assert auth == [
            ("Login", None),
            ("FindDoctors", b"Bearer token-for-ann@example.org"),
            ("RegisterPatient", None),
            ("Logout", b"Bearer token-for-ann@example.org"),
            ("Health", None),
        ]
        assert metadata_of(sent[2][1])["idempotency-key"] == b"reg-1"
        assert sent[1][2].date == pb.Date(year=2026, month=12, day=1)


def test_fifty_pipelined_calls_answered_in_reverse_order(server):
    held = []
    all_in = threading.Event()

    def handler(conn, frame):
        held.append(frame)
        if len(held) == 50:
            all_in.set()
            for f in reversed(held):
                _, _, request = request_of(f)
                conn.respond(f.call_id, pb.BookingResponse(appointment=pb.Appointment(id=request.doctor_id)))

    s = server(handler)
    with connect(s) as client:
        futures = [client.futures.book_slot(1000 + i, (2026, 12, 1)) for i in range(50)]
        assert all_in.wait(5), "the server did not get 50 requests before answering any"
        assert [f.result(5).appointment.id for f in futures] == [1000 + i for i in range(50)]
        ids = [f.call_id for f in requests(s.connections[0])]
        assert ids == sorted(ids) and len(set(ids)) == 50 and ids[0] >= 1


def test_a_refusal_raises_rpc_error(server):
    def handler(conn, frame):
        conn.respond(frame.call_id, code=6, reason="SLOT_TAKEN", message="slot 09:00 on 2026-12-01 is taken")

    with connect(server(handler)) as client:
        with pytest.raises(RpcError) as caught:
            client.book_slot(42, (2026, 12, 1), 540)
        assert caught.value.code is StatusCode.ALREADY_EXISTS
        assert caught.value.reason == "SLOT_TAKEN"


def test_a_local_deadline_raises_and_sends_cancel(server):
    def handler(conn, frame):
        if frame.type == FrameType.CANCEL:
            conn.respond(frame.call_id, code=1, message="cancelled")
        elif request_of(frame)[0] == "Health":
            serving(conn, frame)

    s = server(handler)
    with connect(s) as client:
        start = time.monotonic()
        with pytest.raises(RpcError) as caught:
            client.book_slot(42, (2026, 12, 1), timeout=0.2)
        assert caught.value.code is StatusCode.DEADLINE_EXCEEDED
        assert 0.15 < time.monotonic() - start < 2
        conn = s.connections[0]
        wait_until(lambda: any(f.type == FrameType.CANCEL for f in conn.frames))
        request, cancel = conn.frames[0], conn.frames[1]
        assert wire.RequestHeader.FromString(request.header).timeout_ms in range(150, 201)
        assert (cancel.type, cancel.call_id, cancel.header, cancel.payload) == (FrameType.CANCEL, request.call_id, b"", b"")
        # The late CANCELLED answer is ignored and the connection goes on.
        wait_until(lambda: client._in_flight == 0)
        assert client.health(timeout=2).status == pb.SERVING_STATUS_SERVING


def test_cancelling_a_future_sends_cancel(server):
    def handler(conn, frame):
        if frame.type == FrameType.CANCEL:
            conn.respond(frame.call_id, code=1, message="cancelled")

    s = server(handler)
    with connect(s) as client:
        future = client.futures.book_any("cardiology", (2026, 12, 1), idempotency_key="k1")
        wait_until(lambda: len(s.connections[0].frames) == 1)
        assert future.cancel()
        assert future.cancelled()
        wait_until(lambda: [f.type for f in s.connections[0].frames] == [FrameType.REQUEST, FrameType.CANCEL])
        assert s.connections[0].frames[1].call_id == future.call_id


def test_goaway_fails_the_calls_it_did_not_take(server):
    got = []

    def handler(conn, frame):
        got.append(frame)
        if len(got) == 3:
            conn.goaway(last_call_id=got[0].call_id, message="shutting down")
            conn.respond(got[0].call_id, pb.HealthResponse(status=pb.SERVING_STATUS_DRAINING))
            conn.close()

    with connect(server(handler)) as client:
        futures = [client.futures.health() for _ in range(3)]
        assert futures[0].result(5).status == pb.SERVING_STATUS_DRAINING
        for future in futures[1:]:
            error = future.exception(5)
            assert isinstance(error, RpcError)
            assert (error.code, error.reason) == (StatusCode.UNAVAILABLE, "GOAWAY")
        assert client.goaway.message == "shutting down"
        with pytest.raises(RpcError) as caught:
            client.health()
        assert caught.value.code is StatusCode.UNAVAILABLE


def test_connection_loss_fails_every_pending_call(server):
    got = []

    def handler(conn, frame):
        got.append(frame)
        if len(got) == 2:
            conn.close()

    with connect(server(handler)) as client:
        futures = [client.futures.health(), client.futures.server_info()]
        for future in futures:
            error = future.exception(5)
            assert (error.code, error.reason) == (StatusCode.UNAVAILABLE, "CONNECTION_LOST")
        assert client.closed


def test_the_servers_concurrency_limit_is_respected(server):
    in_flight = []
    peak = []
    lock = threading.Lock()

    def answer_later(conn, frame):
        time.sleep(0.02)
        with lock:
            in_flight.remove(frame.call_id)
        conn.respond(frame.call_id, pb.HealthResponse(status=pb.SERVING_STATUS_SERVING))

    def handler(conn, frame):
        with lock:
            in_flight.append(frame.call_id)
            peak.append(len(in_flight))
        threading.Thread(target=answer_later, args=(conn, frame)).start()

    hello = wire.Hello(protocol_version=1, max_concurrent_calls=2, agent="tiny")
    with connect(server(handler, hello)) as client:
        assert client.server_limits.max_frame_bytes == 1 << 20  # 0 = not announced: default
        futures = [client.futures.health() for _ in range(6)]
        assert all(f.result(5).status == pb.SERVING_STATUS_SERVING for f in futures)
        assert max(peak) <= 2


def test_ping_is_answered(server):
    with connect(server()) as client:
        assert client.ping(timeout=2) >= 0


def test_a_goaway_instead_of_hello_refuses_the_connection(server):
    def never(conn, frame):
        raise AssertionError("no frame expected")

    s = server(never, hello=False)
    threading.Thread(
        target=lambda: (wait_until(lambda: s.connections and s.connections[0].client_hello),
                        s.connections[0].goaway(0, code=8, message="too many connections")),
        daemon=True,
    ).start()
    with pytest.raises(RpcError) as caught:
        connect(s)
    assert caught.value.code is StatusCode.RESOURCE_EXHAUSTED


def test_a_closed_client_refuses_calls(server):
    client = connect(server())
    client.close()
    client.close()
    with pytest.raises(RpcError) as caught:
        client.health()
    assert (caught.value.code, caught.value.reason) == (StatusCode.CANCELLED, "CLIENT_CLOSED")
