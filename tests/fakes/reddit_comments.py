"""Comment threads for the fake Reddit, rendered in the wire format of the recorded traffic
(``shared/reddit_api/comments__*.json`` and ``morechildren__*.json``).

A thread is a list of comments, each knowing its parent; ``render_page`` draws what
``GET /comments/{id}`` answers (nested ``replies``, ``""`` when empty; the siblings past the
page's ``limit`` in a ``more`` stub whose ``children`` are their ids and ``count`` everything
under them; a "continue this thread" stub, id ``_`` and no children, below the ``depth``
asked for; Reddit draws 10 levels at most), ``render_page(root=...)`` what that stub opens,
and ``render_more`` what ``/api/morechildren`` answers: the asked-for comments
and their replies as flat things with ``parent_id`` and ``depth``, deeper ones as more stubs.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_BODIES = [
    "We switched to {tool} last year and churn went down a lot.",
    "Honestly {tool} is too expensive for a team of three.",
    "Have you tried {tool}? It does exactly this for freelancers.",
    "Same problem here. Following for answers.",
    "The onboarding is the issue, not the pricing. Talk to ten users first.",
    "I built something like this with a spreadsheet and {tool}, happy to share.",
    "What does your funnel look like before the trial ends?",
    "{tool} support never answered our tickets, we moved away.",
]
_TOOLS = ["Stripe", "Paddle", "Chargebee", "Notion", "HubSpot", "Zapier", "Airtable", "Baremetrics"]


@dataclass(slots=True)
class FakeComment:
    id: str
    parent: str  # fullname: t3_<post> or t1_<comment>
    body: str
    author: str
    ups: int
    created_utc: float
    distinguished: str | None = None
    stickied: bool = False
    replies: list[FakeComment] = field(default_factory=list)


class Thread:
    """One post's comments; siblings are kept best first (as ``sort=confidence`` gives them)."""

    def __init__(self, post: dict[str, Any], comments: list[FakeComment]) -> None:
        self.post = post
        self.by_id = {c.id: c for c in comments}
        self.top: list[FakeComment] = []
        for c in comments:
            c.replies = []
        for c in comments:
            parent = self.by_id.get(c.parent.removeprefix("t1_")) if c.parent.startswith("t1_") else None
            (parent.replies if parent else self.top).append(c)
        for c in [*comments, None]:
            siblings = self.top if c is None else c.replies
            siblings.sort(key=lambda x: (-x.ups, x.id))

    @property
    def link_id(self) -> str:
        return self.post["name"]

    def all_ids(self) -> list[str]:
        return list(self.by_id)

    def depth_of(self, comment: FakeComment) -> int:
        depth = 0
        while comment.parent.startswith("t1_"):
            comment = self.by_id[comment.parent.removeprefix("t1_")]
            depth += 1
        return depth

    def _count(self, comments: list[FakeComment]) -> int:
        return sum(1 + self._count(c.replies) for c in comments)

    def _data(self, c: FakeComment, depth: int, replies: Any) -> dict[str, Any]:
        return {
            "subreddit_id": "t5_2qh33",
            "link_id": self.link_id,
            "likes": None,
            "replies": replies,
            "id": c.id,
            "score": c.ups,
            "author": c.author,
            "parent_id": c.parent,
            "body": c.body,
            "edited": False,
            "downs": 0,
            "body_html": f'<div class="md"><p>{c.body}</p>\n</div>',
            "subreddit": self.post["subreddit"],
            "name": f"t1_{c.id}",
            "score_hidden": False,
            "stickied": c.stickied,
            "created": c.created_utc,
            "created_utc": c.created_utc,
            "distinguished": c.distinguished,
            "depth": depth,
            "ups": c.ups,
            "controversiality": 0,
        }

    def _more(self, parent: str, depth: int, rest: list[FakeComment]) -> dict[str, Any]:
        return {
            "kind": "more",
            "data": {
                "count": self._count(rest),
                "name": f"t1_{rest[0].id}",
                "id": rest[0].id,
                "parent_id": parent,
                "depth": depth,
                "children": [c.id for c in rest],
            },
        }

    @staticmethod
    def _continue(parent: str, depth: int) -> dict[str, Any]:
        return {
            "kind": "more",
            "data": {
                "count": 0,
                "name": "t1__",
                "id": "_",
                "parent_id": parent,
                "depth": depth,
                "children": [],
            },
        }

    def render_page(self, limit: int, depth: int, root: str | None = None) -> list[dict[str, Any]]:
        """The two Listings of ``GET /comments/{id}?limit=&depth=``; with ``root``, of
        ``GET /comments/{id}/_/{root}``: that comment alone on top, at depth 0, and its
        replies below it (what a "continue this thread" link opens)."""
        budget = [max(1, limit)]

        def level(siblings: list[FakeComment], parent: str, d: int) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for i, c in enumerate(siblings):
                if budget[0] <= 0:
                    out.append(self._more(parent, d, siblings[i:]))
                    break
                budget[0] -= 1
                replies: Any = ""
                if c.replies:
                    children = (
                        [self._continue(f"t1_{c.id}", d + 1)]
                        if d + 1 >= depth
                        else level(c.replies, f"t1_{c.id}", d + 1)
                    )
                    replies = _listing(children)
                out.append({"kind": "t1", "data": self._data(c, d, replies)})
            return out

        post_listing = _listing([{"kind": "t3", "data": self.post}])
        if root is not None:
            top = self.by_id[root]
            return [post_listing, _listing(level([top], top.parent, 0))]
        return [post_listing, _listing(level(self.top, self.link_id, 0))]

    def render_more(self, ids: list[str], levels: int = 2) -> dict[str, Any]:
        """``/api/morechildren?api_type=json``: the comments asked for, ``levels`` of their
        replies, and more stubs for what lies deeper, flat and depth-first."""
        things: list[dict[str, Any]] = []

        def walk(c: FakeComment, d: int, left: int) -> None:
            things.append({"kind": "t1", "data": self._data(c, d, "")})
            if not c.replies:
                return
            if left == 0:
                things.append(self._more(f"t1_{c.id}", d + 1, c.replies))
                return
            for r in c.replies:
                walk(r, d + 1, left - 1)

        for cid in ids:
            comment = self.by_id.get(cid)
            if comment is not None:
                walk(comment, self.depth_of(comment), levels)
        return {"json": {"errors": [], "data": {"things": things}}}


