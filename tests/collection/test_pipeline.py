"""CollectionPipeline end to end over a real database and the bundled sample corpus."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bcrao.auth.service import create_user
from bcrao.campaigns.models import Campaign
from bcrao.collection.models import CollectionRun, PostCount, RawPost, RejectedSample
from bcrao.collection.pipeline import CampaignSnapshot, CollectionPipeline, RunCancelled, RunOptions
from bcrao.db import session_scope
from bcrao.sources.base import FetchRequest, FetchResult, SourceError
from bcrao.sources.sample import SampleSource

SUBS = ("SaaS", "startups", "Entrepreneur", "smallbusiness", "marketing")


class RecordingSource:
    """The sample corpus, plus a record of every request and a subreddit that fails."""

    name = "sample"

    def __init__(self, failing: Sequence[str] = ()) -> None:
        self.inner = SampleSource()
        self.failing = {f.lower() for f in failing}
        self.requests: list[FetchRequest] = []

    async def fetch(self, request: FetchRequest, *, on_wait=None) -> FetchResult:
        self.requests.append(request)
        if request.subreddit.lower() in self.failing:
            raise SourceError("subreddit_private", f"r/{request.subreddit} is private")
        return await self.inner.fetch(request, on_wait=on_wait)

    async def fetch_comments(self, request, *, on_wait=None):
        return await self.inner.fetch_comments(request, on_wait=on_wait)

    async def fetch_info(self, fullnames, *, on_wait=None):
        return await self.inner.fetch_info(fullnames, on_wait=on_wait)

    async def aclose(self) -> None:
        return None


async def new_run(
    maker, subreddits: Sequence[str] = SUBS, keywords=("churn", "pricing", "customers"), product_context=""
):
    async with session_scope(maker) as s:
        user = await create_user(s, email=f"{uuid.uuid4().hex[:8]}@example.com", password="password1")
        campaign = Campaign(
            user_id=user.id,
            name="c",
            keywords=list(keywords),
            target_subreddits=list(subreddits),
            product_context=product_context,
        )
        s.add(campaign)
        await s.flush()
        run = CollectionRun(
            campaign_id=campaign.id, user_id=user.id, source="sample", classifier="rules", status="running"
        )
        s.add(run)
        await s.flush()
    snapshot = CampaignSnapshot(campaign.id, user.id, tuple(keywords), tuple(subreddits), product_context)
    return snapshot, run.id


async def another_run(maker, snapshot: CampaignSnapshot) -> uuid.UUID:
    """Finish the campaign's active run (one at a time is a database rule) and start another."""
    async with session_scope(maker) as s:
        await s.execute(
            update(CollectionRun).where(CollectionRun.campaign_id == snapshot.id).values(status="complete")
        )
        run = CollectionRun(
            campaign_id=snapshot.id,
            user_id=snapshot.user_id,
            source="sample",
            classifier="rules",
            status="running",
        )
        s.add(run)
        await s.flush()
    return run.id


class Events(list):
    async def __call__(self, fields: dict[str, Any]) -> None:
        self.append(fields)


async def count(maker, model, *where) -> int:
    async with maker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_run_filters_classifies_scores_and_stores_with_consistent_counts(maker):
    snapshot, run_id = await new_run(maker)
    events = Events()
    tally = await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
        snapshot, RunOptions(run_id=run_id, mode="hybrid", max_posts_per_subreddit=200), events
    )

    assert tally.outcome(len(SUBS)) == "complete"
    assert tally.scraped > 0
    assert sum(tally.filter_reasons.values()) == tally.scraped - tally.filtered
    assert tally.stored + tally.duplicates == tally.filtered
    assert 0.45 <= 1 - tally.filtered / tally.scraped <= 0.9
    assert await count(maker, RawPost, RawPost.run_id == run_id) == tally.stored
    async with maker() as s:
        run = await s.get(CollectionRun, run_id)
        posts = list(await s.scalars(select(RawPost).where(RawPost.run_id == run_id)))
    assert (run.scraped, run.filtered, run.classified, run.stored) == (
        tally.scraped,
        tally.filtered,
        tally.classified,
        tally.stored,
    )
    assert run.filter_reasons == dict(tally.filter_reasons)
    classified = [p for p in posts if p.archetype != "Unclassified"]
    assert len(classified) == tally.classified
    assert {p.archetype for p in classified} == {"Journey", "ProblemSolution", "Feedback"}
    assert all(p.classifier == "model" and not p.is_ai_processed for p in classified)
    assert all(0 <= p.success_score <= 10 and p.score_breakdown for p in posts)
    # Every kept post is labelled by the offline model, with its confidence and reasons.
    assert tally.classified == tally.filtered and len(classified) == len(posts)
    assert all(0 < p.archetype_confidence <= 1 for p in posts)
    assert all(p.archetype_reasons for p in posts)
    assert {p.archetype_source for p in posts} == {"model"}
    # Which campaign keywords each post mentions: words of its title or text they begin.
    from bcrao.collection.text import tokenize

    for p in posts:
        words = set(tokenize(f"{p.title}\n{p.raw_text}"))
        mentioned = [k for k in ("churn", "pricing", "customers") if any(w.startswith(k) for w in words)]
        assert p.matched_keywords == mentioned
    assert any(p.matched_keywords for p in posts) and not all(p.matched_keywords for p in posts)
    # The breakdown holds the success score's parts only: they add up to its total.
    for p in posts:
        parts = {k: v for k, v in p.score_breakdown.items() if k != "total"}
        total = p.score_breakdown["total"]
        assert abs(sum(parts.values()) - total) < 0.05 or total in (0, 10)
        # ... and why it was kept: the relevance signals add up to the relevance score.
        signals = p.relevance_breakdown
        assert signals and all(v >= 0 for v in signals.values())
        assert abs(min(10.0, sum(signals.values())) - p.relevance_score) < 0.05
    assert any(p.relevance_breakdown["keywords_title"] > 0 for p in posts)


