"""Read a post's thread: in tree order (as Reddit shows it) or flat by votes or time.

Tree order is depth-first with the best-voted reply first among siblings. It is computed
in Python from the post's ordering columns (one range scan of ``ix_raw_comments_post_upvotes``),
then only the page's rows are read in full: a thread of 500 comments is one 500-row read of
five narrow columns and one read of the page. "top" pages straight from the same index.
The post's ``comments_collected`` (kept with its comments) is the total.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import UnaryExpression, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.collection.models import RawPost
from bcrao.comments.models import RawComment
from bcrao.comments.schemas import COMMENT_FIELDS, CommentList, CommentOut
from bcrao.db import core_execute
from bcrao.posts.service import PostNotFound

_COLUMNS = [getattr(RawComment, name) for name in COMMENT_FIELDS]

_POST = select(RawPost.reddit_post_id, RawPost.reddit_url, RawPost.comments_collected).where(
    RawPost.id == bindparam("post_id"), RawPost.campaign_id == bindparam("campaign_id")
)
_TREE_KEYS = select(
    RawComment.id, RawComment.reddit_comment_id, RawComment.parent_id, RawComment.upvotes
).where(RawComment.post_id == bindparam("post_id"))
_BY_IDS = select(*_COLUMNS).where(RawComment.id.in_(bindparam("ids", expanding=True)))
_FLAT: dict[str, list[UnaryExpression[Any]]] = {
    "top": [RawComment.upvotes.desc(), RawComment.id.desc()],
    "new": [RawComment.reddit_created_at.desc(), RawComment.id.desc()],
}
_FLAT_PAGES = {
    order: select(*_COLUMNS)
    .where(RawComment.post_id == bindparam("post_id"))
    .order_by(*keys)
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
    for order, keys in _FLAT.items()
}


def tree_order(rows: Iterable[Any], post_reddit_id: str) -> list[Any]:
    """Rows with ``reddit_comment_id``, ``parent_id`` and ``upvotes`` in thread order:
    each comment followed by its replies, best first among siblings. A reply whose parent
    was not collected is shown at the top level rather than lost."""
    rows = list(rows)
    known = {f"t1_{r.reddit_comment_id}" for r in rows}
    children: dict[str, list[Any]] = {}
    root = f"t3_{post_reddit_id}"
    for row in rows:
        parent = row.parent_id if row.parent_id in known else root
        children.setdefault(parent, []).append(row)
    for siblings in children.values():
        siblings.sort(key=lambda r: (-r.upvotes, r.reddit_comment_id))
    ordered: list[Any] = []
    stack = list(reversed(children.get(root, [])))
    while stack:
        row = stack.pop()
        ordered.append(row)
        stack.extend(reversed(children.get(f"t1_{row.reddit_comment_id}", [])))
    return ordered


def comment_url(post_url: str, reddit_comment_id: str) -> str:
    return f"{post_url.rstrip('/')}/{reddit_comment_id}/"


def comment_out(row: Any, post_url: str) -> CommentOut:
    return CommentOut(
        **dict(zip(COMMENT_FIELDS, row, strict=False)),
        reddit_url=comment_url(post_url, row.reddit_comment_id),
    )


async def list_comments(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    post_id: uuid.UUID,
    order: str,
    page: int,
    per_page: int,
) -> CommentList:
    post = (await core_execute(session, _POST, {"post_id": post_id, "campaign_id": campaign_id})).first()
    if post is None:
        raise PostNotFound()
    reddit_post_id, post_url, total = post
    offset = (page - 1) * per_page
    rows: Sequence[Any]
    if not total:
        rows = []
    elif order == "tree":
        keys = list(await core_execute(session, _TREE_KEYS, {"post_id": post_id}))
        page_ids = [r.id for r in tree_order(keys, reddit_post_id)[offset : offset + per_page]]
        by_id = {r.id: r for r in await core_execute(session, _BY_IDS, {"ids": page_ids})} if page_ids else {}
        rows = [by_id[i] for i in page_ids if i in by_id]
    else:
        params = {"post_id": post_id, "offset": offset, "limit": per_page}
        rows = list(await core_execute(session, _FLAT_PAGES[order], params))
    return CommentList(
        comments=[comment_out(r, post_url) for r in rows], total=total, page=page, per_page=per_page
    )
