"""Shared setup of the progress benches (``progress.py``, ``many_runs.py``).

Everything on 127.0.0.1, started and stopped here with the tests' own helpers:

- a private ``redis-server`` (``tests.fakes.fixtures.private_redis``, no persistence);
- the API as ``bcrao serve`` (``tests.system.processes.running_api``: the deployed server
  stack) with ``BCRAO_REDIS_URL`` set, so the Redis bus (``RedisBus``) carries progress;
- the publisher process (``_sse_publisher.py``), standing in for the Celery worker;
- a user and N campaigns, each with one "running" run (no collection executes), written
  straight into the API's SQLite database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from bench._common import raise_nofile
from bench._sse_publisher import Publisher
from tests.fakes.fixtures import private_redis
from tests.system.processes import RunningApi, running_api

from bcrao.config import Settings

SECRET = "bench-progress-secret-key-0123456789abcdef"


@dataclass(frozen=True)
class Servers:
    settings: Settings  # the API's
    redis_port: int
    api: RunningApi

    @property
    def api_port(self) -> int:
        return int(urlsplit(self.api.url).port or 0)


@dataclass
class Env:
    """What a scenario needs: the servers, a token of the runs' owner, the run ids."""

    servers: Servers
    token: str
    runs: list[str]
    timeout: float
    publisher: Publisher

    @property
    def api_port(self) -> int:
        return self.servers.api_port

    @property
    def api_pid(self) -> int:
        return self.servers.api.pid

    @property
    def redis_port(self) -> int:
        return self.servers.redis_port

    @property
    def redis_url(self) -> str:
        return self.servers.settings.redis_url or ""


def api_settings(workdir: Path, redis_url: str) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        redis_url=redis_url,
        secret_key=SECRET,
        data_dir=workdir / "data",
        environment="test",
        log_level="WARNING",
        # `bcrao serve` turns it on unless told; the settings given here are all explicit.
        gc_freeze=os.environ.get("BCRAO_GC_FREEZE", "1"),
        # One bench user holds every stream: lift the per-user cap (20 per process).
        sse_max_streams_per_user=os.environ.get("BCRAO_SSE_MAX_STREAMS_PER_USER", "100000"),
    )  # type: ignore[arg-type]


@contextmanager
def servers(workdir: Path) -> Iterator[Servers]:
    """Redis, then the API (which migrates its fresh SQLite file before serving)."""
    with private_redis(workdir, preexec_fn=raise_nofile) as redis_url:
        settings = api_settings(workdir, redis_url)
        with running_api(settings, preexec_fn=raise_nofile) as api:
            yield Servers(settings, int(urlsplit(redis_url).port or 0), api)


@asynccontextmanager
async def bench_env(servers: Servers, runs: int, timeout: float) -> AsyncIterator[Env]:
    """The publisher process, a user with ``runs`` running runs, and a token for them."""
    from bcrao.runtime import make_signer

    publisher = Publisher(servers.settings.redis_url or "", timeout)
    try:
        await publisher.start()
        user_id, run_ids = await seed_database(servers.settings.effective_database_url, runs)
        token = make_signer(servers.settings).access_token(user_id)
        # Warm-up: one authorized request through the whole stack.
        async with httpx.AsyncClient(base_url=servers.api.url, timeout=10) as client:
            resp = await client.get(
                f"/v1/collection/{run_ids[0]}", headers={"Authorization": f"Bearer {token}"}
            )
        if resp.status_code != 200:
            raise RuntimeError(f"warm-up GET returned {resp.status_code}: {resp.text[:500]}")
        yield Env(servers, token, [str(r) for r in run_ids], timeout, publisher)
    finally:
        await publisher.stop()


async def seed_database(url: str, runs: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A user, and per run a campaign with one 'running' run (no collection executes)."""
    from bcrao.auth.models import User
    from bcrao.campaigns.models import Campaign
    from bcrao.collection.models import CollectionRun
    from bcrao.db import make_engine, make_sessionmaker, utcnow

    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    user_id = uuid.uuid4()
    run_ids: list[uuid.UUID] = []
    try:
        async with maker() as session:
            session.add(User(id=user_id, email=f"bench-{user_id.hex[:8]}@example.com", password_hash="x"))
            await session.flush()
            for i in range(runs):
                campaign = Campaign(
                    user_id=user_id,
                    name=f"bench progress {i}",
                    keywords=["churn"],
                    target_subreddits=["SaaS"],
                )
                session.add(campaign)
                await session.flush()
                run = CollectionRun(
                    campaign_id=campaign.id,
                    user_id=user_id,
                    status="running",
                    source="sample",
                    classifier="rules",
                    started_at=utcnow(),
                    heartbeat_at=utcnow(),
                )
                session.add(run)
                await session.flush()
                run_ids.append(run.id)
            await session.commit()
    finally:
        await engine.dispose()
    return user_id, run_ids


def commandstats(port: int) -> dict[str, int]:
    """``cmdstat_<name>`` → calls, plus ``total`` = total_commands_processed."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        stats = client.info("commandstats")
        total = client.info("stats")["total_commands_processed"]
    finally:
        client.close()
    out = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    out["total"] = int(total)
    return out


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def stream_reads(cmds: dict[str, int]) -> int:
    """Stream reads by readers: the publish script's own XREVRANGE (one per call of the
    current script) is counted by Redis as a command too, so it is taken off."""
    scripts = cmds.get("evalsha", 0) + cmds.get("eval", 0)
    own = max(0, cmds.get("xrevrange", 0) - scripts)
    return sum(cmds.get(k, 0) for k in ("xread", "xrange", "xreadgroup")) + own
