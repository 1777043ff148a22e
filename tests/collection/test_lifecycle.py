"""A run's start and end through ``bcrao.collection.lifecycle``: no orphan "queued" run when
the queue is down, no run stuck "running" when its executor is gone or its campaign is
deleted, and every stream gets its terminal event."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import update

from bcrao.collection.lifecycle import NOT_QUEUED
from bcrao.collection.models import CollectionRun
from bcrao.db import utcnow
from tests.conftest import app_client, live_server, make_campaign, signup
from tests.streaming import read_events, trigger
from tests.system.test_faults import persistent_redis  # noqa: F401

SUBS = ["SaaS", "startups", "marketing"]


async def remaining(client, campaign, headers) -> int:
    stats = await client.get(f"/v1/campaigns/{campaign['id']}/collection-stats", headers=headers)
    return stats.json()["runs_remaining_this_week"]


async def test_a_trigger_the_queue_cannot_take_fails_its_run_and_gives_the_allowance_back(
    make_settings,
    db,
    persistent_redis,  # noqa: F811
):
    settings = make_settings(redis_url=persistent_redis.url, executor="celery", plan_trial_runs_per_week=5)
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"])
        before = await remaining(client, campaign, user["headers"])
        persistent_redis.stop()
        try:
            resp = await client.post(f"/v1/campaigns/{campaign['id']}/collect", headers=user["headers"])
        finally:
            persistent_redis.start()
        assert resp.status_code == 503 and resp.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        runs = (await client.get(f"/v1/campaigns/{campaign['id']}/runs", headers=user["headers"])).json()[
            "runs"
        ]
        assert [r["status"] for r in runs] == ["failed"]
        assert runs[0]["errors"][-1]["message"] == NOT_QUEUED
        assert await remaining(client, campaign, user["headers"]) == before  # not spent
        again = await client.post(f"/v1/campaigns/{campaign['id']}/collect", headers=user["headers"])
        assert again.status_code == 202, again.text  # no orphan "queued" run in the way


async def test_cancelling_a_run_whose_worker_is_gone_ends_it_at_once(
    make_settings,
    db,
    persistent_redis,  # noqa: F811
):
    # The celery executor with no worker: the run is queued, then "claimed" by a worker that dies.
    settings = make_settings(redis_url=persistent_redis.url, executor="celery", heartbeat_lost_seconds=30)
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"])
        task = await trigger(client, campaign["id"], user["headers"])
        run_id = uuid.UUID(task["task_id"])
        async with client.app.state.runtime.sessionmaker() as session:
            silent_since = utcnow() - timedelta(seconds=45)
            await session.execute(
                update(CollectionRun)
                .where(CollectionRun.id == run_id)
                .values(status="running", started_at=silent_since, heartbeat_at=silent_since)
            )
            await session.commit()
        stream = asyncio.create_task(
            read_events(client, task["task_id"], params={"token": task["stream_token"]}, timeout=20)
        )
        cancelled = await client.post(f"/v1/collection/{task['task_id']}/cancel", headers=user["headers"])
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
        events = await stream
        assert events[-1].event == "cancelled"
        again = await client.post(f"/v1/campaigns/{campaign['id']}/collect", headers=user["headers"])
        assert again.status_code == 202


async def test_cancelling_a_live_run_only_flags_it(make_settings, db):
    settings = make_settings(sample_latency_seconds=0.5)
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=SUBS)
        task = await trigger(client, campaign["id"], user["headers"])
        await read_events(client, task["task_id"], params={"token": task["stream_token"]}, limit=2)
        resp = await client.post(f"/v1/collection/{task['task_id']}/cancel", headers=user["headers"])
        assert resp.status_code == 202 and resp.json()["status"] in ("running", "cancelled")
        events = await read_events(client, task["task_id"], headers=user["headers"], timeout=30)
        assert events[-1].event == "cancelled"


async def test_deleting_a_campaign_mid_run_ends_its_stream(make_settings, db):
    settings = make_settings(sample_latency_seconds=1.0)
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=SUBS)
        task = await trigger(client, campaign["id"], user["headers"])
        first = await read_events(client, task["task_id"], params={"token": task["stream_token"]}, limit=2)
        stream = asyncio.create_task(
            read_events(client, task["task_id"], params={"token": task["stream_token"],
                                                         "last_event_id": first[-1].id}, timeout=20)
        )  # fmt: skip
        await asyncio.sleep(0.2)
        assert (
            await client.delete(f"/v1/campaigns/{campaign['id']}", headers=user["headers"])
        ).status_code == 204
        events = await stream
        assert events[-1].event == "cancelled"
        assert "The campaign was deleted during the collection" in events[-1].data["warnings"]
        gone = await client.get(f"/v1/collection/{task['task_id']}", headers=user["headers"])
        assert gone.status_code == 404


async def test_a_user_beyond_their_open_streams_gets_429_and_others_do_not(make_settings, db):
    settings = make_settings(sample_latency_seconds=2.0)
    allowed = settings.sse_max_streams_per_user
    assert allowed == 20  # the default: the 21st stream is refused
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        user, other = await signup(client), await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=SUBS)
        task = await trigger(client, campaign["id"], user["headers"])
        path = f"/v1/collection/{task['task_id']}/progress"
        streams = [client.stream("GET", path, headers=user["headers"]) for _ in range(allowed)]
        opened = [await s.__aenter__() for s in streams]
        try:
            assert [r.status_code for r in opened] == [200] * allowed
            beyond = await client.get(path, headers=user["headers"])
            assert beyond.status_code == 429 and beyond.json()["error"]["code"] == "RATE_LIMITED"
            assert int(beyond.headers["retry-after"]) > 0
            # Another account is not affected (it gets its own 404 for a run it does not own).
            assert (await client.get(path, headers=other["headers"])).status_code == 404
            await streams[0].__aexit__(None, None, None)
            await asyncio.sleep(0.3)  # the server notices the closed connection
            async with client.stream("GET", path, headers=user["headers"]) as again:
                assert again.status_code == 200
        finally:
            for s in streams[1:]:
                await s.__aexit__(None, None, None)
        await client.post(f"/v1/collection/{task['task_id']}/cancel", headers=user["headers"])
