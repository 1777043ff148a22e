"""The PostgreSQL export (PostgreSQL formats every cell, streamed by COPY) against the Python
encoders it replaces, on the same rows: the files must be equal after parsing, cell for cell
and value for value (types included), and in fact byte for byte for every value the app stores.

The stream transforms (CSV row ends, binary COPY framing) are pure functions and are tested
on both databases; everything that needs PostgreSQL skips on SQLite.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import struct
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from bcrao.collection.models import RawPost
from bcrao.posts import export
from bcrao.posts.export import _BinaryLines, _CrlfRows, _CsvEncoder, _jsonl, export_posts
from bcrao.posts.schemas import POST_FIELDS, PostFilters
from bcrao.posts.service import filter_clauses, order_by, post_select

from .conftest import BASE_TIME, seed

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

# (title, raw_text, author, upvote_ratio, success_score, relevance_score, created_at, breakdown)
NASTY: list[tuple[Any, ...]] = [
    ('=HYPERLINK("http://x")', "=1+2", "=eq", 0.9, 7.25, 6.3, T0, {"total": 7.25}),
    ("+plus", "+", "+p", None, 6.3, 0.1 + 0.2, T0.replace(microsecond=1), {}),
    ("-minus", "-", "-", 0.1 + 0.2, 1 / 3, 2 / 3, T0.replace(microsecond=999999), {"a": None}),
    ("@at", "@", "@", 1.0, 5.0, 0.0, T0.replace(microsecond=100000), {"nested": {"x": [1, 2.5, "é"]}}),
    ("\tTab first", "\ttab", "\t", 0.5, 0.0, 10.0, T0.replace(microsecond=120), {"q": 'say "hi"\\'}),
    ("\rCR first", "\r\n", "\r", 0.25, 10.0, 9.999999999999998, T0 + timedelta(days=400), None),
    ('Quotes "inside" here', '""', '"', 0.75, 3.14159265358979, 1e-05, T0, []),
    ("comma, semicolon; pipe|", "a,b,c", ",", 0.33, 8.123456789, 1.5e-07, T0, {"e": 1e-07, "big": 1e16}),
    ("Line one\nline two", "LF\nand CRLF\r\nand lone CR\r end", "nl\n", 0.01, 4.4, 4.4, T0, {}),
    ("Ünïcödé café 日本語 🎉", "emoji 🎉 and \u2028 and \u00a0 nbsp", "ünï", 0.66, 2.2, 2.2, T0, {"ü": "🎉"}),
    ("Backslash \\ and \\n literal", "C:\\path\\to\\file \\.", "back\\slash", 0.2, 1.1, 1.1, T0, {}),
    (
        "Control \x01\x02\x1f\x7f chars",
        "\x08\x0c\x0b vertical",
        "ctl\x01",
        0.3,
        9.9,
        9.9,
        T0,
        {"c": "\x01\n"},
    ),
    ("\\.", "\\.", "\\.", 0.4, 2.5, 2.5, T0, 0),
    ("  = leading space", " +", " ", 0.45, 3.3, 3.3, T0, False),
    ("", "", "", 0.55, 6.6, 6.6, T0, ""),
    ("NULL author", "null-ish text: NULL", None, None, -0.0, 0.0, T0, {"total": 0}),
    ("'already quoted", "'", "'", 0.6, 7.7, 7.7, datetime(1970, 1, 1, tzinfo=UTC), {"x": "y"}),
    ("$1 $2 placeholders :name %s %(x)s", "{} {{}} ${}", "$1", 0.7, 8.8, 8.8, T0, {"$1": "%s"}),
    ("Old post", "Y2K", "y2k", 0.8, 9.1, 9.1, datetime(999, 12, 31, 23, 59, 59, 5, tzinfo=UTC), {}),
    ("Many decimals", "x", "m", 0.123456789012345, 1.2345678901234567, 7.000000000000001, T0, {}),
]


def strictly_equal(a: Any, b: Any) -> bool:
    """== that also tells 5 from 5.0 and True from 1, recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)


