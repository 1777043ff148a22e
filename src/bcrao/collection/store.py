"""Writes of a run: de-duplicated post inserts, rejected samples, incremental cursors.

De-duplication is the database's job: ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on
(campaign_id, reddit_post_id) tells us exactly which rows are new, on both dialects (on
PostgreSQL fed by a binary COPY, which is several times cheaper per row than parameters).
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import PostCount, RawPost, RejectedSample, SourceCursor
from bcrao.db import new_id, utcnow
from bcrao.posts.search import search_terms

# Rows per statement: well under SQLite's bound-parameter limit (32,766), and small enough
# that building the next batch on a thread overlaps most of the database's work on this one.
# The first batch of a call is built with nothing to overlap, so it is kept short.
INSERT_BATCH = 250
FIRST_BATCH = 50


def _batches(rows: Sequence[dict[str, Any]]) -> list[Sequence[dict[str, Any]]]:
    batches = [rows[:FIRST_BATCH]] if rows else []
    batches += [rows[start : start + INSERT_BATCH] for start in range(FIRST_BATCH, len(rows), INSERT_BATCH)]
    return batches


class CampaignGone(LookupError):
    """The campaign was deleted while its run was collecting: nothing more is stored."""


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
    batches = _batches(rows)
    if rows:
        await _lock_campaign(session, campaign_id)
    if session.bind.dialect.name == "postgresql":
        inserted_per_batch = await _copy_in_posts(session, batches=batches)
    else:
        inserted_per_batch = await _insert_posts(session, batches=batches)
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


# Both dialects bypass SQLAlchemy's per-row statement machinery for posts: a run stores them
# by the thousand, and building parameters cost as much as the database's own work. Each
# batch is built (tokenized, converted) on a thread while the database writes the previous
# one: sqlite3 and asyncpg's server round trip both leave the GIL free meanwhile.
_COLUMNS = [c.name for c in RawPost.__table__.columns]

# The model's plain-value defaults; callable ones are set in ``_post_values``.
_SCALAR_DEFAULTS: dict[str, Any] = {
    c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
    for c in RawPost.__table__.columns
}


def _post_values(row: dict[str, Any]) -> list[Any]:
    """The row's values in ``_COLUMNS`` order, with the model's defaults filled in."""
    values = {**_SCALAR_DEFAULTS, **row}
    values["id"] = row.get("id") or new_id()
    values["collected_at"] = row.get("collected_at") or utcnow()
    values["search_terms"] = search_terms(row["title"], row.get("raw_text"))
    return [values[c] for c in _COLUMNS]


async def _write_pipelined(
    batches: Sequence[Sequence[dict[str, Any]]],
    build: Callable[[Sequence[dict[str, Any]]], Any],
    apply: Callable[[Any], Awaitable[set[str]]],
    stage: Callable[[Any], Awaitable[None]] | None = None,
) -> list[set[str]]:
    """For each batch: ``stage(built)`` alone (client-side work, such as encoding a COPY),
    then ``apply(built)`` (the database's work) while the next batch is built on a thread."""
    inserted_per_batch: list[set[str]] = []
    if not batches:
        return inserted_per_batch
    built = build(batches[0])
    for following in [*batches[1:], None]:
        if stage is not None:
            await stage(built)
        if following is None:
            inserted_per_batch.append(await apply(built))
        else:
            inserted, built = await asyncio.gather(apply(built), asyncio.to_thread(build, following))
            inserted_per_batch.append(inserted)
    return inserted_per_batch


# SQLite: one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch, its
# parameters converted by the columns' own SQLAlchemy bind processors (so values are stored
# exactly as the ORM stores them) and passed straight to the driver.
@functools.lru_cache(maxsize=64)
def _sqlite_insert_sql(rows: int) -> str:
    values = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO raw_posts ({', '.join(_COLUMNS)}) VALUES {', '.join([values] * rows)}"
        " ON CONFLICT (campaign_id, reddit_post_id) DO NOTHING RETURNING reddit_post_id"
    )


