"""What follows a finished run: work that reads the run's posts but must never delay or
fail the run itself (themes are recomputed, alert rules see the new posts).

``execute_run`` calls ``run_finished`` after the terminal state is committed and announced,
in whichever process ran the collection (the API process in local mode, a Celery worker in
the distributed one). Each follower decides where its work runs (an asyncio task here, or a
task on its own Celery queue) and must return quickly; its failures are logged, not raised.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.collection.models import TERMINAL_STATUSES
from bcrao.config import Settings

log = logging.getLogger("bcrao.hooks")

FOLLOWED_STATUSES = TERMINAL_STATUSES - {"failed"}


async def run_finished(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    campaign_id: uuid.UUID,
    status: str,
) -> None:
    """Tell every follower that ``run_id`` of ``campaign_id`` ended (a failed run is not followed)."""
    if status not in FOLLOWED_STATUSES:
        return
    # Imported here, not at module level: followers import the collection package.
    from bcrao.monitoring import alerts
    from bcrao.themes import compute

    followers = {
        "themes": lambda: compute.request_themes(settings, sessionmaker, campaign_id),
        "alerts": lambda: alerts.follow_run(settings, sessionmaker, run_id=run_id, campaign_id=campaign_id),
    }
    for name, follow in followers.items():
        try:
            await follow()
        except Exception as exc:
            log.warning("%s after run %s failed: %s", name, run_id, type(exc).__name__)
