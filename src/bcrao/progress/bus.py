"""Progress bus: an ordered, bounded log of each run's events with live fan-out.

Two backends behind one interface:
- ``MemoryBus`` for the embedded, single-process service (local executor);
- ``RedisBus`` (Redis Streams) when runs execute in Celery workers on other machines.

Every event gets a positive integer id, strictly increasing within its run; SSE uses it
as the event id, so ``Last-Event-ID`` resumes exactly where a client stopped (the bus only
moves events: ``progress/sse.py`` frames them). One API process follows a watched run once
(a ``_Watcher``, fed by the process's one pub/sub connection) and fans events out to all of
its local subscribers, so neither Redis connections nor Redis reads grow with the number of
watchers or of watched runs.

Fan-out is built for a thousand readers of one run in one process: readers share the
run's event list and hold only a cursor (a ``Feed``), an append wakes each waiting reader
with one ``set_result``, and readers at the same cursor position share one batch. No
per-reader queue, task or copy of an event exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bcrao.collection.models import TERMINAL_STATUSES

log = logging.getLogger("bcrao.progress")


@dataclass(frozen=True, eq=False)  # compared by identity: the SSE layer caches frames by event
class ProgressEvent:
    id: int
    event: str  # "progress", or the run's terminal status (its last event)
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.event in TERMINAL_STATUSES

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


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class Batch:
    """Events pending for a cursor, up to and including a terminal event."""

    events: list[ProgressEvent]

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
        # the same batch. Cleared on append (the batches would grow).
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
            batch = self._batches[event_id] = Batch(events[: end + 1])
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
    it too (to wake itself for other reasons) without touching the other readers. Where the
    log holds only the newest events (the Redis bus), a cursor older than them is
    ``behind``: ``catch_up()`` reads the gap from the bus's history first.
    """

    def __init__(
        self,
        log: _RunLog,
        after: int,
        release: Callable[[], Awaitable[None]],
        *,
        older: Callable[[int, int], Awaitable[list[ProgressEvent]]] | None = None,
    ) -> None:
        self._log = log
        self.last = after
        self._release: Callable[[], Awaitable[None]] | None = release
        self._older = older
        self._backlog: Batch | None = None

    @property
    def behind(self) -> bool:
        if self._older is None or self._backlog is not None:
            return False
        events = self._log.events
        return bool(events) and events[0].id > self.last + 1

    async def catch_up(self) -> None:
        """Load (a page of) the events between the cursor and the oldest one held."""
        assert self._older is not None
        first = self._log.events[0].id
        events = await self._older(self.last, first)
        if events:
            self._backlog = Batch(events)
        else:  # trimmed from the history too: continue with what there is
            self.last = max(self.last, first - 1)

    def take(self) -> Batch | None:
        if self._backlog is not None:
            backlog, self._backlog = self._backlog, None
            self.last = backlog.last_id
            return backlog
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
            if feed.behind:
                await feed.catch_up()
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


# The next id is one past the stream's newest entry, and never at or below the caller's
# floor (so ids stay monotonic even if Redis lost the stream in a restart): the stream is
# its own sequence, one key per script (no CROSSSLOT on a cluster). The event is appended
# and announced on the run's channel in the same atomic step, so pub/sub messages of a run
# arrive in id order and every announced event is already in the stream.
_PUBLISH = """
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = tonumber(ARGV[1])
if #top > 0 then
  local newest = tonumber(string.match(top[1][1], '%-(%d+)$'))
  if newest > seq then seq = newest end
end
seq = seq + 1
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'e', ARGV[3], 'd', ARGV[4])
local ttl = tonumber(ARGV[5])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
end
redis.call('PUBLISH', ARGV[6], seq .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
return seq
"""

# While a run is live its keys still expire eventually, so an abandoned run cannot leak.
_LIVE_TTL_FLOOR = 7 * 24 * 3600
_CHANNEL_PREFIX = "bcrao:progress-live:"
_PAGE = 1000  # events per history read for a client that is behind
SEED_ATTEMPTS = 4
SUBSCRIBE_TIMEOUT = 10.0  # a new stream waits this long for the subscription (Redis down: an error)


def _stream_key(run_id: str) -> str:
    return f"bcrao:progress:{run_id}"


def _channel(run_id: str) -> str:
    return _CHANNEL_PREFIX + run_id


def _parse_entry(entry_id: str, fields: dict[str, str]) -> ProgressEvent:
    return ProgressEvent(int(entry_id.split("-", 1)[1]), fields["e"], json.loads(fields["d"]))


