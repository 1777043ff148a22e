"""The reddit source's comment fetching against the loopback Reddit's wire format."""

from __future__ import annotations

import time

import pytest

from bcrao.sources.base import CommentRequest
from bcrao.sources.comments import taken_down
from tests.fakes.fixtures import fake_reddit  # noqa: F401
from tests.fakes.reddit_comments import FakeComment, generate_thread
from tests.sources.test_reddit_source import make_source, saas  # noqa: F401


def comments_request(post: dict, limit: int = 50, max_depth: int = 8) -> CommentRequest:
    return CommentRequest(post_id=post["id"], subreddit="SaaS", limit=limit, max_depth=max_depth)


def expected_order(thread, max_depth: int) -> list[str]:
    """Depth-first, best first among siblings, no deeper than ``max_depth``."""
    out: list[str] = []

    def walk(siblings, depth):
        for c in siblings:
            if depth > max_depth:
                return
            out.append(c.id)
            walk(c.replies, depth + 1)

    walk(thread.top, 0)
    return out


async def test_more_stubs_are_expanded_until_the_limit(fake_reddit, make_source, saas):  # noqa: F811
    post = saas[0]
    thread = fake_reddit.thread(post["id"], 60)
    result = await make_source().fetch_comments(comments_request(post, limit=45))

    assert len(result.comments) == 45
    assert not result.post_gone
    calls = fake_reddit.comment_requests()
    assert calls[0].path == f"/comments/{post['id']}"
    assert calls[0].query["sort"] == "confidence" and calls[0].query["depth"] == "9"
    more = [c for c in calls if c.path == "/api/morechildren"]
    assert more and all(c.query["link_id"] == post["name"] for c in more)
    assert all(len(c.query["children"].split(",")) <= 100 for c in more)
    wanted = set(expected_order(thread, 8))
    assert {c.id for c in result.comments} <= wanted
    assert len({c.id for c in result.comments}) == 45  # no comment twice
    # Depth and parent agree with the thread, whichever response carried the comment.
    by_id = {c.id: c for c in result.comments}
    for c in result.comments:
        assert c.depth == thread.depth_of(thread.by_id[c.id])
        assert c.parent_id == thread.by_id[c.id].parent
        assert c.post_id == post["id"]
        if c.parent_id.startswith("t1_"):
            assert c.parent_id[3:] in by_id  # a reply never arrives without its parent


async def test_whole_thread_when_the_limit_allows(fake_reddit, make_source, saas):  # noqa: F811
    post = saas[1]
    thread = fake_reddit.thread(post["id"], 30)
    result = await make_source().fetch_comments(comments_request(post, limit=500, max_depth=20))
    assert sorted(c.id for c in result.comments) == sorted(thread.all_ids())
    # Deleted and removed comments keep their place with neither author nor text.
    gone = [c for c in result.comments if c.is_deleted]
    assert len(gone) == 2 and all(c.author is None and c.body is None for c in gone)
    # Every HTTP request counts, the token exchange included.
    assert result.requests == len(fake_reddit.comment_requests()) + len(fake_reddit.token_requests())


async def test_a_continue_this_thread_stub_is_not_followed_past_the_depth(fake_reddit, make_source, saas):  # noqa: F811
    post = saas[2]
    fake_reddit.thread(post["id"], chain(post, 6))
    result = await make_source().fetch_comments(comments_request(post, limit=50, max_depth=2))
    assert [c.id for c in result.comments] == ["d0", "d1", "d2"]
    assert [c.depth for c in result.comments] == [0, 1, 2]
    assert [c.path for c in fake_reddit.comment_requests()] == [f"/comments/{post['id']}"]


def chain(post: dict, levels: int, prefix: str = "d", ups: int = 5) -> list[FakeComment]:
    """One reply under the other, ``levels`` deep from the post."""
    return [
        FakeComment(
            f"{prefix}{n}",
            post["name"] if n == 0 else f"t1_{prefix}{n - 1}",
            f"level {n} reply",
            "u",
            ups,
            1.0,
        )
        for n in range(levels)
    ]


async def test_continue_this_thread_links_are_followed_to_the_depth_asked(fake_reddit, make_source, saas):  # noqa: F811
    """Reddit draws 10 levels a page: the replies below level 9 are read through the
    "continue this thread" links (``/comments/{post}/_/{comment}``), down to ``max_depth``."""
    post = saas[6]
    fake_reddit.comment_page_max = 100
    fake_reddit.thread(post["id"], chain(post, 25))
    result = await make_source().fetch_comments(comments_request(post, limit=500, max_depth=20))

    assert [(c.id, c.depth) for c in result.comments] == [(f"d{n}", n) for n in range(21)]
    assert [c.parent_id for c in result.comments] == [post["name"], *(f"t1_d{n}" for n in range(20))]
    calls = fake_reddit.comment_requests()
    assert [c.path for c in calls] == [
        f"/comments/{post['id']}",
        f"/comments/{post['id']}/_/d9",  # levels 9-18 drawn from d9 (its own page's 0-9)
        f"/comments/{post['id']}/_/d18",  # levels 18-20: no deeper than asked
    ]
    assert [c.query["depth"] for c in calls] == ["21", "12", "3"]
    assert all(c.status == 200 for c in calls)


