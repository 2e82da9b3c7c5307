"""An asyncio client: the same calls as :class:`~appointments_client.Client`, as coroutines.

One connection, any number of concurrent calls (``asyncio.gather`` them to pipeline); a reader
task completes calls by call id. Not thread-safe: use it from its event loop only.

    async with await AsyncClient.connect("127.0.0.1", 7070) as client:
        await client.login("patient", "ann@example.org", "correct horse")
        healths = await asyncio.gather(*(client.health() for _ in range(50)))
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from typing import Any, Optional, Union

from google.protobuf.message import Message

from .calls import IdempotencyKey, TypedCalls
from .client import DEFAULT_AGENT, _parse
from .frames import Frame, FrameDecoder, FrameError, FrameType, encode_message_frame
from .gen.appointments.v1 import frame_pb2 as wire
from .protocol import (
    CLIENT_DEFAULTS,
    MAX_CALL_ID,
    PROTOCOL_VERSION,
    SERVER_DEFAULTS,
    Limits,
    Method,
    MetadataLike,
    Outcome,
    authorization_after,
    bearer_token,
    decode_response,
    method_named,
    request_frame,
)
from .status import Reason, RpcError, StatusCode

log = logging.getLogger("appointments_client")

_RECV_BYTES = 256 * 1024


class _AsyncPending:
    __slots__ = ("call_id", "method", "future", "authorization", "abandoned")

    def __init__(self, call_id: int, method: Method, future: "asyncio.Future[Union[Outcome, RpcError]]", authorization: Optional[bytes]) -> None:
        self.call_id = call_id
        self.method = method
        # Resolved with an Outcome or an RpcError, never an exception: an abandoned call's
        # future would otherwise log "exception was never retrieved".
        self.future = future
        self.authorization = authorization
        # The caller stopped waiting (deadline, cancellation): its answer is ignored.
        self.abandoned = False


class AsyncClient(TypedCalls):
    """A connection to an Appointments server for asyncio code. Open it with :meth:`connect`.

    The typed methods (see :class:`~appointments_client.calls.TypedCalls`) are coroutines that
    return the response message or raise :class:`RpcError`. Cancelling a task that awaits a call
    sends CANCEL for it.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        server_hello: wire.Hello,
        decoder: FrameDecoder,
        early_frames: list[Frame],
        default_timeout: Optional[float],
        limits: Limits,
        token: Optional[str],
    ) -> None:
        """Use :meth:`connect`."""
        self._reader = reader
        self._writer = writer
        self._decoder = decoder
        self.server_hello = server_hello
        self.server_limits = Limits.from_hello(server_hello, SERVER_DEFAULTS)
        self.limits = limits
        self.default_timeout = default_timeout
        self._loop = asyncio.get_running_loop()
        self._next_call_id = 1
        self._pending: dict[int, _AsyncPending] = {}
        self._slot_waiters: "collections.deque[asyncio.Future[None]]" = collections.deque()
        self._authorization: Optional[bytes] = None if token is None else b"Bearer " + token.encode("ascii")
        self._goaway: Optional[wire.GoAway] = None
        self._failure: Optional[RpcError] = None
        self._pings: dict[int, "asyncio.Future[Optional[RpcError]]"] = {}
        self._ping_ids = itertools.count(1)
        self._read_task = self._loop.create_task(self._read_loop(early_frames), name="appointments-reader")

    @classmethod
    async def connect(
        cls,
        host: str = "127.0.0.1",
        port: int = 7070,
        timeout: Optional[float] = 10.0,
        *,
        default_timeout: Optional[float] = None,
        agent: str = DEFAULT_AGENT,
        limits: Limits = CLIENT_DEFAULTS,
        token: Optional[str] = None,
    ) -> "AsyncClient":
        """Connects, sends HELLO and waits for the server's; as :meth:`Client.connect`."""

        async def handshake():
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(encode_message_frame(FrameType.HELLO, 0, limits.hello(agent)))
                decoder = FrameDecoder(limits.max_frame_bytes, limits.max_header_bytes)
                frames: list[Frame] = []
                while not frames:
                    data = await reader.read(_RECV_BYTES)
                    if not data:
                        raise RpcError(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, "the server closed the connection before its HELLO")
                    try:
                        frames = decoder.feed(data)
                    except FrameError as error:
                        raise RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"bad first frame from the server: {error}") from None
                first = frames[0]
                if first.type == FrameType.GOAWAY:
                    goaway = _parse(wire.GoAway, first.header)
                    code = goaway.code if goaway is not None and goaway.code else StatusCode.UNAVAILABLE
                    raise RpcError(code, Reason.GOAWAY, f"the server refused the connection: {goaway.message if goaway else ''}")
                hello = _parse(wire.Hello, first.header) if first.type == FrameType.HELLO else None
                if hello is None or first.call_id != 0:
                    raise RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"the server's first frame is {first.type.name}, not a HELLO")
                if hello.protocol_version != PROTOCOL_VERSION:
                    raise RpcError(
                        StatusCode.FAILED_PRECONDITION,
                        Reason.PROTOCOL_ERROR,
                        f"the server speaks protocol version {hello.protocol_version}, this client {PROTOCOL_VERSION}",
                    )
                return reader, writer, hello, decoder, frames[1:]
            except BaseException:
                writer.close()
                raise

        reader, writer, hello, decoder, rest = await asyncio.wait_for(handshake(), timeout)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket

            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        return cls(
            reader, writer, server_hello=hello, decoder=decoder, early_frames=rest,
            default_timeout=default_timeout, limits=limits, token=token,
        )

    async def close(self) -> None:
        """Closes the connection; calls in flight fail with CANCELLED / ``CLIENT_CLOSED``."""
        self._fail(RpcError(StatusCode.CANCELLED, Reason.CLIENT_CLOSED, "the client was closed"))
        if self._read_task is not asyncio.current_task():
            try:
                await self._read_task
            except BaseException:
                pass
        try:
            await self._writer.wait_closed()
        except (OSError, ConnectionError):
            pass

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._failure is not None or self._goaway is not None

    @property
    def goaway(self) -> Optional[wire.GoAway]:
        return self._goaway

    @property
    def token(self) -> Optional[str]:
        """The JWT sent as ``authorization: Bearer <jwt>``; set by Login, cleared by Logout."""
        return bearer_token(self._authorization)

    @token.setter
    def token(self, jwt: Optional[str]) -> None:
        self._authorization = None if jwt is None else b"Bearer " + jwt.encode("ascii")

    @property
    def authorization(self) -> Optional[bytes]:
        return self._authorization

    @authorization.setter
    def authorization(self, value: Optional[bytes]) -> None:
        self._authorization = value

    # -- calls ---------------------------------------------------------------------------------

    def _invoke(self, method: str, request: Message, *, timeout, idempotency_key, metadata):
        return self.call(method, request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)

    async def call(
        self,
        method: str,
        request: Message,
        *,
        timeout: Optional[float] = None,
        idempotency_key: IdempotencyKey = None,
        metadata: MetadataLike = None,
    ) -> Message:
        """Calls ``method`` and returns the response message; raises :class:`RpcError`."""
        spec = method_named(method)
        if timeout is None:
            timeout = self.default_timeout
        deadline = None if timeout is None else self._loop.time() + timeout

        def remaining() -> Optional[float]:
            return None if deadline is None else deadline - self._loop.time()

        while True:
            refusal = self._refusal()
            if refusal is not None:
                raise refusal
            if len(self._pending) < self.server_limits.max_concurrent_calls:
                break
            waiter = self._loop.create_future()
            self._slot_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining())
            except asyncio.TimeoutError:
                raise RpcError(
                    StatusCode.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED,
                    f"{spec.name}: deadline passed while {len(self._pending)} calls were in flight (not sent)",
                ) from None
        if self._next_call_id > MAX_CALL_ID:
            raise RpcError(StatusCode.RESOURCE_EXHAUSTED, Reason.CONNECTION_LOST, "call ids exhausted: open a new connection")
        call_id = self._next_call_id
        authorization = self._authorization if spec.authenticated else None
        data = request_frame(
            call_id, spec, request, timeout=remaining(), authorization=authorization,
            idempotency_key=idempotency_key, metadata=metadata, limits=self.server_limits,
        )
        self._next_call_id += 1
        pending = _AsyncPending(call_id, spec, self._loop.create_future(), authorization)
        self._pending[call_id] = pending
        # No await between the id and the write: frames leave in call-id order. No drain either:
        # the in-flight limit bounds what can be buffered.
        self._writer.write(data)
        try:
            left = remaining()
            if left is None:
                result = await asyncio.shield(pending.future)
            else:
                result = await asyncio.wait_for(asyncio.shield(pending.future), max(left, 0))
        except asyncio.TimeoutError:
            self._abandon(pending)
            raise RpcError(
                StatusCode.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED,
                f"{spec.name} (call {call_id}): no answer before the deadline",
            ) from None
        except asyncio.CancelledError:
            self._abandon(pending)
            raise
        if isinstance(result, RpcError):
            raise result
        if result.error is not None:
            raise result.error
        return result.response

    async def ping(self, timeout: Optional[float] = 10.0) -> float:
        """Sends PING and waits for the PONG; returns the round trip in seconds."""
        refusal = self._refusal()
        if refusal is not None:
            raise refusal
        opaque = next(self._ping_ids)
        waiter = self._loop.create_future()
        self._pings[opaque] = waiter
        start = self._loop.time()
        self._writer.write(encode_message_frame(FrameType.PING, 0, wire.Ping(opaque=opaque)))
        try:
            error = await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            self._pings.pop(opaque, None)
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED, "no PONG in time") from None
        if error is not None:
            raise error
        return self._loop.time() - start

    # -- internals -------------------------------------------------------------------------------

    def _refusal(self) -> Optional[RpcError]:
        if self._failure is not None:
            return self._failure
        if self._goaway is not None:
            return RpcError(
                StatusCode.UNAVAILABLE, Reason.GOAWAY,
                f"the server is closing this connection ({self._goaway.message or 'GOAWAY'}): open a new one",
            )
        return None

    def _abandon(self, pending: _AsyncPending) -> None:
        pending.abandoned = True
        if self._failure is None and pending.call_id in self._pending:
            self._writer.write(encode_message_frame(FrameType.CANCEL, pending.call_id, wire.Cancel()))

    def _resolve(self, pending: _AsyncPending, result: Union[Outcome, RpcError]) -> None:
        if self._pending.pop(pending.call_id, None) is not None:
            self._wake_one()
        if not pending.future.done():
            pending.future.set_result(result)

    def _wake_one(self) -> None:
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _fail(self, error: RpcError) -> None:
        if self._failure is not None:
            return
        self._failure = error
        for pending in list(self._pending.values()):
            self._resolve(pending, error)
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        for waiter in self._pings.values():
            if not waiter.done():
                waiter.set_result(error)
        self._pings.clear()
        self._writer.close()
        if not self._read_task.done() and self._read_task is not asyncio.current_task():
            self._read_task.cancel()

    async def _read_loop(self, early_frames: list[Frame]) -> None:
        try:
            for frame in early_frames:
                self._dispatch(frame)
            while True:
                try:
                    data = await self._reader.read(_RECV_BYTES)
                except (OSError, ConnectionError) as error:
                    self._fail(RpcError(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, f"receiving failed: {error}"))
                    return
                if not data:
                    message = "the server closed the connection"
                    if self._goaway is not None:
                        message += f" after GOAWAY ({self._goaway.message or 'no message'})"
                    self._fail(RpcError(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, message))
                    return
                try:
                    frames = self._decoder.feed(data)
                except FrameError as error:
                    self._fail(RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"bad frame from the server: {error}"))
                    return
                for frame in frames:
                    self._dispatch(frame)
        except asyncio.CancelledError:
            raise
        except _Violation as violation:
            self._fail(RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, str(violation)))
        except Exception as error:  # never leave callers hanging on a bug
            log.exception("reader task failed")
            self._fail(RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"client bug: {error!r}"))

    def _dispatch(self, frame: Frame) -> None:
        if frame.type == FrameType.RESPONSE:
            pending = self._pending.get(frame.call_id)
            if pending is None:
                log.debug("ignoring a RESPONSE for call %d, which is not in flight", frame.call_id)
                return
            outcome = decode_response(frame, pending.method)
            if not pending.abandoned:
                self._authorization = authorization_after(pending.method, outcome, self._authorization, pending.authorization)
            self._resolve(pending, outcome)
        elif frame.type == FrameType.PONG:
            ping = _parse(wire.Ping, frame.header)
            if ping is None:
                raise _Violation("undecodable PONG header block")
            waiter = self._pings.pop(ping.opaque, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        elif frame.type == FrameType.PING:
            ping = _parse(wire.Ping, frame.header)
            if ping is None:
                raise _Violation("undecodable PING header block")
            self._writer.write(encode_message_frame(FrameType.PONG, 0, ping))
        elif frame.type == FrameType.GOAWAY:
            goaway = _parse(wire.GoAway, frame.header)
            if goaway is None:
                raise _Violation("undecodable GOAWAY header block")
            self._goaway = goaway
            error = RpcError(
                StatusCode.UNAVAILABLE, Reason.GOAWAY,
                f"not processed: the server is closing the connection after call {goaway.last_call_id}"
                f" ({goaway.message or 'GOAWAY'}); safe to retry on a new connection",
            )
            for pending in [p for p in self._pending.values() if p.call_id > goaway.last_call_id]:
                self._resolve(pending, error)
        else:
            raise _Violation(f"unexpected {frame.type.name} frame from the server")


class _Violation(Exception):
    pass
