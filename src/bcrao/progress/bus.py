"""Progress bus: an ordered, bounded log of each run's events with live fan-out.

Two backends behind one interface:
- ``MemoryBus`` for the embedded, single-process service (local executor);
- ``RedisBus`` (Redis Streams) when runs execute in Celery workers on other machines.

Every event gets a positive integer id, strictly increasing within its run; SSE uses it
as the event id, so ``Last-Event-ID`` resumes exactly where a client stopped. One API
process reads a run's stream once (a ``_Watcher``) and fans events out to all of its
local subscribers, so Redis reads per event do not grow with the number of watchers.

Fan-out is built for a thousand readers of one run in one process: readers share the
run's event list and hold only a cursor (a ``Feed``), an append wakes each waiting reader
with one ``set_result``, and a batch's SSE frames are joined once per cursor position, not
once per reader. No per-reader queue, task or copy of an event exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("bcrao.progress")

TERMINAL_EVENTS = frozenset({"complete", "partial", "failed", "cancelled"})


@dataclass(frozen=True)
class ProgressEvent:
    id: int
    event: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.event in TERMINAL_EVENTS

    @cached_property
    def wire(self) -> bytes:
        """The SSE frame, encoded once per process however many clients receive it."""
        data = json.dumps(self.data, separators=(",", ":"), default=str)
        return f"id: {self.id}\r\nevent: {self.event}\r\ndata: {data}\r\n\r\n".encode()

    @cached_property
    def produced_at(self) -> float | None:
        """Epoch seconds of the event's ``ts`` (when it was produced), parsed once per process:
        latency metrics need it for every delivery."""
        return _epoch(self.data.get("ts"))


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True, slots=True)
class Batch:
    """Events pending for a cursor, up to and including a terminal event, with their frames."""

    events: list[ProgressEvent]
    wire: bytes

    @property
    def last_id(self) -> int:
        return self.events[-1].id

    @property
    def terminal(self) -> bool:
        return self.events[-1].terminal


class ProgressBus(Protocol):
    async def publish(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        """Append an event; return its id. A terminal event starts the history's expiry."""
        ...

    def subscribe(self, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
        """Events with id > ``after`` in batches: the history first, then live, until the
        terminal event."""
        ...

    async def open_feed(self, run_id: str, after: int) -> Feed:
        """A cursor over the run's events after ``after`` (history, then live); the caller
        must ``aclose()`` it. What ``subscribe`` is built on, without an async generator."""
        ...

    async def history(self, run_id: str, after: int = 0) -> list[ProgressEvent]:
        """What is stored now (no waiting): for runs that already ended."""
        ...

    async def aclose(self) -> None: ...


class _RunLog:
    """Events of one run held in memory, and the readers waiting for the next one.

    Appends are synchronous (no await), so within the event loop they are atomic: ids
    never collide and a reader cannot miss a wake-up between checking and waiting.
    """

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []
        self.finished_at: float | None = None
        self.subscribers = 0
        # One future per waiting reader (not one shared future): a reader that is
        # cancelled (its client left) cancels only its own, never the others' wake-up.
        self._waiters: list[asyncio.Future[None]] = []
        # Batches by the cursor they start after; every reader at the same position gets
        # the same joined bytes. Cleared on append (the batches would grow).
        self._batches: dict[int, Batch] = {}

    def after(self, event_id: int) -> list[ProgressEvent]:
        # Ids are dense and increasing, so a binary search is cheap even for long runs.
        lo, hi = 0, len(self.events)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.events[mid].id <= event_id:
                lo = mid + 1
            else:
                hi = mid
        return self.events[lo:]

    def batch_after(self, event_id: int) -> Batch | None:
        """Everything pending after ``event_id`` up to a terminal event, or None."""
        if not self.events or self.events[-1].id <= event_id:
            return None
        batch = self._batches.get(event_id)
        if batch is None:
            events = self.after(event_id)
            end = next((i for i, e in enumerate(events) if e.terminal), len(events) - 1)
            events = events[: end + 1]
            batch = self._batches[event_id] = Batch(events, b"".join(e.wire for e in events))
        return batch

    @property
    def done(self) -> bool:
        return bool(self.events) and self.events[-1].terminal

    def append(self, event: ProgressEvent, maxlen: int) -> None:
        if self.events and event.id <= self.events[-1].id:
            return  # already have it (a re-read after a reconnect)
        self.events.append(event)
        if len(self.events) > maxlen:
            # Keep the newest events; the terminal event is always the last one.
            del self.events[: len(self.events) - maxlen]
        if event.terminal:
            self.finished_at = time.monotonic()
        self._batches.clear()
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def append_next(self, event: str, data: dict[str, Any], maxlen: int) -> int:
        next_id = (self.events[-1].id if self.events else 0) + 1
        self.append(ProgressEvent(next_id, event, data), maxlen)
        return next_id

    def notify(self, waiter: asyncio.Future[None]) -> None:
        """Resolve ``waiter`` at the next append (others may resolve it first)."""
        if len(self._waiters) > 2 * self.subscribers + 16:
            # Readers that left between appends leave resolved or cancelled futures behind.
            self._waiters = [w for w in self._waiters if not w.done()]
        self._waiters.append(waiter)


class Feed:
    """One reader's cursor over a run's log: the SSE layer's view of the bus.

    ``take()`` returns what is pending (and moves the cursor); ``waiter()`` is a fresh
    future that the next append resolves. The reader owns that future, so it can resolve
    it too (to wake itself for other reasons) without touching the other readers.
    """

    def __init__(self, log: _RunLog, after: int, release: Callable[[], Awaitable[None]]) -> None:
        self._log = log
        self.last = after
        self._release: Callable[[], Awaitable[None]] | None = release

    def take(self) -> Batch | None:
        batch = self._log.batch_after(self.last)
        if batch is not None:
            self.last = batch.last_id
        return batch

    @property
    def ended(self) -> bool:
        """Nothing more will come: the run's terminal event is at or before the cursor."""
        log = self._log
        return log.done and log.events[-1].id <= self.last

    def waiter(self) -> asyncio.Future[None]:
        waiter = asyncio.get_running_loop().create_future()
        self._log.notify(waiter)
        return waiter

    async def aclose(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            await release()


class MemoryBus:
    def __init__(self, *, maxlen: int = 10_000, ttl_seconds: float = 24 * 3600) -> None:
        self.maxlen = maxlen
        self.ttl = ttl_seconds
        self._runs: dict[str, _RunLog] = {}

    def _log(self, run_id: str) -> _RunLog:
        self._expire()
        log_ = self._runs.get(run_id)
        if log_ is None:
            log_ = self._runs[run_id] = _RunLog()
        return log_

    def _expire(self) -> None:
        now = time.monotonic()
        for run_id, log_ in list(self._runs.items()):
            if log_.finished_at is not None and now - log_.finished_at > self.ttl and not log_.subscribers:
                del self._runs[run_id]

    async def publish(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        return self._log(run_id).append_next(event, data, self.maxlen)

    async def open_feed(self, run_id: str, after: int) -> Feed:
        log_ = self._log(run_id)
        log_.subscribers += 1

        async def release() -> None:
            log_.subscribers -= 1

        return Feed(log_, after, release)

    def subscribe(self, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
        return _subscribe(self, run_id, after)

    async def history(self, run_id: str, after: int = 0) -> list[ProgressEvent]:
        log_ = self._runs.get(run_id)
        return log_.after(after) if log_ else []

    async def aclose(self) -> None:
        self._runs.clear()


async def _subscribe(bus: ProgressBus, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
    """A feed as batches of events: history first, then live, until the terminal event."""
    feed = await bus.open_feed(run_id, after)
    try:
        while True:
            batch = feed.take()
            if batch is not None:
                yield batch.events
                if batch.terminal:
                    return
                continue
            if feed.ended:
                return
            await feed.waiter()
    finally:
        await feed.aclose()


# INCR the run's sequence (never below the caller's floor, so ids stay monotonic even if
# Redis lost its data in a restart) and append under that id, atomically.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[1])
if seq <= floor then
  seq = floor + 1
  redis.call('SET', KEYS[2], seq)
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'e', ARGV[3], 'd', ARGV[4])
local ttl = tonumber(ARGV[5])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return seq
"""

# While a run is live its keys still expire eventually, so an abandoned run cannot leak.
_LIVE_TTL_FLOOR = 7 * 24 * 3600


def _stream_key(run_id: str) -> str:
    return f"bcrao:progress:{run_id}"


def _seq_key(run_id: str) -> str:
    return f"bcrao:progress:{run_id}:seq"


def _parse_entry(entry_id: str, fields: dict[str, str]) -> ProgressEvent:
    return ProgressEvent(int(entry_id.split("-", 1)[1]), fields["e"], json.loads(fields["d"]))


class _Watcher:
    """The one reader of a run's stream in this process; fans out to local subscribers."""

    def __init__(self, bus: RedisBus, run_id: str) -> None:
        self.bus = bus
        self.run_id = run_id
        self.log = _RunLog()
        self.task: asyncio.Task[None] | None = None
        self.reads = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self._read(), name=f"progress-watcher-{self.run_id}")

    async def _read(self) -> None:
        last = "0-0"
        key = _stream_key(self.run_id)
        backoff = 0.2
        while not self.log.done:
            try:
                reply = await self.bus.reader.xread({key: last}, block=self.bus.block_ms, count=500)
                self.reads += 1
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("progress stream %s: %s; retrying", self.run_id, type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    self.log.append(_parse_entry(entry_id, fields), self.bus.maxlen)


class RedisBus:
    def __init__(
        self,
        redis: Redis,
        *,
        maxlen: int = 10_000,
        ttl_seconds: int = 24 * 3600,
        block_ms: int = 15_000,
        reader: Redis | None = None,
    ) -> None:
        self.redis = redis
        # Blocking reads get their own client so they never starve ordinary commands.
        self.reader = reader or redis
        self.maxlen = maxlen
        self.ttl = ttl_seconds
        self.block_ms = block_ms
        self._publish = redis.register_script(_PUBLISH)
        self._floors: dict[str, int] = {}
        self._watchers: dict[str, _Watcher] = {}

    async def publish(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        ttl = self.ttl if event in TERMINAL_EVENTS else max(self.ttl, _LIVE_TTL_FLOOR)
        floor = self._floors.get(run_id, 0)
        seq = int(
            await self._publish(
                keys=[_stream_key(run_id), _seq_key(run_id)],
                args=[floor, self.maxlen, event, json.dumps(data, separators=(",", ":"), default=str), ttl],
            )
        )
        self._floors[run_id] = seq
        if event in TERMINAL_EVENTS:
            self._floors.pop(run_id, None)
        return seq

    async def open_feed(self, run_id: str, after: int) -> Feed:
        watcher = self._watchers.get(run_id)
        if watcher is None or (watcher.task is not None and watcher.task.done() and not watcher.log.done):
            watcher = self._watchers[run_id] = _Watcher(self, run_id)
            watcher.start()
        watcher.log.subscribers += 1

        async def release() -> None:
            watcher.log.subscribers -= 1
            if watcher.log.subscribers == 0 and self._watchers.get(run_id) is watcher:
                del self._watchers[run_id]
                if watcher.task is not None and not watcher.task.done():
                    watcher.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await watcher.task

        return Feed(watcher.log, after, release)

    def subscribe(self, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
        return _subscribe(self, run_id, after)

    async def history(self, run_id: str, after: int = 0) -> list[ProgressEvent]:
        entries = await self.redis.xrange(_stream_key(run_id), min=f"0-{after + 1}")
        return [_parse_entry(i, f) for i, f in entries]

    def watcher_reads(self, run_id: str) -> int:
        watcher = self._watchers.get(run_id)
        return watcher.reads if watcher else 0

    async def aclose(self) -> None:
        for watcher in list(self._watchers.values()):
            if watcher.task is not None:
                watcher.task.cancel()
        self._watchers.clear()
