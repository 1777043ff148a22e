"""Reading an uploaded file of Reddit posts and comments, one record at a time.

Accepted, told apart by content (never by the file name):

- **JSON lines** of Reddit listing children (``{"kind": "t3", "data": {...}}``, ``t1`` for
  comments), or of flat objects as the public Reddit archives publish them (NDJSON, one
  submission or comment per line: a post has a ``title``, a comment a ``body`` and a
  ``link_id``);
- **CSV** with a header row: the same field names as a listing child's ``data``, or Reddit's
  own data export (``posts.csv``: ``id, permalink, date, subreddit, title, url, body``;
  ``comments.csv``: ``id, permalink, date, subreddit, link, parent, body``);
- any of these compressed with **zstandard** (``.zst``, as the archives ship) or gzip,
  recognised by their magic bytes.

Every record is checked as it is read; the first one that cannot be imported raises
``BadRecord`` with its line number, so a caller can refuse the whole file and say where it
went wrong. Nothing here holds more than one line in memory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Literal, cast

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
# A record longer than this is not a Reddit post: refuse it rather than buffer it.
MAX_LINE_BYTES = 4 * 1024 * 1024
READ_CHUNK = 1024 * 1024

# What ``normalize.from_reddit_json`` and ``comments.from_comment_json`` read; an archive
# record carries ~100 keys, the rest are dropped as the file is read.
POST_KEYS = (
    "id",
    "name",
    "subreddit",
    "permalink",
    "selftext",
    "removed_by_category",
    "removed_by",
    "author",
    "crosspost_parent",
    "ups",
    "score",
    "is_self",
    "domain",
    "url",
    "title",
    "num_comments",
    "upvote_ratio",
    "created_utc",
    "stickied",
    "over_18",
    "distinguished",
    "link_flair_text",
    "lang",
)
COMMENT_KEYS = (
    "id",
    "body",
    "author",
    "parent_id",
    "ups",
    "score",
    "created_utc",
    "distinguished",
    "stickied",
)
# CSV cells are strings: these are read as booleans, the numbers by the normalizers.
BOOL_KEYS = frozenset({"is_self", "stickied", "over_18"})
TRUE_WORDS = frozenset({"true", "1", "yes", "t", "y"})
EXPORT_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S")
POST_LINK_RE = re.compile(r"/comments/([a-z0-9]+)", re.IGNORECASE)
BASE36_RE = re.compile(r"^[a-z0-9]{1,16}$", re.IGNORECASE)

Kind = Literal["post", "comment"]
Format = Literal["jsonl", "csv"]


class BadRecord(Exception):
    """The file cannot be imported; ``line`` is the 1-based line where reading stopped."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(slots=True)
class Record:
    line: int
    kind: Kind
    subreddit: str  # as written, without r/ ("" for a comment that does not say)
    id: str  # base-36 id without the t3_/t1_ prefix
    post_id: str  # for a comment: the post it belongs to; for a post: its own id
    created_utc: float
    data: dict[str, Any]  # the keys the normalizers read, ready for them


@dataclass(slots=True)
class Opened:
    stream: io.BufferedReader
    format: Format
    compression: str | None  # "zstd", "gzip" or None


def open_upload(raw: IO[bytes]) -> Opened:
    """Decompress if needed and tell JSON lines from CSV by the first non-blank byte."""
    head = _peek(raw, 4)
    compression: str | None = None
    stream: io.BufferedReader
    if head.startswith(ZSTD_MAGIC):
        import zstandard

        compression = "zstd"
        # Archive files are compressed with a long window (up to 2 GiB): allow it.
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw, read_size=READ_CHUNK)
        stream = io.BufferedReader(reader, buffer_size=READ_CHUNK)
    elif head.startswith(GZIP_MAGIC):
        compression = "gzip"
        stream = io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), buffer_size=READ_CHUNK)
    elif isinstance(raw, io.BufferedReader):
        stream = raw
    else:
        # typing.IO declares no readinto(), which BufferedReader needs: the uploads given
        # here (SpooledTemporaryFile, files opened in binary mode) have it.
        stream = io.BufferedReader(cast("io.RawIOBase", raw), buffer_size=READ_CHUNK)
    first = _first_content_byte(stream)
    return Opened(stream=stream, format="jsonl" if first in (b"{", b"[") else "csv", compression=compression)


