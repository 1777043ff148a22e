"""Comments through the apify source: the actor's comment items, mapped to the same tree."""

from __future__ import annotations

from bcrao.sources.base import CommentRequest
from tests.fakes.fixtures import fake_apify  # noqa: F401
from tests.fakes.reddit_comments import Thread, generate_thread
from tests.fakes.reddit_posts import generate_posts
from tests.sources.test_apify_source import make_source, request  # noqa: F401


def posts_by_id(run_input: dict) -> dict[str, dict]:
    """The posts the fake actor generated for this input."""
    return {p["id"]: p for p in generate_posts("SaaS", run_input["maxItems"])}


def tree_ids(post: dict, count: int, max_depth: int) -> list[str]:
    """Depth-first, best first among siblings (the actor sends none of this)."""
    thread = Thread(post, generate_thread(post, count))
    out: list[str] = []

    def walk(siblings, depth):
        if depth > max_depth:
            return
        for c in siblings:
            out.append(c.id)
            walk(c.replies, depth + 1)

    walk(thread.top, 0)
    return out


async def test_comment_items_become_each_posts_thread(fake_apify, make_source):  # noqa: F811
    fake_apify.comments_per_post = 12
    source = make_source()
    result = await source.fetch(request(10, comments_per_post=8))
    run_input = fake_apify.inputs[0]
    assert run_input["skipComments"] is False and run_input["maxComments"] == 8
    assert result.posts
    post = posts_by_id(run_input)[result.posts[0].id]

    thread = await source.fetch_comments(
        CommentRequest(post_id=post["id"], subreddit="SaaS", limit=50, max_depth=8)
    )
    assert [c.id for c in thread.comments] == tree_ids(post, 8, 8)
    assert thread.requests == 0  # they came with the posts
    assert all(c.post_id == post["id"] for c in thread.comments)
    deleted = [c for c in thread.comments if c.is_deleted]
    assert deleted and all(c.author is None and c.body is None for c in deleted)
    by_id = {c.id: c for c in thread.comments}
    for c in thread.comments:
        parent = by_id.get(c.parent_id.removeprefix("t1_"))
        assert c.depth == (0 if parent is None else parent.depth + 1)


async def test_limit_and_depth_cut_the_tree(fake_apify, make_source):  # noqa: F811
    fake_apify.comments_per_post = 12
    source = make_source()
    result = await source.fetch(request(5, comments_per_post=12))
    post = posts_by_id(fake_apify.inputs[0])[result.posts[0].id]
    thread = await source.fetch_comments(
        CommentRequest(post_id=post["id"], subreddit="SaaS", limit=4, max_depth=0)
    )
    assert [c.id for c in thread.comments] == tree_ids(post, 12, 0)[:4]
    assert all(c.depth == 0 for c in thread.comments)
    # Asked for again (the items were handed out once): nothing left, not an error.
    again = await source.fetch_comments(
        CommentRequest(post_id=post["id"], subreddit="SaaS", limit=4, max_depth=0)
    )
    assert again.comments == []


async def test_no_comments_asked_means_none_scraped(fake_apify, make_source):  # noqa: F811
    await make_source().fetch(request(5))
    assert fake_apify.inputs[0]["skipComments"] is True and fake_apify.inputs[0]["maxComments"] == 0
