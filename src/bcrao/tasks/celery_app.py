"""The Celery application: JSON only, UTC, late acks, queues routed by task-name prefix.

Start a worker with ``bcrao worker`` (or ``celery -A bcrao.tasks.celery_app worker``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from bcrao.config import Settings, get_settings

QUEUES = ("scraping", "analysis", "generation", "monitoring")
# The one place that lists every task module the worker must import.
TASK_MODULES = ["bcrao.tasks.scraping", "bcrao.tasks.analysis", "bcrao.tasks.monitoring"]


def route_by_prefix(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
) -> dict[str, str] | None:
    """``bcrao.tasks.<queue>.<task>`` runs on queue ``<queue>``."""
    parts = name.split(".")
    if len(parts) >= 4 and parts[:2] == ["bcrao", "tasks"] and parts[2] in QUEUES:
        return {"queue": parts[2]}
    return None


def make_celery(settings: Settings) -> Celery:
    app = Celery("bcrao", broker=settings.redis_url, backend=settings.redis_url, include=TASK_MODULES)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        task_track_started=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a long run must not hold other runs hostage in a prefetch buffer
        # Each queue on its own exchange and routing key: left to Celery's defaults, all four
        # were bound to the default queue's (the worker banner showed "scraping" four times).
        task_queues=[Queue(q, Exchange(q, type="direct"), routing_key=q) for q in QUEUES],
        task_default_queue="scraping",
        task_routes=(route_by_prefix,),
        broker_transport_options={
            "visibility_timeout": settings.celery_visibility_timeout,
            # Sweep for a dead worker's unacknowledged messages every few seconds; kombu's
            # default (10 s x throttle 10) can leave a lost run waiting ~100 s past its timeout.
            "unacked_restore_interval": max(1, min(10, settings.celery_visibility_timeout // 3)),
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"visibility_timeout": settings.celery_visibility_timeout},
        result_expires=settings.progress_ttl_seconds,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    return app


def send_tasks(settings: Settings, name: str, ids: Iterable[uuid.UUID]) -> None:
    """Queue task ``name`` once per id, from a short-lived app (it blocks: run it in a thread)."""
    app = make_celery(settings)
    try:
        for id_ in ids:
            app.send_task(name, args=[str(id_)])
    finally:
        app.close()


celery_app = make_celery(get_settings())
