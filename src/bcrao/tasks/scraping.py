"""Scraping-queue tasks."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from celery import Task

from bcrao.collection.runner import RunBusy, execute_run
from bcrao.config import get_settings
from bcrao.db import make_engine, make_sessionmaker
from bcrao.logs import task_id_var
from bcrao.progress.bus import RedisBus
from bcrao.runtime import make_redis
from bcrao.sources.factory import make_source
from bcrao.tasks.celery_app import celery_app
from bcrao.tasks.executors import COLLECT_TASK

log = logging.getLogger("bcrao.tasks")


@celery_app.task(bind=True, name=COLLECT_TASK, acks_late=True, reject_on_worker_lost=True)
def collect_campaign_data(self: Task, run_id: str) -> dict[str, Any]:
    """Run one collection. Idempotent: a redelivered message re-claims the run only if its
    previous executor went silent, and upserts keep re-stored posts from duplicating."""
    token = task_id_var.set(run_id)
    try:
        # One event loop per task run; the engine and Redis clients below belong to it.
        status = asyncio.run(_collect(self, uuid.UUID(run_id)))
    except RunBusy:
        # Redelivered while the previous attempt's heartbeat is still fresh: look again once
        # it would have gone stale. A live attempt keeps beating (we back off again); a dead
        # one does not (we take over); a finished run ends the retries.
        countdown = get_settings().heartbeat_lost_seconds
        log.info("run %s is busy elsewhere; checking again in %ss", run_id, countdown)
        raise self.retry(countdown=countdown, max_retries=None) from None
    finally:
        task_id_var.reset(token)
    return {"task_id": run_id, "status": status}


async def _collect(task: Any, run_id: uuid.UUID) -> str | None:
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    redis = make_redis(settings.redis_url or "", max_connections=settings.redis_max_connections)
    bus = RedisBus(redis, maxlen=settings.progress_maxlen, ttl_seconds=settings.progress_ttl_seconds)
    source = make_source(settings)

    async def hook(data: dict[str, Any]) -> None:
        if not task.request.called_directly:
            # AsyncResult users (the result backend) see the same fields as the SSE stream.
            # Flower shows task events, not the backend's state, so it shows STARTED.
            # update_state runs in a helper thread, where Celery's per-thread request (and
            # so the default task id) is not set: name the task explicitly.
            await asyncio.to_thread(task.update_state, task_id=str(run_id), state="PROGRESS", meta=data)

    try:
        return await execute_run(
            run_id=run_id,
            settings=settings,
            sessionmaker=make_sessionmaker(engine),
            bus=bus,
            source=source,
            hook=hook,
        )
    finally:
        await source.aclose()
        await redis.aclose()
        await engine.dispose()
