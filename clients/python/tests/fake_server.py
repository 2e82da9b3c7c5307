"""A scripted stand-in for appointmentd, speaking the protocol of docs/PROTOCOL.md.

It lets the client's connection handling (pipelining, deadlines, CANCEL, GOAWAY, connection loss)
be tested without the real server. Each test gives a handler called for every frame after the
HELLO exchange; the handler answers through the :class:`FakeConnection` it receives.

Tests wait for what the server saw with :meth:`FakeServer.wait_for` / :meth:`FakeConnection.wait_for`,
which wake up on every change (a connection accepted, a HELLO or a frame received): no polling.
"""

from __future__ import annotations

import socket
import threading
from typing import Callable, Optional

from appointments_client import FrameDecoder, FrameType, encode_message_frame, pb, wire
from appointments_client.protocol import METHODS


class FakeConnection:
    def __init__(self, sock: socket.socket, server: "FakeServer") -> None:
        self.sock = sock
        self.server = server
        self.client_hello: Optional[wire.Hello] = None
        self.frames: list = []  # every frame received after HELLO, in order
        self._write = threading.Lock()

    def wait_for(self, predicate: Callable[[], object], timeout: float = 30.0):
        """Waits until ``predicate()`` (about this connection) is true; see :meth:`FakeServer.wait_for`."""
        return self.server.wait_for(predicate, timeout)

    def send(self, frame_type: int, call_id: int, header, payload=None) -> None:
        with self._write:
            self.sock.sendall(encode_message_frame(frame_type, call_id, header, payload))

    def respond(self, call_id: int, response=None, *, code: int = 0, reason: str = "", message: str = "", metadata=()) -> None:
        header = wire.ResponseHeader(
            status=wire.Status(code=code, reason=reason, message=message),
            metadata=[wire.MetadataEntry(key=k, value=v) for k, v in metadata],
        )
        self.send(FrameType.RESPONSE, call_id, header, response if code == 0 else None)

    def goaway(self, last_call_id: int, code: int = 0, message: str = "") -> None:
        self.send(FrameType.GOAWAY, 0, wire.GoAway(last_call_id=last_call_id, code=code, message=message))

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FakeServer:
    """Listens on 127.0.0.1, an ephemeral port; one thread per connection."""

    def __init__(
        self,
        handler: Callable[[FakeConnection, object], None],
        hello=None,
        pong: bool = True,
    ) -> None:
        """``hello``: the server's HELLO (default: the server defaults), or False to send none.

        ``pong``: answer every PING at once with a PONG echoing it; False hands PINGs to the
        handler like any other frame (which may answer them with ``conn.send(FrameType.PONG, …)``).
        """
        self.handler = handler
        self.pong = pong
        self.hello = hello if hello is not None else wire.Hello(
            protocol_version=1, max_frame_bytes=1 << 20, max_header_bytes=16 << 10,
            max_concurrent_calls=256, agent="fake-server/1",
        )
        self.connections: list[FakeConnection] = []
        self.errors: list[BaseException] = []
        # Notified whenever a connection is accepted or one of them receives its HELLO or a frame.
        self.changed = threading.Condition()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            conn = FakeConnection(sock, self)
            with self.changed:
                self.connections.append(conn)
                self.changed.notify_all()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: FakeConnection) -> None:
        decoder = FrameDecoder(1 << 20, 16 << 10)
        try:
            while True:
                data = conn.sock.recv(65536)
                if not data:
                    return
                for frame in decoder.feed(data):
                    if conn.client_hello is None:
                        assert frame.type == FrameType.HELLO and frame.call_id == 0, frame
                        with self.changed:
                            conn.client_hello = wire.Hello.FromString(frame.header)
                            self.changed.notify_all()
                        if self.hello is not False:
                            conn.send(FrameType.HELLO, 0, self.hello)
                        continue
                    with self.changed:
                        conn.frames.append(frame)
                        self.changed.notify_all()
                    if frame.type == FrameType.PING and self.pong:
                        conn.send(FrameType.PONG, 0, wire.Ping.FromString(frame.header))
                        continue
                    self.handler(conn, frame)
        except OSError:
            return
        except BaseException as error:  # surfaced by the tests
            self.errors.append(error)
            conn.close()

    def wait_for(self, predicate: Callable[[], object], timeout: float = 30.0):
        """Waits until ``predicate()`` is true and returns its value; AssertionError after ``timeout``.

        ``predicate`` reads ``connections``, ``client_hello`` or ``frames``; it is evaluated
        under the lock that guards their changes, and again after each one.
        """
        with self.changed:
            value = self.changed.wait_for(predicate, timeout)
        if not value:
            raise AssertionError(f"condition not met within {timeout} s")
        return value

    def close(self) -> None:
        self._listener.close()
        for conn in self.connections:
            conn.close()


def request_of(frame) -> tuple:
    """(method name, RequestHeader, request message) of a REQUEST frame."""
    header = wire.RequestHeader.FromString(frame.header)
    method = METHODS[header.method.rsplit("/", 1)[-1]]
    return method.name, header, method.request.FromString(frame.payload)


def metadata_of(header) -> dict:
    return {entry.key: entry.value for entry in header.metadata}


def serving(conn: FakeConnection, frame) -> None:
    """A handler answering every request at once with a plausible response."""
    if frame.type != FrameType.REQUEST:
        return
    name, header, request = request_of(frame)
    if name == "Login":
        conn.respond(
            frame.call_id,
            pb.LoginResponse(account_id=7, role=request.role, expires_at_ms=1),
            metadata=[("authorization", b"Bearer token-for-" + request.email.encode())],
        )
    elif name == "Health":
        conn.respond(frame.call_id, pb.HealthResponse(status=pb.SERVING_STATUS_SERVING))
    elif name == "BookSlot":
        conn.respond(frame.call_id, pb.BookingResponse(appointment=pb.Appointment(id=request.doctor_id)))
    else:
        conn.respond(frame.call_id, METHODS[name].response())
