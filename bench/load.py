"""Load: mixed authenticated reads plus SSE watchers against two API processes.

PostgreSQL + Redis + two `bcrao serve` processes (the scale-out deployment). For
``--seconds`` (default 60) a pool of asyncio clients sends a mix of list (with filters),
detail, stats, campaign and run reads round-robin to both APIs, while ``--watchers``
(default 200) SSE clients watch a live run whose events a publisher appends every 200 ms.
Prints throughput, p50/p99 latency and errors, per request kind and overall.

Usage (needs PostgreSQL binaries and redis-server):
  scripts/with-postgres.sh .venv/bin/python bench/load.py [--seconds 60] [--watchers 200] [--concurrency 8]

The readers are closed-loop: each sends its next request when the last one answers, so
their number sets the queue in front of the APIs (mean latency = readers / throughput);
the README's "Load" section has the figures per reader count. The generator runs on
uvloop, like the APIs: it shares the 2 cores with what it measures. Redis, the API
processes and the user and campaign come from the tests' helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import database_url_from_env, run_loop  # noqa: E402
from tests.conftest import make_campaign, signup  # noqa: E402
from tests.fakes.fixtures import private_redis  # noqa: E402
from tests.system.processes import api_processes  # noqa: E402

from bcrao.collection.models import CollectionRun  # noqa: E402
from bcrao.collection.store import insert_posts  # noqa: E402
from bcrao.config import Settings  # noqa: E402
from bcrao.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from bcrao.migrate import upgrade  # noqa: E402
from bcrao.progress.bus import RedisBus  # noqa: E402
from bcrao.runtime import make_redis  # noqa: E402

ARCHETYPES = ["Journey", "ProblemSolution", "Feedback", "Unclassified"]
SUBS = ["SaaS", "startups", "marketing", "webdev", "sales"]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def seed(settings: Settings, api: str, posts: int) -> dict:
    async with httpx.AsyncClient(base_url=api, timeout=30) as c:
        user = await signup(c, f"load-{uuid.uuid4().hex[:6]}@example.com", "load-test-pass")
        headers = user["headers"]
        campaign = await make_campaign(c, headers, name="load", keywords=["churn"], target_subreddits=SUBS,
                                       product_context="", product_url=None)  # fmt: skip
    user_id, campaign_id = uuid.UUID(user["user"]["id"]), uuid.UUID(campaign["id"])
    engine = make_engine(settings.effective_database_url)
    maker = make_sessionmaker(engine)
    rng = random.Random(7)
    now = datetime.now(UTC)
    async with session_scope(maker) as s:
        done = CollectionRun(
            campaign_id=campaign_id,
            user_id=user_id,
            status="complete",
            source="sample",
            classifier="rules",
            scraped=posts * 5,
            filtered=posts,
            classified=posts // 10,
            stored=posts,
            filter_reasons={"too_short": posts * 4},
            finished_at=now,
        )
        live = CollectionRun(
            campaign_id=campaign_id,
            user_id=user_id,
            status="running",
            source="sample",
            classifier="rules",
            heartbeat_at=now + timedelta(days=1),
        )
        s.add_all([done, live])
        await s.flush()
        rows = []
        for i in range(posts):
            sub = SUBS[i % len(SUBS)]
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "campaign_id": campaign_id,
                    "user_id": user_id,
                    "run_id": done.id,
                    "subreddit": sub,
                    "subreddit_key": sub.lower(),
                    "reddit_post_id": f"p{i}",
                    "reddit_url": f"https://www.reddit.com/r/{sub}/comments/p{i}/x/",
                    "author": f"user{i % 97}",
                    "title": f"Post {i} about churn and pricing " * rng.randint(1, 3),
                    "raw_text": "I run a small SaaS and we fought churn for a year. " * rng.randint(1, 12),
                    "upvotes": rng.randint(0, 500),
                    "comment_count": rng.randint(0, 80),
                    "upvote_ratio": rng.random(),
                    "reddit_created_at": now - timedelta(hours=i),
                    "archetype": rng.choice(ARCHETYPES),
                    "relevance_score": rng.random() * 10,
                    "success_score": round(rng.random() * 10, 2),
                    "score_breakdown": {"total": 5},
                }
            )
        # The pipeline's own store step, so post_counts (list totals, stats) match the posts.
        await insert_posts(s, campaign_id=campaign_id, run_id=done.id, rows=rows)
        ids = [row["id"] for row in rows]
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE raw_posts"))
    await engine.dispose()
    return {
        "headers": headers,
        "campaign": str(campaign_id),
        "posts": [str(p) for p in ids],
        "done_run": str(done.id),
        "live_run": str(live.id),
    }


def request_mix(ctx: dict) -> list[tuple[str, str]]:
    c = ctx["campaign"]
    return [
        ("list", f"/v1/campaigns/{c}/posts"),
        ("list_filtered", f"/v1/campaigns/{c}/posts?archetype=Journey&min_score=3&max_score=9&sort=-upvotes"),
        ("list_subreddit", f"/v1/campaigns/{c}/posts?subreddit=r/SaaS&page=3"),
        ("search", f"/v1/campaigns/{c}/posts?q=pricing"),
        ("detail", None),
        ("stats", f"/v1/campaigns/{c}/collection-stats"),
        ("campaign", f"/v1/campaigns/{c}"),
        ("run", f"/v1/collection/{ctx['done_run']}"),
    ]


async def reader(
    clients: list[tuple[aiohttp.ClientSession, str]], ctx: dict, until: float, results: dict
) -> None:
    """Closed-loop reader. aiohttp rather than httpx: the generator shares the 2 cores with
    the servers, and aiohttp costs the client several times less CPU per request."""
    mix = request_mix(ctx)
    rng = random.Random()
    i = rng.randrange(len(clients))
    while time.perf_counter() < until:
        kind, path = mix[rng.randrange(len(mix))]
        if path is None:
            path = f"/v1/campaigns/{ctx['campaign']}/posts/{rng.choice(ctx['posts'])}"
        session, base = clients[i % len(clients)]
        i += 1
        started = time.perf_counter()
        try:
            async with session.get(base + path, headers=ctx["headers"]) as resp:
                await resp.read()
                ok = resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        results[kind].append((time.perf_counter() - started, ok))


async def watcher(
    session: aiohttp.ClientSession, base: str, ctx: dict, until: float, received: list[int], errors: list[str]
) -> None:
    """One EventSource-like client: aiohttp and a minimal line parser (only ``event:`` lines
    matter here) rather than httpx-sse, because the generator shares the 2 cores with the
    servers and 200 watchers receive about 1,000 events/s between them."""
    try:
        async with session.get(
            f"{base}/v1/collection/{ctx['live_run']}/progress",
            headers={**ctx["headers"], "Accept": "text/event-stream"},
            timeout=aiohttp.ClientTimeout(total=None, sock_read=30),
        ) as resp:
            if resp.status != 200:
                errors.append(f"status {resp.status}")
                return
            count = 0
            async for line in resp.content:
                if not line.startswith(b"event:"):
                    continue
                event = line[6:].strip()
                if event in (b"progress", b"complete"):
                    count += 1
                if event == b"complete" or time.perf_counter() > until + 5:
                    break
            received.append(count)
    except Exception as exc:
        errors.append(type(exc).__name__)


async def publisher(bus: RedisBus, run_id: str, until: float) -> int:
    n = 0
    while time.perf_counter() < until:
        n += 1
        await bus.publish(
            run_id,
            "progress",
            {
                "task_id": run_id,
                "status": "running",
                "stage": "filtering",
                "scraped": n,
                "ts": datetime.now(UTC).isoformat(),
            },
        )
        await asyncio.sleep(0.2)
    await bus.publish(run_id, "complete", {"task_id": run_id, "status": "complete", "stage": "done"})
    return n + 1


async def drive(settings: Settings, apis: list[str], args: argparse.Namespace) -> None:
    ctx = await seed(settings, apis[0], args.posts)
    sessions = [
        (
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30)
            ),
            api,
        )
        for api in apis
    ]
    redis = make_redis(settings.redis_url or "")
    bus = RedisBus(redis)
    warm_until = time.perf_counter() + 3
    await asyncio.gather(*(reader(sessions, ctx, warm_until, defaultdict(list)) for _ in range(4)))
    until = time.perf_counter() + args.seconds
    received: list[int] = []
    watch_errors: list[str] = []
    watchers = [
        asyncio.create_task(watcher(*sessions[i % len(sessions)], ctx, until, received, watch_errors))
        for i in range(args.watchers)
    ]
    await asyncio.sleep(1)
    results: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    started = time.perf_counter()
    pub = asyncio.create_task(publisher(bus, ctx["live_run"], until))
    await asyncio.gather(*(reader(sessions, ctx, until, results) for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    published = await pub
    await asyncio.wait_for(asyncio.gather(*watchers), 30)
    for session, _ in sessions:
        await session.close()
    await redis.aclose()

    all_lat = [lat for rows in results.values() for lat, _ in rows]
    errors = sum(1 for rows in results.values() for _, ok in rows if not ok)
    print(f"\n{'kind':<16}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for kind, rows in sorted(results.items()):
        lat = [x for x, _ in rows]
        print(
            f"{kind:<16}{len(rows):>10}{pct(lat, 0.5) * 1000:>10.1f}{pct(lat, 0.99) * 1000:>10.1f}"
            f"{sum(1 for _, ok in rows if not ok):>8}"
        )
    print(
        f"{'all':<16}{len(all_lat):>10}{pct(all_lat, 0.5) * 1000:>10.1f}{pct(all_lat, 0.99) * 1000:>10.1f}"
        f"{errors:>8}"
    )
    print(
        f"\nthroughput: {len(all_lat) / elapsed:,.0f} requests/s over {elapsed:.0f} s "
        f"({args.concurrency} concurrent readers, 2 API processes)   target >= 300, p99 <= 100 ms, 0 errors"
    )
    full = sum(1 for n in received if n == published)
    print(
        f"SSE watchers: {args.watchers}, events published {published}, watchers that got every event {full}, "
        f"watcher errors {len(watch_errors)}"
        + (f" ({statistics.mode(watch_errors)})" if watch_errors else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop readers")
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument(
        "--database-url",
        default=database_url_from_env(),
    )
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        sys.exit("load.py needs PostgreSQL: run it under scripts/with-postgres.sh or give --database-url")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp, private_redis(Path(tmp)) as redis_url:
        settings = Settings(
            database_url=args.database_url,
            redis_url=redis_url,
            data_dir=Path(tmp),
            secret_key="load-test-secret-key-0123456789abcdefghij",
            log_level="WARNING",
            plan_trial_runs_per_week=0,
            reaper_interval_seconds=3600,
        )
        upgrade(settings.effective_database_url)
        with api_processes(settings, 2) as apis:
            run_loop(drive(settings, apis, args))


if __name__ == "__main__":
    main()
