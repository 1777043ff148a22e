"""When stored items are re-checked on Reddit, and which were purged for good.

Kept free of the store's imports: the store asks both questions for every insert."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bcrao.compliance.models import PurgedItem

# After collection: within 48 h (at 24 h), then 3, 7, 14 and 30 days, then no more.
RECHECK_AFTER = (
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=30),
)


def first_check(collected_at: datetime) -> datetime:
    return collected_at + RECHECK_AFTER[0]


def next_check(collected_at: datetime, checks: int) -> datetime | None:
    """After ``checks`` checks: the next one, or None once the post is 30 days old."""
    return collected_at + RECHECK_AFTER[checks] if checks < len(RECHECK_AFTER) else None


async def tombstoned(session: Any, campaign_id: uuid.UUID, fullnames: Sequence[str]) -> set[str]:
    """Which of these fullnames were purged from the campaign (never to be stored again)."""
    if not fullnames:
        return set()
    found = await session.scalars(
        select(PurgedItem.reddit_fullname).where(
            PurgedItem.campaign_id == campaign_id, PurgedItem.reddit_fullname.in_(list(fullnames))
        )
    )
    return set(found)
