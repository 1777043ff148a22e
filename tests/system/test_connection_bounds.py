"""A real ``bcrao serve`` bounds what a connection may hold: silent or trickling headers,
stalled bodies and idle keep-alives are closed within their timeouts."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import pytest

from tests.system.processes import api_process

SILENT = 1000


@pytest.fixture
def server(make_settings, db):
    settings = make_settings(
        http_header_timeout_seconds=1.0, http_body_timeout_seconds=1.0, http_keepalive_timeout_seconds=1
    )
    with api_process(settings) as url:
        parts = urlsplit(url)
        yield parts.hostname, parts.port


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sent before closing; fails if it keeps the connection open."""
    data = b""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the server kept the connection open"
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


async def test_silent_connections_are_closed_after_the_header_timeout(server):
    host, port = server
    connections = []
    for _ in range(SILENT):
        connections.append(await asyncio.open_connection(host, port))
    started = time.monotonic()
    results = await asyncio.gather(*(closed_within(r, 10) for r, _ in connections))
    assert time.monotonic() - started < 6  # 1 s timeout, 1,000 sockets, a busy machine
    assert results == [b""] * SILENT  # closed without a word: nothing was asked
    for _, writer in connections:
        writer.close()
    # The server still answers afterwards.
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await closed_within(reader, 5)).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_trickled_headers_are_cut_off(server):
    host, port = server
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    with pytest.raises((AssertionError, ConnectionError, BrokenPipeError)):
        for byte in b"GET /healthz HTTP/1.1\r\nHost: example\r\nX-Slow: " + b"a" * 100:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)
            if reader.at_eof():
                raise AssertionError("closed")
    await closed_within(reader, 3)
    assert time.monotonic() - started < 4
    writer.close()


async def test_a_stalled_body_gets_408_and_the_connection_ends(server):
    host, port = server
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n" + b'{"email": "a'
    )
    await writer.drain()
    answer = await closed_within(reader, 5)
    assert answer.startswith(b"HTTP/1.1 408") and b"REQUEST_TIMEOUT" in answer
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(server):
    host, port = server
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await closed_within(reader, 5)  # answered, then closed after 1 s of idleness
    assert answer.startswith(b"HTTP/1.1 200")
    writer.close()


async def test_connections_beyond_the_process_cap_get_503_and_the_server_recovers(make_settings, db):
    """``http_max_connections`` caps what one process holds: requests on connections beyond
    it are refused with 503 at once (not queued, not hung); once connections close, the
    server answers again."""
    settings = make_settings(http_max_connections=10, http_keepalive_timeout_seconds=30)
    with api_process(settings) as url:
        parts = urlsplit(url)
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"  # keep-alive: the connection stays open
        held, statuses = [], []
        for _ in range(15):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            writer.write(request)
            status = await asyncio.wait_for(reader.readline(), 5)
            statuses.append(int(status.split()[1]))
            held.append(writer)
        assert statuses[:5] == [200] * 5
        assert 1 <= statuses.count(200) <= 10 and statuses[-5:] == [503] * 5, statuses
        for writer in held:
            writer.close()
        await asyncio.sleep(0.5)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await closed_within(reader, 5)).startswith(b"HTTP/1.1 200")
        writer.close()
