"""Framing and per-call encoding, without sockets."""

from __future__ import annotations

import datetime
import struct

import pytest

from appointments_client import (
    Frame,
    FrameDecoder,
    FrameError,
    FrameType,
    RpcError,
    StatusCode,
    decode_frame,
    encode_frame,
    pb,
    wire,
)
from appointments_client.protocol import (
    METHODS,
    SERVER_DEFAULTS,
    SERVICE,
    Limits,
    Outcome,
    authorization_after,
    method_named,
    request_frame,
    role_value,
    timeout_ms,
    to_date,
)


def frames_of(n: int) -> bytes:
    return b"".join(encode_frame(FrameType.RESPONSE, i, b"\x0a\x00", b"payload-%d" % i) for i in range(1, n + 1))


def test_a_drip_fed_stream_gives_the_same_frames_as_a_coalesced_one():
    data = frames_of(5)
    coalesced = FrameDecoder(1 << 20, 1 << 14).feed(data)
    decoder = FrameDecoder(1 << 20, 1 << 14)
    dripped = []
    for i in range(len(data)):
        dripped += decoder.feed(data[i : i + 1])
    assert dripped == coalesced
    assert [f.call_id for f in coalesced] == [1, 2, 3, 4, 5]
    assert coalesced[2] == Frame(FrameType.RESPONSE, 3, b"\x0a\x00", b"payload-3")
    assert decoder.buffered == 0


def test_a_frame_over_the_limit_fails_from_its_length_field_alone():
    decoder = FrameDecoder(max_frame_bytes=100, max_header_bytes=50)
    with pytest.raises(FrameError) as caught:
        decoder.feed(struct.pack(">I", 101))
    assert caught.value.kind == "frame-too-large"


def test_a_frame_at_the_limit_is_accepted():
    data = encode_frame(FrameType.PING, 0, b"", b"x" * 92)
    assert len(data) - 4 == 100
    assert FrameDecoder(100, 50).feed(data)[0].payload == b"x" * 92


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (struct.pack(">IBBHI", 60, 1, 0, 51, 0), "header-too-large"),
        (struct.pack(">IBBHI", 8, 8, 0, 0, 0), "unknown-frame-type"),
        (struct.pack(">IBBHI", 8, 0, 0, 0, 0), "unknown-frame-type"),
        (struct.pack(">IBBHI", 8, 1, 1, 0, 0), "unsupported-flags"),
        (struct.pack(">IBBHI", 10, 1, 0, 3, 0), "malformed-frame"),
        (struct.pack(">I", 7), "malformed-frame"),
    ],
)
def test_bad_fixed_headers_are_refused_before_the_body(header, kind):
    with pytest.raises(FrameError) as caught:
        FrameDecoder(max_frame_bytes=1000, max_header_bytes=50).feed(header)
    assert caught.value.kind == kind


def test_empty_header_block_and_payload_are_valid():
    frame = decode_frame(encode_frame(FrameType.CANCEL, 9, b""))
    assert (frame.type, frame.call_id, frame.header, frame.payload, frame.length) == (FrameType.CANCEL, 9, b"", b"", 8)
    assert wire.Cancel.FromString(frame.header) == wire.Cancel()


def test_encode_refuses_fields_that_do_not_fit():
    with pytest.raises(ValueError):
        encode_frame(FrameType.REQUEST, 1, b"x" * 65536)
    with pytest.raises(ValueError):
        encode_frame(FrameType.REQUEST, 1 << 32, b"")


def test_the_method_table_is_the_service():
    service = pb.DESCRIPTOR.services_by_name["Appointments"]
    assert service.full_name == SERVICE
    assert {m.name for m in service.methods} == set(METHODS)
    for method in service.methods:
        spec = METHODS[method.name]
        assert spec.request.DESCRIPTOR is method.input_type
        assert spec.response.DESCRIPTOR is method.output_type
        assert spec.path == f"/appointments.v1.Appointments/{method.name}"
    open_methods = {"RegisterDoctor", "RegisterPatient", "Login", "Health", "ServerInfo"}
    assert {m.name for m in METHODS.values() if not m.authenticated} == open_methods
    mutating = {"RegisterDoctor", "RegisterPatient", "BookSlot", "BookAny", "CancelAppointment"}
    assert {m.name for m in METHODS.values() if m.mutating} == mutating


def header_of(data: bytes) -> wire.RequestHeader:
    return wire.RequestHeader.FromString(decode_frame(data).header)


def test_open_methods_never_carry_the_token():
    data = request_frame(
        1, METHODS["Health"], pb.HealthRequest(), timeout=None, authorization=b"Bearer x",
        idempotency_key=None, metadata=None, limits=SERVER_DEFAULTS,
    )
    header = header_of(data)
    assert header.method == "/appointments.v1.Appointments/Health"
    assert list(header.metadata) == [] and header.timeout_ms == 0
    assert decode_frame(data).payload == b""


