"""Serve a run's progress as Server-Sent Events, with an ASGI response of our own.

The stream holds no database session: the route authorizes and reads the run first,
then only the progress bus is involved while events flow.

Why not sse-starlette (used before): with 1,000 clients of one run on one process every
event is 1,000 sends, and its per-send cost was the bottleneck (``bench/progress.md``).
It runs each send in an anyio ``move_on_after`` cancel scope (a timer and a scope per
send) under a task group of four tasks per stream, fed by an async generator per stream.
Here the cost per client per wake-up is one future resolved by the bus, one cursor
look-up, one ``send``:

- the client's own request task writes; it sleeps on a future that the run's log
  resolves on append (``bcrao.progress.bus.Feed``), then sends everything pending in one
  chunk, whose bytes are shared by every client at the same position;
- one housekeeper task per event loop, not per stream, ticks every ``TICK`` seconds and
  sends keepalives, recycles connections older than ``max_seconds``, ends streams when
  the server shuts down, and is the send timeout: a send still pending after
  ``send_timeout`` seconds means the client stopped reading (the transport's write
  buffer is full), so that stream is aborted instead of pinning memory;
- one idle task per stream waits for ``http.disconnect`` so a client that leaves is
  forgotten at once (the server drops sends to a closed connection silently).
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from bcrao.progress.bus import Batch, Feed, ProgressBus, ProgressEvent

STREAM_HEADERS = {  # what sse-starlette sent: no caching, no proxy buffering
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
    "Connection": "keep-alive",
}
DEFAULT_SEND_TIMEOUT = 30.0
TICK = 0.25  # the housekeeper's resolution: keepalives, recycling, timeouts, shutdown


# All SSE framing is here (the bus only moves events), cached by the objects the bus shares
# between readers: an event encoded once per process, a batch joined once per cursor position.
KEEPALIVE = b": keepalive\r\n\r\n"  # a comment line: clients ignore it
_frames: WeakKeyDictionary[ProgressEvent, bytes] = WeakKeyDictionary()
_joined: WeakKeyDictionary[Batch, bytes] = WeakKeyDictionary()


def opening(retry_ms: int) -> bytes:
    return f": stream\r\nretry: {retry_ms}\r\n\r\n".encode()


def frame(event: ProgressEvent) -> bytes:
    """An event's SSE frame: its id (what ``Last-Event-ID`` resumes from), name and JSON data."""
    wire = _frames.get(event)
    if wire is None:
        data = json.dumps(event.data, separators=(",", ":"), default=str)
        wire = _frames[event] = f"id: {event.id}\r\nevent: {event.event}\r\ndata: {data}\r\n\r\n".encode()
    return wire


def batch_frames(batch: Batch) -> bytes:
    wire = _joined.get(batch)
    if wire is None:
        wire = _joined[batch] = b"".join(map(frame, batch.events))
    return wire


def parse_resume_id(header: str | None, query: int | None) -> int:
    """``Last-Event-ID`` (what EventSource sends on reconnect) wins over ``?last_event_id=``."""
    if header is not None:
        try:
            return max(0, int(header.strip()))
        except ValueError:
            return 0
    return max(0, query or 0)


class StreamObserver(Protocol):
    """What the SSE layer reports (``bcrao.metrics.Metrics`` implements it)."""

    def stream_opened(self) -> float: ...  # returns the open time (epoch seconds)

    def stream_closed(self) -> None: ...

    def events_sent(self, events: Sequence[ProgressEvent], *, opened_at: float) -> None: ...


class SlowClient(Exception):
    """A client stopped reading: raised out of the response so the server drops the connection."""


def _body(chunk: bytes, *, more: bool = True) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


