"""Stream every matching post as CSV or JSON Lines with flat memory, whatever the count.

The generator owns its database session: FastAPI tears request-scoped dependencies down
around the response, so a streaming body must never read through the request's session.

- PostgreSQL: the database formats the rows and Python only moves bytes (formatting every
  cell in Python managed 5-9k rows/s). The select does in SQL what ``csv_cells`` (CSV) or
  ``post_dict`` + ``json.dumps`` (JSONL: one text column holding the whole line) do, and runs
  as one ``COPY (<select>) TO STDOUT`` over the raw asyncpg connection: one statement, so one
  snapshot, streamed with backpressure. CSV uses ``FORMAT csv``; JSONL ``FORMAT binary``,
  which (unlike the text format) leaves the JSON's backslashes alone. The bytes equal the
  Python encoders' for the values the app stores (``tests/posts/test_export_fast_path.py``).
- SQLite: every transaction here is ``BEGIN IMMEDIATE`` (see ``bcrao.db``), i.e. holds the
  single writer lock; a slow download must not stall collections for minutes. So rows are
  read in keyset batches (``(sort column, id)`` after the last row sent), each batch in its
  own short transaction, and the lock is free while the client drains a batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
import struct
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from sqlalchemy import Select, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.collection.models import RawPost
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


# ---- PostgreSQL: the database formats every cell -----------------------------------------------
#
# Each SQL fragment below is the twin of one step of ``csv_cells`` / ``post_dict``. Only
# constant SQL is written here (column names from ``POST_FIELDS``); user input reaches the
# query as the bound parameters of the SQLAlchemy filters.

_KINDS = {
    **dict.fromkeys(("id", "campaign_id", "run_id"), "uuid"),
    **dict.fromkeys(_TEXT_FIELDS, "text"),
    **dict.fromkeys(("upvotes", "comment_count"), "int"),
    **dict.fromkeys(("upvote_ratio", "relevance_score", "success_score"), "float"),
    **dict.fromkeys(("reddit_created_at", "collected_at"), "time"),
    "is_ai_processed": "bool",
}
assert set(_KINDS) == set(POST_FIELDS)
COPY_QUEUE_CHUNKS = 8  # COPY output chunks held at most (one socket read each, <= ~256 KiB)
COPY_TIMEOUT = 24 * 3600.0  # asyncpg times the whole COPY, slow client included, not each read
_FORMULA_SQL = ", ".join(["'='", "'+'", "'-'", "'@'", "E'\\t'", "E'\\r'"])  # = _FORMULA_START
_FALSY_JSONB = ", ".join(f"'{v}'::jsonb" for v in ("null", "[]", "0", "false", '""'))


def _col(name: str) -> str:
    return f"{RawPost.__tablename__}.{name}"


def _sql_float(column: str, *, extra: str = "") -> str:
    """``repr(float)``: PostgreSQL >= 12 prints the same shortest round-trip digits, except
    ``5`` for ``5.0`` (and exponent notation from 1e15 where Python starts at 1e16)."""
    return (
        f"CASE WHEN {column} = trunc({column}) AND abs({column}) < 1e15::float8 "
        f"THEN {column}::text || '.0' {extra}ELSE {column}::text END"
    )


def _sql_time(column: str) -> str:
    """``dt.isoformat()`` of the UTC datetime, ``Z`` for ``+00:00``: no fraction when the
    microseconds are 0, else 6 digits."""
    return (
        f"replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
    )


def _csv_cell(name: str) -> str:
    column, kind = _col(name), _KINDS[name]
    if kind == "uuid":
        return f"{column}::text"
    if kind == "text":
        # The formula guard of ``csv_cells``. NULLIF: COPY quotes an empty string ("") to tell
        # it from NULL; Python's writer leaves both unquoted (both read back as "").
        guarded = f"CASE WHEN left({column}, 1) IN ({_FORMULA_SQL}) THEN '''' || {column} ELSE {column} END"
        return f"NULLIF({guarded}, '')"
    if kind == "float":
        # NaN and infinities never come from the scorer; mapped anyway to what csv writes.
        special = "".join(
            f"WHEN {column} = '{pg}'::float8 THEN '{py}' "
            for pg, py in (("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"))
        )
        return _sql_float(column, extra=special)
    if kind == "time":
        return _sql_time(column)
    if kind == "bool":
        return f"CASE WHEN {column} THEN 'true' ELSE 'false' END"
    return column  # int: COPY prints the digits str() does


def _json_value(name: str) -> str:
    """The JSON text ``json.dumps`` writes for the field's value (never SQL NULL)."""
    column, kind = _col(name), _KINDS[name]
    if kind == "uuid":
        value = f"'\"' || {column}::text || '\"'"
    elif kind == "text":
        value = f"to_json({column})::text"  # escapes as json.dumps(ensure_ascii=False) does
    elif kind == "float":
        value = _sql_float(column)  # NaN, Infinity, -Infinity: already json.dumps' spelling
    elif kind == "time":
        value = f"'\"' || {_sql_time(column)} || '\"'"
    else:  # int, bool
        value = f"{column}::text"
    return f"COALESCE({value}, 'null')"


