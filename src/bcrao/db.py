"""Database plumbing: one declarative base, portable types, engines and sessions.

The same models and migrations serve SQLite (embedded default) and PostgreSQL (scale).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, CursorResult, DateTime, MetaData, Result, event, exc, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases.

    SQLite drops the offset, so values come back naive; re-attach UTC on the way out
    and refuse naive values on the way in so no local time sneaks into the data.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7, RFC 9562): Unix milliseconds, the sub-millisecond
    fraction (the RFC's "method 3"), then 62 random bits.

    New rows then land at the right edge of every B-tree whose key ends in ``id`` (the
    primary keys, and the tie-breaker of each post-list index) instead of on a random page
    of each: bulk inserts touch far fewer pages on both databases.
    """
    ms, sub_ms = divmod(time.time_ns(), 1_000_000)
    fraction = sub_ms * 4096 // 1_000_000  # 12 bits
    random_bits = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
    return uuid.UUID(int=(ms & ((1 << 48) - 1)) << 80 | 7 << 76 | fraction << 64 | 2 << 62 | random_bits)


# Execution option of the read-only sessions (SQLite begins them deferred).
READS_ONLY = "bcrao_reads_only"

# A pooled connection unused for longer than this is checked before it is handed out.
IDLE_PING_SECONDS = 1.0


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an engine with the per-dialect settings each database needs."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Connections above pool_size are closed when returned, and a new PostgreSQL connection
    # costs a process fork: size the pool for the steady concurrency, not the average.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_timeout", 5)
    # Last in, first out: under load the same few connections stay hot, so they are never
    # idle long enough to need the liveness check below.
    kwargs.setdefault("pool_use_lifo", True)
    # A stopped PostgreSQL must turn into a fast 503, not a request that hangs.
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", 2)
    connect_args.setdefault("command_timeout", 60)
    # Short OLTP queries on big campaigns otherwise pay 100-200 ms of JIT compilation
    # whenever the planner overestimates them.
    connect_args.setdefault("server_settings", {"jit": "off"})
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """``pool_pre_ping`` for connections that sat idle, instead of on every checkout.

    The asyncpg pre-ping is three round trips (BEGIN, a query, ROLLBACK) on every request,
    a third of a short read's database work. A connection used a moment ago is as alive as
    the ping would prove; one that waited through a quiet spell may have outlived a
    PostgreSQL restart, so it is checked and silently replaced. A database that dies under
    a busy connection fails that request (a 503), and SQLAlchemy then invalidates the whole
    pool, so every later checkout reconnects.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            dbapi_conn.ping()
        except Exception as error:
            # The pool replaces this connection, and every other one pooled before now:
            # a dead idle connection usually means the server restarted under all of them.
            raise exc.InvalidatePoolError() from error


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")  # cascades and integrity, off by default in SQLite
        cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cur.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        cur.execute("PRAGMA busy_timeout=30000")  # wait for the lock instead of failing
        cur.execute("PRAGMA cache_size=-65536")  # up to 64 MiB of pages, not 2: indexes stay hot
        # Checkpoint every ~40 MiB of WAL, not 4: a bulk insert rewrites the same index pages
        # commit after commit, and each checkpoint writes a page once however often it changed.
        cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.execute("PRAGMA journal_size_limit=67108864")  # then shrink the WAL back to 64 MiB
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A transaction that may write takes the write lock up front: a deferred one that
        # upgrades to a writer fails with "database is locked" instead of waiting on
        # busy_timeout. Reads (``make_read_sessionmaker``) begin deferred: under WAL they
        # see a snapshot and never wait for, or hold up, the single writer.
        reads_only = conn.get_execution_options().get(READS_ONLY, False)
        conn.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for work that only reads.

    PostgreSQL: without BEGIN and COMMIT. Under READ COMMITTED every statement takes its own
    snapshot whether or not it runs in a transaction, so wrapping reads in one buys no
    consistency; it costs two round trips. SQLite: a deferred ``BEGIN`` instead of the
    writers' ``BEGIN IMMEDIATE``, so a GET or a long export never takes the writer lock.
    """
    if engine.dialect.name != "postgresql":
        return make_sessionmaker(engine.execution_options(**{READS_ONLY: True}))
    return make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


def dialect_of(session: AsyncSession) -> str:
    """The session's database: "postgresql" or "sqlite"."""
    if session.bind is None:  # never: every session comes from make_sessionmaker(engine)
        raise RuntimeError("the session is not bound to an engine")
    return session.bind.dialect.name


@asynccontextmanager
async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Commit on success, roll back on error: the one place work is committed."""
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched. ``Session.execute`` is typed as returning a
    ``Result``, but for these statements it is a ``CursorResult``, which has the count."""
    return cast("CursorResult[Any]", result).rowcount


async def core_execute(session: AsyncSession, statement: Any, params: dict[str, Any] | None = None) -> Any:
    """Run a Core statement on the session's connection (same transaction), skipping the
    ORM's statement handling and result wrapping (``bench/README.md``, "Load"), which matters
    on the hot reads that select columns rather than entities."""
    return await (await session.connection()).execute(statement, params)


async def core_scalar(session: AsyncSession, statement: Any, params: dict[str, Any] | None = None) -> Any:
    return (await core_execute(session, statement, params)).scalar()


M = TypeVar("M", bound=Base)


async def page_of(
    session: AsyncSession, model: type[M], *where: Any, order_by: Sequence[Any], offset: int, limit: int
) -> tuple[list[M], int]:
    """One page of the ``model`` rows matching ``where``, in ``order_by`` order, and how many match."""
    total = await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    rows = await session.scalars(select(model).where(*where).order_by(*order_by).offset(offset).limit(limit))
    return list(rows), total
