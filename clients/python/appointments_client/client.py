"""A thread-safe, pipelining client over one connection.

Threads: a reader (decodes frames and completes calls by call id), a writer (sends queued frames
in call-id order, batching them) and, once a call has a deadline, a timer. Any number of caller
threads may issue calls at once; each call is a :class:`CallFuture`.
"""

from __future__ import annotations

import concurrent.futures
import heapq
import itertools
import logging
import queue
import socket
import threading
import time
from typing import Any, Optional, Union

from google.protobuf.message import DecodeError, Message

from .calls import IdempotencyKey, TypedCalls
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
    authorization_after,
    bearer_token,
    decode_response,
    method_named,
    request_frame,
)
from .status import Reason, RpcError, StatusCode

log = logging.getLogger("appointments_client")

DEFAULT_AGENT = "appointments-client-python/0.1.0"
_RECV_BYTES = 256 * 1024


class CallFuture(concurrent.futures.Future):
    """The pending result of one call: the response message, or an :class:`RpcError`.

    ``cancel()`` works while the answer has not arrived: it sends CANCEL for the call and the
    future ends cancelled. The server may still have applied the call.
    """

    def __init__(self, client: "Client", call_id: int, method: Method) -> None:
        super().__init__()
        self._client = client
        self.call_id = call_id
        self.method = method

    def cancel(self) -> bool:
        if not super().cancel():
            return False
        self._client._send_cancel(self.call_id)
        return True


class _Pending:
    __slots__ = ("call_id", "method", "future", "authorization", "finished")

    def __init__(self, call_id: int, method: Method, future: CallFuture, authorization: Optional[bytes]) -> None:
        self.call_id = call_id
        self.method = method
        self.future = future
        self.authorization = authorization
        # Set once the future has been completed (or found cancelled), under the client lock.
        self.finished = False


