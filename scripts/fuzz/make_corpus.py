#!/usr/bin/env python3
"""Writes the fuzz target's seed corpus into scripts/fuzz/corpus/.

Each seed is one input of the fuzz target: a selector byte, then the target's bytes
(see Sources/AppointmentsFuzz/FuzzTarget.swift):

- selector 0: a frame stream; the next byte picks the decoder limits (0 = the defaults), the
  rest is frames. Seeds: the test vectors of docs/PROTOCOL.md, a valid frame of every type,
  a request for every method, and broken frames (short length, overrunning header block,
  unknown type, flags, limits crossed, truncated).
- selector i + 1: the message MessageTypes.all[i] (the table is read from MessageTypes.swift,
  so the two cannot drift apart). Seeds: valid encodings, and encodings that must be refused
  or that strain the arena (invalid UTF-8, NUL, many repeated entries, merged sub-messages).

Appointments and frame messages are encoded with the Python client's generated classes
(protobuf>=4.21); storage messages, which the client does not generate, with the small
encoder below. Run again after changing a .proto; top-level files of corpus/ are replaced,
subfolders (crashes/) are kept.
"""

from __future__ import annotations

import pathlib
import re
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "corpus"
sys.path.insert(0, str(REPO / "clients" / "python"))

from appointments_client.frames import FrameType, encode_frame  # noqa: E402
from appointments_client.gen.appointments.v1 import appointments_pb2 as api  # noqa: E402
from appointments_client.gen.appointments.v1 import frame_pb2 as fr  # noqa: E402

SERVICE = "/appointments.v1.Appointments/"


def message_selectors() -> dict[str, int]:
    """Selector byte of each message type, from the order of MessageTypes.all."""
    source = (HERE / "Sources" / "AppointmentsFuzz" / "MessageTypes.swift").read_text()
    names = re.findall(r"V1\.(\w+)\.self", source)
    return {name: index + 1 for index, name in enumerate(names)}


def protocol_vectors() -> dict[str, bytes]:
    """The test vectors of docs/PROTOCOL.md, by id."""
    text = (REPO / "docs" / "PROTOCOL.md").read_text()
    return {name: bytes.fromhex(hex_) for name, hex_ in re.findall(r"vector: ([a-z0-9-]+)\n([0-9a-f]+)", text)}


