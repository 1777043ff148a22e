"""The cost preview against what runs then spend on the loopback Reddit (its request log)."""

from __future__ import annotations

import pytest

from tests.conftest import app_client, field_names, make_campaign, signup
from tests.streaming import trigger, wait_for_run

BODY = {"mode": "historical", "max_posts_per_subreddit": 300, "comments_per_post": 50}


async def preview(client, campaign_id: str, headers: dict, body: dict | None = None) -> dict:
    resp = await client.post(f"/v1/campaigns/{campaign_id}/collect/preview", json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def spent(fake) -> tuple[int, int]:
    return len(fake.listing_requests()), len(fake.comment_requests())


def within(estimate: int, actual: int, tolerance: float = 0.2) -> bool:
    return abs(estimate - actual) <= tolerance * actual


@pytest.mark.parametrize("mode", ["hybrid", "fresh", "historical"])
async def test_the_request_estimate_is_within_20_percent_of_what_runs_spend(
    make_settings, db, fake_reddit, mode
):
    # Search listings (the campaign has keywords) of two subreddits: one with more matching
    # posts than the limit, one that runs dry before it.
    fake_reddit.add_subreddit("SaaS", 900)
    fake_reddit.add_subreddit("startups", 400)
    body = {**BODY, "mode": mode}
    async with app_client(make_settings(**fake_reddit.app_settings())) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client,
            user["headers"],
            keywords=["users", "customers", "MRR"],
            target_subreddits=["SaaS", "startups"],
        )
        figures = []
        for _ in range(2):  # the first run with defaults, the second with the first as history
            estimate = await preview(client, campaign["id"], user["headers"], body)
            before = spent(fake_reddit)
            task = await trigger(client, campaign["id"], user["headers"], **body)
            run = await wait_for_run(client, task["task_id"], user["headers"], timeout=120)
            assert run["status"] == "complete", run
            after = spent(fake_reddit)
            listings, comments = after[0] - before[0], after[1] - before[1]
            figures.append((estimate["requests"], listings, comments))
        (first, first_listings, _), (second, listings, comments) = figures
        # Listings follow the source's plan: right from the first run. (Hybrid: the year's top
        # posts re-read the new ones the first half collected and page past them.)
        assert within(first["listings"], first_listings), figures
        # Comments depend on how many posts the pre-filter keeps and how many have comments,
        # which the first run cannot know (the real-post default, see preview.py; the fake's
        # generated posts keep far fewer): the campaign's own shares from its second run on.
        assert within(second["listings"], listings), figures
        assert within(second["comments"], comments), figures
        assert within(second["total"], listings + comments), figures
        if mode != "historical":
            # The new posts resume from the first run's cursor: nothing was posted since, so
            # one page per search, and (hybrid) the year's top posts fill the whole limit.
            assert second["listings"] < first["listings"], figures
        if mode == "fresh":
            assert (comments, second["comments"]) == (0, 0), figures
        assert second["deletion_checks"] >= 1  # the first run stored posts to re-check


async def test_the_preview_has_the_contract_shape_and_prices_llm_and_apify(make_settings, db):
    async with app_client(make_settings()) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"])
        body = await preview(client, campaign["id"], user["headers"])
        assert set(body) >= {"requests", "minutes", "llm", "apify", "budget"}
        assert set(body["requests"]) >= {"listings", "comments", "total"}
        assert set(body["llm"]) == {"calls", "tokens", "usd"} and set(body["apify"]) == {"results", "usd"}
        assert set(body["budget"]) == {"remaining", "resets_at"}
        assert body["source"] == "sample" and body["requests"]["total"] == 0 and body["minutes"] == 0
        url = f"/v1/campaigns/{campaign['id']}/collect/preview"
        assert "mode" in field_names(await client.post(url, json={"mode": "all"}, headers=user["headers"]))
        other = await signup(client)
        assert (await client.post(url, headers=other["headers"])).status_code == 404
        stats = (
            await client.get(f"/v1/campaigns/{campaign['id']}/collection-stats", headers=user["headers"])
        ).json()
        assert stats["runs"] == 0 and stats["runs_remaining_this_week"] == 5, "a preview starts nothing"

    settings = make_settings(classifier="llm", llm_api_key="k", source="apify", apify_token="t")
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS", "startups"])
        body = await preview(
            client,
            campaign["id"],
            user["headers"],
            {"max_posts_per_subreddit": 1000, "comments_per_post": 10},
        )
        # 1,000 posts x 75% kept x 10% refined = 75 per subreddit, 8 to a call: 10 calls each.
        assert body["llm"]["calls"] == 20 and body["llm"]["tokens"] > 0 and 0 < body["llm"]["usd"] < 0.1
        assert body["apify"]["results"] >= 2000 and body["apify"]["usd"] > 0
        assert body["requests"]["total"] == 0, "Apify spends no Reddit requests of ours"
