"""A webhook delivery on a real Celery worker that is killed mid-send (issue #19)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import func, select

from bcrao.monitoring.models import AlertDelivery, AlertPost
from tests.conftest import app_client, make_campaign, signup
from tests.monitoring.conftest import webhook_alert
from tests.streaming import trigger, wait_for_run
from tests.tasks.workers import running_worker

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_worker_killed_mid_delivery_does_not_deliver_twice(make_settings, redis_server, db, receiver):
    settings = make_settings(
        redis_url=redis_server,
        # The broker hands the killed worker's unacked message to another worker after 4 s.
        celery_visibility_timeout=4,
        run_stale_after_seconds=3,
        heartbeat_lost_seconds=3,
        reaper_interval_seconds=3600,
        scheduler_interval_seconds=3600,  # no monitoring pass: the broker alone takes over
        alert_retry_base_seconds=0.05,
    )
    async with app_client(settings) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, target_subreddits=["SaaS"])
        url, alert = await webhook_alert(client, receiver, headers, campaign["id"])
        log_url = f"{url}/{alert['id']}/deliveries"

        async def log() -> dict:
            return (await client.get(log_url, headers=headers)).json()

        receiver.stall_seconds = 8.0  # the answer is held (under the 10 s client timeout)
        with running_worker(settings, name="doomed", pool="solo") as doomed:
            task = await trigger(
                client, campaign["id"], headers, max_posts_per_subreddit=30, comments_per_post=0
            )
            await wait_for_run(client, task["task_id"], headers, timeout=30)
            await _until(lambda: asyncio.sleep(0, bool(receiver.hits)), 20, "the first webhook request")
            doomed.kill()  # mid-delivery: the request is out, its answer not yet heard
        receiver.stall_seconds = 0
        [entry] = (await log())["deliveries"]
        assert (entry["status"], entry["attempts"]) == ("retrying", 0)
        assert len(entry["post_ids"]) == len(set(entry["post_ids"])) > 0

        with running_worker(settings, name="survivor") as survivor:

            async def sent() -> bool:
                return (await log())["deliveries"][0]["status"] == "sent"

            await _until(sent, 30, "the redelivered task to send the delivery")
        assert any("deliver_alert" in line and "received" in line for line in survivor.lines)

        # Every request carried the one delivery id: a receiver deduplicating on it keeps it once.
        assert len(receiver.hits) == 2
        assert [h.delivery_id for h in receiver.hits] == [entry["id"]] * 2
        assert all(h.signature_ok for h in receiver.hits)
        assert list(receiver.delivered) == [entry["id"]]
        assert all(
            sorted(p["id"] for p in h.body["posts"]) == sorted(entry["post_ids"]) for h in receiver.hits
        )

        # The log: one delivery, sent once (one attempt recorded, by the survivor).
        final = await log()
        assert final["total"] == 1
        [done] = final["deliveries"]
        assert (done["id"], done["status"], done["attempts"]) == (entry["id"], "sent", 1)
        assert done["response"].startswith("HTTP 200")
        assert sorted(done["post_ids"]) == sorted(entry["post_ids"])

        # No post is in two deliveries of the alert.
        async with client.app.state.runtime.sessionmaker() as s:
            alert_id = uuid.UUID(alert["id"])
            rows = list(await s.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)))
            picked = await s.scalar(
                select(func.count()).select_from(AlertPost).where(AlertPost.alert_id == alert_id)
            )
        every_post = [p for row in rows for p in row.post_ids]
        assert len(rows) == 1 and len(every_post) == len(set(every_post)) == picked
