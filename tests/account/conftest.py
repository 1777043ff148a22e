"""An account with a row in every table: collected posts and comments, corrections, an alert
with a delivery, schedule slots, compliance records, themes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from bcrao.collection.models import CollectionRun, RawPost
from bcrao.compliance.models import ComplianceTotal, PurgedItem
from bcrao.db import session_scope
from bcrao.monitoring.models import AlertDelivery, AlertPost, ScheduledSlot
from bcrao.themes import compute
from tests.conftest import make_campaign
from tests.streaming import trigger, wait_for_run


@dataclass
class Owned:
    """The ids an account owns, by what they identify."""

    user: uuid.UUID
    campaigns: set[uuid.UUID] = field(default_factory=set)
    runs: set[uuid.UUID] = field(default_factory=set)
    posts: set[uuid.UUID] = field(default_factory=set)
    alerts: set[uuid.UUID] = field(default_factory=set)

    def ids(self) -> set[uuid.UUID]:
        return {self.user, *self.campaigns, *self.runs, *self.posts, *self.alerts}


async def populate(client: httpx.AsyncClient, account: dict, *, subreddits: list[str]) -> Owned:
    headers = account["headers"]
    owned = Owned(user=uuid.UUID(account["user"]["id"]))
    campaign = await make_campaign(client, headers, target_subreddits=subreddits, keywords=["the", "churn"])
    cid = campaign["id"]
    task = await trigger(client, cid, headers, mode="hybrid", max_posts_per_subreddit=40, comments_per_post=3)
    run = await wait_for_run(client, task["task_id"], headers)
    assert run["status"] == "complete" and run["stored"] > 0 and run["comments_stored"] > 0
    await client.app.state.runtime.executor.wait_idle()  # the run's followers (themes) are done
    posts = (await client.get(f"/v1/campaigns/{cid}/posts?per_page=3", headers=headers)).json()["posts"]
    labelled = await client.put(
        f"/v1/campaigns/{cid}/posts/{posts[0]['id']}/label", json={"archetype": "Feedback"}, headers=headers
    )
    assert labelled.status_code == 200, labelled.text
    noise = await client.put(f"/v1/campaigns/{cid}/posts/{posts[1]['id']}/noise", headers=headers)
    assert noise.status_code == 200, noise.text
    alert = await client.post(
        f"/v1/campaigns/{cid}/alerts",
        json={"channel": "webhook", "target": "https://example.com/hook", "digest": "daily"},
        headers=headers,
    )
    assert alert.status_code == 201, alert.text
    refreshed = await client.post(f"/v1/campaigns/{cid}/themes/refresh", headers=headers)
    assert refreshed.status_code == 202, refreshed.text
    await client.app.state.runtime.executor.wait_idle()
    await compute.wait_for_local()  # the themes are stored before anyone counts rows

    alert_id, campaign_id, post_id = uuid.UUID(alert.json()["id"]), uuid.UUID(cid), uuid.UUID(posts[2]["id"])
    now = datetime.now(UTC)
    # What the monitoring and compliance loops would leave behind, written as they write it.
    async with session_scope(client.app.state.runtime.sessionmaker) as s:
        s.add(AlertPost(alert_id=alert_id, post_id=post_id))
        s.add(
            AlertDelivery(
                alert_id=alert_id,
                kind="digest",
                status="sent",
                attempts=1,
                post_ids=[str(post_id)],
                post_total=1,
            )
        )
        s.add(ScheduledSlot(campaign_id=campaign_id, slot_at=now, run_id=uuid.UUID(run["task_id"])))
        s.add(
            PurgedItem(
                campaign_id=campaign_id, reddit_fullname="t3_gone1", reason="deleted", collected_at=now
            )
        )
        s.add(ComplianceTotal(campaign_id=campaign_id, checked=3, purged=1, last_checked_at=now))
    async with client.app.state.runtime.sessionmaker() as s:
        owned.posts = set(await s.scalars(select(RawPost.id).where(RawPost.campaign_id == campaign_id)))
        owned.runs = set(
            await s.scalars(select(CollectionRun.id).where(CollectionRun.campaign_id == campaign_id))
        )
    owned.campaigns, owned.alerts = {campaign_id}, {alert_id}
    return owned