def _parse_entries(entries: Sequence[tuple[Any, Any]] | None) -> list[ProgressEvent]:
    """An XRANGE reply. redis-py types it for any client (bytes or str, parts that may be
    None); this bus's client decodes responses, and XRANGE returns whole entries."""
    return [_parse_entry(entry_id, fields) for entry_id, fields in entries or ()]


def _parse_message(payload: str) -> ProgressEvent:
    seq, event, data = payload.split("\n", 2)
    return ProgressEvent(int(seq), event, json.loads(data))


class _Watcher:
    """This process's view of one watched run: the newest events, kept by the bus's one
    pub/sub connection and, where that missed something, re-read from the stream."""

    def __init__(self, run_id: str, tail: int) -> None:
        self.run_id = run_id
        self.log = _RunLog()
        self.tail = tail
        self.seeded = False
        self.early: list[ProgressEvent] = []  # live messages that beat the first read
        self.catching_up: asyncio.Task[None] | None = None
        self.seeding: asyncio.Future[None] | None = None
        self.stale = False  # a gap was seen while a catch-up was already running
        self.heard_at = time.monotonic()

    @property
    def last(self) -> int:
        return self.log.events[-1].id if self.log.events else 0

    def offer(self, event: ProgressEvent) -> bool:
        """Append a live event; False when it does not follow what is held (a gap)."""
        self.heard_at = time.monotonic()
        if not self.seeded:
            self.early.append(event)
            return True
        if event.id <= self.last:
            return True  # already held
        if event.id != self.last + 1 and self.log.events:
            return False
        self.log.append(event, self.tail)
        return True

    def extend(self, events: list[ProgressEvent]) -> None:
        for event in events:
            self.log.append(event, self.tail)