async def seed_nasty(app, client, owner) -> Any:
    seeded = await seed(app, client, owner)
    cid, uid = uuid.UUID(seeded.campaign_id), seeded.posts[0]["user_id"]
    rows = []
    for i, (title, text, author, ratio, score, relevance, created, breakdown) in enumerate(NASTY):
        rows.append(
            {
                "campaign_id": cid,
                "user_id": uid,
                "run_id": None if i % 3 == 0 else seeded.posts[0]["run_id"],
                "subreddit": ["SaaS", "=cmd", "start_ups"][i % 3],
                "subreddit_key": ["saas", "=cmd", "start_ups"][i % 3],
                "reddit_post_id": f"nasty{i:02d}",
                "reddit_url": f'https://www.reddit.com/r/SaaS/comments/nasty{i}/?a=1,b="2"',
                "author": author,
                "title": title,
                "raw_text": text,
                "upvotes": i * 1000 - 5,
                "comment_count": 2**31 - 1 if i == 1 else i,
                "upvote_ratio": ratio,
                "reddit_created_at": created,
                "archetype": ["Journey", "Feedback", "ProblemSolution", "Unclassified"][i % 4],
                "relevance_score": relevance,
                "success_score": score,
                "score_breakdown": breakdown,
                "is_ai_processed": i % 2 == 0,
                "classifier": [None, "llm", "rules", "=x"][i % 4],
                "collected_at": BASE_TIME + timedelta(microseconds=i * 250_001),
            }
        )
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(insert(RawPost), rows)
        await session.commit()
    return seeded


async def python_path(app, campaign_id: uuid.UUID, filters: PostFilters, fmt: str) -> bytes:
    """What the Python encoders write for the same select (same filters, same order)."""
    query = (
        post_select(snippet=False, breakdown=fmt == "jsonl")
        .where(*filter_clauses(filters, campaign_id=campaign_id, dialect="postgresql"))
        .order_by(*order_by(filters.sort))
    )
    async with app.state.runtime.sessionmaker() as session:
        rows = list(await session.execute(query))
    if fmt == "jsonl":
        return _jsonl(rows)
    encoder = _CsvEncoder()
    return encoder.header() + encoder.rows(rows)


async def fast_path(app, campaign_id: uuid.UUID, filters: PostFilters, fmt: str) -> bytes:
    chunks = export_posts(app.state.runtime.sessionmaker, campaign_id=campaign_id, filters=filters, fmt=fmt)
    got = [chunk async for chunk in chunks]
    assert all(type(chunk) is bytes for chunk in got)  # a StreamingResponse takes nothing else
    return b"".join(got)


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.fixture
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("the COPY export runs on PostgreSQL only")


FILTERS = [
    {},
    {"sort": "success_score"},
    {"sort": "-reddit_created_at"},
    {"sort": "-upvotes", "archetype": "Feedback"},
    {"sort": "-comment_count", "min_score": 1.1, "max_score": 8.8},
    {"subreddit": "start_ups"},
    {"q": "LINE"},
    {"q": "é 🎉"},
    {"q": "\\"},
    {"q": "% _"},
    {"q": "'; DROP TABLE raw_posts; --"},
    {"q": "$1"},
    {"q": "no-such-word"},
]


@pytest.mark.parametrize("params", FILTERS, ids=[json.dumps(p, ensure_ascii=True) for p in FILTERS])
async def test_fast_csv_equals_the_python_csv(app, client, alice, postgres_only, params):
    seeded = await seed_nasty(app, client, alice)
    cid, filters = uuid.UUID(seeded.campaign_id), PostFilters(**params)
    fast = await fast_path(app, cid, filters, "csv")
    slow = await python_path(app, cid, filters, "csv")
    fast_rows, slow_rows = csv_rows(fast), csv_rows(slow)
    assert fast_rows[0] == list(POST_FIELDS)
    assert len(fast_rows) == len(slow_rows)
    for fast_row, slow_row in zip(fast_rows, slow_rows, strict=True):
        assert fast_row == slow_row
    if not params:
        assert len(fast_rows) > len(NASTY) + 10
    assert fast == slow  # the same bytes: CRLF row ends, quoting, BOM and all


@pytest.mark.parametrize("params", FILTERS, ids=[json.dumps(p, ensure_ascii=True) for p in FILTERS])
async def test_fast_jsonl_equals_the_python_jsonl(app, client, alice, postgres_only, params):
    seeded = await seed_nasty(app, client, alice)
    cid, filters = uuid.UUID(seeded.campaign_id), PostFilters(**params)
    fast = await fast_path(app, cid, filters, "jsonl")
    slow = await python_path(app, cid, filters, "jsonl")
    fast_lines, slow_lines = fast.decode().split("\n"), slow.decode().split("\n")
    assert len(fast_lines) == len(slow_lines)
    for fast_line, slow_line in zip(fast_lines, slow_lines, strict=True):
        if not slow_line:
            assert fast_line == slow_line  # the trailing newline
            continue
        fast_obj, slow_obj = json.loads(fast_line), json.loads(slow_line)
        assert list(fast_obj) == [*POST_FIELDS, "score_breakdown"]
        assert strictly_equal(fast_obj, slow_obj), (fast_obj, slow_obj)
        # Byte for byte too, except where jsonb itself respells a number the Python path
        # re-dumps as a float (1e-07 is stored as 0.0000001): equal once parsed.
        if "e" not in slow_obj["score_breakdown"]:
            assert fast_line == slow_line


