"""Deleting a campaign takes its runs, posts, samples and cursors with it (database cascade)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from bcrao.collection.models import CollectionRun, RawPost, RejectedSample, RunLedger, SourceCursor
from tests.conftest import make_campaign


async def test_delete_cascades_to_runs_posts_samples_and_cursors(client, app, alice):
    campaign = await make_campaign(client, alice["headers"])
    cid, uid = uuid.UUID(campaign["id"]), uuid.UUID(alice["user"]["id"])
    maker = app.state.runtime.sessionmaker
    async with maker() as s:
        run = CollectionRun(
            campaign_id=cid, user_id=uid, status="complete", source="sample", classifier="rules"
        )
        s.add(run)
        await s.flush()
        s.add(RunLedger(user_id=uid, run_id=run.id))
        s.add(
            RawPost(
                campaign_id=cid,
                user_id=uid,
                run_id=run.id,
                subreddit="SaaS",
                subreddit_key="saas",
                reddit_post_id="abc",
                reddit_url="https://www.reddit.com/r/SaaS/comments/abc/x/",
                title="t",
                reddit_created_at=datetime.now(UTC),
            )
        )
        s.add(
            RejectedSample(
                run_id=run.id, reason="too_short", reddit_post_id="def", subreddit="SaaS", title="x"
            )
        )
        s.add(
            SourceCursor(
                campaign_id=cid,
                subreddit_key="saas",
                mode="fresh",
                newest_created_at=datetime.now(UTC),
                newest_post_id="abc",
            )
        )
        await s.commit()

    assert (await client.delete(f"/v1/campaigns/{cid}", headers=alice["headers"])).status_code == 204

    async with maker() as s:
        for model in (CollectionRun, RawPost, RejectedSample, SourceCursor):
            assert await s.scalar(select(func.count()).select_from(model)) == 0, model.__name__
        # The plan ledger survives: deleted campaigns' runs still count toward the allowance.
        assert await s.scalar(select(func.count()).select_from(RunLedger)) == 1
