from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bcrao.sources.normalize import from_reddit_json

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "reddit_api"


def _t3_children(node):
    if isinstance(node, dict):
        if node.get("kind") == "t3" and isinstance(node.get("data"), dict):
            yield node["data"]
        for value in node.values():
            yield from _t3_children(value)
    elif isinstance(node, list):
        for value in node:
            yield from _t3_children(value)


def test_an_almost_empty_object_still_converts():
    post = from_reddit_json({"name": "t3_abc12"})
    assert post.id == "abc12"
    assert post.title == post.text == ""
    assert post.author is None
    assert post.upvotes == post.comment_count == 0
    assert post.upvote_ratio is None
    assert post.created_utc == datetime.fromtimestamp(0, tz=UTC)
    assert post.permalink == "https://www.reddit.com/comments/abc12/"


def test_a_typical_self_post_maps_every_field():
    post = from_reddit_json(
        {
            "id": "1q2w3e",
            "name": "t3_1q2w3e",
            "subreddit": "SaaS",
            "title": "Hit $5k MRR",
            "selftext": "Story time.",
            "author": "founder",
            "url": "https://www.reddit.com/r/SaaS/comments/1q2w3e/x/",
            "permalink": "/r/SaaS/comments/1q2w3e/x/",
            "ups": 42,
            "score": 40,
            "num_comments": 7,
            "upvote_ratio": 0.93,
            "created_utc": 1767225600,
            "is_self": True,
            "stickied": False,
            "over_18": False,
            "distinguished": None,
            "link_flair_text": "Milestone",
        }
    )
    assert post.permalink == "https://www.reddit.com/r/SaaS/comments/1q2w3e/x/"
    assert post.url == post.permalink
    assert (post.upvotes, post.comment_count, post.upvote_ratio) == (42, 7, 0.93)
    assert post.created_utc == datetime(2026, 1, 1, tzinfo=UTC)
    assert post.link_flair_text == "Milestone"
    assert not post.removed and not post.is_crosspost


@pytest.mark.parametrize(
    ("data", "removed", "author"),
    [
        ({"selftext": "[removed]", "author": "someone"}, True, "someone"),
        ({"selftext": "[deleted]", "author": "[deleted]"}, True, None),
        ({"selftext": "fine", "author": None, "removed_by_category": "deleted"}, True, None),
        ({"selftext": "fine", "author": "a", "removed_by_category": "moderator"}, True, "a"),
        ({"selftext": "fine", "author": "a", "removed_by_category": None}, False, "a"),
    ],
)
def test_removed_and_deleted_posts_are_flagged_and_raw_text_is_kept(data, removed, author):
    post = from_reddit_json({"id": "x1", **data})
    assert post.removed is removed
    assert post.author == author
    assert post.text == data["selftext"]


def test_a_crosspost_is_flagged_and_its_relative_url_made_absolute():
    post = from_reddit_json(
        {
            "id": "c1",
            "is_self": False,
            "url": "/r/RDDT/comments/p1/title/",
            "crosspost_parent": "t3_p1",
            "crosspost_parent_list": [{"id": "p1"}],
            "permalink": "/r/u_x/comments/c1/title/",
        }
    )
    assert post.is_crosspost
    assert post.url == "https://www.reddit.com/r/RDDT/comments/p1/title/"


def test_odd_values_are_coerced_instead_of_raising():
    post = from_reddit_json(
        {
            "id": "o1",
            "ups": None,
            "score": "12",
            "num_comments": "3",
            "upvote_ratio": "n/a",
            "created_utc": "1767225600.5",
            "domain": "self.SaaS",
        }
    )
    assert (post.upvotes, post.comment_count, post.upvote_ratio) == (12, 3, None)
    assert post.created_utc.year == 2026
    assert post.is_self


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason="shared Reddit recordings not available")
def test_every_recorded_reddit_submission_converts():
    seen = 0
    for path in sorted(RECORDINGS.glob("*.json")):
        for data in _t3_children(json.loads(path.read_text(encoding="utf-8"))):
            post = from_reddit_json(data)
            seen += 1
            assert post.id and post.id == data["id"]
            assert post.permalink.startswith("https://www.reddit.com/")
            assert post.url.startswith(("http://", "https://"))
            assert post.created_utc.year >= 2005
            assert post.upvotes >= 0 and post.comment_count >= 0
            if data.get("selftext") in ("[removed]", "[deleted]"):
                assert post.removed
            if data.get("author") == "[deleted]":
                assert post.author is None
            if data.get("crosspost_parent_list"):
                assert post.is_crosspost
    assert seen > 300
