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


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignOut)
async def create_campaign(body: CampaignCreate, user: CurrentUser, session: SessionDep) -> CampaignOut:
    campaign = await service.create_campaign(session, user_id=user.id, data=body)
    return service.to_out(campaign)


@router.get("", response_model=CampaignList)
async def list_campaigns(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status_filter: Annotated[CampaignStatus | None, Query(alias="status")] = None,
) -> CampaignList:
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


@router.get("/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign: OwnedCampaign, session: SessionDep) -> CampaignOut:
    stats = await service.stats_for(session, [campaign.id])
    return service.to_out(campaign, stats[campaign.id])


@router.patch("/{campaign_id}", response_model=CampaignOut)
async def update_campaign(body: CampaignUpdate, campaign: OwnedCampaign, session: SessionDep) -> CampaignOut:
    campaign = await service.update_campaign(session, campaign=campaign, changes=body.changes())
    stats = await service.stats_for(session, [campaign.id])
    return service.to_out(campaign, stats[campaign.id])


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_campaign(campaign: OwnedCampaign, session: SessionDep, runtime: RuntimeDep) -> Response:
    # Its active runs end first, and their watchers hear so once the deletion is committed.
    ended = await lifecycle.end_for_deletion(session, campaign.id)
    await service.delete_campaign(session, campaign=campaign)
    await session.commit()
    await lifecycle.publish_ends(runtime.bus, ended)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