async def test_relevance_weighs_posts_against_the_campaigns_product_context(maker, make_settings):
    """From the stored campaign through the runner: the same posts, the same keywords, with and
    without a product context; the context only ever adds relevance, and adds it to posts
    about the product's subject."""
    from bcrao.collection.runner import execute_run
    from bcrao.progress.bus import MemoryBus

    context = "A churn analytics tool for SaaS founders: see why customers cancel their subscription."
    relevance: dict[str, dict[str, tuple[float, str]]] = {}
    for name, product_context in (("plain", ""), ("context", context)):
        _, run_id = await new_run(
            maker, subreddits=("SaaS",), keywords=("pricing",), product_context=product_context
        )
        status = await execute_run(
            run_id=run_id,
            settings=make_settings(),
            sessionmaker=maker,
            bus=MemoryBus(),
            source=SampleSource(),
        )
        assert status == "complete"
        async with maker() as s:
            rows = await s.scalars(select(RawPost).where(RawPost.run_id == run_id))
            relevance[name] = {p.reddit_post_id: (p.relevance_score, f"{p.title} {p.raw_text}") for p in rows}
    assert relevance["plain"].keys() == relevance["context"].keys() and relevance["plain"]
    raised = set()
    for post_id, (plain, text) in relevance["plain"].items():
        with_context = relevance["context"][post_id][0]
        assert with_context >= plain
        if with_context > plain:
            raised.add(post_id)
            assert any(
                w in text.lower()
                for w in ("churn", "cancel", "subscri", "customer", "saas", "founder", "analytic")
            )
    assert raised


async def test_progress_reports_every_stage_in_order_with_growing_counters(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS", "startups"))
    events = Events()
    await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
        snapshot, RunOptions(run_id=run_id, max_posts_per_subreddit=600), events
    )
    stages = [(e["step"], e["stage"]) for e in events]
    for step in (1, 2):
        seen = [stage for s, stage in stages if s == step]
        order = [seen.index(x) for x in ("fetching", "filtering", "classifying", "scoring", "storing")]
        assert order == sorted(order)
    for before, after in itertools.pairwise(events):
        for key in ("scraped", "filtered", "classified", "stored"):
            assert after[key] >= before[key]
    assert all(e["total_steps"] == 2 for e in events)
    assert events[-1]["subreddit"] == "startups"
    # Filtering 600 posts reports at least every 250 posts.
    filtering = [e for e in events if e["stage"] == "filtering" and e["step"] == 1]
    assert len(filtering) >= 3


async def test_rerunning_the_same_collection_stores_nothing_new_and_counts_duplicates(maker):
    snapshot, first = await new_run(maker, subreddits=("SaaS", "marketing"))
    pipeline = CollectionPipeline(sessionmaker=maker, source=RecordingSource())
    options = dict(mode="historical", max_posts_per_subreddit=150)
    one = await pipeline.run(snapshot, RunOptions(run_id=first, **options), Events())
    second = await another_run(maker, snapshot)
    two = await pipeline.run(snapshot, RunOptions(run_id=second, **options), Events())
    assert one.stored > 0
    assert two.stored == 0
    assert two.duplicates == two.filtered == one.filtered
    assert await count(maker, RawPost, RawPost.campaign_id == snapshot.id) == one.stored
    # The per-campaign counts the dashboard reads match the posts, duplicates not counted twice.
    async with maker() as s:
        counted = await s.scalar(
            select(func.sum(PostCount.posts)).where(PostCount.campaign_id == snapshot.id)
        )
        by_archetype = dict(
            (
                await s.execute(
                    select(RawPost.archetype, func.count())
                    .where(RawPost.campaign_id == snapshot.id)
                    .group_by(RawPost.archetype)
                )
            )
            .tuples()
            .all()
        )
        counted_by_archetype = dict(
            (
                await s.execute(
                    select(PostCount.archetype, func.sum(PostCount.posts))
                    .where(PostCount.campaign_id == snapshot.id)
                    .group_by(PostCount.archetype)
                )
            )
            .tuples()
            .all()
        )
    assert counted == one.stored
    assert counted_by_archetype == by_archetype


