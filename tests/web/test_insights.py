"""Insights in the dashboard after a demo collection: theme cards, quotes, a theme's posts, the brief."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import Server
from .test_dashboard import sign_up, token_of
from .test_thread import collect

pytestmark = pytest.mark.browser


def ready_themes(api, campaign_id: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        body = api.get(f"/v1/campaigns/{campaign_id}/themes").json()
        if body["status"] == "ready":
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.3)


def test_insights_show_themes_with_quotes_and_lead_to_their_posts(
    page, server: Server, screenshots, tmp_path
) -> None:
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns",
        json={
            "name": "Insight hunt",
            "keywords": ["customers", "pricing"],
            "target_subreddits": ["SaaS", "startups"],
        },
    ).json()
    assert collect(api, campaign["id"])["status"] == "complete"
    themes = ready_themes(api, campaign["id"])["themes"]
    assert themes

    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    page.wait_for_function("() => document.querySelector('.insights-section')?.dataset.status === 'ready'")
    cards = page.locator("[data-testid=theme]")
    assert cards.count() == len(themes)
    first = cards.first
    assert first.locator(".theme-label").inner_text() == themes[0]["label"]
    shown_quotes = first.locator("[data-testid=quote]")
    assert shown_quotes.count() == min(3, len(themes[0]["quotes"]))
    quote = themes[0]["quotes"][0]
    assert quote["text"] in shown_quotes.first.inner_text()
    assert shown_quotes.first.locator("a").get_attribute("href") == quote["reddit_url"]
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "insights-desktop.png"))

    # Order by pain: the cards follow the API's order.
    page.locator("#themes-sort").select_option("-pain_score")
    by_pain = api.get(f"/v1/campaigns/{campaign['id']}/themes", params={"sort": "-pain_score"}).json()[
        "themes"
    ]
    page.wait_for_function(
        "id => document.querySelector('[data-testid=theme]')?.dataset.themeId === id",
        arg=str(by_pain[0]["id"]),
    )

    # A theme's posts, in the usual list.
    theme = by_pain[0]
    page.locator(f'[data-testid=theme][data-theme-id="{theme["id"]}"] [data-testid=theme-posts]').click()
    page.wait_for_url(re.compile(rf"theme={theme['id']}"))
    label = f"{theme['size']} post" if theme["size"] == 1 else f"{theme['size']} posts"
    page.wait_for_function(
        "t => document.querySelector('[data-testid=result-count]').textContent.startsWith(t)", arg=label
    )
    page.wait_for_function("() => !document.querySelector('.post-grid').classList.contains('is-loading')")
    listed = api.get(
        f"/v1/campaigns/{campaign['id']}/themes/{theme['id']}/posts", params={"per_page": 12}
    ).json()["posts"]
    shown = page.locator(".post-card").evaluate_all("cards => cards.map(c => c.dataset.postId)")
    assert shown == [p["id"] for p in listed]

    # The research brief downloads as Markdown.
    with page.expect_download() as download_info:
        page.locator("[data-testid=download-brief]").click()
    target = tmp_path / "brief.md"
    download_info.value.save_as(target)
    text = target.read_text(encoding="utf-8")
    assert download_info.value.suggested_filename == "insight-hunt-brief.md"
    assert text.startswith("# Research brief: Insight hunt") and quote["reddit_url"] in text
    assert not page.js_errors, page.js_errors
