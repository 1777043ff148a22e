"""Writes of a run: de-duplicated post inserts, rejected samples, incremental cursors.

De-duplication is the database's job: ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on
(campaign_id, reddit_post_id) tells us exactly which rows are new, on both dialects, through
one SQLAlchemy Core statement. Reddit delivers at most ~170 posts/s per API client; the
store's throughput is in ``bench/README.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import PostCount, RawPost, RejectedSample, SourceCursor
from bcrao.compliance.checks import first_check, tombstoned
from bcrao.db import dialect_of, new_id, utcnow
from bcrao.posts.search import search_terms

# Rows per call (SQLAlchemy splits each into statements under the bound-parameter limits).
INSERT_BATCH = 500


class CampaignGone(LookupError):
    """The campaign was deleted while its run was collecting: nothing more is stored."""


@dataclass(slots=True)
class StoreOutcome:
    stored: int
    duplicates: int


def dialect_insert(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """INSERT with the session's dialect's ``ON CONFLICT`` clauses."""
    return (postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert)(table)


async def insert_posts(
    session: AsyncSession, *, campaign_id: uuid.UUID, run_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> StoreOutcome:
    """Insert new posts and add them to ``post_counts``; count the rest as duplicates.

    A post already stored *by this same run* (a redelivered task re-doing its work) counts
    as stored, not duplicate, so a rerun's totals match an uninterrupted run's.
    """
    if rows:
        await lock_campaign(session, campaign_id)
        # Posts purged after deletion on Reddit (or retention) are never stored again.
        gone = await tombstoned(session, campaign_id, [f"t3_{r['reddit_post_id']}" for r in rows])
        if gone:
            kept = [r for r in rows if f"t3_{r['reddit_post_id']}" not in gone]
            outcome = await insert_posts(session, campaign_id=campaign_id, run_id=run_id, rows=kept)
            return StoreOutcome(stored=outcome.stored, duplicates=outcome.duplicates + len(rows) - len(kept))
    batches = [rows[start : start + INSERT_BATCH] for start in range(0, len(rows), INSERT_BATCH)]
    inserted_per_batch = [
        await insert_new(session, RawPost.__table__, "reddit_post_id", map(_post_values, b)) for b in batches
    ]
    new_rows: dict[str, dict[str, Any]] = {}  # the first of repeated ids is the one stored
    for batch, inserted in zip(batches, inserted_per_batch, strict=True):
        for row in batch:
            if row["reddit_post_id"] in inserted:
                new_rows.setdefault(row["reddit_post_id"], row)
    await count_posts(session, campaign_id=campaign_id, rows=list(new_rows.values()))
    stored = duplicates = 0
    for batch, inserted in zip(batches, inserted_per_batch, strict=True):
        conflicts = [r["reddit_post_id"] for r in batch if r["reddit_post_id"] not in inserted]
        mine = await stored_by_run(session, RawPost.reddit_post_id, campaign_id, run_id, conflicts)
        stored += len(inserted) + mine
        duplicates += len(conflicts) - mine
    return StoreOutcome(stored=stored, duplicates=duplicates)


# The model's plain-value defaults; callable ones are set in ``_post_values``. Every row of
# one executemany must name the same columns, so defaults are filled here, not by Core.
_SCALAR_DEFAULTS: dict[str, Any] = {
    c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
    for c in RawPost.__table__.columns
}


def _post_values(row: dict[str, Any]) -> dict[str, Any]:
    values = {**_SCALAR_DEFAULTS, **row}
    values["id"] = row.get("id") or new_id()
    values["collected_at"] = row.get("collected_at") or utcnow()
    values["next_check_at"] = row.get("next_check_at") or first_check(values["collected_at"])
    values["archetype_reasons"] = row.get("archetype_reasons") or []
    values["relevance_breakdown"] = row.get("relevance_breakdown") or {}
    values["matched_keywords"] = row.get("matched_keywords") or []
    values["search_terms"] = search_terms(row["title"], row.get("raw_text"))
    return values


async def insert_new(session: AsyncSession, table: Any, key: str, rows: Iterable[dict[str, Any]]) -> set[str]:
    """One ``INSERT ... ON CONFLICT (campaign_id, key) DO NOTHING RETURNING key`` (SQLAlchemy
    sends the rows as multi-row VALUES statements): the keys it actually inserted."""
    statement = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["campaign_id", key])
        .returning(table.c[key])
    )
    connection = await session.connection()
    result = await connection.execute(statement, list(rows))
    return set(result.scalars().all())


async def stored_by_run(
    session: AsyncSession,
    key: Any,
    campaign_id: uuid.UUID,
    run_id: uuid.UUID | None,
    conflicts: Sequence[str],
) -> int:
    """How many of the ``conflicts`` (``key`` values) this same run stored before: a
    redelivered run re-doing its work."""
    if run_id is None or not conflicts:
        return 0
    model = key.class_
    found = await session.scalars(
        select(key).where(model.campaign_id == campaign_id, key.in_(conflicts), model.run_id == run_id)
    )
    return len(found.all())


async def lock_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> None:
    """Once per transaction, what a foreign key on ``raw_posts`` did once per post: make sure
    the campaign exists and cannot be deleted before we commit. A concurrent delete waits
    for us, and its trigger then removes what we stored; SQLite needs no lock, as its
    writer holds the database's write lock from ``BEGIN IMMEDIATE``."""
    query = select(Campaign.id).where(Campaign.id == campaign_id)
    if dialect_of(session) == "postgresql":
        query = query.with_for_update(key_share=True)
    if await session.scalar(query) is None:
        raise CampaignGone(f"campaign {campaign_id} was deleted during the run")


def score_bucket(score: float) -> int:
    """0 for [0, 1), ..., 9 for [9, 10]: a 10 belongs to the last bucket."""
    return min(9, max(0, int(score)))


async def count_posts(
    session: AsyncSession, *, campaign_id: uuid.UUID, rows: Sequence[dict[str, Any]], sign: int = 1
) -> None:
    """Add posts to ``post_counts`` (``sign=-1``: take them out) in the caller's transaction:
    newly stored posts, and posts a correction moves to another archetype or hides."""
    groups: dict[tuple[str, str, int], list[float]] = {}
    for row in rows:
        key = (row["archetype"], row["subreddit_key"], score_bucket(row["success_score"]))
        acc = groups.setdefault(key, [0, 0.0])
        acc[0] += sign
        acc[1] += sign * row["success_score"]
    if not groups:
        return
    table = PostCount.__table__
    stmt = dialect_insert(session, table)
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
        await session.execute(dialect_insert(session, RejectedSample.__table__), list(samples))


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
    stmt = dialect_insert(session, SourceCursor).values(values)
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
