"""Writes of a run: de-duplicated post inserts, rejected samples, incremental cursors.

De-duplication is the database's job: ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on
(campaign_id, reddit_post_id) tells us exactly which rows are new, on both dialects (on
PostgreSQL fed by a binary COPY, which is several times cheaper per row than parameters).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.collection.models import PostCount, RawPost, RejectedSample, SourceCursor
from bcrao.db import utcnow
from bcrao.posts.search import search_terms

# Rows per statement: well under SQLite's bound-parameter limit (32,766), and on PostgreSQL
# small enough that tokenizing the next batch on a thread overlaps most of the server's work
# on the current one.
INSERT_BATCH = 250


@dataclass(slots=True)
class StoreOutcome:
    stored: int
    duplicates: int


def _insert(session: AsyncSession, table: Any):
    return (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)(table)


async def insert_posts(
    session: AsyncSession, *, campaign_id: uuid.UUID, run_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> StoreOutcome:
    """Insert new posts and add them to ``post_counts``; count the rest as duplicates.

    A post already stored *by this same run* (a redelivered task re-doing its work) counts
    as stored, not duplicate, so a rerun's totals match an uninterrupted run's.
    """
    batches = [rows[start : start + INSERT_BATCH] for start in range(0, len(rows), INSERT_BATCH)]
    if session.bind.dialect.name == "postgresql":
        inserted_per_batch = await _copy_in_posts(session, batches=batches)
    else:
        inserted_per_batch = [await _insert_posts(session, rows=batch) for batch in batches]
    new_rows: dict[str, dict[str, Any]] = {}  # the first of repeated ids is the one stored
    for batch, inserted in zip(batches, inserted_per_batch, strict=True):
        for row in batch:
            if row["reddit_post_id"] in inserted:
                new_rows.setdefault(row["reddit_post_id"], row)
    await _count_new_posts(session, campaign_id=campaign_id, rows=list(new_rows.values()))
    stored = duplicates = 0
    for batch, inserted in zip(batches, inserted_per_batch, strict=True):
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
    return StoreOutcome(stored=stored, duplicates=duplicates)


async def _insert_posts(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> set[str]:
    """SQLite: one cached statement executed with many parameter sets (SQLAlchemy's
    "insertmanyvalues" batches them into multi-row INSERTs without recompiling)."""
    table = RawPost.__table__
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["campaign_id", "reddit_post_id"])
        .returning(table.c.reddit_post_id)
    )
    params = [{**row, "search_terms": search_terms(row["title"], row.get("raw_text"))} for row in rows]
    return set((await session.execute(stmt, params)).scalars().all())


# PostgreSQL: binary COPY into a staging table, then one statement moves the rows into
# raw_posts, skipping duplicates. Per row this is a
# fraction of what a parameterised INSERT costs on both sides of the connection. The staging
# table is a temporary table that lives as long as the pooled connection (so the moving
# statement stays prepared); the move empties it, and every commit truncates it, so the
# dead rows of the moves never pile up (autovacuum does not visit temporary tables).
# ``search_terms`` is staged as text and cast on the way: asyncpg has no binary encoder for
# tsvector.
_COPY_COLUMNS = [c.name for c in RawPost.__table__.columns]
_STAGE = "bcrao_post_stage"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS SELECT "
    + ", ".join("search_terms::text AS search_terms" if c == "search_terms" else c for c in _COPY_COLUMNS)
    + " FROM raw_posts WITH NO DATA"
)
_MOVE_STAGED = f"""
WITH staged AS (DELETE FROM {_STAGE} RETURNING *)
INSERT INTO raw_posts ({", ".join(_COPY_COLUMNS)})
SELECT {", ".join("search_terms::tsvector" if c == "search_terms" else c for c in _COPY_COLUMNS)}
FROM staged
ON CONFLICT (campaign_id, reddit_post_id) DO NOTHING
RETURNING reddit_post_id
"""


def _copy_records(rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows in asyncpg's binary COPY types (JSON as text), with the model's defaults."""
    records = []
    for row in rows:
        values = {
            **_SCALAR_DEFAULTS,
            "id": row.get("id") or uuid.uuid4(),
            "collected_at": utcnow(),
            **row,
            "search_terms": search_terms(row["title"], row.get("raw_text")),
        }
        values["score_breakdown"] = json.dumps(values["score_breakdown"] or {})
        records.append(tuple(values[c] for c in _COPY_COLUMNS))
    return records


# The model's plain-value defaults (COPY bypasses SQLAlchemy); callable ones are set above.
_SCALAR_DEFAULTS: dict[str, Any] = {
    c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
    for c in RawPost.__table__.columns
}


async def _copy_in_posts(
    session: AsyncSession, *, batches: Sequence[Sequence[dict[str, Any]]]
) -> list[set[str]]:
    """Stage and move batch after batch; the next batch's records (tokenizing, JSON) are
    built on a thread while PostgreSQL moves the previous one, so neither side waits."""
    if not batches:
        return []
    # Through the session first: that opens its transaction, which the COPY must be part of.
    await session.execute(text(_CREATE_STAGE))
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    inserted_per_batch: list[set[str]] = []
    records = _copy_records(batches[0])
    for following in [*batches[1:], None]:
        await raw.copy_records_to_table(_STAGE, records=records, columns=_COPY_COLUMNS)
        move = raw.fetch(_MOVE_STAGED)
        if following is None:
            moved = await move
        else:
            moved, records = await asyncio.gather(move, asyncio.to_thread(_copy_records, following))
        inserted_per_batch.append({record["reddit_post_id"] for record in moved})
    return inserted_per_batch


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
