from __future__ import annotations

import gzip
import importlib.util
import json
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from bcrao.sources.base import FetchRequest
from bcrao.sources.sample import SampleSource, load_corpus, subreddits

ROOT = Path(__file__).resolve().parents[2]
BASE36 = set("0123456789abcdefghijklmnopqrstuvwxyz")
REQUIRED = {
    "SaaS",
    "startups",
    "Entrepreneur",
    "smallbusiness",
    "marketing",
    "SideProject",
    "indiehackers",
    "webdev",
    "productivity",
    "sales",
}


def _request(subreddit="SaaS", mode="fresh", limit=100, **kw):
    return FetchRequest(subreddit=subreddit, keywords=kw.pop("keywords", []), mode=mode, limit=limit, **kw)


def _raw_corpus() -> dict:
    data = resources.files("bcrao.data").joinpath("sample_posts.json.gz").read_bytes()
    return json.loads(gzip.decompress(data))


async def test_fresh_returns_the_newest_posts_newest_first_up_to_the_limit():
    result = await SampleSource().fetch(_request(limit=50))
    times = [p.created_utc for p in result.posts]
    assert len(result.posts) == 50
    assert times == sorted(times, reverse=True)
    assert result.posts[0].created_utc == max(p.created_utc for p in load_corpus()["saas"])


async def test_subreddit_names_match_case_insensitively_and_with_the_r_prefix():
    expected = [p.id for p in (await SampleSource().fetch(_request("SaaS", limit=5))).posts]
    for name in ("saas", "SAAS", "r/SaaS", "/r/saas"):
        assert [p.id for p in (await SampleSource().fetch(_request(name, limit=5))).posts] == expected


async def test_historical_returns_the_top_scored_posts_of_the_year():
    corpus = load_corpus()["startups"]
    result = await SampleSource().fetch(_request("startups", mode="historical", limit=30))
    threshold = sorted((p.upvotes for p in corpus), reverse=True)[29]
    assert len(result.posts) == 30
    assert min(p.upvotes for p in result.posts) >= threshold
    times = [p.created_utc for p in result.posts]
    assert times == sorted(times, reverse=True)


async def test_hybrid_merges_newest_and_top_without_duplicates():
    source = SampleSource()
    fresh = await source.fetch(_request("webdev", limit=40))
    top = await source.fetch(_request("webdev", mode="historical", limit=40))
    hybrid = await source.fetch(_request("webdev", mode="hybrid", limit=40))
    ids = [p.id for p in hybrid.posts]
    assert len(ids) == len(set(ids)) == 40
    assert fresh.posts[0].id in ids
    assert max(top.posts, key=lambda p: p.upvotes).id in ids


async def test_the_limit_caps_every_mode_and_zero_gives_nothing():
    for mode in ("fresh", "historical", "hybrid"):
        assert len((await SampleSource().fetch(_request(mode=mode, limit=7))).posts) == 7
        assert (await SampleSource().fetch(_request(mode=mode, limit=0))).posts == []


async def test_an_unknown_subreddit_is_an_empty_result_not_an_error():
    result = await SampleSource().fetch(_request("definitely_not_here"))
    assert result.posts == []
    assert result.warnings


async def test_keywords_do_not_restrict_the_result():
    plain = await SampleSource().fetch(_request(limit=30))
    keyed = await SampleSource().fetch(_request(limit=30, keywords=["zzzz-not-a-word"]))
    assert [p.id for p in keyed.posts] == [p.id for p in plain.posts]


async def test_newer_than_returns_only_posts_created_after_the_cursor():
    everything = (await SampleSource().fetch(_request("sales", limit=1000))).posts
    cursor = everything[20]
    by_time = await SampleSource().fetch(_request("sales", limit=1000, newer_than=cursor.created_utc))
    assert by_time.posts and all(p.created_utc > cursor.created_utc for p in by_time.posts)
    by_id = await SampleSource().fetch(_request("sales", limit=1000, newer_than_id=f"t3_{cursor.id}"))
    assert [p.id for p in by_id.posts] == [p.id for p in everything[:20]]
    newest = everything[0].created_utc + timedelta(seconds=1)
    assert (await SampleSource().fetch(_request("sales", newer_than=newest))).posts == []


async def test_callers_get_copies_they_may_change():
    first = await SampleSource().fetch(_request(limit=1))
    first.posts[0].title = "changed"
    again = await SampleSource().fetch(_request(limit=1))
    assert again.posts[0].title != "changed"


