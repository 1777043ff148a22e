"""What a run says of each subreddit, in words in the dashboard: a source that refuses every
request fails the run with Reddit's refusal spelled out; an empty subreddit is a note."""

from __future__ import annotations

import pytest

from tests.fakes.reddit import FakeReddit

from .conftest import Server, _Process
from .test_dashboard import sign_up, token_of, wait_final

pytestmark = pytest.mark.browser

CAMPAIGN = {"name": "Blocked research", "keywords": ["churn"], "target_subreddits": ["SaaS", "startups"]}


@pytest.fixture
def blocked_server(tmp_path, fake_reddit: FakeReddit):
    """A server whose Reddit issues tokens, then answers every API request with a bare 403."""
    for name in ("SaaS", "startups"):
        fake_reddit.add_subreddit(name, 5)
    fake_reddit.block_app()
    proc = _Process(tmp_path, fake_reddit.app_settings())
    try:
        yield proc.wait()
    finally:
        proc.stop()


def collect_in_dashboard(page, server: Server, campaign: dict) -> None:
    sign_up(page, server)
    with server.client(token_of(page)) as api:
        created = api.post("/v1/campaigns", json=campaign)
        assert created.status_code == 201, created.text
    page.goto(f"{server.url}/#/campaigns/{created.json()['id']}")
    collect = page.locator("[data-testid=collect]")
    collect.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=collect]')?.textContent.includes('left this week')"
    )
    collect.click()
    wait_final(page)


def test_a_refused_source_fails_the_run_and_says_why_in_words(page, blocked_server: Server) -> None:
    collect_in_dashboard(page, blocked_server, CAMPAIGN)

    panel = page.locator("[data-testid=progress]")
    assert panel.locator(".progress-title").inner_text() == "Collection failed"
    issues = panel.locator(".issues").inner_text()
    for name in ("SaaS", "startups"):
        assert (
            f"r/{name}: Reddit refused access: your app is not approved for this API "
            "or its credentials were rejected" in issues
        )
    note = page.locator("[data-testid=runs] [data-testid=source-status]")
    note.wait_for()
    assert "2 errors" in note.inner_text()
    assert "r/SaaS: Reddit refused access" in note.get_attribute("title")
    assert page.js_errors == []


def test_an_empty_subreddit_is_a_note_in_words_and_the_run_completes(page, server: Server) -> None:
    collect_in_dashboard(
        page, server, {**CAMPAIGN, "name": "Quiet research", "target_subreddits": ["SaaS", "quietplace"]}
    )

    panel = page.locator("[data-testid=progress]")
    assert panel.locator(".progress-title").inner_text() == "Collection complete"
    empty = panel.locator('.issues [data-source-status="empty"]')
    assert "r/quietplace: no posts found" in empty.inner_text()
    note = page.locator("[data-testid=runs] [data-testid=source-status]")
    note.wait_for()
    assert "r/quietplace: no posts found" in note.get_attribute("title")
    assert page.js_errors == []
