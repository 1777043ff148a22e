"""Whole runs through the API against loopback fakes of Reddit and an LLM API.

The real clients (the reddit source's own HTTP, openai) do the talking; only the outside world is fake.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from bcrao.collection.models import RawPost
from tests.conftest import app_client, make_campaign, signup
from tests.streaming import read_events, trigger, wait_for_run


def reddit_settings(make_settings, fake_reddit, **overrides):
    return make_settings(**fake_reddit.app_settings(**overrides))


async def stored_count(client, campaign_id: str) -> tuple[int, int]:
    async with client.app.state.runtime.sessionmaker() as s:
        where = RawPost.campaign_id == uuid.UUID(campaign_id)
        rows = await s.scalar(select(func.count()).select_from(RawPost).where(where))
        distinct = await s.scalar(select(func.count(RawPost.reddit_post_id.distinct())).where(where))
    return rows, distinct


async def test_a_private_subreddit_makes_the_run_partial_and_the_others_are_stored(
    make_settings, db, fake_reddit
):
    for name in ("SaaS", "startups"):
        fake_reddit.add_subreddit(name, 120)
    fake_reddit.add_subreddit("secretclub", 10)
    fake_reddit.set_state("secretclub", "private")
    async with app_client(reddit_settings(make_settings, fake_reddit)) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client, user["headers"], keywords=["churn"], target_subreddits=["SaaS", "secretclub", "startups"]
        )
        task = await trigger(
            client, campaign["id"], user["headers"], mode="fresh", max_posts_per_subreddit=100
        )
        run = await wait_for_run(client, task["task_id"], user["headers"])
        assert run["status"] == "partial"
        assert [(e["subreddit"], e["code"]) for e in run["errors"]] == [("secretclub", "not_found")]
        assert run["scraped"] > 0 and run["stored"] > 0
        rows, distinct = await stored_count(client, campaign["id"])
        assert rows == distinct == run["stored"]
        subs = {p["subreddit"] for p in await _posts(client, campaign["id"])}
        assert subs <= {"SaaS", "startups"} and subs
        assert fake_reddit.token_requests(), "the OAuth token exchange happened"


async def test_a_source_that_refuses_every_listing_ends_the_run_failed_in_words(
    make_settings, db, fake_reddit
):
    for name in ("SaaS", "startups"):
        fake_reddit.add_subreddit(name, 50)
    fake_reddit.block_app()  # a token is issued, then every listing answers 403 without a reason
    async with app_client(reddit_settings(make_settings, fake_reddit)) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client, user["headers"], keywords=["churn"], target_subreddits=["SaaS", "startups"]
        )
        task = await trigger(client, campaign["id"], user["headers"], mode="fresh")
        events = await read_events(client, task["task_id"], headers=user["headers"])
        run = await wait_for_run(client, task["task_id"], user["headers"])

    assert events[-1].event == "failed" and run["status"] == "failed"
    assert run["scraped"] == run["stored"] == 0
    assert run["source_status"] == {"SaaS": "blocked", "startups": "blocked"}
    assert events[-1].data["source_status"] == run["source_status"]
    assert [(e["subreddit"], e["code"]) for e in run["errors"]] == [
        ("SaaS", "blocked"),
        ("startups", "blocked"),
    ]
    for error in run["errors"]:
        assert error["message"].startswith(
            "Reddit refused access: your app is not approved for this API or its credentials were rejected"
        )
    assert len(fake_reddit.listing_requests("SaaS")) == 1, "a refusal is not retried"


async def test_an_empty_subreddit_completes_the_run_with_an_empty_status(make_settings, db, fake_reddit):
    fake_reddit.add_subreddit("SaaS", 60)
    fake_reddit.add_subreddit("quietplace", 0)
    async with app_client(reddit_settings(make_settings, fake_reddit)) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client, user["headers"], keywords=["the"], target_subreddits=["SaaS", "quietplace"]
        )
        task = await trigger(client, campaign["id"], user["headers"], mode="fresh")
        run = await wait_for_run(client, task["task_id"], user["headers"])
        listed = (await client.get(f"/v1/campaigns/{campaign['id']}/runs", headers=user["headers"])).json()

    assert run["status"] == "complete" and run["errors"] == []
    assert run["source_status"] == {"SaaS": "ok", "quietplace": "empty"}
    assert listed["runs"][0]["source_status"] == run["source_status"]


async def test_a_rate_limited_subreddit_is_waited_out_reported_and_nothing_is_stored_twice(
    make_settings, db, fake_reddit
):
    posts = fake_reddit.add_subreddit("SaaS", 250)
    matching = [p for p in posts if "churn" in f"{p['title']} {p.get('selftext', '')}".lower()]
    fake_reddit.fail("SaaS", "429", times=1, retry_after=1)
    async with app_client(reddit_settings(make_settings, fake_reddit)) as client:
        user = await signup(client)
        # With keywords the source searches the subreddit; the first search answers 429.
        campaign = await make_campaign(
            client, user["headers"], keywords=["churn"], target_subreddits=["SaaS"]
        )
        task = await trigger(
            client, campaign["id"], user["headers"], mode="fresh", max_posts_per_subreddit=250
        )
        events = await read_events(client, task["task_id"], headers=user["headers"])
        waits = [e for e in events if e.data.get("stage") == "rate_limited"]
        assert waits and waits[0].data["wait_seconds"] > 0
        run = events[-1].data
        assert run["status"] == "complete" and run["scraped"] == len(matching) > 0
        rows, distinct = await stored_count(client, campaign["id"])
        assert rows == distinct == run["stored"]
        again = await trigger(
            client, campaign["id"], user["headers"], mode="historical", max_posts_per_subreddit=250
        )
        second = await wait_for_run(client, again["task_id"], user["headers"])
        assert second["stored"] + second["duplicates"] == second["filtered"]
        assert (await stored_count(client, campaign["id"]))[0] == run["stored"] + second["stored"]


async def test_server_errors_and_malformed_pages_are_retried_then_a_dead_subreddit_is_recorded(
    make_settings, db, fake_reddit
):
    for name in ("SaaS", "startups", "webdev"):
        fake_reddit.add_subreddit(name, 150)
    fake_reddit.fail("SaaS", "500", times=1)
    fake_reddit.fail("startups", "malformed", times=1)
    fake_reddit.fail("webdev", "500", times=50)  # never recovers within the retries
    async with app_client(reddit_settings(make_settings, fake_reddit)) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client, user["headers"], keywords=["the"], target_subreddits=["SaaS", "startups", "webdev"]
        )
        task = await trigger(client, campaign["id"], user["headers"], mode="fresh")
        run = await wait_for_run(client, task["task_id"], user["headers"], timeout=90)
        assert run["status"] == "partial"
        assert [e["subreddit"] for e in run["errors"]] == ["webdev"]
        rows, distinct = await stored_count(client, campaign["id"])
        assert rows == distinct == run["stored"] > 0


async def test_a_stalled_subreddit_times_out_and_the_run_goes_on(make_settings, db, fake_reddit):
    for name in ("SaaS", "startups"):
        fake_reddit.add_subreddit(name, 80)
    fake_reddit.fail("startups", "stall", times=10, seconds=30)
    settings = reddit_settings(make_settings, fake_reddit)
    settings = settings.model_copy(update={"reddit_timeout_seconds": 0.5, "reddit_max_retries": 1})
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client, user["headers"], keywords=["the"], target_subreddits=["SaaS", "startups"]
        )
        task = await trigger(client, campaign["id"], user["headers"], mode="fresh")
        run = await wait_for_run(client, task["task_id"], user["headers"], timeout=60)
        assert run["status"] == "partial"
        assert [(e["subreddit"], e["code"]) for e in run["errors"]] == [("startups", "error")]


async def test_llm_failures_fall_back_to_rules_and_are_counted_without_losing_posts(
    make_settings, db, fake_llm
):
    fake_llm.mode = "good"
    fake_llm.when("a", "garbage")  # nearly every prompt contains an "a": most answers are garbage
    settings = make_settings(
        classifier="llm",
        llm_base_url=fake_llm.base_url,
        llm_api_key=fake_llm.api_key,
        llm_model="test-model",
        llm_timeout_seconds=2,
        classify_fraction=0.2,
    )
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS", "startups"])
        task = await trigger(client, campaign["id"], user["headers"])
        run = await wait_for_run(client, task["task_id"], user["headers"])
        assert run["status"] == "complete" and run["classifier"] == "llm"
        assert run["classified"] > 0
        assert run["llm_usage"]["fallbacks"] > 0
        assert run["llm_usage"]["fallbacks"] <= run["classified"]
        posts = await _posts(client, campaign["id"])
        assert len(posts) == run["stored"]
        labelled = [p for p in posts if p["archetype"] != "Unclassified"]
        assert len(labelled) == len(posts) == run["classified"]  # the offline model labels every post
        by_llm = sum(1 for p in labelled if p["classifier"] == "llm")
        assert by_llm > 0 or run["llm_usage"]["fallbacks"] > 0
        assert by_llm + run["llm_usage"]["fallbacks"] < run["classified"]  # the llm refines the top 20%
        assert all(p["is_ai_processed"] == (p["classifier"] == "llm") for p in labelled)


async def test_llm_answers_are_used_and_their_tokens_and_cost_recorded(make_settings, db, fake_llm):
    fake_llm.mode = "good"
    settings = make_settings(
        classifier="llm",
        llm_base_url=fake_llm.base_url,
        llm_api_key=fake_llm.api_key,
        llm_model="test-model",
        llm_timeout_seconds=5,
    )
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        task = await trigger(client, campaign["id"], user["headers"])
        run = await wait_for_run(client, task["task_id"], user["headers"])
        usage = run["llm_usage"]
        assert usage["fallbacks"] == 0 and usage["prompt_tokens"] > 0 and usage["estimated_cost_usd"] > 0
        labelled = [p for p in await _posts(client, campaign["id"]) if p["archetype"] != "Unclassified"]
        by_llm = [p for p in labelled if p["classifier"] == "llm"]
        assert by_llm and all(p["is_ai_processed"] for p in by_llm)
        rest = [p for p in labelled if p not in by_llm]
        assert all(p["classifier"] == "model" and not p["is_ai_processed"] for p in rest)


async def test_an_llm_that_stalls_past_the_timeout_falls_back_for_every_post(make_settings, db, fake_llm):
    fake_llm.mode = "stall"
    settings = make_settings(
        classifier="llm",
        llm_base_url=fake_llm.base_url,
        llm_api_key=fake_llm.api_key,
        llm_timeout_seconds=0.5,
    )
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        task = await trigger(client, campaign["id"], user["headers"])
        run = await wait_for_run(client, task["task_id"], user["headers"], timeout=90)
        assert run["status"] == "complete"
        assert 0 < run["llm_usage"]["fallbacks"] < run["classified"]  # the llm was asked about the top 10%
        posts = await _posts(client, campaign["id"])
        assert len(posts) == run["stored"] and all(p["classifier"] == "model" for p in posts)


async def _posts(client, campaign_id: str) -> list[dict]:
    async with client.app.state.runtime.sessionmaker() as s:
        rows = await s.scalars(select(RawPost).where(RawPost.campaign_id == uuid.UUID(campaign_id)))
        return [
            {
                "subreddit": r.subreddit,
                "archetype": r.archetype,
                "classifier": r.classifier,
                "is_ai_processed": r.is_ai_processed,
            }
            for r in rows
        ]
