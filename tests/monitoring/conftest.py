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