@functools.lru_cache(maxsize=16)
def _bind_processors(dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    return [c.type.dialect_impl(dialect).bind_processor(dialect) for c in RawPost.__table__.columns]


async def _insert_posts(
    session: AsyncSession, *, batches: Sequence[Sequence[dict[str, Any]]]
) -> list[set[str]]:
    connection = await session.connection()
    processors = _bind_processors(connection.dialect)

    def build(rows: Sequence[dict[str, Any]]) -> tuple[int, list[Any]]:
        flat: list[Any] = []
        for row in rows:
            flat.extend(
                value if process is None else process(value)
                for value, process in zip(_post_values(row), processors, strict=True)
            )
        return len(rows), flat

    async def write(built: tuple[int, list[Any]]) -> set[str]:
        rows, params = built
        result = await connection.exec_driver_sql(_sqlite_insert_sql(rows), tuple(params))
        return set(result.scalars().all())

    return await _write_pipelined(batches, build, write)


# PostgreSQL: binary COPY into a staging table, then one statement moves the rows into
# raw_posts, skipping duplicates. Per row this is a fraction of what a parameterised INSERT
# costs on both sides of the connection. The staging table is a temporary table that lives
# as long as the pooled connection (so the moving statement stays prepared); the move empties
# it, and every commit truncates it, so the dead rows of the moves never pile up (autovacuum
# does not visit temporary tables). ``search_terms`` is staged as text and cast on the way:
# asyncpg has no binary encoder for tsvector.
_STAGE = "bcrao_post_stage"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS SELECT "
    + ", ".join("search_terms::text AS search_terms" if c == "search_terms" else c for c in _COLUMNS)
    + " FROM raw_posts WITH NO DATA"
)
_MOVE_STAGED = f"""
WITH staged AS (DELETE FROM {_STAGE} RETURNING *)
INSERT INTO raw_posts ({", ".join(_COLUMNS)})
SELECT {", ".join("search_terms::tsvector" if c == "search_terms" else c for c in _COLUMNS)}
FROM staged
ON CONFLICT (campaign_id, reddit_post_id) DO NOTHING
RETURNING reddit_post_id
"""
_BREAKDOWN = _COLUMNS.index("score_breakdown")


def _copy_records(rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows in asyncpg's binary COPY types (JSON as text)."""
    records = []
    for row in rows:
        values = _post_values(row)
        values[_BREAKDOWN] = json.dumps(values[_BREAKDOWN] or {})
        records.append(tuple(values))
    return records


async def _copy_in_posts(
    session: AsyncSession, *, batches: Sequence[Sequence[dict[str, Any]]]
) -> list[set[str]]:
    if not batches:
        return []
    # Through the session (its transaction, begun by the campaign lock, must hold the COPY).
    await session.execute(text(_CREATE_STAGE))
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection

    async def copy(records: list[tuple[Any, ...]]) -> None:
        await raw.copy_records_to_table(_STAGE, records=records, columns=_COLUMNS)

    async def move(_records: list[tuple[Any, ...]]) -> set[str]:
        return {record["reddit_post_id"] for record in await raw.fetch(_MOVE_STAGED)}

    return await _write_pipelined(batches, _copy_records, move, stage=copy)


async def _lock_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> None:
    """Once per transaction, what a foreign key on ``raw_posts`` did once per post: make sure
    the campaign exists and cannot be deleted before we commit. A concurrent delete waits
    for us, and its trigger then removes what we stored; SQLite needs no lock, as its
    writer holds the database's write lock from ``BEGIN IMMEDIATE``."""
    query = select(Campaign.id).where(Campaign.id == campaign_id)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    if await session.scalar(query) is None:
        raise CampaignGone(f"campaign {campaign_id} was deleted during the run")


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