class Client(TypedCalls):
    """A connection to an Appointments server.

    Open it with :meth:`connect`; use it from any number of threads; close it with
    :meth:`close` or a ``with`` block. The typed methods (``book_slot``, ``login``…, see
    :class:`~appointments_client.calls.TypedCalls`) block and return the response message or
    raise :class:`RpcError`; the same methods on :attr:`futures` return a :class:`CallFuture` at
    once, so that many calls can be in flight together::

        with Client.connect("127.0.0.1", 7070) as client:
            client.login("patient", "ann@example.org", "correct horse")
            pending = [client.futures.health() for _ in range(50)]
            statuses = [f.result().status for f in pending]

    After Login the client keeps the returned ``authorization`` value and sends it on every call
    that needs it. Calls in flight fail with UNAVAILABLE / ``GOAWAY`` when the server drains the
    connection without processing them (not applied: safe to retry on a new client), and with
    UNAVAILABLE / ``CONNECTION_LOST`` when the connection breaks (outcome unknown).
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        server_hello: wire.Hello,
        decoder: FrameDecoder,
        early_frames: list[Frame],
        default_timeout: Optional[float],
        limits: Limits,
        token: Optional[str] = None,
    ) -> None:
        """Use :meth:`connect`."""
        self._sock = sock
        self._decoder = decoder
        #: The HELLO the server sent.
        self.server_hello = server_hello
        #: What the server accepts; the client keeps its requests within these.
        self.server_limits = Limits.from_hello(server_hello, SERVER_DEFAULTS)
        #: What this client announced and enforces on what it receives.
        self.limits = limits
        self.default_timeout = default_timeout

        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)
        self._next_call_id = 1
        self._pending: dict[int, _Pending] = {}
        self._in_flight = 0
        self._authorization: Optional[bytes] = None
        self._goaway: Optional[wire.GoAway] = None
        self._failure: Optional[RpcError] = None
        self._pings: dict[int, list] = {}
        self._ping_ids = itertools.count(1)

        self._outbox: "queue.SimpleQueue[Optional[bytes]]" = queue.SimpleQueue()
        self._timer_cond = threading.Condition(threading.Lock())
        self._deadlines: list[tuple[float, int, _Pending]] = []
        self._deadline_seq = itertools.count()
        self._timer: Optional[threading.Thread] = None

        if token is not None:
            self.token = token

        self.futures = _FutureCalls(self)
        """The typed methods, returning a :class:`CallFuture` instead of blocking."""

        self._writer = threading.Thread(target=self._write_loop, name="appointments-writer", daemon=True)
        self._reader = threading.Thread(
            target=self._read_loop, args=(early_frames,), name="appointments-reader", daemon=True
        )
        self._writer.start()
        self._reader.start()

    # -- opening and closing -------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        host: str = "127.0.0.1",
        port: int = 7070,
        timeout: Optional[float] = 10.0,
        *,
        default_timeout: Optional[float] = None,
        agent: str = DEFAULT_AGENT,
        limits: Limits = CLIENT_DEFAULTS,
        token: Optional[str] = None,
    ) -> "Client":
        """Connects, sends HELLO and waits for the server's HELLO.

        ``timeout`` bounds the connection and the handshake; ``default_timeout`` is the deadline
        of calls that give none (``None``: no deadline). ``token`` is a JWT to start with.
        Raises ``OSError`` when the connection fails and :class:`RpcError` when the server
        refuses it (GOAWAY) or does not speak protocol version 1.
        """
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            deadline = None if timeout is None else time.monotonic() + timeout
            sock.sendall(encode_message_frame(FrameType.HELLO, 0, limits.hello(agent)))
            decoder = FrameDecoder(limits.max_frame_bytes, limits.max_header_bytes)
            frames: list[Frame] = []
            while not frames:
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise socket.timeout("no HELLO from the server in time")
                    sock.settimeout(remaining)
                data = sock.recv(_RECV_BYTES)
                if not data:
                    raise RpcError(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, "the server closed the connection before its HELLO")
                try:
                    frames = decoder.feed(data)
                except FrameError as error:
                    raise RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"bad first frame from the server: {error}") from None
            first, rest = frames[0], frames[1:]
            if first.type == FrameType.GOAWAY:
                goaway = _parse(wire.GoAway, first.header)
                code = goaway.code if goaway is not None and goaway.code else StatusCode.UNAVAILABLE
                message = goaway.message if goaway is not None else ""
                raise RpcError(code, Reason.GOAWAY, f"the server refused the connection: {message}")
            hello = _parse(wire.Hello, first.header) if first.type == FrameType.HELLO else None
            if hello is None or first.call_id != 0:
                raise RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"the server's first frame is {first.type.name}, not a HELLO")
            if hello.protocol_version != PROTOCOL_VERSION:
                raise RpcError(
                    StatusCode.FAILED_PRECONDITION,
                    Reason.PROTOCOL_ERROR,
                    f"the server speaks protocol version {hello.protocol_version}, this client {PROTOCOL_VERSION}",
                )
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return cls(
            sock,
            server_hello=hello,
            decoder=decoder,
            early_frames=rest,
            default_timeout=default_timeout,
            limits=limits,
            token=token,
        )

    def close(self) -> None:
        """Closes the connection. Calls still in flight fail with CANCELLED / ``CLIENT_CLOSED``
        (they may have been applied). Idempotent."""
        self._fail(RpcError(StatusCode.CANCELLED, Reason.CLIENT_CLOSED, "the client was closed"))
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once the connection is unusable (closed, broken, or drained by GOAWAY)."""
        with self._lock:
            return self._failure is not None or self._goaway is not None

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Waits until the connection has ended; True once it has, False if ``timeout`` passed first.

        The connection ends when :meth:`close` is called, when it breaks, or when the server
        closes it (after a GOAWAY, once the server has answered the calls it kept). By then every
        call has completed or failed, :attr:`closed` is True and the socket is closed.
        ``timeout`` is in seconds (``None``: no limit; 0: just look).

        Raises ``RuntimeError`` when called on the client's reader thread, which is where the
        callbacks of a :class:`CallFuture` completed by an answer run: that thread cannot wait
        for its own end.
        """
        if threading.current_thread() is self._reader:
            raise RuntimeError("wait_closed() on the client's reader thread (in a CallFuture callback?) would never return")
        self._reader.join(timeout)
        return not self._reader.is_alive()

    @property
    def goaway(self) -> Optional[wire.GoAway]:
        """The GOAWAY the server sent, if any."""
        with self._lock:
            return self._goaway

    # -- the token -----------------------------------------------------------------------------

    @property
    def token(self) -> Optional[str]:
        """The JWT sent as ``authorization: Bearer <jwt>``; set by Login, cleared by Logout."""
        with self._lock:
            return bearer_token(self._authorization)

    @token.setter
    def token(self, jwt: Optional[str]) -> None:
        with self._lock:
            self._authorization = None if jwt is None else b"Bearer " + jwt.encode("ascii")

    @property
    def authorization(self) -> Optional[bytes]:
        """The verbatim ``authorization`` value sent with calls, e.g. ``b"Bearer eyJ…"``."""
        with self._lock:
            return self._authorization

    @authorization.setter
    def authorization(self, value: Optional[bytes]) -> None:
        with self._lock:
            self._authorization = value

    # -- calls ---------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        request: Message,
        *,
        timeout: Optional[float] = None,
        idempotency_key: IdempotencyKey = None,
        metadata: MetadataLike = None,
    ) -> Message:
        """Calls ``method`` (``"BookSlot"`` or its full path) and waits for the response message.

        Raises :class:`RpcError` when the call fails, including DEADLINE_EXCEEDED when
        ``timeout`` (seconds; ``None``: the client's default) passes before the answer arrives.
        """
        future = self.submit(method, request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise RpcError(StatusCode.CANCELLED, Reason.CALL_CANCELLED, f"call {future.call_id} was cancelled") from None

    def submit(
        self,
        method: str,
        request: Message,
        *,
        timeout: Optional[float] = None,
        idempotency_key: IdempotencyKey = None,
        metadata: MetadataLike = None,
    ) -> CallFuture:
        """Sends a call and returns its :class:`CallFuture` without waiting for the answer.

        Blocks only while the server's ``max_concurrent_calls`` calls are already in flight
        (bounded by ``timeout``). Raises ``ValueError``/``TypeError`` for bad arguments; every
        other failure is delivered through the future as an :class:`RpcError`.
        """
        spec = method_named(method)
        if timeout is None:
            timeout = self.default_timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            refusal = self._refusal_locked()
            while refusal is None and self._in_flight >= self.server_limits.max_concurrent_calls:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    refusal = RpcError(
                        StatusCode.DEADLINE_EXCEEDED,
                        Reason.DEADLINE_EXCEEDED,
                        f"{spec.name}: deadline passed while {self._in_flight} calls were in flight (not sent)",
                    )
                    break
                self._slot_freed.wait(remaining)
                refusal = self._refusal_locked()
            if refusal is None and self._next_call_id > MAX_CALL_ID:
                refusal = RpcError(StatusCode.RESOURCE_EXHAUSTED, Reason.CONNECTION_LOST, "call ids exhausted: open a new connection")
            if refusal is not None:
                future = CallFuture(self, 0, spec)
                future.set_running_or_notify_cancel()
                future.set_exception(refusal)
                return future
            call_id = self._next_call_id
            authorization = self._authorization
            remaining = None if deadline is None else deadline - time.monotonic()
            try:
                data = request_frame(
                    call_id,
                    spec,
                    request,
                    timeout=remaining,
                    authorization=authorization,
                    idempotency_key=idempotency_key,
                    metadata=metadata,
                    limits=self.server_limits,
                )
            except RpcError as error:
                future = CallFuture(self, 0, spec)
                future.set_running_or_notify_cancel()
                future.set_exception(error)
                return future
            self._next_call_id += 1
            future = CallFuture(self, call_id, spec)
            pending = _Pending(call_id, spec, future, authorization if spec.authenticated else None)
            self._pending[call_id] = pending
            self._in_flight += 1
            # Queued under the lock so that frames leave in call-id order.
            self._outbox.put(data)
        if deadline is not None:
            self._schedule(deadline, pending)
        return future

    def _invoke(self, method: str, request: Message, *, timeout, idempotency_key, metadata) -> Message:
        return self.call(method, request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)

    def ping(self, timeout: Optional[float] = 10.0) -> float:
        """Sends PING and waits for the PONG; returns the round trip in seconds."""
        with self._lock:
            refusal = self._refusal_locked()
            if refusal is not None:
                raise refusal
            opaque = next(self._ping_ids)
            waiter = [threading.Event(), None]
            self._pings[opaque] = waiter
            self._outbox.put(encode_message_frame(FrameType.PING, 0, wire.Ping(opaque=opaque)))
        start = time.monotonic()
        if not waiter[0].wait(timeout):
            with self._lock:
                self._pings.pop(opaque, None)
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED, "no PONG in time")
        if waiter[1] is not None:
            raise waiter[1]
        return time.monotonic() - start

    # -- internals: state ------------------------------------------------------------------------

    def _refusal_locked(self) -> Optional[RpcError]:
        """Why no new call may start, or None."""
        if self._failure is not None:
            return self._failure
        if self._goaway is not None:
            return RpcError(
                StatusCode.UNAVAILABLE,
                Reason.GOAWAY,
                f"the server is closing this connection ({self._goaway.message or 'GOAWAY'}): open a new one",
            )
        return None

    def _finish(self, pending: _Pending, result: Optional[Message] = None, error: Optional[RpcError] = None) -> bool:
        """Completes a call's future once; False when it was already completed or cancelled."""
        with self._lock:
            if pending.finished:
                return False
            pending.finished = True
        future = pending.future
        if not future.set_running_or_notify_cancel():
            return False
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
        return True

    def _release_locked(self, pending: _Pending) -> None:
        if self._pending.pop(pending.call_id, None) is not None:
            self._in_flight -= 1
            self._slot_freed.notify()

    def _fail(self, error: RpcError) -> None:
        """Ends the connection: every call in flight fails with ``error``; idempotent."""
        with self._lock:
            if self._failure is not None:
                return
            self._failure = error
            pending = list(self._pending.values())
            self._pending.clear()
            self._in_flight = 0
            self._slot_freed.notify_all()
            pings = list(self._pings.values())
            self._pings.clear()
        for waiter in pings:
            waiter[1] = error
            waiter[0].set()
        for call in pending:
            self._finish(call, error=error)
        self._outbox.put(None)
        with self._timer_cond:
            self._timer_cond.notify_all()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_cancel(self, call_id: int) -> None:
        with self._lock:
            if self._failure is None and call_id in self._pending:
                self._outbox.put(encode_message_frame(FrameType.CANCEL, call_id, wire.Cancel()))

    # -- internals: deadlines --------------------------------------------------------------------

    def _schedule(self, deadline: float, pending: _Pending) -> None:
        with self._timer_cond:
            heapq.heappush(self._deadlines, (deadline, next(self._deadline_seq), pending))
            if self._timer is None:
                self._timer = threading.Thread(target=self._timer_loop, name="appointments-timer", daemon=True)
                self._timer.start()
            self._timer_cond.notify()

    def _timer_loop(self) -> None:
        while True:
            expired = []
            with self._timer_cond:
                while True:
                    if self._failure is not None:
                        return
                    now = time.monotonic()
                    while self._deadlines and self._deadlines[0][0] <= now:
                        expired.append(heapq.heappop(self._deadlines)[2])
                    if expired:
                        break
                    wait = None if not self._deadlines else self._deadlines[0][0] - now
                    self._timer_cond.wait(wait)
            for pending in expired:
                error = RpcError(
                    StatusCode.DEADLINE_EXCEEDED,
                    Reason.DEADLINE_EXCEEDED,
                    f"{pending.method.name} (call {pending.call_id}): no answer before the deadline",
                )
                if self._finish(pending, error=error):
                    # The server may still be holding the call: tell it to drop it. The in-flight
                    # slot is freed when its answer (CANCELLED or the outcome) arrives.
                    self._send_cancel(pending.call_id)

    # -- internals: I/O --------------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            batch = [item]
            size = len(item)
            # Coalesce what is already queued: pipelined calls leave in few segments.
            while size < 256 * 1024:
                try:
                    more = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._send(batch)
                    return
                batch.append(more)
                size += len(more)
            if not self._send(batch):
                return

    def _send(self, batch: list[bytes]) -> bool:
        try:
            self._sock.sendall(b"".join(batch))
            return True
        except OSError as error:
            self._fail(RpcError(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, f"sending failed: {error}"))
            return False

    def _read_loop(self, early_frames: list[Frame]) -> None:
        try:
            for frame in early_frames:
                self._dispatch(frame)
            while True:
                try:
                    data = self._sock.recv(_RECV_BYTES)
                except OSError as error:
                    self._fail(RpcError(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, f"receiving failed: {error}"))
                    return
                if not data:
                    with self._lock:
                        goaway = self._goaway
                    message = "the server closed the connection"
                    if goaway is not None:
                        message += f" after GOAWAY ({goaway.message or 'no message'})"
                    self._fail(RpcError(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, message))
                    return
                try:
                    frames = self._decoder.feed(data)
                except FrameError as error:
                    self._fail(RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"bad frame from the server: {error}"))
                    return
                for frame in frames:
                    self._dispatch(frame)
        except _ProtocolViolation as violation:
            self._fail(RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, str(violation)))
        except BaseException as error:  # never leave callers hanging on a bug
            log.exception("reader thread failed")
            self._fail(RpcError(StatusCode.INTERNAL, Reason.PROTOCOL_ERROR, f"client bug: {error!r}"))
        finally:
            # Every exit above has called _fail, which shut the socket down and stopped the
            # writer. Close only once the writer is out of sendall, so that it can never write
            # to a descriptor number the process has reused meanwhile.
            self._writer.join(timeout=10)
            try:
                self._sock.close()
            except OSError:
                pass

    def _dispatch(self, frame: Frame) -> None:
        if frame.type == FrameType.RESPONSE:
            self._on_response(frame)
        elif frame.type == FrameType.PONG:
            ping = _parse(wire.Ping, frame.header)
            if ping is None:
                raise _ProtocolViolation("undecodable PONG header block")
            with self._lock:
                waiter = self._pings.pop(ping.opaque, None)
            if waiter is not None:
                waiter[0].set()
        elif frame.type == FrameType.PING:
            ping = _parse(wire.Ping, frame.header)
            if ping is None:
                raise _ProtocolViolation("undecodable PING header block")
            with self._lock:
                if self._failure is None:
                    self._outbox.put(encode_message_frame(FrameType.PONG, 0, ping))
        elif frame.type == FrameType.GOAWAY:
            self._on_goaway(frame)
        else:
            raise _ProtocolViolation(f"unexpected {frame.type.name} frame from the server")

    def _on_response(self, frame: Frame) -> None:
        with self._lock:
            pending = self._pending.get(frame.call_id)
            if pending is None:
                log.debug("ignoring a RESPONSE for call %d, which is not in flight", frame.call_id)
                return
            self._release_locked(pending)
        outcome = decode_response(frame, pending.method)
        with self._lock:
            if not pending.finished and not pending.future.cancelled():
                self._authorization = authorization_after(pending.method, outcome, self._authorization, pending.authorization)
        self._finish(pending, result=outcome.response, error=outcome.error)

    def _on_goaway(self, frame: Frame) -> None:
        goaway = _parse(wire.GoAway, frame.header)
        if goaway is None:
            raise _ProtocolViolation("undecodable GOAWAY header block")
        with self._lock:
            self._goaway = goaway
            dropped = [p for p in self._pending.values() if p.call_id > goaway.last_call_id]
            for pending in dropped:
                self._release_locked(pending)
        if dropped:
            error = RpcError(
                StatusCode.UNAVAILABLE,
                Reason.GOAWAY,
                f"not processed: the server is closing the connection after call {goaway.last_call_id}"
                f" ({goaway.message or 'GOAWAY'}); safe to retry on a new connection",
            )
            for pending in dropped:
                self._finish(pending, error=error)


class _FutureCalls(TypedCalls):
    """The typed methods of a :class:`Client`, returning a :class:`CallFuture` at once."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _invoke(self, method: str, request: Message, *, timeout, idempotency_key, metadata) -> CallFuture:
        return self._client.submit(method, request, timeout=timeout, idempotency_key=idempotency_key, metadata=metadata)


class _ProtocolViolation(Exception):
    pass


def _parse(cls: type, data: bytes) -> Optional[Message]:
    message = cls()
    try:
        message.ParseFromString(data)
    except DecodeError:
        return None
    return message
