"""Execute one run end to end: claim it, run the pipeline, finish it, announce the end.

Both executors call ``execute_run``; only where it runs differs (an asyncio task in the
API process, or a Celery worker with its own event loop and database engine).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.campaigns.models import Campaign
from bcrao.collection import hooks, lifecycle, personal
from bcrao.collection.models import TERMINAL_STATUSES, CollectionRun
from bcrao.collection.pipeline import (
    COUNTERS,
    CampaignSnapshot,
    CancelCheck,
    CollectionPipeline,
    RunCancelled,
    RunOptions,
)
from bcrao.config import ClassifierName, Settings
from bcrao.db import session_scope, utcnow
from bcrao.imports.source import IMPORT_SOURCE, ImportSource, index_path
from bcrao.progress.bus import ProgressBus
from bcrao.sources.base import PostSource

log = logging.getLogger("bcrao.runner")

ProgressHook = Callable[[dict[str, Any]], Awaitable[None]]


class RunBusy(Exception):
    """The run is being executed elsewhere right now (fresh heartbeat)."""


def iso_now() -> str:
    return utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Reporter:
    """Turns pipeline progress into bus events, keeps the run's heartbeat fresh."""

    def __init__(
        self,
        *,
        run_id: uuid.UUID,
        bus: ProgressBus,
        sessionmaker: async_sessionmaker[AsyncSession],
        hook: ProgressHook | None = None,
        heartbeat_every: float = 5.0,
        attempt: int = 1,
    ) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.heartbeat_every = heartbeat_every
        self.bus = bus
        self.sessionmaker = sessionmaker
        self.hook = hook
        self._beat = time.monotonic()

    async def __call__(self, fields: dict[str, Any]) -> None:
        """Progress is best effort: a bus or backend hiccup must never stop the collection."""
        data = {
            "task_id": str(self.run_id),
            "status": "running",
            **fields,
            "attempt": self.attempt,
            "resumed": self.attempt > 1,
            "ts": iso_now(),
        }
        try:
            await self.bus.publish(str(self.run_id), "progress", data)
        except Exception as exc:
            log.warning("progress event of run %s not published: %s", self.run_id, type(exc).__name__)
        if self.hook is not None:
            try:
                await self.hook(data)
            except Exception as exc:
                log.warning("progress hook of run %s failed: %s", self.run_id, type(exc).__name__)
        if time.monotonic() - self._beat > self.heartbeat_every:
            self._beat = time.monotonic()
            async with session_scope(self.sessionmaker) as session:
                await lifecycle.heartbeat(session, self.run_id, CollectionRun.status == "running")


async def execute_run(
    *,
    run_id: uuid.UUID,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: ProgressBus,
    source: PostSource,
    hook: ProgressHook | None = None,
) -> str | None:
    """Run the collection; return its final status, or None when there was nothing to do."""
    claimed = await _claim(run_id, settings, sessionmaker)
    if claimed is None:
        return None
    attempt = claimed.attempt
    if attempt > settings.run_max_attempts:
        # Every attempt so far ended with its worker gone (killed, out of memory): another
        # would too, and the run would be requeued forever.
        log.error("run %s gave up after %s lost attempts", run_id, attempt - 1)
        await lifecycle.finish(
            sessionmaker,
            bus,
            run_id,
            status="failed",
            columns={},
            add_error={"subreddit": "", "code": "internal_error", "message": GAVE_UP.format(n=attempt - 1)},
            retry_seconds=settings.run_finish_retry_seconds,
        )
        return "failed"

    # Beat well inside the stale timeout so a live run is never mistaken for a dead one.
    reporter = Reporter(
        run_id=run_id,
        bus=bus,
        sessionmaker=sessionmaker,
        hook=hook,
        heartbeat_every=min(5.0, settings.heartbeat_lost_seconds / 4),
        attempt=attempt,
    )
    if claimed.imported:
        # An import run reads its uploaded file's index, whatever source is configured.
        source = ImportSource(index_path(settings.data_dir, run_id))
    pipeline = CollectionPipeline(
        sessionmaker=sessionmaker,
        source=source,
        classify_fraction=settings.classify_fraction,
        samples_per_reason=settings.rejected_samples_per_reason,
        llm=_llm(settings, fallback=claimed.offline),
        offline=claimed.offline,
    )
    status, columns, failure = await _run_pipeline(
        pipeline, claimed, reporter, _cancel_check(sessionmaker, run_id)
    )
    if claimed.imported:
        await source.aclose()
    finished = await lifecycle.finish(
        sessionmaker,
        bus,
        run_id,
        status=status,
        columns=columns,
        add_error=failure,
        retry_seconds=settings.run_finish_retry_seconds,
    )
    if claimed.imported:
        _drop_import(settings, run_id)  # the run has ended, one way or another
    if finished:
        await hooks.run_finished(
            settings=settings,
            sessionmaker=sessionmaker,
            run_id=run_id,
            campaign_id=claimed.snapshot.id,
            status=status,
        )
    return status if finished else None


