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


async def reaper_loop(runtime: Runtime) -> None:
    while True:
        await asyncio.sleep(runtime.settings.reaper_interval_seconds)
        try:
            await reap_stale_runs(runtime)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be briefly down; try again next time
            log.warning("reaper pass failed: %s", type(exc).__name__)
