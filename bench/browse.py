"""Browse benchmark: one campaign with 1,000,000 stored posts on PostgreSQL.

Seeds the posts with COPY (asyncpg ``copy_records_to_table``), VACUUM ANALYZEs, then times
the real service functions (``bcrao.posts.service.list_posts``, ``bcrao.posts.stats`` and
``bcrao.posts.export``), each call in a fresh session like a request gets.

    scripts/with-postgres.sh .venv/bin/python bench/browse.py [--posts N] [--reps 30] [--explain]

The database URL comes from ``--database-url``, ``BCRAO_BENCH_DATABASE_URL`` or
``BCRAO_TEST_DATABASE_URL`` (set by ``scripts/with-postgres.sh``). Seeding is skipped when
the campaign already holds the requested number of posts (``--reseed`` forces it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import database_url_from_env, proc_kib  # noqa: E402

from bcrao.auth.models import User  # noqa: E402
from bcrao.campaigns.models import Campaign  # noqa: E402
from bcrao.collection.models import RawPost  # noqa: E402
from bcrao.config import Settings  # noqa: E402
from bcrao.db import make_engine, make_sessionmaker, new_id  # noqa: E402
from bcrao.migrate import upgrade  # noqa: E402
from bcrao.posts import export, service, stats  # noqa: E402
from bcrao.posts.schemas import PostFilters  # noqa: E402
from bcrao.posts.search import search_terms  # noqa: E402

CAMPAIGN_NAME = "bench-browse"
SUBREDDITS = ["SaaS", "startups", "Entrepreneur", "smallbusiness", "marketing", "indiehackers",
              "sales", "webdev", "ProductManagement", "growthhacking"]  # fmt: skip
DOMAIN_WORDS = ["churn", "pricing", "onboarding", "revenue", "customers", "founder", "launch", "mrr",
                "feedback", "trial", "billing", "retention", "growth", "stripe", "saas"]  # fmt: skip
COLUMNS = ["id", "campaign_id", "user_id", "run_id", "subreddit", "subreddit_key", "reddit_post_id",
           "reddit_url", "author", "title", "raw_text", "upvotes", "comment_count", "upvote_ratio",
           "reddit_created_at", "archetype", "relevance_score", "success_score", "score_breakdown",
           "is_ai_processed", "classifier", "collected_at", "search_terms"]  # fmt: skip

SCENARIOS: dict[str, dict[str, Any]] = {
    "unfiltered, page 1": {},
    "archetype=Journey": {"archetype": "Journey"},
    "subreddit=startups": {"subreddit": "startups"},
    "score 7-9": {"min_score": 7, "max_score": 9},
    "q=churn": {"q": "churn"},
    "q=churn pricing (2 words)": {"q": "churn pricing"},
    "sort=-upvotes": {"sort": "-upvotes"},
    "sort=-reddit_created_at": {"sort": "-reddit_created_at"},
    "all filters": {
        "archetype": "Feedback",
        "subreddit": "SaaS",
        "min_score": 3,
        "max_score": 8,
        "q": "pricing",
    },
    "deep page 2,000": {"page": 2000},
}


def database_url(arg: str | None) -> str:
    url = arg or database_url_from_env()
    if not url or not url.startswith("postgresql"):
        sys.exit("browse bench: needs a PostgreSQL URL (--database-url, BCRAO_BENCH_DATABASE_URL)")
    return url


# ---- seeding -----------------------------------------------------------------------------------


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    syllables = ["ka", "lo", "mi", "ten", "sa", "ro", "vel", "dun", "pi", "tor", "shi", "ba", "ne", "qu"]
    words = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(6000)}
    vocab = sorted(words)
    for k, word in enumerate(DOMAIN_WORDS):  # mid-frequency: each in a few % of posts, like real topics
        vocab.insert(120 + 60 * k, word)
    weights = [1 / (rank + 8) for rank in range(len(vocab))]  # Zipf-like: a few common words
    return vocab, weights


def _fragments(rng: random.Random, count: int, words: int) -> list[str]:
    vocab, weights = _vocabulary(rng)
    return [" ".join(rng.choices(vocab, weights, k=words)) for _ in range(count)]


def _rows(n: int, start: int, ids: dict[str, uuid.UUID], rng: random.Random, pools: Any) -> list[tuple]:
    titles, bodies = pools
    now = datetime.now(UTC)
    rows = []
    for i in range(start, start + n):
        sub = SUBREDDITS[i % len(SUBREDDITS)]
        arch = rng.choices(["Unclassified", "Journey", "ProblemSolution", "Feedback"], [70, 10, 10, 10])[0]
        score = round(min(10.0, max(0.0, rng.gauss(4.5, 2.0))), 2)
        body = " ".join(rng.sample(bodies, 3))  # ~540 chars
        title = rng.choice(titles)
        rows.append(
            (
                new_id(), ids["campaign"], ids["user"], ids["run"], sub, sub.lower(), f"b{i:07d}",
                f"https://www.reddit.com/r/{sub}/comments/b{i:07d}/", f"user{i % 5000}",
                title, body, int(rng.paretovariate(1.2)) - 1, int(rng.paretovariate(1.4)) - 1,
                round(rng.uniform(0.5, 1.0), 2), now - timedelta(minutes=i), arch, round(score / 1.3, 2),
                score, f'{{"total": {score}}}', arch != "Unclassified" and i % 5 == 0,
                None if arch == "Unclassified" else "rules", now, search_terms(title, body),
            )
        )  # fmt: skip
    return rows


BUCKET_SQL = (
    "CASE WHEN success_score >= 9 THEN 9 WHEN success_score < 0 THEN 0 "
    "ELSE CAST(floor(success_score) AS INTEGER) END"
)


async def seed(url: str, count: int, *, reseed: bool) -> dict[str, uuid.UUID]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        found = await conn.fetchrow(
            "SELECT c.id, c.user_id, (SELECT count(*) FROM raw_posts p WHERE p.campaign_id = c.id) AS n "
            "FROM campaigns c WHERE c.name = $1",
            CAMPAIGN_NAME,
        )
        if found and found["n"] == count and not reseed:
            run = await conn.fetchval("SELECT id FROM collection_runs WHERE campaign_id = $1", found["id"])
            print(f"seed: reusing {count:,} posts")
            return {"campaign": found["id"], "user": found["user_id"], "run": run}
        if found:
            await conn.execute("DELETE FROM users WHERE id = $1", found["user_id"])
        ids = {"user": uuid.uuid4(), "campaign": uuid.uuid4(), "run": uuid.uuid4()}
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO users (id, email, password_hash, plan, created_at) VALUES ($1, $2, 'x', 'trial', $3)",
            ids["user"], f"bench-{ids['user'].hex[:8]}@example.com", now,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO campaigns (id, user_id, name, product_context, product_url, keywords, "
            "target_subreddits, status, created_at, updated_at) "
            "VALUES ($1, $2, $3, '', NULL, $4, $5, 'active', $6, $6)",
            ids["campaign"], ids["user"], CAMPAIGN_NAME, json.dumps(DOMAIN_WORDS[:5]),
            json.dumps(SUBREDDITS), now,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO collection_runs (id, campaign_id, user_id, status, source, classifier, mode, "
            "max_posts_per_subreddit, scraped, filtered, classified, stored, duplicates, filter_reasons, "
            "errors, warnings, llm_prompt_tokens, llm_completion_tokens, llm_cost_usd, llm_fallbacks, "
            "cancel_requested, attempts, last_event_id, created_at, finished_at) VALUES ($1, $2, $3, "
            "'complete', 'sample', 'rules', 'hybrid', 1000, $4, $4, 0, $4, 0, '{\"too_short\": 5}', '[]', "
            "'[]', 0, 0, 0, 0, false, 1, 0, $5, $5)",
            ids["run"], ids["campaign"], ids["user"], count, now,
        )  # fmt: skip
        rng = random.Random(7)
        pools = (_fragments(rng, 4000, 7), _fragments(rng, 3000, 20))
        started = time.perf_counter()
        # Building the word index once at the end is far faster than maintaining it per row.
        await conn.execute("DROP INDEX IF EXISTS ix_raw_posts_search")
        # asyncpg's binary COPY has no tsvector encoder: stage the words as text, then cast.
        await conn.execute(
            "CREATE TEMP TABLE seed_posts AS SELECT * FROM raw_posts WITH NO DATA;"
            "ALTER TABLE seed_posts ALTER COLUMN search_terms TYPE text"
        )
        columns = ", ".join(COLUMNS)
        chunk = 50_000
        for start in range(0, count, chunk):
            rows = _rows(min(chunk, count - start), start, ids, rng, pools)
            await conn.copy_records_to_table("seed_posts", records=rows, columns=COLUMNS)
            await conn.execute(
                f"INSERT INTO raw_posts ({columns}) SELECT {columns.replace('search_terms', 'search_terms::tsvector')}"
                " FROM seed_posts; TRUNCATE seed_posts"
            )
            print(f"\rseed: {start + len(rows):,} posts", end="", flush=True)
        print(f" in {time.perf_counter() - started:.0f} s; indexing...", flush=True)
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute(
            "CREATE INDEX ix_raw_posts_search ON raw_posts USING gin (campaign_id, search_terms)"
        )
        # The store step keeps post_counts in step with every insert; COPY bypasses it, so
        # fill the counts the way migration 0002 does for existing posts.
        await conn.execute(
            "INSERT INTO post_counts (campaign_id, archetype, subreddit_key, bucket, posts, score_sum) "
            f"SELECT campaign_id, archetype, subreddit_key, {BUCKET_SQL}, count(*), sum(success_score) "
            f"FROM raw_posts WHERE campaign_id = $1 GROUP BY archetype, subreddit_key, {BUCKET_SQL}, campaign_id",
            ids["campaign"],
        )
        await conn.execute("VACUUM ANALYZE raw_posts")
        print(f"seed: done in {time.perf_counter() - started:.0f} s")
        return ids
    finally:
        await conn.close()


# ---- measuring ---------------------------------------------------------------------------------


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(reps: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    await call()  # warm caches and the connection pool
    samples, result = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = await call()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), _pct(samples, 0.95), result


def rss_kb() -> int:
    return proc_kib("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def filters_of(params: dict[str, Any]) -> PostFilters:
    return PostFilters(**{k: v for k, v in params.items() if k != "page"})


async def explain(maker, campaign_id: uuid.UUID) -> None:
    print("\nEXPLAIN (ANALYZE, BUFFERS OFF) — list page query and count query per scenario")
    for name, params in SCENARIOS.items():
        filters = filters_of(params)
        where = service.filter_clauses(filters, campaign_id=campaign_id, dialect="postgresql")
        page = params.get("page", 1)
        queries = {
            "page": service.page_query(
                where, service.order_by(filters.sort), offset=(page - 1) * 20, limit=20
            ),
            "count": select(func.count()).select_from(RawPost).where(*where),
        }
        print(f"\n== {name}")
        for kind, query in queries.items():
            sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            async with maker() as session:
                plan = [r[0] for r in await session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS OFF) {sql}"))]
            nodes = [line.strip() for line in plan if "->" in line or line is plan[0]]
            summary = " | ".join(n.split("  (")[0].removeprefix("-> ") for n in nodes[:5])
            total = next((line for line in plan if line.startswith("Execution Time")), "")
            print(f"  {kind:5}: {summary}  [{total}]")


async def bench(url: str, args: argparse.Namespace) -> None:
    await asyncio.to_thread(upgrade, url)
    ids = await seed(url, args.posts, reseed=args.reseed)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    settings = Settings(database_url=url, secret_key="x" * 40, data_dir=Path(tempfile.mkdtemp()))
    async with maker() as session:
        campaign = await session.get(Campaign, ids["campaign"])
        user = await session.get(User, ids["user"])
    results: list[tuple[str, float, float, str]] = []
    for name, params in SCENARIOS.items():
        filters = filters_of(params)

        async def list_call(filters: PostFilters = filters, page: int = params.get("page", 1)) -> Any:
            async with maker() as session:
                return await service.list_posts(
                    session, campaign_id=ids["campaign"], filters=filters, page=page, per_page=20
                )

        # The first call of a search counts its matches; the repeats (paging, re-sorting,
        # coming back) reuse the remembered total. Report both.
        service.SEARCH_TOTALS.clear()
        t0 = time.perf_counter()
        await list_call()
        first_ms = (time.perf_counter() - t0) * 1000
        p50, p95, out = await timed(args.reps, list_call)
        note = f"total {out.total:,}" + (f"; first call {first_ms:,.0f} ms" if filters.words else "")
        results.append((f"list: {name}", p50, p95, note))
        print(f"{results[-1][0]:40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({note})", flush=True)

    async def stats_call() -> Any:
        async with maker() as session:
            return await stats.collection_stats(session, campaign=campaign, user=user, settings=settings)

    p50, p95, out = await timed(args.reps, stats_call)
    results.append(("collection-stats", p50, p95, f"total {out.total:,}"))
    print(f"{'collection-stats':40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms", flush=True)

    for fmt in ("csv", "jsonl"):
        base, peak, rows, size = rss_kb(), 0, 0, 0
        t0 = time.perf_counter()
        async for chunk in export.export_posts(
            maker, campaign_id=ids["campaign"], filters=PostFilters(), fmt=fmt
        ):
            size += len(chunk)
            rows += chunk.count(b"\n")  # the generated texts hold no newlines
            peak = max(peak, rss_kb())
        elapsed = time.perf_counter() - t0
        rows -= 1 if fmt == "csv" else 0  # the header row
        growth_mb = (peak - base) / 1024
        print(
            f"export {fmt:5}: {rows:,} rows, {size / 1e6:,.0f} MB in {elapsed:.1f} s = "
            f"{rows / elapsed:,.0f} rows/s; RSS growth {growth_mb:.1f} MB",
            flush=True,
        )
        results.append(
            (f"export {fmt}", elapsed * 1000, 0, f"{rows / elapsed:,.0f} rows/s, +{growth_mb:.1f} MB RSS")
        )
    if args.explain:
        await explain(maker, ids["campaign"])
    await engine.dispose()
    print("\n| measurement | p50 ms | p95 ms | notes |\n|---|---:|---:|---|")
    for name, p50, p95, note in results:
        if name.startswith("export"):
            print(f"| {name} | {p50 / 1000:.1f} s total | | {note} |")
        else:
            print(f"| {name} | {p50:.1f} | {p95:.1f} | {note} |")
    print(f"\n{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{datetime.now(UTC):%Y-%m-%d}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plan summaries")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the posts are there")
    args = parser.parse_args()
    asyncio.run(bench(database_url(args.database_url), args))


if __name__ == "__main__":
    main()
