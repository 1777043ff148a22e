"""The reddit source against a loopback Reddit: real HTTP, the real OAuth token exchange."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bcrao.config import Settings
from bcrao.sources.base import FetchRequest, SourceError
from bcrao.sources.factory import make_source as make_configured_source
from bcrao.sources.ratelimit import MemoryRateLimiter
from bcrao.sources.reddit import TOKEN_MARGIN_SECONDS, RedditSource
from tests.fakes.fixtures import fake_reddit  # noqa: F401
from tests.fakes.reddit import FakeReddit

SourceFactory = Callable[..., RedditSource]


@pytest.fixture
async def make_source(fake_reddit: FakeReddit, tmp_path: Path) -> AsyncIterator[SourceFactory]:  # noqa: F811
    """Build sources pointed at the fake; small retries and backoff keep failure tests quick."""
    sources: list[RedditSource] = []

    def factory(*, limiter: MemoryRateLimiter | None = None, **overrides: object) -> RedditSource:
        values: dict[str, object] = {
            "source": "reddit",
            "reddit_client_id": fake_reddit.client_id,
            "reddit_client_secret": fake_reddit.client_secret,
            "reddit_oauth_url": fake_reddit.url,
            "reddit_www_url": fake_reddit.url,
            "data_dir": tmp_path,
            "redis_url": None,
            "reddit_max_retries": 2,
            "reddit_timeout_seconds": 5.0,
            "reddit_max_wait_seconds": 30.0,
        }
        values.update(overrides)
        source = RedditSource(Settings(**values), limiter=limiter, backoff_base=0.01)  # type: ignore[arg-type]
        sources.append(source)
        return source

    yield factory
    for source in sources:
        await source.aclose()


@pytest.fixture
def saas(fake_reddit: FakeReddit) -> list[dict]:  # noqa: F811
    return fake_reddit.add_subreddit("SaaS", 250)


def request(
    limit: int = 50, mode: str = "fresh", keywords: list[str] | None = None, **kw: object
) -> FetchRequest:
    return FetchRequest(subreddit="SaaS", keywords=keywords or [], mode=mode, limit=limit, **kw)  # type: ignore[arg-type]


def statuses(fake: FakeReddit) -> list[int]:
    return [r.status for r in fake.listing_requests()]


class SettleCounter(MemoryRateLimiter):
    """Counts the budget's reservations and how each was settled (a response, or none)."""

    def __init__(self) -> None:
        super().__init__()
        self.acquired = self.updated = self.released = 0
        self.reserved = asyncio.Event()

    async def acquire(self, **kwargs) -> float:
        waited = await super().acquire(**kwargs)
        self.acquired += 1
        self.reserved.set()
        return waited

    async def update(self, headers) -> None:
        self.updated += 1
        await super().update(headers)

    async def release(self) -> None:
        self.released += 1
        await super().release()


class ForgetfulTokens(set):
    """Reddit refusing every token it issues."""

    def add(self, token: str) -> None:
        pass