async def test_fast_path_values_are_the_documented_ones(app, client, alice, postgres_only):
    """Spot checks against hand-written expectations, independent of the Python encoders."""
    seeded = await seed_nasty(app, client, alice)
    cid = uuid.UUID(seeded.campaign_id)
    rows = {r["reddit_post_id"]: r for r in csv.DictReader(io.StringIO(
        (await fast_path(app, cid, PostFilters(), "csv")).decode("utf-8-sig"), newline=""
    ))}  # fmt: skip
    assert rows["nasty00"]["title"] == '\'=HYPERLINK("http://x")'
    assert rows["nasty04"]["author"] == "'\t"
    assert rows["nasty05"]["title"] == "'\rCR first"
    assert rows["nasty13"]["title"] == "  = leading space"
    assert rows["nasty03"]["success_score"] == "5.0"
    assert rows["nasty15"]["success_score"] == "-0.0"
    assert rows["nasty02"]["upvote_ratio"] == "0.30000000000000004"
    assert rows["nasty01"]["upvote_ratio"] == "" and rows["nasty15"]["author"] == ""
    assert rows["nasty00"]["reddit_created_at"] == "2026-11-02T09:30:00Z"
    assert rows["nasty01"]["reddit_created_at"] == "2026-11-02T09:30:00.000001Z"
    assert rows["nasty03"]["reddit_created_at"] == "2026-11-02T09:30:00.100000Z"
    assert rows["nasty18"]["reddit_created_at"] == "0999-12-31T23:59:59.000005Z"
    assert rows["nasty00"]["is_ai_processed"] == "true" and rows["nasty01"]["is_ai_processed"] == "false"
    assert rows["nasty00"]["run_id"] == ""
    # split("\n"), not splitlines(): U+2028 in a text stays raw, as json.dumps leaves it.
    lines = (await fast_path(app, cid, PostFilters(), "jsonl")).decode().split("\n")[:-1]
    objects = {o["reddit_post_id"]: o for o in map(json.loads, lines)}
    assert objects["nasty03"]["success_score"] == 5.0 and isinstance(
        objects["nasty03"]["success_score"], float
    )
    assert objects["nasty01"]["comment_count"] == 2**31 - 1
    assert objects["nasty00"]["run_id"] is None and objects["nasty15"]["author"] is None
    assert objects["nasty05"]["score_breakdown"] == {}  # JSON null → {} like `or {}`
    assert objects["nasty12"]["score_breakdown"] == {}  # 0 → {}
    assert objects["nasty11"]["title"] == "Control \x01\x02\x1f\x7f chars"
    assert objects["nasty00"]["title"] == '=HYPERLINK("http://x")'  # no formula guard in JSON


async def test_an_abandoned_download_stops_the_copy_and_frees_the_connection(
    app, client, alice, postgres_only
):
    seeded = await seed(app, client, alice)
    cid, uid = uuid.UUID(seeded.campaign_id), seeded.posts[0]["user_id"]
    big = "x" * 4000 + ', "quoted"\n'
    extra = [
        {
            "campaign_id": cid,
            "user_id": uid,
            "subreddit": "SaaS",
            "subreddit_key": "saas",
            "reddit_post_id": f"big{i}",
            "reddit_url": "https://www.reddit.com/",
            "title": f"big {i}",
            "raw_text": big,
            "reddit_created_at": BASE_TIME,
            "success_score": 1.0,
            "score_breakdown": {},
        }
        for i in range(3000)  # ~12 MB: far more than the queue and the socket buffers hold
    ]
    maker, pool = app.state.runtime.sessionmaker, app.state.runtime.engine.pool
    async with maker() as session:
        await session.execute(insert(RawPost), extra)
        await session.commit()
    for fmt in ("csv", "jsonl"):
        chunks = export_posts(maker, campaign_id=cid, filters=PostFilters(), fmt=fmt)
        got = [await chunks.__anext__() for _ in range(3)]
        assert all(got)
        await asyncio.sleep(0.2)  # COPY is now blocked on the full queue
        await asyncio.wait_for(chunks.aclose(), 10)
        assert pool.checkedout() == 0
        # The pool still serves a complete export afterwards.
        content = await asyncio.wait_for(fast_path(app, cid, PostFilters(), fmt), 60)
        expected = len(extra) + len(seeded.posts)
        assert (len(csv_rows(content)) - 1 if fmt == "csv" else content.count(b"\n")) == expected
        assert pool.checkedout() == 0


