"""The collection pipeline: fetch → filter → classify → score → store, per subreddit.

``CollectionPipeline.run`` is executor-agnostic: the local executor and the Celery task
both call it with a progress callback and a cancellation check. Slow work (HTTP, LLM)
happens outside database transactions; each subreddit's posts, samples, cursor and the
run's counters are committed together, so what a run reports always matches what it
stored, even if the process dies half-way.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.collection import lifecycle, store
from bcrao.collection.classify import Classification, select_for_classification
from bcrao.collection.model import ModelClassifier
from bcrao.collection.models import RawPost
from bcrao.collection.prefilter import PreFilter
from bcrao.collection.scoring import SubredditScorer
from bcrao.comments import noise
from bcrao.comments import store as comment_store
from bcrao.db import new_id, session_scope, utcnow
from bcrao.sources.base import (
    CommentRequest,
    CommentResult,
    FetchRequest,
    Mode,
    NormalizedPost,
    PagedSource,
    PostSource,
    SourceError,
)

log = logging.getLogger("bcrao.pipeline")

PROGRESS_EVERY_POSTS = 250
PROGRESS_EVERY_SECONDS = 0.5
# "Top of the year" changes under us, so only listings of new posts resume from a cursor
# (in hybrid mode the source applies it to the new-posts half only).
INCREMENTAL_MODES = frozenset({"fresh", "hybrid"})
# Posts whose comments failed that are named one by one in the run's warnings; past this,
# one line per subreddit says how many more.
NAMED_COMMENT_FAILURES = 5

Progress = Callable[[dict[str, Any]], Awaitable[None]]
CancelCheck = Callable[[], Awaitable[bool]]


class RunCancelled(Exception):
    """Raised at a cancellation checkpoint; the work stored so far is kept."""


@dataclass(frozen=True, slots=True)
class CampaignSnapshot:
    """What the pipeline needs of a campaign, read once at the start of the run."""

    id: uuid.UUID
    user_id: uuid.UUID
    keywords: tuple[str, ...]
    target_subreddits: tuple[str, ...]
    product_context: str = ""  # what the product does: relevance weighs posts against it


COUNTERS = (
    "scraped",
    "filtered",
    "classified",
    "stored",
    "duplicates",
    "comments_fetched",
    "comments_stored",
)


# Why a post's comments were not collected when the post went away after it was listed.
GONE_AS = {
    "deleted": "the post was deleted on Reddit by its author",
    "removed": "the post was removed on Reddit by its moderators or by Reddit",
    "": "the post was deleted on Reddit",
}


@dataclass(frozen=True, slots=True)
class RunOptions:
    run_id: uuid.UUID
    mode: Mode = "hybrid"
    max_posts_per_subreddit: int = 100
    comments_per_post: int = 0
    comments_max_depth: int = 8
    # A resumed run's counters as its lost attempt last saved them (empty for a first attempt).
    resumed_from: Mapping[str, int] = field(default_factory=dict)


@dataclass
class RunTally:
    scraped: int = 0
    filtered: int = 0  # kept by the filter (the API's name for it)
    classified: int = 0
    stored: int = 0
    duplicates: int = 0
    comments_fetched: int = 0
    comments_stored: int = 0
    filter_reasons: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Per target subreddit, what the source said (bcrao.sources.base.SourceStatus).
    source_status: dict[str, str] = field(default_factory=dict)
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0
    llm_cost_usd: float = 0.0
    llm_fallbacks: int = 0
    subreddits_ok: int = 0
    resumed_from: Mapping[str, int] = field(default_factory=dict)

    def counters(self) -> dict[str, Any]:
        """What the run reports. A resumed run re-does its lost attempt's work (its posts
        count as stored again, not as duplicates), so each counter continues from where the
        lost attempt left it instead of dropping back to zero on the client's screen."""
        floor = self.resumed_from
        counts = {name: max(getattr(self, name), floor.get(name, 0)) for name in COUNTERS}
        return {**counts, "errors": list(self.errors)}

    def run_columns(self) -> dict[str, Any]:
        """The run row's columns that mirror this tally."""
        return {
            **self.counters(),
            "filter_reasons": dict(self.filter_reasons),
            "warnings": list(self.warnings),
            "source_status": dict(self.source_status),
            "llm_prompt_tokens": self.llm_prompt_tokens,
            "llm_completion_tokens": self.llm_completion_tokens,
            "llm_cost_usd": round(self.llm_cost_usd, 6),
            "llm_fallbacks": self.llm_fallbacks,
        }

    def outcome(self, total_subreddits: int) -> str:
        if self.errors and self.subreddits_ok == 0 and total_subreddits > 0:
            return "failed"
        return "partial" if self.errors else "complete"


