"""A campaign's compliance summary, and a deletion check on demand."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from bcrao.background import BackgroundTasks
from bcrao.campaigns.deps import OwnedCampaign
from bcrao.compliance import sync
from bcrao.deps import RuntimeDep, SessionDep
from bcrao.sources.factory import make_source

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/compliance", tags=["compliance"])
CHECKS = BackgroundTasks()


class ComplianceOut(BaseModel):
    checked: int = Field(
        description="Post checks on Reddit so far (a post is checked several times in its first 30 days)"
    )
    purged: int = Field(
        description="Posts and comments removed because they were deleted on Reddit or past retention"
    )
    last_checked_at: datetime | None
    next_check_at: datetime | None


class CheckAccepted(BaseModel):
    status: str = "checking"


@router.get("", summary="Deletion-sync summary", response_model=ComplianceOut)
async def compliance(campaign: OwnedCampaign, session: SessionDep) -> ComplianceOut:
    """Content deleted on Reddit is deleted here too (checked within 48 h of collection, then
    less often for 30 days); what was purged is never collected again."""
    return ComplianceOut(**await sync.summary(session, campaign.id))


@router.post(
    "/check",
    summary="Check for deletions now",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CheckAccepted,
)
async def check_now(campaign: OwnedCampaign, runtime: RuntimeDep) -> CheckAccepted:
    """Check every watched post of the campaign (and its comments) on Reddit now."""

    async def run() -> None:
        source = make_source(runtime.settings)
        try:
            await sync.check_everything(runtime.sessionmaker, source, campaign.id)
        finally:
            await source.aclose()

    CHECKS.start(run(), name=f"compliance-{campaign.id}")
    return CheckAccepted()


async def wait_for_checks() -> None:
    await CHECKS.wait()