def test_idempotency_keys_are_checked():
    def make(key, method="BookAny"):
        return request_frame(
            1, METHODS[method], METHODS[method].request(), timeout=None, authorization=None,
            idempotency_key=key, metadata=None, limits=SERVER_DEFAULTS,
        )

    assert header_of(make("k" * 128)).metadata[0].value == b"k" * 128
    with pytest.raises(ValueError):
        make("k" * 129)
    with pytest.raises(ValueError):
        make("")
    with pytest.raises(ValueError):
        make("k", method="FindDoctors")


def test_a_request_over_the_servers_limits_is_not_sent():
    small = Limits(max_frame_bytes=200, max_header_bytes=16384, max_concurrent_calls=1)
    request = pb.RegisterPatientRequest(name="x" * 300)
    with pytest.raises(RpcError) as caught:
        request_frame(1, METHODS["RegisterPatient"], request, timeout=None, authorization=None,
                      idempotency_key=None, metadata=None, limits=small)
    assert caught.value.code is StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.reason == "FRAME_TOO_LARGE"


def test_metadata_keys_must_be_lower_case():
    with pytest.raises(ValueError):
        request_frame(1, METHODS["Health"], pb.HealthRequest(), timeout=None, authorization=None,
                      idempotency_key=None, metadata={"X-Trace": "1"}, limits=SERVER_DEFAULTS)


def test_the_request_type_must_match_the_method():
    with pytest.raises(TypeError):
        request_frame(1, METHODS["Health"], pb.ServerInfoRequest(), timeout=None, authorization=None,
                      idempotency_key=None, metadata=None, limits=SERVER_DEFAULTS)


@pytest.mark.parametrize(("seconds", "ms"), [(None, 0), (5, 5000), (0.0001, 1), (1.2345, 1235), (0, 1), (-1, 1)])
def test_timeouts_round_up_to_milliseconds(seconds, ms):
    assert timeout_ms(seconds) == ms


def test_dates_and_roles():
    assert to_date(datetime.date(2026, 12, 1)) == pb.Date(year=2026, month=12, day=1)
    assert to_date((2026, 12, 1)) == pb.Date(year=2026, month=12, day=1)
    assert role_value("patient") == pb.ROLE_PATIENT
    assert role_value("ROLE_DOCTOR") == pb.ROLE_DOCTOR
    assert role_value(pb.ROLE_DOCTOR) == pb.ROLE_DOCTOR


def test_a_missing_status_is_ok():
    from appointments_client.protocol import decode_response

    frame = Frame(FrameType.RESPONSE, 3, b"", pb.HealthResponse(status=pb.SERVING_STATUS_SERVING).SerializeToString())
    outcome = decode_response(frame, METHODS["Health"])
    assert outcome.error is None and outcome.response.status == pb.SERVING_STATUS_SERVING


def test_an_undecodable_ok_payload_is_a_protocol_error():
    from appointments_client.protocol import decode_response

    frame = Frame(FrameType.RESPONSE, 3, b"", b"\xff\xff\xff")
    outcome = decode_response(frame, METHODS["Health"])
    assert outcome.error.code is StatusCode.INTERNAL and outcome.error.reason == "PROTOCOL_ERROR"


def test_unknown_status_codes_survive():
    error = RpcError(42, "NEW_REASON", "from the future")
    assert error.code == 42 and str(error) == 'CODE_42 (NEW_REASON): "from the future"'


def test_authorization_after_login_logout_and_other_calls():
    token = [wire.MetadataEntry(key="authorization", value=b"Bearer new")]
    ok = Outcome(pb.LoginResponse(), None, token)
    refused = Outcome(None, RpcError(StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS", "no"), token)
    login, logout, health = method_named("Login"), method_named("Logout"), method_named("Health")
    assert authorization_after(login, ok, b"Bearer old", None) == b"Bearer new"
    assert authorization_after(login, refused, b"Bearer old", None) == b"Bearer old"
    assert authorization_after(login, Outcome(pb.LoginResponse(), None, []), b"Bearer old", None) == b"Bearer old"
    done = Outcome(pb.LogoutResponse(), None, [])
    assert authorization_after(logout, done, b"Bearer t", b"Bearer t") is None
    # A logout made with an older token leaves the one logged in since alone.
    assert authorization_after(logout, done, b"Bearer newer", b"Bearer t") == b"Bearer newer"
    assert authorization_after(health, Outcome(pb.HealthResponse(), None, token), b"Bearer t", b"Bearer t") == b"Bearer t"
