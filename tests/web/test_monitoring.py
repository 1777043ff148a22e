"""Monitoring in the dashboard: set a schedule and an alert, see the delivery log after a run."""

from __future__ import annotations

import time

import pytest

from tests.fakes.receivers import WebhookReceiver

from .conftest import Server
from .test_dashboard import sign_up, token_of, wait_final

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver():
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


def test_schedule_and_alert_then_the_delivery_log(page, server: Server, receiver, screenshots) -> None:
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns",
        json={"name": "Watch SaaS", "keywords": ["pricing"], "target_subreddits": ["SaaS"]},
    ).json()
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")

    # --- a schedule ---
    page.locator("#schedule-every").select_option("6h")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=schedule-info]').textContent.includes('Next collection')"
    )
    schedule = api.get(f"/v1/campaigns/{campaign['id']}").json()["schedule"]
    assert schedule["every"] == "6h" and schedule["next_run_at"]

    # --- an alert: a bad address is explained, a good one shows its secret once ---
    form = page.locator("[data-testid=alert-form]")
    form.locator("#alert-target").fill("not a url")
    form.get_by_role("button", name="Add alert").click()
    error = form.locator(".field-error")
    error.wait_for()
    assert "http" in error.inner_text()
    form.locator("#alert-target").fill(receiver.url)
    form.get_by_role("button", name="Add alert").click()
    secret = page.locator("[data-testid=alert-secret] code")
    secret.wait_for()
    receiver.secret = secret.inner_text()
    page.locator("[data-testid=alert]").first.wait_for()
    [alert] = api.get(f"/v1/campaigns/{campaign['id']}/alerts").json()["alerts"]
    assert alert["target"] == receiver.url and alert["digest"] == "instant"

    # --- a collection: the alert delivers its new posts ---
    page.locator("[data-testid=collect]").click()
    wait_final(page)
    deadline = time.monotonic() + 30
    while True:
        log = api.get(f"/v1/campaigns/{campaign['id']}/alerts/{alert['id']}/deliveries").json()
        if log["deliveries"] and log["deliveries"][0]["status"] != "retrying":
            break
        assert time.monotonic() < deadline, log
        time.sleep(0.2)
    entry = log["deliveries"][0]
    assert entry["status"] == "sent", entry
    assert list(receiver.delivered) == [entry["id"]]
    assert all(h.signature_ok for h in receiver.hits)

    page.locator("[data-testid=alert-log]").click()
    row = page.locator("[data-testid=delivery-log] tbody tr").first
    row.wait_for()
    assert row.get_attribute("data-status") == "sent"
    assert "HTTP 200" in row.inner_text()
    compliance = page.locator("[data-testid=compliance]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=compliance]').textContent.includes('purged')"
    )
    assert "0 deleted or removed items purged" in compliance.inner_text()
    page.locator(".monitor-section").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "monitoring-desktop.png"))
    assert not page.js_errors, page.js_errors


def test_posts_collected_since_the_last_visit_are_marked_new(page, server: Server) -> None:
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns", json={"name": "Markers", "keywords": ["pricing"], "target_subreddits": ["SaaS"]}
    ).json()
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")  # the first visit: nothing is new
    page.locator("[data-testid=collect]").wait_for()
    page.goto(f"{server.url}/#/campaigns")
    page.get_by_text("Markers").first.wait_for()
    task = api.post(f"/v1/campaigns/{campaign['id']}/collect", json={"max_posts_per_subreddit": 30}).json()
    deadline = time.monotonic() + 60
    while api.get(f"/v1/collection/{task['task_id']}").json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    page.locator(".post-card").first.wait_for()
    cards = page.locator(".post-card")
    assert cards.count() > 0 and page.locator("[data-testid=new-since]").count() == cards.count()
    page.reload()  # this visit has now seen them
    page.locator(".post-card").first.wait_for()
    assert page.locator("[data-testid=new-since]").count() == 0
    assert not page.js_errors, page.js_errors
