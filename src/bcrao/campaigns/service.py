"""Campaign queries, always scoped to their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.campaigns.schemas import CampaignCreate, CampaignOut, CampaignStats, LastRun
from bcrao.collection.models import CollectionRun, RawPost
from bcrao.errors import NotFound


class CampaignNotFound(NotFound):
    message = "Campaign not found"


async def create_campaign(session: AsyncSession, *, user_id: uuid.UUID, data: CampaignCreate) -> Campaign:
    campaign = Campaign(user_id=user_id, **data.model_dump())
    session.add(campaign)
    await session.flush()
    return campaign


async def get_owned(session: AsyncSession, *, user_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign:
    campaign = await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.user_id == user_id)
    )
    if campaign is None:
        raise CampaignNotFound()
    return campaign


async def list_campaigns(
    session: AsyncSession, *, user_id: uuid.UUID, status: str | None, offset: int, limit: int
) -> tuple[list[Campaign], int]:
    where = [Campaign.user_id == user_id]
    if status:
        where.append(Campaign.status == status)
    total = await session.scalar(select(func.count()).select_from(Campaign).where(*where)) or 0
    rows = await session.scalars(
        select(Campaign)
        .where(*where)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


async def update_campaign(
    session: AsyncSession, *, campaign: Campaign, changes: dict[str, object]
) -> Campaign:
    for name, value in changes.items():
        setattr(campaign, name, value)
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def delete_campaign(session: AsyncSession, *, campaign: Campaign) -> None:
    # The database cascades to runs, posts, samples and cursors (ON DELETE CASCADE).
    await session.execute(delete(Campaign).where(Campaign.id == campaign.id))


def last_run_of(run: CollectionRun | None) -> LastRun | None:
    if run is None:
        return None
    return LastRun(task_id=run.id, status=run.status, created_at=run.created_at, finished_at=run.finished_at)


async def stats_for(
    session: AsyncSession, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CampaignStats]:
    """Posts, runs and newest run for a page of campaigns, in three set-based queries."""
    if not campaign_ids:
        return {}
    ids = list(campaign_ids)
    posts = dict(
        (
            await session.execute(
                select(RawPost.campaign_id, func.count())
                .where(RawPost.campaign_id.in_(ids))
                .group_by(RawPost.campaign_id)
            )
        )
        .tuples()
        .all()
    )
    runs = dict(
        (
            await session.execute(
                select(CollectionRun.campaign_id, func.count())
                .where(CollectionRun.campaign_id.in_(ids))
                .group_by(CollectionRun.campaign_id)
            )
        )
        .tuples()
        .all()
    )
    newest = (
        select(
            CollectionRun.id,
            func.row_number()
            .over(
                partition_by=CollectionRun.campaign_id,
                order_by=(CollectionRun.created_at.desc(), CollectionRun.id.desc()),
            )
            .label("rn"),
        )
        .where(CollectionRun.campaign_id.in_(ids))
        .subquery()
    )
    last_runs = await session.scalars(
        select(CollectionRun).join(newest, newest.c.id == CollectionRun.id).where(newest.c.rn == 1)
    )
    last = {r.campaign_id: r for r in last_runs}
    return {
        cid: CampaignStats(
            posts_collected=posts.get(cid, 0), runs=runs.get(cid, 0), last_run=last_run_of(last.get(cid))
        )
        for cid in ids
    }


def to_out(campaign: Campaign, stats: CampaignStats | None = None) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        product_context=campaign.product_context,
        product_url=campaign.product_url,
        keywords=list(campaign.keywords),
        target_subreddits=list(campaign.target_subreddits),
        status=campaign.status,  # type: ignore[arg-type]
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        stats=stats or CampaignStats(),
    )
