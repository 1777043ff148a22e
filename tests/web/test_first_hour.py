"""A founder's first hour (#13) in headless Chromium: the polish the trial asked for, archetype
definitions, reviewing what the filter threw away, relevance sort, corrections that survive
"Collect more", and the offline API reference."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from .conftest import PHONE, Server
from .test_dashboard import add_chips, sign_up, token_of, wait_final

pytestmark = pytest.mark.browser


def wait_settled(page, timeout: float = 45_000) -> str:
    """The run ended and the page has caught up (counts, results, scroll) with it."""
    task_id = wait_final(page, timeout)
    page.locator('[data-testid=progress][data-settled="true"]').wait_for(timeout=timeout)
    return task_id


def test_polish_from_the_trial(page, recycling_server: Server) -> None:
    """URL placeholder, per-subreddit chart, funnel vs archetypes, dates with years, "1 run",
    no jump after a cancel on a phone, and "Collect more (0 left)" disabled with its reason."""
    server = recycling_server  # 2 runs a week
    sign_up(page, server)
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("Campaign name").fill("Invoicing research")
    add_chips(page, "keywords", ["invoice", "pricing"])
    add_chips(page, "target_subreddits", ["SaaS", "startups", "smallbusiness", "Entrepreneur"])
    url = page.get_by_label("Product URL")
    placeholder = url.get_attribute("placeholder")
    # A bare domain is refused before submit, in words that say what to type.
    url.fill("yourproduct.com")
    page.get_by_role("button", name="Create campaign").click()
    error = page.locator('[data-field="product_url"] .field-error')
    error.wait_for()
    assert "https://" in error.inner_text()
    assert "#/campaigns/new" in page.url
    # The placeholder is an example the API's own rule accepts.
    url.fill(placeholder)
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"#/campaigns/[0-9a-f-]{36}$"))
    campaign_id = page.url.rsplit("/", 1)[1]
    api = server.client(token_of(page))
    assert api.get(f"/v1/campaigns/{campaign_id}").json()["product_url"] == placeholder

    # --- one complete run ---
    collect = page.locator("[data-testid=collect]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=collect]')?.textContent.includes('2 left this week')"
    )
    collect.click()
    wait_settled(page)
    stats = api.get(f"/v1/campaigns/{campaign_id}/collection-stats").json()
    assert stats["total"] > 0

    # Per-subreddit chart: one bar per target subreddit with the API's count, largest first.
    rows = page.locator("[data-testid=subreddit-chart] .sub-row")
    shown = {
        rows.nth(i).get_attribute("data-subreddit"): int(rows.nth(i).locator(".sub-num").inner_text())
        for i in range(rows.count())
    }
    assert shown == stats["by_subreddit"]
    counts = [int(t) for t in rows.locator(".sub-num").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    top = rows.first.get_attribute("data-subreddit")
    rows.first.click()  # a bar filters the posts
    page.wait_for_url(re.compile(rf"subreddit={top}"))
    page.go_back()
    page.wait_for_function("() => !location.hash.includes('subreddit=')")

    # The funnel's "classified" and the archetype counts agree, or a note says why not.
    classified = int(page.locator('[data-funnel="classified"] .funnel-num').inner_text().replace(",", ""))
    assert classified == stats["funnel"]["classified"]
    note = page.locator("[data-testid=funnel-note]")
    if classified == sum(stats["by_archetype"].values()):
        assert note.count() == 0
        assert "null" not in page.locator(".chart-funnel").inner_text()
    else:
        assert f"{classified} classified, {stats['total']} in the archetype chart" in note.inner_text()

    # The post dialog's date carries the year.
    page.locator(".post-card .post-open").first.click()
    modal = page.locator("[data-testid=post-modal]")
    when = modal.locator(".post-meta time")
    when.wait_for()
    year = datetime.fromisoformat(when.get_attribute("datetime").replace("Z", "+00:00")).year
    assert str(year) in when.inner_text()
    page.keyboard.press("Escape")
    modal.wait_for(state="detached")

    # "1 run", not "1 runs".
    page.goto(f"{server.url}/#/campaigns")
    card = page.locator(f'.campaign-card[data-id="{campaign_id}"]')
    card.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    assert re.search(r"\b1 run\b", dialog.inner_text()) and "1 runs" not in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()

    # --- the second run, cancelled on a phone: the page stays on the panel that says so ---
    page.goto(f"{server.url}/#/campaigns/{campaign_id}")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=collect]')?.textContent.includes('Collect more (1 left)')"
    )
    collect.click()
    panel = page.locator("[data-testid=progress]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=progress]')?.dataset.state === 'running'"
    )
    cancel = panel.locator("[data-testid=cancel]")
    cancel.scroll_into_view_if_needed()
    cancel.click()
    task_id = wait_settled(page)
    assert api.get(f"/v1/collection/{task_id}").json()["status"] == "cancelled"
    page.wait_for_timeout(800)  # a smooth scroll would be under way by now
    # The panel's head is still on screen (the limit note above it may push it down a line)...
    top = panel.bounding_box()["y"]
    assert 0 <= top < PHONE["height"] - 100, f"the page jumped away from the cancelled run ({top})"
    # ... and the page did not scroll to the posts.
    assert page.evaluate("document.querySelector('#posts-h').getBoundingClientRect().top") > PHONE["height"]

    # --- the allowance is used: the button is disabled and says why ---
    page.wait_for_function(
        "() => document.querySelector('[data-testid=collect]')?.textContent.includes('Collect more (0 left)')"
    )
    assert collect.is_disabled()
    reason = page.locator("[data-testid=collect-limit]")
    assert reason.is_visible()
    assert "Weekly limit reached" in reason.inner_text()
    assert collect.get_attribute("aria-describedby") == reason.get_attribute("id")
    assert not page.js_errors, page.js_errors


def _words(title: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]+", title) if len(w) >= 4]


def test_review_rejected_samples_by_reason_and_keep_one(page, server: Server) -> None:
    """The filtered-out samples of the last run: counts per reason, a reason paged through,
    each with its preview and Reddit link; one kept, and then it is among the posts."""
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns",
        json={
            "name": "What was thrown away",
            "keywords": ["invoice"],
            "target_subreddits": ["SaaS", "startups", "Entrepreneur", "smallbusiness"],
        },
    ).json()
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    page.locator("[data-testid=collect]").click()
    task_id = wait_settled(page)
    run = api.get(f"/v1/collection/{task_id}").json()

    def samples(reason: str, p: int = 1) -> dict:
        return api.get(
            f"/v1/collection/{task_id}/rejected", params={"reason": reason, "page": p, "per_page": 10}
        ).json()

    page.locator(".reasons-details summary").click()
    page.locator("[data-testid=review-rejected]").click()
    review = page.locator("[data-testid=rejected-review]")
    review.wait_for()
    # Every reason of the run with its count, most first.
    buttons = review.locator("[data-testid=rejected-reasons] .seg-btn")
    buttons.first.wait_for()
    expected = sorted(((r, n) for r, n in run["filter_reasons"].items() if n > 0), key=lambda rn: -rn[1])
    shown = [
        (buttons.nth(i).get_attribute("data-reason"), int(buttons.nth(i).locator(".seg-count").inner_text()))
        for i in range(buttons.count())
    ]
    assert sorted(shown) == sorted(expected)
    assert [n for _, n in shown] == sorted((n for _, n in shown), reverse=True)

    # A reason with more than one page of samples.
    reason = next(r for r, _ in shown if samples(r)["total"] > 10)
    first = samples(reason)
    review.locator(f'.seg-btn[data-reason="{reason}"]').click()
    items = review.locator("[data-testid=rejected-sample]")

    def shown_ids() -> list[str]:
        return items.evaluate_all("els => els.map(e => e.dataset.redditPostId)")

    page.wait_for_function(
        "r => document.querySelector(`[data-testid=rejected-review] .seg-btn[data-reason='${r}']`)"
        ".getAttribute('aria-pressed') === 'true'",
        arg=reason,
    )
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('[data-testid=rejected-sample]')]"
        ".map(e => e.dataset.redditPostId)) === JSON.stringify(ids)",
        arg=[s["reddit_post_id"] for s in first["rejected"]],
    )
    assert f"of {first['total']} kept sample" in review.locator("[data-testid=rejected-note]").inner_text()
    pages = -(-first["total"] // 10)
    review.get_by_role("button", name="Next").click()
    review.locator("[data-testid=rejected-page]").filter(has_text=f"Page 2 of {pages}").wait_for()
    second = samples(reason, 2)
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('[data-testid=rejected-sample]')]"
        ".map(e => e.dataset.redditPostId)) === JSON.stringify(ids)",
        arg=[s["reddit_post_id"] for s in second["rejected"]],
    )
    assert shown_ids() == [s["reddit_post_id"] for s in second["rejected"]]
    for i, sample in enumerate(second["rejected"]):  # each with its preview and Reddit link
        item = items.nth(i)
        assert item.locator(".sample-title").inner_text().strip() == (sample["title"] or "(no title)")
        assert item.locator("a.sample-title").get_attribute("href") == sample["reddit_url"]
        if sample["text_preview"]:
            assert item.locator(".sample-preview").inner_text().split() == sample["text_preview"].split()

    # --- "Should have been kept": stored as a post, counted, and found among the posts ---
    total_before = api.get(f"/v1/campaigns/{campaign['id']}/collection-stats").json()["total"]
    index, chosen = next((i, s) for i, s in enumerate(second["rejected"]) if len(_words(s["title"])) >= 2)
    item = items.nth(index)
    item.locator("[data-testid=keep]").click()
    item.locator("[data-testid=kept]").wait_for()
    kept = [c for c in api.get("/v1/corrections").json()["corrections"] if c["kind"] == "keep"]
    assert [c["reddit_post_id"] for c in kept] == [chosen["reddit_post_id"]]
    post_id = kept[0]["post_id"]
    page.wait_for_function(
        "n => document.querySelector('[data-stat=total]').textContent.replace(/\\D/g, '') === String(n)",
        arg=total_before + 1,
    )
    note = page.locator("[data-testid=funnel-note]")  # one more post than the runs classified
    assert "kept from the filtered-out ones" in note.inner_text()
    # Paging away and back still says it was kept.
    review.get_by_role("button", name="Previous").click()
    review.locator("[data-testid=rejected-page]").filter(has_text=f"Page 1 of {pages}").wait_for()
    review.get_by_role("button", name="Next").click()
    review.locator("[data-testid=rejected-page]").filter(has_text=f"Page 2 of {pages}").wait_for()
    items.nth(index).locator("[data-testid=kept]").wait_for()
    # Opened from the review...
    items.nth(index).locator("[data-testid=open-kept]").click()
    modal = page.locator("[data-testid=post-modal]")
    modal.locator(".post-text").wait_for()
    assert modal.locator(".modal-title").inner_text() == chosen["title"]
    page.keyboard.press("Escape")
    modal.wait_for(state="detached")
    # ... and in the post list, searched for by its title's words.
    words = " ".join(sorted(_words(chosen["title"]), key=len, reverse=True)[:3])
    page.locator("#f-q").fill(words)
    page.locator("#f-q").press("Enter")
    page.wait_for_url(re.compile(r"[?&]q="))
    page.locator(f'.post-card[data-post-id="{post_id}"]').wait_for()
    assert not page.js_errors, page.js_errors


def shown_post_ids(page) -> list[str]:
    return page.locator(".post-card").evaluate_all("cards => cards.map(c => c.dataset.postId)")


def wait_for_cards(page, ids: list[str]) -> None:
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('.post-card')].map(c => c.dataset.postId))"
        " === JSON.stringify(ids)",
        arg=ids,
    )


def test_relevance_sort_then_a_corrected_label_survives_collect_more(page, server: Server) -> None:
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns",
        json={
            "name": "Relevance",
            "product_context": "Invoicing tool for freelancers: send invoices, get paid on time.",
            "keywords": ["invoice", "pricing", "customers"],
            "target_subreddits": ["SaaS", "smallbusiness"],
        },
    ).json()
    cid = campaign["id"]
    page.goto(f"{server.url}/#/campaigns/{cid}")
    page.locator("[data-testid=collect]").click()
    first_run = wait_settled(page)

    # --- "Most relevant": the API's order, with each post's keyword mentions shown ---
    page.locator("#f-sort").select_option("-relevance_score")
    page.wait_for_url(re.compile(r"sort=-relevance_score"))
    expected = api.get(
        f"/v1/campaigns/{cid}/posts", params={"sort": "-relevance_score", "per_page": 12}
    ).json()
    relevance = [p["relevance_score"] for p in expected["posts"]]
    assert relevance == sorted(relevance, reverse=True)
    wait_for_cards(page, [p["id"] for p in expected["posts"]])
    assert any(p["matched_keywords"] for p in expected["posts"])
    for p in expected["posts"]:
        mentions = page.locator(f'.post-card[data-post-id="{p["id"]}"] [data-testid=mentions]')
        marks = page.locator(f'.post-card[data-post-id="{p["id"]}"] mark.kw')
        if p["matched_keywords"]:
            assert mentions.inner_text().strip() == ", ".join(p["matched_keywords"])
        else:
            assert mentions.count() == 0 and marks.count() == 0
    # ... and highlighted where a card's title or snippet says them.
    marked = page.locator(".post-card mark.kw").all_inner_texts()
    keywords = {k.lower() for p in expected["posts"] for k in p["matched_keywords"]}
    assert marked and all(any(m.lower().startswith(k) for k in keywords) for m in marked)

    # --- correct the top post's label in the dialog ---
    post = expected["posts"][0]
    other = next(a for a in ("Journey", "ProblemSolution", "Feedback") if a != post["archetype"])
    page.locator(f'.post-open[data-post-id="{post["id"]}"]').click()
    modal = page.locator("[data-testid=post-modal]")
    modal.locator("#label-fix").select_option(other)
    modal.locator("[data-testid=label-save]").click()
    modal.locator("[data-testid=label-restore]").wait_for()
    page.keyboard.press("Escape")
    modal.wait_for(state="detached")
    card = page.locator(f'.post-card[data-post-id="{post["id"]}"]')
    page.wait_for_function(
        "([id, a]) => document.querySelector(`.post-card[data-post-id='${id}']`)?.dataset.archetype === a",
        arg=[post["id"], other],
    )

    # --- "Collect more": the new run does not undo the correction ---
    page.locator("[data-testid=collect]").click()
    page.wait_for_function(
        "id => document.querySelector('[data-testid=progress]')?.dataset.taskId !== id", arg=first_run
    )
    second_run = wait_settled(page)
    assert api.get(f"/v1/collection/{second_run}").json()["status"] == "complete"
    detail = api.get(f"/v1/campaigns/{cid}/posts/{post['id']}").json()
    assert (detail["archetype"], detail["archetype_source"]) == (other, "user")
    # Found again in the list (by its title's words) with the corrected label...
    words = " ".join(sorted(_words(post["title"]), key=len, reverse=True)[:3])
    page.locator("#f-q").fill(words)
    page.locator("#f-q").press("Enter")
    page.wait_for_url(re.compile(r"[?&]q="))
    card.wait_for()
    page.wait_for_function("() => !document.querySelector('.post-grid').classList.contains('is-loading')")
    assert card.get_attribute("data-archetype") == other
    # ... and in the dialog, labelled by the user.
    card.locator(".post-open").click()
    why = modal.locator("[data-testid=label-why]")
    why.wait_for()
    assert "You (corrected)" in why.inner_text()
    assert (
        modal.locator(".post-meta .arch-badge")
        .inner_text()
        .startswith(
            {"Journey": "Journey", "ProblemSolution": "Problem / Solution", "Feedback": "Feedback"}[other]
        )
    )
    assert modal.locator("#label-fix").input_value() == other
    page.keyboard.press("Escape")

    # Two runs: the funnel's "classified" and the archetype counts agree or a note says why.
    stats = api.get(f"/v1/campaigns/{cid}/collection-stats").json()
    note = page.locator("[data-testid=funnel-note]")
    if stats["funnel"]["classified"] == stats["total"]:
        assert note.count() == 0
    else:
        assert f"{stats['funnel']['classified']} classified, {stats['total']} in the archetype chart" in (
            note.inner_text()
        )
    assert not page.js_errors, page.js_errors


def test_api_reference_renders_offline(page, server: Server) -> None:
    """/docs is Swagger UI from the package's own files (/vendor): nothing from elsewhere."""
    elsewhere: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(server.url + "/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="BC-RAO Collector").wait_for()
    assert page.title() == "BC-RAO Collector API"
    operations = page.locator(".swagger-ui .opblock")
    operations.first.wait_for()
    paths = httpx_paths(server)
    assert operations.count() >= len(paths)
    # An operation opens with its description and parameters.
    collect = page.locator('.swagger-ui .opblock-post:has([data-path="/v1/campaigns/{campaign_id}/collect"])')
    collect.first.locator(".opblock-summary").click()
    collect.first.locator(".opblock-description-wrapper, .parameters-container").first.wait_for()
    stylesheet = page.evaluate(
        "() => [...document.styleSheets].some(s => (s.href || '').includes('/vendor/swagger-ui/'))"
    )
    assert stylesheet
    assert elsewhere == [], elsewhere


def httpx_paths(server: Server) -> dict:
    with server.client() as client:
        return client.get("/openapi.json").json()["paths"]
