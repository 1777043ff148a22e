"""A request budget shared by everything that spends one Reddit client id.

Reddit meters each OAuth client id, not each process: with several Celery workers
collecting at once, a per-process limiter would let every worker believe it owns the
whole budget. The limiters here learn the budget from the ``X-Ratelimit-*`` headers
of every response (Reddit's numbers are the truth; the window size differs between apps and
over time, so it is never assumed), hand out one request per ``acquire()`` while the
window still has room, and hold every caller back until the reset once it does not, or
until a 429's ``Retry-After`` has passed. ``RedisRateLimiter`` keeps that state in one
Redis hash per client id and changes it only inside Lua scripts, so two workers cannot both
spend the last request of a window.
"""

from __future__ import annotations

import asyncio
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bcrao.sources.base import WaitCallback

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bcrao.config import Settings


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    remaining: float
    reset_seconds: float
    used: int | None = None


def parse_ratelimit_headers(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """Read Reddit's budget headers; ``None`` when the response carries none.

    ``remaining`` arrives as "997.0" or as "290", ``reset`` is seconds until the window
    ends (not an epoch). Names are matched case-insensitively because a plain dict of
    headers, unlike httpx's, is case-sensitive.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        remaining = float(lowered["x-ratelimit-remaining"])
        reset = float(lowered["x-ratelimit-reset"])
    except (KeyError, ValueError):
        return None
    try:
        used: int | None = int(float(lowered["x-ratelimit-used"]))
    except (KeyError, ValueError):
        used = None
    if not (math.isfinite(remaining) and math.isfinite(reset)):
        return None
    return RateLimitHeaders(remaining=max(remaining, 0.0), reset_seconds=max(reset, 0.0), used=used)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header; the HTTP-date form is not used by Reddit."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        seconds = float(lowered["retry-after"])
    except (KeyError, ValueError):
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


class RateLimitWaitTooLong(Exception):
    """Waiting for the budget would take longer than the caller is willing to wait."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"rate limit wait of {wait_seconds:.0f}s exceeds the allowed maximum")
        self.wait_seconds = wait_seconds


class RateLimiter(ABC):
    """Hands out permission for one request at a time from a budget learnt from headers.

    Every ``acquire()`` must be settled by exactly one ``update(headers)`` (a response came
    back) or ``release()`` (the request failed without one). Between the two the request is
    *in flight*: Reddit may not have counted it yet, so its budget figures are read as
    "remaining minus everything still in flight" — otherwise two workers reading the same
    stale figure would both spend the last request of a window.
    """

    async def acquire(self, *, max_wait: float | None = None, on_wait: WaitCallback | None = None) -> float:
        """Wait until one request may be sent and reserve it; return the seconds waited.

        Raises ``RateLimitWaitTooLong`` instead of sleeping when a single wait would exceed
        ``max_wait``, so a source can give up with a clear error rather than hang.
        """
        waited = 0.0
        while True:
            wait = await self._try_reserve()
            if wait <= 0:
                return waited
            if max_wait is not None and wait > max_wait:
                raise RateLimitWaitTooLong(wait)
            if on_wait is not None:
                await on_wait(wait)
            await asyncio.sleep(wait)
            waited += wait

    async def update(self, headers: Mapping[str, str]) -> None:
        """Settle one reserved request with its response's headers (budget headers optional)."""
        await self._settle(parse_ratelimit_headers(headers))

    async def release(self) -> None:
        """Settle one reserved request that ended without a response (timeout, connection error)."""
        await self._settle(None)

    async def block(self, seconds: float) -> None:
        """Stop every holder of this budget until ``seconds`` from now (after a 429)."""
        if seconds > 0:
            await self._block(seconds)

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections the backend holds."""

    @abstractmethod
    async def _try_reserve(self) -> float:
        """Reserve one request and return 0, or return the seconds to wait before trying again."""

    @abstractmethod
    async def _settle(self, headers: RateLimitHeaders | None) -> None: ...

    @abstractmethod
    async def _block(self, seconds: float) -> None: ...


class MemoryRateLimiter(RateLimiter):
    """The budget of one process; right for the embedded, single-process executor."""

    def __init__(self) -> None:
        self._remaining: float | None = None  # None: unknown, send and let Reddit say
        self._reset_at = 0.0
        self._blocked_until = 0.0
        self._in_flight = 0
        self._lock = asyncio.Lock()

    async def _try_reserve(self) -> float:
        async with self._lock:
            now = time.monotonic()
            if self._blocked_until > now:
                return self._blocked_until - now
            if self._remaining is not None and self._reset_at <= now:
                self._remaining, self._in_flight = None, 0  # a new window
            if self._remaining is not None:
                if self._remaining < 1:
                    return self._reset_at - now
                self._remaining -= 1
            self._in_flight += 1
            return 0.0

    async def _settle(self, headers: RateLimitHeaders | None) -> None:
        async with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            if headers is None:
                return
            reset_at = time.monotonic() + headers.reset_seconds
            available = headers.remaining - self._in_flight
            if self._remaining is None or reset_at > self._reset_at + 1:
                self._remaining = available  # first news of this window
            else:
                self._remaining = min(self._remaining, available)
            self._reset_at = reset_at

    async def _block(self, seconds: float) -> None:
        async with self._lock:
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)


# The scripts mirror MemoryRateLimiter step by step. They read the clock from Redis (TIME)
# so workers on machines whose clocks disagree still agree on when a window resets.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function num(field, default)
  return tonumber(redis.call('HGET', KEYS[1], field) or '') or default
end
"""

# -> '0' when reserved, else the seconds to wait
_RESERVE = (
    _NOW
    + """
local blocked = num('blocked_until', 0)
if blocked > now then return tostring(blocked - now) end
local remaining = num('remaining', nil)
local reset_at = num('reset_at', 0)
if remaining and reset_at <= now then
  redis.call('HDEL', KEYS[1], 'remaining')
  redis.call('HSET', KEYS[1], 'in_flight', '0')
  remaining = nil
end
if remaining then
  if remaining < 1 then return tostring(reset_at - now) end
  redis.call('HSET', KEYS[1], 'remaining', tostring(remaining - 1))
end
redis.call('HINCRBY', KEYS[1], 'in_flight', 1)
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return '0'
"""
)

# ARGV: has_headers (0/1), server remaining, reset seconds, key grace seconds
_SETTLE = (
    _NOW
    + """
local in_flight = math.max(num('in_flight', 0) - 1, 0)
redis.call('HSET', KEYS[1], 'in_flight', tostring(in_flight))
if ARGV[1] == '0' then return 'released' end
local reset_at = now + tonumber(ARGV[3])
local available = tonumber(ARGV[2]) - in_flight
local remaining = num('remaining', nil)
if (not remaining) or reset_at > num('reset_at', 0) + 1 then
  remaining = available
else
  remaining = math.min(remaining, available)
end
redis.call('HSET', KEYS[1], 'remaining', tostring(remaining), 'reset_at', tostring(reset_at))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + tonumber(ARGV[4]))
return tostring(remaining)
"""
)

# ARGV: seconds, key grace seconds
_BLOCK = (
    _NOW
    + """
local until_ = now + tonumber(ARGV[1])
if until_ > num('blocked_until', 0) then redis.call('HSET', KEYS[1], 'blocked_until', tostring(until_)) end
local want = math.ceil(tonumber(ARGV[1])) + tonumber(ARGV[2])
if redis.call('TTL', KEYS[1]) < want then redis.call('EXPIRE', KEYS[1], want) end
return tostring(until_)
"""
)

# Keys outlive their window by this much, so an idle client id leaves nothing behind for long
# and a crashed worker's unsettled requests are forgotten with the window they belonged to.
_KEY_GRACE_SECONDS = 60


class RedisRateLimiter(RateLimiter):
    """The budget of one client id, shared by every process that can reach the Redis."""

    def __init__(self, redis: Redis, client_id: str, *, prefix: str = "bcrao:ratelimit:reddit:") -> None:
        self._redis = redis
        self.key = f"{prefix}{client_id}"
        self._reserve = redis.register_script(_RESERVE)
        self._settle_script = redis.register_script(_SETTLE)
        self._block_script = redis.register_script(_BLOCK)

    @classmethod
    def from_url(cls, url: str, client_id: str) -> RedisRateLimiter:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), client_id)

    async def _try_reserve(self) -> float:
        return float(await self._reserve(keys=[self.key], args=[_KEY_GRACE_SECONDS * 10]))

    async def _settle(self, headers: RateLimitHeaders | None) -> None:
        if headers is None:
            args: list[float | int] = [0, 0, 0, _KEY_GRACE_SECONDS]
        else:
            args = [1, headers.remaining, headers.reset_seconds, _KEY_GRACE_SECONDS]
        await self._settle_script(keys=[self.key], args=args)

    async def _block(self, seconds: float) -> None:
        await self._block_script(keys=[self.key], args=[seconds, _KEY_GRACE_SECONDS])

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_limiter(settings: Settings, client_id: str) -> RateLimiter:
    """Redis-backed when Redis is configured (workers share it), otherwise per process."""
    if settings.redis_url:
        return RedisRateLimiter.from_url(settings.redis_url, client_id)
    return MemoryRateLimiter()
