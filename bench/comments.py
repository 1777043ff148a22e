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

    scripts/with-postgres.sh .venv/bin/python bench/comments.py [--posts 1000000] [--comments-per-post 10]
    .venv/bin/python bench/comments.py --store-only      # SQLite store figures only
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
import browse

from bcrao.auth.models import User
from bcrao.campaigns.models import Campaign
from bcrao.comments import service as comments_service
from bcrao.comments import store as comment_store
from bcrao.db import make_engine, make_sessionmaker, session_scope
from bcrao.migrate import upgrade
from bcrao.posts import service as posts_service
from bcrao.posts.schemas import PostFilters
from bcrao.sources.base import NormalizedComment

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
    args = parser.parse_args()
    print(f"comments bench: Python {platform.python_version()}, {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, sqlite_url)
        rate = await bench_store(sqlite_url, args.store_comments, args.per_post)
        print(f"store, SQLite: {args.store_comments:,} comments, {args.per_post}/post: {rate:,.0f} comments/s "
              f"(floor {STORE_FLOOR:,}) {'OK' if rate >= STORE_FLOOR else 'BELOW'}")  # fmt: skip
    pg_url = os.environ.get("BCRAO_BENCH_DATABASE_URL") or os.environ.get("BCRAO_TEST_DATABASE_URL")
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


if __name__ == "__main__":
    asyncio.run(main())
