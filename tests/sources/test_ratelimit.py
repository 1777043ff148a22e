"""The shared Reddit request budget: header parsing, waiting, and sharing through real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bcrao.config import Settings
from bcrao.sources.base import FetchRequest
from bcrao.sources.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RateLimitHeaders,
    RateLimitWaitTooLong,
    RedisRateLimiter,
    make_limiter,
    parse_ratelimit_headers,
    parse_retry_after,
)
from bcrao.sources.reddit import RedditSource
from tests.fakes.fixtures import fake_reddit, redis_server  # noqa: F401
from tests.fakes.reddit import FakeReddit


def headers(remaining: str, reset: str, used: str = "3") -> dict[str, str]:
    return {"x-ratelimit-remaining": remaining, "x-ratelimit-used": used, "x-ratelimit-reset": reset}


@pytest.fixture
async def redis_pair(redis_server: str) -> AsyncIterator[tuple[RedisRateLimiter, RedisRateLimiter]]:  # noqa: F811
    """Two limiters for one client id over separate connections, as two workers would have."""
    client_id = f"client-{uuid.uuid4().hex[:8]}"
    first = RedisRateLimiter.from_url(redis_server, client_id)
    second = RedisRateLimiter.from_url(redis_server, client_id)
    yield first, second
    await first.aclose()
    await second.aclose()


# -- header parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (headers("997.0", "15"), RateLimitHeaders(997.0, 15.0, 3)),
        (headers("290", "156", "10"), RateLimitHeaders(290.0, 156.0, 10)),
        (
            {"X-Ratelimit-Remaining": "9322.0", "X-Ratelimit-Reset": "51"},
            RateLimitHeaders(9322.0, 51.0, None),
        ),
        (headers("-1.0", "3"), RateLimitHeaders(0.0, 3.0, 3)),
    ],
)
def test_reddit_budget_headers_parse_in_every_recorded_form(raw, expected):
    assert parse_ratelimit_headers(raw) == expected


@pytest.mark.parametrize(
    "raw", [{}, {"x-ratelimit-remaining": "12.0"}, headers("lots", "15"), headers("nan", "1")]
)
def test_missing_or_unreadable_budget_headers_mean_no_information(raw):
    assert parse_ratelimit_headers(raw) is None


def test_retry_after_is_read_in_seconds():
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None
    assert parse_retry_after({}) is None


# -- behaviour common to both backends -----------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    url = request.getfixturevalue("redis_server")
    redis_limiter = RedisRateLimiter.from_url(url, f"client-{uuid.uuid4().hex[:8]}")
    yield redis_limiter
    await redis_limiter.aclose()


async def test_an_unknown_budget_lets_requests_through(limiter: RateLimiter):
    assert [await limiter.acquire(max_wait=0) for _ in range(5)] == [0.0] * 5


async def test_requests_wait_for_the_reset_once_the_budget_is_spent(limiter: RateLimiter):
    await limiter.update(headers("2", "1"))
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire(on_wait=on_wait)

    assert 0.8 <= time.monotonic() - started < 3.0
    assert len(waits) == 1 and 0.5 <= waits[0] <= 1.0


async def test_int_and_float_remaining_strings_count_the_same(limiter: RateLimiter):
    await limiter.update(headers("1.0", "30"))
    await limiter.acquire(max_wait=0)
    with pytest.raises(RateLimitWaitTooLong):
        await limiter.acquire(max_wait=0.5)
    await limiter.update(headers("2", "60"))  # a new window: Reddit's count replaces ours
    await limiter.acquire(max_wait=0)


async def test_a_wait_longer_than_allowed_raises_instead_of_sleeping(limiter: RateLimiter):
    await limiter.update(headers("0", "300"))
    started = time.monotonic()

    with pytest.raises(RateLimitWaitTooLong) as caught:
        await limiter.acquire(max_wait=10)

    assert 250 < caught.value.wait_seconds <= 300
    assert time.monotonic() - started < 0.5


async def test_a_stale_header_does_not_hand_back_spent_requests(limiter: RateLimiter):
    await limiter.update(headers("3", "30"))
    for _ in range(3):
        await limiter.acquire(max_wait=0)
    await limiter.update(headers("2.0", "30"))  # an answer to a request sent before the last two

    with pytest.raises(RateLimitWaitTooLong):
        await limiter.acquire(max_wait=1)


async def test_a_429_block_holds_everyone_until_it_ends(limiter: RateLimiter):
    await limiter.block(0.5)
    started = time.monotonic()

    await limiter.acquire()

    assert 0.4 <= time.monotonic() - started < 3.0


async def test_headers_without_a_budget_change_nothing(limiter: RateLimiter):
    await limiter.update(headers("1", "30"))
    await limiter.update({"content-type": "application/json"})
    await limiter.acquire(max_wait=0)
    with pytest.raises(RateLimitWaitTooLong):
        await limiter.acquire(max_wait=1)


async def test_budget_figures_are_read_net_of_requests_still_in_flight(limiter: RateLimiter):
    # Two workers' requests interleave; Reddit's figures lag behind what was already sent.
    await limiter.acquire(max_wait=0)  # A1 (budget still unknown)
    await limiter.acquire(max_wait=0)  # B1
    await limiter.update(headers("3", "30", "1"))  # answer to A1: B1 not counted yet
    await limiter.acquire(max_wait=0)  # A2
    await limiter.update(headers("2", "30", "2"))  # answer to B1: A2 not counted yet
    await limiter.acquire(max_wait=0)  # B2, the window's last request

    with pytest.raises(RateLimitWaitTooLong):
        await limiter.acquire(max_wait=1)


async def test_a_request_that_got_no_answer_is_released(limiter: RateLimiter):
    for _ in range(2):
        await limiter.acquire(max_wait=0)
    await limiter.release()  # one of them timed out
    await limiter.update(headers("5", "30"))

    for _ in range(5):
        await limiter.acquire(max_wait=0)
    with pytest.raises(RateLimitWaitTooLong):
        await limiter.acquire(max_wait=1)


# -- sharing through Redis --------------------------------------------------------------------------


async def test_two_workers_sharing_a_client_id_never_overspend(redis_pair):
    first, second = redis_pair
    await first.update(headers("5.0", "30"))

    async def attempt(limiter: RedisRateLimiter) -> bool:
        try:
            await limiter.acquire(max_wait=0.1)
        except RateLimitWaitTooLong:
            return False
        return True

    granted = await asyncio.gather(*(attempt(first if n % 2 else second) for n in range(20)))

    assert sum(granted) == 5


async def test_a_429_seen_by_one_worker_pauses_the_other(redis_pair):
    first, second = redis_pair
    await first.block(1.0)
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    started = time.monotonic()
    await second.acquire(on_wait=on_wait)

    assert time.monotonic() - started >= 0.8
    assert waits and 0.5 <= waits[0] <= 1.0


async def test_redis_state_expires_with_its_window(redis_pair, redis_server):  # noqa: F811
    first, _ = redis_pair
    await first.update(headers("10", "20"))
    redis = Redis.from_url(redis_server)
    try:
        ttl = await redis.ttl(first.key)
        state = await redis.hgetall(first.key)
    finally:
        await redis.aclose()

    assert 20 < ttl <= 20 + 60
    assert float(state[b"remaining"]) == 10.0


def test_the_factory_shares_through_redis_only_when_configured(tmp_path: Path, redis_server: str):  # noqa: F811
    assert isinstance(make_limiter(Settings(data_dir=tmp_path, redis_url=None), "id"), MemoryRateLimiter)
    shared = make_limiter(Settings(data_dir=tmp_path, redis_url=redis_server), "my-client")
    assert isinstance(shared, RedisRateLimiter) and shared.key.endswith(":my-client")


# -- end to end: two Reddit sources, one client id, one Redis ------------------------------------------


@pytest.fixture
def settings_for(fake_reddit: FakeReddit, tmp_path: Path) -> Callable[..., Settings]:  # noqa: F811
    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "source": "reddit",
            "reddit_client_id": fake_reddit.client_id,
            "reddit_client_secret": fake_reddit.client_secret,
            "reddit_oauth_url": fake_reddit.url,
            "reddit_www_url": fake_reddit.url,
            "data_dir": tmp_path,
            "reddit_max_wait_seconds": 30.0,
        }
        return Settings(**{**values, **overrides})  # type: ignore[arg-type]

    return build


async def test_workers_sharing_redis_stay_inside_reddits_budget(fake_reddit, redis_server, settings_for):  # noqa: F811
    for name in ("alpha", "beta"):
        fake_reddit.add_subreddit(name, 300)
    fake_reddit.header_style = "int"
    fake_reddit.set_budget(4, window_seconds=1.0)
    settings = settings_for(redis_url=f"{redis_server}".replace("/0", "/1"))
    workers = [RedditSource(settings, backoff_base=0.01) for _ in range(2)]
    try:
        results = await asyncio.gather(
            workers[0].fetch(FetchRequest("alpha", [], "fresh", 300)),
            workers[1].fetch(FetchRequest("beta", [], "fresh", 300)),
        )
    finally:
        for worker in workers:
            await worker.aclose()

    assert [len(r.posts) for r in results] == [300, 300]
    assert 429 not in [r.status for r in fake_reddit.listing_requests()], [
        (r.status, r.path, r.query.get("after")) for r in fake_reddit.listing_requests()
    ]