async def test_app_only_oauth_token_is_exchanged_then_used(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(10))

    token_call, listing_call = fake_reddit.requests[0], fake_reddit.requests[1]
    assert token_call.method == "POST" and token_call.path == "/api/v1/access_token"
    expected = base64.b64encode(f"{fake_reddit.client_id}:{fake_reddit.client_secret}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert listing_call.headers["Authorization"].startswith("bearer ")
    assert listing_call.headers["Authorization"].split()[1] in fake_reddit.tokens
    assert len(result.posts) == 10


async def test_fresh_pages_through_new_with_the_after_cursor(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(150))

    assert [p.id for p in result.posts] == [p["id"] for p in saas[:150]]
    calls = fake_reddit.listing_requests("SaaS")
    assert [c.path for c in calls] == ["/r/SaaS/new", "/r/SaaS/new"]
    assert calls[0].query["limit"] == "100" and "after" not in calls[0].query
    assert calls[1].query["after"] == saas[99]["name"] and calls[1].query["limit"] == "50"
    assert result.requests == len(fake_reddit.requests) == 3  # token + two pages
    assert result.warnings == []


async def test_limit_caps_the_posts_and_the_page_size(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(7))

    assert len(result.posts) == 7
    assert [c.query["limit"] for c in fake_reddit.listing_requests()] == ["7"]


async def test_historical_reads_the_top_posts_of_the_year(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(40, mode="historical"))

    top = sorted(saas, key=lambda p: (-p["score"], -p["created_utc"]))[:40]
    assert {p.id for p in result.posts} == {p["id"] for p in top}
    assert all(c.path == "/r/SaaS/top" and c.query["t"] == "year" for c in fake_reddit.listing_requests())
    assert [p.created_utc for p in result.posts] == sorted(
        (p.created_utc for p in result.posts), reverse=True
    )


async def test_hybrid_merges_new_and_top_without_duplicates(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(120, mode="hybrid"))

    ids = [p.id for p in result.posts]
    assert len(ids) == len(set(ids)) == 120
    assert {c.path for c in fake_reddit.listing_requests()} == {"/r/SaaS/new", "/r/SaaS/top"}
    newest = {p["id"] for p in saas[:60]}
    assert newest <= set(ids)  # half the budget went to the newest posts


async def test_keywords_switch_to_subreddit_search(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(20, keywords=["churn", "first users"]))

    call = fake_reddit.listing_requests()[0]
    assert call.path == "/r/SaaS/search"
    assert call.query["q"] == '"churn" OR "first users"'
    assert call.query["restrict_sr"] == "1" and call.query["sort"] == "new"
    assert result.posts
    assert all(
        "churn" in f"{p.title} {p.text}".lower() or "first users" in f"{p.title} {p.text}".lower()
        for p in result.posts
    )


async def test_historical_search_sorts_by_top_of_the_year(fake_reddit, make_source, saas):  # noqa: F811
    await make_source().fetch(request(20, mode="historical", keywords=["pricing"]))

    call = fake_reddit.listing_requests()[0]
    assert (call.path, call.query["sort"], call.query["t"]) == ("/r/SaaS/search", "top", "year")


async def test_a_429_is_waited_out_and_the_same_page_retried(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "429", 1, skip=1, retry_after=1)
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    started = time.monotonic()
    result = await make_source().fetch(request(150), on_wait=on_wait)

    assert time.monotonic() - started >= 0.9
    assert waits and 0.2 <= waits[0] <= 1.0
    calls = fake_reddit.listing_requests()
    assert [c.status for c in calls] == [200, 429, 200]
    assert calls[1].query["after"] == calls[2].query["after"] == saas[99]["name"]
    assert [p.id for p in result.posts] == [p["id"] for p in saas[:150]]  # the first page was kept


async def test_a_429_longer_than_the_allowed_wait_fails_fast(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "429", 1, retry_after=120)
    started = time.monotonic()

    with pytest.raises(SourceError) as caught:
        await make_source(reddit_max_wait_seconds=10).fetch(request(10))

    assert caught.value.code == "rate_limited"
    assert time.monotonic() - started < 2


async def test_server_errors_are_retried_until_success(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "500", 1)
    fake_reddit.fail("SaaS", "503", 1)

    result = await make_source().fetch(request(30))

    assert statuses(fake_reddit) == [500, 503, 200]
    assert len(result.posts) == 30
    assert result.requests == 4


async def test_persistent_server_errors_give_up_with_upstream_error(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "500", 50)

    with pytest.raises(SourceError) as caught:
        await make_source(reddit_max_retries=2).fetch(request(30))

    assert caught.value.code == "upstream_error"
    assert statuses(fake_reddit) == [500, 500, 500]


@pytest.mark.parametrize("kind", ["malformed", "not_a_listing"])
async def test_a_broken_body_is_retried(fake_reddit, make_source, saas, kind):  # noqa: F811
    fake_reddit.fail("SaaS", kind, 1)

    result = await make_source().fetch(request(30))

    assert len(result.posts) == 30
    assert len(fake_reddit.listing_requests()) == 2


async def test_malformed_json_every_time_is_an_upstream_error(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "malformed", 50)

    with pytest.raises(SourceError) as caught:
        await make_source(reddit_max_retries=1).fetch(request(30))

    assert caught.value.code == "upstream_error"


async def test_a_stalled_reddit_times_out(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "stall", 10, seconds=3)
    started = time.monotonic()

    with pytest.raises(SourceError) as caught:
        await make_source(reddit_timeout_seconds=0.3, reddit_max_retries=1).fetch(request(30))

    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 2.5
    assert len(fake_reddit.listing_requests()) == 2


async def test_a_single_stall_is_survived(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "stall", 1, seconds=2)

    result = await make_source(reddit_timeout_seconds=0.3).fetch(request(30))

    assert len(result.posts) == 30


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("private", "subreddit_private"),
        ("quarantined", "subreddit_private"),
        ("banned", "subreddit_banned"),
        ("banned_403", "subreddit_banned"),
        ("missing", "subreddit_not_found"),
        ("redirect", "subreddit_not_found"),
        ("blocked", "access_blocked"),
        ("login_wall", "access_blocked"),
    ],
)
async def test_unreadable_subreddits_get_stable_codes(fake_reddit, make_source, saas, state, code):  # noqa: F811
    fake_reddit.set_state("SaaS", state)

    with pytest.raises(SourceError) as caught:
        await make_source().fetch(request(10))

    assert caught.value.code == code
    assert len(fake_reddit.listing_requests()) == 1  # permanent errors are not retried


