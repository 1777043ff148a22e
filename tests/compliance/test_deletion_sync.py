"""Deletion sync against the loopback Reddit: what was deleted there disappears here, for good."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import func, select

from bcrao.collection.models import RawPost
from bcrao.comments.service import comment_url
from bcrao.compliance import sync
from bcrao.compliance.models import PurgedItem
from bcrao.compliance.purge import purge_comments, purge_posts
from bcrao.compliance.router import wait_for_checks
from bcrao.db import session_scope, utcnow
from bcrao.themes import compute
from bcrao.themes.engine import build_themes
from bcrao.themes.models import ThemeSet
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


def mark(fake_reddit, posts) -> None:
    """Give every post and comment a word of its own (``zq<post id>``, ``zc<comment id>``),
    so a download can be searched for anything a purged item said."""
    for post in posts:
        post["title"] = f"{post['title']} zq{post['id']}"
        for comment in fake_reddit.thread(post["id"]).by_id.values():
            if comment.body not in ("[deleted]", "[removed]"):
                comment.body = f"{comment.body} zc{comment.id}"


async def downloads(client, headers, cid) -> dict[str, str]:
    """Every download that holds a campaign's words: comments (CSV, JSONL), the research
    brief and its themes CSV, and the account export."""
    paths = {
        "report.md": (f"/v1/campaigns/{cid}/report", {"format": "md"}),
        "report.csv": (f"/v1/campaigns/{cid}/report", {"format": "csv"}),
        "comments.csv": (f"/v1/campaigns/{cid}/comments/export", {"format": "csv"}),
        "comments.jsonl": (f"/v1/campaigns/{cid}/comments/export", {"format": "jsonl"}),
        "me.jsonl": ("/v1/me/export", {}),
    }
    found = {}
    for name, (path, params) in paths.items():
        resp = await client.get(path, params=params, headers=headers)
        assert resp.status_code == 200, (name, resp.text)
        found[name] = resp.content.decode("utf-8-sig")
    return found


async def test_deleted_posts_and_comments_are_purged_everywhere_and_never_collected_again(
    make_settings, db, fake_reddit
):
    posts = fake_reddit.add_subreddit("SaaS", 40)
    for post in posts:
        fake_reddit.thread(post["id"], 12 if post["num_comments"] else 0)
    mark(fake_reddit, posts)
    async with app_client(make_settings(**fake_reddit.app_settings())) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, keywords=KEYWORDS, target_subreddits=["SaaS"])
        cid = campaign["id"]
        await collect(client, headers, cid, mode="fresh", max_posts_per_subreddit=40, comments_per_post=20)
        stored, total = await all_posts(client, headers, cid)
        with_comments = [p for p in stored if p["comments_collected"] > 1]
        # The purged post is one the research brief quotes, so the brief is shown to lose it.
        themes = (await client.get(f"/v1/campaigns/{cid}/themes", headers=headers)).json()
        quoted = {q["post_id"] for t in themes["themes"] for q in t["quotes"]}
        gone_post = next(p for p in with_comments if p["id"] in quoted)
        other = next(p for p in with_comments if p["id"] != gone_post["id"])
        comments = (
            await client.get(f"/v1/campaigns/{cid}/posts/{other['id']}/comments", headers=headers)
        ).json()["comments"]
        gone_comment = next(c for c in comments if not c["is_deleted"])
        gone_thread = (
            await client.get(f"/v1/campaigns/{cid}/posts/{gone_post['id']}/comments", headers=headers)
        ).json()["comments"]
        assert len(gone_thread) == gone_post["comments_collected"]
        # What a purge must take out of every download: ids, links and words.
        purged_words = [
            gone_post["id"],
            gone_post["reddit_post_id"],
            f"zq{gone_post['reddit_post_id']}",
            gone_comment["id"],
            gone_comment["reddit_comment_id"],
            f"zc{gone_comment['reddit_comment_id']}",
            *(c["id"] for c in gone_thread),
            *(f"zc{c['reddit_comment_id']}" for c in gone_thread),
        ]
        held = await downloads(client, headers, cid)
        assert gone_post["reddit_post_id"] in held["report.md"]  # quoted, with its link
        for name in ("comments.csv", "comments.jsonl", "me.jsonl"):
            assert f"zc{gone_comment['reddit_comment_id']}" in held[name], name
            assert any(f"zc{c['reddit_comment_id']}" in held[name] for c in gone_thread), name
        assert f"zq{gone_post['reddit_post_id']}" in held["me.jsonl"]
        stats_before = (await client.get(f"/v1/campaigns/{cid}/collection-stats", headers=headers)).json()

        fake_reddit.delete_post(gone_post["reddit_post_id"])
        fake_reddit.delete_comment(other["reddit_post_id"], gone_comment["reddit_comment_id"])
        resp = await client.post(f"/v1/campaigns/{cid}/compliance/check", headers=headers)
        assert resp.status_code == 202
        await wait_for_checks()
        assert fake_reddit.info_requests >= 1
        # Not even the themes computed before the purge (shown "stale" until recomputed) quote it.
        stale = await downloads(client, headers, cid)
        assert "Themes predate the latest posts" in stale["report.md"]
        for name, text in stale.items():
            assert not [w for w in purged_words if w in text], name

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
        # Gone from every download: comments, the brief and its themes, the account export.
        left_downloads = await downloads(client, headers, cid)
        for name, text in left_downloads.items():
            assert not [w for w in purged_words if w in text], name
        assert f"zq{other['reddit_post_id']}" in left_downloads["me.jsonl"]  # the rest is still there
        assert other["reddit_post_id"] in left_downloads["comments.csv"]
        exported = [json.loads(line) for line in left_downloads["me.jsonl"].splitlines()]
        assert {r["type"] for r in exported} >= {"user", "campaign", "run", "post", "comment"}
        assert sum(r["type"] == "post" for r in exported) == after_total
        assert sum(r["type"] == "comment" for r in exported) == stats["comments"]["total"]
        comment_rows = list(csv.DictReader(io.StringIO(left_downloads["comments.csv"])))
        assert len(comment_rows) == stats["comments"]["total"]
        assert list(csv.DictReader(io.StringIO(left_downloads["report.csv"])))  # themes, recomputed

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


async def comment_quote(client, headers, cid, post) -> dict:
    """A quote of one of the post's stored comments, shaped as the themes store it."""
    comments = (await client.get(f"/v1/campaigns/{cid}/posts/{post['id']}/comments", headers=headers)).json()[
        "comments"
    ]
    comment = next(c for c in comments if not c["is_deleted"])
    return {
        "post_id": post["id"],
        "comment_id": comment["id"],
        "reddit_url": comment_url(post["reddit_url"], comment["reddit_comment_id"]),
        "text": comment["body"],
        "upvotes": comment["upvotes"],
    }


