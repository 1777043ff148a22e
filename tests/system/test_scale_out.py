"""Scale-out: PostgreSQL + Redis + two API processes + two Celery workers.

The same commands and settings as docker-compose.yml: `bcrao serve` and `bcrao worker`
configured by BCRAO_DATABASE_URL and BCRAO_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from bcrao.collection.models import CollectionRun, RawPost
from bcrao.db import make_engine, make_sessionmaker
from tests.conftest import make_campaign, signup
from tests.streaming import assert_well_formed, read_events, trigger, wait_for_run
from tests.system.processes import api_processes
from tests.tasks.workers import running_worker

SUBS = ["SaaS", "startups", "marketing"]


@pytest.fixture
def cluster_settings(make_settings, redis_server, is_postgres, db):
    if not is_postgres:
        pytest.skip("scale-out runs on PostgreSQL (the suite's PostgreSQL pass)")
    return make_settings(redis_url=redis_server, sample_latency_seconds=0.2, plan_trial_runs_per_week=0)


async def test_two_apis_and_two_workers_complete_ten_parallel_runs_once_each(cluster_settings):
    settings = cluster_settings
    with (
        running_worker(settings, name="w1"),
        running_worker(settings, name="w2"),
        api_processes(settings, 2) as (api1, api2),
    ):
        async with (
            httpx.AsyncClient(base_url=api1, timeout=60) as c1,
            httpx.AsyncClient(base_url=api2, timeout=60) as c2,
        ):
            user = await signup(c1)
            # Accounts and tokens work across processes (shared database and signing key).
            assert (await c2.get("/v1/auth/me", headers=user["headers"])).status_code == 200
            campaigns = [
                await make_campaign(c1, user["headers"], name=f"c{i}", target_subreddits=SUBS)
                for i in range(10)
            ]
            tasks = await asyncio.gather(*(trigger(c1, c["id"], user["headers"]) for c in campaigns))
            # Every run streamed from the *other* API process, all at once.
            streams = await asyncio.gather(
                *(
                    read_events(c2, t["task_id"], params={"token": t["stream_token"]}, timeout=180)
                    for t in tasks
                )
            )
            for t, events in zip(tasks, streams, strict=True):
                terminal = assert_well_formed(events)
                run = await wait_for_run(c1, t["task_id"], user["headers"])
                assert terminal.event == run["status"] == "complete"
                assert terminal.data == {**run, "stage": "done"}
                assert run["stored"] + run["duplicates"] == run["filtered"] and run["stored"] > 0

    engine = make_engine(settings.effective_database_url)
    async with make_sessionmaker(engine)() as s:
        runs = list(
            await s.scalars(
                select(CollectionRun).where(CollectionRun.id.in_([uuid.UUID(t["task_id"]) for t in tasks]))
            )
        )
        stored = dict(
            (
                await s.execute(
                    select(RawPost.run_id, func.count())
                    .where(RawPost.run_id.in_([r.id for r in runs]))
                    .group_by(RawPost.run_id)
                )
            )
            .tuples()
            .all()
        )
    await engine.dispose()
    assert len(runs) == 10
    for run in runs:
        assert run.attempts == 1, "a run was processed more than once"
        assert stored[run.id] == run.stored
