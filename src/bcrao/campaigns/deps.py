"""Resolve a campaign from the path once, for its owner only: tenant isolation lives here."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from bcrao.auth.deps import TokenUserId, owned_by_caller
from bcrao.campaigns.models import Campaign
from bcrao.campaigns.service import CampaignNotFound
from bcrao.deps import SessionDep


async def owned_campaign(campaign_id: uuid.UUID, user_id: TokenUserId, session: SessionDep) -> Campaign:
    return await owned_by_caller(
        session, user_id=user_id, model=Campaign, resource_id=campaign_id, not_found=CampaignNotFound
    )


OwnedCampaign = Annotated[Campaign, Depends(owned_campaign)]