async def test_purged_posts_and_comments_leave_the_quotes_of_stored_and_computing_themes(
    make_settings, db, fake_reddit, monkeypatch
):
    posts = fake_reddit.add_subreddit("SaaS", 40)
    for post in posts:
        fake_reddit.thread(post["id"], 12 if post["num_comments"] else 0)
    mark(fake_reddit, posts)
    async with app_client(make_settings(**fake_reddit.app_settings())) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, keywords=KEYWORDS, target_subreddits=["SaaS"])
        cid = uuid.UUID(campaign["id"])
        await collect(client, headers, cid, mode="fresh", max_posts_per_subreddit=40, comments_per_post=20)
        runtime = client.app.state.runtime
        stored, _ = await all_posts(client, headers, cid)
        themes = (await client.get(f"/v1/campaigns/{cid}/themes", headers=headers)).json()
        quoted = {q["post_id"]: q for t in themes["themes"] for q in t["quotes"]}
        gone_post = next(p for p in stored if p["id"] in quoted)
        # The sample threads' comments are too alike to be quoted: quotes of them are added.
        others = [p for p in stored if p["id"] not in quoted and p["comments_collected"] > 1]
        first, second = [await comment_quote(client, headers, cid, p) for p in others[:2]]

        async def purge(post_ids, comment_ids) -> None:
            async with session_scope(runtime.sessionmaker) as s:
                now = utcnow()
                assert await purge_posts(s, campaign_id=cid, ids=post_ids, reason="deleted", now=now) == len(
                    post_ids
                )
                assert await purge_comments(
                    s, campaign_id=cid, ids=comment_ids, reason="deleted", now=now
                ) == len(comment_ids)

        # 1. Stored themes: a purge takes its quotes out at once, before any recomputation.
        async with session_scope(runtime.sessionmaker) as s:
            row = await s.get(ThemeSet, cid)
            row.themes = [{**row.themes[0], "quotes": [*row.themes[0]["quotes"], first]}, *row.themes[1:]]
        report = (await client.get(f"/v1/campaigns/{cid}/report", headers=headers)).text
        assert first["reddit_url"] in report and quoted[gone_post["id"]]["reddit_url"] in report
        monkeypatch.setattr(compute, "request_themes", lambda *a, **k: asyncio.sleep(0))  # stay stale
        await purge([uuid.UUID(gone_post["id"])], [uuid.UUID(first["comment_id"])])
        report = (await client.get(f"/v1/campaigns/{cid}/report", headers=headers)).text
        assert "Themes predate the latest posts" in report
        assert first["reddit_url"] not in report and first["text"] not in report
        assert quoted[gone_post["id"]]["reddit_url"] not in report
        assert gone_post["reddit_post_id"] not in report
        monkeypatch.undo()

        # 2. A computation that read a post and a comment before they were purged stores no
        # quote of them.
        victim = next(p for p in stored if p["id"] in quoted and p["id"] != gone_post["id"])
        loop = asyncio.get_running_loop()

        def purged_while_computing(docs):
            result = build_themes(docs)
            result.themes[0]["quotes"].append(second)
            asyncio.run_coroutine_threadsafe(
                purge([uuid.UUID(victim["id"])], [uuid.UUID(second["comment_id"])]), loop
            ).result(30)
            return result

        monkeypatch.setattr(compute, "build_themes", purged_while_computing)
        assert await compute.compute_themes(runtime.sessionmaker, cid) == "ready"
        async with runtime.sessionmaker() as s:
            left = [q for t in (await s.get(ThemeSet, cid)).themes for q in t["quotes"]]
        assert left
        assert {victim["id"], gone_post["id"]}.isdisjoint(q["post_id"] for q in left)
        assert second["comment_id"] not in {q["comment_id"] for q in left}
        report = (await client.get(f"/v1/campaigns/{cid}/report", headers=headers)).text
        assert second["reddit_url"] not in report and victim["reddit_post_id"] not in report
