"""Frames of the Appointments wire protocol v1 (docs/PROTOCOL.md, "Frames").

Every frame is a fixed 12-byte header, big-endian::

    length:u32      bytes after this field = 8 + header_len + len(payload)
    type:u8         FrameType
    flags:u8        0 in v1 (bit 0 would mean "compressed")
    header_len:u16  length of the header block
    call_id:u32     0 for connection frames

then the header block (a protobuf message that depends on the type) and the payload (the
method's request or response message, or nothing).

This module only moves bytes; it knows nothing of sockets. :class:`FrameDecoder` is incremental:
feed it whatever ``recv`` returned and take out the complete frames.
"""

from __future__ import annotations

import dataclasses
import enum
import struct
from typing import Optional

from google.protobuf.message import Message

#: Size of the fixed header, length field included.
FIXED_HEADER_SIZE = 12
#: Bytes of the fixed header that the length field counts (everything after it).
SIZE_AFTER_LENGTH = 8
#: Largest header block the 16-bit header_len field can describe.
MAX_HEADER_LEN_FIELD = 0xFFFF

_FIXED = struct.Struct(">IBBHI")


class FrameType(enum.IntEnum):
    """The kind of a frame, its fifth byte."""

    HELLO = 1
    REQUEST = 2
    RESPONSE = 3
    CANCEL = 4
    PING = 5
    PONG = 6
    GOAWAY = 7


class FrameError(Exception):
    """A frame that breaks the connection rules: the connection must be closed.

    ``kind`` names the rule: ``frame-too-large``, ``header-too-large``, ``malformed-frame``,
    ``unknown-frame-type``, ``unsupported-flags``.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


@dataclasses.dataclass(frozen=True)
class Frame:
    """One frame with its header block and payload still encoded."""

    type: FrameType
    call_id: int
    header: bytes = b""
    payload: bytes = b""
    flags: int = 0

    @property
    def length(self) -> int:
        """The value of the length field: bytes after it."""
        return SIZE_AFTER_LENGTH + len(self.header) + len(self.payload)

    def encode(self) -> bytes:
        """The frame's bytes on the wire."""
        return encode_frame(self.type, self.call_id, self.header, self.payload, flags=self.flags)


def encode_frame(frame_type: int, call_id: int, header: bytes, payload: bytes = b"", *, flags: int = 0) -> bytes:
    """Encodes one frame whose header block and payload are already serialized.

    Raises ``ValueError`` when a field does not fit its width (header block over 65,535 bytes,
    call id over 2**32-1, frame over 4 GiB).
    """
    if len(header) > MAX_HEADER_LEN_FIELD:
        raise ValueError(f"header block of {len(header)} bytes does not fit the 16-bit header_len field")
    if not 0 <= call_id <= 0xFFFFFFFF:
        raise ValueError(f"call id {call_id} does not fit 32 bits")
    length = SIZE_AFTER_LENGTH + len(header) + len(payload)
    if length > 0xFFFFFFFF:
        raise ValueError(f"frame of {length} bytes does not fit the 32-bit length field")
    return _FIXED.pack(length, int(frame_type), flags, len(header), call_id) + header + payload


def encode_message_frame(
    frame_type: int, call_id: int, header: Message, payload: Optional[Message] = None
) -> bytes:
    """Encodes one frame from a header-block message and an optional payload message."""
    return encode_frame(
        frame_type,
        call_id,
        header.SerializeToString(),
        b"" if payload is None else payload.SerializeToString(),
    )


class FrameDecoder:
    """Splits a byte stream into :class:`Frame` objects, enforcing the receiver's limits.

    Mirrors the server's decoder: the limits are checked from the fixed header, before the body
    is buffered, so a length over ``max_frame_bytes`` fails as soon as its four bytes arrive.
    Every failure raises :class:`FrameError`; the stream is then unusable.
    """

    def __init__(self, max_frame_bytes: int, max_header_bytes: int) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.max_header_bytes = max_header_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        """Appends received bytes and returns the frames they complete (possibly none)."""
        self._buffer += data
        frames = []
        offset = 0
        while True:
            frame, offset = self._next(offset)
            if frame is None:
                break
            frames.append(frame)
        if offset:
            del self._buffer[:offset]
        return frames

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def _next(self, offset: int) -> tuple[Optional[Frame], int]:
        """The frame starting at ``offset`` and the offset after it, or (None, offset)."""
        buf = self._buffer
        available = len(buf) - offset
        if available < 4:
            return None, offset
        (length,) = struct.unpack_from(">I", buf, offset)
        if length > self.max_frame_bytes:
            raise FrameError(
                "frame-too-large", f"frame of {length} bytes exceeds the limit of {self.max_frame_bytes}"
            )
        if length < SIZE_AFTER_LENGTH:
            raise FrameError("malformed-frame", f"frame length {length} is shorter than the 8-byte header")
        if available < FIXED_HEADER_SIZE:
            return None, offset
        _, raw_type, flags, header_len, call_id = _FIXED.unpack_from(buf, offset)
        try:
            frame_type = FrameType(raw_type)
        except ValueError:
            raise FrameError("unknown-frame-type", f"unknown frame type {raw_type}") from None
        if flags != 0:
            raise FrameError("unsupported-flags", f"frame flags {flags} are not supported in v1")
        if header_len > length - SIZE_AFTER_LENGTH:
            raise FrameError(
                "malformed-frame", f"header block of {header_len} bytes overruns a {length}-byte frame"
            )
        if header_len > self.max_header_bytes:
            raise FrameError(
                "header-too-large",
                f"header block of {header_len} bytes exceeds the limit of {self.max_header_bytes}",
            )
        end = offset + 4 + length
        if len(buf) < end:
            return None, offset
        body = offset + FIXED_HEADER_SIZE
        header = bytes(buf[body : body + header_len])
        payload = bytes(buf[body + header_len : end])
        return Frame(type=frame_type, call_id=call_id, header=header, payload=payload, flags=flags), end


def decode_frame(data: bytes, *, max_frame_bytes: int = 0xFFFFFFFF, max_header_bytes: int = MAX_HEADER_LEN_FIELD) -> Frame:
    """Decodes exactly one complete frame from ``data`` (tests and tools).

    Raises :class:`FrameError` for a bad frame and ``ValueError`` when ``data`` is not exactly
    one frame.
    """
    decoder = FrameDecoder(max_frame_bytes, max_header_bytes)
    frames = decoder.feed(data)
    if len(frames) != 1 or decoder.buffered:
        raise ValueError(f"expected exactly one frame, got {len(frames)} and {decoder.buffered} extra bytes")
    return frames[0]
