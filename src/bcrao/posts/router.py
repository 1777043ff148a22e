"""Browse endpoints: list, export, detail and stats of a campaign's collected posts.

``OwnedCampaign`` resolves the campaign for its owner or raises the 404, so every route
below is tenant-scoped before any post is read.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from bcrao.auth.deps import CurrentUser
from bcrao.campaigns.deps import OwnedCampaign
from bcrao.deps import PageDep, RuntimeDep, SessionDep
from bcrao.posts import export, service, stats
from bcrao.posts.schemas import CollectionStats, ExportFormat, PostDetail, PostFiltersDep, PostList

router = APIRouter(prefix="/v1/campaigns/{campaign_id}", tags=["posts"])


@router.get("/posts", response_model=PostList)
async def list_posts(
    campaign: OwnedCampaign, filters: PostFiltersDep, page: PageDep, session: SessionDep
) -> PostList:
    return await service.list_posts(
        session, campaign_id=campaign.id, filters=filters, page=page.page, per_page=page.per_page
    )


# Declared before /posts/{post_id} so "export" is never taken for a post id.
@router.get(
    "/posts/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every matching post, streamed as a file download",
            "content": {"text/csv": {}, "application/x-ndjson": {}},
        }
    },
)
async def export_posts(
    campaign: OwnedCampaign,
    filters: PostFiltersDep,
    runtime: RuntimeDep,
    fmt: Annotated[ExportFormat, Query(alias="format", description="csv (default) or jsonl")] = "csv",
) -> StreamingResponse:
    # Authorized; the stream reads through a session of its own (see bcrao.posts.export).
    body = export.export_posts(runtime.read_sessionmaker, campaign_id=campaign.id, filters=filters, fmt=fmt)
    filename = export.filename_for(campaign.name, fmt)
    return StreamingResponse(
        body,
        media_type=export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/posts/{post_id}", response_model=PostDetail)
async def get_post(campaign: OwnedCampaign, post_id: uuid.UUID, session: SessionDep) -> PostDetail:
    return await service.get_post(session, campaign_id=campaign.id, post_id=post_id)


@router.get("/collection-stats", response_model=CollectionStats)
async def collection_stats(
    campaign: OwnedCampaign, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> CollectionStats:
    return await stats.collection_stats(session, campaign=campaign, user=user, settings=runtime.settings)
