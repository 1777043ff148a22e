"""Stream every matching post as CSV or JSON Lines with flat memory, whatever the count.

The generator owns its database session: FastAPI tears request-scoped dependencies down
around the response, so a streaming body must never read through the request's session.

- PostgreSQL: one server-side cursor (``stream`` + ``yield_per``) in one snapshot.
- SQLite: every transaction here is ``BEGIN IMMEDIATE`` (see ``bcrao.db``), i.e. holds the
  single writer lock; a slow download must not stall collections for minutes. So rows are
  read in keyset batches (``(sort column, id)`` after the last row sent), each batch in its
  own short transaction, and the lock is free while the client drains a batch.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.posts.schemas import POST_FIELDS, PostFilters
from bcrao.posts.service import SORTS, filter_clauses, keyset_after, order_by, post_select

BATCH = 1000
CSV_BOM = "\ufeff"  # lets spreadsheet apps detect UTF-8
_FORMULA_START = "=+-@\t\r"
_TEXT_FIELDS = {
    "subreddit",
    "reddit_post_id",
    "reddit_url",
    "author",
    "title",
    "raw_text",
    "archetype",
    "classifier",
}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def filename_for(campaign_name: str, fmt: str) -> str:
    """``Churn research!`` → ``churn-research-posts.csv`` (ASCII, safe in a header)."""
    ascii_name = unicodedata.normalize("NFKD", campaign_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "campaign"
    return f"{slug}-posts.{fmt}"


_TEXT = [i for i, name in enumerate(POST_FIELDS) if name in _TEXT_FIELDS]
_UUIDS = [i for i, name in enumerate(POST_FIELDS) if name in ("id", "campaign_id", "run_id")]
_TIMES = [i for i, name in enumerate(POST_FIELDS) if name in ("reddit_created_at", "collected_at")]
_BOOL = POST_FIELDS.index("is_ai_processed")


def post_dict(row: Any, *, breakdown: bool) -> dict[str, Any]:
    """The post object (as in the detail) from a row in ``POST_FIELDS`` order."""
    values = list(row[: len(POST_FIELDS)])
    for i in _UUIDS:
        if values[i] is not None:
            values[i] = str(values[i])
    for i in _TIMES:
        values[i] = values[i].isoformat().replace("+00:00", "Z")
    data = dict(zip(POST_FIELDS, values, strict=True))
    if breakdown:
        data["score_breakdown"] = row.score_breakdown or {}
    return data


def csv_cells(row: Any) -> list[Any]:
    """One spreadsheet-safe CSV row from a row in ``POST_FIELDS`` order.

    Text starting with ``= + - @`` (or tab/CR) would run as a formula when the file is
    opened, so it gets a leading apostrophe; numbers stay numbers; None is an empty cell.
    Positional and per-kind (not per-cell dispatch): this runs for every cell of a 1M-row export.
    """
    cells = list(row[: len(POST_FIELDS)])
    for i in _UUIDS:
        if cells[i] is not None:
            cells[i] = str(cells[i])
    for i in _TIMES:
        cells[i] = cells[i].isoformat().replace("+00:00", "Z")
    cells[_BOOL] = "true" if cells[_BOOL] else "false"
    for i in _TEXT:
        value = cells[i]
        if value and value[0] in _FORMULA_START:
            cells[i] = "'" + value
    return cells


class _CsvEncoder:
    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def header(self) -> bytes:
        self._writer.writerow(POST_FIELDS)
        return (CSV_BOM + self._take()).encode()

    def rows(self, rows: Iterable[Any]) -> bytes:
        self._writer.writerows(csv_cells(row) for row in rows)
        return self._take().encode()

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def _jsonl(rows: Iterable[Any]) -> bytes:
    lines = [json.dumps(post_dict(row, breakdown=True), ensure_ascii=False) for row in rows]
    return ("\n".join(lines) + "\n").encode() if lines else b""


async def _batches_from_cursor(session: AsyncSession, query: Any) -> AsyncIterator[list[Any]]:
    result = await session.stream(query.execution_options(yield_per=BATCH))
    async for partition in result.partitions(BATCH):
        yield partition


async def _batches_by_keyset(
    sessionmaker: async_sessionmaker[AsyncSession], query: Any, sort: str
) -> AsyncIterator[list[Any]]:
    column_name = SORTS[sort][0].key
    after = None
    while True:
        async with sessionmaker() as session:
            page = query if after is None else query.where(after)
            rows = list(await session.execute(page.limit(BATCH)))
            await session.commit()
        if not rows:
            return
        yield rows
        if len(rows) < BATCH:
            return
        last = rows[-1]
        after = keyset_after(sort, getattr(last, column_name), last.id)


async def export_posts(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    campaign_id: uuid.UUID,
    filters: PostFilters,
    fmt: str,
) -> AsyncIterator[bytes]:
    """Encoded chunks of the file, about one per ``BATCH`` posts."""
    csv_encoder = _CsvEncoder() if fmt == "csv" else None
    if csv_encoder is not None:
        yield csv_encoder.header()
    dialect = sessionmaker.kw["bind"].dialect.name
    query = (
        post_select(snippet=False, breakdown=fmt == "jsonl")
        .where(*filter_clauses(filters, campaign_id=campaign_id, dialect=dialect))
        .order_by(*order_by(filters.sort))
    )
    if dialect == "postgresql":
        async with sessionmaker() as session:
            async for batch in _batches_from_cursor(session, query):
                yield csv_encoder.rows(batch) if csv_encoder else _jsonl(batch)
        return
    async for batch in _batches_by_keyset(sessionmaker, query, filters.sort):
        yield csv_encoder.rows(batch) if csv_encoder else _jsonl(batch)
