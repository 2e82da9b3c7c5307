"""The test vectors of docs/PROTOCOL.md, rebuilt with the client's framing and generated messages.

Three independent sources must agree byte for byte: the hex in the doc, the hand-written
encoder of make_vectors.py, and the client (protoc-generated messages + appointments_client).
"""

from __future__ import annotations

import pathlib
import re

import pytest

import make_vectors
from appointments_client import (
    FrameType,
    StatusCode,
    decode_frame,
    encode_message_frame,
    pb,
    wire,
)
from appointments_client.protocol import METHODS, SERVER_DEFAULTS, decode_response, request_frame

DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "PROTOCOL.md"
TOKEN = b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"
METHOD = "/appointments.v1.Appointments/BookSlot"


def doc_vectors() -> dict[str, bytes]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"vector: ([a-z0-9-]+)\n([0-9a-f]+)\n", text)
    vectors = {name: bytes.fromhex(hex_) for name, hex_ in found}
    assert len(vectors) == len(found), "a vector id appears twice in PROTOCOL.md"
    return vectors


@pytest.fixture(scope="module")
def vectors() -> dict[str, bytes]:
    return doc_vectors()


def test_the_doc_holds_the_three_vectors(vectors):
    assert set(vectors) >= {"hello", "book-slot-request", "slot-taken-response"}


@pytest.mark.parametrize("name", ["hello", "book-slot-request", "slot-taken-response"])
def test_the_hand_encoder_agrees_with_the_doc(vectors, name):
    assert make_vectors.vectors()[name].hex() == vectors[name].hex()


# -- (A) HELLO --------------------------------------------------------------------------------


def hello_message() -> wire.Hello:
    return wire.Hello(
        protocol_version=1,
        max_frame_bytes=1048576,
        max_header_bytes=16384,
        max_concurrent_calls=64,
        agent="example-client/1.0",
    )


def test_hello_encodes_as_the_vector(vectors):
    assert encode_message_frame(FrameType.HELLO, 0, hello_message()).hex() == vectors["hello"].hex()


def test_hello_decodes_back(vectors):
    frame = decode_frame(vectors["hello"])
    assert (frame.type, frame.call_id, frame.flags, frame.payload) == (FrameType.HELLO, 0, 0, b"")
    assert frame.length == 40 and len(frame.header) == 32
    assert wire.Hello.FromString(frame.header) == hello_message()


# -- (B) REQUEST BookSlot ---------------------------------------------------------------------


def book_slot_request() -> pb.BookSlotRequest:
    return pb.BookSlotRequest(doctor_id=42, date=pb.Date(year=2026, month=12, day=1), start_minute=540)


def request_header() -> wire.RequestHeader:
    return wire.RequestHeader(
        method=METHOD,
        timeout_ms=5000,
        metadata=[
            wire.MetadataEntry(key="authorization", value=TOKEN),
            wire.MetadataEntry(key="idempotency-key", value=b"book-1"),
        ],
    )


def test_book_slot_request_encodes_as_the_vector(vectors):
    data = encode_message_frame(FrameType.REQUEST, 7, request_header(), book_slot_request())
    assert data.hex() == vectors["book-slot-request"].hex()


def test_the_clients_request_path_produces_the_vector(vectors):
    # The path every typed call takes: authorization from the client, the key, timeout in s.
    data = request_frame(
        7,
        METHODS["BookSlot"],
        book_slot_request(),
        timeout=5.0,
        authorization=TOKEN,
        idempotency_key="book-1",
        metadata=None,
        limits=SERVER_DEFAULTS,
    )
    assert data.hex() == vectors["book-slot-request"].hex()


def test_book_slot_request_decodes_back(vectors):
    frame = decode_frame(vectors["book-slot-request"])
    assert (frame.type, frame.call_id, frame.flags) == (FrameType.REQUEST, 7, 0)
    assert frame.length == 168 and len(frame.header) == 146 and len(frame.payload) == 14
    header = wire.RequestHeader.FromString(frame.header)
    assert header == request_header()
    assert [(e.key, e.value) for e in header.metadata] == [("authorization", TOKEN), ("idempotency-key", b"book-1")]
    request = pb.BookSlotRequest.FromString(frame.payload)
    assert request == book_slot_request()
    assert request.WhichOneof("slot") == "start_minute"


# -- (C) RESPONSE SLOT_TAKEN ------------------------------------------------------------------


def response_header() -> wire.ResponseHeader:
    return wire.ResponseHeader(
        status=wire.Status(code=6, message="slot 09:00 on 2026-12-01 is taken", reason="SLOT_TAKEN")
    )


def test_slot_taken_response_encodes_as_the_vector(vectors):
    data = encode_message_frame(FrameType.RESPONSE, 7, response_header())
    assert data.hex() == vectors["slot-taken-response"].hex()


def test_slot_taken_response_decodes_to_the_error(vectors):
    frame = decode_frame(vectors["slot-taken-response"])
    assert (frame.type, frame.call_id, frame.payload) == (FrameType.RESPONSE, 7, b"")
    assert wire.ResponseHeader.FromString(frame.header) == response_header()
    outcome = decode_response(frame, METHODS["BookSlot"])
    assert outcome.response is None
    error = outcome.error
    assert error.code is StatusCode.ALREADY_EXISTS
    assert (error.reason, error.message) == ("SLOT_TAKEN", "slot 09:00 on 2026-12-01 is taken")
    assert str(error) == 'ALREADY_EXISTS (SLOT_TAKEN): "slot 09:00 on 2026-12-01 is taken"'


# -- the doc and the committed code stay in step ---------------------------------------------


def test_every_server_reason_the_client_names_is_documented():
    from appointments_client import Reason

    client_only = {"GOAWAY", "CONNECTION_LOST", "CLIENT_CLOSED", "CALL_CANCELLED", "FRAME_TOO_LARGE", "PROTOCOL_ERROR"}
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \| [A-Z_]+ \|", text, flags=re.MULTILINE))
    # "Reserved, not sent by this server: `NOT_OWNER` (PERMISSION_DENIED; …) and …"
    reserved = re.search(r"^Reserved, not sent by this server:(.*?)\n\n", text, flags=re.MULTILINE | re.DOTALL)
    assert reserved, "PROTOCOL.md no longer lists the reserved reasons"
    documented |= set(re.findall(r"`([A-Z_]+)` \([A-Z_]+;", reserved.group(1)))
    named = {value for key, value in vars(Reason).items() if key.isupper()} - client_only
    assert named == documented


def test_the_generated_code_is_current():
    import shutil
    import subprocess

    protoc = shutil.which("protoc")
    if protoc is None:
        pytest.skip("protoc not installed (apt-get install -y protobuf-compiler)")
    version = subprocess.run([protoc, "--version"], capture_output=True, text=True).stdout.split()[-1]
    if not version.startswith("3.21."):
        pytest.skip(f"the committed code comes from protoc 3.21, this is {version}")
    script = DOC.parents[1] / "scripts" / "generate-python-proto.sh"
    result = subprocess.run([str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
