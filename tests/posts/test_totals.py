"""List totals come from per-campaign counts plus exact edge counts: check every shape of range;
search totals are remembered only while the campaign's posts are unchanged."""

from __future__ import annotations

import uuid

import pytest

from bcrao.collection import store
from bcrao.posts.schemas import PostFilters
from bcrao.posts.service import SEARCH_TOTALS, full_buckets, search_key
from bcrao.posts.totals import SearchTotals
from tests.posts.conftest import expected_ids, post_rows

RANGES = [
    {},
    {"min_score": 0, "max_score": 10},
    {"min_score": 0.5, "max_score": 9.5},
    {"min_score": 3, "max_score": 7},
    {"min_score": 7, "max_score": 9},
    {"min_score": 9, "max_score": 10},
    {"min_score": 9.99, "max_score": 10},
    {"min_score": 2.5, "max_score": 2.7},
    {"max_score": 4.2},
    {"min_score": 6},
    {"min_score": 10},
    {"max_score": 0},
]


@pytest.mark.parametrize("scores", RANGES, ids=[str(r) for r in RANGES])
@pytest.mark.parametrize(
    "extra", [{}, {"archetype": "Journey"}, {"subreddit": "SaaS"}], ids=["all", "arch", "sub"]
)
async def test_totals_equal_the_number_of_matching_posts(client, seeded, scores, extra):
    params = {**scores, **extra}
    resp = await client.get(seeded.url(), params={"per_page": 1, **params}, headers=seeded.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] == len(expected_ids(seeded.posts, **params))


def test_full_buckets_are_the_ones_wholly_inside_the_range():
    assert full_buckets(0, 10) == list(range(10))
    assert full_buckets(0.5, 9.5) == list(range(1, 9))
    assert full_buckets(7, 9) == [7, 8]
    assert full_buckets(9, 10) == [9]
    assert full_buckets(9, 9.99) == []
    assert full_buckets(2.5, 2.7) == []


async def test_a_remembered_search_total_is_dropped_when_new_posts_arrive(app, client, seeded):
    params = {"q": "churn", "per_page": 1}
    first = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()["total"]
    assert first == len(expected_ids(seeded.posts, q="churn"))
    again = (await client.get(seeded.url(), params={**params, "page": 2}, headers=seeded.headers)).json()
    assert again["total"] == first

    # A later run stores two more churn posts (and one that does not match).
    cid, uid = uuid.UUID(seeded.campaign_id), uuid.UUID(seeded.posts[0]["user_id"].hex)
    rows = post_rows(cid, uid, [seeded.posts[0]["run_id"]])[:3]
    for n, row in enumerate(rows):
        row.update(id=uuid.uuid4(), reddit_post_id=f"t3_new{n}", title=["Churned again", "Churn", "Hi"][n])
    async with app.state.runtime.sessionmaker() as session:
        await store.insert_posts(session, campaign_id=cid, run_id=row["run_id"], rows=rows)
        await session.commit()

    after = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()["total"]
    assert after == first + 2 == len(expected_ids([*seeded.posts, *rows], q="churn"))


async def test_a_remembered_search_total_answers_without_counting_again(client, seeded):
    params = {"q": "pricing", "archetype": "Feedback", "per_page": 1}
    key_filters = PostFilters(q="pricing", archetype="Feedback")
    cid = uuid.UUID(seeded.campaign_id)
    first = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()["total"]
    assert first == len(expected_ids(seeded.posts, q="pricing", archetype="Feedback"))
    # Plant a different number under the same key and version: the list must answer with it.
    key = search_key(cid, key_filters)
    SEARCH_TOTALS.put(key, (len(seeded.posts), 0, 0), 12345)  # (stored posts, labels version, comments)
    planted = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()["total"]
    assert planted == 12345
    SEARCH_TOTALS.put(key, (len(seeded.posts) - 1, 0, 0), 12345)  # filed under an older version: ignored
    assert (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()["total"] == first


def test_search_totals_forget_the_least_recently_used_entry():
    totals = SearchTotals(maxsize=2)
    totals.put("a", 1, 10)
    totals.put("b", 1, 20)
    assert totals.get("a", 1) == 10  # "a" is now the most recently used
    totals.put("c", 1, 30)
    assert totals.get("b", 1) is None and totals.get("a", 1) == 10 and totals.get("c", 1) == 30
    assert totals.get("a", 2) is None  # another version of the campaign
    assert len(totals) == 2
