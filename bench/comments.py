"""Comments benchmark: the comment store's throughput, and reading one thread in a big campaign.

1. **Store** (SQLite, and PostgreSQL when a URL is given): ``bcrao.comments.store.insert_comments``
   as the pipeline calls it, one transaction per post of ``--per-post`` comments, for
   ``--store-comments`` comments; comments/s next to the floor of #16 (5,000/s).
2. **Read** (PostgreSQL): ``bench/browse.py``'s campaign of 1,000,000 posts gets 10,000,000
   comments (``generate_series``, 10 per post, and one post with 500), then
   ``bcrao.comments.service.list_comments`` on the 500-comment post in each order, each call
   in a fresh session like a request; p50/p95 next to the 50 ms target.
3. **Comment search**: ``list_posts`` with ``search_in=comments|all`` over the same campaign,
   the first call (nothing remembered) and the repeat.
4. **Export memory**: ``bcrao.comments.export.export_comments`` (the streamed download of a
   campaign's comments) as CSV and as JSONL over the whole campaign, each chunk taken and
   dropped as a client would, with the process's resident memory before, its peak during
   (``VmHWM``, reset first through ``/proc/self/clear_refs``; else sampled per chunk) and
   the rows/s, in a fresh process (the seeding grew this one's heap). On PostgreSQL over the
   campaign of 2.; on SQLite over a campaign of ``--sqlite-export-posts`` posts with the
   same threads (10 comments each, one of 500).

    scripts/with-postgres.sh .venv/bin/python bench/comments.py [--posts 1000000] [--comments-per-post 10]
    .venv/bin/python bench/comments.py --store-only      # SQLite store figures only
    .venv/bin/python bench/comments.py --sqlite-export-posts 100000   # + SQLite export memory
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import browse  # noqa: E402
from bench._common import database_url_from_env, proc_kib  # noqa: E402

from bcrao.auth.models import User  # noqa: E402
from bcrao.campaigns.models import Campaign  # noqa: E402
from bcrao.collection.models import RawPost  # noqa: E402
from bcrao.comments import export as comments_export  # noqa: E402
from bcrao.comments import service as comments_service  # noqa: E402
from bcrao.comments import store as comment_store  # noqa: E402
from bcrao.comments.models import CommentTotal, RawComment  # noqa: E402
from bcrao.db import make_engine, make_sessionmaker, new_id, session_scope  # noqa: E402
from bcrao.migrate import upgrade  # noqa: E402
from bcrao.posts import service as posts_service  # noqa: E402
from bcrao.posts.schemas import PostFilters  # noqa: E402
from bcrao.sources.base import NormalizedComment  # noqa: E402

BIG_THREAD = 500
STORE_FLOOR = 5_000  # comments/s (#16)
READ_TARGET_MS = 50.0
COMMENT_WORDS = [
    "stripe",
    "paddle",
    "chargebee",
    "spreadsheet",
    "quickbooks",
    "freshbooks",
    "xero",
    "invoice",
]


# ---- 1. store ----------------------------------------------------------------------------------


def _thread(post_reddit_id: str, n: int, start: int) -> list[NormalizedComment]:
    now = datetime.now(UTC)
    out = []
    for k in range(n):
        top = k % 4 == 0
        out.append(
            NormalizedComment(
                id=f"s{start + k:09d}",
                post_id=post_reddit_id,
                parent_id=f"t3_{post_reddit_id}" if top else f"t1_s{start + k - 1:09d}",
                depth=0 if top else k % 4,
                author=f"user{k % 300}",
                body=(f"We tried {COMMENT_WORDS[k % 8]} for invoicing and the pricing page was confusing; "
                      f"support took {k % 9 + 1} days to answer about exports and dunning emails."),
                upvotes=(k * 37) % 200,
                created_utc=now - timedelta(minutes=k),
            )
        )  # fmt: skip
    return out


async def bench_store(url: str, total: int, per_post: int) -> float:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    ids = {"user": uuid.uuid4(), "campaign": uuid.uuid4()}
    async with session_scope(maker) as s:
        s.add(User(id=ids["user"], email=f"bench-{ids['user'].hex[:8]}@example.com", password_hash="x"))
        await s.flush()
        s.add(Campaign(id=ids["campaign"], user_id=ids["user"], name="bench-comments", keywords=["invoice"],
                       target_subreddits=["SaaS"]))  # fmt: skip
    posts = total // per_post
    post_ids = [uuid.uuid4() for _ in range(posts)]
    threads = [
        comment_store.comment_rows(
            _thread(f"p{i:07d}", per_post, i * per_post),
            campaign_id=ids["campaign"],
            user_id=ids["user"],
            post_id=post_ids[i],
            run_id=None,
        )
        for i in range(posts)
    ]
    started = time.perf_counter()
    stored = 0
    for post_id, rows in zip(post_ids, threads, strict=True):
        async with session_scope(maker) as s:
            stored += await comment_store.insert_comments(
                s, campaign_id=ids["campaign"], post_id=post_id, run_id=None, rows=rows
            )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    assert stored == posts * per_post, stored
    return stored / elapsed


# ---- 2./3. one thread and comment search in a big campaign ----------------------------------------


async def seed_comments(url: str, campaign_id: uuid.UUID, per_post: int) -> tuple[uuid.UUID, int]:
    """10 comments under every post, 500 under one; comment words on every post."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        found = await conn.fetchval("SELECT count(*) FROM raw_comments WHERE campaign_id = $1", campaign_id)
        big = await conn.fetchval(
            "SELECT id FROM raw_posts WHERE campaign_id = $1 AND reddit_post_id = 'b0000000'", campaign_id
        )
        posts = await conn.fetchval("SELECT count(*) FROM raw_posts WHERE campaign_id = $1", campaign_id)
        wanted = (posts - 1) * per_post + BIG_THREAD
        if found == wanted:
            print(f"seed: reusing {found:,} comments")
            return big, found
        await conn.execute("DELETE FROM raw_comments WHERE campaign_id = $1", campaign_id)
        started = time.perf_counter()
        # As the browse seed does: build the indexes once at the end.
        await conn.execute("DROP INDEX IF EXISTS ix_raw_comments_post_upvotes")
        await conn.execute(
            "ALTER TABLE raw_comments DROP CONSTRAINT IF EXISTS uq_raw_comments_campaign_id_reddit_comment_id"
        )
        words = "ARRAY[" + ", ".join(f"'{w}'" for w in COMMENT_WORDS) + "]"
        insert = f"""
            INSERT INTO raw_comments (id, campaign_id, user_id, post_id, run_id, reddit_comment_id, parent_id,
                depth, author, body, upvotes, reddit_created_at, is_deleted, collected_at)
            SELECT gen_random_uuid(), p.campaign_id, p.user_id, p.id, NULL, p.reddit_post_id || 'c' || g,
                CASE WHEN g % 4 = 1 THEN 't3_' || p.reddit_post_id ELSE 't1_' || p.reddit_post_id || 'c' || (g - 1) END,
                (g - 1) % 4, 'user' || (g % 300),
                'We tried ' || ({words})[1 + (g + p.upvotes) % 8] || ' for invoicing; support answered in '
                    || (g % 9 + 1) || ' days about exports and dunning emails.',
                (g * 37 + p.upvotes) % 200, p.reddit_created_at + g * interval '1 minute', false, now()
            FROM raw_posts p CROSS JOIN generate_series(1, CASE WHEN p.id = $2 THEN {BIG_THREAD} ELSE $3 END) g
            WHERE p.campaign_id = $1 AND p.reddit_post_id >= $4 AND p.reddit_post_id < $5
        """  # fmt: skip
        step = 100_000
        for start in range(0, posts, step):
            await conn.execute(insert, campaign_id, big, per_post, f"b{start:07d}", f"b{start + step:07d}")
            print(f"\rseed: comments of {min(start + step, posts):,} posts", end="", flush=True)
        print(f" in {time.perf_counter() - started:.0f} s; indexing...", flush=True)
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute(
            "ALTER TABLE raw_comments ADD CONSTRAINT uq_raw_comments_campaign_id_reddit_comment_id"
            " UNIQUE (campaign_id, reddit_comment_id)"
        )
        await conn.execute("CREATE INDEX ix_raw_comments_post_upvotes ON raw_comments (post_id, upvotes, id)")
        # What the store keeps with every thread: the post's count and words, the totals.
        await conn.execute("DROP INDEX IF EXISTS ix_raw_posts_comment_search")
        await conn.execute(
            f"""UPDATE raw_posts SET comments_collected = CASE WHEN id = $2 THEN {BIG_THREAD} ELSE $3 END,
                comment_terms = (' dunning emails exports invoicing support answered days we tried '
                    || array_to_string(ARRAY(SELECT DISTINCT ({words})[1 + (g + upvotes) % 8]
                       FROM generate_series(1, 8) g), ' ') || ' ')::tsvector
                WHERE campaign_id = $1""",
            campaign_id,
            big,
            per_post,
        )
        await conn.execute(
            "CREATE INDEX ix_raw_posts_comment_search ON raw_posts USING gin (campaign_id, comment_terms)"
        )
        total = await conn.fetchval("SELECT count(*) FROM raw_comments WHERE campaign_id = $1", campaign_id)
        await conn.execute(
            "INSERT INTO comment_totals (campaign_id, comments, posts_with_comments) VALUES ($1, $2, $3)"
            " ON CONFLICT (campaign_id) DO UPDATE SET comments = excluded.comments,"
            " posts_with_comments = excluded.posts_with_comments",
            campaign_id,
            total,
            posts,
        )
        await conn.execute("VACUUM ANALYZE raw_comments")
        await conn.execute("VACUUM ANALYZE raw_posts")
        print(f"seed: {total:,} comments ready in {time.perf_counter() - started:.0f} s")
        return big, total
    finally:
        await conn.close()


