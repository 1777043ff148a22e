"""The dashboard driven end to end in headless Chromium against a real server."""

from __future__ import annotations

import csv
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from .conftest import DESKTOP, PHONE, ROOT, Server

pytestmark = pytest.mark.browser

STATIC = ROOT / "src" / "bcrao" / "web" / "static"
COUNTERS = ("scraped", "filtered", "classified", "stored", "duplicates")
PASSWORD = "correct-horse-battery"
# A phrase of each archetype's definition (shared/corpus/LABELLING.md) the dashboard shows.
DEFINES = {"Journey": "personal story", "ProblemSolution": "concrete problem", "Feedback": "opinions"}


def _int(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def shown_counts(page) -> dict[str, int]:
    return {
        k: _int(page.locator(f'[data-testid=progress] [data-counter="{k}"]').inner_text()) for k in COUNTERS
    }


def token_of(page) -> str:
    return page.evaluate("localStorage.getItem('bcrao.token')")


def sign_up(page, server: Server) -> str:
    email = f"founder-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(server.url + "/#/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"#/campaigns$"))
    return email


def add_chips(page, field: str, values: list[str]) -> None:
    box = page.locator(f'[data-field="{field}"] input.chips-input')
    for value in values:
        box.fill(value)
        box.press("Enter")


def wait_final(page, timeout: float = 45_000) -> str:
    panel = page.locator('[data-testid=progress][data-final="true"]')
    panel.wait_for(timeout=timeout)
    return panel.get_attribute("data-task-id")


def test_founder_flow(page, server: Server, screenshots: Path, tmp_path: Path) -> None:
    sign_up(page, server)
    page.get_by_text("No campaigns yet").wait_for()

    # --- create a campaign: an invalid subreddit is reported inline on its chip ---
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("Campaign name").fill("Churn research")
    add_chips(page, "keywords", ["churn", "pricing", "onboarding"])
    add_chips(page, "target_subreddits", ["r/SaaS", "startups", "no spaces!", "r/Entrepreneur"])
    page.get_by_role("button", name="Create campaign").click()
    bad_chip = page.locator('[data-field="target_subreddits"] .chip[data-index="2"]')
    error = page.locator('[data-field="target_subreddits"] .field-error')
    error.wait_for()  # the API's 422 (the chip was marked invalid as it was typed, before it)
    assert "chip-invalid" in bad_chip.get_attribute("class")
    assert error.is_visible()
    assert "no spaces!" in error.inner_text()
    assert page.locator('[data-field="target_subreddits"] .chip-invalid').count() == 1
    # The API's message replaces the one shown as it was typed: said once, not twice.
    assert page.locator('[data-testid="target_subreddits-checks"] .check-invalid').count() == 0
    assert "#/campaigns/new" in page.url  # nothing was created
    bad_chip.get_by_role("button").click()  # remove it
    add_chips(page, "target_subreddits", ["r/smallbusiness"])
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"#/campaigns/[0-9a-f-]{36}$"))
    campaign_id = page.url.rsplit("/", 1)[1]
    token = token_of(page)
    api = server.client(token)
    assert api.get(f"/v1/campaigns/{campaign_id}").json()["target_subreddits"] == [
        "SaaS",
        "startups",
        "Entrepreneur",
        "smallbusiness",
    ]

    # --- collect and watch the progress live ---
    collect = page.locator("[data-testid=collect]")
    collect.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=collect]')?.textContent.includes('left this week')"
    )
    assert "Start collection (5 left this week)" in collect.inner_text()
    collect.click()
    progress = page.locator("[data-testid=progress]")
    progress.wait_for()
    # Mid-run: something scraped and a "n of 4: r/name" location.
    page.wait_for_function(
        """() => {
          const p = document.querySelector('[data-testid=progress]');
          return p && p.dataset.state === 'running'
            && p.querySelector('[data-counter=scraped]').textContent !== '0'
            && / of 4: r\\//.test(p.querySelector('[data-testid=where]').textContent);
        }"""
    )
    assert (
        page.locator("[data-testid=progress] [role=progressbar]").get_attribute("aria-valuenow") is not None
    )
    page.evaluate("document.getElementById('toasts').replaceChildren()")  # transient notices
    progress.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "progress-desktop.png"))
    page.set_viewport_size(PHONE)
    progress.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "progress-phone.png"))
    page.set_viewport_size(DESKTOP)

    # --- terminal state: the funnel shown equals the API's run object ---
    task_id = wait_final(page)
    assert progress.get_attribute("data-state") == "complete"
    run = api.get(f"/v1/collection/{task_id}").json()
    assert run["status"] == "complete"
    assert shown_counts(page) == {k: run[k] for k in COUNTERS}
    assert run["scraped"] > 0 and run["stored"] > 0
    # ... and the results arrived by themselves.
    page.locator(".post-card").first.wait_for()
    stats = api.get(f"/v1/campaigns/{campaign_id}/collection-stats").json()
    assert _int(page.locator('[data-stat="total"]').inner_text()) == stats["total"]
    assert "Collect more (4 left)" in collect.inner_text()
    assert page.locator("[data-testid=runs] tbody tr").count() == 1

    # --- what each archetype means, in words next to the legend and on the filter ---
    for a, words in DEFINES.items():
        definition = page.locator(f'.legend-item[data-archetype="{a}"] [data-testid=arch-def]')
        assert definition.is_visible() and words in definition.inner_text()
        assert page.locator(f'.seg-btn[data-archetype="{a}"] .seg-hint').is_visible()

    # --- filter by archetype and score: the URL carries the filters ---
    archetype = max(
        (a for a in ("Journey", "ProblemSolution", "Feedback")), key=lambda a: stats["by_archetype"][a]
    )
    scores = sorted(
        p["success_score"]
        for p in api.get(
            f"/v1/campaigns/{campaign_id}/posts", params={"archetype": archetype, "per_page": 100}
        ).json()["posts"]
    )
    min_score = int(scores[len(scores) // 2] * 2) / 2  # a slider step (0.5) with posts above it
    # Two choices in one task, before the first one's hashchange is handled: the second must
    # keep the first (it once merged into a stale query and dropped the archetype).
    page.evaluate(
        """([archetype, min]) => {
          document.querySelector(`.seg-btn[data-archetype="${archetype}"]`).click();
          const range = document.querySelector('#f-min');
          range.value = min;
          range.dispatchEvent(new Event('change'));
        }""",
        [archetype, str(min_score)],
    )
    page.wait_for_url(re.compile(rf"archetype={archetype}.*min_score=|min_score=.*archetype={archetype}"))
    arch_def = page.locator("[data-testid=arch-definition]")
    assert arch_def.is_visible()
    page.wait_for_function(
        "w => document.querySelector('[data-testid=arch-definition]').textContent.includes(w)",
        arg=DEFINES[archetype],
    )
    expected = api.get(
        f"/v1/campaigns/{campaign_id}/posts",
        params={"archetype": archetype, "min_score": min_score, "per_page": 100},
    ).json()
    assert expected["total"] > 0
    count_label = f"{expected['total']} post" if expected["total"] == 1 else f"{expected['total']} posts"
    page.wait_for_function(
        "t => document.querySelector('[data-testid=result-count]').textContent.startsWith(t)",
        arg=count_label,
    )
    cards = page.locator(".post-card")
    page.wait_for_function("() => !document.querySelector('.post-grid').classList.contains('is-loading')")
    assert cards.count() == min(12, expected["total"])
    for i in range(cards.count()):
        card = cards.nth(i)
        assert card.get_attribute("data-archetype") == archetype
        assert float(card.locator(".score-num").get_attribute("data-score")) >= min_score

    # --- the post modal: keyboard usable, Escape closes, focus returns to the card ---
    opener = cards.first.locator(".post-open")
    post_id = opener.get_attribute("data-post-id")
    opener.focus()
    page.keyboard.press("Enter")
    modal = page.locator("[data-testid=post-modal]")
    modal.locator(".post-text").wait_for()
    assert modal.get_attribute("aria-modal") == "true"
    assert page.evaluate(
        "document.querySelector('[data-testid=post-modal]').contains(document.activeElement)"
    )
    for _ in range(6):  # Tab never leaves the dialog
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.querySelector('[data-testid=post-modal]').contains(document.activeElement)"
        )
    assert modal.locator("[data-testid=score-why] .bd-row").count() >= 5  # the score breakdown as bars
    # ... only the score's own parts, and the label's reasons in their own section.
    detail = api.get(f"/v1/campaigns/{campaign_id}/posts/{post_id}").json()
    assert modal.locator("[data-testid=score-why] .bd-row").count() == len(detail["score_breakdown"]) - 1
    # ... why it was kept: the relevance signals that gave points, adding up to the relevance.
    kept = modal.locator("[data-testid=kept-why]")
    signals = {k: v for k, v in detail["relevance_breakdown"].items() if v > 0}
    assert signals and abs(sum(detail["relevance_breakdown"].values()) - detail["relevance_score"]) < 0.05
    assert kept.locator(".bd-row").count() == len(signals)
    assert f"relevance {detail['relevance_score']:.1f} / 10" in kept.inner_text()
    assert "passed every noise check" in kept.inner_text()
    why = modal.locator("[data-testid=label-why]")
    assert "Offline model" in why.inner_text()
    assert f"{round(detail['archetype_confidence'] * 100)}%" in why.inner_text()
    assert why.locator(".chip").all_inner_texts() == detail["archetype_reasons"]
    # --- teach it: correct the label, then restore the machine's ---
    other = next(a for a in ("Journey", "ProblemSolution", "Feedback") if a != detail["archetype"])
    modal.locator("#label-fix").select_option(other)
    modal.locator("[data-testid=label-save]").click()
    modal.locator("[data-testid=label-restore]").wait_for()
    assert "You (corrected)" in modal.locator("[data-testid=label-why]").inner_text()
    corrected = api.get(f"/v1/campaigns/{campaign_id}/posts/{post_id}").json()
    assert (corrected["archetype"], corrected["archetype_source"]) == (other, "user")
    modal.locator("[data-testid=label-restore]").click()
    modal.locator("[data-testid=label-restore]").wait_for(state="detached")
    restored = api.get(f"/v1/campaigns/{campaign_id}/posts/{post_id}").json()
    assert (restored["archetype"], restored["archetype_source"]) == (detail["archetype"], "model")
    page.keyboard.press("Escape")
    modal.wait_for(state="detached")
    assert page.evaluate("document.activeElement.dataset.postId") == post_id

    # --- results screenshots (desktop and phone) ---
    page.evaluate("document.getElementById('toasts').replaceChildren()")  # transient notices
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "results-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.evaluate("document.querySelector('.posts-section').scrollIntoView()")
    page.screenshot(path=str(screenshots / "results-phone.png"))
    page.set_viewport_size(DESKTOP)

    # --- CSV export honours the filters ---
    with page.expect_download() as download_info:
        page.locator("[data-testid=export-csv]").click()
    target = tmp_path / "export.csv"
    download_info.value.save_as(target)
    with target.open(newline="", encoding="utf-8-sig") as fh:  # the export starts with a BOM (Excel)
        rows = list(csv.DictReader(fh))
    assert len(rows) == expected["total"]
    assert {r["archetype"] for r in rows} == {archetype}
    assert all(float(r["success_score"]) >= min_score for r in rows)
    assert {r["id"] for r in rows} == {p["id"] for p in expected["posts"]}

    # --- label confidence: unsure labels are marked, and the filter hides them ---
    shown = api.get(
        f"/v1/campaigns/{campaign_id}/posts",
        params={"archetype": archetype, "min_score": min_score, "per_page": 12},
    ).json()["posts"]
    unsure = [p["id"] for p in shown if p["archetype_confidence"] < 0.6]
    marked = page.locator(".post-card:has([data-testid=low-confidence])")
    assert sorted(marked.evaluate_all("cards => cards.map(c => c.dataset.postId)")) == sorted(unsure)
    page.locator("#f-conf").select_option("0.8")
    page.wait_for_url(re.compile(r"min_confidence=0.8"))
    confident = api.get(
        f"/v1/campaigns/{campaign_id}/posts",
        params={"archetype": archetype, "min_score": min_score, "min_confidence": 0.8, "per_page": 100},
    ).json()
    assert confident["total"] <= expected["total"]
    label = f"{confident['total']} post" if confident["total"] == 1 else f"{confident['total']} posts"
    page.wait_for_function(
        "t => document.querySelector('[data-testid=result-count]').textContent.startsWith(t)", arg=label
    )
    assert page.locator("[data-testid=low-confidence]").count() == 0
    page.go_back()
    page.wait_for_function("() => !location.hash.includes('min_confidence')")

    # --- only posts that mention the campaign's keywords, each saying which ---
    page.locator("#f-kw").select_option("true")
    page.wait_for_url(re.compile(r"mentions_keywords=true"))
    mentioning = api.get(
        f"/v1/campaigns/{campaign_id}/posts",
        params={"archetype": archetype, "min_score": min_score, "mentions_keywords": "true", "per_page": 12},
    ).json()
    label = f"{mentioning['total']} post" if mentioning["total"] == 1 else f"{mentioning['total']} posts"
    page.wait_for_function(
        "t => document.querySelector('[data-testid=result-count]').textContent.startsWith(t)", arg=label
    )
    page.wait_for_function("() => !document.querySelector('.post-grid').classList.contains('is-loading')")
    shown_mentions = page.locator(".post-card [data-testid=mentions]").all_inner_texts()
    assert shown_mentions == [", ".join(p["matched_keywords"]) for p in mentioning["posts"]]
    page.go_back()
    page.wait_for_function("() => !location.hash.includes('mentions_keywords')")

    # --- a reload keeps the session and the filters ---
    filtered_url = page.url
    page.reload()
    page.locator(".post-card").first.wait_for()
    assert page.url == filtered_url
    assert page.locator(f'.seg-btn[data-archetype="{archetype}"]').get_attribute("aria-pressed") == "true"
    assert float(page.locator("#f-min").input_value()) == min_score
    page.wait_for_function(
        "t => document.querySelector('[data-testid=result-count]').textContent.startsWith(t)", arg=count_label
    )
    # Back goes to the previous filter state (archetype only).
    page.go_back()
    page.wait_for_function("() => !location.hash.includes('min_score')")
    assert page.locator("#f-min").input_value() == "0"
    assert not page.js_errors, page.js_errors


def test_interrupted_stream_resumes_with_exact_counts(page, recycling_server: Server) -> None:
    """The server closes each progress stream after ~2 s; the page resumes and ends exact."""
    server = recycling_server
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns",
        json={
            "name": "Recycled streams",
            "keywords": ["customers", "pricing"],
            "target_subreddits": ["SaaS", "startups", "Entrepreneur", "smallbusiness", "indiehackers"],
        },
    ).json()
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    page.locator("[data-testid=collect]").click()
    task_id = wait_final(page)
    panel = page.locator("[data-testid=progress]")
    assert int(panel.get_attribute("data-opens")) >= 2, "the stream was never interrupted and resumed"
    run = api.get(f"/v1/collection/{task_id}").json()
    assert run["status"] == "complete"
    assert shown_counts(page) == {k: run[k] for k in COUNTERS}
    assert run["stored"] + run["duplicates"] == run["filtered"]

    # A reload mid-run re-attaches to the running collection and still ends exact.
    page.locator("[data-testid=collect]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=progress]')?.dataset.opens >= '1'"
        " && document.querySelector('[data-testid=progress]').dataset.state === 'running'"
    )
    page.reload()
    page.locator("[data-testid=progress]").wait_for()
    second = wait_final(page)
    assert second != task_id
    run = api.get(f"/v1/collection/{second}").json()
    assert shown_counts(page) == {k: run[k] for k in COUNTERS}
    assert run["status"] == "complete"
    assert run["stored"] + run["duplicates"] == run["filtered"]
    assert not page.js_errors, page.js_errors


