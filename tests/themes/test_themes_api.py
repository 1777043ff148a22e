"""Themes through the API after a real (sample-source) collection, computed in-process."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest

from bcrao.collection import store
from bcrao.themes import compute
from tests.conftest import make_campaign
from tests.streaming import trigger, wait_for_run

SUBS = ["SaaS", "startups", "Entrepreneur"]


async def collected(client, user) -> dict:
    campaign = await make_campaign(
        client, user["headers"], target_subreddits=SUBS, keywords=["customers", "pricing", "churn"]
    )
    task = await trigger(
        client, campaign["id"], user["headers"], max_posts_per_subreddit=150, comments_per_post=15
    )
    run = await wait_for_run(client, task["task_id"], user["headers"])
    assert run["status"] == "complete"
    await client.app.state.runtime.executor.wait_idle()  # its followers have started
    await compute.wait_for_local()
    return campaign


async def themes_of(client, user, campaign, **params) -> dict:
    resp = await client.get(f"/v1/campaigns/{campaign['id']}/themes", params=params, headers=user["headers"])
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture
async def themed(client, alice):
    return await collected(client, alice)


async def test_themes_cover_the_posts_with_quotes_cut_from_them(client, alice, themed):
    body = await themes_of(client, alice, themed)
    assert body["status"] == "ready" and body["computed_at"]
    stats = (
        await client.get(f"/v1/campaigns/{themed['id']}/collection-stats", headers=alice["headers"])
    ).json()
    themes = body["themes"]
    assert 2 <= len(themes) <= 12
    assert body["total_posts"] == stats["total"]
    assert sum(t["size"] for t in themes) + body["unassigned"] == body["total_posts"]
    assert body["unassigned"] <= 0.2 * body["total_posts"]  # no giant outlier bucket
    assert sorted(t["id"] for t in themes) == list(range(1, len(themes) + 1))
    assert [t["size"] for t in themes] == sorted((t["size"] for t in themes), reverse=True)
    for t in themes:
        assert set(t) == {"id", "label", "terms", "size", "share", "by_archetype", "avg_success_score",
                          "pain_score", "trend", "direction", "quotes"}  # fmt: skip
        assert t["label"] and t["terms"] and sum(t["by_archetype"].values()) == t["size"]
        assert len(t["trend"]) == 8 and t["direction"] in ("rising", "steady", "fading")
        assert 0 <= t["pain_score"] <= 10 and 3 <= len(t["quotes"]) <= 5
        for q in t["quotes"]:
            post = (
                await client.get(
                    f"/v1/campaigns/{themed['id']}/posts/{q['post_id']}", headers=alice["headers"]
                )
            ).json()
            if q["comment_id"] is None:
                assert q["text"] in post["title"] or q["text"] in post["raw_text"]
                assert q["reddit_url"] == post["reddit_url"]
            else:
                comments = (
                    await client.get(
                        f"/v1/campaigns/{themed['id']}/posts/{q['post_id']}/comments",
                        params={"per_page": 500},
                        headers=alice["headers"],
                    )
                ).json()["comments"]
                comment = next(c for c in comments if c["id"] == q["comment_id"])
                assert q["text"] in comment["body"] and q["reddit_url"] == comment["reddit_url"]
    assert max(t["pain_score"] for t in themes) == 10
    by_pain = await themes_of(client, alice, themed, sort="-pain_score")
    assert [t["pain_score"] for t in by_pain["themes"]] == sorted(
        (t["pain_score"] for t in themes), reverse=True
    )
    by_direction = await themes_of(client, alice, themed, sort="-direction")
    order = {"rising": 0, "steady": 1, "fading": 2}
    assert [order[t["direction"]] for t in by_direction["themes"]] == sorted(
        order[t["direction"]] for t in themes
    )


async def test_a_themes_posts_are_the_post_list_with_its_filters(client, alice, themed):
    themes = (await themes_of(client, alice, themed))["themes"]
    seen: set[str] = set()
    for theme in themes:
        url = f"/v1/campaigns/{themed['id']}/themes/{theme['id']}/posts"
        ids = []
        for page in range(1, 20):
            body = (
                await client.get(url, params={"per_page": 100, "page": page}, headers=alice["headers"])
            ).json()
            ids += [p["id"] for p in body["posts"]]
            if len(ids) >= body["total"]:
                break
        assert body["total"] == theme["size"] == len(set(ids))
        assert not seen & set(ids)  # a post is in one theme at most
        seen |= set(ids)
        archetype, count = max(theme["by_archetype"].items(), key=lambda kv: kv[1])
        narrowed = (await client.get(url, params={"archetype": archetype}, headers=alice["headers"])).json()
        assert narrowed["total"] == count
        assert all(p["archetype"] == archetype for p in narrowed["posts"])
    quoted = {q["post_id"] for t in themes for q in t["quotes"]}
    assert quoted <= seen
    missing = await client.get(f"/v1/campaigns/{themed['id']}/themes/999/posts", headers=alice["headers"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_every_theme_route_is_404_for_another_user(client, alice, bob, themed):
    base = f"/v1/campaigns/{themed['id']}"
    for method, path in (("GET", "/themes"), ("GET", "/themes/1/posts"), ("POST", "/themes/refresh"),
                         ("GET", "/report"), ("GET", "/report?format=csv")):  # fmt: skip
        resp = await client.request(method, base + path, headers=bob["headers"])
        assert resp.status_code == 404, (path, resp.status_code)
    unknown = await client.get(f"/v1/campaigns/{uuid.uuid4()}/themes", headers=alice["headers"])
    assert unknown.status_code == 404


async def test_an_empty_campaign_has_empty_themes(client, alice):
    campaign = await make_campaign(client, alice["headers"])
    body = await themes_of(client, alice, campaign)
    assert body == {
        "status": "empty",
        "computed_at": None,
        "total_posts": 0,
        "unassigned": 0,
        "themes": [],
        "message": None,
    }
    resp = await client.get(
        f"/v1/campaigns/{campaign['id']}/themes", params={"sort": "size"}, headers=alice["headers"]
    )
    assert resp.status_code == 422


async def test_new_posts_make_themes_stale_until_recomputed(app, client, alice, themed):
    before = await themes_of(client, alice, themed)
    cid = uuid.UUID(themed["id"])
    async with app.state.runtime.sessionmaker() as session:
        row = {
            "campaign_id": cid,
            "user_id": uuid.UUID(alice["user"]["id"]),
            "run_id": None,
            "subreddit": "SaaS",
            "subreddit_key": "saas",
            "reddit_post_id": "zzfresh1",
            "reddit_url": "https://www.reddit.com/r/SaaS/comments/zzfresh1/",
            "author": "a",
            "title": "Our churn doubled after the pricing change",
            "raw_text": "What did we miss?",
            "upvotes": 3,
            "comment_count": 0,
            "upvote_ratio": 1.0,
            "reddit_created_at": datetime.now(UTC),
            "archetype": "ProblemSolution",
            "relevance_score": 1.0,
            "success_score": 4.0,
            "score_breakdown": {},
            "is_ai_processed": False,
            "classifier": "model",
        }
        await store.insert_posts(session, campaign_id=cid, run_id=uuid.uuid4(), rows=[row])
        await session.commit()
    stale = await themes_of(client, alice, themed)
    assert stale["status"] == "stale" and stale["themes"] == before["themes"]  # shown while recomputing
    await compute.wait_for_local()
    fresh = await themes_of(client, alice, themed)
    assert fresh["status"] == "ready" and fresh["total_posts"] == before["total_posts"] + 1


async def test_refresh_recomputes_the_same_themes_for_the_same_posts(client, alice, themed):
    before = await themes_of(client, alice, themed)
    resp = await client.post(f"/v1/campaigns/{themed['id']}/themes/refresh", headers=alice["headers"])
    assert resp.status_code == 202 and resp.json() == {"status": "computing"}
    assert (await themes_of(client, alice, themed))["status"] == "computing"
    await compute.wait_for_local()
    after = await themes_of(client, alice, themed)
    assert after["status"] == "ready" and after["themes"] == before["themes"]  # deterministic
    assert after["computed_at"] > before["computed_at"]


async def test_the_research_brief_in_markdown_and_the_themes_as_csv(client, alice, themed):
    themes = (await themes_of(client, alice, themed))["themes"]
    resp = await client.get(f"/v1/campaigns/{themed['id']}/report", headers=alice["headers"])
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/markdown")
    assert resp.headers["content-disposition"] == 'attachment; filename="churn-research-brief.md"'
    brief = resp.text
    assert brief.startswith("# Research brief: Churn research")
    assert "## What was collected" in brief and "## Top themes" in brief and "## Pain points" in brief
    assert themes[0]["quotes"][0]["reddit_url"] in brief
    csv_resp = await client.get(
        f"/v1/campaigns/{themed['id']}/report", params={"format": "csv"}, headers=alice["headers"]
    )
    assert csv_resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_resp.text.lstrip("\ufeff"))))
    assert [int(r["id"]) for r in rows] == [t["id"] for t in themes]
    assert all(int(r["size"]) == t["size"] for r, t in zip(rows, themes, strict=True))
    bad = await client.get(
        f"/v1/campaigns/{themed['id']}/report", params={"format": "pdf"}, headers=alice["headers"]
    )
    assert bad.status_code == 422


async def test_deleting_the_campaign_deletes_its_themes(app, client, alice, themed):
    from sqlalchemy import func, select

    from bcrao.themes.models import ThemePost, ThemeSet

    assert (await client.delete(f"/v1/campaigns/{themed['id']}", headers=alice["headers"])).status_code == 204
    async with app.state.runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ThemeSet)) == 0
        assert await s.scalar(select(func.count()).select_from(ThemePost)) == 0
