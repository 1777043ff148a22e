"""Progress bus: an ordered, bounded log of each run's events with live fan-out.

Two backends behind one interface:
- ``MemoryBus`` for the embedded, single-process service (local executor);
- ``RedisBus`` (Redis Streams) when runs execute in Celery workers on other machines.

Every event gets a positive integer id, strictly increasing within its run; SSE uses it
as the event id, so ``Last-Event-ID`` resumes exactly where a client stopped. One API
process reads a run's stream once (a ``_Watcher``) and fans events out to all of its
local subscribers, so Redis reads per event do not grow with the number of watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
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


class ProgressBus(Protocol):
    async def publish(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        """Append an event; return its id. A terminal event starts the history's expiry."""
        ...

    def subscribe(self, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
        """Events with id > ``after`` in batches: the history first, then live, until the
        terminal event."""
        ...

    async def history(self, run_id: str, after: int = 0) -> list[ProgressEvent]:
        """What is stored now (no waiting): for runs that already ended."""
        ...

    async def aclose(self) -> None: ...


class _RunLog:
    """Events of one run held in memory, and a broadcast that wakes every waiting reader.

    Appends are synchronous (no await), so within the event loop they are atomic: ids
    never collide and a reader cannot miss a wake-up between checking and waiting.
    """

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []
        self.finished_at: float | None = None
        self.subscribers = 0
        self._changed: asyncio.Future[None] | None = None

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
        if self._changed is not None and not self._changed.done():
            self._changed.set_result(None)
        self._changed = None

    def append_next(self, event: str, data: dict[str, Any], maxlen: int) -> int:
        next_id = (self.events[-1].id if self.events else 0) + 1
        self.append(ProgressEvent(next_id, event, data), maxlen)
        return next_id

    async def _wait_for_change(self) -> None:
        if self._changed is None:
            self._changed = asyncio.get_running_loop().create_future()
        # wait() rather than awaiting the shared future: a reader that is cancelled (its
        # client left) must not cancel the wake-up of all the others.
        await asyncio.wait((self._changed,))

    async def follow(self, after: int) -> AsyncIterator[list[ProgressEvent]]:
        """Everything after ``after`` as it arrives, in batches: a subscriber that wakes up
        late takes all that is pending at once (one send instead of one per event)."""
        last = after
        while True:
            batch = self.after(last)
            if batch:
                end = next((i for i, e in enumerate(batch) if e.terminal), len(batch) - 1)
                yield batch[: end + 1]
                last = batch[end].id
                if batch[end].terminal:
                    return
                continue
            if self.done:
                return
            await self._wait_for_change()


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

    async def subscribe(self, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
        log_ = self._log(run_id)
        log_.subscribers += 1
        try:
            async for batch in log_.follow(after):
                yield batch
        finally:
            log_.subscribers -= 1

    async def history(self, run_id: str, after: int = 0) -> list[ProgressEvent]:
        log_ = self._runs.get(run_id)
        return log_.after(after) if log_ else []

    async def aclose(self) -> None:
        self._runs.clear()


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

    async def subscribe(self, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
        watcher = self._watchers.get(run_id)
        if watcher is None or (watcher.task is not None and watcher.task.done() and not watcher.log.done):
            watcher = self._watchers[run_id] = _Watcher(self, run_id)
            watcher.start()
        watcher.log.subscribers += 1
        try:
            async for batch in watcher.log.follow(after):
                yield batch
        finally:
            watcher.log.subscribers -= 1
            if watcher.log.subscribers == 0 and self._watchers.get(run_id) is watcher:
                del self._watchers[run_id]
                if watcher.task is not None and not watcher.task.done():
                    watcher.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await watcher.task

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
