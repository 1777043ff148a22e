"""Fail runs whose executor died, so they do not block new triggers forever."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select

from bcrao.collection import lifecycle, service
from bcrao.collection.models import ACTIVE_STATUSES, CollectionRun
from bcrao.db import session_scope
from bcrao.runtime import Runtime

log = logging.getLogger("bcrao.reaper")


async def reap_stale_runs(runtime: Runtime, *, everything_active: bool = False) -> int:
    """Mark stale runs failed and announce it; return how many.

    ``everything_active`` is for the local executor at start-up: runs left active by a
    previous process of this same embedded service cannot be alive any more.
    """
    settings = runtime.settings
    grace = settings.run_stale_after_seconds
    if settings.effective_executor == "celery":
        # A Celery message is redelivered after the visibility timeout: only a run still
        # silent after that is lost for good.
        grace += settings.celery_visibility_timeout
    stale_after = timedelta(seconds=grace)
    async with runtime.sessionmaker() as session:
        if everything_active:
            runs = list(
                await session.scalars(select(CollectionRun).where(CollectionRun.status.in_(ACTIVE_STATUSES)))
            )
        else:
            runs = await service.stale_runs(session, stale_after=stale_after)
    reaped = 0
    for run in runs:
        reason = (
            "The collection was interrupted (its executor stopped) and did not resume"
            if run.status == "running"
            else "The collection never started (no executor picked it up)"
        )
        async with session_scope(runtime.sessionmaker) as session:
            if not await service.mark_failed(session, run_id=run.id, from_status=run.status, message=reason):
                continue
        log.warning("reaped stale run %s (was %s)", run.id, run.status)
        await lifecycle.announce(runtime.sessionmaker, runtime.bus, run.id)
        reaped += 1
    return reaped


async def requeue_lost_runs(runtime: Runtime) -> int:
    """Hand runs whose executor stopped beating to the queue again, so another worker takes
    them over in about ``heartbeat_lost_seconds`` (the broker would redeliver a killed
    worker's message only after its visibility timeout, an hour). The claim is atomic, so
    a run that is in fact alive, or taken twice, still runs once."""
    if runtime.settings.effective_executor != "celery":
        return 0  # the local executor's runs live and die with this process
    lost_after = timedelta(seconds=runtime.settings.heartbeat_lost_seconds)
    async with runtime.sessionmaker() as session:
        runs = await service.lost_runs(session, lost_after=lost_after)
    for run_id in runs:
        log.warning("run %s lost its executor; queueing it for another worker", run_id)
        await runtime.executor.submit(run_id)
    return len(runs)


async def reaper_loop(runtime: Runtime) -> None:
    while True:
        await asyncio.sleep(runtime.settings.reaper_interval_seconds)
        try:
            await requeue_lost_runs(runtime)
            await reap_stale_runs(runtime)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be briefly down; try again next time
            log.warning("reaper pass failed: %s", type(exc).__name__)
