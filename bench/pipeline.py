"""Pipeline throughput: CPU stages and storage, at 10k and 100k posts.

- CPU: pre-filter + classify (the shipped model, every kept post) + score on one core
  (see pipeline_cpu.py).
- Storage: the pipeline's own ``store.insert_posts`` (one transaction per subreddit-sized
  chunk of 1,000 rows) into SQLite (a temp file, the embedded default's settings) and
  PostgreSQL.

Usage:
  python bench/pipeline.py                                  # CPU + SQLite
  scripts/with-postgres.sh .venv/bin/python bench/pipeline.py   # + PostgreSQL
  python bench/pipeline.py --database-url postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import database_url_from_env  # noqa: E402
from bench.pipeline_cpu import run_cpu_bench  # noqa: E402

from bcrao.auth.models import User  # noqa: E402
from bcrao.campaigns.models import Campaign  # noqa: E402
from bcrao.collection import store  # noqa: E402
from bcrao.collection.models import CollectionRun  # noqa: E402
from bcrao.db import make_engine, make_sessionmaker, new_id, session_scope  # noqa: E402
from bcrao.migrate import upgrade  # noqa: E402
from bcrao.sources.sample import load_corpus  # noqa: E402

CHUNK = 1_000  # rows per transaction, like one subreddit's survivors at max_posts=1000


def rows_for(n: int, campaign_id: uuid.UUID, user_id: uuid.UUID, run_id: uuid.UUID) -> list[dict]:
    posts = [p for ps in load_corpus().values() for p in ps]
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        p = posts[i % len(posts)]
        out.append(
            {
                "id": new_id(),
                "campaign_id": campaign_id,
                "user_id": user_id,
                "run_id": run_id,
                "subreddit": p.subreddit,
                "subreddit_key": p.subreddit.lower(),
                "reddit_post_id": f"{p.id}x{i}",
                "reddit_url": p.permalink,
                "author": p.author,
                "title": p.title,
                "raw_text": p.text,
                "upvotes": p.upvotes,
                "comment_count": p.comment_count,
                "upvote_ratio": p.upvote_ratio,
                "reddit_created_at": p.created_utc,
                "archetype": "Unclassified",
                "relevance_score": 5.0,
                "success_score": 5.0,
                "score_breakdown": {"total": 5.0, "upvotes_percentile": 1.5},
                "is_ai_processed": False,
                "classifier": None,
                "collected_at": now,
            }
        )
    return out


async def store_bench(url: str, n: int) -> float:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    async with session_scope(maker) as s:
        user = User(email=f"bench-{uuid.uuid4().hex}@example.com", password_hash="x")
        s.add(user)
        await s.flush()
        campaign = Campaign(user_id=user.id, name="bench", keywords=["x"], target_subreddits=["SaaS"])
        s.add(campaign)
        await s.flush()
        run = CollectionRun(
            campaign_id=campaign.id, user_id=user.id, source="sample", classifier="rules", status="running"
        )
        s.add(run)
    rows = rows_for(n, campaign.id, user.id, run.id)
    started = time.perf_counter()
    stored = 0
    for i in range(0, n, CHUNK):
        async with session_scope(maker) as s:
            stored += (
                await store.insert_posts(s, campaign_id=campaign.id, run_id=run.id, rows=rows[i : i + CHUNK])
            ).stored
    elapsed = time.perf_counter() - started
    assert stored == n, (stored, n)
    async with session_scope(maker) as s:  # leave the database as we found it
        await s.execute(delete(User).where(User.id == user.id))
    await engine.dispose()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=database_url_from_env(),
    )
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"{'stage':<34}{'posts':>9}{'posts/s':>12}{'target':>10}")
    for n in sizes:
        result = run_cpu_bench(n)
        print(f"{'filter+classify(model)+score':<34}{n:>9,}{result['posts_per_second']:>12,.0f}{'5,000':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(url)
        for n in sizes:
            print(f"{'store into SQLite':<34}{n:>9,}{asyncio.run(store_bench(url, n)):>12,.0f}{'2,000':>10}")
    if args.database_url:
        upgrade(args.database_url)
        for n in sizes:
            rate = asyncio.run(store_bench(args.database_url, n))
            print(f"{'store into PostgreSQL':<34}{n:>9,}{rate:>12,.0f}{'2,000':>10}")
    else:
        print("store into PostgreSQL: skipped (give --database-url or run under scripts/with-postgres.sh)")


if __name__ == "__main__":
    main()
