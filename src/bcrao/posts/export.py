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
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.db import core_execute
from bcrao.posts.schemas import POST_FIELDS, PostFilters
from bcrao.posts.service import SORTS, filter_clauses, keyset_after, order_by, post_select

BATCH = 1000
CSV_BOM = "\ufeff"  # lets spreadsheet apps detect UTF-8
_FORMULA_START = "=+-@\t\r"
LIST_SEPARATOR = "; "  # a list field in one CSV cell: archetype_reasons, matched_keywords
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def filename_for(campaign_name: str, fmt: str) -> str:
    """``Churn research!`` → ``churn-research-posts.csv`` (ASCII, safe in a header)."""
    ascii_name = unicodedata.normalize("NFKD", campaign_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "campaign"
    return f"{slug}-posts.{fmt}"


def _text_id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _utc_text(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _list_or_empty(value: list[str] | None) -> list[str]:
    """A list column (reasons, keywords) stored NULL reads as []."""
    return value or []


def _guarded(value: str | None) -> str | None:
    """Text starting with ``= + - @`` (or tab/CR) would run as a formula when the file is
    opened in a spreadsheet, so it gets a leading apostrophe."""
    return "'" + value if value and value[0] in _FORMULA_START else value


# Per field, what turns the column value into the post object's JSON value; then what turns
# that into a CSV cell (None: as it is; numbers stay numbers, None is an empty cell). Looked up
# once per field, not per cell: this runs for every cell of a million-row export.
_TO_JSON: dict[str, Callable[[Any], Any]] = {
    "id": _text_id,
    "campaign_id": _text_id,
    "run_id": _text_id,
    "reddit_created_at": _utc_text,
    "collected_at": _utc_text,
    **dict.fromkeys(("archetype_reasons", "matched_keywords"), _list_or_empty),
}
_TO_CELL: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(("subreddit", "reddit_post_id", "reddit_url", "author", "title", "raw_text"), _guarded),
    **dict.fromkeys(("archetype", "classifier", "archetype_source"), _guarded),
    "is_ai_processed": lambda value: "true" if value else "false",
    **dict.fromkeys(
        ("archetype_reasons", "matched_keywords"), lambda value: _guarded(LIST_SEPARATOR.join(value))
    ),
}


def _then(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: second(first(value))


_JSON_STEPS = [(i, _TO_JSON[name]) for i, name in enumerate(POST_FIELDS) if name in _TO_JSON]
# One pass per CSV row: each field's JSON step, then its cell rule.
_CELL_STEPS = [
    (i, _then(_TO_JSON[name], _TO_CELL[name]) if name in _TO_JSON and name in _TO_CELL
     else _TO_CELL.get(name) or _TO_JSON[name])
    for i, name in enumerate(POST_FIELDS)
    if name in _TO_JSON or name in _TO_CELL
]  # fmt: skip


def _json_values(row: Any) -> list[Any]:
    values = list(row[: len(POST_FIELDS)])
    for i, convert in _JSON_STEPS:
        values[i] = convert(values[i])
    return values


def post_dict(row: Any, *, breakdown: bool) -> dict[str, Any]:
    """The post object (as in the detail) from a row of ``post_select``."""
    data = dict(zip(POST_FIELDS, _json_values(row), strict=True))
    if breakdown:
        data["score_breakdown"] = row.score_breakdown or {}
    return data


def csv_cells(row: Any) -> list[Any]:
    """One spreadsheet-safe CSV row: each field's JSON value, then its cell rule."""
    cells = list(row[: len(POST_FIELDS)])
    for i, convert in _CELL_STEPS:
        cells[i] = convert(cells[i])
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


async def _batches_by_keyset(session: AsyncSession, query: Any, sort: str) -> AsyncIterator[list[Any]]:
    column_name = SORTS[sort][0].key
    after = None
    while True:
        page = query if after is None else query.where(after)
        rows = list(await core_execute(session, page.limit(BATCH)))
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
