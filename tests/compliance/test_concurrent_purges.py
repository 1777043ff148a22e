"""Purges that overlap (two processes, a check and retention) count every item once.

Two app clients stand for two API processes on the same database. A purge must lower the
counts by what it really deleted: the same post purged by two passes leaves ``total`` and
``purged`` exact, not lowered twice.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import func, select, update

from bcrao.collection.models import PostCount, RawPost
from bcrao.comments.models import RawComment
from bcrao.compliance import sync
from bcrao.compliance.router import wait_for_checks
from bcrao.db import utcnow
from bcrao.sources.factory import make_source
from tests.compliance.test_deletion_sync import KEYWORDS, all_posts, collect
from tests.conftest import app_client, make_campaign, signup


async def stats(client, headers, cid):
    return (await client.get(f"/v1/campaigns/{cid}/collection-stats", headers=headers)).json()


async def stored_rows(runtime, cid) -> tuple[int, int, int]:
    """Posts and comments really in the store, and the posts ``post_counts`` says are there."""
    async with runtime.sessionmaker() as s:
        posts = await s.scalar(select(func.count()).select_from(RawPost).where(RawPost.campaign_id == cid))
        comments = await s.scalar(
            select(func.count()).select_from(RawComment).where(RawComment.campaign_id == cid)
        )
        counted = await s.scalar(select(func.sum(PostCount.posts)).where(PostCount.campaign_id == cid))
    return posts, comments, counted or 0


@asynccontextmanager
async def writes_held(runtime, post_id):
    """Hold what a purge must wait for until the block ends: on PostgreSQL a lock on one of
    the posts, on SQLite the database's write lock (``BEGIN IMMEDIATE``)."""
    async with runtime.sessionmaker() as s:
        await s.execute(select(RawPost.id).where(RawPost.id == post_id).with_for_update())
        yield
        await s.rollback()


class PausedSource:
    """The configured source, its deletion look-up held until ``release`` is set."""

    def __init__(self, source):
        self.source = source
        self.name = source.name
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def fetch_info(self, fullnames, **kwargs):
        self.entered.set()
        await self.release.wait()
        return await self.source.fetch_info(fullnames, **kwargs)

    async def aclose(self):
        await self.source.aclose()


async def test_two_retention_passes_at_once_purge_each_post_once(make_settings, db, fake_reddit):
    for post in fake_reddit.add_subreddit("SaaS", 30):
        fake_reddit.thread(post["id"], 6 if post["num_comments"] else 0)
    settings = make_settings(**fake_reddit.app_settings())
    async with app_client(settings) as one, app_client(settings) as two:
        user = await signup(one)
        headers = user["headers"]
        campaign = await make_campaign(one, headers, keywords=KEYWORDS, target_subreddits=["SaaS"])
        cid = uuid.UUID(campaign["id"])
        await collect(
            one, headers, campaign["id"], mode="fresh", max_posts_per_subreddit=30, comments_per_post=6
        )
        before = await stats(one, headers, cid)
        stored = before["total"]
        assert stored > 5 and before["comments"]["total"] > 0

        later = utcnow() + timedelta(days=2)
        first_id = min(p["id"] for p in (await all_posts(one, headers, cid))[0])
        rt1, rt2 = one.app.state.runtime, two.app.state.runtime
        # Both passes start and reach their purge; neither can finish before the other began.
        async with writes_held(rt1, uuid.UUID(first_id)):
            passes = [
                asyncio.create_task(sync.apply_retention(rt.sessionmaker, cid, 1, now=later))
                for rt in (rt1, rt2)
            ]
            await asyncio.sleep(0.5)
            assert not any(p.done() for p in passes)
        counts = await asyncio.gather(*passes)

        assert sum(counts) == stored  # each post purged by exactly one of them
        after = await stats(two, headers, cid)
        assert after["total"] == 0 and after["purged"] == stored
        assert after["comments"] == {"total": 0, "posts_with_comments": 0}
        assert await stored_rows(rt1, cid) == (0, 0, 0)
        posts, total = await all_posts(two, headers, cid)
        assert posts == [] and total == 0


