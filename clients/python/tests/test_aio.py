"""The asyncio client against a scripted server (fake_server.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from fake_server import FakeServer, metadata_of, request_of, serving
from appointments_client import FrameType, RpcError, StatusCode, pb, wire
from appointments_client.aio import AsyncClient


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


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_calls_login_and_token(server):
    s = server()

    async def main():
        async with await AsyncClient.connect("127.0.0.1", s.port) as client:
            assert (await client.health()).status == pb.SERVING_STATUS_SERVING
            await client.login("doctor", "dr@example.org", "secret-password")
            assert client.token == "token-for-dr@example.org"
            await client.list_filled_slots((2026, 12, 1), (2026, 12, 31))

    run(main())
    sent = [request_of(f) for f in s.connections[0].frames if f.type == FrameType.REQUEST]
    assert [name for name, _, _ in sent] == ["Health", "Login", "ListFilledSlots"]
    assert metadata_of(sent[2][1])["authorization"] == b"Bearer token-for-dr@example.org"
    assert getattr(sent[2][2], "from") == pb.Date(year=2026, month=12, day=1)


def test_fifty_pipelined_calls_answered_in_reverse_order(server):
    held = []

    def handler(conn, frame):
        held.append(frame)
        if len(held) == 50:
            for f in reversed(held):
                conn.respond(f.call_id, pb.BookingResponse(appointment=pb.Appointment(id=request_of(f)[2].doctor_id)))

    s = server(handler)

    async def main():
        async with await AsyncClient.connect("127.0.0.1", s.port) as client:
            replies = await asyncio.gather(*(client.book_slot(500 + i, (2026, 12, 1)) for i in range(50)))
            return [r.appointment.id for r in replies]

    assert run(main()) == [500 + i for i in range(50)]


def test_deadline_and_refusal(server):
    def handler(conn, frame):
        if frame.type == FrameType.CANCEL:
            conn.respond(frame.call_id, code=1)
        elif request_of(frame)[0] == "BookAny":
            conn.respond(frame.call_id, code=5, reason="NO_DOCTOR_AVAILABLE", message="none")

    s = server(handler)

    async def main():
        async with await AsyncClient.connect("127.0.0.1", s.port) as client:
            start = time.monotonic()
            with pytest.raises(RpcError) as caught:
                await client.book_slot(1, (2026, 12, 1), timeout=0.2)
            assert caught.value.code is StatusCode.DEADLINE_EXCEEDED
            assert time.monotonic() - start >= 0.199  # it waited out the deadline (less float rounding)
            with pytest.raises(RpcError) as caught:
                await client.book_any("cardiology", (2026, 12, 1))
            assert (caught.value.code, caught.value.reason) == (StatusCode.NOT_FOUND, "NO_DOCTOR_AVAILABLE")

    run(main())
    assert [f.type for f in s.connections[0].frames][:2] == [FrameType.REQUEST, FrameType.CANCEL]


def test_goaway_and_connection_loss(server):
    got = []

    def handler(conn, frame):
        got.append(frame)
        if len(got) == 3:
            conn.goaway(last_call_id=got[0].call_id, message="bye")
            conn.respond(got[0].call_id, pb.HealthResponse(status=pb.SERVING_STATUS_DRAINING))
            conn.close()

    s = server(handler)

    async def main():
        async with await AsyncClient.connect("127.0.0.1", s.port) as client:
            results = await asyncio.gather(*(client.health() for _ in range(3)), return_exceptions=True)
            assert results[0].status == pb.SERVING_STATUS_DRAINING
            for error in results[1:]:
                assert (error.code, error.reason) == (StatusCode.UNAVAILABLE, "GOAWAY")
            with pytest.raises(RpcError):
                await client.health()

    run(main())


def test_ping_waits_for_the_pong_that_echoes_its_opaque_value(server):
    s = server(lambda conn, frame: None, pong=False)

    def first_of_type(conn, frame_type):
        return lambda: next((f for f in conn.frames if f.type == frame_type), None)

    async def main():
        loop = asyncio.get_running_loop()

        def wait_for(predicate):  # blocks: run it off the loop, which keeps serving the client
            return loop.run_in_executor(None, s.connections[0].wait_for, predicate)

        async with await AsyncClient.connect("127.0.0.1", s.port) as client:
            conn = s.connections[0]
            pinging = asyncio.ensure_future(client.ping(timeout=30))
            ping = await wait_for(first_of_type(conn, FrameType.PING))
            opaque = wire.Ping.FromString(ping.header).opaque
            # A PONG with another opaque value does not answer it; the server's PING after it is
            # a barrier (frames are handled in order): once its PONG is back, the wrong one was seen.
            conn.send(FrameType.PONG, 0, wire.Ping(opaque=opaque + 1))
            conn.send(FrameType.PING, 0, wire.Ping(opaque=0xFEEDFACE))
            pong = await wait_for(first_of_type(conn, FrameType.PONG))
            assert (pong.call_id, wire.Ping.FromString(pong.header).opaque) == (0, 0xFEEDFACE)
            assert not pinging.done(), "ping() returned before its PONG"
            conn.send(FrameType.PONG, 0, wire.Ping(opaque=opaque))
            assert isinstance(await asyncio.wait_for(pinging, 30), float)

    run(main())
