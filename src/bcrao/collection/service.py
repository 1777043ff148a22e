"""Run bookkeeping: trigger, read, list, cancel, finish and reap, always owner-scoped."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.auth.models import User
from bcrao.campaigns.models import Campaign
from bcrao.collection.models import ACTIVE_STATUSES, CollectionRun, RejectedSample, RunLedger
from bcrao.collection.schemas import CollectRequest, LLMUsage, RejectedList, RejectedOut, RunError, RunOut
from bcrao.config import Settings
from bcrao.db import dialect_of, page_of, rowcount, utcnow
from bcrao.errors import CollectionInProgress, NotFound, PlanLimitReached, ValidationFailed

WINDOW = timedelta(days=7)
ARCHIVED = "Archived campaigns cannot be collected; set the status to active first"


class RunNotFound(NotFound):
    message = "Collection run not found"


async def weekly_usage(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime | None = None
) -> tuple[int, datetime | None]:
    """Runs triggered in the rolling window, and when the oldest of them leaves it."""
    now = now or utcnow()
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(RunLedger.created_at)).where(
                RunLedger.user_id == user_id, RunLedger.created_at > now - WINDOW
            )
        )
    ).one()
    return int(count), oldest


async def runs_remaining(session: AsyncSession, *, user: User, settings: Settings) -> int | None:
    """None means unlimited."""
    limit = settings.runs_per_week(user.plan)
    if limit == 0:
        return None
    used, _ = await weekly_usage(session, user_id=user.id)
    return max(0, limit - used)


async def check_can_start(
    session: AsyncSession, *, user: User, campaign: Campaign, settings: Settings
) -> None:
    """What ``create_run`` would refuse, asked before slow work (reading an uploaded file)
    so the caller hears it first; ``create_run`` still decides."""
    if campaign.status == "archived":
        raise ValidationFailed("status", ARCHIVED)
    active = await _active_run_id(session, campaign.id)
    if active is not None:
        raise CollectionInProgress(str(active))
    await _check_plan(session, user_id=user.id, limit=settings.runs_per_week(user.plan))


async def _active_run_id(session: AsyncSession, campaign_id: uuid.UUID) -> uuid.UUID | None:
    where = CollectionRun.campaign_id == campaign_id, CollectionRun.status.in_(ACTIVE_STATUSES)
    return await session.scalar(select(CollectionRun.id).where(*where))


async def _check_plan(session: AsyncSession, *, user_id: uuid.UUID, limit: int) -> None:
    """Refuse once the plan's ``limit`` of runs in the rolling window (0: unlimited) is used."""
    if limit:
        used, oldest = await weekly_usage(session, user_id=user_id)
        if used >= limit:
            raise PlanLimitReached(limit, (oldest or utcnow()) + WINDOW)


async def create_run(
    session: AsyncSession,
    *,
    user: User,
    campaign: Campaign,
    options: CollectRequest,
    settings: Settings,
    enforce_plan: bool = True,
    source: str | None = None,
    run_id: uuid.UUID | None = None,
) -> CollectionRun:
    """A queued run; the plan allowance is skipped only for operators at the terminal.
    ``source`` overrides the configured one (an import); ``run_id`` is given when a file
    named after the run must exist before the run does."""
    if campaign.status == "archived":
        raise ValidationFailed("status", ARCHIVED)
    if dialect_of(session) == "postgresql":
        # Serialize a user's triggers so two concurrent requests cannot both take the last run.
        await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    limit = settings.runs_per_week(user.plan) if enforce_plan else 0
    await _check_plan(session, user_id=user.id, limit=limit)
    run = CollectionRun(
        **({"id": run_id} if run_id is not None else {}),
        campaign_id=campaign.id,
        user_id=user.id,
        status="queued",
        source=source or settings.source.value,
        classifier=settings.classifier.value,
        mode=options.mode,
        max_posts_per_subreddit=options.max_posts_per_subreddit,
        comments_per_post=(
            settings.comments_per_post if options.comments_per_post is None else options.comments_per_post
        ),
    )
    try:
        # The partial unique index allows one queued/running run per campaign: the
        # database, not a read-then-write, decides which of two concurrent triggers wins.
        async with session.begin_nested():
            session.add(run)
            await session.flush()
    except IntegrityError:
        raise CollectionInProgress(str(await _active_run_id(session, campaign.id))) from None
    session.add(RunLedger(user_id=user.id, run_id=run.id, created_at=run.created_at))
    await session.flush()
    return run


async def get_owned_run(session: AsyncSession, *, user_id: uuid.UUID, run_id: uuid.UUID) -> CollectionRun:
    run = await session.scalar(
        select(CollectionRun).where(CollectionRun.id == run_id, CollectionRun.user_id == user_id)
    )
    if run is None:
        raise RunNotFound()
    return run


