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
from bcrao.errors import ErrorResponse
from bcrao.posts import corrections, export, service, stats
from bcrao.posts.schemas import (
    CollectionStats,
    CorrectionList,
    ExportFormat,
    LabelRequest,
    PostDetail,
    PostFiltersDep,
    PostList,
)

router = APIRouter(prefix="/v1/campaigns/{campaign_id}", tags=["posts"])


@router.get("/posts", response_model=PostList)
async def list_posts(
    campaign: OwnedCampaign, filters: PostFiltersDep, page: PageDep, session: SessionDep
) -> PostList:
    return await service.list_posts(
        session,
        campaign_id=campaign.id,
        filters=filters.for_campaign(campaign.noise_posts),
        page=page.page,
        per_page=page.per_page,
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
    body = export.export_posts(
        runtime.read_sessionmaker,
        campaign_id=campaign.id,
        filters=filters.for_campaign(campaign.noise_posts),
        fmt=fmt,
    )
    return export.download(body, fmt, export.filename_for(campaign.name, fmt))


@router.get("/posts/{post_id}", response_model=PostDetail)
async def get_post(campaign: OwnedCampaign, post_id: uuid.UUID, session: SessionDep) -> PostDetail:
    return await service.get_post(session, campaign_id=campaign.id, post_id=post_id)


@router.put(
    "/posts/{post_id}/label",
    response_model=PostDetail,
    responses={404: {"model": ErrorResponse, "description": "RESOURCE_NOT_FOUND"}},
)
async def set_label(
    campaign: OwnedCampaign, post_id: uuid.UUID, body: LabelRequest, user: CurrentUser, session: SessionDep
) -> PostDetail:
    """Correct the post's archetype; it shows `archetype_source: "user"` from now on."""
    return await corrections.set_label(
        session, user_id=user.id, campaign_id=campaign.id, post_id=post_id, archetype=body.archetype
    )


@router.delete("/posts/{post_id}/label", response_model=PostDetail)
async def clear_label(campaign: OwnedCampaign, post_id: uuid.UUID, session: SessionDep) -> PostDetail:
    """Undo your label: the post gets the machine's label back."""
    return await corrections.clear_label(session, campaign_id=campaign.id, post_id=post_id)


@router.put("/posts/{post_id}/noise", response_model=PostDetail)
async def mark_noise(
    campaign: OwnedCampaign, post_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> PostDetail:
    """This kept post is noise: hidden from lists, exports and stats (`include_noise=true` shows it)."""
    return await corrections.mark_noise(session, user_id=user.id, campaign_id=campaign.id, post_id=post_id)


@router.get("/collection-stats", response_model=CollectionStats)
async def collection_stats(
    campaign: OwnedCampaign, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> CollectionStats:
    return await stats.collection_stats(session, campaign=campaign, user=user, settings=runtime.settings)


corrections_router = APIRouter(prefix="/v1/corrections", tags=["posts"])


@corrections_router.get("", response_model=CorrectionList)
async def list_corrections(user: CurrentUser, session: SessionDep, page: PageDep) -> CorrectionList:
    """Your corrections, newest first: the labels the product can learn from."""
    return await corrections.list_corrections(
        session, user_id=user.id, offset=page.offset, limit=page.per_page
    )