async def test_a_redelivered_run_counts_its_own_earlier_inserts_as_stored(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS",))
    pipeline = CollectionPipeline(sessionmaker=maker, source=RecordingSource())
    options = RunOptions(run_id=run_id, mode="historical", max_posts_per_subreddit=200)
    first = await pipeline.run(snapshot, options, Events())
    again = await pipeline.run(snapshot, options, Events())  # same run id: a redelivered task
    assert again.stored == first.stored and again.duplicates == 0
    assert await count(maker, RawPost, RawPost.campaign_id == snapshot.id) == first.stored
    assert await count(maker, RejectedSample, RejectedSample.run_id == run_id) == sum(
        min(20, n) for n in first.filter_reasons.values()
    )


async def test_one_failing_subreddit_makes_the_run_partial_and_the_others_are_stored(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS", "startups", "webdev"))
    tally = await CollectionPipeline(sessionmaker=maker, source=RecordingSource(failing=["startups"])).run(
        snapshot, RunOptions(run_id=run_id), Events()
    )
    assert tally.outcome(3) == "partial"
    assert tally.errors == [
        {"subreddit": "startups", "code": "not_found", "message": "r/startups is private"}
    ]
    assert tally.source_status == {"SaaS": "ok", "startups": "not_found", "webdev": "ok"}
    async with maker() as s:
        stored_subs = set(
            await s.scalars(select(RawPost.subreddit).where(RawPost.run_id == run_id).distinct())
        )
        run = await s.get(CollectionRun, run_id)
    assert stored_subs == {"SaaS", "webdev"}
    assert run.errors == tally.errors
    assert run.source_status == tally.source_status


async def test_every_subreddit_failing_makes_the_run_failed(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS", "startups"))
    tally = await CollectionPipeline(
        sessionmaker=maker, source=RecordingSource(failing=["SaaS", "startups"])
    ).run(snapshot, RunOptions(run_id=run_id), Events())
    assert tally.outcome(2) == "failed"


async def test_unknown_subreddits_are_an_empty_result_not_an_error(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS", "no_such_sub_here"))
    tally = await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
        snapshot, RunOptions(run_id=run_id), Events()
    )
    assert tally.outcome(2) == "complete" and not tally.errors


async def test_rejected_samples_are_kept_up_to_twenty_per_reason(maker):
    snapshot, run_id = await new_run(maker)
    tally = await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
        snapshot, RunOptions(run_id=run_id, max_posts_per_subreddit=500), Events()
    )
    async with maker() as s:
        rows = (
            (
                await s.execute(
                    select(RejectedSample.reason, func.count())
                    .where(RejectedSample.run_id == run_id)
                    .group_by(RejectedSample.reason)
                )
            )
            .tuples()
            .all()
        )
    assert dict(rows) == {reason: min(20, n) for reason, n in tally.filter_reasons.items()}


async def test_cancellation_stops_at_the_next_check_and_keeps_what_was_stored(maker):
    snapshot, run_id = await new_run(maker)
    checks = 0

    async def cancel_after_first_subreddit() -> bool:
        nonlocal checks
        checks += 1
        return checks > 4  # one subreddit passes its checkpoints, then the user cancels

    with pytest.raises(RunCancelled):
        await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
            snapshot, RunOptions(run_id=run_id), Events(), cancel_after_first_subreddit
        )
    async with maker() as s:
        run = await s.get(CollectionRun, run_id)
    stored = await count(maker, RawPost, RawPost.run_id == run_id)
    assert stored > 0 and run.stored == stored
    assert run.stored + run.duplicates == run.filtered


async def test_collect_more_asks_only_for_posts_newer_than_the_last_seen(maker):
    snapshot, first = await new_run(maker, subreddits=("SaaS",))
    source = RecordingSource()
    pipeline = CollectionPipeline(sessionmaker=maker, source=source)
    await pipeline.run(snapshot, RunOptions(run_id=first, mode="fresh", max_posts_per_subreddit=50), Events())
    assert source.requests[0].newer_than is None
    second = await another_run(maker, snapshot)
    more = await pipeline.run(
        snapshot, RunOptions(run_id=second, mode="fresh", max_posts_per_subreddit=50), Events()
    )
    assert source.requests[1].newer_than is not None
    async with maker() as s:
        newest_stored = await s.scalar(
            select(func.max(RawPost.reddit_created_at)).where(RawPost.campaign_id == snapshot.id)
        )
    assert source.requests[1].newer_than >= newest_stored
    assert more.duplicates == 0
