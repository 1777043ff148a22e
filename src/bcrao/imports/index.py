"""An uploaded file, checked and sorted into a small SQLite file the import run reads from.

Why an index and not the file itself: the pipeline takes a subreddit at a time, newest
first, and asks for each kept post's comments; an archive file is in no such order (and a
post's comments can be anywhere in it). One streaming pass writes the records of the
campaign's subreddits into ``posts`` and ``comments`` tables (the keys the normalizers
read, not the ~100 an archive line carries); SQLite then hands out a subreddit's posts in
pages and a post's thread by its id, so memory stays flat whatever the file's size. The
same pass is the validation: the first bad record stops it, and the caller deletes the
half-written index.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bcrao.imports.records import Record, read_records

INSERT_BATCH = 2000
# Names of other subreddits remembered for the warning; an archive can hold 100k of them.
OTHER_NAMES_KEPT = 200

SCHEMA = """
CREATE TABLE posts (id TEXT PRIMARY KEY, sub TEXT NOT NULL, created REAL NOT NULL, data TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE comments (id TEXT PRIMARY KEY, post_id TEXT NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
INDEXES = """
CREATE INDEX posts_by_sub ON posts (sub, created DESC, id DESC);
CREATE INDEX comments_by_post ON comments (post_id);
"""


@dataclass
class ImportSummary:
    format: str
    compression: str | None
    records: int = 0  # posts and comments read, whatever their subreddit
    posts: int = 0  # posts of the campaign's subreddits, once each
    comments: int = 0
    repeated: int = 0  # records whose id came again later in the file (the first is kept)
    other_subreddits: int = 0  # records skipped: not one of the campaign's subreddits
    orphan_comments: int = 0  # comments whose post is not in the file (dropped)
    other_names: Counter[str] = field(default_factory=Counter)
    by_subreddit: Counter[str] = field(default_factory=Counter)

    def warnings(self) -> list[str]:
        notes = []
        if self.other_subreddits:
            top = ", ".join(f"r/{name}" for name, _ in self.other_names.most_common(5))
            notes.append(
                f"Import: {self.other_subreddits:,} records of subreddits the campaign does not target "
                f"were skipped ({top}{', ...' if len(self.other_names) > 5 else ''})"
            )
        if self.repeated:
            notes.append(f"Import: {self.repeated:,} records appeared more than once in the file; kept once")
        if self.orphan_comments:
            notes.append(
                f"Import: {self.orphan_comments:,} comments belong to posts that are not in the file; skipped"
            )
        return notes

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "compression": self.compression,
                "records": self.records,
                "posts": self.posts,
                "comments": self.comments,
                "repeated": self.repeated,
                "other_subreddits": self.other_subreddits,
                "orphan_comments": self.orphan_comments,
                "other_names": dict(self.other_names.most_common(OTHER_NAMES_KEPT)),
                "by_subreddit": dict(self.by_subreddit),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ImportSummary:
        raw = json.loads(text)
        return cls(
            format=raw["format"],
            compression=raw["compression"],
            records=raw["records"],
            posts=raw["posts"],
            comments=raw["comments"],
            repeated=raw["repeated"],
            other_subreddits=raw["other_subreddits"],
            orphan_comments=raw["orphan_comments"],
            other_names=Counter(raw["other_names"]),
            by_subreddit=Counter(raw["by_subreddit"]),
        )


def build_index(raw: IO[bytes], path: Path, subreddits: Sequence[str]) -> ImportSummary:
    """Read ``raw`` once into a new index at ``path``; raise ``BadRecord`` at the first bad
    record (the caller deletes ``path``). Blocking: run it in a thread."""
    wanted = {name.lower(): name for name in subreddits}
    opened, records = read_records(raw)
    summary = ImportSummary(format=opened.format, compression=opened.compression)
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;" + SCHEMA)
        posts: list[tuple[str, str, float, str]] = []
        comments: list[tuple[str, str, str]] = []
        for record in records:
            summary.records += 1
            key = record.subreddit.lower()
            # A comment that names no subreddit is kept while its post is looked for.
            if (record.kind == "post" or key) and key not in wanted:
                _count_other(summary, record)
                continue
            if record.kind == "post":
                posts.append((record.id, key, record.created_utc, _dump(record.data, wanted[key])))
                if len(posts) >= INSERT_BATCH:
                    _flush_posts(db, posts, summary)
            else:
                comments.append((record.id, record.post_id, json.dumps(record.data, separators=(",", ":"))))
                if len(comments) >= INSERT_BATCH:
                    _flush_comments(db, comments, summary)
        _flush_posts(db, posts, summary)
        _flush_comments(db, comments, summary)
        db.executescript(INDEXES)
        # Comments of posts that are not in the file cannot be shown: drop them now.
        orphans = db.execute("DELETE FROM comments WHERE post_id NOT IN (SELECT id FROM posts)").rowcount
        summary.comments -= orphans
        summary.orphan_comments = orphans
        for sub, count in db.execute("SELECT sub, count(*) FROM posts GROUP BY sub"):
            summary.by_subreddit[wanted[sub]] = count
        db.execute("INSERT INTO meta VALUES ('summary', ?)", (summary.to_json(),))
        db.commit()
    finally:
        db.close()
    return summary


def _dump(data: dict[str, Any], spelling: str) -> str:
    # Stored under the campaign's spelling, so posts line up with its subreddit list.
    return json.dumps({**data, "subreddit": spelling}, separators=(",", ":"))


def _count_other(summary: ImportSummary, record: Record) -> None:
    summary.other_subreddits += 1
    names = summary.other_names
    if record.subreddit in names or len(names) < OTHER_NAMES_KEPT:
        names[record.subreddit] += 1


def _flush_posts(db: sqlite3.Connection, rows: list[Any], summary: ImportSummary) -> None:
    summary.posts += _insert(db, "INSERT OR IGNORE INTO posts VALUES (?, ?, ?, ?)", rows, summary)


def _flush_comments(db: sqlite3.Connection, rows: list[tuple[str, str, str]], summary: ImportSummary) -> None:
    summary.comments += _insert(db, "INSERT OR IGNORE INTO comments VALUES (?, ?, ?)", rows, summary)


def _insert(db: sqlite3.Connection, sql: str, rows: list[Any], summary: ImportSummary) -> int:
    """Insert ``rows``, the first copy of an id winning; return how many ids were new."""
    if not rows:
        return 0
    before = db.total_changes
    db.executemany(sql, rows)
    new = db.total_changes - before
    summary.repeated += len(rows) - new
    rows.clear()
    return new


def read_summary(db: sqlite3.Connection) -> ImportSummary:
    row = db.execute("SELECT value FROM meta WHERE key = 'summary'").fetchone()
    return ImportSummary.from_json(row[0])
