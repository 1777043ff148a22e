"""Fixed-window attempt counters (login throttling).

In memory for one embedded process; in Redis when configured, so every API process
behind a load balancer shares the same count. Each call names its own window, so one
store holds short throttle windows and the long-lived "this address has logged in here
before" marks alike.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class AttemptCounter(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one attempt; return (attempts in window, seconds until the window resets)."""
        ...

    async def peek(self, key: str) -> tuple[int, int]:
        """(attempts in the current window, seconds until it resets) without counting one."""
        ...

    async def reset(self, key: str) -> None: ...


class MemoryAttemptCounter:
    MAX_KEYS = 100_000  # bound memory under a credential-stuffing flood

    def __init__(self) -> None:
        self._hits: dict[str, tuple[float, int, int]] = {}  # key -> (started, count, window)

    def _current(self, key: str, now: float) -> tuple[float, int, int] | None:
        entry = self._hits.get(key)
        if entry is None or now - entry[0] >= entry[2]:
            return None
        return entry

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        started, count, window = self._current(key, now) or (now, 0, window)
        self._hits[key] = (started, count + 1, window)
        if len(self._hits) > self.MAX_KEYS:
            self._hits = {k: v for k, v in self._hits.items() if now - v[0] < v[2]}
        return count + 1, max(1, int(window - (now - started)))

    async def peek(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        entry = self._current(key, now)
        if entry is None:
            return 0, 0
        started, count, window = entry
        return count, max(1, int(window - (now - started)))

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class RedisAttemptCounter:
    def __init__(self, redis: Redis, prefix: str = "bcrao:attempts:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        k = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(k)
            pipe.expire(k, window, nx=True)
            pipe.ttl(k)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def peek(self, key: str) -> tuple[int, int]:
        k = self.prefix + key
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(k)
            pipe.ttl(k)
            count, ttl = await pipe.execute()
        return (int(count), max(1, int(ttl))) if count is not None else (0, 0)

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
