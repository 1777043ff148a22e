"""The progress benches' SSE client: many browser-like EventSources in one process.

A raw ``asyncio.Protocol`` per connection (HTTP/1.1 GET, chunked body, SSE framing), not
httpx + httpx-sse, because what is measured is *when the bytes reach the client*, with up
to 1,000 streams in one process on the same 2 cores as the API. ``data_received`` is
called straight from the event loop's socket callback, so the stamp is taken there and
nothing else runs per read; parsing waits until the phase is over. With httpx-sse each
read of each stream goes through httpcore, h11 and an async generator in the stream's own
task before the client sees it: the stamps of the last of 1,000 sockets made readable by
one event wait behind all that work for the others, so the figure would measure the client
(the comparison at small size is in ``bench/README.md``). The servers themselves are the
tests' (``bench/_sse_stack.py``); other HTTP calls of the benches use httpx.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

TERMINAL = frozenset({"complete", "partial", "failed", "cancelled"})
CONNECT_BATCH = 100
END_OF_BODY = b"\r\n0\r\n\r\n"  # the last chunk of a chunked body


class SSEClient(asyncio.Protocol):
    """One browser-like EventSource: HTTP/1.1 GET, chunked body, SSE framing.

    Latency is stamped when bytes arrive, against ``pub_t``. The bytes are kept with
    their arrival time and decoded after the phase (``decode``): parsing them live delayed
    the stamps of the sockets read after it when many become readable at once (figures in
    ``bench/README.md``, "Progress stream"). Only the end of the body is watched for live.
    """

    def __init__(self, request: bytes, loop: asyncio.AbstractEventLoop) -> None:
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.head = bytearray()
        self.in_body = False
        self.status = 0
        self.chunked = False
        self.raw = bytearray()  # undecoded body bytes (chunk framing)
        self.text = bytearray()  # decoded SSE text, not yet a complete event
        self.arrivals: list[tuple[float, bytes]] = []  # (time.time(), body bytes), not decoded yet
        self.tail = b""  # the last bytes received, to find END_OF_BODY split across reads
        self.ids: list[int] = []
        self.seqs: list[int] = []
        self.latencies: list[float] = []
        self.error: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the stream started ({exc})"))
        if not self.done.done():
            self.error = self.error or f"connection closed early ({exc})"
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, rest = bytes(self.head[:end]), bytes(self.head[end + 4 :])
            lines = head.split(b"\r\n")
            self.status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
            self.chunked = headers.get(b"transfer-encoding", b"").lower() == b"chunked"
            self.in_body = True
            if self.status != 200:
                self._fail(f"HTTP {self.status}")
                return
            data = rest
        if self.chunked:
            self.arrivals.append((now, data))
            self._watch_for_end(data)
        else:
            self.text += data
            self._parse(now)
        if not self.ready.done() and self.in_body:
            self.ready.set_result(None)

    def _watch_for_end(self, data: bytes) -> None:
        """The server ends the body right after the terminal event: then the client is done."""
        window = self.tail + data
        if window.endswith(END_OF_BODY):
            if not self.done.done():
                self.done.set_result(None)
            if self.transport is not None:
                self.transport.close()
        self.tail = window[-len(END_OF_BODY) :]

    def decode(self) -> None:
        """Parse what arrived, each event stamped with the arrival time of the read that
        completed it (what live parsing did, without delaying other sockets' reads)."""
        arrivals, self.arrivals = self.arrivals, []
        for now, data in arrivals:
            self.raw += data
            self._dechunk()
            self._parse(now)

    def _dechunk(self) -> None:
        raw = self.raw
        pos = 0
        while True:
            line_end = raw.find(b"\r\n", pos)
            if line_end < 0:
                break
            size = int(bytes(raw[pos:line_end]).split(b";")[0], 16)
            if size == 0:
                pos = len(raw)
                break
            start = line_end + 2
            if len(raw) < start + size + 2:
                break
            self.text += raw[start : start + size]
            pos = start + size + 2
        del raw[:pos]

    def _parse(self, now: float) -> None:
        text = self.text
        while True:
            end = text.find(b"\r\n\r\n")
            sep = 4
            alt = text.find(b"\n\n")
            if alt >= 0 and (end < 0 or alt < end):
                end, sep = alt, 2
            if end < 0:
                return
            block = bytes(text[:end])
            del text[: end + sep]
            event = event_id = payload = None
            for line in block.replace(b"\r\n", b"\n").split(b"\n"):
                if line.startswith(b"data:"):
                    payload = line[5:].strip()
                elif line.startswith(b"event:"):
                    event = line[6:].strip().decode()
                elif line.startswith(b"id:"):
                    event_id = int(line[3:].strip())
            if payload is None or event is None:
                continue  # comments, retry hints, keepalives
            seq, pub_t = self._fields(payload)
            self.ids.append(event_id if event_id is not None else -1)
            self.seqs.append(seq)
            self.latencies.append(now - pub_t)
            if event in TERMINAL:
                if not self.done.done():  # not chunked: found live
                    self.done.set_result(None)
                if self.transport is not None:
                    self.transport.close()
                return

    def _fields(self, payload: bytes) -> tuple[int, float]:
        """``seq`` and ``pub_t``. The first event is fully decoded (one-line JSON with a
        ``ts``); later ones are read from their tail, which keeps 100k deliveries cheap."""
        i = payload.rfind(b'"seq":')
        if self.seqs and i >= 0 and payload.endswith(b"}"):
            seq, _, pub_t = payload[i + 6 : -1].partition(b',"pub_t":')
            return int(seq), float(pub_t)
        data = json.loads(payload)
        if "ts" not in data:
            self.error = "an event without ts"
        return int(data.get("seq", -1)), float(data["pub_t"])

    def _fail(self, message: str) -> None:
        self.error = message
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(message))
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def sse_request(port: int, run_id: str, token: str) -> bytes:
    return (
        f"GET /v1/collection/{run_id}/progress HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        "\r\n"
    ).encode()


async def connect_clients(port: int, run_id: str, token: str, n: int, timeout: float) -> list[SSEClient]:
    loop = asyncio.get_running_loop()
    request = sse_request(port, run_id, token)
    clients: list[SSEClient] = []

    async def one() -> SSEClient:
        _transport, proto = await loop.create_connection(lambda: SSEClient(request, loop), "127.0.0.1", port)
        clients.append(proto)
        await proto.ready
        return proto

    try:
        for start in range(0, n, CONNECT_BATCH):
            batch = [one() for _ in range(min(CONNECT_BATCH, n - start))]
            await asyncio.wait_for(asyncio.gather(*batch), timeout)
    except BaseException:
        for c in clients:
            c.close()
        raise
    return clients


def check_clients(clients: list[SSEClient], events: int) -> dict[str, Any]:
    """Every client: ids 1..events+1 dense, seqs 0..events, nothing missing or repeated."""
    for c in clients:
        c.decode()
    expected_ids = list(range(1, events + 2))
    expected_seqs = list(range(events + 1))
    complete = sum(
        1 for c in clients if c.error is None and c.ids == expected_ids and c.seqs == expected_seqs
    )
    bad = [c for c in clients if not (c.error is None and c.ids == expected_ids and c.seqs == expected_seqs)]
    sample = None
    if bad:
        c = bad[0]
        sample = {"error": c.error, "received": len(c.ids), "first_ids": c.ids[:5], "last_ids": c.ids[-5:]}
    return {
        "clients": len(clients),
        "complete": complete,
        "deliveries": sum(len(c.ids) for c in clients),
        "expected_deliveries": len(clients) * (events + 1),
        "first_bad": sample,
    }
