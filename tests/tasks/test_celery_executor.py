"""The celery executor with a real Redis and real worker processes."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from celery.result import AsyncResult
from sqlalchemy import func, select

from bcrao.collection.models import RawPost
from tests.conftest import app_client, make_campaign, signup
from tests.streaming import TERMINAL, assert_well_formed, read_events, trigger, wait_for_run
from tests.tasks.workers import running_worker

SUBS = ["SaaS", "startups", "marketing", "webdev"]


@pytest.fixture
def celery_settings(make_settings, redis_server, db):
    def factory(**overrides):
        # A fresh Redis database per test keeps broker queues and streams apart.
        return make_settings(redis_url=redis_server, **overrides)

    return factory


async def test_trigger_runs_on_a_worker_and_streams_every_event_in_order(celery_settings):
    settings = celery_settings(sample_latency_seconds=0.1)
    with running_worker(settings):
        async with app_client(settings) as client:
            assert client.app.state.runtime.executor.name == "celery"
            user = await signup(client)
            campaign = await make_campaign(client, user["headers"], target_subreddits=SUBS)
            task = await trigger(client, campaign["id"], user["headers"])
            events = await read_events(client, task["task_id"], params={"token": task["stream_token"]})
            terminal = assert_well_formed(events)
            run = (await client.get(f"/v1/collection/{task['task_id']}", headers=user["headers"])).json()
            assert terminal.event == run["status"] == "complete"
            assert terminal.data == {**run, "stage": "done"}
            assert run["stored"] > 0 and run["stored"] + run["duplicates"] == run["filtered"]


async def test_celery_tooling_sees_progress_and_the_result(celery_settings):
    settings = celery_settings(sample_latency_seconds=0.3)
    with running_worker(settings):
        from bcrao.tasks.celery_app import make_celery

        celery = make_celery(settings)
        async with app_client(settings) as client:
            user = await signup(client)
            campaign = await make_campaign(client, user["headers"], target_subreddits=SUBS)
            task = await trigger(client, campaign["id"], user["headers"])
            result = AsyncResult(task["task_id"], app=celery)
            seen_progress = None
            for _ in range(200):
                state = await asyncio.to_thread(lambda: result.state)
                if state == "PROGRESS":
                    seen_progress = await asyncio.to_thread(lambda: result.info)
                    break
                await asyncio.sleep(0.03)
            assert seen_progress is not None
            assert seen_progress["task_id"] == task["task_id"] and "stage" in seen_progress
            await wait_for_run(client, task["task_id"], user["headers"])
            final = await asyncio.to_thread(result.get, timeout=30)
            assert final == {"task_id": task["task_id"], "status": "complete"}


async def test_a_run_triggered_through_one_api_process_streams_from_another(celery_settings):
    settings = celery_settings(sample_latency_seconds=0.2)
    with running_worker(settings):
        async with app_client(settings) as api1, app_client(settings) as api2:
            user = await signup(api1)
            campaign = await make_campaign(api1, user["headers"], target_subreddits=SUBS)
            task = await trigger(api1, campaign["id"], user["headers"])
            events = await read_events(api2, task["task_id"], params={"token": task["stream_token"]})
            assert_well_formed(events)
            # Resume through API 1 after reading part of the stream on API 2.
            tail = await read_events(api1, task["task_id"], headers={**user["headers"], "Last-Event-ID": "3"})
            assert [e.id for e in tail] == [e.id for e in events[3:]]


@pytest.mark.parametrize(
    "takeover",
    [
        # The broker redelivers the killed worker's message (a short visibility timeout).
        {"celery_visibility_timeout": 4, "heartbeat_lost_seconds": 3, "reaper_interval_seconds": 3600},
        # The default hour-long visibility timeout: the API's reaper loop sees the heartbeat
        # stop and queues the run again for another worker.
        {"heartbeat_lost_seconds": 4, "reaper_interval_seconds": 1},
    ],
    ids=["redelivered", "requeued-on-lost-heartbeat"],
)
async def test_a_killed_worker_is_redelivered_and_completes_without_duplicates(celery_settings, takeover):
    settings = celery_settings(sample_latency_seconds=0.6, run_stale_after_seconds=3, **takeover)
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=SUBS)
        with running_worker(settings, name="doomed", pool="solo") as doomed:
            task = await trigger(client, campaign["id"], user["headers"])
            tid = task["task_id"]
            for _ in range(300):
                run = (await client.get(f"/v1/collection/{tid}", headers=user["headers"])).json()
                if run["stored"] > 0:
                    break
                await asyncio.sleep(0.05)
            assert run["status"] == "running" and run["stored"] > 0
            doomed.kill()
        with running_worker(settings, name="survivor"):
            run = await wait_for_run(client, tid, user["headers"], timeout=90)
        assert run["status"] == "complete"
        assert run["resumed"] is True and run["attempt"] >= 2  # the run says it was taken over
        async with client.app.state.runtime.sessionmaker() as s:
            rows = await s.scalar(
                select(func.count())
                .select_from(RawPost)
                .where(RawPost.campaign_id == uuid.UUID(campaign["id"]))
            )
            distinct = await s.scalar(
                select(func.count(RawPost.reddit_post_id.distinct())).where(
                    RawPost.campaign_id == uuid.UUID(campaign["id"])
                )
            )
        assert rows == distinct == run["stored"], (
            rows,
            distinct,
            {k: run[k] for k in ("scraped", "filtered", "stored", "duplicates", "errors", "filter_reasons")},
        )
        assert run["stored"] + run["duplicates"] == run["filtered"]
        events = await read_events(client, tid, headers=user["headers"])
        assert [e for e in events if e.event in TERMINAL][-1].event == "complete"
        progress = [e.data for e in events if e.event == "progress" and e.data["status"] == "running"]
        assert progress[0]["resumed"] is False and progress[-1]["resumed"] is True  # why counters restarted
        ids = [e.id for e in events]
        assert ids == sorted(set(ids))
