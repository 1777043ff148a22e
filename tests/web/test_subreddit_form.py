"""The campaign form checks subreddit names as they are typed and asks the source about
them before any run: headless Chromium against real ``bcrao serve`` processes."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakes.reddit import FakeReddit

from .conftest import Server, _Process
from .test_dashboard import add_chips, sign_up

pytestmark = pytest.mark.browser

SUBS = '[data-field="target_subreddits"]'


def chip(page, value: str):
    return page.locator(f'{SUBS} .chip[data-value="{value}"]')


def note(page):
    return page.locator(f"{SUBS} .field-note")


def checks(page):
    return page.locator('[data-testid="target_subreddits-checks"]')


def open_new_campaign_form(page, server: Server) -> list[list[str]]:
    """Signed up and on the form; returns the names of every check request, as sent."""
    asked: list[list[str]] = []
    page.on(
        "request",
        lambda r: (
            asked.append(json.loads(r.post_data)["names"]) if r.url.endswith("/v1/subreddits/check") else None
        ),
    )
    sign_up(page, server)
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("Campaign name").fill("Founder research")
    add_chips(page, "keywords", ["churn"])
    return asked


def test_names_are_validated_as_typed_and_checked_against_the_sample_corpus(page, server: Server) -> None:
    asked = open_new_campaign_form(page, server)
    box = page.locator(f"{SUBS} input.chips-input")

    # --- as typed: a plain-language message under the field, before Enter ---
    box.fill("no spaces")
    assert note(page).inner_text() == (
        "r/no spaces has a space: Subreddit names are 2-21 letters, digits or underscores, like r/SaaS."
    )
    box.press("Enter")  # kept as an invalid chip, its message stays under the field
    assert "chip-invalid" in chip(page, "no spaces").get_attribute("class")
    assert checks(page).locator(".check-invalid").inner_text().startswith("r/no spaces has a space")
    chip(page, "no spaces").get_by_role("button").click()
    assert not checks(page).is_visible()
    box.fill("r/x")
    assert "r/x is too short" in note(page).inner_text()
    box.fill("my-startup")
    assert "r/my-startup has a character names cannot have" in note(page).inner_text()
    box.fill("r/SaaS")
    assert not note(page).is_visible()
    box.press("Enter")

    # --- the sample corpus is offered while typing ---
    options = page.locator(f"{SUBS} datalist option")
    options.first.wait_for(state="attached")  # the list arrives from the API, maybe after the typing
    assert options.count() == 15
    assert {"SaaS", "Accounting", "startups"} <= set(options.evaluate_all("els => els.map(e => e.value)"))
    assert box.get_attribute("list") == page.locator(f"{SUBS} datalist").get_attribute("id")
    assert (
        "offline sample corpus: r/Accounting, r/Entrepreneur"
        in page.locator(f"{SUBS} .field-hint").inner_text()
    )

    # --- checked through the source: not found, with a suggestion that can be taken ---
    add_chips(page, "target_subreddits", ["Entrepeneur"])
    line = checks(page).locator('.check-line[data-name="Entrepeneur"]')
    line.wait_for()
    assert "r/Entrepeneur is not in the offline sample corpus" in line.inner_text()
    assert "check-not_found" in line.get_attribute("class")
    assert chip(page, "Entrepeneur").get_attribute("data-status") == "not_found"
    assert "chip-warn" in chip(page, "Entrepeneur").get_attribute("class")
    page.wait_for_function(
        "() => document.querySelector('[data-field=target_subreddits] .chip[data-value=SaaS]')"
        "?.dataset.status === 'ok'"
    )
    line.get_by_role("button", name="Use r/Entrepreneur").click()
    assert chip(page, "Entrepeneur").count() == 0
    page.wait_for_function(
        "() => document.querySelector('[data-field=target_subreddits] .chip[data-value=Entrepreneur]')"
        "?.dataset.status === 'ok'"
    )
    assert not checks(page).is_visible()

    # --- ten at most: the eleventh is refused with a message, never dropped silently ---
    add_chips(
        page,
        "target_subreddits",
        [
            "startups",
            "smallbusiness",
            "marketing",
            "sales",
            "SideProject",
            "indiehackers",
            "productivity",
            "webdev",
        ],
    )
    assert page.locator(f"{SUBS} .chip").count() == 10
    box.fill("Accounting")
    assert note(page).inner_text() == "At most 10 subreddits: remove one to add r/Accounting."
    box.press("Enter")
    assert page.locator(f"{SUBS} .chip").count() == 10
    assert note(page).inner_text() == "At most 10 subreddits: remove one to add r/Accounting."
    chip(page, "webdev").get_by_role("button").click()
    assert not note(page).is_visible()

    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-field=target_subreddits] .chip')]"
        ".every(c => c.dataset.status === 'ok')"
    )
    names = [n.lower() for batch in asked for n in batch]
    assert len(names) == len(set(names))  # debounced and remembered: each name asked once
    assert all(len(batch) <= 10 for batch in asked)

    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"#/campaigns/[0-9a-f-]{36}$"))
    assert page.js_errors == []


@pytest.fixture
def reddit_server(tmp_path, fake_reddit: FakeReddit):
    """A server whose source is a loopback Reddit (the form lists no sample corpus then)."""
    fake_reddit.add_subreddit("SaaS", 5)
    for name, state in (("Secret", "private"), ("Gone", "banned")):
        fake_reddit.add_subreddit(name, 5)
        fake_reddit.set_state(name, state)
    proc = _Process(tmp_path, fake_reddit.app_settings())
    try:
        yield proc.wait()
    finally:
        proc.stop()


def test_private_banned_and_missing_subreddits_are_shown_before_a_run(page, reddit_server: Server) -> None:
    open_new_campaign_form(page, reddit_server)

    add_chips(page, "target_subreddits", ["SaaS", "Secret", "Gone", "NoSuchPlace"])

    for name, status, words in (
        ("Secret", "private", "r/Secret is private"),
        ("Gone", "banned", "r/Gone has been banned by Reddit"),
        ("NoSuchPlace", "not_found", "r/NoSuchPlace does not exist"),
    ):
        line = checks(page).locator(f'.check-line[data-name="{name}"]')
        line.wait_for()
        assert words in line.inner_text() and f"check-{status}" in line.get_attribute("class")
        assert chip(page, name).get_attribute("data-status") == status
    assert chip(page, "SaaS").get_attribute("data-status") == "ok"
    assert checks(page).locator(".check-line").count() == 3
    assert page.locator(f"{SUBS} datalist option").count() == 0  # not the sample source
    assert page.locator(f"{SUBS} input.chips-input").get_attribute("list") is None
    assert page.js_errors == []