@pytest.mark.parametrize(
    ("state", "status", "words"),
    [
        ("private", "not_found", "r/SaaS is private"),
        ("quarantined", "not_found", "r/SaaS is quarantined"),
        ("banned", "not_found", "r/SaaS has been banned"),
        ("missing", "not_found", "r/SaaS does not exist"),
        ("blocked", "blocked", "Reddit refused access: your app is not approved for this API"),
        ("login_wall", "blocked", "Reddit refused access: your app is not approved for this API"),
    ],
)
async def test_each_refusal_reduces_to_a_source_status_with_its_own_words(
    fake_reddit,  # noqa: F811
    make_source,
    saas,
    state,
    status,
    words,
):
    fake_reddit.set_state("SaaS", state)

    with pytest.raises(SourceError) as caught:
        await make_source().fetch(request(10))

    assert caught.value.status == status
    assert caught.value.message.startswith(words)


async def test_wrong_credentials_are_blocked_in_words(fake_reddit, make_source, saas):  # noqa: F811
    with pytest.raises(SourceError) as caught:
        await make_source(reddit_client_secret="wrong").fetch(request(10))

    assert caught.value.status == "blocked"
    assert caught.value.message.startswith("Reddit refused access: your app is not approved for this API")


async def test_a_subreddit_reddit_never_heard_of_is_not_found(fake_reddit, make_source):  # noqa: F811
    with pytest.raises(SourceError) as caught:
        await make_source().fetch(FetchRequest("nosuchsub123", [], "fresh", 10))

    assert caught.value.code == "subreddit_not_found"


async def test_wrong_credentials_are_auth_failed(fake_reddit, make_source, saas):  # noqa: F811
    with pytest.raises(SourceError) as caught:
        await make_source(reddit_client_secret="wrong").fetch(request(10))

    assert caught.value.code == "auth_failed"
    assert fake_reddit.listing_requests() == []


async def test_a_revoked_token_is_replaced_and_the_request_repeated(fake_reddit, make_source, saas):  # noqa: F811
    source = make_source()
    await source.fetch(request(10))
    fake_reddit.tokens.clear()

    result = await source.fetch(request(10))

    assert len(result.posts) == 10
    assert statuses(fake_reddit) == [200, 401, 200]
    assert len(fake_reddit.token_requests()) == 2