def _pcts(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def bench_reads(url: str, campaign_id: uuid.UUID, post_id: uuid.UUID, reps: int) -> list[tuple]:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    results = []
    cases = [("tree", 1, 100), ("tree", 5, 100), ("tree", 1, 500), ("top", 1, 100), ("top", 5, 100),
             ("new", 1, 100)]  # fmt: skip
    for order, page, per_page in cases:
        times = []
        for _ in range(reps + 3):
            started = time.perf_counter()
            async with maker() as s:
                body = await comments_service.list_comments(
                    s, campaign_id=campaign_id, post_id=post_id, order=order, page=page, per_page=per_page
                )
            times.append((time.perf_counter() - started) * 1000)
            assert body.total == BIG_THREAD and len(body.comments) == per_page
        p50, p95 = _pcts(times[3:])
        results.append((f"order={order}, page {page}, per_page {per_page}", p50, p95))
    await engine.dispose()
    return results


async def bench_search(url: str, campaign_id: uuid.UUID) -> list[tuple]:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    results = []
    for label, params in (
        ("q=chargebee, search_in=comments", {"q": "chargebee", "search_in": "comments"}),
        ("q=chargebee churn, search_in=all", {"q": "chargebee churn", "search_in": "all"}),
        ("q=chargebee, search_in=comments, archetype=Journey", {"q": "chargebee", "search_in": "comments",
                                                               "archetype": "Journey"}),
    ):  # fmt: skip
        posts_service.SEARCH_TOTALS.clear()
        calls = []
        for _ in range(4):
            started = time.perf_counter()
            async with maker() as s:
                page = await posts_service.list_posts(
                    s, campaign_id=campaign_id, filters=PostFilters(**params), page=1, per_page=20
                )
            calls.append((time.perf_counter() - started) * 1000)
        results.append((label, page.total, calls[0], statistics.median(calls[1:])))
    await engine.dispose()
    return results


# ---- 4. export memory -------------------------------------------------------------------------


def reset_peak() -> bool:
    """Start ``VmHWM`` again from the current RSS (Linux: ``5`` to ``clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return proc_kib("VmHWM") <= proc_kib("VmRSS") + 1024


async def seed_sqlite(url: str, posts: int, per_post: int) -> tuple[uuid.UUID, int]:
    """The PostgreSQL seed's shape on SQLite (``per_post`` comments under every post, 500
    under one, chains 4 deep), written with bulk Core inserts; returns (campaign, comments)."""
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    user_id, campaign_id = uuid.uuid4(), uuid.uuid4()
    async with session_scope(maker) as s:
        s.add(User(id=user_id, email=f"bench-{user_id.hex[:8]}@example.com", password_hash="x"))
        await s.flush()
        s.add(Campaign(id=campaign_id, user_id=user_id, name="bench-comments-export", keywords=["invoice"],
                       target_subreddits=["SaaS"]))  # fmt: skip
    started = time.perf_counter()
    now = datetime.now(UTC)
    total = 0
    step = 5_000
    for first in range(0, posts, step):
        post_rows, comment_rows = [], []
        for i in range(first, min(first + step, posts)):
            pid, rid = new_id(), f"b{i:07d}"
            n = BIG_THREAD if i == 0 else per_post
            post_rows.append({
                "id": pid, "campaign_id": campaign_id, "user_id": user_id, "subreddit": "SaaS",
                "subreddit_key": "saas", "reddit_post_id": rid,
                "reddit_url": f"https://www.reddit.com/r/SaaS/comments/{rid}/", "title": f"Invoicing tools {i}",
                "upvotes": i % 500, "comment_count": n, "reddit_created_at": now - timedelta(minutes=i),
                "success_score": (i * 7919) % 1000 / 100, "comments_collected": n, "search_terms": " ",
                "comment_terms": " ",
            })  # fmt: skip
            for g in range(1, n + 1):
                comment_rows.append({
                    "id": new_id(), "campaign_id": campaign_id, "user_id": user_id, "post_id": pid,
                    "reddit_comment_id": f"{rid}c{g}",
                    "parent_id": f"t3_{rid}" if g % 4 == 1 else f"t1_{rid}c{g - 1}", "depth": (g - 1) % 4,
                    "author": f"user{g % 300}",
                    "body": f"We tried {COMMENT_WORDS[(g + i) % 8]} for invoicing; support answered in "
                            f"{g % 9 + 1} days about exports and dunning emails.",
                    "upvotes": (g * 37 + i) % 200, "reddit_created_at": now - timedelta(minutes=i) + timedelta(minutes=g),
                    "is_deleted": False, "collected_at": now,
                })  # fmt: skip
        async with session_scope(maker) as s:
            await s.execute(insert(RawPost), post_rows)
            await s.execute(insert(RawComment), comment_rows)
        total += len(comment_rows)
        print(f"\rseed (SQLite): {first + len(post_rows):,} posts, {total:,} comments", end="", flush=True)
    async with session_scope(maker) as s:
        s.add(CommentTotal(campaign_id=campaign_id, comments=total, posts_with_comments=posts))
    await engine.dispose()
    print(f" in {time.perf_counter() - started:.0f} s", flush=True)
    return campaign_id, total


def _export_child(url: str, campaign_id: uuid.UUID, comments: int, fmt: str, out: Any) -> None:
    out.put(asyncio.run(bench_export(url, campaign_id, comments, fmt)))


def export_in_fresh_process(url: str, campaign_id: uuid.UUID, comments: int) -> list[dict]:
    """``bench_export`` of each format in a new interpreter: this one's heap was grown by
    the seeding and the other phases (and one format's pass by the other's), and what fits
    in memory a process already holds does not show in its RSS."""
    context = multiprocessing.get_context("spawn")
    results = []
    for fmt in ("csv", "jsonl"):
        out = context.Queue()
        child = context.Process(target=_export_child, args=(url, campaign_id, comments, fmt, out))
        child.start()
        results.append(out.get())
        child.join()
    return results


async def bench_export(url: str, campaign_id: uuid.UUID, comments: int, fmt: str) -> dict:
    """Stream the campaign's comments export in ``fmt``, as a download is served."""
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    gc.collect()
    exact = reset_peak()
    base = proc_kib("VmRSS")
    sampled, rows, size, halfway = base, 0, 0, 0
    started = time.perf_counter()
    async for chunk in comments_export.export_comments(
        maker, campaign_id=campaign_id, filters=PostFilters(), fmt=fmt
    ):
        size += len(chunk)
        rows += chunk.count(b"\n")  # the generated texts hold no line breaks
        sampled = max(sampled, proc_kib("VmRSS"))
        if not halfway and rows >= comments // 2:
            halfway = proc_kib("VmRSS")
        del chunk
    elapsed = time.perf_counter() - started
    await engine.dispose()
    rows -= 1 if fmt == "csv" else 0  # the header
    assert rows == comments, (fmt, rows, comments)
    peak = proc_kib("VmHWM") if exact else sampled
    return {
        "fmt": fmt, "rows": rows, "mb": size / 1e6, "seconds": elapsed, "rows_s": rows / elapsed,
        "base_mib": base / 1024, "peak_mib": peak / 1024, "growth_mib": (peak - base) / 1024,
        "halfway_mib": (halfway - base) / 1024, "end_mib": (proc_kib("VmRSS") - base) / 1024,
        "peak_kind": "VmHWM" if exact else "sampled",
    }  # fmt: skip


