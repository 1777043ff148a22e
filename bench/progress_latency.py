"""Progress scenario 1: worker → client latency, one SSE client, next to 500 ms polling.

One SSE client watches a run while the publisher sends ``events`` events (+1 terminal);
latency = the client's arrival stamp - the event's ``pub_t``. Side by side, the seed's
design: a client polling the Celery result key with GET every 500 ms. For that baseline
each event's delay is publish → the first poll that shows that event *or a later one*
(events between two polls are coalesced; the poller never sees most of them on its own).

Run by ``bench/progress.py`` (shared setup: ``bench/_sse_stack.py``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench._common import ok, summary_ms
from bench._sse_client import check_clients, connect_clients
from bench._sse_stack import Env

POLL_INTERVAL = 0.5
TARGET_P50_MS = 5.0
TARGET_P99_MS = 50.0


async def poll_baseline(env: Env, run: str, stop: asyncio.Event) -> list[tuple[float, int]]:
    """The seed's design: GET the Celery result key every 500 ms; record (seen_at, seq)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(env.redis_url, decode_responses=True)
    seen: list[tuple[float, int]] = []
    last = -1
    loop = asyncio.get_running_loop()
    next_tick = loop.time()
    try:
        while True:
            raw = await redis.get(f"celery-task-meta-{run}")
            now = time.time()
            if raw:
                meta = json.loads(raw)
                seq = int(meta["result"]["seq"])
                if seq > last:
                    seen.append((now, seq))
                    last = seq
                if meta["status"] == "SUCCESS":
                    return seen
            if stop.is_set():
                return seen
            next_tick += POLL_INTERVAL
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
    finally:
        await redis.aclose()


def baseline_delays(
    published: list[dict[str, Any]], seen: list[tuple[float, int]]
) -> tuple[list[float], int]:
    """Per event: first poll showing it or a later state - when it was written. Also how
    many events the poller observed individually (the rest were overwritten unseen)."""
    delays: list[float] = []
    i = 0
    for entry in published:
        while i < len(seen) and seen[i][1] < entry["seq"]:
            i += 1
        if i < len(seen):
            delays.append(seen[i][0] - entry["meta_t"])
    observed = len({seq for _, seq in seen})
    return delays, observed


async def phase_latency(env: Env, run: str, events: int, min_ms: float, max_ms: float) -> dict[str, Any]:
    clients = await connect_clients(env.api_port, run, env.token, 1, env.timeout)
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_baseline(env, run, stop))
    try:
        await asyncio.sleep(0.2)
        published = await env.publisher.publish(run, events, min_ms, max_ms, meta=True, seed=1)
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), env.timeout)
        await asyncio.sleep(POLL_INTERVAL + 0.1)
        stop.set()
        seen = await asyncio.wait_for(poller, env.timeout)
    finally:
        stop.set()
        poller.cancel()
        for c in clients:
            c.close()
    delays, observed = baseline_delays(published, seen)
    return {
        "events": events,
        "check": check_clients(clients, events),  # decodes what the client received
        "sse_ms": summary_ms(clients[0].latencies),
        "poll_ms": summary_ms(delays),
        "poll_observed": observed,
        "published": len(published),
    }


def report_latency(lat: dict[str, Any], interval_ms: str) -> list[str]:
    sse, poll = lat["sse_ms"], lat["poll_ms"]
    return [
        f"1) Worker -> client latency, one SSE client, {lat['events']} events (+1 terminal), {interval_ms} ms apart",
        f"   {'':34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}   target",
        f"   {'SSE push (RedisBus -> API -> SSE)':34}{sse['p50']:>9.2f}{sse['p99']:>9.2f}{sse['max']:>9.1f}"
        f"   p50 <= {TARGET_P50_MS:.0f} ms {ok(sse['p50'] <= TARGET_P50_MS)},"
        f" p99 <= {TARGET_P99_MS:.0f} ms {ok(sse['p99'] <= TARGET_P99_MS)}",
        f"   {'500 ms polling (seed design)':34}{poll['p50']:>9.1f}{poll['p99']:>9.1f}{poll['max']:>9.1f}"
        f"   (the poller saw {lat['poll_observed']} of {lat['published']} states)",
        f"   SSE stream complete and gap-free: {lat['check']['complete']}/{lat['check']['clients']}",
    ]