async def test_a_check_a_second_check_and_retention_at_once_count_each_item_once(
    make_settings, db, fake_reddit
):
    for post in fake_reddit.add_subreddit("SaaS", 30):
        fake_reddit.thread(post["id"], 8 if post["num_comments"] else 0)
    settings = make_settings(**fake_reddit.app_settings())
    async with app_client(settings) as one, app_client(settings) as two:
        user = await signup(one)
        headers = user["headers"]
        campaign = await make_campaign(one, headers, keywords=KEYWORDS, target_subreddits=["SaaS"])
        cid = campaign["id"]
        await collect(one, headers, cid, mode="fresh", max_posts_per_subreddit=30, comments_per_post=8)
        stored, total = await all_posts(one, headers, cid)
        with_comments = [p for p in stored if p["comments_collected"] > 1]
        old_gone, gone, other = with_comments[:3]  # deleted on Reddit: one also past retention
        comments = (
            await one.get(f"/v1/campaigns/{cid}/posts/{other['id']}/comments", headers=headers)
        ).json()["comments"]
        gone_comment = next(c for c in comments if not c["is_deleted"])
        before = await stats(one, headers, cid)
        fake_reddit.delete_post(old_gone["reddit_post_id"])
        fake_reddit.delete_post(gone["reddit_post_id"])
        fake_reddit.delete_comment(other["reddit_post_id"], gone_comment["reddit_comment_id"])
        rt1, rt2 = one.app.state.runtime, two.app.state.runtime
        async with rt1.sessionmaker() as s, s.begin():
            await s.execute(
                update(RawPost)
                .where(RawPost.id == uuid.UUID(old_gone["id"]))
                .values(collected_at=utcnow() - timedelta(days=10))
            )

        # Process one's periodic pass claims every due post and is looking them up on Reddit...
        paused = PausedSource(make_source(rt1.settings))
        periodic = asyncio.create_task(
            sync.check_campaign(rt1.sessionmaker, paused, uuid.UUID(cid), now=utcnow() + timedelta(hours=25))
        )
        await asyncio.wait_for(paused.entered.wait(), 10)
        # ...when an operator asks process two for a check: the leased posts are left alone...
        info_before = fake_reddit.info_requests
        assert (await two.post(f"/v1/campaigns/{cid}/compliance/check", headers=headers)).status_code == 202
        await wait_for_checks()
        assert fake_reddit.info_requests == info_before
        # ...and process two's retention purges the post that is past it.
        assert await sync.apply_retention(rt2.sessionmaker, uuid.UUID(cid), 5) == 1
        paused.release.set()
        outcome = await periodic
        await paused.aclose()

        # The periodic pass checked every post but purged only what was still there.
        assert outcome.checked == total
        assert (outcome.purged_posts, outcome.purged_comments) == (1, 1)
        after = await stats(two, headers, cid)
        assert after["total"] == before["total"] - 2
        assert after["purged"] == 3  # two posts, one comment: each once
        assert (
            after["comments"]["total"]
            == before["comments"]["total"] - old_gone["comments_collected"] - gone["comments_collected"] - 1
        )
        assert after["comments"]["posts_with_comments"] == before["comments"]["posts_with_comments"] - 2
        summary = (await two.get(f"/v1/campaigns/{cid}/compliance", headers=headers)).json()
        assert summary["checked"] == total and summary["purged"] == 3
        posts, comment_rows, counted = await stored_rows(rt1, uuid.UUID(cid))
        assert posts == counted == total - 2
        assert comment_rows == after["comments"]["total"]
        left, left_total = await all_posts(two, headers, cid)
        assert left_total == total - 2
        assert {old_gone["id"], gone["id"]}.isdisjoint(p["id"] for p in left)
        async with rt1.sessionmaker() as s:
            leased = await s.scalar(
                select(func.count()).select_from(RawPost).where(RawPost.check_lease_until.is_not(None))
            )
        assert leased == 0  # the pass let go of what it checked
