"""GET /v1/campaigns/{id}/posts: every filter, sort, search and paging rule against known data."""

from __future__ import annotations

import pytest

from bcrao.posts.schemas import POST_FIELDS
from tests.conftest import field_names, make_campaign

from .conftest import SORT_COLUMNS, expected_ids, seed


async def list_ids(client, seeded, **params) -> tuple[list[str], dict]:
    resp = await client.get(seeded.url(), params={"per_page": 100, **params}, headers=seeded.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return [p["id"] for p in body["posts"]], body


async def test_default_listing_is_best_score_first_with_id_tie_break(client, seeded):
    ids, body = await list_ids(client, seeded)
    assert body["total"] == len(seeded.posts) == len(ids)
    assert ids == expected_ids(seeded.posts)
    scores = [p["success_score"] for p in body["posts"]]
    assert scores == sorted(scores, reverse=True)


async def test_post_objects_have_exactly_the_contract_fields(client, seeded):
    _, body = await list_ids(client, seeded, per_page=20)
    assert body["page"] == 1 and body["per_page"] == 20
    for post in body["posts"]:
        assert list(post) == list(POST_FIELDS)
        assert post["campaign_id"] == seeded.campaign_id


async def test_list_cuts_long_texts_to_a_300_char_snippet(client, seeded):
    long_post = next(p for p in seeded.posts if len(p["raw_text"]) > 300)
    _, body = await list_ids(client, seeded)
    shown = next(p for p in body["posts"] if p["id"] == str(long_post["id"]))
    assert len(shown["raw_text"]) == 300
    assert long_post["raw_text"].startswith(shown["raw_text"])
    short = next(p for p in body["posts"] if p["title"] == "Hello")
    assert short["raw_text"] == "First post here."


@pytest.mark.parametrize("sort", list(SORT_COLUMNS))
async def test_every_sort_orders_with_id_tie_break(client, seeded, sort):
    ids, _ = await list_ids(client, seeded, sort=sort)
    assert ids == expected_ids(seeded.posts, sort)


@pytest.mark.parametrize("archetype", ["Journey", "ProblemSolution", "Feedback", "Unclassified"])
async def test_archetype_filter(client, seeded, archetype):
    ids, body = await list_ids(client, seeded, archetype=archetype)
    expected = expected_ids(seeded.posts, archetype=archetype)
    assert ids == expected and body["total"] == len(expected) > 0
    assert {p["archetype"] for p in body["posts"]} == {archetype}


@pytest.mark.parametrize("spelling", ["saas", "SaaS", "r/SAAS", "/r/saas"])
async def test_subreddit_filter_is_case_insensitive_and_accepts_r_prefix(client, seeded, spelling):
    ids, body = await list_ids(client, seeded, subreddit=spelling)
    expected = expected_ids(seeded.posts, subreddit="saas")
    assert ids == expected
    # Posts stored as "SaaS" and as "saas" are the same subreddit.
    assert {p["subreddit"] for p in body["posts"]} == {"SaaS", "saas"}


async def test_subreddit_filter_with_nothing_stored_is_empty(client, seeded):
    ids, body = await list_ids(client, seeded, subreddit="Entrepreneur")
    assert ids == [] and body["total"] == 0


@pytest.mark.parametrize(
    "bounds",
    [
        {"min_score": 5.0},
        {"max_score": 1.0},
        {"min_score": 1.0, "max_score": 5.0},  # both bounds inclusive: 1.0 and the three 5.0 are in
        {"min_score": 10, "max_score": 10},
        {"min_score": 0, "max_score": 0},
        {"min_score": 9.991, "max_score": 9.999},
    ],
)
async def test_score_range_bounds_are_inclusive(client, seeded, bounds):
    ids, body = await list_ids(client, seeded, **bounds)
    expected = expected_ids(seeded.posts, **bounds)
    assert ids == expected and body["total"] == len(expected)


async def test_score_range_includes_exact_bounds(client, seeded):
    _, body = await list_ids(client, seeded, min_score=1, max_score=5)
    scores = sorted(p["success_score"] for p in body["posts"])
    assert scores[0] == 1.0 and scores[-1] == 5.0 and scores.count(5.0) == 3


@pytest.mark.parametrize(
    "q",
    [
        "churn",  # in titles and in texts
        "CHURN",  # case-insensitive
        "ChUrN pricing",  # every word must appear, title or text
        "pricing churn story",
        "brutal",  # only in texts
        "pric",  # a word start: "pricing", "Pricing,"
        "ricing",  # not the middle of a word
        "0%",  # punctuation separates words: "0" begins "0 to 1k", not "2024"
        "e_t",  # "e" and "t" must each begin a word
        "snake_case",
        "café",  # letters of any script
        "FRANÇAIS",
        "nothing-matches-this",
        "%%%",  # no letters or digits: no filter
    ],
)
async def test_search_matches_word_starts_in_title_or_text(client, seeded, q):
    ids, body = await list_ids(client, seeded, q=q)
    expected = expected_ids(seeded.posts, q=q)
    assert ids == expected and body["total"] == len(expected)


async def test_search_matches_word_starts_only(client, seeded):
    titles = {str(p["id"]): p["title"] for p in seeded.posts}
    churned, _ = await list_ids(client, seeded, q="chur")
    assert "Churn is killing our MRR" in {titles[i] for i in churned}
    middle, _ = await list_ids(client, seeded, q="urn")
    assert middle == []
    percent, _ = await list_ids(client, seeded, q="100%")
    assert [titles[i] for i in percent] == ["100% growth in a year"]
    underscore, _ = await list_ids(client, seeded, q="type_tag")
    assert [p["raw_text"] for p in seeded.posts if str(p["id"]) in underscore] == ["type_tag in text"]


async def test_blank_search_is_no_filter(client, seeded):
    ids, _ = await list_ids(client, seeded, q="   ")
    assert ids == expected_ids(seeded.posts)


@pytest.mark.parametrize(
    ("params", "sort"),
    [
        ({"archetype": "Journey", "subreddit": "r/startups"}, "-upvotes"),
        ({"archetype": "Feedback", "min_score": 3, "max_score": 7}, "success_score"),
        ({"subreddit": "SAAS", "q": "churn", "min_score": 7}, "-comment_count"),
        (
            {"archetype": "ProblemSolution", "subreddit": "saas", "q": "churn", "max_score": 9},
            "-reddit_created_at",
        ),
    ],
)
async def test_filters_combine(client, seeded, params, sort):
    ids, body = await list_ids(client, seeded, sort=sort, **params)
    filters = {**params}
    if "subreddit" in filters:
        filters["subreddit"] = filters["subreddit"].removeprefix("r/")
    expected = expected_ids(seeded.posts, sort, **filters)
    assert ids == expected and body["total"] == len(expected) > 0


@pytest.mark.parametrize(
    "params",
    [
        {"min_confidence": 0.6},
        {"min_confidence": 0.35},
        {"min_confidence": 0},  # every labelled post, never an Unclassified one
        {"archetype_source": "llm"},
        {"archetype_source": "model", "min_confidence": 0.5, "archetype": "Feedback"},
        {"archetype_source": "user"},  # nobody has corrected a label yet
        {"min_confidence": 0.5, "q": "churn", "min_score": 5},
        {"mentions_keywords": True},
        {"mentions_keywords": False},
        {"mentions_keywords": True, "archetype": "Journey", "sort": "-relevance_score"},
    ],
)
async def test_label_filters_match_the_stored_confidence_and_source(client, seeded, params):
    ids, body = await list_ids(client, seeded, **params)
    expected = {k: v for k, v in params.items() if k != "sort"}
    assert ids == expected_ids(seeded.posts, params.get("sort", "-success_score"), **expected)
    assert body["total"] == len(ids)
    for post in body["posts"]:
        if "min_confidence" in params:
            assert post["archetype_confidence"] >= params["min_confidence"]
        assert post["archetype_source"] == params.get("archetype_source", post["archetype_source"])
        if "mentions_keywords" in params:
            assert bool(post["matched_keywords"]) is params["mentions_keywords"]


async def test_label_fields_are_on_every_post(client, seeded):
    _, body = await list_ids(client, seeded)
    for post in body["posts"]:
        if post["archetype"] == "Unclassified":
            assert (post["archetype_confidence"], post["archetype_source"], post["archetype_reasons"]) == (
                None,
                None,
                [],
            )
        else:
            assert 0 < post["archetype_confidence"] <= 1
            assert post["archetype_source"] in ("model", "llm")
            assert post["archetype_reasons"][0] == "churn"


async def test_pages_partition_the_listing(client, seeded):
    everything = expected_ids(seeded.posts, "-upvotes")
    seen = []
    for page in range(1, 5):  # 17 posts, 5 per page: 5, 5, 5, 2
        ids, body = await list_ids(client, seeded, sort="-upvotes", page=page, per_page=5)
        assert body["total"] == 17 and body["page"] == page and body["per_page"] == 5
        assert len(ids) == (2 if page == 4 else 5)
        seen += ids
    assert seen == everything


async def test_exactly_full_last_page_and_page_beyond_the_end(client, seeded):
    expected = expected_ids(seeded.posts, archetype="Feedback")  # 5 posts
    assert len(expected) == 5
    last, body = await list_ids(client, seeded, archetype="Feedback", page=1, per_page=5)
    assert last == expected and body["total"] == 5
    beyond, body = await list_ids(client, seeded, archetype="Feedback", page=2, per_page=5)
    assert beyond == [] and body["total"] == 5 and body["page"] == 2
    far, body = await list_ids(client, seeded, page=1000)
    assert far == [] and body["total"] == 17


async def test_empty_campaign_lists_nothing(client, alice):
    campaign = await make_campaign(client, alice["headers"])
    resp = await client.get(f"/v1/campaigns/{campaign['id']}/posts", headers=alice["headers"])
    assert resp.status_code == 200
    assert resp.json() == {"posts": [], "total": 0, "page": 1, "per_page": 20}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"archetype": "Story"}, "archetype"),
        ({"archetype": "journey"}, "archetype"),
        ({"subreddit": "not valid!"}, "subreddit"),
        ({"subreddit": "a"}, "subreddit"),
        ({"subreddit": "r/"}, "subreddit"),
        ({"min_score": -0.1}, "min_score"),
        ({"min_score": "high"}, "min_score"),
        ({"max_score": 10.5}, "max_score"),
        ({"min_score": 6, "max_score": 5}, "min_score"),
        ({"sort": "upvotes"}, "sort"),
        ({"sort": "-title"}, "sort"),
        ({"page": 0}, "page"),
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"q": "x" * 201}, "q"),
        ({"min_confidence": 1.5}, "min_confidence"),
        ({"min_confidence": -0.1}, "min_confidence"),
        ({"archetype_source": "rules"}, "archetype_source"),
    ],
)
async def test_invalid_query_is_422_naming_the_field(client, seeded, params, field):
    resp = await client.get(seeded.url(), params=params, headers=seeded.headers)
    assert field in field_names(resp)


async def test_another_users_campaign_is_404(client, app, alice, bob):
    alices = await seed(app, client, alice)
    resp = await client.get(alices.url(), headers=bob["headers"])
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_list_needs_authentication(client, seeded):
    resp = await client.get(seeded.url())
    assert resp.status_code == 401


async def test_posts_of_other_campaigns_never_leak_into_a_list(client, app, alice):
    first = await seed(app, client, alice)
    second = await seed(app, client, alice, name="Second campaign")
    ids, body = await list_ids(client, first)
    assert body["total"] == len(first.posts)
    assert set(ids) == {str(p["id"]) for p in first.posts}
    assert not set(ids) & {str(p["id"]) for p in second.posts}
