"""Campaign queries, always scoped to their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.campaigns.schemas import CampaignCreate, CampaignOut, CampaignStats, LastRun
from bcrao.collection.models import CollectionRun, PostCount
from bcrao.db import page_of
from bcrao.errors import NotFound
from bcrao.monitoring.schedule_schemas import ScheduleIn, ScheduleOut
from bcrao.monitoring.schedules import set_schedule


class CampaignNotFound(NotFound):
    message = "Campaign not found"


async def create_campaign(session: AsyncSession, *, user_id: uuid.UUID, data: CampaignCreate) -> Campaign:
    campaign = Campaign(user_id=user_id, **data.model_dump())
    session.add(campaign)
    await session.flush()
    return campaign


async def list_campaigns(
    session: AsyncSession, *, user_id: uuid.UUID, status: str | None, offset: int, limit: int
) -> tuple[list[Campaign], int]:
    where = [Campaign.user_id == user_id]
    if status:
        where.append(Campaign.status == status)
    order = (Campaign.created_at.desc(), Campaign.id.desc())
    return await page_of(session, Campaign, *where, order_by=order, offset=offset, limit=limit)


async def update_campaign(
    session: AsyncSession, *, campaign: Campaign, changes: dict[str, object]
) -> Campaign:
    schedule = changes.pop("schedule", None)
    for name, value in changes.items():
        setattr(campaign, name, value)
    if isinstance(schedule, ScheduleIn):  # CampaignUpdate.schedule: never null
        set_schedule(campaign, schedule.every)
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def delete_campaign(session: AsyncSession, *, campaign: Campaign) -> None:
    # The database cascades to runs, posts, samples and cursors (ON DELETE CASCADE).
    await session.execute(delete(Campaign).where(Campaign.id == campaign.id))


# Built once: the SQL never changes, only the ids do (see auth.deps._owned_query).
_POSTS_BY_CAMPAIGN = (
    select(PostCount.campaign_id, func.sum(PostCount.posts))
    .where(PostCount.campaign_id.in_(bindparam("ids", expanding=True)))
    .group_by(PostCount.campaign_id)
)
_RANKED_RUNS = (
    select(
        CollectionRun.campaign_id,
        CollectionRun.id,
        CollectionRun.status,
        CollectionRun.created_at,
        CollectionRun.finished_at,
        func.count().over(partition_by=CollectionRun.campaign_id).label("runs"),
        func.row_number()
        .over(
            partition_by=CollectionRun.campaign_id,
            order_by=(CollectionRun.created_at.desc(), CollectionRun.id.desc()),
        )
        .label("rn"),
    )
    .where(CollectionRun.campaign_id.in_(bindparam("ids", expanding=True)))
    .subquery()
)
_NEWEST_RUNS = select(_RANKED_RUNS).where(_RANKED_RUNS.c.rn == 1)


async def stats_for(
    session: AsyncSession, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CampaignStats]:
    """Posts, runs and newest run for a page of campaigns, in two set-based queries.

    Posts are summed from ``post_counts`` (kept exact by the store step), never counted
    one by one; the run count and the newest run come from one pass over the runs.
    """
    if not campaign_ids:
        return {}
    ids = list(campaign_ids)
    # Rows, not .tuples(): that is deprecated in SQLAlchemy 2.1 and warns on every call.
    posts = {cid: n for cid, n in await session.execute(_POSTS_BY_CAMPAIGN, {"ids": ids})}
    newest = {row.campaign_id: row for row in await session.execute(_NEWEST_RUNS, {"ids": ids})}
    stats = {}
    for cid in ids:
        run = newest.get(cid)
        stats[cid] = CampaignStats(
            posts_collected=int(posts.get(cid) or 0),
            runs=run.runs if run else 0,
            last_run=LastRun(
                task_id=run.id, status=run.status, created_at=run.created_at, finished_at=run.finished_at
            )
            if run
            else None,
        )
    return stats


def to_out(campaign: Campaign, stats: CampaignStats | None = None) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        product_context=campaign.product_context,
        product_url=campaign.product_url,
        keywords=list(campaign.keywords),
        target_subreddits=list(campaign.target_subreddits),
        status=campaign.status,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        stats=stats or CampaignStats(),
        schedule=ScheduleOut(
            every=campaign.schedule_every or "off",
            next_run_at=campaign.next_run_at,
            last_scheduled_run_at=campaign.last_scheduled_run_at,
            note=campaign.schedule_note,
        ),
    )