def _listing(children: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"modhash": None, "children": children, "after": None, "before": None}}


def generate_thread(post: dict[str, Any], count: int) -> list[FakeComment]:
    """A deterministic thread of ``count`` comments for ``post`` (seeded by its id), with the
    untidiness of real ones: replies several levels deep, a deleted and a removed comment,
    AutoModerator's stickied notice and a one-word reaction."""
    rng = random.Random(hashlib.sha256(post["id"].encode()).digest())
    base = int(hashlib.sha256(post["id"].encode()).hexdigest()[:8], 16)
    comments: list[FakeComment] = []
    for n in range(count):
        cid = _base36(base * 1000 + n)
        parent = post["name"]
        if comments and rng.random() < 0.6:
            parent = f"t1_{rng.choice(comments[-6:]).id}"
        body = rng.choice(_BODIES).format(tool=rng.choice(_TOOLS))
        author = f"user{rng.randint(1, 999)}"
        comment = FakeComment(
            cid, parent, body, author, rng.randint(-3, 400), post["created_utc"] + 60 * (n + 1)
        )
        if n == 0 and count >= 6:
            comment.parent, comment.author, comment.ups = post["name"], "AutoModerator", 1
            comment.body, comment.distinguished, comment.stickied = (
                "Please read the rules.",
                "moderator",
                True,
            )
        elif n == 2:
            comment.author, comment.body = "[deleted]", "[deleted]"
        elif n == 4:
            comment.author, comment.body = "[deleted]", "[removed]"
        elif n == 5:
            comment.body = "This."
        comments.append(comment)
    return comments


def _base36(number: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _DIGITS[digit] + out
        if number == 0:
            return out