@dataclass(frozen=True, slots=True)
class _ClaimedRun:
    """What a claimed run needs once its claiming transaction has committed."""

    snapshot: CampaignSnapshot
    options: RunOptions
    offline: Any  # the user's own model (their corrections), read once per run
    attempt: int
    imported: bool


async def _claim(
    run_id: uuid.UUID, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> _ClaimedRun | None:
    """Claim the run and read what it collects; None when there is nothing to do. Raises
    ``RunBusy`` while another executor's heartbeat is fresh."""
    # A running run silent for this long lost its executor (it beats every few seconds):
    # this executor takes it over.
    lost = timedelta(seconds=settings.heartbeat_lost_seconds)
    async with session_scope(sessionmaker) as session:
        if not await lifecycle.claim(session, run_id=run_id, stale_after=lost):
            await _not_claimed(session, run_id, settings)
            return None
        run = await session.get(CollectionRun, run_id)
        campaign = (
            await session.scalar(select(Campaign).where(Campaign.id == run.campaign_id)) if run else None
        )
        if run is None or campaign is None:
            return None
        snapshot = CampaignSnapshot(
            id=campaign.id,
            user_id=campaign.user_id,
            keywords=tuple(campaign.keywords),
            target_subreddits=tuple(campaign.target_subreddits),
            product_context=campaign.product_context or "",
        )
        options = RunOptions(
            run_id=run.id,
            mode=run.mode,
            max_posts_per_subreddit=run.max_posts_per_subreddit,
            comments_per_post=run.comments_per_post,
            comments_max_depth=settings.comments_max_depth,
            resumed_from={name: getattr(run, name) or 0 for name in COUNTERS} if run.attempts > 1 else {},
        )
        offline = await personal.classifier_for_user(session, user_id=campaign.user_id, settings=settings)
        if run.attempts > 1:
            log.warning("run %s resumed (attempt %s): its executor was lost", run_id, run.attempts)
        return _ClaimedRun(snapshot, options, offline, run.attempts, run.source == IMPORT_SOURCE)


async def _not_claimed(session: AsyncSession, run_id: uuid.UUID, settings: Settings) -> None:
    """Why the claim failed: another executor may hold the run (``RunBusy``), or it ended."""
    current = await session.get(CollectionRun, run_id)
    if current is not None and current.status == "running" and not current.cancel_requested:
        # Another executor's heartbeat is still fresh: it may be alive, or it just
        # died. Only a later look can tell, so the caller should try again.
        raise RunBusy(run_id)
    log.info("run %s not claimable (finished, cancelled or deleted)", run_id)
    if current is None or current.status in TERMINAL_STATUSES:
        _drop_import(settings, run_id)  # e.g. an import cancelled while queued


def _cancel_check(sessionmaker: async_sessionmaker[AsyncSession], run_id: uuid.UUID) -> CancelCheck:
    query = select(CollectionRun.cancel_requested, CollectionRun.status).where(CollectionRun.id == run_id)

    async def should_cancel() -> bool:
        async with sessionmaker() as s:
            row = (await s.execute(query)).one_or_none()
        return row is None or bool(row[0]) or row[1] != "running"

    return should_cancel


async def _run_pipeline(
    pipeline: CollectionPipeline, claimed: _ClaimedRun, reporter: Reporter, should_cancel: CancelCheck
) -> tuple[str, dict[str, Any], dict[str, str] | None]:
    """The run's terminal status, the columns to write and the error to add, if any."""
    try:
        tally = await pipeline.run(claimed.snapshot, claimed.options, reporter, should_cancel)
        return tally.outcome(len(claimed.snapshot.target_subreddits)), tally.run_columns(), None
    except RunCancelled:
        return "cancelled", {}, None  # counters stay as last committed: they match what was stored
    except Exception as exc:
        log.exception("run %s failed", claimed.options.run_id)
        # Nothing here may need the database: it may be what just failed.
        return "failed", {}, {"subreddit": "", "code": "internal_error", "message": _failure_message(exc)}


GAVE_UP = (
    "The collection stopped its worker {n} times in a row (it may need more memory than the worker has);"
    " it was not tried again. The posts stored before that are kept"
)


def _drop_import(settings: Settings, run_id: uuid.UUID) -> None:
    """The uploaded file's index is needed only until its run ends."""
    index_path(settings.data_dir, run_id).unlink(missing_ok=True)


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, OSError | DBAPIError):
        return "The database became unreachable during the collection; the posts stored before that are kept"
    return f"{type(exc).__name__}: the run stopped unexpectedly"


def _llm(settings: Settings, *, fallback: Any) -> Any | None:
    """The llm refining the top posts, falling back to the user's offline label on failure."""
    if settings.classifier is not ClassifierName.llm:
        return None
    from bcrao.collection.llm import LLMClassifier

    return LLMClassifier(settings, fallback=fallback)
