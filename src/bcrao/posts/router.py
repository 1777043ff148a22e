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


@router.get("/posts", summary="List collected posts", response_model=PostList)
async def list_posts(
    campaign: OwnedCampaign, filters: PostFiltersDep, page: PageDep, session: SessionDep
) -> PostList:
    """The campaign's stored posts, best `success_score` first unless `sort` says otherwise,
    filtered by archetype, subreddit, score range, label confidence and source, keyword
    mentions or a word search (`q`, in posts and/or comments). `raw_text` is cut to a
    300-character snippet here; the detail has it whole. Posts you marked as noise are hidden
    unless `include_noise=true`. 422 for an invalid subreddit name, `min_score` above
    `max_score` or more than 10 search words."""
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
    summary="Export posts (CSV or JSONL)",
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
    """Every post matching the list's filters, streamed as a file download in the list's
    order: CSV (UTF-8 with a BOM, one header row of the post fields) or JSON Lines (one post
    object per line, as in the detail, text whole). 422 for another `format`."""
    # Authorized; the stream reads through a session of its own (see bcrao.posts.export).
    body = export.export_posts(
        runtime.read_sessionmaker,
        campaign_id=campaign.id,
        filters=filters.for_campaign(campaign.noise_posts),
        fmt=fmt,
    )
    return export.download(body, fmt, export.filename_for(campaign.name, fmt))


@router.get("/posts/{post_id}", summary="Get a post", response_model=PostDetail)
async def get_post(campaign: OwnedCampaign, post_id: uuid.UUID, session: SessionDep) -> PostDetail:
    """One post with its whole text and `score_breakdown` (why its success score is what it
    is). 404 when the post is not in this campaign (or the campaign is not yours)."""
    return await service.get_post(session, campaign_id=campaign.id, post_id=post_id)


@router.put(
    "/posts/{post_id}/label",
    summary="Correct a post's archetype",
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


@router.delete("/posts/{post_id}/label", summary="Undo an archetype correction", response_model=PostDetail)
async def clear_label(campaign: OwnedCampaign, post_id: uuid.UUID, session: SessionDep) -> PostDetail:
    """Undo your label: the post gets the machine's label back."""
    return await corrections.clear_label(session, campaign_id=campaign.id, post_id=post_id)


@router.put("/posts/{post_id}/noise", summary="Mark a post as noise", response_model=PostDetail)
async def mark_noise(
    campaign: OwnedCampaign, post_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> PostDetail:
    """This kept post is noise: hidden from lists, exports and stats (`include_noise=true` shows it)."""
    return await corrections.mark_noise(session, user_id=user.id, campaign_id=campaign.id, post_id=post_id)


@router.get("/collection-stats", summary="Campaign statistics", response_model=CollectionStats)
async def collection_stats(
    campaign: OwnedCampaign, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> CollectionStats:
    """What the campaign has collected: stored posts by archetype and by target subreddit
    (0 where nothing was stored), the average success score and a 10-bucket histogram, the
    funnel (scraped, filtered, classified, stored) and filter reasons summed over all runs,
    comments, purged content, runs so far and how many the plan still allows this week."""
    return await stats.collection_stats(session, campaign=campaign, user=user, settings=runtime.settings)


corrections_router = APIRouter(prefix="/v1/corrections", tags=["posts"])


@corrections_router.get("", summary="List your corrections", response_model=CorrectionList)
async def list_corrections(user: CurrentUser, session: SessionDep, page: PageDep) -> CorrectionList:
    """Your corrections, newest first: the labels the product can learn from."""
    return await corrections.list_corrections(
        session, user_id=user.id, offset=page.offset, limit=page.per_page
    )