TEXT_PREVIEW_CHARS = 300  # of a rejected sample's text: enough to judge the verdict


@dataclass(slots=True)
class _Survivor:
    post: NormalizedPost
    relevance: float
    matched_keywords: tuple[str, ...] = ()
    relevance_breakdown: dict[str, float] = field(default_factory=dict)
    classification: Classification | None = None
    by_llm: bool = False


def sample_post(post: NormalizedPost) -> dict[str, Any]:
    """What a rejected sample keeps of its post, so a user's "keep" stores it whole."""
    return {
        "text": post.text or "",
        "author": post.author,
        "url": post.url,
        "upvotes": post.upvotes,
        "comment_count": post.comment_count,
        "upvote_ratio": post.upvote_ratio,
        "created_utc": post.created_utc.isoformat(),
    }


class CollectionPipeline:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        source: PostSource,
        classify_fraction: float = 0.10,
        samples_per_reason: int = 20,
        llm: Any | None = None,
        offline: Any | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.source = source
        self.classify_fraction = classify_fraction
        self.samples_per_reason = samples_per_reason
        self.llm = llm  # an LLMClassifier refining the top fraction, or None
        # Labels every kept post: the trained model (default) or the rules classifier.
        self.offline = offline if offline is not None else ModelClassifier()

    async def run(
        self,
        campaign: CampaignSnapshot,
        options: RunOptions,
        progress: Progress,
        should_cancel: CancelCheck | None = None,
    ) -> RunTally:
        """Collect every target subreddit; failures are recorded per subreddit, not raised.

        Raises ``RunCancelled`` when a checkpoint sees a cancellation request; the tally
        and everything committed so far stay valid.
        """
        tally = RunTally(resumed_from=options.resumed_from)
        run = _RunContext(self, campaign, options, tally, progress, should_cancel)
        await run.reset_previous_attempt()
        total = len(campaign.target_subreddits)
        for step, subreddit in enumerate(campaign.target_subreddits, start=1):
            await run.checkpoint()
            await run.collect_subreddit(step, total, subreddit)
        return tally


