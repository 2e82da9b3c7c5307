"""Status codes, reasons and the error a failed call raises."""

from __future__ import annotations

import enum


class StatusCode(enum.IntEnum):
    """gRPC's 17 canonical status codes, carried in every RESPONSE (``Status.code``)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def of(cls, value: int) -> "StatusCode | int":
        """The member for ``value``, or the bare int for a code this client does not know."""
        try:
            return cls(value)
        except ValueError:
            return value


class Reason:
    """Reasons, as strings, that clients branch on (``RpcError.reason``).

    The server's reasons are listed in docs/PROTOCOL.md; the ones marked *client* are produced by
    this library for failures detected locally and never travel on the wire.
    """

    # Server reasons.
    INVALID_NAME = "INVALID_NAME"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PASSWORD = "INVALID_PASSWORD"
    INVALID_CONTACT = "INVALID_CONTACT"
    UNKNOWN_SPECIALIZATION = "UNKNOWN_SPECIALIZATION"
    UNKNOWN_TIME_ZONE = "UNKNOWN_TIME_ZONE"
    INVALID_SCHEDULE = "INVALID_SCHEDULE"
    INVALID_DATE = "INVALID_DATE"
    INVALID_SLOT = "INVALID_SLOT"
    INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"
    INVALID_RANGE = "INVALID_RANGE"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    MALFORMED_PAYLOAD = "MALFORMED_PAYLOAD"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    SLOT_TAKEN = "SLOT_TAKEN"
    ALREADY_BOOKED = "ALREADY_BOOKED"
    DOCTOR_NOT_FOUND = "DOCTOR_NOT_FOUND"
    APPOINTMENT_NOT_FOUND = "APPOINTMENT_NOT_FOUND"
    NO_DOCTOR_AVAILABLE = "NO_DOCTOR_AVAILABLE"
    PAST_DATE = "PAST_DATE"
    BEYOND_HORIZON = "BEYOND_HORIZON"
    INVALID_ROLE = "INVALID_ROLE"
    DOCTOR_NOT_WORKING = "DOCTOR_NOT_WORKING"
    APPOINTMENT_OVER = "APPOINTMENT_OVER"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    MISSING_TOKEN = "MISSING_TOKEN"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    WRONG_ROLE = "WRONG_ROLE"
    #: Reserved: this server answers someone else's appointment with APPOINTMENT_NOT_FOUND.
    NOT_OWNER = "NOT_OWNER"
    TOO_MANY_CALLS = "TOO_MANY_CALLS"
    TOO_MANY_LOGIN_ATTEMPTS = "TOO_MANY_LOGIN_ATTEMPTS"
    TOO_MANY_REGISTRATIONS = "TOO_MANY_REGISTRATIONS"
    SERVER_BUSY = "SERVER_BUSY"
    UNKNOWN_METHOD = "UNKNOWN_METHOD"
    CANCELLED = "CANCELLED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    #: Reserved: a draining server leaves the calls it did not take unanswered (see GOAWAY).
    SHUTTING_DOWN = "SHUTTING_DOWN"
    STORAGE_FAILED = "STORAGE_FAILED"
    # Server reasons of INTERNAL errors (a server bug or failure, never the request's fault).
    INTERNAL = "INTERNAL"
    APPOINTMENT_ID_IN_USE = "APPOINTMENT_ID_IN_USE"
    DOCTOR_ID_IN_USE = "DOCTOR_ID_IN_USE"

    # Client reasons (never on the wire).
    #: UNAVAILABLE: the server sent GOAWAY before processing the call; it was NOT applied and is
    #: safe to retry on a new connection.
    GOAWAY = "GOAWAY"
    #: UNAVAILABLE: the connection broke with the call in flight; it may or may not have been
    #: applied (retry only with the same idempotency key).
    CONNECTION_LOST = "CONNECTION_LOST"
    #: CANCELLED: the client was closed with the call in flight; outcome unknown.
    CLIENT_CLOSED = "CLIENT_CLOSED"
    #: CANCELLED: the caller cancelled the call; outcome unknown.
    CALL_CANCELLED = "CALL_CANCELLED"
    #: RESOURCE_EXHAUSTED: the request would exceed a limit the server announced; not sent.
    FRAME_TOO_LARGE = "FRAME_TOO_LARGE"
    #: INTERNAL: the server broke the protocol (undecodable response, unexpected frame).
    PROTOCOL_ERROR = "PROTOCOL_ERROR"


class RpcError(Exception):
    """A call that did not succeed: a status code, a machine-readable reason and a message.

    ``code`` is a :class:`StatusCode` (or a bare int for a code from a newer server), ``reason``
    an UPPER_SNAKE_CASE string such as ``"SLOT_TAKEN"`` (possibly empty), ``message`` text for
    people. Branch on ``code`` first, then on ``reason``; new reasons may appear.
    """

    def __init__(self, code: "StatusCode | int", reason: str = "", message: str = "") -> None:
        self.code = StatusCode.of(int(code))
        self.reason = reason
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        name = self.code.name if isinstance(self.code, StatusCode) else f"CODE_{self.code}"
        if self.reason:
            return f'{name} ({self.reason}): "{self.message}"'
        return f'{name}: "{self.message}"'

    def __repr__(self) -> str:
        return f"RpcError(code={self.code!r}, reason={self.reason!r}, message={self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RpcError):
            return NotImplemented
        return (self.code, self.reason, self.message) == (other.code, other.reason, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.reason, self.message))

    def __reduce__(self):  # picklable despite the custom __init__ signature
        return (RpcError, (int(self.code), self.reason, self.message))