class RedisBus:
    """Progress over Redis: a Stream per run is the ordered history (what a late or resuming
    client reads), and one pub/sub connection per process carries every run's new events.

    Redis connections per process do not grow with the number of watched runs: the
    publisher's script announces each event on the run's channel, the process listens to
    all of them through one pattern subscription, and holds only the newest ``tail``
    events of each watched run (older ones are read from the Stream when a client needs
    them). Pub/sub delivers at most once, so a gap in a run's ids, a reconnect of the
    subscription, or a run quiet for ``sweep_seconds`` is answered by re-reading the
    Stream from the last id held: nothing is lost or repeated, and an API process still
    follows runs whose publisher predates the channel (a rolling deploy), only slower.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        maxlen: int = 10_000,
        ttl_seconds: int = 24 * 3600,
        tail: int = 200,
        sweep_seconds: float = 5.0,
    ) -> None:
        self.redis = redis
        self.maxlen = maxlen
        self.ttl = ttl_seconds
        self.tail = tail
        self.sweep_seconds = sweep_seconds
        self._publish = redis.register_script(_PUBLISH)
        self._floors: dict[str, int] = {}
        self._watchers: dict[str, _Watcher] = {}
        self._listener: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event | None = None
        self.stream_reads = 0  # XRANGE/XREVRANGE calls made for watchers (the bench reports it)
        self.reconnects = 0

    async def publish(self, run_id: str, event: str, data: dict[str, Any]) -> int:
        ttl = self.ttl if event in TERMINAL_STATUSES else max(self.ttl, _LIVE_TTL_FLOOR)
        floor = self._floors.get(run_id, 0)
        payload = json.dumps(data, separators=(",", ":"), default=str)
        seq = int(
            await self._publish(
                keys=[_stream_key(run_id)],
                args=[floor, self.maxlen, event, payload, ttl, _channel(run_id)],
            )
        )
        self._floors[run_id] = seq
        if event in TERMINAL_STATUSES:
            self._floors.pop(run_id, None)
        return seq

    # -- watching ---------------------------------------------------------------------

    async def open_feed(self, run_id: str, after: int) -> Feed:
        await self._ensure_listener()
        watcher = self._watchers.get(run_id)
        if watcher is None:
            watcher = self._watchers[run_id] = _Watcher(run_id, self.tail)
        watcher.log.subscribers += 1
        try:
            if not watcher.seeded:
                # One read however many clients open the run at once; a failed one is retried
                # by the next opener.
                if watcher.seeding is None or watcher.seeding.done():
                    watcher.seeding = asyncio.ensure_future(self._seed(watcher))
                await asyncio.shield(watcher.seeding)
        except BaseException:
            await self._release(watcher)
            raise

        async def release() -> None:
            await self._release(watcher)

        return Feed(watcher.log, after, release, older=partial(self._older, run_id))

    async def _release(self, watcher: _Watcher) -> None:
        watcher.log.subscribers -= 1
        if watcher.log.subscribers == 0 and self._watchers.get(watcher.run_id) is watcher:
            del self._watchers[watcher.run_id]
            if watcher.catching_up is not None:
                watcher.catching_up.cancel()

    async def _seed(self, watcher: _Watcher) -> None:
        """The newest ``tail`` events of a run this process starts to watch. The pattern
        subscription is already confirmed, so whatever is published after this read
        arrives as a message (held in ``early`` meanwhile)."""
        if watcher.seeded:
            return
        for attempt in range(SEED_ATTEMPTS):  # a passing hiccup must not end the stream
            try:
                self.stream_reads += 1
                entries = await self.redis.xrevrange(_stream_key(watcher.run_id), count=self.tail)
                break
            except (RedisError, OSError):
                if attempt == SEED_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)
        if watcher.seeded:  # another opener of the same run finished first
            return
        watcher.extend(_parse_entries(entries)[::-1])
        watcher.seeded = True
        early, watcher.early = watcher.early, []
        for event in early:
            if not watcher.offer(event):
                self._catch_up(watcher)
                break

    async def _older(self, run_id: str, after: int, before: int) -> list[ProgressEvent]:
        """Events ``after`` < id < ``before`` from the Stream: a client further behind than
        the tail this process holds."""
        if before <= after + 1:
            return []
        self.stream_reads += 1
        entries = await self.redis.xrange(
            _stream_key(run_id), min=f"0-{after + 1}", max=f"0-{before - 1}", count=_PAGE
        )
        return _parse_entries(entries)

    def _catch_up(self, watcher: _Watcher) -> None:
        """Re-read the Stream after the last id held (one reader per run at a time)."""
        if watcher.catching_up is not None and not watcher.catching_up.done():
            watcher.stale = True
            return
        watcher.catching_up = asyncio.create_task(
            self._read_after(watcher), name=f"progress-catch-up-{watcher.run_id}"
        )

    async def _read_after(self, watcher: _Watcher) -> None:
        backoff = 0.2
        while not watcher.log.done and self._watchers.get(watcher.run_id) is watcher:
            watcher.stale = False
            try:
                self.stream_reads += 1
                entries = await self.redis.xrange(_stream_key(watcher.run_id), min=f"0-{watcher.last + 1}")
            except (RedisError, OSError) as exc:
                log.warning("progress stream %s: %s; retrying", watcher.run_id, type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            watcher.extend(_parse_entries(entries))
            if not watcher.stale:
                return

    # -- the one subscription ---------------------------------------------------------

    async def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._subscribed = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(), name="progress-listener")
        assert self._subscribed is not None
        try:
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            raise RedisConnectionError("the progress subscription is not connected") from None

    async def _listen(self) -> None:
        backoff = 0.2
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.psubscribe(_CHANNEL_PREFIX + "*")
                while (await pubsub.get_message(timeout=5.0)) is None:  # the confirmation
                    pass
                assert self._subscribed is not None
                if self._subscribed.is_set():
                    self.reconnects += 1
                self._subscribed.set()
                backoff = 0.2
                # Whatever was published while the subscription was down is in the Streams.
                for watcher in list(self._watchers.values()):
                    if watcher.seeded:
                        self._catch_up(watcher)
                await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("progress subscription: %s; reconnecting", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _receive(self, pubsub: Any) -> None:
        next_sweep = time.monotonic() + self.sweep_seconds
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message.get("type") == "pmessage":
                watcher = self._watchers.get(message["channel"][len(_CHANNEL_PREFIX) :])
                if watcher is not None:
                    try:
                        event = _parse_message(message["data"])
                    except ValueError:  # not our publisher's shape: the Stream has the truth
                        log.warning("progress message of run %s unreadable; re-reading", watcher.run_id)
                        self._catch_up(watcher)
                    else:
                        if not watcher.offer(event):
                            self._catch_up(watcher)
            now = time.monotonic()
            if now >= next_sweep:
                next_sweep = now + self.sweep_seconds
                # A safety net for a message lost on the way and for publishers that do not
                # announce (an older worker during a rolling deploy).
                for watcher in list(self._watchers.values()):
                    if (
                        watcher.seeded
                        and not watcher.log.done
                        and now - watcher.heard_at >= self.sweep_seconds
                    ):
                        watcher.heard_at = now
                        self._catch_up(watcher)

    def subscribe(self, run_id: str, after: int) -> AsyncIterator[list[ProgressEvent]]:
        return _subscribe(self, run_id, after)

    async def history(self, run_id: str, after: int = 0) -> list[ProgressEvent]:
        entries = await self.redis.xrange(_stream_key(run_id), min=f"0-{after + 1}")
        return _parse_entries(entries)

    async def aclose(self) -> None:
        tasks = [w.catching_up for w in self._watchers.values() if w.catching_up is not None]
        if self._listener is not None:
            tasks.append(self._listener)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._listener = None
        self._watchers.clear()