def read_records(raw: IO[bytes]) -> tuple[Opened, Iterator[Record]]:
    opened = open_upload(raw)
    reader = _jsonl_records if opened.format == "jsonl" else _csv_records
    return opened, _guard(reader(opened.stream))


def _guard(records: Iterator[Record]) -> Iterator[Record]:
    """A corrupt compressed stream surfaces as a decoder error: say so in words."""
    line = 0
    try:
        for record in records:
            line = record.line
            yield record
    except BadRecord:
        raise
    except (OSError, EOFError, ValueError) as exc:  # zstd/gzip errors; UnicodeDecodeError is a ValueError
        raise BadRecord(line + 1, f"the file could not be read past this point ({_short(exc)})") from None


def _peek(raw: IO[bytes], n: int) -> bytes:
    if hasattr(raw, "peek"):
        head: bytes = raw.peek(n)
        return head[:n]
    position = raw.tell()
    head = raw.read(n)
    raw.seek(position)
    return head


def _first_content_byte(stream: io.BufferedReader) -> bytes:
    # BufferedReader.peek shows at least one byte; skip a BOM and leading blank space.
    head = stream.peek(64)[:64].lstrip(codecs.BOM_UTF8).lstrip()
    return head[:1]


# -- JSON lines ---------------------------------------------------------------------------


