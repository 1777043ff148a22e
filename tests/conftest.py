"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
BCRAO_TEST_DATABASE_URL is set), migrated once per session, emptied after each test."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url, text

from bcrao.background import BackgroundTasks
from bcrao.config import Settings
from bcrao.db import make_engine
from bcrao.main import create_app
from bcrao.migrate import upgrade
from bcrao.models import Base

pytest_plugins = ["tests.fakes.fixtures"]

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass runs the tests that reach a database. The others (classifier,
    parsers, fake services, Redis) do the same thing on either run, and running them twice
    only spent CI minutes; so did the few marked ``dialect_neutral``."""
    if not os.environ.get("BCRAO_TEST_DATABASE_URL"):
        return

    def twice(item: pytest.Item) -> bool:
        return "database_url" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "dialect_neutral"
        )

    uses_database = [i for i in items if twice(i)]
    deselected = [i for i in items if not twice(i)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = uses_database


def _database_of_this_worker(url: str, worker: str) -> str:
    """Parallel workers (pytest-xdist) share the PostgreSQL server, each with a database of its
    own, since every test empties its database afterwards."""
    base = make_url(url)
    name = f"{base.database}_{worker}"

    async def create() -> None:
        conn = await asyncpg.connect(
            host=base.host, port=base.port, user=base.username, password=base.password, database=base.database
        )
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("BCRAO_TEST_DATABASE_URL")
    if url and (worker := os.environ.get("PYTEST_XDIST_WORKER")):
        url = _database_of_this_worker(url, worker)
    if not url:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'bcrao.db'}"
    upgrade(url)  # the migrations are what the tests run against, so they are tested too
    return url


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "secret_key": TEST_SECRET,
            "environment": "test",
            "log_json": False,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


async def empty_database(url: str) -> None:
    engine = make_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
    await engine.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """An empty, migrated database for one test."""
    yield database_url
    # Work the test started and did not wait for (themes after a run, alert deliveries) would
    # otherwise hold row locks the emptying waits on (a deadlock on PostgreSQL).
    await BackgroundTasks.stop_all(grace_seconds=30)
    await empty_database(database_url)


@pytest.fixture
async def app(db: str, settings: Settings):
    application = create_app(settings, migrate_sqlite=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app built from custom settings (the database is still the test one)."""
    application = create_app(settings, migrate_sqlite=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as c:
            c.app = application  # type: ignore[attr-defined]
            yield c


@asynccontextmanager
async def serve_in_loop(app, **config) -> AsyncIterator[tuple[str, object]]:
    """Any ASGI app on a free loopback port, uvicorn running in this event loop; yields its
    base URL and the ``uvicorn.Server`` (whose ``should_exit`` a test may set)."""
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[str]:
    """The app on a real socket (uvicorn in this event loop): for streaming and disconnects."""
    application = create_app(settings, migrate_sqlite=False)
    async with serve_in_loop(application, log_level="warning", lifespan="on") as (url, _server):
        yield url


async def signup(
    client: httpx.AsyncClient, email: str | None = None, password: str = "correct-horse"
) -> dict:
    """Create a user; return ``{"headers", "user", "email", "password", "token"}``."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    resp = await client.post("/v1/auth/signup", json={"email": email, "password": password})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return {
        "headers": {"Authorization": f"Bearer {body['access_token']}"},
        "user": body["user"],
        "email": email,
        "password": password,
        "token": body["access_token"],
    }


CAMPAIGN = {
    "name": "Churn research",
    "product_context": "A billing analytics tool for SaaS founders.",
    "product_url": "https://example.com",
    "keywords": ["churn", "MRR", "pricing"],
    "target_subreddits": ["SaaS", "startups"],
}


async def make_campaign(client: httpx.AsyncClient, headers: dict, **overrides: object) -> dict:
    resp = await client.post("/v1/campaigns", json={**CAMPAIGN, **overrides}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> dict:
    return await signup(client, "alice@example.com")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> dict:
    return await signup(client, "bob@example.com")


def field_names(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 422, resp.text
    body = resp.json()["error"]
    assert body["code"] == "VALIDATION_ERROR"
    return [f["field"] for f in body["details"]["fields"]]