async def test_a_failing_copy_raises_instead_of_hanging(app, client, alice, postgres_only, monkeypatch):
    seeded = await seed(app, client, alice)

    def broken(stmt, dialect):
        return "SELECT 1/0 FROM raw_posts WHERE campaign_id = $1", [uuid.UUID(seeded.campaign_id)]

    monkeypatch.setattr(export, "_positional", broken)
    for fmt in ("csv", "jsonl"):
        with pytest.raises(Exception, match="division by zero"):
            await asyncio.wait_for(fast_path(app, uuid.UUID(seeded.campaign_id), PostFilters(), fmt), 30)
        assert app.state.runtime.engine.pool.checkedout() == 0


# ---- the stream transforms (no database) ------------------------------------------------------


def random_splits(data: bytes, rng: random.Random, pieces: int) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), min(pieces, len(data) - 1)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def csv_text(rows: list[list[str]], terminator: str) -> bytes:
    """Minimal quoting as COPY does it (and Python's writer with CRLF): cells holding a comma,
    a quote, CR or LF are quoted."""

    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value

    return "".join(",".join(map(cell, row)) + terminator for row in rows).encode()


CSV_SAMPLE = [
    ["plain", "a,b", 'q"uote', "multi\nline", "crlf\r\nin cell", ""],
    ['""', "\n", '"\n"', "end"],
    ["x"],
    ["é🎉", 'tail"', "\r"],
] * 3


def test_the_sample_is_what_the_python_writer_writes():
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(CSV_SAMPLE)
    assert csv_text(CSV_SAMPLE, "\r\n") == buffer.getvalue().encode()


@pytest.mark.parametrize("seed_", range(5))
def test_crlf_rows_turns_only_row_ends_into_crlf_wherever_chunks_split(seed_):
    lf, crlf = csv_text(CSV_SAMPLE, "\n"), csv_text(CSV_SAMPLE, "\r\n")
    rng = random.Random(seed_)
    for pieces in (1, 2, 7, len(lf) // 3, len(lf) - 1):
        transform = _CrlfRows()
        out = [transform(bytearray(chunk)) for chunk in random_splits(lf, rng, pieces)]
        assert all(type(piece) is bytes for piece in out)  # what a response body accepts
        assert b"".join(out) == crlf


def test_crlf_rows_byte_by_byte():
    lf, crlf = csv_text(CSV_SAMPLE, "\n"), csv_text(CSV_SAMPLE, "\r\n")
    transform = _CrlfRows()
    assert b"".join(transform(lf[i : i + 1]) for i in range(len(lf))) == crlf


def binary_copy(lines: list[bytes], extension: bytes = b"") -> bytes:
    out = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, len(extension)) + extension
    for line in lines:
        out += struct.pack("!hi", 1, len(line)) + line
    return out + struct.pack("!h", -1)


LINES = [
    json.dumps({"n": i, "t": 'é\n\\"🎉' * (i % 5), "x": None}, ensure_ascii=False).encode() for i in range(40)
]


@pytest.mark.parametrize("extension", [b"", b"ext!"])
@pytest.mark.parametrize("seed_", range(4))
def test_binary_lines_reframes_copy_rows_wherever_chunks_split(seed_, extension):
    stream, expected = binary_copy(LINES, extension), b"\n".join(LINES) + b"\n"
    rng = random.Random(seed_)
    for pieces in (1, 2, 5, 60, len(stream) - 1):
        transform = _BinaryLines()
        out = [transform(bytearray(chunk)) for chunk in random_splits(stream, rng, pieces)]
        assert all(type(piece) is bytes for piece in out)
        assert b"".join(out) == expected
        assert not transform.buffer


def test_binary_lines_of_no_rows_is_empty():
    transform = _BinaryLines()
    assert b"".join(transform(bytes([b])) for b in binary_copy([])) == b""


def test_binary_lines_refuses_a_text_stream():
    with pytest.raises(ValueError):
        _BinaryLines()(b"id,campaign_id,run_id\n" * 2)
