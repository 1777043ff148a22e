"""A post's thread, and every comment of a post-list query as a download."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from bcrao.campaigns.deps import OwnedCampaign
from bcrao.comments import export, service
from bcrao.comments.schemas import CommentList, CommentOrder
from bcrao.deps import RuntimeDep, SessionDep
from bcrao.errors import ErrorResponse
from bcrao.posts.export import download, filename_for
from bcrao.posts.schemas import ExportFormat, PostFiltersDep

router = APIRouter(prefix="/v1/campaigns/{campaign_id}", tags=["comments"])


@router.get(
    "/posts/{post_id}/comments",
    summary="List a post's comments",
    response_model=CommentList,
    responses={404: {"model": ErrorResponse, "description": "RESOURCE_NOT_FOUND: no such post here"}},
)
async def list_comments(
    campaign: OwnedCampaign,
    post_id: uuid.UUID,
    session: SessionDep,
    order: Annotated[
        CommentOrder,
        Query(
            description=(
                "`tree`: as Reddit shows the thread (each comment followed by its replies, best"
                " first); `top`: most upvoted first; `new`: newest first"
            )
        ),
    ] = "tree",
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=500, description="Comments per page (1-500)")] = 100,
) -> CommentList:
    """The comments collected under a post; deleted ones keep their place with no author or text.

    Ordered as a thread (`tree`), by upvotes or newest first; paged (up to 500 a page).
    404 `RESOURCE_NOT_FOUND` when the post is not in this campaign."""
    return await service.list_comments(
        session, campaign_id=campaign.id, post_id=post_id, order=order, page=page, per_page=per_page
    )


@router.get(
    "/comments/export",
    summary="Export comments (CSV or JSONL)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every comment of the matching posts, thread by thread, streamed as a download",
            "content": {"text/csv": {}, "application/x-ndjson": {}},
        }
    },
)
async def export_comments(
    campaign: OwnedCampaign,
    filters: PostFiltersDep,
    runtime: RuntimeDep,
    fmt: Annotated[ExportFormat, Query(alias="format", description="csv (default) or jsonl")] = "csv",
) -> StreamingResponse:
    """Every comment of the posts a post-list query matches, streamed as a download.

    The post list's filters choose the posts; each comment carries its post's `reddit_post_id`.
    422 for a `format` other than csv or jsonl."""
    body = export.export_comments(
        runtime.read_sessionmaker,
        campaign_id=campaign.id,
        filters=filters.for_campaign(campaign.noise_posts),
        fmt=fmt,
    )
    return download(body, fmt, filename_for(campaign.name, fmt, "comments"))
