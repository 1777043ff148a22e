"""The post source of an import run: the uploaded file's index, read like Reddit would be.

It answers the same ``PostSource`` calls as the network sources, so an import runs the
same pipeline (filter, label, score, dedup, comments, counters, progress). One addition:
``fetch_pages`` hands a subreddit over in pages of ``page_size`` posts, newest first, which
the pipeline processes one at a time, so a subreddit with a million imported posts never
sits in memory at once. ``max_posts_per_subreddit`` and incremental cursors do not apply:
the file decides what is collected.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import defaultdict
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from bcrao.imports.index import read_summary
from bcrao.sources.base import (
    CommentRequest,
    CommentResult,
    FetchRequest,
    FetchResult,
    ItemState,
    NormalizedComment,
    SourceError,
    SourceHealth,
    SubredditCheck,
    WaitCallback,
)
from bcrao.sources.comments import from_comment_json
from bcrao.sources.normalize import from_reddit_json

IMPORT_SOURCE = "import"
PAGE_SIZE = 2000
FIRST_PAGE = "SELECT id, created, data FROM posts WHERE sub = ? ORDER BY created DESC, id DESC LIMIT ?"
NEXT_PAGE = (
    "SELECT id, created, data FROM posts WHERE sub = ? AND (created < ? OR (created = ? AND id < ?))"
    " ORDER BY created DESC, id DESC LIMIT ?"
)


def index_path(data_dir: Path, run_id: object) -> Path:
    """Where an import run's index waits for its executor (the data dir is shared with workers)."""
    return data_dir / "imports" / f"{run_id}.db"


class ImportSource:
    name = IMPORT_SOURCE

    def __init__(self, path: Path, *, page_size: int = PAGE_SIZE) -> None:
        self.path = path
        self.page_size = page_size
        self._db: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._warned = False

    async def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with self._lock:  # one connection, used from one worker thread at a time
            return await asyncio.to_thread(self._run, sql, params)

    def _run(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self._db is None:
            if not self.path.exists():
                raise SourceError("import_missing", "The imported file is gone; import it again")
            self._db = sqlite3.connect(self.path, check_same_thread=False)
        return self._db.execute(sql, params).fetchall()

    async def fetch_pages(
        self, request: FetchRequest, *, on_wait: WaitCallback | None = None
    ) -> AsyncGenerator[FetchResult, None]:
        key = request.subreddit.lower()
        cursor: tuple[float, str] | None = None
        first = True
        while True:
            if cursor is None:
                rows = await self._query(FIRST_PAGE, (key, self.page_size))
            else:
                rows = await self._query(NEXT_PAGE, (key, cursor[0], cursor[0], cursor[1], self.page_size))
            if not rows and not first:
                return
            warnings = await self._warnings() if first else []
            first = False
            posts = [from_reddit_json(json.loads(data)) for _, _, data in rows]
            yield FetchResult(posts=posts, warnings=warnings)
            if len(rows) < self.page_size:
                return
            cursor = (rows[-1][1], rows[-1][0])

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        """Every post of the subreddit at once (the pipeline uses ``fetch_pages``)."""
        posts, warnings = [], []
        async for page in self.fetch_pages(request, on_wait=on_wait):
            posts.extend(page.posts)
            warnings.extend(page.warnings)
        return FetchResult(posts=posts, warnings=warnings)

    async def _warnings(self) -> list[str]:
        """What the import skipped, said once per run (with the first subreddit's posts)."""
        if self._warned:
            return []
        self._warned = True
        async with self._lock:
            summary = await asyncio.to_thread(lambda: read_summary(self._connection()))
        return summary.warnings()

    def _connection(self) -> sqlite3.Connection:
        self._run("SELECT 1", ())
        assert self._db is not None
        return self._db

    async def fetch_comments(
        self, request: CommentRequest, *, on_wait: WaitCallback | None = None
    ) -> CommentResult:
        rows = await self._query("SELECT data FROM comments WHERE post_id = ?", (request.post_id,))
        comments = [c for (data,) in rows if (c := from_comment_json(json.loads(data), request.post_id))]
        ordered = thread_order(comments, request.post_id, request.limit, request.max_depth)
        return CommentResult(comments=ordered)

    async def check_subreddit(self, name: str) -> SubredditCheck:
        return SubredditCheck(name, "unknown", "An import reads the uploaded file, not Reddit")

    async def fetch_info(
        self, fullnames: list[str], *, on_wait: WaitCallback | None = None
    ) -> dict[str, ItemState] | None:
        return None  # the file cannot tell what was deleted since

    async def probe(self) -> SourceHealth:
        return SourceHealth("ok", "An import reads the uploaded file, not Reddit")

    async def aclose(self) -> None:
        async with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def thread_order(
    comments: list[NormalizedComment], post_id: str, limit: int, max_depth: int
) -> list[NormalizedComment]:
    """Depth-first, best first among siblings, as Reddit sends a thread; depths from the
    parent links (a comment whose parent is not in the file hangs at the top level)."""
    known = {c.id for c in comments}
    children: dict[str, list[NormalizedComment]] = defaultdict(list)
    for comment in comments:
        parent = comment.parent_id
        if parent.startswith("t1_") and parent[3:] in known and parent[3:] != comment.id:
            children[parent].append(comment)
        else:
            children[f"t3_{post_id}"].append(comment)
    for siblings in children.values():
        siblings.sort(key=lambda c: (-c.upvotes, c.created_utc, c.id))
    ordered: list[NormalizedComment] = []
    stack = [(c, 0) for c in reversed(children[f"t3_{post_id}"])]
    seen: set[str] = set()
    while stack and len(ordered) < limit:
        comment, depth = stack.pop()
        if comment.id in seen or depth > max_depth:
            continue
        seen.add(comment.id)
        comment.depth = depth
        ordered.append(comment)
        stack.extend((c, depth + 1) for c in reversed(children.get(f"t1_{comment.id}", [])))
    return ordered
