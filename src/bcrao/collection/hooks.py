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
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.config import Settings

log = logging.getLogger("bcrao.hooks")


class Follower(Protocol):
    async def __call__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        run_id: uuid.UUID,
        campaign_id: uuid.UUID,
        status: str,
    ) -> None: ...


def followers() -> list[tuple[str, Follower]]:
    """Imported here, not at module level: followers import the collection package."""
    from bcrao.monitoring import alerts
    from bcrao.themes import compute

    return [("themes", compute.follow_run), ("alerts", alerts.follow_run)]


async def run_finished(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    campaign_id: uuid.UUID,
    status: str,
) -> None:
    """Tell every follower that ``run_id`` of ``campaign_id`` ended with ``status``."""
    for name, follower in followers():
        try:
            await follower(
                settings=settings,
                sessionmaker=sessionmaker,
                run_id=run_id,
                campaign_id=campaign_id,
                status=status,
            )
        except Exception as exc:
            log.warning("%s after run %s failed: %s", name, run_id, type(exc).__name__)
