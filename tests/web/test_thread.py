"""The comments in the dashboard: read a post's thread, find a post by a word only a comment has."""

from __future__ import annotations

import json
import re
import time

import pytest

from .conftest import Server
from .test_dashboard import sign_up, token_of

pytestmark = pytest.mark.browser

WORD = re.compile(r"[^\W_]+")


def words(text: str | None) -> set[str]:
    return set(WORD.findall((text or "").lower()))


def collect(api, campaign_id: str) -> dict:
    task = api.post(f"/v1/campaigns/{campaign_id}/collect", json={"comments_per_post": 30}).json()
    deadline = time.monotonic() + 60
    while True:
        run = api.get(f"/v1/collection/{task['task_id']}").json()
        if run["status"] not in ("queued", "running"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.2)


def comment_only_word(api, campaign_id: str) -> tuple[str, set[str]]:
    """A word that begins a word of some posts' comments and of no post's title or text,
    with the ids of the posts whose comments have it (the search oracle, in Python)."""
    posts = api.get(f"/v1/campaigns/{campaign_id}/posts/export", params={"format": "jsonl"}).text.splitlines()
    post_words: set[str] = set()
    for line in posts:
        post = json.loads(line)
        post_words |= words(post["title"]) | words(post["raw_text"])
    by_word: dict[str, set[str]] = {}
    comments = api.get(f"/v1/campaigns/{campaign_id}/comments/export", params={"format": "jsonl"})
    for line in comments.text.splitlines():
        comment = json.loads(line)
        for w in words(comment["body"]):
            by_word.setdefault(w, set()).add(comment["post_id"])
    candidates = [
        (w, ids)
        for w, ids in by_word.items()
        if len(w) >= 5 and not w.isdigit() and not any(p.startswith(w) for p in post_words)
    ]
    assert candidates, "the sample threads should have words their posts do not"
    word, _ = min(candidates, key=lambda c: (len(c[1]), c[0]))
    # Prefix semantics: every comment word that starts with it counts.
    return word, set().union(*(ids for w, ids in by_word.items() if w.startswith(word)))


def test_read_a_thread_and_search_the_comments(page, server: Server, screenshots) -> None:
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns",
        json={"name": "Billing pains", "keywords": ["invoice", "pricing"], "target_subreddits": ["SaaS"]},
    ).json()
    run = collect(api, campaign["id"])
    assert run["status"] == "complete" and run["comments_stored"] > 0

    word, expected = comment_only_word(api, campaign["id"])
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    page.locator(".post-card").first.wait_for()
    search = page.locator("#f-q")
    search.fill(word)
    page.wait_for_url(re.compile(rf"q={word}"))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=result-count]').textContent.startsWith('0 posts')"
    )
    page.locator("[data-testid=search-in]").select_option("comments")
    page.wait_for_url(re.compile(r"search_in=comments"))
    count = f"{len(expected)} post" if len(expected) == 1 else f"{len(expected)} posts"
    page.wait_for_function(
        "t => document.querySelector('[data-testid=result-count]').textContent.startsWith(t)", arg=count
    )
    page.wait_for_function("() => !document.querySelector('.post-grid').classList.contains('is-loading')")
    shown = set(page.locator(".post-card").evaluate_all("cards => cards.map(c => c.dataset.postId)"))
    assert shown == expected or (len(expected) > 12 and shown < expected)

    # --- open one of them and read its thread ---
    post_id = sorted(shown)[0]
    page.locator(f'.post-card[data-post-id="{post_id}"] .post-open').click()
    modal = page.locator("[data-testid=post-modal]")
    thread = modal.locator("[data-testid=thread]")
    thread.locator("[data-testid=comment]").first.wait_for()
    listed = api.get(
        f"/v1/campaigns/{campaign['id']}/posts/{post_id}/comments", params={"per_page": 100}
    ).json()
    assert thread.locator("[data-testid=comment]").count() == len(listed["comments"])
    # Thread order on screen (document order) is the API's tree order.
    on_screen = thread.locator("[data-testid=comment]").evaluate_all(
        "els => els.map(e => e.dataset.commentId)"
    )
    assert on_screen == [c["reddit_comment_id"] for c in listed["comments"]]
    # The word is in one of the comments shown, and each comment links to Reddit.
    assert word in thread.inner_text().lower()
    first = listed["comments"][0]
    link = thread.locator(f'[data-comment-id="{first["reddit_comment_id"]}"] .comment-link').first
    assert link.get_attribute("href") == first["reddit_url"]
    # Replies sit under their comment, and a branch folds away.
    reply = next((c for c in listed["comments"] if c["depth"] == 1), None)
    if reply is not None:
        parent_id = reply["parent_id"].removeprefix("t1_")
        parent = thread.locator(f'[data-comment-id="{parent_id}"]')
        nested = parent.locator(f'.thread-replies [data-comment-id="{reply["reddit_comment_id"]}"]')
        assert nested.is_visible()
        parent.locator(".thread-toggle").first.click()
        assert not nested.is_visible()
        parent.locator(".thread-toggle").first.click()
        assert nested.is_visible()
    deleted = [c for c in listed["comments"] if c["is_deleted"]]
    if deleted:
        gone = thread.locator(f'[data-comment-id="{deleted[0]["reddit_comment_id"]}"]')
        assert "deleted or removed" in gone.locator(".comment-body").first.inner_text()
    modal.locator(".thread-section").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "thread-desktop.png"))
    assert not page.js_errors, page.js_errors
