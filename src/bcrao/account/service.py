"""Erasing an account (``DELETE /v1/me``): every row of the user, in one transaction.

The database does the walking: deleting the user's campaigns fires the triggers that delete
their posts and comments (those tables have no foreign keys, see migrations 0004 and 0009)
and cascades to everything keyed by a campaign or run; deleting the user cascades to what
is keyed by the user (runs, the run ledger, corrections, alerts and their deliveries).
``tests/account/test_delete.py`` walks every table to prove it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.auth.models import User
from bcrao.auth.passwords import verify_password_off_loop
from bcrao.campaigns.models import Campaign
from bcrao.collection import lifecycle
from bcrao.errors import Unauthorized

WRONG_PASSWORD = "The password is wrong; nothing was deleted"


async def confirm_password(user: User, password: str) -> None:
    # Argon2 on a worker thread, as at login (it would stall the event loop).
    if not await verify_password_off_loop(password, user.password_hash):
        raise Unauthorized(WRONG_PASSWORD)


async def erase_account(session: AsyncSession, *, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Delete the user and all they own; return the terminal events of the runs this ended,
    to publish once the deletion is committed (their watchers learn the run is over)."""
    ended: list[dict[str, Any]] = []
    # Campaigns locked first, in id order: a collection's store locks its campaign and then
    # writes its run, so taking the runs first (below) could deadlock with it (PostgreSQL,
    # measured). Now the store waits for the deletion, then finds its campaign gone.
    campaign_ids = list(
        await session.scalars(
            select(Campaign.id).where(Campaign.user_id == user_id).order_by(Campaign.id).with_for_update()
        )
    )
    for campaign_id in campaign_ids:
        ended.extend(await lifecycle.end_for_deletion(session, campaign_id))
    # Campaigns first, one statement: the per-row triggers take their posts and comments.
    await session.execute(delete(Campaign).where(Campaign.user_id == user_id))
    await session.execute(delete(User).where(User.id == user_id))
    return ended
