"""Scheduled collections: a campaign collects every 1 h / 6 h / 24 h / 7 d by itself.

A database-backed scheduler, not Celery beat: every API process looks for due campaigns
every ``scheduler_interval_seconds``, and the primary key of ``scheduled_slots`` (campaign,
due time) lets exactly one of them start each slot, however many look at the same moment.
After downtime the next slot is the first one after now: a missed slot runs once, not once
per slot missed. A scheduled run is "Collect more" (incremental, hybrid) and counts against
the plan; a slot that cannot run (weekly limit, a run already going) is skipped and the
campaign's ``schedule.note`` says why in words.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bcrao.auth.models import User
from bcrao.campaigns.models import Campaign
from bcrao.collection import lifecycle
from bcrao.collection.schemas import CollectRequest
from bcrao.collection.store import dialect_insert
from bcrao.db import session_scope, utcnow
from bcrao.errors import AppError
from bcrao.monitoring.models import ScheduledSlot

log = logging.getLogger("bcrao.schedules")

PERIODS = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


def set_schedule(campaign: Campaign, every: str, now: datetime | None = None) -> None:
    """Turn the schedule on (first run one period from now), change it, or turn it off."""
    now = now or utcnow()
    campaign.schedule_every = every
    campaign.schedule_note = None
    campaign.next_run_at = now + PERIODS[every] if every in PERIODS else None


def next_slot(slot: datetime, period: timedelta, now: datetime) -> datetime:
    """The first slot after ``now`` on the schedule's grid (missed slots collapse into one)."""
    if slot > now:
        return slot
    missed = (now - slot) // period + 1
    return slot + missed * period


async def run_due(runtime: Any, now: datetime | None = None) -> list[tuple[uuid.UUID, str]]:
    """Start every due slot this process wins; (campaign id, outcome) for each one tried."""
    now = now or utcnow()
    async with runtime.sessionmaker() as session:
        due = list(
            await session.scalars(
                select(Campaign.id).where(
                    Campaign.schedule_every != "off",
                    Campaign.status == "active",
                    Campaign.next_run_at.is_not(None),
                    Campaign.next_run_at <= now,
                )
            )
        )
    outcomes = []
    for campaign_id in due:
        try:
            outcomes.append((campaign_id, await _start_slot(runtime, campaign_id, now)))
        except Exception as exc:  # one campaign must not stop the others
            log.warning("scheduled run of %s failed: %s", campaign_id, type(exc).__name__)
            outcomes.append((campaign_id, "error"))
    return outcomes


async def _start_slot(runtime: Any, campaign_id: uuid.UUID, now: datetime) -> str:
    async with session_scope(runtime.sessionmaker) as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or campaign.next_run_at is None or campaign.schedule_every not in PERIODS:
            return "gone"
        slot = campaign.next_run_at
        if slot > now:
            return "taken"  # another scheduler started this slot and moved the schedule on
        claimed = await session.scalar(
            dialect_insert(session, ScheduledSlot.__table__)
            .values(campaign_id=campaign_id, slot_at=slot, outcome="started", created_at=now)
            .on_conflict_do_nothing(index_elements=["campaign_id", "slot_at"])
            .returning(ScheduledSlot.__table__.c.campaign_id)
        )
        if claimed is None:
            return "taken"  # another scheduler started this slot
        campaign.next_run_at = next_slot(slot, PERIODS[campaign.schedule_every], now)
        campaign.last_scheduled_run_at = now
        user = await session.get_one(User, campaign.user_id)  # the campaign's owner: it cascades
        try:
            run = await lifecycle.start(
                session, runtime, user=user, campaign=campaign, options=CollectRequest()
            )
        except AppError as exc:
            note = _why_skipped(exc)
            campaign.schedule_note = note
            row = await session.get(ScheduledSlot, (campaign_id, slot))
            if row is not None:
                row.outcome, row.reason = "skipped", note
            log.info("scheduled slot %s of %s skipped: %s", slot, campaign_id, note)
            return "skipped"
        row = await session.get(ScheduledSlot, (campaign_id, slot))
        if row is not None:
            row.run_id = run.id
        campaign.schedule_note = None
        return "started"


def _why_skipped(exc: AppError) -> str:
    if exc.code == "PLAN_LIMIT_REACHED":
        resets = (exc.details or {}).get("resets_at", "later this week")
        return f"Skipped: your plan's weekly collections are used up (the next one frees up at {resets})"
    if exc.code == "COLLECTION_IN_PROGRESS":
        return "Skipped: a collection was already running for this campaign"
    return f"Skipped: {exc.message}"
