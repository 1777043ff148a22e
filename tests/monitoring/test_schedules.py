"""Scheduled collections: set through PATCH, one run per due slot however many schedulers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import CollectionRun
from bcrao.db import utcnow
from bcrao.monitoring import schedules
from bcrao.monitoring.models import ScheduledSlot
from tests.conftest import app_client, field_names, make_campaign, signup
from tests.streaming import trigger, wait_for_run


async def make_due(runtime, campaign_id: str, *, ago: timedelta, every: str = "6h") -> None:
    async with runtime.sessionmaker() as s:
        await s.execute(
            update(Campaign)
            .where(Campaign.id == uuid.UUID(campaign_id))
            .values(schedule_every=every, next_run_at=utcnow() - ago)
        )
        await s.commit()


async def runs_of(runtime, campaign_id: str) -> int:
    async with runtime.sessionmaker() as s:
        return await s.scalar(
            select(func.count())
            .select_from(CollectionRun)
            .where(CollectionRun.campaign_id == uuid.UUID(campaign_id))
        )


async def test_patch_sets_shows_and_stops_a_schedule(client, alice):
    campaign = await make_campaign(client, alice["headers"])
    assert campaign["schedule"] == {
        "every": "off",
        "next_run_at": None,
        "last_scheduled_run_at": None,
        "note": None,
    }
    url = f"/v1/campaigns/{campaign['id']}"
    before = utcnow()
    resp = await client.patch(url, json={"schedule": {"every": "6h"}}, headers=alice["headers"])
    assert resp.status_code == 200
    schedule = resp.json()["schedule"]
    assert schedule["every"] == "6h"
    next_run = schedule["next_run_at"]
    assert next_run >= (before + timedelta(hours=6)).isoformat()[:16]
    assert (await client.get(url, headers=alice["headers"])).json()["schedule"]["every"] == "6h"
    for bad in (
        {"schedule": {"every": "2h"}},
        {"schedule": {}},
        {"schedule": None},
        {"schedule": {"every": "6h", "x": 1}},
    ):
        bad_resp = await client.patch(url, json=bad, headers=alice["headers"])
        assert bad_resp.status_code == 422 and any("schedule" in f for f in field_names(bad_resp)), bad
    off = (await client.patch(url, json={"schedule": {"every": "off"}}, headers=alice["headers"])).json()[
        "schedule"
    ]
    assert off["every"] == "off" and off["next_run_at"] is None


async def test_two_schedulers_at_once_start_one_run_per_slot(make_settings, db):
    settings = make_settings(scheduler_interval_seconds=3600)
    async with app_client(settings) as one, app_client(settings) as two:
        user = await signup(one)
        campaign = await make_campaign(one, user["headers"], target_subreddits=["SaaS"])
        await make_due(one.app.state.runtime, campaign["id"], ago=timedelta(minutes=1))
        outcomes = await asyncio.gather(
            schedules.run_due(one.app.state.runtime), schedules.run_due(two.app.state.runtime)
        )
        flat = sorted(o for result in outcomes for _, o in result)
        assert flat.count("started") == 1 and set(flat) <= {"started", "taken", "gone"}
        for client in (one, two):
            await client.app.state.runtime.executor.wait_idle()
        assert await runs_of(one.app.state.runtime, campaign["id"]) == 1
        async with one.app.state.runtime.sessionmaker() as s:
            slots = list(await s.scalars(select(ScheduledSlot)))
        assert len(slots) == 1 and slots[0].run_id is not None and slots[0].outcome == "started"
        shown = (await one.get(f"/v1/campaigns/{campaign['id']}", headers=user["headers"])).json()["schedule"]
        assert shown["last_scheduled_run_at"] and shown["next_run_at"] > utcnow().isoformat()[:19]
        # Nothing is due any more: another pass starts nothing.
        assert await schedules.run_due(two.app.state.runtime) == []


async def test_a_slot_missed_during_downtime_runs_once(app, client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    runtime = app.state.runtime
    await make_due(runtime, campaign["id"], ago=timedelta(days=3))  # twelve 6-hour slots missed
    assert [o for _, o in await schedules.run_due(runtime)] == ["started"]
    assert await schedules.run_due(runtime) == []
    await runtime.executor.wait_idle()
    assert await runs_of(runtime, campaign["id"]) == 1
    async with runtime.sessionmaker() as s:
        next_run = await s.scalar(
            select(Campaign.next_run_at).where(Campaign.id == uuid.UUID(campaign["id"]))
        )
    now = utcnow()
    assert now < next_run <= now + timedelta(hours=6)


async def test_paused_and_archived_campaigns_do_not_run(app, client, alice):
    runtime = app.state.runtime
    for status in ("paused", "archived"):
        campaign = await make_campaign(client, alice["headers"], status=status)
        await make_due(runtime, campaign["id"], ago=timedelta(minutes=5))
        assert await schedules.run_due(runtime) == []
        assert await runs_of(runtime, campaign["id"]) == 0


async def test_the_plan_limit_stops_a_scheduled_run_with_a_reason(make_settings, db):
    async with app_client(
        make_settings(plan_trial_runs_per_week=1, scheduler_interval_seconds=3600)
    ) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        task = await trigger(client, campaign["id"], user["headers"], max_posts_per_subreddit=10)
        await wait_for_run(client, task["task_id"], user["headers"])
        runtime = client.app.state.runtime
        await runtime.executor.wait_idle()
        await make_due(runtime, campaign["id"], ago=timedelta(minutes=1))
        assert [o for _, o in await schedules.run_due(runtime)] == ["skipped"]
        assert await runs_of(runtime, campaign["id"]) == 1
        shown = (await client.get(f"/v1/campaigns/{campaign['id']}", headers=user["headers"])).json()[
            "schedule"
        ]
        assert "weekly collections are used up" in shown["note"]
        assert shown["next_run_at"] > utcnow().isoformat()[:19]
        async with runtime.sessionmaker() as s:
            slot = await s.scalar(select(ScheduledSlot))
        assert slot.outcome == "skipped" and "weekly" in slot.reason
