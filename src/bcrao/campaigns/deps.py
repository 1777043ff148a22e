"""Resolve a campaign from the path once, for its owner only: tenant isolation lives here."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from bcrao.auth.deps import CurrentUser
from bcrao.campaigns import service
from bcrao.campaigns.models import Campaign
from bcrao.deps import SessionDep


async def owned_campaign(campaign_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Campaign:
    return await service.get_owned(session, user_id=user.id, campaign_id=campaign_id)


OwnedCampaign = Annotated[Campaign, Depends(owned_campaign)]
