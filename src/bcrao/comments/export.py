"""Stream every comment of the posts a post-list query matches, as CSV or JSON Lines.

The posts are walked as the post export walks them (keyset batches, in the list's sort);
their comments are read a few posts at a time and written in thread order, each with its
post's ``reddit_post_id``, through the post export's encoders (same formula guard, same
BOM, same JSON conventions). Memory holds the comments of ``POSTS_PER_READ`` posts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.collection.models import RawPost
from bcrao.comments.models import RawComment
from bcrao.comments.schemas import COMMENT_FIELDS
from bcrao.comments.service import comment_url, tree_order
from bcrao.db import core_execute, dialect_of
from bcrao.posts.export import (
    CsvEncoder,
    RowFormat,
    batches_by_keyset,
    guarded,
    jsonl_lines,
    text_id,
    utc_text,
)
from bcrao.posts.schemas import PostFilters
from bcrao.posts.service import SORTS, filter_clauses, order_by

POSTS_PER_READ = 50  # at most 500 comments each: 25k rows in memory at worst

EXPORT_FIELDS = (*COMMENT_FIELDS, "reddit_post_id", "reddit_url")
COMMENT_ROWS = RowFormat(
    EXPORT_FIELDS,
    to_json={
        **dict.fromkeys(("id", "post_id"), text_id),
        **dict.fromkeys(("reddit_created_at", "collected_at"), utc_text),
    },
    to_cell={
        **dict.fromkeys(
            ("reddit_comment_id", "parent_id", "author", "body", "reddit_post_id", "reddit_url"), guarded
        ),
        "is_deleted": lambda value: "true" if value else "false",
    },
)

_COMMENTS_OF = select(*(getattr(RawComment, name) for name in COMMENT_FIELDS)).where(
    RawComment.post_id.in_(bindparam("post_ids", expanding=True))
)


async def export_comments(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    campaign_id: uuid.UUID,
    filters: PostFilters,
    fmt: str,
) -> AsyncIterator[bytes]:
    csv_encoder = CsvEncoder(COMMENT_ROWS) if fmt == "csv" else None
    if csv_encoder is not None:
        yield csv_encoder.header()
    async with sessionmaker() as session:
        dialect = dialect_of(session)
        posts = (
            select(RawPost.id, RawPost.reddit_post_id, RawPost.reddit_url, SORTS[filters.sort][0])
            .where(
                *filter_clauses(filters, campaign_id=campaign_id, dialect=dialect),
                RawPost.comments_collected > 0,
            )
            .order_by(*order_by(filters.sort))
        )
        async for batch in batches_by_keyset(session, posts, filters.sort):
            for start in range(0, len(batch), POSTS_PER_READ):
                rows = await _rows(session, batch[start : start + POSTS_PER_READ])
                if not rows:
                    continue
                if csv_encoder is not None:
                    yield csv_encoder.rows(rows)
                else:
                    yield jsonl_lines(COMMENT_ROWS.json_dict(row) for row in rows)


async def _rows(session: AsyncSession, posts: list[Any]) -> list[tuple[Any, ...]]:
    """The posts' comments, post by post in the given order, each thread in tree order."""
    by_post: dict[uuid.UUID, list[Any]] = {}
    result = await core_execute(session, _COMMENTS_OF, {"post_ids": [p.id for p in posts]})
    for row in result:
        by_post.setdefault(row.post_id, []).append(row)
    rows: list[tuple[Any, ...]] = []
    for post in posts:
        for comment in tree_order(by_post.get(post.id, ()), post.reddit_post_id):
            url = comment_url(post.reddit_url, comment.reddit_comment_id)
            rows.append((*comment, post.reddit_post_id, url))
    return rows
