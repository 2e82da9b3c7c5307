"""Protocol constants, limits, the method table and the per-call encoding shared by the clients.

Everything here follows docs/PROTOCOL.md; nothing touches sockets, threads or event loops, so
the threaded :class:`~appointments_client.Client` and the asyncio
:class:`~appointments_client.aio.AsyncClient` behave identically.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Iterable, Optional, Sequence, Tuple, Union

from google.protobuf.message import DecodeError, Message

from .frames import Frame, FrameType, encode_message_frame
from .gen.appointments.v1 import appointments_pb2 as pb
from .gen.appointments.v1 import frame_pb2 as wire
from .status import Reason, RpcError, StatusCode

#: The protocol version this client speaks (``Hello.protocol_version``).
PROTOCOL_VERSION = 1
#: The fully-qualified service name; method paths are ``/<SERVICE>/<Rpc>``.
SERVICE = "appointments.v1.Appointments"

AUTHORIZATION = "authorization"
IDEMPOTENCY_KEY = "idempotency-key"
#: Longest idempotency key the server accepts, in bytes.
MAX_IDEMPOTENCY_KEY_BYTES = 128
#: Largest call id; a connection that used it must be replaced.
MAX_CALL_ID = 0xFFFFFFFF


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one side accepts, as announced in its HELLO."""

    max_frame_bytes: int = 1 << 20
    max_header_bytes: int = 16 << 10
    max_concurrent_calls: int = 256

    @classmethod
    def from_hello(cls, hello: wire.Hello, fallback: "Limits | None" = None) -> "Limits":
        """The limits a peer announced; a 0 field means "not announced" and keeps the fallback's."""
        fallback = fallback or SERVER_DEFAULTS
        return cls(
            max_frame_bytes=hello.max_frame_bytes or fallback.max_frame_bytes,
            max_header_bytes=hello.max_header_bytes or fallback.max_header_bytes,
            max_concurrent_calls=hello.max_concurrent_calls or fallback.max_concurrent_calls,
        )

    def hello(self, agent: str) -> wire.Hello:
        """The HELLO header block announcing these limits."""
        return wire.Hello(
            protocol_version=PROTOCOL_VERSION,
            max_frame_bytes=self.max_frame_bytes,
            max_header_bytes=self.max_header_bytes,
            max_concurrent_calls=self.max_concurrent_calls,
            agent=agent,
        )


#: The server's defaults: 1 MiB frames, 16 KiB header blocks, 256 calls in flight.
SERVER_DEFAULTS = Limits()
#: What this client announces and enforces on what it receives, unless told otherwise. Frames
#: up to 16 MiB so that a large page never trips it; 16 KiB header blocks; the concurrency
#: figure is informational (the server never starts calls).
CLIENT_DEFAULTS = Limits(max_frame_bytes=16 << 20, max_header_bytes=16 << 10, max_concurrent_calls=256)


@dataclasses.dataclass(frozen=True)
class Method:
    """One RPC of the service."""

    name: str
    request: type
    response: type
    #: Needs ``authorization: Bearer <jwt>``.
    authenticated: bool
    #: Changes state; accepts ``idempotency-key``.
    mutating: bool

    @property
    def path(self) -> str:
        return f"/{SERVICE}/{self.name}"


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("RegisterDoctor", pb.RegisterDoctorRequest, pb.RegisterResponse, False, True),
        Method("RegisterPatient", pb.RegisterPatientRequest, pb.RegisterResponse, False, True),
        Method("Login", pb.LoginRequest, pb.LoginResponse, False, False),
        Method("Logout", pb.LogoutRequest, pb.LogoutResponse, True, False),
        Method("FindDoctors", pb.FindDoctorsRequest, pb.FindDoctorsResponse, True, False),
        Method("BookSlot", pb.BookSlotRequest, pb.BookingResponse, True, True),
        Method("BookAny", pb.BookAnyRequest, pb.BookingResponse, True, True),
        Method("CancelAppointment", pb.CancelAppointmentRequest, pb.BookingResponse, True, True),
        Method("ListFilledSlots", pb.ListFilledSlotsRequest, pb.AppointmentList, True, False),
        Method("ListMyAppointments", pb.ListMyAppointmentsRequest, pb.AppointmentList, True, False),
        Method("Health", pb.HealthRequest, pb.HealthResponse, False, False),
        Method("ServerInfo", pb.ServerInfoRequest, pb.ServerInfoResponse, False, False),
    ]
}

MetadataLike = Union[None, Sequence[Tuple[str, Union[str, bytes]]], "dict[str, Union[str, bytes]]"]
DateLike = Union[pb.Date, datetime.date, Tuple[int, int, int]]


def method_named(name: str) -> Method:
    """The method called ``name`` (``"BookSlot"`` or its full path)."""
    short = name.rsplit("/", 1)[-1]
    try:
        return METHODS[short]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; known: {', '.join(METHODS)}") from None


def to_date(value: DateLike) -> pb.Date:
    """A ``Date`` message from a ``datetime.date``, a ``(year, month, day)`` tuple or a ``Date``."""
    if isinstance(value, pb.Date):
        return value
    if isinstance(value, datetime.date):
        return pb.Date(year=value.year, month=value.month, day=value.day)
    year, month, day = value
    return pb.Date(year=year, month=month, day=day)


def from_date(value: pb.Date) -> datetime.date:
    """The ``datetime.date`` of a ``Date`` message."""
    return datetime.date(value.year, value.month, value.day)


def timeout_ms(timeout: Optional[float]) -> int:
    """``RequestHeader.timeout_ms`` for a timeout in seconds: rounded up, 0 for none."""
    if timeout is None:
        return 0
    if timeout <= 0:
        return 1  # already due: the server answers DEADLINE_EXCEEDED without applying it
    return min(math.ceil(timeout * 1000), 0xFFFFFFFF)


