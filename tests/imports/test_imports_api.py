"""Imports through the API: a file becomes a collection run (real app, real database)."""

from __future__ import annotations

import gzip
import io
import json
import uuid
from importlib import resources

import zstandard
from sqlalchemy import func, select

from bcrao.collection.models import CollectionRun, RawPost
from bcrao.comments.models import RawComment
from tests.conftest import app_client, make_campaign, signup
from tests.streaming import assert_well_formed, read_events, trigger, wait_for_run

SUBS = ["SaaS", "startups"]


def corpus(name: str) -> list[dict]:
    raw = resources.files("bcrao.data").joinpath("sample_posts.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))["subreddits"][name]


def jsonl(objects) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


async def upload(client, campaign_id: str, headers: dict, content: bytes, name: str = "posts.jsonl", **form):
    return await client.post(
        f"/v1/campaigns/{campaign_id}/imports",
        files={"file": (name, content, "application/octet-stream")},
        data={k: str(v) for k, v in form.items()},
        headers=headers,
    )


async def counts(client, campaign_id: str) -> tuple[int, int]:
    async with client.app.state.runtime.sessionmaker() as s:
        cid = uuid.UUID(campaign_id)
        posts = await s.scalar(select(func.count()).select_from(RawPost).where(RawPost.campaign_id == cid))
        comments = await s.scalar(
            select(func.count()).select_from(RawComment).where(RawComment.campaign_id == cid)
        )
    return posts or 0, comments or 0


def imports_dir(client):
    return client.app.state.runtime.settings.data_dir / "imports"


async def test_an_import_counts_what_a_collection_of_the_same_posts_counts(client, alice):
    collected = await make_campaign(client, alice["headers"], name="collected", target_subreddits=SUBS)
    task = await trigger(
        client,
        collected["id"],
        alice["headers"],
        mode="fresh",
        max_posts_per_subreddit=1000,
        comments_per_post=0,
    )
    by_collection = await wait_for_run(client, task["task_id"], alice["headers"])

    imported = await make_campaign(client, alice["headers"], name="imported", target_subreddits=SUBS)
    file = jsonl({"kind": "t3", "data": post} for name in SUBS for post in corpus(name))
    resp = await upload(client, imported["id"], alice["headers"], file, comments_per_post=0)
    assert resp.status_code == 202, resp.text
    accepted = resp.json()
    assert set(accepted) == {"task_id", "status", "progress_url", "stream_token", "stream_token_expires_in"}
    assert accepted["status"] == "queued"
    by_import = await wait_for_run(client, accepted["task_id"], alice["headers"])

    assert by_import["source"] == "import" and by_import["status"] == "complete"
    for counter in ("scraped", "filtered", "classified", "stored", "duplicates", "filter_reasons"):
        assert by_import[counter] == by_collection[counter], counter
    assert by_import["scraped"] == len(corpus("SaaS")) + len(corpus("startups"))
    assert by_import["stored"] + by_import["duplicates"] == by_import["filtered"]
    assert (await counts(client, imported["id"]))[0] == by_import["stored"]
    # The same progress stream as a collection, ending in the final run object.
    events = await read_events(client, accepted["task_id"], headers=alice["headers"])
    terminal = assert_well_formed(events)
    assert terminal.data["stored"] == by_import["stored"] and terminal.data["source"] == "import"
    assert {e.data.get("subreddit") for e in events if e.event == "progress"} >= set(SUBS)
    assert not any(imports_dir(client).iterdir()), "the index is deleted after the run"

    # Importing the same file again stores nothing new: every kept post is a duplicate.
    again = await upload(client, imported["id"], alice["headers"], file, comments_per_post=0)
    rerun = await wait_for_run(client, again.json()["task_id"], alice["headers"])
    assert rerun["stored"] == 0 and rerun["duplicates"] == by_import["filtered"]


def archive_lines() -> tuple[list[dict], list[dict]]:
    """Flat archive records (as the public dumps have them), extra keys and all."""
    posts = [
        {
            "id": f"ar{i}",
            "subreddit": "SaaS" if i % 2 else "saas",  # the archives' case is not the campaign's
            "subreddit_id": "t5_2qkq6",
            "title": f"How we cut churn by fixing onboarding emails, part {i}",
            "selftext": (
                "We run a small billing tool for agencies. Churn was high in the first month, so I "
                f"rewrote the onboarding emails and asked every churned account why. Lesson {i}: "
                "people left because they never connected their payment provider."
            ),
            "author": f"founder{i}",
            "score": 10 + i,
            "num_comments": 3 if i == 1 else 0,
            "created_utc": 1_700_000_000 + i * 3600,
            "retrieved_on": 1_700_500_000,
            "all_awardings": [],
            "gildings": {},
            "permalink": f"/r/SaaS/comments/ar{i}/how_we_cut_churn/",
            "url": f"https://www.reddit.com/r/SaaS/comments/ar{i}/how_we_cut_churn/",
            "is_self": True,
        }
        for i in range(1, 7)
    ]
    comments = [
        {
            "id": "c1",
            "link_id": "t3_ar1",
            "parent_id": "t3_ar1",
            "body": "Which provider did they skip most?",
            "author": "a",
            "score": 5,
            "created_utc": 1_700_010_000,
            "subreddit": "SaaS",
        },
        {
            "id": "c2",
            "link_id": "t3_ar1",
            "parent_id": "t1_c1",
            "body": "Stripe, by far; the OAuth step scared them.",
            "author": "founder1",
            "score": 7,
            "created_utc": 1_700_020_000,
            "subreddit": "SaaS",
        },
        {
            "id": "c3",
            "link_id": "t3_ar1",
            "parent_id": "t3_ar1",
            "body": "We saw the same with our invoicing app.",
            "author": "b",
            "score": 9,
            "created_utc": 1_700_030_000,
            "subreddit": "SaaS",
        },
    ]
    return posts, comments


async def test_a_compressed_archive_file_with_comments_and_other_subreddits(client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    posts, comments = archive_lines()
    other = [
        {**posts[0], "id": "zz1", "subreddit": "AskReddit"},
        {**posts[0], "id": "zz2", "subreddit": "pics"},
    ]
    file = zstandard.ZstdCompressor().compress(jsonl([*posts, *other, *comments, posts[2]]))
    resp = await upload(client, campaign["id"], alice["headers"], file, name="RS_2023-11.zst")
    assert resp.status_code == 202, resp.text
    run = await wait_for_run(client, resp.json()["task_id"], alice["headers"])
    assert run["status"] == "complete" and run["source"] == "import"
    assert run["scraped"] == 6, "other subreddits' records and the repeated line are not posts of the run"
    assert run["stored"] + run["duplicates"] == run["filtered"] and run["stored"] > 0
    assert any("2 records of subreddits the campaign does not target" in w for w in run["warnings"])
    assert any("1 records appeared more than once" in w for w in run["warnings"])
    assert run["comments_stored"] == 3
    listed = await client.get(
        f"/v1/campaigns/{campaign['id']}/posts", params={"per_page": 100}, headers=alice["headers"]
    )
    by_id = {p["reddit_post_id"]: p for p in listed.json()["posts"]}
    assert set(by_id) <= {p["id"] for p in posts} and all(p["subreddit"] == "SaaS" for p in by_id.values())
    assert "ar1" in by_id
    thread = await client.get(
        f"/v1/campaigns/{campaign['id']}/posts/{by_id['ar1']['id']}/comments",
        params={"order": "tree"},
        headers=alice["headers"],
    )
    tree = [(c["reddit_comment_id"], c["depth"]) for c in thread.json()["comments"]]
    assert tree == [("c3", 0), ("c1", 0), ("c2", 1)], "depth-first, best first among siblings"


async def test_a_bad_line_is_a_422_naming_it_and_nothing_is_imported(client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    posts, _ = archive_lines()
    cases = {
        4: jsonl(posts[:3]) + b'{"id": "x", "title": "no closing brace"\n' + jsonl(posts[3:]),
        2: jsonl(posts[:1]) + jsonl([{k: v for k, v in posts[1].items() if k != "subreddit"}]),
        3: jsonl(posts[:1]) + b"\n" + jsonl([{**posts[2], "created_utc": "yesterday"}]),
        5: jsonl(posts[:4]) + b"[1, 2]\n",
        1: jsonl([{"kind": "t5", "data": {"display_name": "SaaS"}}]),
    }
    for line, content in cases.items():
        resp = await upload(client, campaign["id"], alice["headers"], content)
        assert resp.status_code == 422, resp.text
        error = resp.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["line"] == line, error
        assert error["details"]["fields"][0]["field"] == "file"
        assert f"Line {line}" in error["message"] and "nothing was imported" in error["message"]
    compressed = zstandard.ZstdCompressor().compress(cases[4])
    resp = await upload(client, campaign["id"], alice["headers"], compressed, name="bad.zst")
    assert resp.status_code == 422 and resp.json()["error"]["details"]["line"] == 4
    assert await counts(client, campaign["id"]) == (0, 0)
    async with client.app.state.runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(CollectionRun)) == 0
    assert not list(imports_dir(client).iterdir())
    stats = (
        await client.get(f"/v1/campaigns/{campaign['id']}/collection-stats", headers=alice["headers"])
    ).json()
    assert stats["runs_remaining_this_week"] == 5, "a refused file does not spend the plan's allowance"


async def test_csv_of_listing_fields_and_reddit_export_csv(client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    listing_csv = (
        b"id,subreddit,title,selftext,author,score,num_comments,created_utc,over_18,stickied\r\n"
        b'p1,SaaS,Our churn doubled after a price change,"We raised prices by 30% and\nchurn doubled in a '
        b'month. I am trying to understand why, and what we should have told our customers first.",'
        b"me,12,0,1700000000,false,False\r\n"
        b"p2,SaaS,Weekly thread,Post your links here,AutoModerator,1,0,1700003600,false,True\r\n"
    )
    resp = await upload(client, campaign["id"], alice["headers"], listing_csv, name="posts.csv")
    assert resp.status_code == 202, resp.text
    run = await wait_for_run(client, resp.json()["task_id"], alice["headers"])
    assert run["scraped"] == 2 and run["filter_reasons"].get("stickied") == 1 and run["stored"] == 1

    export = (
        "\ufeffid,permalink,date,ip,subreddit,gildings,title,url,body\n"
        "q1,https://www.reddit.com/r/SaaS/comments/q1/x/,2023-05-01 12:34:56 UTC,,SaaS,0,"
        "How do you price a tool for tiny agencies?,https://www.reddit.com/r/SaaS/comments/q1/x/,"
        "I run a small reporting tool and I cannot decide between per seat and per client pricing for "
        "agencies with two or three people. What worked for you and what did your customers say?\n"
    ).encode()
    resp = await upload(client, campaign["id"], alice["headers"], export, name="posts.csv")
    assert resp.status_code == 202, resp.text
    run = await wait_for_run(client, resp.json()["task_id"], alice["headers"])
    assert run["scraped"] == 1 and run["stored"] == 1
    listed = await client.get(f"/v1/campaigns/{campaign['id']}/posts", headers=alice["headers"])
    q1 = next(p for p in listed.json()["posts"] if p["reddit_post_id"] == "q1")
    assert q1["reddit_created_at"].startswith("2023-05-01T12:34:56")

    bad = listing_csv + b"p3,SaaS,only three cells\r\n"
    resp = await upload(client, campaign["id"], alice["headers"], bad, name="posts.csv")
    assert resp.status_code == 422 and resp.json()["error"]["details"]["line"] == 5, resp.text


async def test_imports_are_refused_like_collections(make_settings, db):
    async with app_client(make_settings(sample_latency_seconds=1.0, plan_trial_runs_per_week=2)) as client:
        user = await signup(client)
        other = await signup(client)
        posts, _ = archive_lines()
        file = jsonl(posts)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])

        assert (await upload(client, campaign["id"], other["headers"], file)).status_code == 404
        resp = await client.post(f"/v1/campaigns/{campaign['id']}/imports", headers=user["headers"])
        assert resp.status_code == 422 and resp.json()["error"]["details"]["fields"][0]["field"] == "file"
        empty = await upload(client, campaign["id"], user["headers"], b"\n\n")
        assert empty.status_code == 422 and empty.json()["error"]["details"]["line"] == 1
        elsewhere = await upload(
            client, campaign["id"], user["headers"], jsonl([{**posts[0], "subreddit": "pics"}])
        )
        assert elsewhere.status_code == 422 and "r/pics" in elsewhere.json()["error"]["message"]

        running = await trigger(client, campaign["id"], user["headers"])
        busy = await upload(client, campaign["id"], user["headers"], file)
        assert busy.status_code == 409 and busy.json()["error"]["details"]["task_id"] == running["task_id"]
        await wait_for_run(client, running["task_id"], user["headers"])

        done = await upload(client, campaign["id"], user["headers"], file)
        assert done.status_code == 202
        await wait_for_run(client, done.json()["task_id"], user["headers"])
        limited = await upload(client, campaign["id"], user["headers"], file)
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "PLAN_LIMIT_REACHED"

        archived = await make_campaign(client, other["headers"], target_subreddits=["SaaS"])
        await client.patch(
            f"/v1/campaigns/{archived['id']}", json={"status": "archived"}, headers=other["headers"]
        )
        resp = await upload(client, archived["id"], other["headers"], file)
        assert resp.status_code == 422 and resp.json()["error"]["details"]["fields"][0]["field"] == "status"
        assert not list(imports_dir(client).iterdir())


async def test_only_the_import_path_takes_large_bodies(make_settings, db):
    async with app_client(make_settings(max_body_bytes=4096, import_max_bytes=400_000)) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        posts, _ = archive_lines()
        padded = [{**p, "filler": "x" * 20_000} for p in posts]  # ~120 KB, far over max_body_bytes
        resp = await upload(client, campaign["id"], user["headers"], jsonl(padded))
        assert resp.status_code == 202, resp.text
        await wait_for_run(client, resp.json()["task_id"], user["headers"])
        huge = await upload(client, campaign["id"], user["headers"], jsonl(padded * 4))
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        big_json = await client.post(
            f"/v1/campaigns/{campaign['id']}/collect",
            content=json.dumps({"mode": "fresh", "x": "y" * 10_000}),
            headers={**user["headers"], "content-type": "application/json"},
        )
        assert big_json.status_code == 413


def test_gzip_upload_is_recognised_by_content():
    from bcrao.imports.records import read_records

    posts, _ = archive_lines()
    opened, records = read_records(io.BufferedReader(io.BytesIO(gzip.compress(jsonl(posts)))))
    assert opened.compression == "gzip" and opened.format == "jsonl"
    assert [r.id for r in records] == [p["id"] for p in posts]
