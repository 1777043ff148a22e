"""List totals come from per-campaign counts plus exact edge counts: check every shape of range."""

from __future__ import annotations

import pytest

from bcrao.posts.service import full_buckets
from tests.posts.conftest import expected_ids

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