def _jsonl_records(stream: IO[bytes]) -> Iterator[Record]:
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise BadRecord(number, f"the line is longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:  # JSONDecodeError and invalid UTF-8 alike
            raise BadRecord(number, f"not valid JSON ({_short(exc)})") from None
        yield from_object(obj, number)


def from_object(obj: Any, line: int) -> Record:
    """A listing child (t3/t1) or a flat archive object → a checked ``Record``."""
    if not isinstance(obj, dict):
        raise BadRecord(line, "expected one JSON object per line")
    kind_name = obj.get("kind")
    if isinstance(kind_name, str) and isinstance(obj.get("data"), dict):
        if kind_name == "t3":
            return _post(obj["data"], line)
        if kind_name == "t1":
            return _comment(obj["data"], line)
        raise BadRecord(line, f"a listing child of kind {kind_name!r}: only t3 posts and t1 comments")
    return _flat(obj, line)


def _flat(obj: dict[str, Any], line: int) -> Record:
    if isinstance(obj.get("title"), str):
        return _post(obj, line)
    if "body" in obj and ("link_id" in obj or "link" in obj):
        return _comment(obj, line)
    raise BadRecord(line, "neither a post (it has no title) nor a comment (no body and link_id)")


# -- CSV ----------------------------------------------------------------------------------


def _csv_records(stream: IO[bytes]) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    csv.field_size_limit(MAX_LINE_BYTES)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise BadRecord(1, f"the CSV header cannot be read ({exc})") from None
    columns = [h.strip().lower() for h in header]
    if "id" not in columns or not ({"title", "body", "selftext"} & set(columns)):
        raise BadRecord(
            1,
            "the CSV header must name at least id and title (posts) or body (comments); found: "
            + ", ".join(c for c in columns if c)[:200],
        )
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadRecord(start, f"the CSV row cannot be read ({exc})") from None
        last_line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise BadRecord(start, f"{len(row)} cells where the header has {len(columns)}")
        yield _csv_row(dict(zip(columns, row, strict=True)), start)


def _csv_row(row: dict[str, str], line: int) -> Record:
    data: dict[str, Any] = {}
    for key, value in row.items():
        if value == "" or not key:
            continue
        data[key] = value.strip().lower() in TRUE_WORDS if key in BOOL_KEYS else value
    if "created_utc" not in data and "date" in data:
        data["created_utc"] = data.pop("date")  # Reddit's export: "2023-05-01 12:34:56 UTC"
    if data.get("title"):
        return _post(data, line)
    if "body" in data or "link" in data or "link_id" in data:
        return _comment(data, line)
    raise BadRecord(line, "neither a post (no title) nor a comment (no body)")


# -- checks -------------------------------------------------------------------------------


def _post(data: dict[str, Any], line: int) -> Record:
    post_id = _base36(data.get("id") or str(data.get("name") or "").removeprefix("t3_"), "t3_")
    if not post_id:
        raise BadRecord(line, "the post has no id")
    subreddit = _subreddit(data.get("subreddit"))
    if not subreddit:
        raise BadRecord(line, f"post {post_id} has no subreddit")
    if not isinstance(data.get("title"), str):
        raise BadRecord(line, f"post {post_id} has no title")
    created = _timestamp(data.get("created_utc", data.get("created")))
    if created is None:
        raise BadRecord(line, f"post {post_id} has no valid created_utc (a Unix time or a date)")
    kept = {key: data[key] for key in POST_KEYS if key in data and data[key] is not None}
    if "selftext" not in kept and isinstance(data.get("body"), str):
        kept["selftext"] = data["body"]  # Reddit's export names a post's text "body"
    if data.get("crosspost_parent_list"):
        kept["crosspost_parent"] = kept.get("crosspost_parent") or "crosspost"
    kept.update(id=post_id, subreddit=subreddit, created_utc=created)
    return Record(line, "post", subreddit, post_id, post_id, created, kept)


def _comment(data: dict[str, Any], line: int) -> Record:
    comment_id = _base36(data.get("id") or str(data.get("name") or "").removeprefix("t1_"), "t1_")
    if not comment_id:
        raise BadRecord(line, "the comment has no id")
    post_id = _base36(data.get("link_id"), "t3_")
    if not post_id and isinstance(data.get("link"), str):
        found = POST_LINK_RE.search(data["link"])  # the export names the post by its URL
        post_id = found.group(1).lower() if found else ""
    if not post_id:
        raise BadRecord(line, f"comment {comment_id} does not say which post it belongs to (link_id)")
    if not isinstance(data.get("body"), str):
        raise BadRecord(line, f"comment {comment_id} has no body")
    created = _timestamp(data.get("created_utc", data.get("created")))
    if created is None:
        raise BadRecord(line, f"comment {comment_id} has no valid created_utc (a Unix time or a date)")
    kept = {key: data[key] for key in COMMENT_KEYS if key in data and data[key] is not None}
    kept.update(id=comment_id, created_utc=created, parent_id=_parent(data, post_id))
    subreddit = _subreddit(data.get("subreddit"))
    return Record(line, "comment", subreddit, comment_id, post_id, created, kept)


def _parent(data: dict[str, Any], post_id: str) -> str:
    parent = str(data.get("parent_id") or data.get("parent") or "").strip()
    if parent.startswith(("t1_", "t3_")):
        return parent.lower()
    if not parent or parent.lower() == post_id:
        return f"t3_{post_id}"
    if "/" in parent:  # a URL: the export links a top-level comment's parent post this way
        return f"t3_{post_id}"
    return f"t1_{parent.lower()}"


def _base36(value: Any, prefix: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    text = str(value).strip().lower().removeprefix(prefix)
    return text if BASE36_RE.match(text) else ""


def _subreddit(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    name = value.strip()
    for prefix in ("/r/", "r/"):
        if name.lower().startswith(prefix):
            name = name[len(prefix) :]
    return name.strip("/")


def _timestamp(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            moment = _parse_date(text)
            if moment is None:
                return None
            seconds = moment.timestamp()
    else:
        return None
    # 1970 .. 2100: anything else is a typo or milliseconds.
    return seconds if 0 < seconds < 4_102_444_800 else None


def _parse_date(text: str) -> datetime | None:
    for pattern in EXPORT_DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