def _json_line() -> str:
    """The detail's post object: ``POST_FIELDS`` in order, then ``score_breakdown``, with
    ``json.dumps``' default ", " and ": " separators."""
    breakdown = _col("score_breakdown")
    members = [f"'\"{name}\": ' || {_json_value(name)}" for name in POST_FIELDS]
    # ``row.score_breakdown or {}``. jsonb::text has json.dumps' separators, and its key
    # order is the one json.loads of it (what the Python path dumps) keeps.
    members.append(
        f"'\"score_breakdown\": ' || CASE WHEN {breakdown} IS NULL OR {breakdown} IN ({_FALSY_JSONB}) "
        f"THEN '{{}}' ELSE {breakdown}::text END"
    )
    return "'{' || " + " || ', ' || ".join(members) + " || '}'"


_CSV_COLUMNS = [literal_column(_csv_cell(name)).label(name) for name in POST_FIELDS]
_JSON_LINE = literal_column(_json_line()).label("line")


def _pg_query(columns: list[Any], filters: PostFilters, campaign_id: uuid.UUID) -> Select[Any]:
    return (
        select(*columns)
        .select_from(RawPost)
        .where(*filter_clauses(filters, campaign_id=campaign_id, dialect="postgresql"))
        .order_by(*order_by(filters.sort))
    )


def _positional(stmt: Select[Any], dialect: Any) -> tuple[str, list[Any]]:
    """The ``$n`` SQL and its parameter values, as SQLAlchemy itself would send them.
    (``copy_from_query`` has PostgreSQL quote them, ``quote_literal``, into the COPY.)"""
    compiled = stmt.compile(dialect=dialect)
    args = []
    for name in compiled.positiontup or ():
        value = compiled.params[name]
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        args.append(process(value) if process is not None else value)
    return str(compiled), args


class _CrlfRows:
    """COPY ends CSV rows with LF; Python's writer (and RFC 4180) with CRLF. A LF ends a row
    iff it is outside quotes, i.e. follows an even number of ``"`` since the file began (a ``"``
    inside a quoted cell is doubled, so the parity holds). LFs inside cells stay as they are."""

    def __init__(self) -> None:
        self.quoted = False

    def __call__(self, data: bytes) -> bytes:
        data = bytes(data)  # asyncpg hands over bytearrays at times; the response wants bytes
        if b'"' not in data:
            return data if self.quoted else data.replace(b"\n", b"\r\n")
        parts = data.split(b'"')
        for i in range(1 if self.quoted else 0, len(parts), 2):
            parts[i] = parts[i].replace(b"\n", b"\r\n")
        self.quoted ^= len(parts) % 2 == 0  # an odd number of quotes in this chunk
        return b'"'.join(parts)


