"""Comments API: a post's thread, comment search, the comments export and the totals.

Threads are written through the comment store (as the pipeline writes them) under the
seeded posts; every expectation is computed from ``THREAD`` in plain Python.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bcrao.comments import store as comment_store
from bcrao.comments.export import EXPORT_FIELDS
from bcrao.sources.base import NormalizedComment
from tests.conftest import field_names

from .conftest import seed

T0 = datetime(2026, 11, 5, tzinfo=UTC)

# (id, parent (None = top level), upvotes, minutes after T0, body; None = deleted)
THREAD = [
    ("c1", None, 10, 1, "We use Stripe billing and hate the dunning emails"),
    ("c2", "c1", 4, 5, "Same here, the retries are opaque"),
    ("c3", "c1", 9, 3, None),
    ("c4", "c3", 2, 9, "Replying to a deleted comment about zebrafish"),
    ("c5", None, 25, 2, "=HYPERLINK() churn spreadsheets are how we track it"),
    ("c6", "c5", 1, 4, "Paddle did this better for us"),
    ("c7", None, 10, 7, "Chargebee is pricey but solid"),
]
# Tree order: c5 (25) > c1 (10, id c1) = c7 (10, id c7); under c1: c3 (9) then c2 (4).
TREE = ["c5", "c6", "c1", "c3", "c4", "c2", "c7"]


def thread_comments(post_reddit_id: str, thread=THREAD) -> list[NormalizedComment]:
    depth: dict[str, int] = {}
    out = []
    for cid, parent, ups, minutes, body in thread:
        depth[cid] = 0 if parent is None else depth[parent] + 1
        out.append(
            NormalizedComment(
                id=cid,
                post_id=post_reddit_id,
                parent_id=f"t3_{post_reddit_id}" if parent is None else f"t1_{parent}",
                depth=depth[cid],
                author=None if body is None else f"user_{cid}",
                body=body,
                upvotes=ups,
                created_utc=T0 + timedelta(minutes=minutes),
                is_deleted=body is None,
            )
        )
    return out


async def add_thread(app, seeded, post: dict, thread=THREAD) -> int:
    async with app.state.runtime.sessionmaker() as session:
        rows = comment_store.comment_rows(
            thread_comments(post["reddit_post_id"], thread),
            campaign_id=post["campaign_id"],
            user_id=post["user_id"],
            post_id=post["id"],
            run_id=None,
        )
        new = await comment_store.insert_comments(
            session, campaign_id=post["campaign_id"], post_id=post["id"], run_id=None, rows=rows
        )
        await session.commit()
    return new


@pytest.fixture
async def threaded(app, seeded):
    post = seeded.posts[0]
    assert await add_thread(app, seeded, post) == len(THREAD)
    return seeded, post


async def get_comments(client, seeded, post, **params):
    return await client.get(
        seeded.url(f"/posts/{post['id']}/comments"), params=params, headers=seeded.headers
    )


async def test_tree_order_is_depth_first_best_first_with_deleted_comments_in_place(client, threaded):
    seeded, post = threaded
    resp = await get_comments(client, seeded, post)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["total"], body["page"], body["per_page"]) == (len(THREAD), 1, 100)
    assert [c["reddit_comment_id"] for c in body["comments"]] == TREE
    first = body["comments"][0]
    assert set(first) == {
        "id", "post_id", "reddit_comment_id", "parent_id", "depth", "author", "body", "upvotes",
        "reddit_created_at", "is_deleted", "collected_at", "reddit_url",
    }  # fmt: skip
    assert first["post_id"] == str(post["id"]) and first["parent_id"] == f"t3_{post['reddit_post_id']}"
    assert first["reddit_url"] == post["reddit_url"].rstrip("/") + "/c5/"
    deleted = next(c for c in body["comments"] if c["reddit_comment_id"] == "c3")
    assert deleted["is_deleted"] and deleted["author"] is None and deleted["body"] is None
    assert [c["depth"] for c in body["comments"]] == [0, 1, 0, 1, 2, 1, 0]


async def test_top_new_and_paging(client, threaded):
    seeded, post = threaded
    top = (await get_comments(client, seeded, post, order="top")).json()["comments"]
    assert [c["upvotes"] for c in top] == sorted((t[2] for t in THREAD), reverse=True)
    new = (await get_comments(client, seeded, post, order="new")).json()["comments"]
    assert [c["reddit_comment_id"] for c in new] == [t[0] for t in sorted(THREAD, key=lambda t: -t[3])]
    pages = []
    for page in (1, 2, 3, 4):
        body = (await get_comments(client, seeded, post, per_page=2, page=page)).json()
        assert body["total"] == len(THREAD)
        pages.extend(c["reddit_comment_id"] for c in body["comments"])
    assert pages == TREE


async def test_comment_reads_are_validated_and_tenant_scoped(client, threaded, bob):
    seeded, post = threaded
    for params, field in (
        ({"per_page": 501}, "per_page"),
        ({"order": "best"}, "order"),
        ({"page": 0}, "page"),
    ):
        resp = await get_comments(client, seeded, post, **params)
        assert resp.status_code == 422 and field in field_names(resp)
    missing = await client.get(seeded.url(f"/posts/{uuid.uuid4()}/comments"), headers=seeded.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    other = await client.get(seeded.url(f"/posts/{post['id']}/comments"), headers=bob["headers"])
    assert other.status_code == 404
    empty = (await get_comments(client, seeded, seeded.posts[1])).json()
    assert (empty["comments"], empty["total"]) == ([], 0)


async def test_search_in_finds_posts_by_the_words_of_their_comments(client, threaded):
    seeded, post = threaded

    async def ids(**params) -> list[str]:
        resp = await client.get(seeded.url(), params={"per_page": 100, **params}, headers=seeded.headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["total"] == len(body["posts"])
        return [p["id"] for p in body["posts"]]

    assert await ids(q="zebra") == []
    assert await ids(q="zebra", search_in="comments") == [str(post["id"])]
    assert await ids(q="zebra", search_in="all") == [str(post["id"])]
    # Word prefixes, case-insensitive; each word may come from the post or from a comment.
    assert await ids(q="CHARGEB paddl", search_in="comments") == [str(post["id"])]
    assert await ids(q="mrr paddle", search_in="all") == [str(post["id"])]  # "MRR" is in its title
    assert await ids(q="mrr paddle", search_in="comments") == []
    assert await ids(q="mrr paddle") == []
    # Deleted comments leave no words behind.
    assert await ids(q="zebrafish deleted", search_in="comments") == [str(post["id"])]
    resp = await client.get(seeded.url(), params={"search_in": "replies"}, headers=seeded.headers)
    assert resp.status_code == 422 and "search_in" in field_names(resp)


async def test_search_totals_see_comments_added_later(app, client, threaded):
    seeded, _ = threaded
    params = {"q": "quokka", "search_in": "comments"}
    first = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()
    assert first["total"] == 0
    other = seeded.posts[2]
    await add_thread(app, seeded, other, [("q1", None, 3, 1, "A quokka would churn less")])
    second = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()
    assert second["total"] == 1 and second["posts"][0]["id"] == str(other["id"])


async def test_re_adding_a_thread_stores_only_its_new_comments(app, client, threaded):
    seeded, post = threaded
    more = [*THREAD, ("c8", "c7", 3, 11, "Chargebee support was slow for us")]
    assert await add_thread(app, seeded, post, more) == 1
    detail = (await client.get(seeded.url(f"/posts/{post['id']}"), headers=seeded.headers)).json()
    assert detail["comments_collected"] == len(more)
    stats = (await client.get(seeded.url("/collection-stats"), headers=seeded.headers)).json()
    assert stats["comments"] == {"total": len(more), "posts_with_comments": 1}


async def test_comments_export_csv_and_jsonl(client, threaded):
    seeded, post = threaded
    resp = await client.get(seeded.url("/comments/export"), headers=seeded.headers)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"] == 'attachment; filename="churn-research-comments.csv"'
    assert resp.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == EXPORT_FIELDS
    assert [r["reddit_comment_id"] for r in rows] == TREE
    assert {r["reddit_post_id"] for r in rows} == {post["reddit_post_id"]}
    assert rows[0]["body"].startswith("'=HYPERLINK()")  # formula-safe in a spreadsheet
    assert next(r for r in rows if r["reddit_comment_id"] == "c3")["is_deleted"] == "true"

    lines = (
        await client.get(seeded.url("/comments/export"), params={"format": "jsonl"}, headers=seeded.headers)
    ).text.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["reddit_comment_id"] for o in objects] == TREE
    assert (
        objects[0]["body"].startswith("=HYPERLINK()")
        and objects[0]["reddit_post_id"] == post["reddit_post_id"]
    )
    # The post list's filters pick the posts: none of this thread's posts is a Feedback post.
    none = await client.get(
        seeded.url("/comments/export"),
        params={"format": "jsonl", "archetype": "Feedback"},
        headers=seeded.headers,
    )
    assert none.status_code == 200 and none.text == ""
    found = await client.get(
        seeded.url("/comments/export"),
        params={"format": "jsonl", "q": "paddle", "search_in": "comments"},
        headers=seeded.headers,
    )
    assert len(found.text.splitlines()) == len(THREAD)


async def test_stats_count_comments_and_start_at_zero(app, client, alice, bob):
    fresh = await seed(app, client, bob, name="Other")
    stats = (await client.get(fresh.url("/collection-stats"), headers=fresh.headers)).json()
    assert stats["comments"] == {"total": 0, "posts_with_comments": 0}
