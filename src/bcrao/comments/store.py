"""Writes of a post's comments: one transaction per post, counted where they are read.

``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on (campaign, reddit comment id) tells which
comments are new, so re-collecting a thread appends its new replies and nothing twice. In
the same transaction the post's ``comments_collected`` and ``comment_terms`` (the words
``search_in=comments`` matches) and the campaign's ``comment_totals`` grow by what was new.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, bindparam, cast, select, update
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.collection.models import RawPost
from bcrao.collection.store import INSERT_BATCH, dialect_insert, insert_new, lock_campaign, stored_by_run
from bcrao.comments.models import CommentTotal, RawComment
from bcrao.compliance.checks import tombstoned
from bcrao.db import dialect_of, new_id, utcnow
from bcrao.posts.search import search_terms
from bcrao.sources.base import NormalizedComment

AUTHOR_CHARS = 64


def comment_rows(
    comments: Sequence[NormalizedComment],
    *,
    campaign_id: uuid.UUID,
    user_id: uuid.UUID,
    post_id: uuid.UUID,
    run_id: uuid.UUID | None,
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "id": new_id(),
            "campaign_id": campaign_id,
            "user_id": user_id,
            "post_id": post_id,
            "run_id": run_id,
            "reddit_comment_id": c.id[:16],
            "parent_id": c.parent_id[:20],
            "depth": c.depth,
            "author": None if c.is_deleted else (c.author or None) and c.author[:AUTHOR_CHARS],
            "body": None if c.is_deleted else c.body,
            "upvotes": c.upvotes,
            "reddit_created_at": c.created_utc,
            "is_deleted": c.is_deleted,
            "collected_at": now,
        }
        for c in comments
    ]


async def insert_comments(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    post_id: uuid.UUID,
    run_id: uuid.UUID | None,
    rows: Sequence[dict[str, Any]],
) -> int:
    """Store the comments of one post that are new; return how many this run stored.

    Comments this same run stored before (a redelivered run re-doing its work) count as
    stored again but are not added twice, so a rerun's counters match an uninterrupted run's.
    """
    if not rows:
        return 0
    await lock_campaign(session, campaign_id)
    # Comments purged after deletion on Reddit are never stored again.
    gone = await tombstoned(session, campaign_id, [f"t1_{r['reddit_comment_id']}" for r in rows])
    rows = [r for r in rows if f"t1_{r['reddit_comment_id']}" not in gone]
    if not rows:
        return 0
    inserted: set[str] = set()
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        inserted |= await insert_new(session, RawComment.__table__, "reddit_comment_id", batch)
    conflicts = [r["reddit_comment_id"] for r in rows if r["reddit_comment_id"] not in inserted]
    mine = await stored_by_run(session, RawComment.reddit_comment_id, campaign_id, run_id, conflicts)
    if inserted:
        new_rows = [r for r in rows if r["reddit_comment_id"] in inserted]
        terms = search_terms(*(r["body"] for r in new_rows))
        had_comments = await _add_to_post(session, post_id, len(inserted), terms)
        await _add_to_totals(session, campaign_id, len(inserted), 0 if had_comments else 1)
    return len(inserted) + mine


async def _add_to_post(session: AsyncSession, post_id: uuid.UUID, added: int, terms: str) -> bool:
    """Count the new comments on the post and add their words; whether it had some before."""
    connection = await session.connection()
    if dialect_of(session) == "postgresql":
        merged: Any = RawPost.comment_terms.op("||")(cast(bindparam("terms", type_=Text()), TSVECTOR))
        params: dict[str, Any] = {"terms": terms}
    else:
        current = await connection.scalar(select(RawPost.comment_terms).where(RawPost.id == post_id))
        merged = bindparam("terms", type_=Text())
        params = {"terms": search_terms(current, terms)}
    before = await connection.scalar(
        update(RawPost)
        .where(RawPost.id == post_id)
        .values(comments_collected=RawPost.comments_collected + added, comment_terms=merged)
        .returning(RawPost.comments_collected - added),
        params,
    )
    return bool(before)


async def _add_to_totals(session: AsyncSession, campaign_id: uuid.UUID, comments: int, posts: int) -> None:
    table = CommentTotal.__table__
    statement = dialect_insert(session, table).values(
        campaign_id=campaign_id, comments=comments, posts_with_comments=posts
    )
    statement = statement.on_conflict_do_update(
        index_elements=["campaign_id"],
        set_={
            "comments": table.c.comments + statement.excluded.comments,
            "posts_with_comments": table.c.posts_with_comments + statement.excluded.posts_with_comments,
        },
    )
    await session.execute(statement)