class _BinaryLines:
    """JSON lines out of ``COPY ... (FORMAT binary)`` of one text column: a 19-byte header
    (+ extension), then per row an int16 field count and an int32 length before the UTF-8
    bytes, and an int16 -1 at the end. Unlike the text format, nothing is escaped."""

    _SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
    _ROW = struct.Struct("!hi")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.header = True

    def __call__(self, data: bytes) -> bytes:
        buf = self.buffer
        buf += data
        pos, end, lines = 0, len(buf), []
        if self.header:
            if end < 19:
                return b""
            if buf[:11] != self._SIGNATURE:
                raise ValueError("not a binary COPY stream")
            pos = 19 + int.from_bytes(buf[15:19], "big")
            if end < pos:
                return b""
            self.header = False
        unpack = self._ROW.unpack_from
        while pos + 2 <= end:
            if buf[pos : pos + 2] == b"\xff\xff":  # the trailer
                pos = end
                break
            if pos + 6 > end:
                break
            _fields, size = unpack(buf, pos)
            if pos + 6 + size > end:
                break
            lines.append(buf[pos + 6 : pos + 6 + size])
            pos += 6 + size
        del buf[:pos]
        return b"\n".join(lines) + b"\n" if lines else b""


async def _pg_copy(
    sessionmaker: async_sessionmaker[AsyncSession],
    stmt: Select[Any],
    copy_format: str,
    transform: Callable[[bytes], bytes],
) -> AsyncIterator[bytes]:
    """``COPY (stmt) TO STDOUT``, each chunk through ``transform``.

    asyncpg pushes the output into a callback and stops reading the socket until it returns,
    so the bounded queue between the COPY task and this generator keeps memory flat whatever
    the client's pace; PostgreSQL meanwhile runs ahead by the socket buffers only. A
    server-side cursor would leave PostgreSQL idle during every round trip (JSONL through one
    managed ~35k rows/s here, the same select through COPY ~65k)."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=COPY_QUEUE_CHUNKS)

    async def copy() -> None:
        try:
            async with sessionmaker() as session:
                conn = await session.connection()
                sql, args = _positional(stmt, conn.dialect)
                raw = await conn.get_raw_connection()
                try:
                    await raw.driver_connection.copy_from_query(
                        sql, *args, output=queue.put, format=copy_format, timeout=COPY_TIMEOUT
                    )
                except BaseException:
                    # An interrupted COPY may leave a cancel request in flight: never hand
                    # that connection back to the pool.
                    await conn.invalidate()
                    raise
        except Exception:
            await queue.put(None)  # wake the reader, which then raises this error
            raise
        await queue.put(None)

    task = asyncio.create_task(copy())
    try:
        while (chunk := await queue.get()) is not None:
            if out := transform(chunk):
                yield out
        await task  # raises the COPY's error, if it failed
    finally:
        if not task.done():  # the client went away: stop the COPY, release the connection
            task.cancel()
            await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # mark it retrieved (raised above when it mattered)


# ---- SQLite: Python formats every cell ------------------------------------------------------------


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
    """Encoded chunks of the file: about one per ``BATCH`` posts on SQLite, one per COPY
    socket read on PostgreSQL."""
    csv_encoder = _CsvEncoder() if fmt == "csv" else None
    if csv_encoder is not None:
        yield csv_encoder.header()
    dialect = sessionmaker.kw["bind"].dialect.name
    if dialect == "postgresql":
        if csv_encoder is not None:
            chunks = _pg_copy(sessionmaker, _pg_query(_CSV_COLUMNS, filters, campaign_id), "csv", _CrlfRows())
        else:
            query = _pg_query([_JSON_LINE], filters, campaign_id)
            chunks = _pg_copy(sessionmaker, query, "binary", _BinaryLines())
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                yield chunk
        return
    query = (
        post_select(snippet=False, breakdown=fmt == "jsonl")
        .where(*filter_clauses(filters, campaign_id=campaign_id, dialect=dialect))
        .order_by(*order_by(filters.sort))
    )
    async for batch in _batches_by_keyset(sessionmaker, query, filters.sort):
        yield csv_encoder.rows(batch) if csv_encoder else _jsonl(batch)
