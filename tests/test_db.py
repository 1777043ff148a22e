"""Engine and session plumbing: liveness of pooled connections, reads without transactions."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bcrao import db as dbmod
from bcrao.db import make_engine, make_read_sessionmaker, make_sessionmaker


@pytest.fixture
def pg_url(database_url: str, is_postgres: bool) -> str:
    if not is_postgres:
        pytest.skip("PostgreSQL pool behaviour")
    return database_url


async def _backend_pid(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def _kill(url: str, pid: int) -> None:
    other = make_engine(url)
    try:
        async with other.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_an_idle_connection_that_died_is_replaced_without_an_error(pg_url, monkeypatch) -> None:
    """What a PostgreSQL restart during a quiet spell looks like to the pool."""
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        await _kill(pg_url, first)
        monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 0.0)
        assert await _backend_pid(engine) != first  # pinged, found dead, reconnected
    finally:
        await engine.dispose()


async def test_a_connection_that_died_while_busy_fails_once_then_the_pool_recovers(pg_url) -> None:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        await _kill(pg_url, first)
        # Used again at once: no ping, so this request sees the error (the app answers 503) ...
        with pytest.raises(Exception):  # noqa: B017 - asyncpg's error, wrapped by SQLAlchemy
            await _backend_pid(engine)
        # ... and the pool was invalidated, so the next one gets a fresh connection.
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_read_sessions_run_outside_a_transaction_on_postgresql(pg_url) -> None:
    xid = text("SELECT pg_current_xact_id()::text")
    engine = make_engine(pg_url)
    try:
        async with make_read_sessionmaker(engine)() as session:
            # Each statement its own transaction: no BEGIN/COMMIT round trips around reads.
            assert (await session.scalar(xid)) != (await session.scalar(xid))
        async with make_sessionmaker(engine)() as session:
            assert (await session.scalar(xid)) == (await session.scalar(xid))
    finally:
        await engine.dispose()
