"""Many runs x 1 client: every concurrently watched run's progress, how fast, at what cost.

``progress.py`` measures one run with many clients. This measures the other axis (#15):
N runs watched at once on one API process with the Redis bus, one SSE client each, while
the worker process publishes to all of them at once (each run its own pacing, as
concurrent collections do). Reported per N: delivery delay p50/p99/max, clients that got
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import progress as p

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


async def measure(
    runs: int, events: int, min_ms: float, max_ms: float, timeout: float, workdir: Path
) -> dict:
    procs = []
    worker = None
    try:
        redis_proc, redis_port = p.start_redis(workdir)
        procs.append(redis_proc)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        db_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        api_port = p.free_port()
        api_proc = p.spawn_api(workdir, db_url, redis_url, api_port)
        procs.append(api_proc)
        worker = p.Worker(redis_url, timeout)
        await worker.start()
        from bcrao.config import Settings
        from bcrao.runtime import make_signer

        await asyncio.to_thread(p.wait_port, api_port, api_proc, "the API", 90)
        user_id, run_ids = await p.seed_database(db_url, runs)
        signer = make_signer(Settings(secret_key=p.SECRET, data_dir=workdir / "data", database_url=db_url))
        token = signer.access_token(user_id)
        t0 = time.monotonic()
        per_run = await asyncio.gather(
            *(p.connect_clients(api_port, str(r), token, 1, timeout) for r in run_ids)
        )
        connect_s = time.monotonic() - t0
        clients = [c for group in per_run for c in group]
        await asyncio.sleep(1.0)  # every stream subscribed
        connections = redis_connections(api_proc.pid, redis_port)
        stats_before = p.commandstats(redis_port)
        cpu_before = sum(p.proc_cpu_seconds(api_proc.pid))
        t_pub = time.monotonic()
        try:
            await worker.publish_many([str(r) for r in run_ids], events, min_ms, max_ms, seed=5)
            await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), timeout)
        except TimeoutError:
            pass  # reported below as incomplete clients
        drain_s = time.monotonic() - t_pub
        connections = max(connections, redis_connections(api_proc.pid, redis_port))
        cpu = sum(p.proc_cpu_seconds(api_proc.pid)) - cpu_before
        cmds = p.delta(p.commandstats(redis_port), stats_before)
        for c in clients:
            c.close()
        check = p.check_clients(clients, events)
        return {
            "runs": runs,
            "events": events,
            "check": check,
            "latency_ms": p.summary_ms([lat for c in clients for lat in c.latencies]),
            "connect_s": connect_s,
            "drain_s": drain_s,
            "redis_connections": connections,
            "reads_per_event": p.stream_reads(cmds) / max(1, runs * (events + 1)),
            "cpu_us_per_delivery": cpu / max(1, check["deliveries"]) * 1e6,
            "rss_kib": p.proc_status(api_proc.pid).get("VmRSS", 0),
        }
    finally:
        if worker is not None:
            await worker.stop()
        for proc in reversed(procs):
            p.stop_process(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="100,500,1000", help="comma-separated run counts")
    parser.add_argument("--events", type=int, default=5, help="progress events per run (+1 terminal)")
    parser.add_argument("--min-ms", type=float, default=500.0, help="shortest gap between a run's events")
    parser.add_argument("--max-ms", type=float, default=1500.0, help="longest gap between a run's events")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--src", help="run the API and worker from this src directory (a baseline)")
    args = parser.parse_args()
    p.raise_nofile()
    if args.src:
        os.environ["PYTHONPATH"] = str(Path(args.src).resolve())
    ok = True
    print(
        f"runs x 1 SSE client, {args.events} events (+1 terminal) per run, {args.min_ms:g}-{args.max_ms:g} ms apart"
    )
    print(f"{'runs':>6}{'complete':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>10}{'Redis conn':>11}"
          f"{'reads/ev':>9}{'us CPU/dlv':>11}{'RSS MiB':>9}{'connect s':>10}")  # fmt: skip
    for runs in (int(n) for n in args.runs.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(measure(runs, args.events, args.min_ms, args.max_ms, args.timeout, Path(tmp)))
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
