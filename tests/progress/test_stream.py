"""The SSE response's own timers and exits, on a real uvicorn socket with short settings.

``ProgressStream`` does what sse-starlette did for us before: keepalives, dropping a
client that stopped reading, noticing a client that left, recycling long connections
and ending streams when the server shuts down. These tests serve it from a bare
Starlette app so the timeouts can be fractions of a second.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from bcrao.progress.bus import MemoryBus, ProgressEvent
from bcrao.progress.sse import ProgressStream
from tests.conftest import serve_in_loop

RUN = "run-1"


class Recorder:
    """A StreamObserver that remembers what it was told."""

    def __init__(self) -> None:
        self.opened = self.closed = 0
        self.sent: list[int] = []

    def stream_opened(self) -> float:
        self.opened += 1
        return time.time()

    def stream_closed(self) -> None:
        self.closed += 1

    def events_sent(self, events: list[ProgressEvent], *, opened_at: float) -> None:
        self.sent.extend(e.id for e in events)


@asynccontextmanager
async def serving(make_stream: Callable[[], ProgressStream]) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    async def endpoint(_request: Request) -> ProgressStream:
        return make_stream()

    app = Starlette(routes=[Route("/stream", endpoint)])
    async with serve_in_loop(app, log_level="critical") as served:
        yield served


def stream_of(bus: MemoryBus, recorder: Recorder, **options) -> Callable[[], ProgressStream]:
    settings = {"after": 0, "finished": None, "retry_ms": 2000, "keepalive": 60.0, **options}
    return lambda: ProgressStream(bus, RUN, observer=recorder, **settings)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def read_all(url: str) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        return (await client.get(f"{url}/stream")).text


async def test_a_client_that_stops_reading_is_dropped_while_others_get_every_event():
    bus, recorder = MemoryBus(), Recorder()
    async with serving(stream_of(bus, recorder, send_timeout=0.5)) as (url, _server):
        loop = asyncio.get_running_loop()
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        await loop.sock_connect(stalled, (url.split(":")[1][2:], int(url.rsplit(":", 1)[1])))
        await loop.sock_sendall(stalled, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")  # then never reads
        healthy = asyncio.create_task(read_all(url))
        await until(lambda: recorder.opened == 2)
        pad = "x" * 32_768
        for i in range(400):  # ~13 MB: more than the socket buffers and the transport's high-water mark
            await bus.publish(RUN, "progress", {"n": i, "pad": pad})
            await asyncio.sleep(0)
        await bus.publish(RUN, "complete", {"n": 400})
        body = await asyncio.wait_for(healthy, 30)
        assert body.count("event: progress") == 400 and "event: complete" in body
        # The stalled stream was aborted (send timeout) and released its place on the bus,
        # without ever reaching the terminal event (which only the healthy stream sent).
        await until(lambda: recorder.closed == 2)
        assert bus._runs[RUN].subscribers == 0
        assert recorder.sent.count(401) == 1
        stalled.close()


async def test_keepalive_comments_are_sent_on_a_quiet_stream():
    bus, recorder = MemoryBus(), Recorder()
    async with serving(stream_of(bus, recorder, keepalive=0.3)) as (url, _server):
        received = bytearray()

        async def read() -> None:
            async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", f"{url}/stream") as resp:
                assert resp.headers["content-type"] == "text/event-stream; charset=utf-8"
                assert resp.headers["cache-control"] == "no-store"
                assert resp.headers["x-accel-buffering"] == "no"
                async for chunk in resp.aiter_bytes():
                    received.extend(chunk)

        reader = asyncio.create_task(read())
        await until(lambda: received.count(b": keepalive\r\n\r\n") >= 2)
        await bus.publish(RUN, "complete", {})
        await asyncio.wait_for(reader, 5)
    assert received.startswith(b": stream\r\nretry: 2000\r\n\r\n")
    assert received.endswith(b"id: 1\r\nevent: complete\r\ndata: {}\r\n\r\n")


async def test_a_client_that_leaves_is_forgotten_at_once():
    bus, recorder = MemoryBus(), Recorder()
    async with serving(stream_of(bus, recorder)) as (url, _server):
        async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", f"{url}/stream") as resp:
            async for chunk in resp.aiter_bytes():
                assert chunk.startswith(b": stream")
                break
        await until(lambda: recorder.closed == 1, timeout=2)
        assert bus._runs[RUN].subscribers == 0


async def test_idle_connections_are_recycled_after_max_seconds():
    bus, recorder = MemoryBus(), Recorder()
    async with serving(stream_of(bus, recorder, max_seconds=0.4)) as (url, _server):
        started = time.monotonic()
        body = await asyncio.wait_for(read_all(url), 5)
        assert 0.4 <= time.monotonic() - started < 2.0
    assert body == ": stream\r\nretry: 2000\r\n\r\n"


async def test_open_streams_end_when_the_server_shuts_down():
    bus, recorder = MemoryBus(), Recorder()
    async with serving(stream_of(bus, recorder)) as (url, server):
        reader = asyncio.create_task(read_all(url))
        await until(lambda: recorder.opened == 1)
        server.should_exit = True
        assert await asyncio.wait_for(reader, 5) == ": stream\r\nretry: 2000\r\n\r\n"
    assert recorder.closed == 1


@pytest.mark.parametrize("backlog", [0, 3])
async def test_a_finished_run_is_replayed_in_one_response_and_observed(backlog):
    bus, recorder = MemoryBus(), Recorder()
    for i in range(backlog):
        await bus.publish(RUN, "progress", {"n": i})
    finished = {"task_id": str(uuid.uuid4()), "status": "complete"}
    make = stream_of(bus, recorder, finished=finished, final_event_id=backlog + 1)
    async with serving(make) as (url, _server):
        body = await asyncio.wait_for(read_all(url), 5)
    assert body.count("event: progress") == backlog
    assert f"id: {backlog + 1}\r\nevent: complete\r\n" in body
    assert recorder.sent == list(range(1, backlog + 2)) and recorder.closed == 1