async def test_continued_branches_mix_with_more_stubs(fake_reddit, make_source, saas):  # noqa: F811
    """A busy thread with one deep branch: every comment down to level 15 once, at its
    depth under its parent, whether it came on the page, through /api/morechildren or
    through a "continue this thread" link."""
    post = saas[10]  # [7] and [9] were taken down before they were listed
    fake_reddit.comment_page_max = 30
    thread = fake_reddit.thread(post["id"], [*generate_thread(post, 60), *chain(post, 18, "deep", 1000)])
    result = await make_source().fetch_comments(comments_request(post, limit=500, max_depth=15))

    assert sorted(c.id for c in result.comments) == sorted(expected_order(thread, 15))
    for c in result.comments:
        assert c.depth == thread.depth_of(thread.by_id[c.id])
        assert c.parent_id == thread.by_id[c.id].parent
    paths = [c.path for c in fake_reddit.comment_requests()]
    assert f"/comments/{post['id']}/_/deep9" in paths and "/api/morechildren" in paths
    assert not any(p.endswith("/_/deep15") for p in paths)  # level 16 is deeper than asked


async def test_a_continued_branch_stops_at_the_limit(fake_reddit, make_source, saas):  # noqa: F811
    post = saas[8]
    fake_reddit.comment_page_max = 100
    fake_reddit.thread(post["id"], chain(post, 25))
    result = await make_source().fetch_comments(comments_request(post, limit=12, max_depth=20))
    assert [c.id for c in result.comments] == [f"d{n}" for n in range(12)]
    continued = fake_reddit.comment_requests()[1]
    assert continued.path.endswith("/_/d9") and continued.query["limit"] == "3"  # d9 again, 2 new


async def test_a_continued_branch_that_went_away_loses_only_itself(fake_reddit, make_source, saas):  # noqa: F811
    post = saas[12]
    fake_reddit.comment_page_max = 100
    fake_reddit.thread(post["id"], chain(post, 14))
    fake_reddit.fail_comments("404", 1, skip=1)  # the page is read, then d9 is gone
    result = await make_source().fetch_comments(comments_request(post, limit=50, max_depth=15))
    assert not result.post_gone
    assert [c.id for c in result.comments] == [f"d{n}" for n in range(10)]
    assert [c.status for c in fake_reddit.comment_requests()] == [200, 404]


async def test_a_429_in_the_middle_is_waited_out_and_nothing_is_lost(fake_reddit, make_source, saas):  # noqa: F811
    post = saas[3]
    thread = fake_reddit.thread(post["id"], 40)
    fake_reddit.fail_comments("429", 1, skip=1, retry_after=1)
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    started = time.monotonic()
    result = await make_source().fetch_comments(comments_request(post, limit=500), on_wait=on_wait)
    assert time.monotonic() - started >= 0.9 and waits
    statuses = [c.status for c in fake_reddit.comment_requests()]
    assert statuses[:3] == [200, 429, 200]
    assert sorted(c.id for c in result.comments) == sorted(expected_order(thread, 8))


@pytest.mark.parametrize(("answer", "gone_as"), [("deleted", "deleted"), ("removed", "removed"), ("404", "")])
async def test_a_post_deleted_before_its_comments_are_read_is_reported(
    fake_reddit,  # noqa: F811
    make_source,  # noqa: F811
    saas,  # noqa: F811
    answer,
    gone_as,
):
    """Reddit answers a taken-down post's page with 200, the post a shell and its comments
    still there: none is taken; a purged post's page answers 404."""
    post = saas[4]
    fake_reddit.thread(post["id"], 30)
    fake_reddit.delete_post(post["id"], answer=answer)
    result = await make_source().fetch_comments(comments_request(post))
    assert result.post_gone and result.comments == [] and result.gone_as == gone_as
    [call] = fake_reddit.comment_requests()  # no /api/morechildren for it
    assert call.status == (404 if answer == "404" else 200)


def test_a_taken_down_post_is_told_from_one_whose_author_left() -> None:
    post = {"id": "p1", "author": "alice", "selftext": "Which CRM do you use?", "removed_by_category": None}
    assert taken_down(post) is None
    assert taken_down({**post, "author": "[deleted]"}) is None  # the account went, the post stays
    assert taken_down({**post, "author": "[deleted]", "selftext": "[deleted]"}) == "deleted"
    assert taken_down({**post, "selftext": "[removed]"}) == "removed"
    link = {**post, "selftext": ""}  # a link post has no text to blank
    assert taken_down({**link, "removed_by_category": "deleted"}) == "deleted"
    for category in ("moderator", "automod_filtered", "reddit", "copyright_takedown"):
        assert taken_down({**link, "removed_by_category": category}) == "removed"


async def test_bodies_and_authors_are_read_as_sent(fake_reddit, make_source, saas):  # noqa: F811
    post = saas[5]
    fake_reddit.thread(
        post["id"],
        [FakeComment("x1", post["name"], "Paddle & Stripe > <b>Chargebee</b>", "alice", 7, 1700000000.0)],
    )
    [comment] = (await make_source().fetch_comments(comments_request(post))).comments
    assert (comment.author, comment.body, comment.upvotes) == (
        "alice",
        "Paddle & Stripe > <b>Chargebee</b>",
        7,
    )
    assert comment.created_utc.timestamp() == 1700000000.0