class ProgressStream(Response):
    """``text/event-stream`` of one run: history then live events, or the replay of a run
    that already ended (``finished`` is its terminal event data from the database: when
    the bus has forgotten the run, the terminal event is rebuilt from it)."""

    media_type = "text/event-stream"

    def __init__(
        self,
        bus: ProgressBus,
        run_id: str,
        *,
        after: int,
        finished: dict[str, Any] | None,
        retry_ms: int,
        keepalive: float,
        final_event_id: int = 0,
        max_seconds: float = 0.0,
        send_timeout: float = DEFAULT_SEND_TIMEOUT,
        observer: StreamObserver | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers(STREAM_HEADERS)
        self.bus = bus
        self.run_id = run_id
        self.after = after
        self.finished = finished
        self.retry_ms = retry_ms
        self.keepalive = keepalive
        self.final_event_id = final_event_id
        self.max_seconds = max_seconds
        self.send_timeout = send_timeout
        self.observer = observer
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._respond(scope, receive, send)
        finally:
            if self.on_close is not None:
                self.on_close()

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") == "HEAD":  # headers only: a HEAD must not open a stream
            await send(_body(b"", more=False))
            return
        observer = self.observer
        opened_at = observer.stream_opened() if observer is not None else 0.0
        try:
            if self.finished is None:
                await self._live(receive, send, opened_at)
            else:
                await send(_body(opening(self.retry_ms) + await self._replay(opened_at)))
        finally:
            if observer is not None:
                observer.stream_closed()
        await send(_body(b"", more=False))

    def frames(self, batch: Batch, opened_at: float) -> bytes:
        """The batch's bytes, reported to the observer as sent."""
        if self.observer is not None:
            self.observer.events_sent(batch.events, opened_at=opened_at)
        return batch_frames(batch)

    async def _replay(self, opened_at: float) -> bytes:
        """A finished run: whatever history is left, then its terminal event."""
        assert self.finished is not None
        history = await self.bus.history(self.run_id, self.after)
        end = next((i for i, e in enumerate(history) if e.terminal), None)
        if end is None:
            last = history[-1].id if history else self.after
            status = str(self.finished["status"])
            history.append(ProgressEvent(max(self.final_event_id, last + 1), status, self.finished))
            end = len(history) - 1
        return self.frames(Batch(history[: end + 1]), opened_at)

    async def _live(self, receive: Receive, send: Send, opened_at: float) -> None:
        feed = await self.bus.open_feed(self.run_id, self.after)
        client = _Client(self, feed)
        # The writer gets a task of its own: waking the request's task would resume the
        # whole middleware chain's await stack (a dozen frames) for every event.
        writer = client.task = asyncio.create_task(client.pump(send, opening(self.retry_ms), opened_at))
        listener = asyncio.create_task(_await_disconnect(receive, client))
        housekeeper = _Housekeeper.of_this_loop()
        housekeeper.add(client)
        try:
            await writer
        finally:
            housekeeper.discard(client)
            listener.cancel()
            writer.cancel()
            await feed.aclose()


class _Client:
    """One live stream: its cursor, its wake-up future, and what the housekeeper checks."""

    __slots__ = (
        "closing",
        "deadline",
        "feed",
        "keepalive",
        "next_ping",
        "ping_due",
        "send_timeout",
        "sending_since",
        "stream",
        "task",
        "timed_out",
        "wake",
    )

    def __init__(self, stream: ProgressStream, feed: Feed) -> None:
        now = time.monotonic()
        self.stream = stream
        self.feed = feed
        self.task: asyncio.Task[None] | None = None
        self.wake: asyncio.Future[None] | None = None
        self.keepalive = stream.keepalive
        self.next_ping = now + stream.keepalive
        # Long-lived connections are recycled (load balancers, deploys): the client resumes.
        self.deadline = now + stream.max_seconds if stream.max_seconds else None
        self.send_timeout = stream.send_timeout
        self.sending_since = 0.0
        self.ping_due = self.closing = self.timed_out = False

    def wake_up(self) -> None:
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def pump(self, send: Send, first: bytes, opened_at: float) -> None:
        """Send what is pending, sleep until the bus (or the housekeeper) wakes us, repeat."""
        feed, stream = self.feed, self.stream
        chunk = first
        try:
            while True:
                if feed.behind:
                    await feed.catch_up()
                batch = feed.take()
                if batch is not None:
                    chunk += stream.frames(batch, opened_at)
                if self.ping_due:
                    self.ping_due = False
                    chunk += KEEPALIVE
                if chunk:
                    self.sending_since = time.monotonic()
                    await send(_body(chunk))
                    self.sending_since = 0.0
                    chunk = b""
                    if batch is not None and batch.terminal:
                        return
                if self.closing or feed.ended:
                    return
                self.wake = feed.waiter()
                await self.wake
        except asyncio.CancelledError:
            if self.timed_out:  # the housekeeper cancelled a send that waited too long
                raise SlowClient(f"no read for {self.send_timeout:g} s") from None
            raise

    def check(self, now: float, stopping: bool) -> None:
        """The housekeeper's look at this stream (cheap: it runs for every stream each tick)."""
        if self.sending_since and now - self.sending_since > self.send_timeout:
            if not self.timed_out and self.task is not None:
                self.timed_out = True
                self.task.cancel()
            return
        if stopping or (self.deadline is not None and now >= self.deadline):
            self.closing = True
            self.wake_up()
        elif now >= self.next_ping:
            self.next_ping = now + self.keepalive
            self.ping_due = True
            self.wake_up()


async def _await_disconnect(receive: Receive, client: _Client) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    client.closing = True
    client.wake_up()


class _Housekeeper:
    """One task per event loop for the timers of every stream on it; exits when idle."""

    _by_loop: dict[asyncio.AbstractEventLoop, _Housekeeper] = {}

    def __init__(self) -> None:
        self.clients: set[_Client] = set()
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def of_this_loop(cls) -> _Housekeeper:
        loop = asyncio.get_running_loop()
        keeper = cls._by_loop.get(loop)
        if keeper is None:
            for old in [old for old in cls._by_loop if old.is_closed()]:
                del cls._by_loop[old]
            keeper = cls._by_loop[loop] = cls()
        return keeper

    def add(self, client: _Client) -> None:
        self.clients.add(client)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="sse-housekeeper")

    def discard(self, client: _Client) -> None:
        self.clients.discard(client)

    async def _run(self) -> None:
        while self.clients:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            stopping = _server_stopping()
            for client in list(self.clients):
                client.check(now, stopping)


def _server_stopping() -> bool:
    """Whether uvicorn is shutting down: it waits for open connections to finish, so
    streams must end by themselves. The server is found through its SIGTERM handler (a
    bound method of ``uvicorn.Server``), as no ASGI message announces a shutdown."""
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))


class StreamSlots:
    """Open streams per user in this process: one account must not be able to hold
    thousands of connections (and their memory) on a run. Each process counts its own;
    a deployment's total per user is this times the API processes."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: dict[Any, int] = {}

    def acquire(self, user_id: Any) -> bool:
        count = self._open.get(user_id, 0)
        if count >= self.per_user:
            return False
        self._open[user_id] = count + 1
        return True

    def release(self, user_id: Any) -> None:
        count = self._open.get(user_id, 0) - 1
        if count > 0:
            self._open[user_id] = count
        else:
            self._open.pop(user_id, None)
