"""Stream every matching post as CSV or JSON Lines with flat memory, whatever the count.

One encoder per format, in Python, fed by keyset-paginated batches (``(sort column, id)``
after the last row sent) on both databases: memory holds one batch, and a new field is one
entry in ``POST_FIELDS``. The generator owns its database session (a read-only one: on
SQLite it never takes the writer lock), because FastAPI tears request-scoped dependencies
down before a streamed body is sent. Throughput is in ``bench/README.md`` ("export").
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.posts.schemas import POST_FIELDS, PostFilters
from bcrao.posts.service import SORTS, filter_clauses, keyset_after, order_by, post_select

BATCH = 1000
CSV_BOM = "\ufeff"  # lets spreadsheet apps detect UTF-8
_FORMULA_START = "=+-@\t\r"
LIST_SEPARATOR = "; "  # a list field in one CSV cell: archetype_reasons
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def filename_for(campaign_name: str, fmt: str) -> str:
    """``Churn research!`` → ``churn-research-posts.csv`` (ASCII, safe in a header)."""
    ascii_name = unicodedata.normalize("NFKD", campaign_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "campaign"
    return f"{slug}-posts.{fmt}"


def _plain(value: Any) -> Any:
    """A column value as JSON has it: UUIDs as text, UTC times with ``Z``, NULL lists as []."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def post_dict(row: Any, *, breakdown: bool) -> dict[str, Any]:
    """The post object (as in the detail) from a row of ``post_select``."""
    data = {name: _plain(getattr(row, name)) for name in POST_FIELDS}
    data["archetype_reasons"] = data["archetype_reasons"] or []
    if breakdown:
        data["score_breakdown"] = row.score_breakdown or {}
    return data


def _csv_cell(value: Any) -> Any:
    """Spreadsheet-safe: text starting with ``= + - @`` (or tab/CR) would run as a formula
    when the file is opened, so it gets a leading apostrophe; numbers stay numbers; None is
    an empty cell; booleans are ``true``/``false`` as in JSON; a list is one cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, str) and value and value[0] in _FORMULA_START:
        return "'" + value
    return value


def csv_cells(row: Any) -> list[Any]:
    data = post_dict(row, breakdown=False)
    return [_csv_cell(data[name]) for name in POST_FIELDS]


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


async def _batches_by_keyset(session: AsyncSession, query: Any, sort: str) -> AsyncIterator[list[Any]]:
    column_name = SORTS[sort][0].key
    after = None
    while True:
        page = query if after is None else query.where(after)
        rows = list(await session.execute(page.limit(BATCH)))
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
    async with sessionmaker() as session:
        dialect = session.bind.dialect.name
        query = (
            post_select(snippet=False, breakdown=fmt == "jsonl")
            .where(*filter_clauses(filters, campaign_id=campaign_id, dialect=dialect))
            .order_by(*order_by(filters.sort))
        )
        async for batch in _batches_by_keyset(session, query, filters.sort):
            yield csv_encoder.rows(batch) if csv_encoder else _jsonl(batch)
