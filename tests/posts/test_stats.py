"""GET /v1/campaigns/{id}/collection-stats: the exact shape of API.md, sums checked against the seed."""

from __future__ import annotations

from collections import Counter

from tests.conftest import app_client, make_campaign, signup

from .conftest import RUNS, TARGETS, seed

ARCHETYPES = ["Journey", "ProblemSolution", "Feedback", "Unclassified"]
KEYS = [
    "total",
    "by_archetype",
    "by_subreddit",
    "avg_success_score",
    "funnel",
    "filter_reasons",
    "score_histogram",
    "runs",
    "runs_remaining_this_week",
    "last_run",
    "comments",
    "purged",
]


async def get_stats(client, seeded) -> dict:
    resp = await client.get(seeded.url("/collection-stats"), headers=seeded.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_empty_campaign_has_zeros_and_nulls(client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS", "r/startups"])
    resp = await client.get(f"/v1/campaigns/{campaign['id']}/collection-stats", headers=alice["headers"])
    assert resp.status_code == 200
    assert resp.json() == {
        "total": 0,
        "by_archetype": dict.fromkeys(ARCHETYPES, 0),
        "by_subreddit": {"SaaS": 0, "startups": 0},
        "avg_success_score": None,
        "funnel": {"scraped": 0, "filtered": 0, "classified": 0, "stored": 0},
        "filter_reasons": {},
        "score_histogram": [{"min": i, "max": i + 1, "count": 0} for i in range(10)],
        "runs": 0,
        "runs_remaining_this_week": 5,
        "last_run": None,
        "comments": {"total": 0, "posts_with_comments": 0},
        "purged": 0,
    }


async def test_stats_shape_and_post_aggregates(client, seeded):
    stats = await get_stats(client, seeded)
    posts = seeded.posts
    assert list(stats) == KEYS
    assert stats["total"] == len(posts)
    assert stats["by_archetype"] == {a: sum(p["archetype"] == a for p in posts) for a in ARCHETYPES}
    expected_avg = round(sum(p["success_score"] for p in posts) / len(posts), 2)
    assert stats["avg_success_score"] == expected_avg


async def test_by_subreddit_lists_every_target_in_the_campaigns_spelling(client, seeded):
    stats = await get_stats(client, seeded)
    keys = Counter(p["subreddit_key"] for p in seeded.posts)
    assert stats["by_subreddit"] == {
        "SaaS": keys["saas"],  # stored both as "SaaS" and "saas"
        "startups": keys["startups"],
        "Entrepreneur": 0,  # a target with nothing stored
        "smallbusiness": keys["smallbusiness"],  # stored before the targets changed
    }
    assert set(TARGETS) <= set(stats["by_subreddit"])
    assert sum(stats["by_subreddit"].values()) == stats["total"]


async def test_histogram_has_ten_buckets_and_ten_goes_in_the_last(client, seeded):
    stats = await get_stats(client, seeded)
    histogram = stats["score_histogram"]
    assert [(b["min"], b["max"]) for b in histogram] == [(i, i + 1) for i in range(10)]
    expected = Counter(min(int(p["success_score"]), 9) for p in seeded.posts)
    assert [b["count"] for b in histogram] == [expected[i] for i in range(10)]
    assert sum(b["count"] for b in histogram) == stats["total"]
    # 9.0, 9.5, 9.99 and 10.0 all land in [9, 10]; 0.99 and 0.0 in [0, 1); 1.0 in [1, 2).
    assert histogram[9]["count"] == 4 and histogram[0]["count"] == 2 and histogram[1]["count"] == 1


async def test_funnel_and_filter_reasons_sum_over_all_runs(client, seeded):
    stats = await get_stats(client, seeded)
    assert stats["runs"] == len(RUNS) == 2
    assert stats["funnel"] == {
        "scraped": sum(r[1] for r in RUNS),
        "filtered": sum(r[2] for r in RUNS),
        "classified": sum(r[3] for r in RUNS),
        "stored": sum(r[4] for r in RUNS),
    }
    reasons: Counter[str] = Counter()
    for run in RUNS:
        reasons.update(run[5])
    assert stats["filter_reasons"] == dict(reasons)
    assert stats["filter_reasons"]["too_short"] == 35


async def test_last_run_is_the_newest_and_allowance_counts_the_week(client, seeded):
    stats = await get_stats(client, seeded)
    newest = max(seeded.runs, key=lambda r: r["created_at"])
    assert stats["last_run"]["task_id"] == newest["id"]
    assert stats["last_run"]["status"] == "partial"
    assert set(stats["last_run"]) == {"task_id", "status", "created_at", "finished_at"}
    assert stats["last_run"]["finished_at"] is not None
    assert stats["runs_remaining_this_week"] == 5 - 2  # trial plan, two runs in the window


async def test_unlimited_plan_has_null_runs_remaining(make_settings, db):
    async with app_client(make_settings(plan_trial_runs_per_week=0)) as client:
        user = await signup(client)
        seeded = await seed(client.app, client, user)
        stats = await get_stats(client, seeded)
    assert stats["runs_remaining_this_week"] is None


async def test_stats_count_only_this_campaign(client, app, alice, seeded):
    await seed(app, client, alice, name="Second")
    stats = await get_stats(client, seeded)
    assert stats["total"] == len(seeded.posts) and stats["runs"] == 2


async def test_another_users_stats_are_404(client, seeded, bob):
    resp = await client.get(seeded.url("/collection-stats"), headers=bob["headers"])
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