async def test_a_token_refused_twice_is_auth_failed(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.tokens = ForgetfulTokens()

    with pytest.raises(SourceError) as caught:
        await make_source().fetch(request(10))

    assert caught.value.code == "auth_failed" and caught.value.message.endswith("(token refused)")
    assert statuses(fake_reddit) == [401, 401]
    assert len(fake_reddit.token_requests()) == 2


async def test_a_token_is_replaced_before_it_expires(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.token_lifetime = int(TOKEN_MARGIN_SECONDS) + 1  # to be replaced after a second
    source = make_source()
    await source.fetch(request(10))
    await source.fetch(request(10))
    assert len(fake_reddit.token_requests()) == 1

    await asyncio.sleep(1.1)
    await source.fetch(request(10))

    assert len(fake_reddit.token_requests()) == 2
    assert 401 not in statuses(fake_reddit)


async def test_every_budget_reservation_is_settled(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "500", 1)
    fake_reddit.fail("SaaS", "stall", 1, seconds=2)
    fake_reddit.fail("SaaS", "429", 1, retry_after=1)
    limiter = SettleCounter()

    result = await make_source(limiter=limiter, reddit_timeout_seconds=0.3).fetch(request(30))

    assert len(result.posts) == 30
    assert limiter.acquired == 4 and limiter.updated == 3
    assert limiter.released == 1  # the stalled request: no response, no headers


async def test_a_cancelled_fetch_gives_its_reservation_back(fake_reddit, make_source, saas):  # noqa: F811
    fake_reddit.fail("SaaS", "stall", 1, seconds=2)
    limiter = SettleCounter()
    fetch = asyncio.create_task(make_source(limiter=limiter).fetch(request(10)))
    await asyncio.wait_for(limiter.reserved.wait(), timeout=5)

    fetch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fetch

    assert limiter.acquired == limiter.released == 1 and limiter.updated == 0


async def test_the_1000_item_listing_cap_is_reported(fake_reddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("big", 1500, spacing=timedelta(minutes=20))

    result = await make_source().fetch(FetchRequest("big", [], "fresh", 1200))

    assert len(result.posts) == 1000
    assert result.warnings == ["r/big: Reddit listing cap of 1,000 reached; older posts were not fetched"]
    assert len(fake_reddit.listing_requests()) == 10


async def test_no_cap_warning_when_the_limit_is_reached_first(fake_reddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("big", 1500, spacing=timedelta(minutes=20))

    result = await make_source().fetch(FetchRequest("big", [], "fresh", 1000))

    assert len(result.posts) == 1000 and result.warnings == []


async def test_incremental_collection_stops_at_known_posts(fake_reddit, make_source, saas):  # noqa: F811
    full = await make_source().fetch(request(250))
    full_pages = len(fake_reddit.listing_requests())
    fake_reddit.requests.clear()
    known = datetime.fromtimestamp(saas[60]["created_utc"], tz=UTC)

    result = await make_source().fetch(request(250, newer_than=known))

    assert [p.id for p in result.posts] == [p["id"] for p in saas[:60]]
    assert len(fake_reddit.listing_requests()) == 1 < full_pages == 3
    assert len(full.posts) == 250


async def test_incremental_collection_by_known_id(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(250, newer_than_id=saas[130]["id"]))

    assert [p.id for p in result.posts] == [p["id"] for p in saas[:130]]
    assert len(fake_reddit.listing_requests()) == 2


async def test_items_with_missing_optional_keys_are_parsed(fake_reddit, make_source, saas):  # noqa: F811
    result = await make_source().fetch(request(100))
    by_id = {p.id: p for p in result.posts}

    sparse = [p for p in saas[:100] if "upvote_ratio" not in p]
    assert sparse and all(by_id[p["id"]].upvote_ratio is None for p in sparse)
    deleted = [p for p in saas[:100] if p["author"] == "[deleted]"]
    assert deleted and all(by_id[p["id"]].author is None and by_id[p["id"]].removed for p in deleted)
    links = [p for p in saas[:100] if not p["is_self"]]
    assert links and all(not by_id[p["id"]].is_self and by_id[p["id"]].text == "" for p in links)
    assert any(by_id[p["id"]].removed for p in saas[:100] if p["selftext"] == "[removed]")


@pytest.mark.parametrize("style", ["float", "int", "absent", "mixed"])
async def test_every_rate_limit_header_form_is_accepted(fake_reddit, make_source, saas, style):  # noqa: F811
    fake_reddit.header_style = style

    result = await make_source().fetch(request(250))

    assert len(result.posts) == 250


async def test_an_exhausted_budget_is_waited_for_instead_of_hitting_429(fake_reddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("tiny", 500)
    fake_reddit.header_style = "int"
    fake_reddit.set_budget(3, window_seconds=1.0)
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    result = await make_source(limiter=MemoryRateLimiter()).fetch(
        FetchRequest("tiny", [], "fresh", 500), on_wait=on_wait
    )

    assert len(result.posts) == 500
    assert 429 not in statuses(fake_reddit)
    assert waits  # the limiter, not Reddit, paused the fetch


async def test_the_factory_builds_the_reddit_source(fake_reddit, tmp_path):  # noqa: F811
    settings = Settings(
        source="reddit",
        reddit_client_id=fake_reddit.client_id,
        reddit_client_secret=fake_reddit.client_secret,
        data_dir=tmp_path,
    )

    source = make_configured_source(settings)

    assert isinstance(source, RedditSource) and source.name == "reddit"
    await source.aclose()


async def test_many_long_keywords_are_searched_in_queries_within_reddits_limit(
    fake_reddit,  # noqa: F811
    make_source,
    saas,
):
    keywords = [f"keyword-{n}: ({'x' * 35})" for n in range(15)] + ["churn"]
    result = await make_source().fetch(request(60, keywords=keywords))
    queries = [c.query["q"] for c in fake_reddit.listing_requests()]
    assert len(set(queries)) >= 2 and all(len(q) <= 512 for q in queries)
    asked = {part.strip('"') for q in set(queries) for part in q.split(" OR ")}
    assert asked == set(keywords)  # every keyword, each quoted once
    assert result.posts and all("churn" in f"{p.title} {p.text}".lower() for p in result.posts)