async def list_runs(
    session: AsyncSession, *, campaign_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[CollectionRun], int]:
    order = (CollectionRun.created_at.desc(), CollectionRun.id.desc())
    where = CollectionRun.campaign_id == campaign_id
    return await page_of(session, CollectionRun, where, order_by=order, offset=offset, limit=limit)


async def finish_run(
    session: AsyncSession, *, run_id: uuid.UUID, status: str, columns: dict[str, Any]
) -> bool:
    """Write the final state, only if the run is still ours (not reaped meanwhile)."""
    result = await session.execute(
        update(CollectionRun)
        .where(CollectionRun.id == run_id, CollectionRun.status == "running")
        .values(status=status, finished_at=utcnow(), **columns)
    )
    return bool(rowcount(result))


async def stale_runs(session: AsyncSession, *, stale_after: timedelta) -> list[CollectionRun]:
    cutoff = utcnow() - stale_after
    rows = await session.scalars(
        select(CollectionRun).where(
            or_(
                (CollectionRun.status == "running")
                & or_(CollectionRun.heartbeat_at.is_(None), CollectionRun.heartbeat_at < cutoff),
                (CollectionRun.status == "queued") & (CollectionRun.created_at < cutoff),
            )
        )
    )
    return list(rows)


async def lost_runs(session: AsyncSession, *, lost_after: timedelta) -> list[uuid.UUID]:
    """Running runs whose heartbeat stopped ``lost_after`` ago (not yet cancelled)."""
    cutoff = utcnow() - lost_after
    rows = await session.scalars(
        select(CollectionRun.id).where(
            CollectionRun.status == "running",
            or_(CollectionRun.heartbeat_at.is_(None), CollectionRun.heartbeat_at < cutoff),
            CollectionRun.cancel_requested.is_(False),
        )
    )
    return list(rows)


async def mark_failed(session: AsyncSession, *, run_id: uuid.UUID, from_status: str, message: str) -> bool:
    run = await session.get(CollectionRun, run_id)
    if run is None or run.status != from_status:
        return False
    errors = [*run.errors, {"subreddit": "", "code": "executor_lost", "message": message}]
    result = await session.execute(
        update(CollectionRun)
        .where(CollectionRun.id == run_id, CollectionRun.status == from_status)
        .values(status="failed", finished_at=utcnow(), errors=errors)
    )
    return bool(rowcount(result))


async def set_last_event_id(session: AsyncSession, *, run_id: uuid.UUID, event_id: int) -> None:
    await session.execute(
        update(CollectionRun).where(CollectionRun.id == run_id).values(last_event_id=event_id)
    )


async def list_rejected(
    session: AsyncSession, *, run_id: uuid.UUID, reason: str | None, offset: int, limit: int
) -> RejectedList:
    where = [RejectedSample.run_id == run_id]
    if reason:
        where.append(RejectedSample.reason == reason)
    order = (RejectedSample.reason, RejectedSample.id)
    rows, total = await page_of(session, RejectedSample, *where, order_by=order, offset=offset, limit=limit)
    return RejectedList(
        rejected=[
            RejectedOut(
                reddit_post_id=r.reddit_post_id,
                subreddit=r.subreddit,
                title=r.title,
                reason=r.reason,
                text_preview=r.text_preview or "",
                reddit_url=r.reddit_url,
            )
            for r in rows
        ],
        total=total,
        page=offset // limit + 1,
        per_page=limit,
    )


def run_out(run: CollectionRun) -> RunOut:
    return RunOut(
        task_id=run.id,
        campaign_id=run.campaign_id,
        status=run.status,
        source=run.source,
        classifier=run.classifier,
        mode=run.mode,
        max_posts_per_subreddit=run.max_posts_per_subreddit,
        comments_per_post=run.comments_per_post,
        scraped=run.scraped,
        filtered=run.filtered,
        classified=run.classified,
        stored=run.stored,
        duplicates=run.duplicates,
        comments_fetched=run.comments_fetched,
        comments_stored=run.comments_stored,
        filter_reasons=dict(run.filter_reasons or {}),
        errors=[RunError(**e) for e in run.errors or []],
        warnings=list(run.warnings or []),
        source_status=dict(run.source_status or {}),
        llm_usage=LLMUsage(
            prompt_tokens=run.llm_prompt_tokens,
            completion_tokens=run.llm_completion_tokens,
            estimated_cost_usd=run.llm_cost_usd,
            fallbacks=run.llm_fallbacks,
        ),
        attempt=max(1, run.attempts or 0),
        resumed=(run.attempts or 0) > 1,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def terminal_data(run: CollectionRun) -> dict[str, Any]:
    """Data of the terminal SSE event: the final run object plus ``"stage": "done"``."""
    return {**run_out(run).model_dump(mode="json"), "stage": "done"}
