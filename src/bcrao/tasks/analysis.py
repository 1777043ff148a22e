"""Analysis-queue tasks: a campaign's themes, recomputed after its runs."""

from __future__ import annotations

import asyncio
import uuid

from bcrao.config import get_settings
from bcrao.db import make_engine, make_sessionmaker
from bcrao.tasks.celery_app import celery_app
from bcrao.themes.compute import ANALYSIS_TASK, compute_themes


@celery_app.task(name=ANALYSIS_TASK, acks_late=True, reject_on_worker_lost=True)
def compute_campaign_themes(campaign_id: str) -> str:
    """Idempotent: the themes of the posts stored at the time replace the previous ones."""
    return asyncio.run(_compute(uuid.UUID(campaign_id)))


async def _compute(campaign_id: uuid.UUID) -> str:
    engine = make_engine(get_settings().effective_database_url)
    try:
        return await compute_themes(make_sessionmaker(engine), campaign_id)
    finally:
        await engine.dispose()
