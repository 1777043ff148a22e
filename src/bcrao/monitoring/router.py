"""Alert rules of a campaign, their delivery log and test sends; unsubscribe links."""

from __future__ import annotations

import html
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse

from bcrao.campaigns.deps import OwnedCampaign
from bcrao.deps import PageDep, RuntimeDep, SessionDep
from bcrao.errors import ErrorResponse, OpenAPIResponses
from bcrao.monitoring import alerts
from bcrao.monitoring.schemas import (
    AlertCreate,
    AlertCreated,
    AlertList,
    AlertOut,
    AlertUpdate,
    DeliveryList,
    TestAccepted,
)

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/alerts", tags=["alerts"])
NOT_FOUND: OpenAPIResponses = {
    404: {"model": ErrorResponse, "description": "RESOURCE_NOT_FOUND: no such alert here"}
}


@router.post("", summary="Create an alert", status_code=status.HTTP_201_CREATED, response_model=AlertCreated)
async def create_alert(campaign: OwnedCampaign, body: AlertCreate, session: SessionDep) -> AlertCreated:
    """New posts that pass the rules are sent to the webhook or email address: at once after
    each run (`instant`) or in a daily or weekly digest. A webhook's signing secret is in this
    answer only."""
    alert, secret = await alerts.create_alert(session, campaign=campaign, body=body)
    return AlertCreated(**alerts.alert_out(alert).model_dump(), secret=secret)


@router.get("", summary="List a campaign's alerts", response_model=AlertList)
async def list_alerts(campaign: OwnedCampaign, session: SessionDep) -> AlertList:
    """The campaign's alert rules, oldest first: channel, target, digest and the filters a
    new post must pass (archetypes, minimum success score and relevance, keywords,
    subreddits). Webhook secrets are never shown again."""
    return await alerts.list_alerts(session, campaign.id)


@router.patch("/{alert_id}", summary="Update an alert", response_model=AlertOut, responses=NOT_FOUND)
async def update_alert(
    campaign: OwnedCampaign, alert_id: uuid.UUID, body: AlertUpdate, session: SessionDep
) -> AlertOut:
    """Change any subset of the alert's rules, its digest, or pause it (`active: false`).
    404 `RESOURCE_NOT_FOUND` when the alert is not in this campaign."""
    alert = await alerts.get_alert(session, campaign_id=campaign.id, alert_id=alert_id)
    return alerts.alert_out(await alerts.update_alert(session, alert=alert, changes=body.changes()))


@router.delete(
    "/{alert_id}",
    summary="Delete an alert",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=NOT_FOUND,
)
async def delete_alert(campaign: OwnedCampaign, alert_id: uuid.UUID, session: SessionDep) -> Response:
    """Stop the alert for good, with its delivery log. 404 `RESOURCE_NOT_FOUND` when the
    alert is not in this campaign."""
    alert = await alerts.get_alert(session, campaign_id=campaign.id, alert_id=alert_id)
    await session.delete(alert)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{alert_id}/test",
    summary="Send a test alert",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestAccepted,
    responses=NOT_FOUND,
)
async def test_alert(
    campaign: OwnedCampaign, alert_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep
) -> TestAccepted:
    """Send the campaign's three best posts to the target now, marked as a test; see the
    outcome in the delivery log."""
    alert = await alerts.get_alert(session, campaign_id=campaign.id, alert_id=alert_id)
    await session.commit()
    delivery_id = await alerts.send_test(runtime.settings, runtime.sessionmaker, alert=alert)
    return TestAccepted(delivery_id=delivery_id)


@router.get(
    "/{alert_id}/deliveries",
    summary="List an alert's deliveries",
    response_model=DeliveryList,
    responses=NOT_FOUND,
)
async def list_deliveries(
    campaign: OwnedCampaign, alert_id: uuid.UUID, session: SessionDep, page: PageDep
) -> DeliveryList:
    """Every delivery of the alert, newest first: what was sent, when, and the receiver's answer."""
    alert = await alerts.get_alert(session, campaign_id=campaign.id, alert_id=alert_id)
    return await alerts.list_deliveries(
        session, alert_id=alert.id, offset=page.offset, limit=page.per_page, page=page.page
    )


unsubscribe_router = APIRouter(tags=["alerts"])


# The page is HTML; errors keep the API's JSON error shape.
_JSON_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


@unsubscribe_router.get(
    "/v1/unsubscribe",
    summary="Unsubscribe from an alert email",
    response_class=HTMLResponse,
    responses={
        200: {"description": "A page saying what happened"},
        **{
            code: {"description": text, "content": _JSON_ERROR}
            for code, text in (
                (401, "Not authenticated"),
                (404, "Not found"),
                (413, "Request body too large"),
                (422, "Validation error: no token"),
                (500, "Internal error"),
                (503, "A backing service is unavailable"),
            )
        },
    },
)
async def unsubscribe(
    session: SessionDep,
    token: Annotated[str, Query(min_length=10, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
) -> HTMLResponse:
    """The link at the bottom of every alert email: stops that alert, no login needed."""
    alert = await alerts.unsubscribe(session, token)
    if alert is None:  # a page, not an error: a wrong link learns nothing either way
        return HTMLResponse(
            _page("This link is not valid", "It may have been mistyped, or the alert deleted.")
        )
    return HTMLResponse(
        _page(
            "You are unsubscribed",
            f"No more emails for this alert will be sent to {html.escape(alert.target)}."
            " You can turn it on again in the campaign's alerts.",
        )
    )


def _page(title: str, text: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width'>"
        f"<title>{html.escape(title)} · BC-RAO Collector</title></head>"
        "<body style='font-family:sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem'>"
        f"<h1>{html.escape(title)}</h1><p>{text}</p></body></html>"
    )
