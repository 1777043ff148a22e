"""The apify source against a loopback Apify API, with apify-client doing the real HTTP."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bcrao.config import Settings
from bcrao.sources.apify import ApifySource, from_apify_item
from bcrao.sources.base import FetchRequest, SourceError
from bcrao.sources.factory import make_source as make_configured_source
from tests.fakes.apify import FakeApify
from tests.fakes.fixtures import fake_apify  # noqa: F401
from tests.fakes.reddit_posts import generate_posts

SourceFactory = Callable[..., ApifySource]


@pytest.fixture
def make_source(fake_apify: FakeApify, tmp_path: Path) -> SourceFactory:  # noqa: F811
    def factory(*, max_retries: int = 2, **overrides: object) -> ApifySource:
        values: dict[str, object] = {
            "source": "apify",
            "apify_token": fake_apify.token,
            "apify_base_url": fake_apify.url,
            "apify_timeout_seconds": 5.0,
            "data_dir": tmp_path,
        }
        values.update(overrides)
        return ApifySource(Settings(**values), max_retries=max_retries, retry_delay=0.01)  # type: ignore[arg-type]

    return factory


def request(
    limit: int = 20, mode: str = "fresh", keywords: list[str] | None = None, **kw: object
) -> FetchRequest:
    return FetchRequest(subreddit="SaaS", keywords=keywords or [], mode=mode, limit=limit, **kw)  # type: ignore[arg-type]


async def test_a_subreddit_run_yields_its_posts_and_skips_other_items(fake_apify, make_source):  # noqa: F811
    result = await make_source().fetch(request(20))

    expected = generate_posts("SaaS", 20)
    assert [p.id for p in result.posts] == [p["id"] for p in expected]
    assert all(p.subreddit == "SaaS" for p in result.posts)
    assert fake_apify.inputs == [
        {
            "maxItems": 20,
            "maxPostCount": 20,
            "maxComments": 0,
            "skipComments": True,
            "skipUserPosts": True,
            "skipCommunity": True,
            "includeNSFW": True,
            "includeMediaLinks": True,
            "proxy": {"useApifyProxy": True},
            "startUrls": [{"url": "https://www.reddit.com/r/SaaS/new/"}],
        }
    ]
    paths = [(r.method, r.path.split("/")[2]) for r in fake_apify.requests]
    assert paths[0] == ("POST", "actors")
    assert fake_apify.requests[0].path.endswith("/trudax~reddit-scraper-lite/runs")
    assert ("GET", "actor-runs") in paths and ("GET", "datasets") in paths
    assert result.requests == len(fake_apify.requests)


async def test_scraper_fields_map_onto_normalized_posts(make_source):
    result = await make_source().fetch(request(40))
    by_id = {p.id: p for p in result.posts}

    for raw in generate_posts("SaaS", 40):
        post = by_id[raw["id"]]
        assert post.title == raw["title"]
        assert post.upvotes == raw["score"] and post.comment_count == raw["num_comments"]
        assert post.created_utc == datetime.fromtimestamp(raw["created_utc"], tz=UTC)
        assert post.permalink == f"https://www.reddit.com{raw['permalink']}"
        assert post.upvote_ratio == raw.get("upvote_ratio")
        assert post.author == (None if raw["author"] == "[deleted]" else raw["author"])
        assert post.is_self == raw["is_self"]
        assert post.removed == (raw["selftext"] in ("[removed]", "[deleted]"))


def test_comments_ads_and_broken_items_are_not_posts():
    assert (
        from_apify_item({"dataType": "comment", "parsedId": "x", "createdAt": "2026-11-01T10:00:00.000Z"})
        is None
    )
    assert (
        from_apify_item(
            {"dataType": "post", "isAd": True, "parsedId": "x", "createdAt": "2026-11-01T10:00:00.000Z"}
        )
        is None
    )
    assert from_apify_item({"dataType": "post", "parsedId": "x", "createdAt": "yesterday"}) is None
    post = from_apify_item(
        {
            "dataType": "post",
            "id": "t3_abc",
            "createdAt": "2026-11-01T10:00:00.000Z",
            "communityName": "r/SaaS",
            "title": "Hi",
        }
    )
    assert post is not None and (post.id, post.subreddit, post.upvote_ratio) == ("abc", "SaaS", None)


async def test_keywords_become_a_search_inside_the_subreddit(fake_apify, make_source):  # noqa: F811
    result = await make_source().fetch(request(30, mode="historical", keywords=["churn", "pricing"]))

    sent = fake_apify.inputs[0]
    assert sent["searches"] == ["churn", "pricing"] and sent["searchCommunityName"] == "SaaS"
    assert (sent["sort"], sent["time"], sent["searchPosts"]) == ("top", "year", True)
    assert "startUrls" not in sent
    assert result.posts and all(
        "churn" in f"{p.title} {p.text}".lower() or "pricing" in f"{p.title} {p.text}".lower()
        for p in result.posts
    )


async def test_hybrid_runs_new_and_top_of_the_year_with_half_the_budget_each(fake_apify, make_source):  # noqa: F811
    result = await make_source().fetch(request(10, mode="hybrid"))

    assert [i["startUrls"] for i in fake_apify.inputs] == [
        [{"url": "https://www.reddit.com/r/SaaS/new/"}],
        [{"url": "https://www.reddit.com/r/SaaS/top/?t=year"}],
    ]
    assert [i["maxPostCount"] for i in fake_apify.inputs] == [5, 5]
    assert 5 <= len(result.posts) <= 10 and len({p.id for p in result.posts}) == len(result.posts)


async def test_engagement_figures_are_asked_for_and_link_boilerplate_is_dropped(fake_apify, make_source):  # noqa: F811
    result = await make_source().fetch(request(40))
    raw = {p["id"]: p for p in generate_posts("SaaS", 40)}
    assert any(p.upvotes for p in result.posts) and any(p.comment_count for p in result.posts)
    for post in result.posts:
        assert post.upvotes == raw[post.id]["score"]
        assert "Thumbnail:" not in post.text and not post.text.startswith("URL:")
    assert any(not raw[p.id]["is_self"] for p in result.posts)  # link posts were among them


async def test_a_run_that_times_out_keeps_what_it_had_found(fake_apify, make_source):  # noqa: F811
    fake_apify.outcome = "RUNNING"
    fake_apify.partial_posts = 4

    result = await make_source(apify_timeout_seconds=1.0).fetch(request(20))

    assert len(result.posts) == 4 and len(fake_apify.aborted) == 1
    assert any("did not finish" in w and "4 posts" in w for w in result.warnings)


async def test_a_run_is_capped_by_its_maximum_charge(fake_apify, make_source):  # noqa: F811
    await make_source(apify_max_charge_usd=0.25).fetch(request(5))
    started = next(r for r in fake_apify.requests if r.method == "POST" and r.path.endswith("/runs"))
    assert float(started.query["maxTotalChargeUsd"]) == 0.25


async def test_incremental_collection_keeps_only_newer_posts(fake_apify, make_source):  # noqa: F811
    cutoff = datetime.fromtimestamp(generate_posts("SaaS", 50)[12]["created_utc"], tz=UTC)

    result = await make_source().fetch(request(50, newer_than=cutoff))

    assert len(result.posts) == 12 and all(p.created_utc > cutoff for p in result.posts)
    assert fake_apify.inputs[0]["postDateLimit"] == cutoff.date().isoformat()


async def test_a_failed_actor_run_is_actor_failed(fake_apify, make_source):  # noqa: F811
    fake_apify.outcome = "FAILED"

    with pytest.raises(SourceError) as caught:
        await make_source().fetch(request())

    assert caught.value.code == "actor_failed"
    assert "failed" in caught.value.message


async def test_a_bad_token_is_auth_failed_without_retries(fake_apify, make_source):  # noqa: F811
    with pytest.raises(SourceError) as caught:
        await make_source(apify_token="wrong-token").fetch(request())

    assert caught.value.code == "auth_failed"
    assert len(fake_apify.requests) == 1


async def test_a_run_that_outlasts_the_timeout_is_aborted(fake_apify, make_source):  # noqa: F811
    fake_apify.outcome = "RUNNING"

    with pytest.raises(SourceError) as caught:
        await make_source(apify_timeout_seconds=1.0).fetch(request())

    assert caught.value.code == "timeout"
    assert len(fake_apify.aborted) == 1


async def test_a_slow_run_that_finishes_in_time_is_read(fake_apify, make_source):  # noqa: F811
    fake_apify.run_seconds = 0.5

    result = await make_source(apify_timeout_seconds=5.0).fetch(request(5))

    assert len(result.posts) == 5


async def test_transient_server_errors_are_retried(fake_apify, make_source):  # noqa: F811
    fake_apify.server_errors = 2

    result = await make_source(max_retries=3).fetch(request(5))

    assert len(result.posts) == 5
    assert [r.status for r in fake_apify.requests[:3]] == [500, 500, 201]


async def test_persistent_server_errors_are_upstream_errors(fake_apify, make_source):  # noqa: F811
    fake_apify.server_errors = 100

    with pytest.raises(SourceError) as caught:
        await make_source(max_retries=1).fetch(request(5))

    assert caught.value.code == "upstream_error"


async def test_an_unreachable_apify_is_an_upstream_error(make_source):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"

    with pytest.raises(SourceError) as caught:
        await make_source(max_retries=0, apify_base_url=closed).fetch(request(5))

    assert caught.value.code in ("upstream_error", "timeout")


def test_the_factory_builds_the_apify_source(tmp_path: Path):
    source = make_configured_source(Settings(source="apify", apify_token="t", data_dir=tmp_path))

    assert isinstance(source, ApifySource) and source.name == "apify"
