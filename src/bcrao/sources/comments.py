"""Reddit comment trees in their wire format, turned into the flat list we store.

``GET /comments/{id}`` answers two Listings: the post, then its comment tree, where each
``t1`` carries its ``replies`` (a Listing, or ``""`` when there are none) and the replies
Reddit did not send are ``more`` stubs: ``count`` hidden comments whose ids are in
``children``, fetched with ``/api/morechildren`` (which answers *flat* things, each with its
``parent_id`` and ``depth``). A ``more`` with id ``_`` and no children is a "continue this
thread" link: Reddit draws at most 10 levels on a page, and the replies of the comment at
the last level are behind it. They are read with ``GET /comments/{post}/_/{comment}``, which
answers that comment as the top of a new page (its ``depth`` counted from there, so the
depths we store are counted from the post by us, never taken from the page).

``ThreadReader`` keeps the comments in the order Reddit sends them (best first among
siblings, depth-first) and the stubs still to expand, in the order met, and stops at the
per-post limit or the depth limit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bcrao.sources.base import ItemState, NormalizedComment
from bcrao.sources.normalize import DELETED_AUTHORS, REMOVED_BODIES, created_at, to_int

MORECHILDREN_BATCH = 100  # ids per /api/morechildren call, Reddit's maximum


@dataclass(slots=True)
class MoreStub:
    """Replies Reddit did not send: ``children`` ids for ``/api/morechildren``, or none for
    a "continue this thread" link to the replies of ``parent_id`` (a ``t1_`` fullname)."""

    parent_id: str
    depth: int  # of the comments it stands for
    children: list[str]

    @property
    def is_continue(self) -> bool:
        return not self.children


def from_comment_json(data: dict[str, Any], post_id: str) -> NormalizedComment | None:
    """Convert the ``data`` of a ``t1``; None when it has no id."""
    comment_id = str(data.get("id") or "") or str(data.get("name") or "").removeprefix("t1_")
    if not comment_id:
        return None
    body = data.get("body")
    body = body if isinstance(body, str) else ""
    author = data.get("author")
    author = author if isinstance(author, str) else ""
    deleted = body.strip() in REMOVED_BODIES or (author in DELETED_AUTHORS and body.strip() == "")
    parent = str(data.get("parent_id") or f"t3_{post_id}")
    distinguished = data.get("distinguished")
    return NormalizedComment(
        id=comment_id,
        post_id=post_id,
        parent_id=parent,
        depth=to_int(data.get("depth")),
        author=None if deleted or author in DELETED_AUTHORS else author,
        body=None if deleted else body,
        upvotes=to_int(data.get("ups") if data.get("ups") is not None else data.get("score")),
        created_utc=created_at(data),
        is_deleted=deleted,
        distinguished=distinguished if isinstance(distinguished, str) else None,
        stickied=bool(data.get("stickied")),
    )


@dataclass
class ThreadReader:
    """Collects one post's comments, best first, up to ``limit`` and ``max_depth``."""

    post_id: str
    limit: int
    max_depth: int
    comments: list[NormalizedComment] = field(default_factory=list)
    stubs: deque[MoreStub] = field(default_factory=deque)
    skipped_deep: int = 0  # comments (or stubs) beyond the depth limit, not followed
    _seen: set[str] = field(default_factory=set)
    _queued: set[str] = field(default_factory=set)  # ids in a stub, asked for or still to ask
    _depths: dict[str, int] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return len(self.comments) >= self.limit

    def read_tree(self, children: Any, depth: int = 0) -> None:
        """Walk a comment Listing's children (and their nested replies) in order."""
        for child in children if isinstance(children, list) else []:
            if self.full:
                return
            kind, data = _kind_data(child)
            if kind == "t1":
                comment = self._add(data, depth)
                replies = data.get("replies")
                if comment is not None and isinstance(replies, dict):
                    self.read_tree((replies.get("data") or {}).get("children"), comment.depth + 1)
            elif kind == "more":
                self._add_stub(data, depth)

    def read_things(self, things: Any) -> None:
        """Add the flat things of a ``/api/morechildren`` answer (parents come before children)."""
        for child in things if isinstance(things, list) else []:
            if self.full:
                return
            kind, data = _kind_data(child)
            parent_depth = self._depths.get(str(data.get("parent_id") or "").removeprefix("t1_"))
            depth = parent_depth + 1 if parent_depth is not None else to_int(data.get("depth"))
            if kind == "t1":
                self._add(data, depth)
            elif kind == "more":
                self._add_stub(data, depth)

    def next_batch(self) -> list[str]:
        """Up to ``MORECHILDREN_BATCH`` ids to expand next, taken from the best stubs first
        and never more than the comments still wanted; empty when a "continue this thread"
        link comes first (``next_continue``)."""
        wanted = min(MORECHILDREN_BATCH, self.limit - len(self.comments))
        batch: list[str] = []
        while self.stubs and not self.stubs[0].is_continue and len(batch) < wanted:
            stub = self.stubs[0]
            take = stub.children[: wanted - len(batch)]
            batch.extend(take)
            del stub.children[: len(take)]
            if not stub.children:
                self.stubs.popleft()
        return batch

    def next_continue(self) -> MoreStub | None:
        """The "continue this thread" link to follow next, when it comes first."""
        if self.full or not self.stubs or not self.stubs[0].is_continue:
            return None
        return self.stubs.popleft()

    def read_continued(self, stub: MoreStub, children: Any) -> None:
        """Add the replies under ``stub`` from the comment Listing of
        ``/comments/{post}/_/{comment}``: that comment on top (read already), its replies
        below, at depths counted from our tree."""
        parent = stub.parent_id.removeprefix("t1_")
        for child in children if isinstance(children, list) else []:
            kind, data = _kind_data(child)
            if kind != "t1":
                continue
            if str(data.get("id") or "") == parent:
                replies = data.get("replies")
                if isinstance(replies, dict):
                    self.read_tree((replies.get("data") or {}).get("children"), stub.depth)
            elif data.get("parent_id") == stub.parent_id:  # a page that starts at the replies
                self.read_tree([child], stub.depth)

    def _add(self, data: dict[str, Any], depth: int) -> NormalizedComment | None:
        comment = from_comment_json(data, self.post_id)
        if comment is None or comment.id in self._seen:
            return None
        comment.depth = depth
        if depth > self.max_depth:
            self.skipped_deep += 1
            return None
        self._seen.add(comment.id)
        self._depths[comment.id] = depth
        self.comments.append(comment)
        return comment

    def _add_stub(self, data: dict[str, Any], depth: int) -> None:
        listed = [str(c) for c in data.get("children") or [] if c and str(c) != "_"]
        if not listed or str(data.get("id")) == "_":  # "continue this thread"
            parent = str(data.get("parent_id") or "")
            if depth > self.max_depth or not parent.startswith("t1_"):
                self.skipped_deep += 1
            elif parent not in self._queued:  # fullnames here, bare ids for morechildren
                self._queued.add(parent)
                self.stubs.append(MoreStub(parent_id=parent, depth=depth, children=[]))
            return
        # An id already read or already in a stub is never asked for twice, so an answer
        # that repeats a stub cannot keep the expansion going round.
        children = [c for c in listed if c not in self._seen and c not in self._queued]
        if not children:
            return
        if depth > self.max_depth:
            self.skipped_deep += len(children)
            return
        self._queued.update(children)
        self.stubs.append(
            MoreStub(parent_id=str(data.get("parent_id") or ""), depth=depth, children=children)
        )


