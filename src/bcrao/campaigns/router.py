from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from bcrao.auth.deps import CurrentUser
from bcrao.campaigns import service
from bcrao.campaigns.deps import OwnedCampaign
from bcrao.campaigns.schemas import CampaignCreate, CampaignList, CampaignOut, CampaignStatus, CampaignUpdate
from bcrao.collection import lifecycle
from bcrao.deps import PageDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


@router.post("", summary="Create a campaign", status_code=status.HTTP_201_CREATED, response_model=CampaignOut)
async def create_campaign(body: CampaignCreate, user: CurrentUser, session: SessionDep) -> CampaignOut:
    """A campaign is one research question: your product's context, 1-15 keywords and 1-10
    subreddits to collect from. Keywords and subreddits are trimmed and de-duplicated
    case-insensitively (a leading `r/` is dropped) before they are counted. 422
    `VALIDATION_ERROR` naming the field for an invalid name, URL, keyword or subreddit."""
    campaign = await service.create_campaign(session, user_id=user.id, data=body)
    return service.to_out(campaign)


@router.get("", summary="List campaigns", response_model=CampaignList)
async def list_campaigns(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status_filter: Annotated[
        CampaignStatus | None, Query(alias="status", description="Only campaigns with this status")
    ] = None,
) -> CampaignList:
    """Your campaigns, newest first, each with its counts (posts collected, runs, last run).
    Paged with `page` and `per_page`."""
    campaigns, total = await service.list_campaigns(
        session, user_id=user.id, status=status_filter, offset=page.offset, limit=page.per_page
    )
    stats = await service.stats_for(session, [c.id for c in campaigns])
    return CampaignList(
        campaigns=[service.to_out(c, stats[c.id]) for c in campaigns],
        total=total,
        page=page.page,
        per_page=page.per_page,
    )


@router.get("/{campaign_id}", summary="Get a campaign", response_model=CampaignOut)
async def get_campaign(campaign: OwnedCampaign, session: SessionDep) -> CampaignOut:
    """One campaign with its counts and newest run. 404 `RESOURCE_NOT_FOUND` when it does not
    exist or is not yours."""
    stats = await service.stats_for(session, [campaign.id])
    return service.to_out(campaign, stats[campaign.id])


@router.patch("/{campaign_id}", summary="Update a campaign", response_model=CampaignOut)
async def update_campaign(body: CampaignUpdate, campaign: OwnedCampaign, session: SessionDep) -> CampaignOut:
    """Change any subset of the writable fields (same rules as on creation), including
    `status` (`paused` still allows manual runs, `archived` allows none) and the collection
    `schedule`. Omitted fields keep their value; 422 for a field sent as null. Posts already
    collected are kept."""
    campaign = await service.update_campaign(session, campaign=campaign, changes=body.changes())
    stats = await service.stats_for(session, [campaign.id])
    return service.to_out(campaign, stats[campaign.id])


@router.delete(
    "/{campaign_id}",
    summary="Delete a campaign",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def delete_campaign(campaign: OwnedCampaign, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Delete the campaign with its runs, posts, comments, themes and alerts, for good. A
    run in progress is cancelled first (its watchers get the `cancelled` event). The runs
    still count against the weekly allowance."""
    # Its active runs end first, and their watchers hear so once the deletion is committed.
    ended = await lifecycle.end_for_deletion(session, campaign.id)
    await service.delete_campaign(session, campaign=campaign)
    await session.commit()
    await lifecycle.publish_ends(runtime.bus, ended)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
