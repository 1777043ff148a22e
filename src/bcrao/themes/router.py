"""Themes and pain points of a campaign, the posts of a theme, and the research brief."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from bcrao.auth.deps import CurrentUser
from bcrao.campaigns.deps import OwnedCampaign
from bcrao.deps import PageDep, RuntimeDep, SessionDep
from bcrao.errors import ErrorResponse
from bcrao.posts import service as posts_service
from bcrao.posts import stats
from bcrao.posts.export import filename_for
from bcrao.posts.schemas import PostFiltersDep, PostList
from bcrao.themes import compute, report, service
from bcrao.themes.schemas import RefreshAccepted, ReportFormat, ThemeList, ThemeSort

router = APIRouter(prefix="/v1/campaigns/{campaign_id}", tags=["themes"])


@router.get("/themes", summary="List themes and pain points", response_model=ThemeList)
async def list_themes(
    campaign: OwnedCampaign,
    session: SessionDep,
    runtime: RuntimeDep,
    sort: Annotated[
        ThemeSort, Query(description="`-size` (default), `-pain_score`, or `-direction` (rising first)")
    ] = "-size",
) -> ThemeList:
    """What the campaign's posts (and their comments) keep talking about, each theme with quotes
    that link to the post or comment they come from. Computed in the background after each run."""
    return await service.get_themes(
        session,
        settings=runtime.settings,
        sessionmaker=runtime.sessionmaker,
        campaign_id=campaign.id,
        sort=sort,
    )


@router.get(
    "/themes/{theme_id}/posts",
    summary="List a theme's posts",
    response_model=PostList,
    responses={404: {"model": ErrorResponse, "description": "RESOURCE_NOT_FOUND: no such theme"}},
)
async def theme_posts(
    campaign: OwnedCampaign, theme_id: int, filters: PostFiltersDep, page: PageDep, session: SessionDep
) -> PostList:
    """The posts of one theme, with the post list's filters, sorts and paging."""
    filters.theme = theme_id
    filters.theme_generation = await service.theme_generation(
        session, campaign_id=campaign.id, theme_id=theme_id
    )
    return await posts_service.list_posts(
        session,
        campaign_id=campaign.id,
        filters=filters.for_campaign(campaign.noise_posts),
        page=page.page,
        per_page=page.per_page,
    )


@router.post("/themes/refresh", summary="Recompute themes", status_code=202, response_model=RefreshAccepted)
async def refresh_themes(
    campaign: OwnedCampaign, session: SessionDep, runtime: RuntimeDep
) -> RefreshAccepted:
    """Recompute the themes now (they are recomputed after every run anyway)."""
    await session.commit()
    await compute.request_themes(runtime.settings, runtime.sessionmaker, campaign.id)
    return RefreshAccepted()


@router.get(
    "/report",
    summary="Download the research brief",
    response_class=Response,
    responses={200: {"description": "The research brief", "content": {"text/markdown": {}, "text/csv": {}}}},
)
async def research_brief(
    campaign: OwnedCampaign,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    fmt: Annotated[
        ReportFormat, Query(alias="format", description="md (default) or csv (the themes)")
    ] = "md",
) -> Response:
    """The campaign, its funnel, its top themes and pain points with their quotes and links."""
    themes = await service.get_themes(
        session, settings=runtime.settings, sessionmaker=runtime.sessionmaker, campaign_id=campaign.id
    )
    if fmt == "csv":
        body, media = report.themes_csv(themes), "text/csv; charset=utf-8"
    else:
        numbers = await stats.collection_stats(
            session, campaign=campaign, user=user, settings=runtime.settings
        )
        body, media = report.markdown(campaign, numbers, themes), "text/markdown; charset=utf-8"
    name = filename_for(campaign.name, fmt, "brief" if fmt == "md" else "themes")
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
