"""Read a campaign's themes: what is stored, with a status that says how fresh it is.

A read never computes: it answers with the stored themes at once, and when they are missing
or older than the campaign's posts it queues a recomputation (``compute.request_themes``).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.config import Settings
from bcrao.db import utcnow
from bcrao.errors import NotFound
from bcrao.themes import compute
from bcrao.themes.models import ThemeSet
from bcrao.themes.schemas import ThemeList, ThemeOut

ABANDONED_AFTER = timedelta(minutes=15)
_DIRECTION_ORDER = {"rising": 0, "steady": 1, "fading": 2}


class ThemeNotFound(NotFound):
    message = "Theme not found"


def sort_themes(themes: list[ThemeOut], sort: str) -> list[ThemeOut]:
    if sort == "-pain_score":
        return sorted(themes, key=lambda t: (-t.pain_score, -t.size, t.id))
    if sort == "-direction":
        return sorted(themes, key=lambda t: (_DIRECTION_ORDER[t.direction], -t.size, t.id))
    return sorted(themes, key=lambda t: (-t.size, t.id))


async def get_themes(
    session: AsyncSession,
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: uuid.UUID,
    sort: str = "-size",
) -> ThemeList:
    row = await session.get(ThemeSet, campaign_id)
    version = await compute.current_version(session, campaign_id)
    stored = int(version.split(":")[0])
    # A computation that never finished (its process stopped) is started again.
    abandoned = (
        row is not None
        and row.status == "computing"
        and (row.requested_at is None or utcnow() - row.requested_at > ABANDONED_AFTER)
    )
    if row is None or abandoned or (row.status != "computing" and row.version != version and stored > 0):
        if stored == 0 and row is None:
            return ThemeList(status="empty", computed_at=None, total_posts=0, unassigned=0, themes=[])
        # Missing, or computed from other posts than there are now: queue the work, show what
        # there is (the session must not hold a lock while the request starts it).
        await session.commit()
        await compute.request_themes(settings, sessionmaker, campaign_id)
        status = "computing" if row is None or abandoned else "stale"
    elif row.status == "computing":
        status = "computing"
    elif row.status == "failed":
        status = "stale" if row.themes else "empty"
    elif not row.themes:
        status = "empty"
    else:
        status = "ready" if row.version == version else "stale"
    themes = [ThemeOut.model_validate(t) for t in (row.themes if row is not None else [])]
    return ThemeList(
        status=status,
        computed_at=row.computed_at if row is not None else None,
        total_posts=row.total_posts if row is not None else 0,
        unassigned=row.unassigned if row is not None else 0,
        themes=sort_themes(themes, sort),
        message=row.error if row is not None and row.status == "failed" else None,
    )


async def theme_generation(session: AsyncSession, *, campaign_id: uuid.UUID, theme_id: int) -> int:
    """The computation a theme id belongs to; 404 when the campaign has no such theme."""
    row = await session.get(ThemeSet, campaign_id)
    if row is None or not any(t.get("id") == theme_id for t in row.themes or []):
        raise ThemeNotFound()
    return row.generation
