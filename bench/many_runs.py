"""Many runs x 1 client: every concurrently watched run's progress, how fast, at what cost.

``progress.py`` measures one run with many clients. This measures the other axis (#15):
N runs watched at once on one API process with the Redis bus, one SSE client each, while
the publisher process (the worker's stand-in) publishes to all of them at once (each run
its own pacing, as concurrent collections do); servers and setup as in ``progress.py``
(``bench/_sse_stack.py``), a fresh set per N. Reported per N: delivery delay p50/p99/max, clients that got
everything, the API process's Redis connections (counted from /proc while every stream is
open), API RSS and CPU per delivery, and Redis stream reads per event. A per-process cap on
watched runs shows up here as clients that receive nothing.

    .venv/bin/python bench/many_runs.py [--runs 100,500,1000] [--events 5] [--src DIR]

``--src DIR`` runs the API and worker from another checkout's ``src`` (e.g. a
``git worktree`` of an older commit) for a side-by-side figure. Figures: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import proc_cpu_seconds, proc_kib, raise_nofile, summary_ms  # noqa: E402
from bench._sse_client import check_clients, connect_clients  # noqa: E402
from bench._sse_stack import Servers, bench_env, commandstats, delta, servers, stream_reads  # noqa: E402

TARGET_P99_MS = 500.0
TARGET_CONNECTIONS = 4


def redis_connections(pid: int, redis_port: int) -> int:
    """Established TCP connections of process ``pid`` to the Redis port (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == redis_port and fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                count += 1
    return count


async def measure(up: Servers, runs: int, events: int, min_ms: float, max_ms: float, timeout: float) -> dict:
    api_pid, redis_port = up.api.pid, up.redis_port
    async with bench_env(up, runs, timeout) as env:
        t0 = time.monotonic()
        per_run = await asyncio.gather(
            *(connect_clients(env.api_port, r, env.token, 1, timeout) for r in env.runs)
        )
        connect_s = time.monotonic() - t0
        clients = [c for group in per_run for c in group]
        await asyncio.sleep(1.0)  # every stream subscribed
        connections = redis_connections(api_pid, redis_port)
        stats_before = commandstats(redis_port)
        cpu_before = sum(proc_cpu_seconds(api_pid))
        t_pub = time.monotonic()
        try:
            await env.publisher.publish_many(env.runs, events, min_ms, max_ms, seed=5)
            await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), timeout)
        except TimeoutError:
            pass  # reported below as incomplete clients
        drain_s = time.monotonic() - t_pub
        connections = max(connections, redis_connections(api_pid, redis_port))
        cpu = sum(proc_cpu_seconds(api_pid)) - cpu_before
        cmds = delta(commandstats(redis_port), stats_before)
        for c in clients:
            c.close()
    check = check_clients(clients, events)
    return {
        "runs": runs,
        "events": events,
        "check": check,
        "latency_ms": summary_ms([lat for c in clients for lat in c.latencies]),
        "connect_s": connect_s,
        "drain_s": drain_s,
        "redis_connections": connections,
        "reads_per_event": stream_reads(cmds) / max(1, runs * (events + 1)),
        "cpu_us_per_delivery": cpu / max(1, check["deliveries"]) * 1e6,
        "rss_kib": proc_kib("VmRSS", api_pid),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="100,500,1000", help="comma-separated run counts")
    parser.add_argument("--events", type=int, default=5, help="progress events per run (+1 terminal)")
    parser.add_argument("--min-ms", type=float, default=500.0, help="shortest gap between a run's events")
    parser.add_argument("--max-ms", type=float, default=1500.0, help="longest gap between a run's events")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--src", help="run the API and worker from this src directory (a baseline)")
    args = parser.parse_args()
    raise_nofile()
    if args.src:
        os.environ["PYTHONPATH"] = str(Path(args.src).resolve())
    ok = True
    print(
        f"runs x 1 SSE client, {args.events} events (+1 terminal) per run, {args.min_ms:g}-{args.max_ms:g} ms apart"
    )
    print(f"{'runs':>6}{'complete':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>10}{'Redis conn':>11}"
          f"{'reads/ev':>9}{'us CPU/dlv':>11}{'RSS MiB':>9}{'connect s':>10}")  # fmt: skip
    for runs in (int(n) for n in args.runs.split(",")):
        with tempfile.TemporaryDirectory() as tmp, servers(Path(tmp)) as up:
            r = asyncio.run(measure(up, runs, args.events, args.min_ms, args.max_ms, args.timeout))
        check, lat = r["check"], r["latency_ms"]
        print(f"{runs:>6}{check['complete']:>6}/{check['clients']:<4}{lat['p50']:>8.1f}{lat['p99']:>9.1f}"
              f"{lat['max']:>10.1f}{r['redis_connections']:>11}{r['reads_per_event']:>9.2f}"
              f"{r['cpu_us_per_delivery']:>11.0f}{r['rss_kib'] / 1024:>9.0f}{r['connect_s']:>10.1f}")  # fmt: skip
        ok = ok and check["complete"] == check["clients"]
        if runs >= 1000:
            met = lat["p99"] <= TARGET_P99_MS and r["redis_connections"] <= TARGET_CONNECTIONS
            print(f"        target at 1,000 runs: p99 <= {TARGET_P99_MS:.0f} ms with <= {TARGET_CONNECTIONS} "
                  f"Redis connections: {'met' if met else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