def print_export(db: str, posts: int, results: list[dict]) -> None:
    for r in results:
        print(f"  export {r['fmt']:<5} {db}, {posts:,} posts: {r['rows']:,} comments, {r['mb']:,.0f} MB in "
              f"{r['seconds']:.1f} s = {r['rows_s']:,.0f} rows/s; RSS {r['base_mib']:.0f} MiB before, peak "
              f"{r['peak_mib']:.0f} MiB ({r['peak_kind']}) = +{r['growth_mib']:.1f} MiB; "
              f"+{r['halfway_mib']:.1f} MiB at half, +{r['end_mib']:.1f} MiB at the end", flush=True)  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--comments-per-post", type=int, default=10)
    parser.add_argument("--store-comments", type=int, default=50_000)
    parser.add_argument("--per-post", type=int, default=50, help="comments per post when storing")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--store-only", action="store_true")
    parser.add_argument(
        "--sqlite-export-posts",
        type=int,
        default=0,
        help="posts of the SQLite campaign whose comments export is measured (0: skip)",
    )
    parser.add_argument("--no-export", action="store_true", help="skip the PostgreSQL export measurement")
    args = parser.parse_args()
    print(f"comments bench: Python {platform.python_version()}, {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, sqlite_url)
        rate = await bench_store(sqlite_url, args.store_comments, args.per_post)
        print(f"store, SQLite: {args.store_comments:,} comments, {args.per_post}/post: {rate:,.0f} comments/s "
              f"(floor {STORE_FLOOR:,}) {'OK' if rate >= STORE_FLOOR else 'BELOW'}")  # fmt: skip
        if args.sqlite_export_posts and not args.store_only:
            campaign_id, total = await seed_sqlite(
                sqlite_url, args.sqlite_export_posts, args.comments_per_post
            )
            results = await asyncio.to_thread(export_in_fresh_process, sqlite_url, campaign_id, total)
            print_export("SQLite", args.sqlite_export_posts, results)
    pg_url = database_url_from_env()
    if not pg_url or not pg_url.startswith("postgresql"):
        print("no PostgreSQL URL: PostgreSQL figures skipped")
        return
    await asyncio.to_thread(upgrade, pg_url)
    rate = await bench_store(pg_url, args.store_comments, args.per_post)
    print(f"store, PostgreSQL: {args.store_comments:,} comments, {args.per_post}/post: {rate:,.0f} comments/s "
          f"(floor {STORE_FLOOR:,}) {'OK' if rate >= STORE_FLOOR else 'BELOW'}")  # fmt: skip
    if args.store_only:
        return
    ids = await browse.seed(pg_url, args.posts, reseed=False)
    post_id, total = await seed_comments(pg_url, ids["campaign"], args.comments_per_post)
    print(f"\nthread of {BIG_THREAD} comments, campaign of {args.posts:,} posts / {total:,} comments "
          f"({args.reps} calls each, fresh session per call):")  # fmt: skip
    for label, p50, p95 in await bench_reads(pg_url, ids["campaign"], post_id, args.reps):
        mark = "OK" if p95 <= READ_TARGET_MS else "ABOVE"
        print(
            f"  {label:<36} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  (target p95 <= {READ_TARGET_MS:.0f}) {mark}"
        )
    print("\ncomment search (20 per page, exact total):")
    for label, matches, first, again in await bench_search(pg_url, ids["campaign"]):
        print(f"  {label:<52} {matches:>9,} matches  first call {first:7.1f} ms  again {again:6.1f} ms")
    if not args.no_export:
        print("\ncomments export, streamed (chunks dropped as a client takes them):")
        results = await asyncio.to_thread(export_in_fresh_process, pg_url, ids["campaign"], total)
        print_export("PostgreSQL", args.posts, results)


if __name__ == "__main__":
    asyncio.run(main())
