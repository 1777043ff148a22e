"""Loopback receivers for alert deliveries: a webhook endpoint and an SMTP server."""

from __future__ import annotations

import pytest

from tests.fakes.receivers import SmtpServer, WebhookReceiver


@pytest.fixture
def receiver():
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


async def webhook_alert(client, receiver, headers, campaign_id: str, **rules) -> tuple[str, dict]:
    """A webhook alert of the campaign aimed at the loopback receiver, which learns its secret:
    (the campaign's alerts URL, the created alert)."""
    url = f"/v1/campaigns/{campaign_id}/alerts"
    body = {"channel": "webhook", "target": receiver.url, **rules}
    alert = (await client.post(url, json=body, headers=headers)).json()
    receiver.secret = alert["secret"]
    return url, alert