def _as_bytes(value: Union[str, bytes]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def metadata_entries(metadata: MetadataLike) -> list[wire.MetadataEntry]:
    """Metadata entries from a dict or a list of pairs; keys must be lower-case ASCII."""
    if not metadata:
        return []
    pairs: Iterable = metadata.items() if isinstance(metadata, dict) else metadata
    entries = []
    for key, value in pairs:
        if not key or not key.isascii() or key != key.lower():
            raise ValueError(f"metadata key {key!r} must be non-empty lower-case ASCII")
        entries.append(wire.MetadataEntry(key=key, value=_as_bytes(value)))
    return entries


def idempotency_entry(key: Union[str, bytes]) -> wire.MetadataEntry:
    """The ``idempotency-key`` entry, checked: 1…128 bytes."""
    value = _as_bytes(key)
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY_BYTES:
        raise ValueError(f"an idempotency key must have 1…{MAX_IDEMPOTENCY_KEY_BYTES} bytes, not {len(value)}")
    return wire.MetadataEntry(key=IDEMPOTENCY_KEY, value=value)


def request_frame(
    call_id: int,
    method: Method,
    request: Message,
    *,
    timeout: Optional[float],
    authorization: Optional[bytes],
    idempotency_key: Union[str, bytes, None],
    metadata: MetadataLike,
    limits: Limits,
) -> bytes:
    """The REQUEST frame of one call, checked against the server's announced limits.

    ``authorization`` (the verbatim ``Bearer <jwt>`` value) is sent only to methods that need
    it. Raises ``ValueError`` for a bad argument and :class:`RpcError` RESOURCE_EXHAUSTED /
    FRAME_TOO_LARGE when the frame would break the server's limits (nothing is sent).
    """
    if not isinstance(request, method.request):
        raise TypeError(f"{method.name} takes {method.request.__name__}, not {type(request).__name__}")
    entries = []
    if method.authenticated and authorization is not None:
        entries.append(wire.MetadataEntry(key=AUTHORIZATION, value=authorization))
    if idempotency_key is not None:
        if not method.mutating:
            raise ValueError(f"{method.name} does not change anything and takes no idempotency key")
        entries.append(idempotency_entry(idempotency_key))
    entries.extend(metadata_entries(metadata))
    header = wire.RequestHeader(method=method.path, timeout_ms=timeout_ms(timeout), metadata=entries)
    data = encode_message_frame(FrameType.REQUEST, call_id, header, request)
    header_len = int.from_bytes(data[6:8], "big")
    if header_len > limits.max_header_bytes:
        raise RpcError(
            StatusCode.RESOURCE_EXHAUSTED,
            Reason.FRAME_TOO_LARGE,
            f"header block of {header_len} bytes exceeds the server's limit of {limits.max_header_bytes}",
        )
    if len(data) - 4 > limits.max_frame_bytes:
        raise RpcError(
            StatusCode.RESOURCE_EXHAUSTED,
            Reason.FRAME_TOO_LARGE,
            f"request frame of {len(data) - 4} bytes exceeds the server's limit of {limits.max_frame_bytes}",
        )
    return data


@dataclasses.dataclass
class Outcome:
    """A decoded RESPONSE: the response message or the error, and the header metadata."""

    response: Optional[Message]
    error: Optional[RpcError]
    metadata: list[wire.MetadataEntry]

    def metadata_value(self, key: str) -> Optional[bytes]:
        for entry in self.metadata:
            if entry.key == key:
                return entry.value
        return None


def decode_response(frame: Frame, method: Method) -> Outcome:
    """Decodes a RESPONSE frame of ``method``.

    A status other than OK becomes ``error``; an absent status means OK. A header block or an OK
    payload that does not decode becomes INTERNAL / PROTOCOL_ERROR.
    """
    header = wire.ResponseHeader()
    try:
        header.ParseFromString(frame.header)
    except DecodeError as error:
        return Outcome(None, RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"undecodable response header: {error}"), [])
    metadata = list(header.metadata)
    status = header.status
    if status.code != StatusCode.OK:
        return Outcome(None, RpcError(status.code, status.reason, status.message), metadata)
    response = method.response()
    try:
        response.ParseFromString(frame.payload)
    except DecodeError as error:
        return Outcome(
            None,
            RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"undecodable {method.response.__name__}: {error}"),
            metadata,
        )
    return Outcome(response, None, metadata)


def authorization_after(method: Method, outcome: Outcome, current: Optional[bytes], sent: Optional[bytes]) -> Optional[bytes]:
    """The ``authorization`` value a client keeps after a successful call of ``method``.

    Login's answer carries the new token; a Logout made with the token still in use clears it
    (one made with an older token leaves a newer one alone); any other call changes nothing.
    """
    if outcome.error is not None:
        return current
    if method.name == "Login":
        value = outcome.metadata_value(AUTHORIZATION)
        return current if value is None else value
    if method.name == "Logout" and current == sent:
        return None
    return current


def bearer_token(authorization: Optional[bytes]) -> Optional[str]:
    """The JWT of a ``Bearer <jwt>`` value, if it has that form."""
    if authorization is None or not authorization.startswith(b"Bearer "):
        return None
    try:
        return authorization[len(b"Bearer ") :].decode("ascii")
    except UnicodeDecodeError:
        return None


def role_value(role: Union[int, str]) -> int:
    """A ``Role`` value from ``"doctor"``/``"patient"``, ``"ROLE_DOCTOR"`` or the enum number."""
    if isinstance(role, str):
        name = role.upper()
        if not name.startswith("ROLE_"):
            name = "ROLE_" + name
        return pb.Role.Value(name)
    return int(role)
