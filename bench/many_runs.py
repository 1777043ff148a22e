"""Many runs x 1 client: is every concurrently watched run's progress delivered, and how fast?

``progress.py`` measures one run with many clients. This measures the other axis (#15):
``--runs`` runs are all watched at once, one SSE client each, then the worker process
publishes ``--events`` events to each run in turn while every other stream stays open.
A per-process cap on watched runs shows up here as clients that receive nothing.
It reuses ``progress.py``'s Redis, API, worker and SSE-client pieces (same processes, same
wire). Run: ``.venv/bin/python bench/many_runs.py [--runs 150]``; figures in bench/README.md.
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


async def measure(runs: int, events: int, timeout: float, per_run_timeout: float, workdir: Path) -> dict:
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
        t_pub = time.monotonic()
        stuck = []  # positions of runs whose client got its events late or never
        for i, (run_id, client) in enumerate(zip(run_ids, clients, strict=True)):
            await worker.publish(str(run_id), events, 5, 10, meta=False, seed=3)
            try:
                await asyncio.wait_for(asyncio.shield(client.done), per_run_timeout)
            except TimeoutError:
                stuck.append(i)
        drain_s = time.monotonic() - t_pub
        for c in clients:
            c.close()
        return {
            "runs": runs,
            "events": events,
            "check": p.check_clients(clients, events),
            "latency_ms": p.summary_ms([lat for c in clients for lat in c.latencies]),
            "connect_s": connect_s,
            "drain_s": drain_s,
            "stuck": stuck,
            "rss_kib": p.proc_status(api_proc.pid).get("VmRSS", 0),
        }
    finally:
        if worker is not None:
            await worker.stop()
        for proc in reversed(procs):
            p.stop_process(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument(
        "--per-run-timeout", type=float, default=5.0, help="wait this long for each run's events"
    )
    args = parser.parse_args()
    p.raise_nofile()
    # One bench user watches every run: lift the per-user stream cap (20 per process).
    os.environ.setdefault("BCRAO_SSE_MAX_STREAMS_PER_USER", str(args.runs + 10))
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(measure(args.runs, args.events, args.timeout, args.per_run_timeout, Path(tmp)))
    check, lat = r["check"], r["latency_ms"]
    print(f"{r['runs']} runs watched at once, 1 SSE client each, {r['events']} events per run")
    print(f"  delivered: {check['complete']}/{check['clients']} clients complete, "
          f"{check['deliveries']}/{check['expected_deliveries']} events")  # fmt: skip
    if r["stuck"]:
        print(
            f"  {len(r['stuck'])} runs' clients got nothing within the per-run timeout; first at position {r['stuck'][0]}"
        )
    print(f"  latency ms: p50 {lat['p50']:.1f}  p99 {lat['p99']:.1f}  max {lat['max']:.1f}")
    print(
        f"  connect {r['connect_s']:.1f} s, publish+drain {r['drain_s']:.1f} s, API RSS {r['rss_kib'] / 1024:.0f} MiB"
    )
    return 0 if check["complete"] == check["clients"] else 1


if __name__ == "__main__":
    sys.exit(main())