def test_expired_stream_token_is_refreshed_mid_run(page, short_token_server: Server) -> None:
    """A run outlives its 10 s stream token: the browser's reconnect gets 401, the page fetches
    a fresh token and resumes from the last event id, and the final counts are still exact."""
    server = short_token_server
    sign_up(page, server)
    api = server.client(token_of(page))
    subreddits = [
        "SaaS",
        "startups",
        "Entrepreneur",
        "smallbusiness",
        "indiehackers",
        "marketing",
        "SideProject",
        "webdev",
        "productivity",
    ]  # ~18 s at 2 s each: the 10 s stream token expires mid-run
    campaign = api.post(
        "/v1/campaigns", json={"name": "Long run", "keywords": ["growth"], "target_subreddits": subreddits}
    ).json()
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    page.locator("[data-testid=collect]").click()
    task_id = wait_final(page, timeout=60_000)
    panel = page.locator("[data-testid=progress]")
    assert int(panel.get_attribute("data-refreshes")) >= 1, "the expired token was never replaced"
    run = api.get(f"/v1/collection/{task_id}").json()
    assert run["status"] == "complete"
    assert shown_counts(page) == {k: run[k] for k in COUNTERS}
    assert not page.js_errors, page.js_errors


def test_running_elsewhere_attaches_then_plan_limit(page, recycling_server: Server) -> None:
    """409 COLLECTION_IN_PROGRESS shows the run already going; a 429 disables the button,
    which says why and when a run frees up."""
    server = recycling_server
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns",
        json={"name": "Limits", "keywords": ["saas"], "target_subreddits": ["SaaS", "startups", "sales"]},
    ).json()
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    collect = page.locator("[data-testid=collect]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=collect]')?.textContent.includes('2 left this week')"
    )
    # Started from somewhere else (another tab, the CLI): clicking attaches to that run.
    started = api.post(f"/v1/campaigns/{campaign['id']}/collect").json()
    collect.click()
    page.get_by_text("already running").wait_for()
    assert wait_final(page) == started["task_id"]

    # The second and last run of the week, for another campaign: this page still says 1 left.
    other = api.post(
        "/v1/campaigns", json={"name": "Elsewhere", "keywords": ["saas"], "target_subreddits": ["SaaS"]}
    ).json()
    api.post(f"/v1/campaigns/{other['id']}/collect")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=collect]')?.textContent.includes('(1 left)')"
    )
    collect.click()
    reason = page.locator("[data-testid=collect-limit]")
    reason.wait_for()
    assert "Weekly limit reached" in reason.inner_text()
    assert "2 collections" in reason.inner_text()
    assert "frees up on" in reason.inner_text()
    assert "Collect more (0 left)" in collect.inner_text()
    assert collect.is_disabled()
    assert not page.js_errors, page.js_errors


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.handlers: list[str] = []
        self.inline_scripts = 0
        self.styles: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.handlers += [f"<{tag} {n}>" for n in names if n.lower().startswith("on")]
        if "style" in names:
            self.styles.append(tag)
        if tag == "script" and "src" not in names:
            self.inline_scripts += 1


def test_security_headers_and_no_inline_code(server: Server) -> None:
    res = httpx.get(server.url + "/")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    csp = res.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert res.headers["x-frame-options"] == "DENY"
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["referrer-policy"] == "no-referrer"

    static = httpx.get(server.url + "/static/js/app.js")
    assert static.status_code == 200
    assert "javascript" in static.headers["content-type"]
    assert static.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in static.headers

    # The JSON API keeps its own headers, and the dashboard is not part of the API schema.
    api = httpx.get(server.url + "/healthz")
    assert "content-security-policy" not in api.headers
    paths = httpx.get(server.url + "/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)

    parser = _Attributes()
    parser.feed(res.text)
    assert parser.handlers == [], parser.handlers
    assert parser.inline_scripts == 0
    assert parser.styles == []

    # No data ever reaches the page as markup, and nothing comes from a CDN.
    for path in STATIC.rglob("*"):
        if path.suffix in {".js", ".html", ".css"}:
            text = path.read_text(encoding="utf-8")
            assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, (
                path
            )
            # (example.com: the URL placeholder, on the domain reserved for examples)
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg|example\.com\b)", text), path
