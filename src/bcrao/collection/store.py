"""Writes of a run: de-duplicated post inserts, rejected samples, incremental cursors.

De-duplication is the database's job: ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on
(campaign_id, reddit_post_id) tells us exactly which rows are new, on both dialects.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.collection.models import PostCount, RawPost, RejectedSample, SourceCursor
from bcrao.db import utcnow

# Keep each statement well under SQLite's bound-parameter limit (32,766) and PostgreSQL's (65,535).
INSERT_BATCH = 500


@dataclass(slots=True)
class StoreOutcome:
    stored: int
    duplicates: int


def _insert(session: AsyncSession, table: Any):
    return (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)(table)


async def insert_posts(
    session: AsyncSession, *, campaign_id: uuid.UUID, run_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> StoreOutcome:
    """Insert new posts; count the rest as duplicates.

    A post already stored *by this same run* (a redelivered task re-doing its work) counts
    as stored, not duplicate, so a rerun's totals match an uninterrupted run's.
    """
    stored = duplicates = 0
    # One cached statement executed with many parameter sets: SQLAlchemy's "insertmanyvalues"
    # batches them into multi-row INSERTs without recompiling SQL for every batch.
    table = RawPost.__table__
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["campaign_id", "reddit_post_id"])
        .returning(table.c.reddit_post_id)
    )
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        inserted = set((await session.execute(stmt, list(batch))).scalars().all())
        conflicts = [r["reddit_post_id"] for r in batch if r["reddit_post_id"] not in inserted]
        mine = 0
        if conflicts:
            mine = len(
                (
                    await session.scalars(
                        select(RawPost.reddit_post_id).where(
                            RawPost.campaign_id == campaign_id,
                            RawPost.reddit_post_id.in_(conflicts),
                            RawPost.run_id == run_id,
                        )
                    )
                ).all()
            )
        stored += len(inserted) + mine
        duplicates += len(conflicts) - mine
        await _count_new_posts(
            session, campaign_id=campaign_id, rows=[r for r in batch if r["reddit_post_id"] in inserted]
        )
    return StoreOutcome(stored=stored, duplicates=duplicates)


def score_bucket(score: float) -> int:
    """0 for [0, 1), ..., 9 for [9, 10]: a 10 belongs to the last bucket."""
    return min(9, max(0, int(score)))


async def _count_new_posts(
    session: AsyncSession, *, campaign_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> None:
    """Add newly inserted posts to ``post_counts`` in the same transaction as the insert."""
    groups: dict[tuple[str, str, int], list[float]] = {}
    for row in rows:
        key = (row["archetype"], row["subreddit_key"], score_bucket(row["success_score"]))
        acc = groups.setdefault(key, [0, 0.0])
        acc[0] += 1
        acc[1] += row["success_score"]
    if not groups:
        return
    table = PostCount.__table__
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["campaign_id", "archetype", "subreddit_key", "bucket"],
        set_={
            "posts": table.c.posts + stmt.excluded.posts,
            "score_sum": table.c.score_sum + stmt.excluded.score_sum,
        },
    )
    await session.execute(
        stmt,
        [
            {
                "campaign_id": campaign_id,
                "archetype": a,
                "subreddit_key": k,
                "bucket": b,
                "posts": n,
                "score_sum": total,
            }
            for (a, k, b), (n, total) in sorted(groups.items())
        ],
    )


async def add_rejected_samples(session: AsyncSession, samples: Sequence[dict[str, Any]]) -> None:
    if samples:
        await session.execute(_insert(session, RejectedSample.__table__), list(samples))


async def clear_samples(session: AsyncSession, *, run_id: uuid.UUID) -> None:
    await session.execute(delete(RejectedSample).where(RejectedSample.run_id == run_id))


async def read_cursor(
    session: AsyncSession, *, campaign_id: uuid.UUID, subreddit: str, mode: str, run_id: uuid.UUID
) -> tuple[datetime | None, str | None]:
    """Where this run should start: the newest post seen by earlier runs."""
    cursor = await session.scalar(
        select(SourceCursor).where(
            and_(
                SourceCursor.campaign_id == campaign_id,
                SourceCursor.subreddit_key == subreddit.lower(),
                SourceCursor.mode == mode,
            )
        )
    )
    if cursor is None:
        return None, None
    if cursor.run_id == run_id:  # we are a redelivery of the run that advanced it
        return cursor.previous_created_at, cursor.previous_post_id
    return cursor.newest_created_at, cursor.newest_post_id


async def advance_cursor(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    subreddit: str,
    mode: str,
    newest: datetime,
    post_id: str,
    run_id: uuid.UUID,
) -> None:
    """Remember the newest post seen; never move the cursor backwards."""
    now = utcnow()
    values = {
        "campaign_id": campaign_id,
        "subreddit_key": subreddit.lower(),
        "mode": mode,
        "newest_created_at": newest,
        "newest_post_id": post_id,
        "run_id": run_id,
        "updated_at": now,
    }
    same_run = SourceCursor.run_id == run_id
    stmt = _insert(session, SourceCursor).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["campaign_id", "subreddit_key", "mode"],
        set_={
            # Keep where this run started from, so a redelivery of it starts there too.
            "previous_created_at": case(
                (same_run, SourceCursor.previous_created_at), else_=SourceCursor.newest_created_at
            ),
            "previous_post_id": case(
                (same_run, SourceCursor.previous_post_id), else_=SourceCursor.newest_post_id
            ),
            "newest_created_at": newest,
            "newest_post_id": post_id,
            "run_id": run_id,
            "updated_at": now,
        },
        where=SourceCursor.newest_created_at < newest,
    )
    await session.execute(stmt)