def test_the_corpus_is_large_varied_and_shaped_like_reddit():
    corpus = _raw_corpus()["subreddits"]
    posts = [p for listing in corpus.values() for p in listing]
    assert set(corpus) >= REQUIRED and set(subreddits()) >= REQUIRED
    assert len(posts) >= 5000
    assert len({p["id"] for p in posts}) == len(posts)
    assert all(set(p["id"]) <= BASE36 and p["name"] == f"t3_{p['id']}" for p in posts)
    assert all(p["permalink"].startswith(f"/r/{p['subreddit']}/comments/{p['id']}/") for p in posts)
    noise = {
        "link": sum(not p["is_self"] for p in posts),
        "title_only": sum(p["is_self"] and not p["selftext"] for p in posts),
        "removed": sum(p["selftext"] == "[removed]" for p in posts),
        "deleted": sum(p["selftext"] == "[deleted]" for p in posts),
        "stickied": sum(p["stickied"] for p in posts),
        "nsfw": sum(p["over_18"] for p in posts),
        "crosspost": sum(bool(p.get("crosspost_parent_list")) for p in posts),
        "no_ratio": sum("upvote_ratio" not in p for p in posts),
    }
    assert all(noise.values()), noise
    # Long English posts vary; exact reposts exist but stay a minority (mod threads repeat by design).
    texts = [
        (p["title"], p["selftext"])
        for p in posts
        if len(p["selftext"]) > 200 and not p["stickied"] and not p["over_18"] and p["selftext"].isascii()
    ]
    assert 0.8 * len(texts) < len(set(texts)) < len(texts)


def test_engagement_is_heavy_tailed_and_time_spans_the_year():
    posts = [p for listing in _raw_corpus()["subreddits"].values() for p in listing]
    ups = sorted(p["ups"] for p in posts)
    median, p99 = ups[len(ups) // 2], ups[int(len(ups) * 0.99)]
    assert p99 > 10 * max(1, median)
    created = [p["created_utc"] for p in posts]
    assert max(created) <= _raw_corpus()["end_utc"]
    assert max(created) - min(created) > 300 * 86400


def _script(name: str):
    """A script of ``scripts/`` as a module (they are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generator():
    return _script("gen_sample_corpus")


@pytest.mark.slow
def test_the_generator_is_deterministic_and_matches_the_bundled_file():
    generator = _generator()
    first, second = generator.build_corpus(), generator.build_corpus()
    assert first == second
    assert first == resources.files("bcrao.data").joinpath("sample_posts.json.gz").read_bytes()
    assert len(first) < 3 * 1024 * 1024


def _bundler():
    return _script("bundle_real_posts")


def test_real_posts_are_bundled_credited_and_collected_under_their_own_names():
    bundler = _bundler()
    document = json.loads(
        gzip.decompress(resources.files("bcrao.data").joinpath("real_posts.json.gz").read_bytes())
    )
    assert "PDDL" in document["credit"]
    assert set(document["subreddits"]) == set(bundler.SUBREDDITS)
    for name, listing in document["subreddits"].items():
        assert len(listing) == bundler.PER_SUBREDDIT
        assert all(
            p["subreddit"] == name and p["permalink"].startswith(f"/r/{name}/comments/") for p in listing
        )
        assert name.lower() in load_corpus() and name in subreddits()
    if bundler.CORPUS.is_dir():  # the shared corpus beside the repo: the file is what the script makes
        assert bundler.build() == resources.files("bcrao.data").joinpath("real_posts.json.gz").read_bytes()
        originals = {}
        for name in bundler.SUBREDDITS:
            with gzip.open(bundler.CORPUS / f"{name}.jsonl.gz", "rt") as fh:
                originals.update((row["id"], row) for row in map(json.loads, fh))
        for listing in document["subreddits"].values():
            for post in listing:
                original = originals[post["id"]]
                assert (post["title"], post["selftext"]) == (original["title"], original["selftext"])


async def test_the_demo_campaign_collects_real_posts():
    from bcrao.demo import DEMO_CAMPAIGN

    for name in DEMO_CAMPAIGN.target_subreddits:
        result = await SampleSource().fetch(_request(name, limit=100))
        assert len(result.posts) == 100 and not result.warnings
        assert all(p.permalink.startswith(f"https://www.reddit.com/r/{name}/comments/") for p in result.posts)