class _RunContext:
    """State of one run while it executes (kept off the pipeline so the pipeline is reusable)."""

    def __init__(
        self,
        pipeline: CollectionPipeline,
        campaign: CampaignSnapshot,
        options: RunOptions,
        tally: RunTally,
        progress: Progress,
        should_cancel: CancelCheck | None,
    ) -> None:
        self.pipeline = pipeline
        self.campaign = campaign
        self.options = options
        self.tally = tally
        self.progress = progress
        self.should_cancel = should_cancel
        self.prefilter = PreFilter(campaign.keywords, context=campaign.product_context)
        self.samples_taken: Counter[str] = Counter()
        self.position: dict[str, Any] = {
            "subreddit": None,
            "step": 0,
            "total_steps": len(campaign.target_subreddits),
        }
        self._last_emit = 0.0
        self._comment_failures_here = 0

    async def emit(self, stage: str, **extra: Any) -> None:
        self._last_emit = time.monotonic()
        await self.progress(
            {
                "stage": stage,
                **self.position,
                **self.tally.counters(),
                **({"warnings": list(self.tally.warnings)} if self.tally.warnings else {}),
                **extra,
            }
        )

    async def _rate_limited(self, seconds: float) -> None:
        """The source's ``on_wait``: it is waiting out a rate limit."""
        await self.emit("rate_limited", wait_seconds=round(seconds, 1))

    async def checkpoint(self) -> None:
        if self.should_cancel is not None and await self.should_cancel():
            raise RunCancelled()

    async def reset_previous_attempt(self) -> None:
        """A redelivered run starts its bookkeeping again; its stored posts stay (upserts)."""
        async with session_scope(self.pipeline.sessionmaker) as session:
            await store.clear_samples(session, run_id=self.options.run_id)

    async def collect_subreddit(self, step: int, total: int, subreddit: str) -> None:
        self.position = {"subreddit": subreddit, "step": step, "total_steps": total}
        await self.emit("fetching")
        if isinstance(self.pipeline.source, PagedSource):
            await self._collect_pages(self.pipeline.source, subreddit)
            return
        fetched = await self._fetch(subreddit)
        if fetched is None:
            await self._persist_counters()
            await self.emit("fetching")
            return
        self.tally.source_status[subreddit] = "ok" if fetched else "empty"
        await self._process(subreddit, fetched)
        self.tally.subreddits_ok += 1

    async def _collect_pages(self, source: PagedSource, subreddit: str) -> None:
        """A source that pages (an import) is processed page by page: memory holds one page,
        however many posts the subreddit has. Engagement is scored within each page."""
        request = self._request(subreddit, None, None)
        pages = source.fetch_pages(request)
        found = False
        try:
            async for page in pages:
                self.tally.warnings.extend(w for w in page.warnings if w not in self.tally.warnings)
                if page.posts:
                    found = True
                    await self._process(subreddit, page.posts)
                await self.emit("fetching")
        except SourceError as exc:
            self._record_error(subreddit, exc.status, exc.message)
            await self._persist_counters()
            return
        finally:
            await pages.aclose()
        self.tally.source_status[subreddit] = "ok" if found else "empty"
        await self._persist_counters()
        self.tally.subreddits_ok += 1

    async def _process(self, subreddit: str, fetched: list[NormalizedPost]) -> None:
        """Filter, label, score, store one subreddit's fetched posts, then their comments."""
        self.tally.scraped += len(fetched)

        await self.emit("filtering")
        survivors, samples = await self._filter(fetched)
        await self.checkpoint()

        await self.emit("classifying")
        await self._classify(survivors)
        await self.checkpoint()

        await self.emit("scoring")
        rows = self._score(fetched, survivors)
        await self.checkpoint()

        await self.emit("storing")
        await self._store(subreddit, fetched, rows, samples)
        await self.emit("storing")

        if self.options.comments_per_post > 0 and survivors:
            await self.emit("comments")
            await self._collect_comments(subreddit, [item.post for item in survivors])
            await self.emit("comments")

    async def _fetch(self, subreddit: str) -> list[NormalizedPost] | None:
        newer_than = newer_than_id = None
        if self.options.mode in INCREMENTAL_MODES:
            async with self.pipeline.sessionmaker() as session:
                newer_than, newer_than_id = await store.read_cursor(
                    session,
                    campaign_id=self.campaign.id,
                    subreddit=subreddit,
                    mode=self.options.mode,
                    run_id=self.options.run_id,
                )
        request = self._request(subreddit, newer_than, newer_than_id)

        try:
            result = await self.pipeline.source.fetch(request, on_wait=self._rate_limited)
        except SourceError as exc:
            log.info("r/%s: %s (%s)", subreddit, exc.code, exc.status)
            self._record_error(subreddit, exc.status, exc.message)
            return None
        except Exception as exc:  # a source bug must not sink the other subreddits
            log.exception("source %s failed on r/%s", self.pipeline.source.name, subreddit)
            self._record_error(subreddit, "error", f"{type(exc).__name__}: {exc}"[:300])
            return None
        self.tally.warnings.extend(w for w in result.warnings if w not in self.tally.warnings)
        return result.posts

    def _record_error(self, subreddit: str, status: str, message: str) -> None:
        """The error's ``code`` is the subreddit's source status, its message the words."""
        self.tally.source_status[subreddit] = status
        self.tally.errors.append({"subreddit": subreddit, "code": status, "message": message})

    def _request(self, subreddit: str, newer_than: Any, newer_than_id: str | None) -> FetchRequest:
        return FetchRequest(
            subreddit=subreddit,
            keywords=list(self.campaign.keywords),
            mode=self.options.mode,
            limit=self.options.max_posts_per_subreddit,
            newer_than=newer_than,
            newer_than_id=newer_than_id,
            comments_per_post=self.options.comments_per_post,
        )

    async def _filter(self, posts: Sequence[NormalizedPost]) -> tuple[list[_Survivor], list[dict[str, Any]]]:
        survivors: list[_Survivor] = []
        samples: list[dict[str, Any]] = []
        for i, post in enumerate(posts, start=1):
            decision = self.prefilter.evaluate(post)
            if decision.reason is None:
                survivors.append(
                    _Survivor(post, decision.relevance_score, decision.matched_keywords, decision.signals)
                )
                self.tally.filtered += 1
            else:
                self.tally.filter_reasons[decision.reason] += 1
                if self.samples_taken[decision.reason] < self.pipeline.samples_per_reason:
                    self.samples_taken[decision.reason] += 1
                    samples.append(
                        {
                            "run_id": self.options.run_id,
                            "reason": decision.reason,
                            "reddit_post_id": post.id,
                            "subreddit": post.subreddit,
                            "title": post.title[:500],
                            "text_preview": (post.text or "")[:TEXT_PREVIEW_CHARS],
                            "reddit_url": post.permalink[:2048],
                            "post": sample_post(post),
                        }
                    )
            if i % PROGRESS_EVERY_POSTS == 0 or time.monotonic() - self._last_emit > PROGRESS_EVERY_SECONDS:
                await self.emit("filtering")
        return survivors, samples

    async def _classify(self, survivors: list[_Survivor]) -> None:
        """Every kept post gets the offline label; the llm, when configured, refines the
        most relevant ``classify_fraction`` of them."""
        if not survivors:
            return
        for item in survivors:
            item.classification = self.pipeline.offline.classify(item.post)
        self.tally.classified += len(survivors)
        pipeline = self.pipeline
        if pipeline.llm is not None:
            chosen = select_for_classification(
                survivors, pipeline.classify_fraction, key=lambda s: s.relevance
            )
            batch = await pipeline.llm.classify_many([c.post for c in chosen])
            for item, (label, by_llm) in zip(chosen, batch.results, strict=True):
                item.classification, item.by_llm = label, by_llm
            self.tally.llm_prompt_tokens += batch.prompt_tokens
            self.tally.llm_completion_tokens += batch.completion_tokens
            self.tally.llm_cost_usd += batch.estimated_cost_usd
            self.tally.llm_fallbacks += batch.fallbacks

    def _score(
        self, fetched: Sequence[NormalizedPost], survivors: Sequence[_Survivor]
    ) -> list[dict[str, Any]]:
        scorer = SubredditScorer(fetched)  # engagement is judged against this subreddit's own posts
        now = utcnow()
        rows = []
        for item in survivors:
            post = item.post
            score, breakdown = scorer.score(post)
            label = item.classification
            rows.append(
                {
                    "id": new_id(),
                    "campaign_id": self.campaign.id,
                    "user_id": self.campaign.user_id,
                    "run_id": self.options.run_id,
                    "subreddit": post.subreddit[:32],
                    "subreddit_key": post.subreddit.lower()[:32],
                    "reddit_post_id": post.id,
                    "reddit_url": post.permalink,
                    "author": post.author,
                    "title": post.title,
                    "raw_text": post.text,
                    "upvotes": post.upvotes,
                    "comment_count": post.comment_count,
                    "upvote_ratio": post.upvote_ratio,
                    "reddit_created_at": post.created_utc,
                    "archetype": label.archetype if label else "Unclassified",
                    "relevance_score": item.relevance,
                    "success_score": score,
                    "score_breakdown": breakdown,
                    "is_ai_processed": item.by_llm,
                    "classifier": ("llm" if item.by_llm else self.pipeline.offline.name) if label else None,
                    "collected_at": now,
                    "archetype_confidence": round(label.confidence, 3) if label else None,
                    "archetype_source": ("llm" if item.by_llm else "model") if label else None,
                    "archetype_reasons": label.reasons[:5] if label else [],
                    "matched_keywords": list(item.matched_keywords),
                    "relevance_breakdown": item.relevance_breakdown,
                }
            )
        return rows

    async def _store(
        self,
        subreddit: str,
        fetched: Sequence[NormalizedPost],
        rows: list[dict[str, Any]],
        samples: list[dict[str, Any]],
    ) -> None:
        async with session_scope(self.pipeline.sessionmaker) as session:
            outcome = await store.insert_posts(
                session, campaign_id=self.campaign.id, run_id=self.options.run_id, rows=rows
            )
            self.tally.stored += outcome.stored
            self.tally.duplicates += outcome.duplicates
            await store.add_rejected_samples(session, samples)
            if fetched and self.options.mode in INCREMENTAL_MODES:
                newest = max(fetched, key=lambda p: p.created_utc)
                await store.advance_cursor(
                    session,
                    campaign_id=self.campaign.id,
                    subreddit=subreddit,
                    mode=self.options.mode,
                    newest=newest.created_utc,
                    post_id=newest.id,
                    run_id=self.options.run_id,
                )
            await self._write_counters(session)

    async def _collect_comments(self, subreddit: str, posts: Sequence[NormalizedPost]) -> None:
        """Each kept post's thread (posts stored by earlier runs too: re-collection appends
        their new replies), one post per transaction so a failure loses no other post's."""
        async with self.pipeline.sessionmaker() as session:
            stored_ids = dict(
                (
                    await session.execute(
                        select(RawPost.reddit_post_id, RawPost.id).where(
                            RawPost.campaign_id == self.campaign.id,
                            RawPost.reddit_post_id.in_([p.id for p in posts]),
                        )
                    )
                ).all()
            )
        self._comment_failures_here = 0
        wanted = [p for p in posts if p.id in stored_ids and p.comment_count > 0]
        for post in sorted(wanted, key=lambda p: -p.comment_count):
            await self.checkpoint()
            result = await self._fetch_comments(post)
            if result is not None:
                await self._store_comments(stored_ids[post.id], result)
            if time.monotonic() - self._last_emit > PROGRESS_EVERY_SECONDS:
                await self.emit("comments")
        unnamed = self._comment_failures_here - NAMED_COMMENT_FAILURES
        if unnamed > 0:
            self.tally.warnings.append(f"r/{subreddit}: comments of {unnamed} more posts could not be read")
            await self._persist_counters()

    async def _fetch_comments(self, post: NormalizedPost) -> CommentResult | None:
        request = CommentRequest(
            post_id=post.id,
            subreddit=post.subreddit,
            limit=self.options.comments_per_post,
            max_depth=self.options.comments_max_depth,
        )

        try:
            result = await self.pipeline.source.fetch_comments(request, on_wait=self._rate_limited)
        except SourceError as exc:
            await self._comment_failure(post, f"could not be read ({exc.message})")
            return None
        except Exception as exc:  # one thread must not sink the run
            log.exception("comments of %s failed", post.id)
            await self._comment_failure(post, f"could not be read ({type(exc).__name__})")
            return None
        if result.post_gone:
            why = GONE_AS.get(result.gone_as, GONE_AS[""])
            await self._comment_failure(post, f"were not collected: {why}")
            return None
        return result

    async def _comment_failure(self, post: NormalizedPost, what: str) -> None:
        self._comment_failures_here += 1
        if self._comment_failures_here <= NAMED_COMMENT_FAILURES:
            title = post.title if len(post.title) <= 80 else post.title[:79] + "…"
            self.tally.warnings.append(f'Comments of "{title}" (r/{post.subreddit}, {post.id}) {what}')
            await self._persist_counters()

    async def _store_comments(self, post_db_id: uuid.UUID, result: CommentResult) -> None:
        verdicts = noise.screen(result.comments)
        rows = comment_store.comment_rows(
            verdicts.kept,
            campaign_id=self.campaign.id,
            user_id=self.campaign.user_id,
            post_id=post_db_id,
            run_id=self.options.run_id,
        )
        async with session_scope(self.pipeline.sessionmaker) as session:
            new = await comment_store.insert_comments(
                session,
                campaign_id=self.campaign.id,
                post_id=post_db_id,
                run_id=self.options.run_id,
                rows=rows,
            )
            self.tally.comments_fetched += len(result.comments)
            self.tally.comments_stored += new
            await self._write_counters(session)

    async def _persist_counters(self) -> None:
        async with session_scope(self.pipeline.sessionmaker) as session:
            await self._write_counters(session)

    async def _write_counters(self, session: AsyncSession) -> None:
        await lifecycle.heartbeat(session, self.options.run_id, **self.tally.run_columns())