# A minimal protobuf encoder, for storage.proto (fields in field-number order, as protoc does).


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32/int64 are sign-extended to 10 bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def stored_account(doctor: bool = True) -> bytes:
    schedule = api.Schedule(weekdays=[1, 2, 3, 4, 5], start_minute=540, end_minute=1020, slot_minutes=30)
    return b"".join(
        [
            field_varint(1, 1 if doctor else 2),
            field_varint(2, 7),
            field_bytes(3, "Dr Ada Lovelace" if doctor else "Charles Babbage"),
            field_bytes(4, "ada@example.com" if doctor else "charles@example.com"),
            field_bytes(5, "+33 1 23 45 67 89"),
            field_bytes(6, b"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
            field_bytes(7, "cardiology") if doctor else b"",
            field_bytes(8, "Europe/Paris") if doctor else b"",
            field_bytes(9, schedule.SerializeToString()) if doctor else b"",
            field_varint(10, 1_767_225_600_000),
        ]
    )


def stored_appointment(cancelled: bool = False) -> bytes:
    return b"".join(
        [
            field_varint(1, 99),
            field_varint(2, 7),
            field_varint(3, 8),
            field_bytes(4, api.Date(year=2026, month=12, day=1).SerializeToString()),
            field_varint(5, 540),
            field_varint(6, 30),
            field_varint(7, 2 if cancelled else 1),
            field_varint(8, 1_767_225_600_000),
            field_varint(9, 1_767_312_000_000) if cancelled else b"",
        ]
    )


def revoked_token() -> bytes:
    return field_bytes(1, bytes(range(16))) + field_varint(2, 1_767_225_600_000)


def idempotency_entry() -> bytes:
    return b"".join(
        [
            field_varint(1, 8),
            field_bytes(2, b"book-1"),
            field_bytes(3, SERVICE + "BookSlot"),
            field_bytes(4, bytes(range(32))),
            field_varint(5, 0),
            field_bytes(6, ""),
            field_bytes(7, ""),
            field_bytes(8, api.BookingResponse(appointment=appointment()).SerializeToString()),
            field_varint(9, 1_767_225_600_000),
        ]
    )


def snapshot_header() -> bytes:
    return b"".join(
        [field_varint(1, 1), field_varint(2, 1234), field_varint(3, 1_767_225_600_000), field_varint(4, 9), field_varint(5, 100)]
    )


# Messages of appointments.proto and frame.proto.


def doctor() -> api.Doctor:
    return api.Doctor(
        id=7,
        name="Dr Ada Lovelace",
        email="ada@example.com",
        contact="+33 1 23 45 67 89",
        specialization="cardiology",
        time_zone="Europe/Paris",
        schedule=api.Schedule(weekdays=[1, 2, 3, 4, 5], start_minute=540, end_minute=1020, slot_minutes=30),
    )


def appointment() -> api.Appointment:
    return api.Appointment(
        id=99,
        doctor=doctor(),
        patient=api.Patient(id=8, name="Charles Babbage", email="charles@example.com", contact="n/a"),
        date=api.Date(year=2026, month=12, day=1),
        start_minute=540,
        duration_minutes=30,
        status=api.APPOINTMENT_STATUS_BOOKED,
        booked_at_ms=1_767_225_600_000,
    )


def date() -> api.Date:
    return api.Date(year=2026, month=12, day=1)


def requests() -> dict[str, tuple[object, object]]:
    """A request and a response of every method, by method name."""
    booking = api.BookingResponse(appointment=appointment())
    page = api.AppointmentList(appointments=[appointment(), appointment()], next_page_token=b"\x00\x01cursor")
    return {
        "RegisterDoctor": (
            api.RegisterDoctorRequest(
                name="Dr Ada Lovelace",
                email="ada@example.com",
                password="correct horse battery staple",
                contact="+33 1 23 45 67 89",
                specialization="cardiology",
                time_zone="Europe/Paris",
                schedule=api.Schedule(weekdays=[1, 3, 5], start_minute=480, end_minute=960, slot_minutes=60),
            ),
            api.RegisterResponse(id=7),
        ),
        "RegisterPatient": (
            api.RegisterPatientRequest(name="Charles Babbage", email="charles@example.com", password="hunter22", contact="n/a"),
            api.RegisterResponse(id=8),
        ),
        "Login": (
            api.LoginRequest(role=api.ROLE_PATIENT, email="charles@example.com", password="hunter22"),
            api.LoginResponse(account_id=8, role=api.ROLE_PATIENT, expires_at_ms=1_767_225_600_000),
        ),
        "Logout": (api.LogoutRequest(), api.LogoutResponse()),
        "FindDoctors": (
            api.FindDoctorsRequest(specialization="cardiology", date=date(), page_size=50, page_token=b"\x01\x02"),
            api.FindDoctorsResponse(
                doctors=[api.DoctorAvailability(doctor=doctor(), free_start_minutes=[540, 570, 600])],
                next_page_token=b"next",
            ),
        ),
        "BookSlot": (api.BookSlotRequest(doctor_id=7, date=date(), start_minute=0), booking),
        "BookAny": (api.BookAnyRequest(specialization="cardiology", date=date()), booking),
        "CancelAppointment": (api.CancelAppointmentRequest(appointment_id=99), booking),
        "ListFilledSlots": (
            api.ListFilledSlotsRequest(**{"from": date(), "to": api.Date(year=2026, month=12, day=31)}, page_size=500),
            page,
        ),
        "ListMyAppointments": (
            api.ListMyAppointmentsRequest(**{"from": date()}, page_size=10, page_token=b"\xff" * 8),
            page,
        ),
        "Health": (api.HealthRequest(), api.HealthResponse(status=api.SERVING_STATUS_DRAINING)),
        "ServerInfo": (
            api.ServerInfoRequest(),
            api.ServerInfoResponse(
                version="0.1.0",
                protocol_version=1,
                max_frame_bytes=1 << 20,
                max_header_bytes=16 << 10,
                max_concurrent_calls=256,
                specializations=["cardiology", "dermatology", "general practice"],
                booking_horizon_days=90,
                started_at_ms=1_767_225_600_000,
            ),
        ),
    }


def frame_seeds(vectors: dict[str, bytes]) -> dict[str, bytes]:
    """Frame streams (without the selector and limits bytes), by seed name."""
    hello = encode_frame(
        FrameType.HELLO,
        0,
        fr.Hello(protocol_version=1, max_frame_bytes=1 << 20, max_header_bytes=16 << 10, max_concurrent_calls=256, agent="appointmentd/0.1.0").SerializeToString(),
    )
    token = fr.MetadataEntry(key="authorization", value=b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4In0.c2ln")
    seeds = {f"vector-{name}": data for name, data in vectors.items()}
    seeds["hello-server"] = hello
    for call_id, (method, (request, response)) in enumerate(requests().items(), start=1):
        header = fr.RequestHeader(method=SERVICE + method, timeout_ms=1000, metadata=[token, fr.MetadataEntry(key="idempotency-key", value=b"k")])
        seeds[f"request-{method}"] = encode_frame(FrameType.REQUEST, call_id, header.SerializeToString(), request.SerializeToString())
        # The fuzz target picks the response type from call_id % 12, the method's index here.
        ok = fr.ResponseHeader(status=fr.Status(code=0))
        seeds[f"response-{method}"] = encode_frame(FrameType.RESPONSE, call_id - 1, ok.SerializeToString(), response.SerializeToString())
    denied = fr.ResponseHeader(
        status=fr.Status(code=16, message="token expired", reason="INVALID_TOKEN"),
        metadata=[fr.MetadataEntry(key="retry-after", value=b"1")],
    )
    seeds["response-error"] = encode_frame(FrameType.RESPONSE, 3, denied.SerializeToString())
    seeds["cancel"] = encode_frame(FrameType.CANCEL, 5, b"")
    seeds["ping"] = encode_frame(FrameType.PING, 0, fr.Ping(opaque=0xDEADBEEFCAFEF00D).SerializeToString())
    seeds["pong"] = encode_frame(FrameType.PONG, 0, fr.Ping(opaque=1).SerializeToString())
    seeds["goaway"] = encode_frame(FrameType.GOAWAY, 0, fr.GoAway(last_call_id=41, code=14, message="shutting down").SerializeToString())
    seeds["stream-hello-request-ping"] = vectors["hello"] + vectors["book-slot-request"] + seeds["ping"] + seeds["cancel"]
    # Broken frames: each must be refused with a WireError, never crash.
    seeds["bad-length-under-header"] = struct.pack(">IBBHI", 7, 5, 0, 0, 0)
    seeds["bad-header-overruns-frame"] = struct.pack(">IBBHI", 10, 2, 0, 3, 1) + b"\x0a\x00"
    seeds["bad-unknown-type-0"] = struct.pack(">IBBHI", 8, 0, 0, 0, 0)
    seeds["bad-unknown-type-8"] = struct.pack(">IBBHI", 8, 8, 0, 0, 0)
    seeds["bad-flags"] = struct.pack(">IBBHI", 8, 5, 1, 0, 0)
    seeds["bad-length-max"] = struct.pack(">I", 0xFFFFFFFF) + b"\x02\x00\x00\x00"
    seeds["truncated-request"] = vectors["book-slot-request"][:-5]
    seeds["truncated-fixed-header"] = vectors["hello"][:7]
    seeds["empty-frame-then-garbage"] = struct.pack(">IBBHI", 8, 4, 0, 0, 9) + b"\x00\x00"
    seeds["header-block-not-protobuf"] = encode_frame(FrameType.HELLO, 0, b"\xff\xff\xff")
    seeds["header-invalid-utf8"] = encode_frame(FrameType.REQUEST, 2, field_bytes(1, b"/\xc3\x28"), b"")
    seeds["unknown-method"] = encode_frame(FrameType.REQUEST, 2, fr.RequestHeader(method=SERVICE + "Nope").SerializeToString(), b"\x08\x01")
    return seeds


def message_seeds() -> dict[str, tuple[str, bytes]]:
    """Message encodings by seed name, with the message type each is for."""
    seeds: dict[str, tuple[str, bytes]] = {}
    for method, (request, response) in requests().items():
        seeds[f"{type(request).__name__}-valid"] = (type(request).__name__, request.SerializeToString())
        seeds[f"{type(response).__name__}-valid-{method}"] = (type(response).__name__, response.SerializeToString())
    for message in [date(), doctor(), appointment(), appointment().patient, doctor().schedule,
                    api.DoctorAvailability(doctor=doctor(), free_start_minutes=list(range(0, 1440, 15)))]:
        seeds[f"{type(message).__name__}-valid"] = (type(message).__name__, message.SerializeToString())
    frame_messages = [
        fr.MetadataEntry(key="authorization", value=b"Bearer x"),
        fr.Hello(protocol_version=1, max_frame_bytes=1 << 20, max_header_bytes=16 << 10, max_concurrent_calls=64, agent="example-client/1.0"),
        fr.RequestHeader(method=SERVICE + "Login", timeout_ms=5000, metadata=[fr.MetadataEntry(key="idempotency-key", value=b"\x00\xff")]),
        fr.Status(code=6, message="slot 09:00 on 2026-12-01 is taken", reason="SLOT_TAKEN"),
        fr.ResponseHeader(status=fr.Status(code=0), metadata=[fr.MetadataEntry(key="a", value=b"b")]),
        fr.GoAway(last_call_id=7, code=0, message="idle"),
        fr.Cancel(),
        fr.Ping(opaque=(1 << 64) - 1),
    ]
    for message in frame_messages:
        seeds[f"{type(message).__name__}-valid"] = (type(message).__name__, message.SerializeToString())

    account, booked, cancelled = stored_account(), stored_appointment(), stored_appointment(cancelled=True)
    seeds["StoredAccount-doctor"] = ("StoredAccount", account)
    seeds["StoredAccount-patient"] = ("StoredAccount", stored_account(doctor=False))
    seeds["StoredAppointment-booked"] = ("StoredAppointment", booked)
    seeds["RevokedToken-valid"] = ("RevokedToken", revoked_token())
    seeds["IdempotencyEntry-valid"] = ("IdempotencyEntry", idempotency_entry())
    seeds["LogEntry-account"] = ("LogEntry", field_bytes(1, account))
    seeds["LogEntry-booked-idempotent"] = ("LogEntry", field_bytes(2, booked) + field_bytes(5, idempotency_entry()))
    seeds["LogEntry-cancelled"] = ("LogEntry", field_bytes(3, cancelled))
    seeds["LogEntry-revoked"] = ("LogEntry", field_bytes(4, revoked_token()))
    seeds["SnapshotHeader-valid"] = ("SnapshotHeader", snapshot_header())
    seeds["SnapshotChunk-valid"] = (
        "SnapshotChunk",
        field_bytes(1, account) + field_bytes(2, booked) + field_bytes(2, cancelled) + field_bytes(3, revoked_token()) + field_bytes(4, idempotency_entry()),
    )

    # Edge cases: decoders must refuse these (or decode them) without crashing.
    seeds["Doctor-name-invalid-utf8"] = ("Doctor", field_varint(1, 1) + field_bytes(2, b"\xed\xa0\x80"))
    seeds["Patient-email-with-nul"] = ("Patient", field_bytes(3, b"a\x00b@example.com"))
    seeds["Hello-agent-overlong-utf8"] = ("Hello", field_bytes(5, b"\xc0\xaf"))
    seeds["Date-negative-year"] = ("Date", field_varint(1, -1) + field_varint(2, 13) + field_varint(3, 0))
    seeds["Date-truncated-varint"] = ("Date", b"\x08\xff\xff")
    seeds["Date-unknown-fields"] = ("Date", field_varint(15, 1) + field_bytes(2000, b"xyz") + b"\x25\x01\x02\x03\x04")
    seeds["Schedule-packed-and-unpacked"] = ("Schedule", field_bytes(1, bytes([1, 2, 3])) + field_varint(1, 7) + field_varint(1, 2**32 + 5))
    seeds["Appointment-doctor-twice-merged"] = (
        "Appointment",
        field_bytes(2, api.Doctor(name="first", schedule=api.Schedule(weekdays=[1])).SerializeToString())
        + field_bytes(2, api.Doctor(email="second@example.com", schedule=api.Schedule(weekdays=[2])).SerializeToString()),
    )
    seeds["Appointment-status-unknown"] = ("Appointment", field_varint(7, 1000) + field_varint(8, -5))
    seeds["BookSlotRequest-oneof-zero"] = ("BookSlotRequest", field_varint(3, 0))
    seeds["LogEntry-oneof-switches"] = ("LogEntry", field_bytes(1, account) + field_bytes(4, revoked_token()) + field_bytes(2, booked))
    seeds["SnapshotChunk-many-empty-accounts"] = ("SnapshotChunk", field_bytes(1, b"") * 300)
    seeds["ServerInfoResponse-many-strings"] = ("ServerInfoResponse", field_bytes(6, "x") * 200)
    seeds["FindDoctorsResponse-deep"] = (
        "FindDoctorsResponse",
        field_bytes(1, field_bytes(1, field_bytes(7, field_bytes(1, bytes(range(1, 100)))))) * 20,
    )
    seeds["RequestHeader-metadata-key-nul"] = ("RequestHeader", field_bytes(3, field_bytes(1, b"auth\x00orization")))
    seeds["ResponseHeader-wrong-wire-type"] = ("ResponseHeader", b"\x08\x01")
    seeds["Cancel-length-overruns"] = ("Cancel", b"\x0a\x7f\x00")
    return seeds


def main() -> None:
    selectors = message_selectors()
    vectors = protocol_vectors()
    assert {"hello", "book-slot-request", "slot-taken-response"} <= vectors.keys(), vectors.keys()
    CORPUS.mkdir(exist_ok=True)
    for old in CORPUS.iterdir():
        if old.is_file():
            old.unlink()

    written = 0
    default_limits, small_limits = b"\x00", bytes([1 | 1 << 2])  # 4096-byte frames, 256-byte header blocks
    for name, stream in frame_seeds(vectors).items():
        (CORPUS / f"frame-{name}").write_bytes(b"\x00" + default_limits + stream)
        written += 1
    for name in ["vector-hello", "vector-book-slot-request", "stream-hello-request-ping"]:
        (CORPUS / f"frame-{name}-small-limits").write_bytes(b"\x00" + small_limits + frame_seeds(vectors)[name])
        written += 1
    (CORPUS / "frame-hello-header-limit-0").write_bytes(b"\x00" + bytes([3 << 2]) + vectors["hello"])
    (CORPUS / "frame-hello-frame-limit-8").write_bytes(b"\x00" + bytes([3]) + vectors["hello"])
    written += 2

    for name, (message_type, data) in message_seeds().items():
        (CORPUS / f"message-{name}").write_bytes(bytes([selectors[message_type]]) + data)
        written += 1
    covered = {message_type for message_type, _ in message_seeds().values()}
    missing = set(selectors) - covered
    assert not missing, f"no seed for {sorted(missing)}"
    print(f"wrote {written} seeds to {CORPUS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
