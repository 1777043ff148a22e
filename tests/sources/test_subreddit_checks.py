"""Each source says whether a subreddit can be collected, before a run."""

from __future__ import annotations

import pytest

from bcrao.config import Settings
from bcrao.sources.apify import ApifySource
from bcrao.sources.factory import SimulatedLatency
from bcrao.sources.sample import SampleSource, subreddits
from tests.fakes.fixtures import fake_reddit  # noqa: F401
from tests.fakes.reddit import FakeReddit
from tests.sources.test_reddit_source import make_source  # noqa: F401


async def test_reddit_reads_about_for_a_public_subreddit(fake_reddit: FakeReddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("SaaS", 10)

    check = await make_source().check_subreddit("saas")

    assert (check.name, check.status, check.suggestion) == ("saas", "ok", None)
    assert check.message.startswith("r/SaaS exists (") and "members" in check.message
    (about,) = fake_reddit.about_requests()
    assert about.path == "/r/saas/about" and about.status == 200
    assert about.headers["Authorization"].split()[1] in fake_reddit.tokens


@pytest.mark.parametrize(
    ("state", "status", "words"),
    [
        ("private", "private", "is private"),
        ("quarantined", "private", "quarantined"),
        ("banned", "banned", "banned"),
        ("banned_403", "banned", "banned"),
        ("missing", "not_found", "does not exist"),
        ("redirect", "not_found", "does not exist"),
    ],
)
async def test_reddit_refusals_become_statuses(fake_reddit, make_source, state, status, words):  # noqa: F811
    fake_reddit.add_subreddit("Hidden", 5)
    fake_reddit.set_state("Hidden", state)

    check = await make_source().check_subreddit("Hidden")

    assert check.status == status
    assert words in check.message and "r/Hidden" in check.message
    assert fake_reddit.about_requests()[-1].status in (302, 403, 404)


async def test_a_subreddit_reddit_never_heard_of_is_redirected_to_search(fake_reddit, make_source):  # noqa: F811
    check = await make_source().check_subreddit("NoSuchPlaceHere")

    assert check.status == "not_found"
    assert fake_reddit.about_requests()[0].status == 302


async def test_reddit_server_errors_are_retried_like_a_listing(fake_reddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("SaaS", 5)
    fake_reddit.fail("SaaS", "503", times=2)

    check = await make_source().check_subreddit("SaaS")

    assert check.status == "ok"
    assert [r.status for r in fake_reddit.about_requests()] == [503, 503, 200]


async def test_reddit_failing_for_good_is_unknown_not_an_error(fake_reddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("SaaS", 5)
    fake_reddit.fail("SaaS", "500", times=10)

    check = await make_source().check_subreddit("SaaS")

    assert check.status == "unknown"
    assert "Reddit could not be asked about r/SaaS" in check.message
    assert len(fake_reddit.about_requests()) == 3  # the first try and reddit_max_retries=2


async def test_a_check_does_not_sit_out_a_long_rate_limit(fake_reddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("SaaS", 5)
    fake_reddit.fail("SaaS", "429", retry_after=120)

    check = await make_source(reddit_max_wait_seconds=600).check_subreddit("SaaS")

    assert check.status == "unknown" and "wait" in check.message


async def test_a_body_that_is_not_a_subreddit_is_retried(fake_reddit, make_source):  # noqa: F811
    fake_reddit.add_subreddit("SaaS", 5)
    fake_reddit.fail("SaaS", "not_a_listing", times=1)

    assert (await make_source().check_subreddit("SaaS")).status == "ok"
    assert len(fake_reddit.about_requests()) == 2


async def test_sample_checks_membership_and_suggests_the_closest_corpus_name():
    source = SampleSource()

    ok = await source.check_subreddit("saas")
    typo = await source.check_subreddit("Entrepeneur")
    far = await source.check_subreddit("knitting")

    assert ok.status == "ok" and "r/SaaS" in ok.message and "sample corpus" in ok.message
    assert (typo.status, typo.suggestion) == ("not_found", "Entrepreneur")
    assert "Did you mean r/Entrepreneur?" in typo.message
    assert (far.status, far.suggestion) == ("not_found", None)
    assert "Entrepreneur" in subreddits()


async def test_simulated_latency_does_not_slow_a_check():
    source = SimulatedLatency(SampleSource(), seconds=30)

    assert (await source.check_subreddit("startups")).status == "ok"  # would time the test out


async def test_apify_cannot_tell_before_a_run(tmp_path):
    source = ApifySource(Settings(source="apify", apify_token="t", data_dir=tmp_path))  # type: ignore[arg-type]

    check = await source.check_subreddit("SaaS")

    assert check.status == "unknown" and "Apify" in check.message
