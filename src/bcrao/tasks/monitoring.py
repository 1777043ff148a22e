"""Monitoring-queue tasks: alert deliveries (webhooks and emails)."""

from __future__ import annotations

import asyncio
import uuid

from bcrao.config import get_settings
from bcrao.db import make_engine, make_sessionmaker
from bcrao.monitoring.delivery import DELIVER_TASK, deliver
from bcrao.tasks.celery_app import celery_app


@celery_app.task(name=DELIVER_TASK, acks_late=True, reject_on_worker_lost=True)
def deliver_alert(delivery_id: str) -> str:
    """Idempotent: a delivery already sent is not sent again, and every attempt carries the
    same ``X-BCRAO-Delivery`` id for the receiver to drop a duplicate."""
    return asyncio.run(_deliver(uuid.UUID(delivery_id)))


async def _deliver(delivery_id: uuid.UUID) -> str:
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        return await deliver(settings, make_sessionmaker(engine), delivery_id)
    finally:
        await engine.dispose()