def _kind_data(child: Any) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(child, dict) or not isinstance(child.get("data"), dict):
        return None, {}
    return child.get("kind"), child["data"]


def thread_listing(body: Any) -> tuple[dict[str, Any] | None, list[Any]] | None:
    """``(post data or None, comment children)`` of a ``/comments/{id}`` answer, or None
    when the body is not the two-Listing array."""
    if not isinstance(body, list) or len(body) < 2:
        return None
    post_listing, comment_listing = body[0], body[1]
    if not all(isinstance(x, dict) and x.get("kind") == "Listing" for x in (post_listing, comment_listing)):
        return None
    posts = (post_listing.get("data") or {}).get("children") or []
    post = posts[0].get("data") if posts and isinstance(posts[0], dict) else None
    children = (comment_listing.get("data") or {}).get("children") or []
    return (post if isinstance(post, dict) else None), children if isinstance(children, list) else []


def morechildren_things(body: Any) -> list[Any] | None:
    """The ``things`` of a ``/api/morechildren?api_type=json`` answer, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("json"), dict):
        return None
    data = body["json"].get("data")
    if not isinstance(data, dict):
        return [] if not body["json"].get("errors") else None
    things = data.get("things")
    return things if isinstance(things, list) else None


def taken_down(post: dict[str, Any]) -> str | None:
    """``"deleted"`` or ``"removed"`` when the post on a comments page was taken down since
    it was listed, else None. Reddit still answers 200 for such a post, with its comments,
    but the post itself is a shell: text ``[deleted]`` (by its author) or ``[removed]`` (by
    moderators or Reddit), ``removed_by_category`` saying who. An author who deleted their
    account leaves the post standing (author ``[deleted]``, text intact): not taken down."""
    text = post.get("selftext")
    text = text.strip() if isinstance(text, str) else ""
    category = post.get("removed_by_category")
    if category == "deleted" or text == "[deleted]":
        return "deleted"
    if (isinstance(category, str) and category) or text == "[removed]":
        return "removed"
    return None


INFO_BATCH = 100  # fullnames per /api/info call, Reddit's maximum


def info_states(fullnames: list[str], children: list[Any]) -> dict[str, ItemState]:
    """The state of each asked-for item from a ``/api/info`` Listing's children: ``deleted``
    by its author, ``removed`` by moderators or Reddit, ``ok``; one not in the answer is gone
    (``deleted``)."""
    states: dict[str, ItemState] = dict.fromkeys(fullnames, "deleted")
    for child in children:
        kind, data = _kind_data(child)
        name = str(data.get("name") or "")
        if not name and data.get("id") and kind in ("t1", "t3"):
            name = f"{kind}_{data['id']}"
        if name in states:
            states[name] = item_state(kind, data)
    return states


def item_state(kind: str | None, data: dict[str, Any]) -> ItemState:
    text = data.get("body") if kind == "t1" else data.get("selftext")
    text = text.strip() if isinstance(text, str) else ""
    author = data.get("author")
    category = data.get("removed_by_category")  # "deleted" is the author's own doing
    if category == "deleted" or text == "[deleted]" or author == "[deleted]":
        return "deleted"
    if text == "[removed]" or category or data.get("banned_by"):
        return "removed"
    return "ok"
