"""GET /v1/me/export: everything the caller owns, streamed as JSON Lines, and nothing else."""

from __future__ import annotations

import json
from collections import Counter

from bcrao.account import export
from tests.account.conftest import populate

TYPES = ("user", "campaign", "run", "post", "comment", "correction", "alert")


async def read_export(client, headers) -> tuple[object, list[dict]]:
    async with client.stream("GET", "/v1/me/export", headers=headers) as resp:
        chunks = [chunk async for chunk in resp.aiter_bytes()]
    lines = b"".join(chunks).decode().splitlines()
    return resp, [json.loads(line) for line in lines]


async def test_the_export_holds_every_type_of_the_users_data_and_no_one_elses(client, alice, bob):
    mine = await populate(client, alice, subreddits=["SaaS", "startups"])
    theirs = await populate(client, bob, subreddits=["SaaS"])

    resp, objects = await read_export(client, alice["headers"])

    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/x-ndjson")
    assert resp.headers["content-disposition"].startswith('attachment; filename="bcrao-account-')
    kinds = Counter(o["type"] for o in objects)
    assert set(kinds) == set(TYPES), kinds
    assert [o["type"] for o in objects] == sorted((o["type"] for o in objects), key=TYPES.index)
    assert kinds["user"] == 1 and objects[0]["email"] == alice["email"] and "password_hash" not in objects[0]
    assert {o["id"] for o in objects if o["type"] == "campaign"} == {str(c) for c in mine.campaigns}
    assert {o["task_id"] for o in objects if o["type"] == "run"} == {str(r) for r in mine.runs}
    assert {o["id"] for o in objects if o["type"] == "post"} == {str(p) for p in mine.posts}
    assert kinds["correction"] == 2 and {o["kind"] for o in objects if o["type"] == "correction"} == {
        "label",
        "noise",
    }
    assert {o["id"] for o in objects if o["type"] == "alert"} == {str(a) for a in mine.alerts}
    alert = next(o for o in objects if o["type"] == "alert")
    assert "secret" not in alert and "unsubscribe_token" not in alert

    stored_comments = sum(o["comments_stored"] for o in objects if o["type"] == "run")
    comments = [o for o in objects if o["type"] == "comment"]
    assert len(comments) == stored_comments > 0
    assert {c["post_id"] for c in comments} <= {str(p) for p in mine.posts}
    post = next(o for o in objects if o["type"] == "post")
    assert {"title", "raw_text", "score_breakdown", "archetype", "is_noise"} <= set(post)

    everything = json.dumps(objects)
    for foreign in theirs.ids():
        assert str(foreign) not in everything
    assert bob["email"] not in everything


async def test_the_export_streams_keyset_batches_without_losing_or_repeating_a_row(
    client, alice, monkeypatch
):
    mine = await populate(client, alice, subreddits=["SaaS", "startups", "Entrepreneur"])
    monkeypatch.setattr(export, "BATCH", 7)
    _, whole = await read_export(client, alice["headers"])

    chunks = [
        chunk
        async for chunk in export.export_account(
            client.app.state.runtime.read_sessionmaker, user_id=mine.user
        )
    ]

    posts = [o["id"] for o in whole if o["type"] == "post"]
    assert len(posts) == len(set(posts)) == len(mine.posts) > 7
    comments = [o["id"] for o in whole if o["type"] == "comment"]
    assert len(comments) == len(set(comments)) > 7
    # One chunk per batch: the file is written as it is read, never held whole.
    assert len(chunks) >= len(posts) // 7 + len(comments) // 7
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert b"".join(chunks).decode().splitlines() == [json.dumps(o, ensure_ascii=False) for o in whole]


async def test_the_export_needs_a_login(client):
    anonymous = await client.get("/v1/me/export")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHORIZED"
