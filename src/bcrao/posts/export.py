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

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.db import core_execute, dialect_of
from bcrao.posts.schemas import POST_FIELDS, PostFilters
from bcrao.posts.service import SORTS, filter_clauses, keyset_after, order_by, post_select

BATCH = 1000
CSV_BOM = "\ufeff"  # lets spreadsheet apps detect UTF-8
_FORMULA_START = "=+-@\t\r"
LIST_SEPARATOR = "; "  # a list field in one CSV cell: archetype_reasons, matched_keywords
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def download(body: AsyncIterator[bytes], fmt: str, filename: str) -> StreamingResponse:
    """A streamed file download (posts or comments) in ``fmt``."""
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def filename_for(campaign_name: str, fmt: str, what: str = "posts") -> str:
    """``Churn research!`` → ``churn-research-posts.csv`` (ASCII, safe in a header)."""
    ascii_name = unicodedata.normalize("NFKD", campaign_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "campaign"
    return f"{slug}-{what}.{fmt}"


def text_id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def utc_text(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _list_or_empty(value: list[str] | None) -> list[str]:
    """A list column (reasons, keywords) stored NULL reads as []."""
    return value or []


def guarded(value: str | None) -> str | None:
    """Text starting with ``= + - @`` (or tab/CR) would run as a formula when the file is
    opened in a spreadsheet, so it gets a leading apostrophe."""
    return "'" + value if value and value[0] in _FORMULA_START else value


# Per field, what turns the column value into the post object's JSON value; then what turns
# that into a CSV cell (None: as it is; numbers stay numbers, None is an empty cell). Looked up
# once per field, not per cell: this runs for every cell of a million-row export.
_TO_JSON: dict[str, Callable[[Any], Any]] = {
    "id": text_id,
    "campaign_id": text_id,
    "run_id": text_id,
    "reddit_created_at": utc_text,
    "collected_at": utc_text,
    **dict.fromkeys(("archetype_reasons", "matched_keywords"), _list_or_empty),
}
_TO_CELL: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(("subreddit", "reddit_post_id", "reddit_url", "author", "title", "raw_text"), guarded),
    **dict.fromkeys(("archetype", "classifier", "archetype_source"), guarded),
    "is_ai_processed": lambda value: "true" if value else "false",
    **dict.fromkeys(
        ("archetype_reasons", "matched_keywords"), lambda value: guarded(LIST_SEPARATOR.join(value))
    ),
}


def _then(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: second(first(value))


class RowFormat:
    """How rows of one select (its first columns named by ``fields``) become JSON objects
    and spreadsheet-safe CSV cells: each field's JSON step, then its cell rule."""

    def __init__(
        self,
        fields: tuple[str, ...],
        to_json: dict[str, Callable[[Any], Any]],
        to_cell: dict[str, Callable[[Any], Any]],
    ) -> None:
        self.fields = fields
        self._json_steps = [(i, to_json[name]) for i, name in enumerate(fields) if name in to_json]
        # One pass per CSV row.
        self._cell_steps = [
            (i, _then(to_json[name], to_cell[name]) if name in to_json and name in to_cell
             else to_cell.get(name) or to_json[name])
            for i, name in enumerate(fields)
            if name in to_json or name in to_cell
        ]  # fmt: skip

    def json_dict(self, row: Any) -> dict[str, Any]:
        values = list(row[: len(self.fields)])
        for i, convert in self._json_steps:
            values[i] = convert(values[i])
        return dict(zip(self.fields, values, strict=True))

    def csv_cells(self, row: Any) -> list[Any]:
        cells = list(row[: len(self.fields)])
        for i, convert in self._cell_steps:
            cells[i] = convert(cells[i])
        return cells


POST_ROWS = RowFormat(POST_FIELDS, _TO_JSON, _TO_CELL)


def post_dict(row: Any, *, breakdown: bool) -> dict[str, Any]:
    """The post object (as in the detail) from a row of ``post_select``."""
    data = POST_ROWS.json_dict(row)
    if breakdown:
        data["score_breakdown"] = row.score_breakdown or {}
        data["relevance_breakdown"] = row.relevance_breakdown or {}
    return data


class CsvEncoder:
    def __init__(self, rows: RowFormat) -> None:
        self._format = rows
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def header(self) -> bytes:
        self._writer.writerow(self._format.fields)
        return (CSV_BOM + self._take()).encode()

    def rows(self, rows: Iterable[Any]) -> bytes:
        self._writer.writerows(self._format.csv_cells(row) for row in rows)
        return self._take().encode()

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def jsonl_lines(objects: Iterable[dict[str, Any]]) -> bytes:
    lines = [json.dumps(obj, ensure_ascii=False) for obj in objects]
    return ("\n".join(lines) + "\n").encode() if lines else b""


async def batches_by_keyset(session: AsyncSession, query: Any, sort: str) -> AsyncIterator[list[Any]]:
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
    csv_encoder = CsvEncoder(POST_ROWS) if fmt == "csv" else None
    if csv_encoder is not None:
        yield csv_encoder.header()
    async with sessionmaker() as session:
        dialect = dialect_of(session)
        query = (
            post_select(snippet=False, breakdown=fmt == "jsonl")
            .where(*filter_clauses(filters, campaign_id=campaign_id, dialect=dialect))
            .order_by(*order_by(filters.sort))
        )
        async for batch in batches_by_keyset(session, query, filters.sort):
            if csv_encoder is not None:
                yield csv_encoder.rows(batch)
            else:
                yield jsonl_lines(post_dict(row, breakdown=True) for row in batch)
