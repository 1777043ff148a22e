"""Deletion sync against the loopback Reddit: what was deleted there disappears here, for good."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import func, select

from bcrao.collection.models import RawPost
from bcrao.compliance import sync
from bcrao.compliance.models import PurgedItem
from bcrao.compliance.router import wait_for_checks
from bcrao.db import utcnow
from bcrao.themes import compute
from tests.conftest import app_client, make_campaign, signup
from tests.streaming import trigger, wait_for_run

KEYWORDS = ["users", "churn", "feedback", "pricing", "customers", "journey", "tool"]


async def collect(client, headers, campaign_id, **body):
    task = await trigger(client, campaign_id, headers, **body)
    run = await wait_for_run(client, task["task_id"], headers)
    await client.app.state.runtime.executor.wait_idle()
    await compute.wait_for_local()
    return run


async def all_posts(client, headers, campaign_id, **params):
    body = (
        await client.get(
            f"/v1/campaigns/{campaign_id}/posts", params={"per_page": 100, **params}, headers=headers
        )
    ).json()
    return body["posts"], body["total"]


async def test_deleted_posts_and_comments_are_purged_everywhere_and_never_collected_again(
    make_settings, db, fake_reddit
):
    posts = fake_reddit.add_subreddit("SaaS", 40)
    for post in posts:
        fake_reddit.thread(post["id"], 12 if post["num_comments"] else 0)
    async with app_client(make_settings(**fake_reddit.app_settings())) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, keywords=KEYWORDS, target_subreddits=["SaaS"])
        cid = campaign["id"]
        await collect(client, headers, cid, mode="fresh", max_posts_per_subreddit=40, comments_per_post=20)
        stored, total = await all_posts(client, headers, cid)
        with_comments = [p for p in stored if p["comments_collected"] > 1]
        gone_post, other = with_comments[0], with_comments[1]
        comments = (
            await client.get(f"/v1/campaigns/{cid}/posts/{other['id']}/comments", headers=headers)
        ).json()["comments"]
        gone_comment = next(c for c in comments if not c["is_deleted"])
        stats_before = (await client.get(f"/v1/campaigns/{cid}/collection-stats", headers=headers)).json()

        fake_reddit.delete_post(gone_post["reddit_post_id"])
        fake_reddit.delete_comment(other["reddit_post_id"], gone_comment["reddit_comment_id"])
        resp = await client.post(f"/v1/campaigns/{cid}/compliance/check", headers=headers)
        assert resp.status_code == 202
        await wait_for_checks()
        assert fake_reddit.info_requests >= 1

        # Gone from every read path.
        after, after_total = await all_posts(client, headers, cid)
        assert after_total == total - 1 and gone_post["id"] not in {p["id"] for p in after}
        detail = await client.get(f"/v1/campaigns/{cid}/posts/{gone_post['id']}", headers=headers)
        assert detail.status_code == 404
        word = next(w for w in gone_post["title"].split() if len(w) > 4)
        found, _ = await all_posts(client, headers, cid, q=word)
        assert gone_post["id"] not in {p["id"] for p in found}
        export = (await client.get(f"/v1/campaigns/{cid}/posts/export", headers=headers)).content.decode(
            "utf-8-sig"
        )
        assert gone_post["reddit_post_id"] not in {
            r["reddit_post_id"] for r in csv.DictReader(io.StringIO(export))
        }
        left = (await client.get(f"/v1/campaigns/{cid}/posts/{other['id']}/comments", headers=headers)).json()
        assert gone_comment["id"] not in {c["id"] for c in left["comments"]}
        assert left["total"] == len(comments) - 1
        stats = (await client.get(f"/v1/campaigns/{cid}/collection-stats", headers=headers)).json()
        assert stats["total"] == stats_before["total"] - 1
        assert (
            stats["comments"]["total"]
            == stats_before["comments"]["total"] - gone_post["comments_collected"] - 1
        )
        assert stats["purged"] == 2
        themes = (await client.get(f"/v1/campaigns/{cid}/themes", headers=headers)).json()
        assert themes["status"] in ("stale", "computing")
        await compute.wait_for_local()
        themes = (await client.get(f"/v1/campaigns/{cid}/themes", headers=headers)).json()
        assert themes["total_posts"] == after_total
        for theme in themes["themes"]:
            members = (
                await client.get(
                    f"/v1/campaigns/{cid}/themes/{theme['id']}/posts",
                    params={"per_page": 100},
                    headers=headers,
                )
            ).json()["posts"]
            assert gone_post["id"] not in {p["id"] for p in members}
            assert all(q["post_id"] != gone_post["id"] for q in theme["quotes"])
        summary = (await client.get(f"/v1/campaigns/{cid}/compliance", headers=headers)).json()
        assert summary["checked"] == total and summary["purged"] == 2 and summary["last_checked_at"]
        assert summary["next_check_at"] > utcnow().isoformat()[:19]

        # Tombstones keep ids and times only.
        async with client.app.state.runtime.sessionmaker() as s:
            stones = {(t.reddit_fullname, t.reason) for t in await s.scalars(select(PurgedItem))}
        assert stones == {
            (f"t3_{gone_post['reddit_post_id']}", "deleted"),
            (f"t1_{gone_comment['reddit_comment_id']}", "deleted"),
        }
        assert {c.name for c in sa.inspect(PurgedItem).columns} == {
            "campaign_id",
            "reddit_fullname",
            "collected_at",
            "purged_at",
            "reason",
        }

        # "Collect more": Reddit still lists the post, but it is never stored again.
        fake_reddit.thread(other["reddit_post_id"])  # the comment is still in the thread as [deleted]
        await collect(
            client, headers, cid, mode="historical", max_posts_per_subreddit=40, comments_per_post=20
        )
        again, _ = await all_posts(client, headers, cid)
        assert gone_post["reddit_post_id"] not in {p["reddit_post_id"] for p in again}
        left = (await client.get(f"/v1/campaigns/{cid}/posts/{other['id']}/comments", headers=headers)).json()
        assert gone_comment["reddit_comment_id"] not in {c["reddit_comment_id"] for c in left["comments"]}


async def test_checks_follow_the_schedule_and_retention_purges_old_posts(make_settings, db, fake_reddit):
    fake_reddit.add_subreddit("SaaS", 20)
    settings = make_settings(**fake_reddit.app_settings(), comments_per_post=0)
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], keywords=KEYWORDS, target_subreddits=["SaaS"])
        await collect(client, user["headers"], campaign["id"], mode="fresh", max_posts_per_subreddit=20)
        runtime = client.app.state.runtime
        assert await sync.run_due(runtime) == 0  # nothing due within the first day
        later = utcnow() + timedelta(hours=25)
        stored = (await all_posts(client, user["headers"], campaign["id"]))[1]
        assert await sync.run_due(runtime, now=later) == stored
        async with runtime.sessionmaker() as s:
            checks = set(await s.scalars(select(RawPost.checks)))
            nexts = list(await s.scalars(select(RawPost.next_check_at)))
        assert checks == {1} and all(n > later + timedelta(days=1) for n in nexts)
        assert await sync.run_due(runtime, now=later) == 0  # not due again yet

        cid = uuid.UUID(campaign["id"])
        purged = await sync.apply_retention(runtime.sessionmaker, cid, 1, now=utcnow() + timedelta(days=2))
        assert purged == stored
        async with runtime.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(RawPost)) == 0
            assert (
                await s.scalar(
                    select(func.count()).select_from(PurgedItem).where(PurgedItem.reason == "retention")
                )
                == stored
            )
        stats = (
            await client.get(f"/v1/campaigns/{campaign['id']}/collection-stats", headers=user["headers"])
        ).json()
        assert stats["total"] == 0 and stats["purged"] == stored


async def test_the_offline_sample_source_finds_nothing_deleted(client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    await collect(client, alice["headers"], campaign["id"], max_posts_per_subreddit=20)
    await client.post(f"/v1/campaigns/{campaign['id']}/compliance/check", headers=alice["headers"])
    await wait_for_checks()
    summary = (
        await client.get(f"/v1/campaigns/{campaign['id']}/compliance", headers=alice["headers"])
    ).json()
    assert summary["checked"] > 0 and summary["purged"] == 0
