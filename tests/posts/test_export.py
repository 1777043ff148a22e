"""GET /v1/campaigns/{id}/posts/export: CSV and JSONL downloads of every matching post."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bcrao.collection.models import RawPost
from bcrao.posts.export import BATCH
from bcrao.posts.schemas import POST_FIELDS
from tests.conftest import field_names

from .conftest import BASE_TIME, expected_ids, seed

FORMULA_TITLES = ["=SUM(A1:A9)", "+1 for this tool", "-negative title", "@handle asks about churn"]


async def download(client, seeded, **params) -> tuple[bytes, object]:
    resp = await client.get(seeded.url("/posts/export"), params=params, headers=seeded.headers)
    assert resp.status_code == 200, resp.text
    return resp.content, resp


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


async def test_csv_is_a_utf8_attachment_with_a_bom_and_one_header_row(client, seeded):
    content, resp = await download(client, seeded)
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"] == 'attachment; filename="churn-research-posts.csv"'
    assert content.startswith(b"\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    assert next(reader) == list(POST_FIELDS)
    assert len(list(reader)) == len(seeded.posts)


async def test_csv_round_trips_every_post_in_the_default_order(client, seeded):
    rows = read_csv((await download(client, seeded))[0])
    assert [r["id"] for r in rows] == expected_ids(seeded.posts)
    by_id = {str(p["id"]): p for p in seeded.posts}
    for row in rows:
        post = by_id[row["id"]]
        assert float(row["success_score"]) == post["success_score"]
        assert int(row["upvotes"]) == post["upvotes"]
        assert row["subreddit"] == post["subreddit"]
        assert row["run_id"] == str(post["run_id"])
        assert row["is_ai_processed"] == ("true" if post["is_ai_processed"] else "false")
        assert row["archetype_reasons"] == "; ".join(post["archetype_reasons"])
        assert row["archetype_source"] == (post["archetype_source"] or "")
        assert row["upvote_ratio"] == ("" if post["upvote_ratio"] is None else str(post["upvote_ratio"]))
        if not post["title"].startswith(("=", "+", "-", "@")):
            assert row["title"] == post["title"]  # newlines, commas, quotes and accents survive
        if not post["raw_text"].startswith(("=", "+", "-", "@")):
            assert row["raw_text"] == post["raw_text"]  # the whole text, not the list snippet


async def test_csv_keeps_a_title_with_a_newline_and_a_comma_in_one_cell(client, seeded):
    rows = read_csv((await download(client, seeded))[0])
    row = next(r for r in rows if r["author"] == "poet")
    assert row["title"] == "Line one\nline two, with comma"
    assert row["raw_text"] == 'He said "hi"; ok'
    assert next(r for r in rows if r["author"] == "fr")["title"] == "Ünïcödé title café"


async def test_csv_neutralises_formula_cells(client, seeded):
    rows = {r["title"].lstrip("'"): r for r in read_csv((await download(client, seeded))[0])}
    for title in FORMULA_TITLES:
        assert rows[title]["title"] == "'" + title
    sum_row = rows["=SUM(A1:A9)"]
    assert sum_row["raw_text"] == "'+cmd injection in text"
    assert sum_row["author"] == "'-dash-author"
    assert rows["+1 for this tool"]["author"] == "'@at"
    assert rows["-negative title"]["raw_text"] == "'@mention in text"
    # Numbers are written as numbers, never prefixed.
    assert all(not r["success_score"].startswith("'") for r in rows.values())


async def test_jsonl_lines_are_detail_post_objects(client, seeded):
    content, resp = await download(client, seeded, format="jsonl")
    assert resp.headers["content-disposition"] == 'attachment; filename="churn-research-posts.jsonl"'
    lines = content.decode().splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["id"] for o in objects] == expected_ids(seeded.posts)
    for obj in objects:
        assert list(obj) == [*POST_FIELDS, "score_breakdown", "relevance_breakdown"]
    for obj in objects:  # one encoder: the line is the detail, label fields included
        detail = await client.get(seeded.url(f"/posts/{obj['id']}"), headers=seeded.headers)
        assert detail.json() == obj


async def test_export_honours_the_label_filters(client, seeded):
    params = {"min_confidence": 0.5, "archetype_source": "model"}
    content, _ = await download(client, seeded, format="jsonl", **params)
    objects = [json.loads(line) for line in content.decode().splitlines()]
    assert [o["id"] for o in objects] == expected_ids(seeded.posts, **params) != []


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_export_honours_filters_and_sort(client, seeded, fmt):
    params = {"format": fmt, "archetype": "Journey", "min_score": 2, "sort": "-upvotes"}
    content, _ = await download(client, seeded, **params)
    if fmt == "csv":
        ids = [r["id"] for r in read_csv(content)]
    else:
        ids = [json.loads(line)["id"] for line in content.decode().splitlines()]
    expected = expected_ids(seeded.posts, "-upvotes", archetype="Journey", min_score=2)
    assert ids == expected and len(expected) > 1


async def test_export_search_and_subreddit_filters(client, seeded):
    content, _ = await download(client, seeded, q="churn", subreddit="r/SAAS", sort="-reddit_created_at")
    expected = expected_ids(seeded.posts, "-reddit_created_at", q="churn", subreddit="saas")
    assert [r["id"] for r in read_csv(content)] == expected


async def test_export_with_nothing_matching_is_just_the_header(client, seeded):
    content, _ = await download(client, seeded, q="no-such-word")
    assert read_csv(content) == []
    content, _ = await download(client, seeded, q="no-such-word", format="jsonl")
    assert content == b""


async def test_export_of_many_posts_with_tied_scores_sends_each_exactly_once(client, app, seeded):
    """More rows than one batch, with many ties, so batch boundaries fall inside ties."""
    cid, uid = uuid.UUID(seeded.campaign_id), seeded.posts[0]["user_id"]
    extra = [
        {
            "campaign_id": cid,
            "user_id": uid,
            "subreddit": "SaaS",
            "subreddit_key": "saas",
            "reddit_post_id": f"bulk{i}",
            "reddit_url": f"https://www.reddit.com/r/SaaS/comments/bulk{i}/",
            "title": f"bulk post {i}",
            "raw_text": "",
            "upvotes": i % 7,
            "reddit_created_at": BASE_TIME - timedelta(minutes=i % 3),
            "success_score": float(i % 4),
            "score_breakdown": {},
        }
        for i in range(BATCH * 2 + 345)
    ]
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(insert(RawPost), extra)
        await session.commit()
    for sort in ("-success_score", "-reddit_created_at"):
        rows = read_csv((await download(client, seeded, sort=sort))[0])
        assert len(rows) == len(extra) + len(seeded.posts)
        assert len({r["id"] for r in rows}) == len(rows)
        column = "success_score" if sort == "-success_score" else "reddit_created_at"
        keys = [(float(r[column]) if column == "success_score" else r[column], r["id"]) for r in rows]
        assert keys == sorted(keys, reverse=True)


async def test_export_path_is_not_taken_for_a_post_id(client, seeded):
    resp = await client.get(seeded.url("/posts/export"), headers=seeded.headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"format": "CSV"}, "format"),
        ({"archetype": "nope"}, "archetype"),
        ({"min_score": 9, "max_score": 1}, "min_score"),
        ({"subreddit": "bad name"}, "subreddit"),
        ({"sort": "title"}, "sort"),
    ],
)
async def test_invalid_export_query_is_422(client, seeded, params, field):
    resp = await client.get(seeded.url("/posts/export"), params=params, headers=seeded.headers)
    assert field in field_names(resp)


async def test_another_users_export_is_404(client, app, alice, bob):
    alices = await seed(app, client, alice)
    resp = await client.get(alices.url("/posts/export"), headers=bob["headers"])
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_filename_is_a_slug_of_the_campaign_name(client, app, alice):
    seeded = await seed(app, client, alice, name="Café: Q4 / churn!!")
    _, resp = await download(client, seeded, format="jsonl")
    assert resp.headers["content-disposition"] == 'attachment; filename="cafe-q4-churn-posts.jsonl"'
