"""The long-lived objects one process needs, built once from settings.

Routers reach them through ``request.app.state.runtime``; services receive what they
need as arguments, so nothing else holds module-level state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bcrao.auth.ratelimit import AttemptCounter, MemoryAttemptCounter, RedisAttemptCounter
from bcrao.auth.tokens import TokenSigner
from bcrao.config import Settings
from bcrao.db import make_engine, make_read_sessionmaker, make_sessionmaker
from bcrao.progress.bus import MemoryBus, ProgressBus, RedisBus
from bcrao.progress.sse import StreamSlots
from bcrao.subreddits.service import SubredditChecker


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]  # for work that never writes
    signer: TokenSigner
    login_attempts: AttemptCounter
    bus: ProgressBus
    stream_slots: StreamSlots
    subreddits: SubredditChecker
    redis: Redis | None = None
    executor: Any = None  # bcrao.tasks.executors.Executor, set by the app factory

    async def aclose(self) -> None:
        if self.executor is not None:
            await self.executor.aclose()
        await self.bus.aclose()
        await self.subreddits.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def make_signer(settings: Settings) -> TokenSigner:
    return TokenSigner(
        key=settings.signing_key(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=settings.access_token_ttl_seconds,
        stream_ttl=settings.stream_token_ttl_seconds,
    )


def make_redis(url: str, *, max_connections: int = 4) -> Redis:
    """Short timeouts so a Redis outage is a fast 503, not a hung request, and a bounded
    pool: a burst waits up to 5 s for a free connection instead of opening one per task
    (progress streams share one pub/sub connection, so they do not need more)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=5,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
    )
    return Redis.from_pool(pool)


def build_runtime(settings: Settings) -> Runtime:
    engine = make_engine(settings.effective_database_url)
    redis = (
        make_redis(settings.redis_url, max_connections=settings.redis_max_connections)
        if settings.redis_url
        else None
    )
    attempts: AttemptCounter
    bus: ProgressBus
    if redis is not None:
        attempts = RedisAttemptCounter(redis)
        bus = RedisBus(
            redis,
            maxlen=settings.progress_maxlen,
            ttl_seconds=settings.progress_ttl_seconds,
            tail=settings.progress_memory_tail,
            sweep_seconds=settings.progress_sweep_seconds,
        )
    else:
        attempts = MemoryAttemptCounter()
        bus = MemoryBus(maxlen=settings.progress_maxlen, ttl_seconds=settings.progress_ttl_seconds)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        read_sessionmaker=make_read_sessionmaker(engine),
        signer=make_signer(settings),
        login_attempts=attempts,
        bus=bus,
        redis=redis,
        stream_slots=StreamSlots(settings.sse_max_streams_per_user),
        subreddits=SubredditChecker(settings),
    )
