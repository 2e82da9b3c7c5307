#!/usr/bin/env python3
"""Computes the test vectors of docs/PROTOCOL.md from first principles.

Nothing here uses a protobuf library or the client package: varints, tags and length-delimited
fields are written by hand, fields in field-number order, proto3 default values (0, "", empty)
omitted, exactly as docs/PROTOCOL.md describes. The client's own encoder is checked against
these bytes by test_vectors.py, so the two are independent implementations of the same text.

    python3 clients/python/tests/make_vectors.py            # the vectors, one per line
    python3 clients/python/tests/make_vectors.py --markdown # the blocks pasted in PROTOCOL.md
"""

from __future__ import annotations

import struct
import sys

# -- protobuf wire format ------------------------------------------------------------------------

WIRE_VARINT = 0
WIRE_LEN = 2


def varint(value: int) -> bytes:
    """Base-128 varint, least significant group first, high bit set on all but the last byte."""
    if value < 0:
        # int32/int64 negatives are sign-extended to 64 bits (ten bytes); none appear below.
        value += 1 << 64
    out = bytearray()
    while True:
        group = value & 0x7F
        value >>= 7
        if value:
            out.append(group | 0x80)
        else:
            out.append(group)
            return bytes(out)


def tag(field_number: int, wire_type: int) -> bytes:
    return varint((field_number << 3) | wire_type)


def uint_field(field_number: int, value: int) -> bytes:
    """A uint32/uint64/int32 field; proto3 omits the default 0."""
    return b"" if value == 0 else tag(field_number, WIRE_VARINT) + varint(value)


def bytes_field(field_number: int, value: bytes) -> bytes:
    """A bytes, string or embedded-message field; proto3 omits an empty string or bytes."""
    return b"" if not value else tag(field_number, WIRE_LEN) + varint(len(value)) + value


def string_field(field_number: int, value: str) -> bytes:
    return bytes_field(field_number, value.encode("utf-8"))


def message_field(field_number: int, encoded: bytes) -> bytes:
    """An embedded message that is set: written even when it encodes to nothing."""
    return tag(field_number, WIRE_LEN) + varint(len(encoded)) + encoded


# -- frame.proto and appointments.proto messages used by the vectors ------------------------------


def hello(protocol_version: int, max_frame_bytes: int, max_header_bytes: int, max_concurrent_calls: int, agent: str) -> bytes:
    return (
        uint_field(1, protocol_version)
        + uint_field(2, max_frame_bytes)
        + uint_field(3, max_header_bytes)
        + uint_field(4, max_concurrent_calls)
        + string_field(5, agent)
    )


def metadata_entry(key: str, value: bytes) -> bytes:
    return string_field(1, key) + bytes_field(2, value)


def request_header(method: str, timeout_ms: int, metadata: list[tuple[str, bytes]]) -> bytes:
    return (
        string_field(1, method)
        + uint_field(2, timeout_ms)
        + b"".join(message_field(3, metadata_entry(k, v)) for k, v in metadata)
    )


def status(code: int, message: str, reason: str) -> bytes:
    return uint_field(1, code) + string_field(2, message) + string_field(3, reason)


def response_header(status_block: bytes, metadata: list[tuple[str, bytes]]) -> bytes:
    return message_field(1, status_block) + b"".join(message_field(2, metadata_entry(k, v)) for k, v in metadata)


def date(year: int, month: int, day: int) -> bytes:
    return uint_field(1, year) + uint_field(2, month) + uint_field(3, day)


def book_slot_request(doctor_id: int, date_block: bytes, start_minute: int | None) -> bytes:
    out = uint_field(1, doctor_id) + message_field(2, date_block)
    if start_minute is not None:
        # A member of a oneof that is set is written even when it is 0.
        out += tag(3, WIRE_VARINT) + varint(start_minute)
    return out


# -- frames ------------------------------------------------------------------------------------

HELLO, REQUEST, RESPONSE, CANCEL, PING, PONG, GOAWAY = range(1, 8)


def frame(frame_type: int, call_id: int, header_block: bytes, payload: bytes = b"") -> bytes:
    """length:u32 type:u8 flags:u8 header_len:u16 call_id:u32, big-endian, then the two blocks."""
    length = 8 + len(header_block) + len(payload)
    return struct.pack(">IBBHI", length, frame_type, 0, len(header_block), call_id) + header_block + payload


# -- the vectors ---------------------------------------------------------------------------------

TOKEN = b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"


def vectors() -> dict[str, bytes]:
    """The vectors by id, in the order of docs/PROTOCOL.md."""
    return {
        "hello": frame(
            HELLO,
            0,
            hello(1, 1048576, 16384, 64, "example-client/1.0"),
        ),
        "book-slot-request": frame(
            REQUEST,
            7,
            request_header(
                "/appointments.v1.Appointments/BookSlot",
                5000,
                [("authorization", TOKEN), ("idempotency-key", b"book-1")],
            ),
            book_slot_request(42, date(2026, 12, 1), 540),
        ),
        "slot-taken-response": frame(
            RESPONSE,
            7,
            response_header(status(6, "slot 09:00 on 2026-12-01 is taken", "SLOT_TAKEN"), []),
        ),
    }


def main(argv: list[str]) -> int:
    if argv[1:] == ["--markdown"]:
        for name, data in vectors().items():
            print("```text")
            print(f"vector: {name}")
            print(data.hex())
            print("```")
            print()
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    for name, data in vectors().items():
        print(f"{name} {data.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
