"""Fixed-window attempt counters (login throttling).

In memory for one embedded process; in Redis when configured, so every API process
behind a load balancer shares the same count.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class AttemptCounter(Protocol):
    async def hit(self, key: str) -> tuple[int, int]:
        """Count one attempt; return (attempts in window, seconds until the window resets)."""
        ...

    async def reset(self, key: str) -> None: ...


class MemoryAttemptCounter:
    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._hits: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        started, count = self._hits.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        self._hits[key] = (started, count + 1)
        if len(self._hits) > 100_000:  # bound memory under a credential-stuffing flood
            self._hits = {k: v for k, v in self._hits.items() if now - v[0] < self.window}
        return count + 1, max(1, int(self.window - (now - started)))

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class RedisAttemptCounter:
    def __init__(self, redis: Redis, window_seconds: int, prefix: str = "bcrao:attempts:") -> None:
        self.redis = redis
        self.window = window_seconds
        self.prefix = prefix

    async def hit(self, key: str) -> tuple[int, int]:
        k = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(k)
            pipe.expire(k, self.window, nx=True)
            pipe.ttl(k)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
