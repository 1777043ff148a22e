"""A run's start and end, and what ends it early: the one place routes, executors and the
reaper go through to change a run's state and tell its watchers.

- ``start``: create and commit the run, announce "queued", hand it to the executor; if the
  announcement or the hand-over fails, the same call fails the run, gives the plan
  allowance back and answers 503, so no "queued" run is left that nothing will take.
- ``claim`` (an executor takes the run) and ``heartbeat`` (the one writer of the beat that
  tells a live run from a lost one: the claim, the runner and the pipeline write it here).
- ``finish``: write the terminal state and announce it, retrying through a database outage
  (the worker keeps the result in memory until the database answers again).
- ``cancel``: a queued run, or one whose executor stopped beating, ends ``cancelled`` at
  once; a live one is flagged and stops at its next check.
- ``end_for_deletion``: a deleted campaign's active runs end ``cancelled`` and their streams
  get the terminal event (the rows are gone with the campaign, so it is sent from here).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.auth.models import User
from bcrao.campaigns.models import Campaign
from bcrao.collection import service
from bcrao.collection.models import ACTIVE_STATUSES, CollectionRun, RunLedger
from bcrao.collection.schemas import CollectRequest, ProgressData
from bcrao.db import dialect_of, rowcount, session_scope, utcnow
from bcrao.errors import ServiceUnavailable
from bcrao.progress.bus import ProgressBus

log = logging.getLogger("bcrao.lifecycle")

NOT_QUEUED = "The collection could not be queued (it did not count against your plan); try again shortly"


def queued_event(run: CollectionRun, total_steps: int) -> dict[str, Any]:
    data = ProgressData(
        task_id=run.id, status="queued", stage="queued", total_steps=total_steps, ts=run.created_at
    )
    return data.model_dump(mode="json")


async def start(
    session: AsyncSession,
    runtime: Any,
    *,
    user: User,
    campaign: Campaign,
    options: CollectRequest,
    source: str | None = None,
    run_id: uuid.UUID | None = None,
) -> CollectionRun:
    run = await service.create_run(
        session,
        user=user,
        campaign=campaign,
        options=options,
        settings=runtime.settings,
        source=source,
        run_id=run_id,
    )
    # Enqueue only after commit, or a fast worker could look for a run that is not there yet.
    await session.commit()
    try:
        await runtime.bus.publish(str(run.id), "progress", queued_event(run, len(campaign.target_subreddits)))
        await runtime.executor.submit(run.id)
    except Exception as exc:
        log.error("could not enqueue run %s: %s", run.id, type(exc).__name__)
        await service.mark_failed(session, run_id=run.id, from_status="queued", message=NOT_QUEUED)
        await session.execute(delete(RunLedger).where(RunLedger.run_id == run.id))
        await session.commit()
        await announce(runtime.sessionmaker, runtime.bus, run.id, attempts=1)  # the bus may be what failed
        raise ServiceUnavailable("The task queue is unavailable; try again shortly") from None
    return run


async def claim(session: AsyncSession, *, run_id: uuid.UUID, stale_after: timedelta) -> bool:
    """Take a queued run (or a running one whose executor went silent) for execution. A
    redelivered Celery message for a run another worker is still executing finds a fresh
    heartbeat and backs off, so a run is never processed twice at the same time."""
    now = utcnow()
    return await heartbeat(
        session,
        run_id,
        _unattended(since=now - stale_after),
        CollectionRun.cancel_requested.is_(False),
        status="running",
        started_at=func.coalesce(CollectionRun.started_at, now),
        attempts=CollectionRun.attempts + 1,
    )


async def heartbeat(
    session: AsyncSession, run_id: uuid.UUID, *where: ColumnElement[bool], **columns: Any
) -> bool:
    """The run's executor is alive now (``columns`` written in the same statement) if
    ``where`` holds; whether it was written. ``cancel``, the reaper and claims read it."""
    statement = update(CollectionRun).where(CollectionRun.id == run_id, *where)
    return bool(rowcount(await session.execute(statement.values(**columns, heartbeat_at=utcnow()))))


def _unattended(*, since: datetime) -> ColumnElement[bool]:
    """Queued, or running without a heartbeat since ``since``: no live executor has the run."""
    silent = or_(CollectionRun.heartbeat_at.is_(None), CollectionRun.heartbeat_at < since)
    return (CollectionRun.status == "queued") | ((CollectionRun.status == "running") & silent)


async def announce(
    session_maker: async_sessionmaker[AsyncSession], bus: ProgressBus, run_id: uuid.UUID, *, attempts: int = 8
) -> None:
    """Publish the run's terminal event from its committed final state, then remember its id.

    Retried through a short outage (e.g. Redis restarting): watchers wait for this event.
    If it still cannot be published, the stream endpoint rebuilds it from the database.
    """
    delay = 0.25
    for attempt in range(attempts):
        try:
            async with session_scope(session_maker) as session:
                run = await session.get(CollectionRun, run_id)
                if run is None:
                    return
                event_id = await bus.publish(str(run_id), run.status, service.terminal_data(run))
                await service.set_last_event_id(session, run_id=run_id, event_id=event_id)
                return
        except Exception as exc:
            if attempt == attempts - 1:
                log.error("terminal event of run %s not published: %s", run_id, type(exc).__name__)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def finish(
    session_maker: async_sessionmaker[AsyncSession],
    bus: ProgressBus,
    run_id: uuid.UUID,
    *,
    status: str,
    columns: dict[str, Any],
    retry_seconds: float,
    add_error: dict[str, str] | None = None,
) -> bool:
    """Write the final state (only if the run is still ours, ``add_error`` appended to its
    errors) and announce it.

    A database that went away mid-run must not leave the run "running" until the reaper
    notices: the write is retried with backoff for ``retry_seconds``. Returns False when the
    run was finished elsewhere (reaped, cancelled for good, deleted) or could not be written.
    """
    deadline, delay = time.monotonic() + retry_seconds, 0.5
    while True:
        try:
            async with session_scope(session_maker) as session:
                values = dict(columns)
                if add_error is not None:
                    current = await session.get(CollectionRun, run_id)
                    values["errors"] = [*(current.errors if current else []), add_error]
                finished = await service.finish_run(session, run_id=run_id, status=status, columns=values)
            break
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                log.error("run %s could not be finished (%s); the reaper will", run_id, type(exc).__name__)
                return False
            log.warning("finishing run %s failed (%s); retrying in %.1f s", run_id, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    if not finished:
        log.warning("run %s was finished elsewhere (reaped or deleted); not announcing", run_id)
        return False
    await announce(session_maker, bus, run_id)
    return True


async def cancel(session: AsyncSession, runtime: Any, run: CollectionRun) -> CollectionRun:
    """Cancel ``run`` (the caller checked it is still active); announce when it ended now."""
    lost_after = timedelta(seconds=runtime.settings.heartbeat_lost_seconds)
    now = utcnow()
    result = await session.execute(
        update(CollectionRun)
        .where(CollectionRun.id == run.id, _unattended(since=now - lost_after))
        .values(status="cancelled", cancel_requested=True, finished_at=now)
    )
    ended = bool(rowcount(result))
    if not ended:  # a live executor: it sees the flag at its next check and stops there
        await session.execute(
            update(CollectionRun).where(CollectionRun.id == run.id).values(cancel_requested=True)
        )
    await session.refresh(run)
    await session.commit()  # before announcing: on SQLite the announcement needs the writer lock
    if ended:
        await announce(runtime.sessionmaker, runtime.bus, run.id)
    return run


async def end_for_deletion(session: AsyncSession, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
    """Mark the campaign's active runs cancelled (before the campaign is deleted with them);
    return the terminal events to publish once the deletion is committed.

    The campaign row is locked first, in the order a run's store transaction takes its locks
    (campaign, then run): the other order deadlocks with a run storing at that moment."""
    if dialect_of(session) == "postgresql":
        await session.execute(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update())
    runs = list(
        await session.scalars(
            select(CollectionRun).where(
                CollectionRun.campaign_id == campaign_id, CollectionRun.status.in_(ACTIVE_STATUSES)
            )
        )
    )
    events = []
    for run in runs:
        run.status, run.cancel_requested, run.finished_at = "cancelled", True, utcnow()
        run.warnings = [*run.warnings, "The campaign was deleted during the collection"]
        events.append(service.terminal_data(run))
    await session.flush()
    return events


async def publish_ends(bus: ProgressBus, events: list[dict[str, Any]]) -> None:
    for data in events:
        try:
            await bus.publish(str(data["task_id"]), "cancelled", data)
        except Exception as exc:  # the streams also end when their run is found gone
            log.warning("end of run %s not published: %s", data["task_id"], type(exc).__name__)
