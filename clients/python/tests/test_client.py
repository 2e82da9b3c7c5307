"""The threaded client against a scripted server (fake_server.py): connection rules only."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from fake_server import FakeServer, metadata_of, request_of, serving
from appointments_client import Client, FrameType, RpcError, StatusCode, pb, wire


@pytest.fixture
def server():
    servers = []

    def start(handler=serving, hello=None, **options):
        s = FakeServer(handler, hello, **options)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()
        assert not s.errors, s.errors


def connect(server, **kwargs) -> Client:
    return Client.connect("127.0.0.1", server.port, timeout=30, **kwargs)


def requests(conn):
    return [f for f in conn.frames if f.type == FrameType.REQUEST]


def first_of_type(conn, frame_type):
    """A predicate for ``conn.wait_for``: the first frame of ``frame_type`` received, or None."""
    return lambda: next((f for f in conn.frames if f.type == frame_type), None)


def test_hello_both_ways_then_a_call(server):
    s = server()
    with connect(s, agent="tests/1") as client:
        assert client.server_hello.agent == "fake-server/1"
        assert client.server_limits.max_concurrent_calls == 256
        assert client.health().status == pb.SERVING_STATUS_SERVING
        conn = s.connections[0]
        assert conn.client_hello.protocol_version == 1 and conn.client_hello.agent == "tests/1"
        assert [f.call_id for f in requests(conn)] == [1]
        assert not client.closed and not client.wait_closed(0)


def test_login_keeps_the_token_and_sends_it_where_needed(server):
    s = server()
    with connect(s) as client:
        assert client.token is None
        reply = client.login("patient", "ann@example.org", "secret-password")
        assert reply.account_id == 7
        assert client.token == "token-for-ann@example.org"
        client.find_doctors("cardiology", (2026, 12, 1))
        client.register_patient("Bob", "bob@example.org", "pw-pw-pw-pw", "555", idempotency_key="reg-1")
        client.logout()
        assert client.token is None
        client.health()
        sent = [request_of(f) for f in requests(s.connections[0])]
        auth = [(name, metadata_of(header).get("authorization")) for name, header, _ in sent]
        assert auth == [
            ("Login", None),
            ("FindDoctors", b"Bearer token-for-ann@example.org"),
            ("RegisterPatient", None),
            ("Logout", b"Bearer token-for-ann@example.org"),
            ("Health", None),
        ]
        assert metadata_of(sent[2][1])["idempotency-key"] == b"reg-1"
        assert sent[1][2].date == pb.Date(year=2026, month=12, day=1)


def test_fifty_pipelined_calls_answered_in_reverse_order(server):
    held = []
    all_in = threading.Event()

    def handler(conn, frame):
        held.append(frame)
        if len(held) == 50:
            all_in.set()
            for f in reversed(held):
                _, _, request = request_of(f)
                conn.respond(f.call_id, pb.BookingResponse(appointment=pb.Appointment(id=request.doctor_id)))

    s = server(handler)
    with connect(s) as client:
        futures = [client.futures.book_slot(1000 + i, (2026, 12, 1)) for i in range(50)]
        assert all_in.wait(30), "the server did not get 50 requests before answering any"
        assert [f.result(30).appointment.id for f in futures] == [1000 + i for i in range(50)]
        ids = [f.call_id for f in requests(s.connections[0])]
        assert ids == sorted(ids) and len(set(ids)) == 50 and ids[0] >= 1


def test_a_refusal_raises_rpc_error(server):
    def handler(conn, frame):
        conn.respond(frame.call_id, code=6, reason="SLOT_TAKEN", message="slot 09:00 on 2026-12-01 is taken")

    with connect(server(handler)) as client:
        with pytest.raises(RpcError) as caught:
            client.book_slot(42, (2026, 12, 1), 540)
        assert caught.value.code is StatusCode.ALREADY_EXISTS
        assert caught.value.reason == "SLOT_TAKEN"


def test_a_local_deadline_raises_and_sends_cancel(server):
    def handler(conn, frame):
        if frame.type == FrameType.CANCEL:
            conn.respond(frame.call_id, code=1, message="cancelled")
        elif request_of(frame)[0] == "Health":
            serving(conn, frame)

    # One call in flight at a time: the Health call below can only be sent once the late answer
    # to the abandoned call has arrived and freed the slot.
    hello = wire.Hello(protocol_version=1, max_concurrent_calls=1, agent="one-at-a-time")
    s = server(handler, hello)
    with connect(s) as client:
        start = time.monotonic()
        with pytest.raises(RpcError) as caught:
            client.book_slot(42, (2026, 12, 1), timeout=0.2)
        assert caught.value.code is StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - start >= 0.199  # it waited out the deadline (less float rounding)
        conn = s.connections[0]
        conn.wait_for(first_of_type(conn, FrameType.CANCEL))
        request, cancel = conn.frames[0], conn.frames[1]
        assert 0 < wire.RequestHeader.FromString(request.header).timeout_ms <= 200
        assert (cancel.type, cancel.call_id, cancel.header, cancel.payload) == (FrameType.CANCEL, request.call_id, b"", b"")
        # The late CANCELLED answer frees the slot, is otherwise ignored, and the connection goes on.
        assert client.health(timeout=30).status == pb.SERVING_STATUS_SERVING
        assert not client.closed


def test_cancelling_a_future_sends_cancel(server):
    def handler(conn, frame):
        if frame.type == FrameType.CANCEL:
            conn.respond(frame.call_id, code=1, message="cancelled")

    s = server(handler)
    with connect(s) as client:
        future = client.futures.book_any("cardiology", (2026, 12, 1), idempotency_key="k1")
        conn = s.connections[0]
        conn.wait_for(lambda: len(conn.frames) == 1)
        assert future.cancel()
        assert future.cancelled()
        conn.wait_for(lambda: [f.type for f in conn.frames] == [FrameType.REQUEST, FrameType.CANCEL])
        assert conn.frames[1].call_id == future.call_id


def test_goaway_fails_the_calls_it_did_not_take(server):
    got = []

    def handler(conn, frame):
        got.append(frame)
        if len(got) == 3:
            conn.goaway(last_call_id=got[0].call_id, message="shutting down")
            conn.respond(got[0].call_id, pb.HealthResponse(status=pb.SERVING_STATUS_DRAINING))
            conn.close()

    with connect(server(handler)) as client:
        futures = [client.futures.health() for _ in range(3)]
        assert futures[0].result(30).status == pb.SERVING_STATUS_DRAINING
        for future in futures[1:]:
            error = future.exception(30)
            assert isinstance(error, RpcError)
            assert (error.code, error.reason) == (StatusCode.UNAVAILABLE, "GOAWAY")
        assert client.goaway.message == "shutting down"
        with pytest.raises(RpcError) as caught:
            client.health()
        assert caught.value.code is StatusCode.UNAVAILABLE


def test_connection_loss_fails_every_pending_call(server):
    got = []

    def handler(conn, frame):
        got.append(frame)
        if len(got) == 2:
            conn.close()

    with connect(server(handler)) as client:
        futures = [client.futures.health(), client.futures.server_info()]
        for future in futures:
            error = future.exception(30)
            assert (error.code, error.reason) == (StatusCode.UNAVAILABLE, "CONNECTION_LOST")
        assert client.wait_closed(30)
        assert client.closed


def test_the_servers_concurrency_limit_is_respected(server):
    lock = threading.Lock()
    outstanding = []  # call ids received and not answered yet
    peak = []  # len(outstanding) as each request arrived
    held = []  # call ids whose answers wait for the release
    released = False

    def answer(conn, call_id):
        with lock:
            outstanding.remove(call_id)
        conn.respond(call_id, pb.HealthResponse(status=pb.SERVING_STATUS_SERVING))

    def handler(conn, frame):
        if frame.type != FrameType.REQUEST:
            return
        with lock:
            outstanding.append(frame.call_id)
            peak.append(len(outstanding))
            hold = not released
            if hold:
                held.append(frame.call_id)
        if not hold:
            answer(conn, frame.call_id)

    hello = wire.Hello(protocol_version=1, max_concurrent_calls=2, agent="tiny")
    s = server(handler, hello)
    with concurrent.futures.ThreadPoolExecutor(1) as pool, connect(s) as client:  # closes the client first: waiting calls end
        assert client.server_limits.max_frame_bytes == 1 << 20  # 0 = not announced: default
        conn = s.connections[0]
        first = [client.futures.health() for _ in range(2)]
        conn.wait_for(lambda: len(requests(conn)) == 2)
        # Both slots are taken until the release: a third call waits for one and, at its
        # deadline, fails without having been sent.
        third = client.futures.health(timeout=0.2)
        error = third.exception(30)
        assert (error.code, error.reason, third.call_id) == (StatusCode.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", 0)
        # More calls wait for a slot on another thread.
        later = pool.submit(lambda: [client.futures.health(timeout=30) for _ in range(4)])
        # A barrier: frames leave in order and the server reads them in order, so once the PONG
        # is back the server has every frame sent before the PING, and still only two REQUESTs.
        client.ping(timeout=30)
        assert [f.type for f in conn.frames] == [FrameType.REQUEST, FrameType.REQUEST, FrameType.PING]
        with lock:
            released = True
            answers, held[:] = held[:], []
        for call_id in answers:
            answer(conn, call_id)
        futures = first + later.result(30)
        assert [f.result(30).status for f in futures] == [pb.SERVING_STATUS_SERVING] * 6
        assert len(requests(conn)) == 6
        assert max(peak) == 2


def test_ping_waits_for_the_pong_that_echoes_its_opaque_value(server):
    s = server(lambda conn, frame: None, pong=False)
    with concurrent.futures.ThreadPoolExecutor(1) as pool, connect(s) as client:  # closes the client first: waiting calls end
        conn = s.connections[0]
        pinging = pool.submit(client.ping, 30)
        ping = conn.wait_for(first_of_type(conn, FrameType.PING))
        assert ping.call_id == 0
        opaque = wire.Ping.FromString(ping.header).opaque
        # A PONG with another opaque value does not answer it. The server's PING that follows is
        # a barrier: the client handles frames in order, so once its PONG is back it has handled
        # the wrong one too.
        conn.send(FrameType.PONG, 0, wire.Ping(opaque=opaque + 1))
        conn.send(FrameType.PING, 0, wire.Ping(opaque=0xFEEDFACE))
        pong = conn.wait_for(first_of_type(conn, FrameType.PONG))
        assert (pong.call_id, wire.Ping.FromString(pong.header).opaque) == (0, 0xFEEDFACE)
        assert not pinging.done(), "ping() returned before its PONG"
        conn.send(FrameType.PONG, 0, wire.Ping(opaque=opaque))
        assert isinstance(pinging.result(30), float)
        # A second PING carries a new opaque value.
        second = pool.submit(client.ping, 30)
        conn.wait_for(lambda: len([f for f in conn.frames if f.type == FrameType.PING]) == 2)
        again = [f for f in conn.frames if f.type == FrameType.PING][1]
        assert wire.Ping.FromString(again.header).opaque != opaque
        conn.send(FrameType.PONG, 0, wire.Ping.FromString(again.header))
        second.result(30)


def test_wait_closed_waits_for_the_end_of_the_connection(server):
    s = server(lambda conn, frame: None)
    with connect(s) as client:
        conn = s.connections[0]
        assert not client.wait_closed(0)
        # Callbacks of futures completed by an answer run on the reader thread: there it refuses.
        future = client.futures.health()
        called = threading.Event()
        refused = []

        def on_done(f):
            try:
                client.wait_closed(0)
            except RuntimeError as error:
                refused.append(error)
            called.set()

        future.add_done_callback(on_done)
        request = conn.wait_for(first_of_type(conn, FrameType.REQUEST))
        conn.respond(request.call_id, pb.HealthResponse(status=pb.SERVING_STATUS_SERVING))
        assert called.wait(30) and len(refused) == 1
        conn.close()  # the server ends the connection
        assert client.wait_closed(30)
        assert client.closed


def test_a_goaway_instead_of_hello_refuses_the_connection(server):
    def never(conn, frame):
        raise AssertionError("no frame expected")

    s = server(never, hello=False)

    def refuse():
        s.wait_for(lambda: s.connections and s.connections[0].client_hello)
        s.connections[0].goaway(0, code=8, message="too many connections")

    threading.Thread(target=refuse, daemon=True).start()
    with pytest.raises(RpcError) as caught:
        connect(s)
    assert caught.value.code is StatusCode.RESOURCE_EXHAUSTED


def test_a_closed_client_refuses_calls(server):
    client = connect(server())
    client.close()
    client.close()
    assert client.wait_closed(0)
    with pytest.raises(RpcError) as caught:
        client.health()
    assert (caught.value.code, caught.value.reason) == (StatusCode.CANCELLED, "CLIENT_CLOSED")
