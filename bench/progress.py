"""Progress benchmark: worker → API → SSE client latency, and fan-out to many clients.

One run of this script sets up the servers once (``bench/_sse_stack.py``: a private
``redis-server``, the API as ``bcrao serve`` with the Redis bus, the publisher process
standing in for the Celery worker, a user with four "running" runs), then runs:

1. ``progress_latency.py``: one SSE client next to the seed's 500 ms polling;
2. ``progress_fanout.py``: ``--small-clients`` then ``--clients`` SSE clients of one run,
   and again at a paced rate (``--paced-interval-ms``).

    .venv/bin/python bench/progress.py [--clients 1000] [--events 300] [--fanout-events 100] [--quick] [--json]

Exit status 0 when every client received every event (targets are reported, not
enforced). Figures: ``bench/README.md``, "Progress stream".
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_note, note, raise_nofile, run_loop  # noqa: E402
from bench._sse_stack import Servers, bench_env, servers  # noqa: E402
from bench.progress_fanout import phase_fanout, report_fanout  # noqa: E402
from bench.progress_latency import phase_latency, report_latency  # noqa: E402
from tests.fakes.fixtures import REDIS_SERVER  # noqa: E402

PHASES = ("latency", "fanout_small", "fanout_large", "fanout_paced")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=1000, help="SSE clients in the large fan-out")
    p.add_argument("--small-clients", type=int, default=10, help="SSE clients in the small fan-out")
    p.add_argument("--events", type=int, default=300, help="events in the one-client latency phase")
    p.add_argument("--fanout-events", type=int, default=100, help="events per fan-out phase")
    p.add_argument("--interval-ms", type=str, default="10:30", help="latency phase spacing, min:max ms")
    p.add_argument("--fanout-interval-ms", type=str, default="20:40", help="fan-out spacing, min:max ms")
    p.add_argument(
        "--paced-interval-ms",
        type=str,
        default="200:300",
        help="spacing of an extra large fan-out at a rate one API process can sustain ('' to skip)",
    )
    p.add_argument("--timeout", type=float, default=90.0, help="per-step timeout in seconds")
    p.add_argument("--quick", action="store_true", help="smoke run: 5 clients, 20 events")
    p.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = p.parse_args(argv)
    if args.quick:
        args.clients, args.small_clients, args.events, args.fanout_events = 5, 2, 20, 20
        args.paced_interval_ms = ""
        args.timeout = min(args.timeout, 15.0)
    return args


def _span(text: str) -> tuple[float, float]:
    lo, _, hi = text.partition(":")
    return float(lo), float(hi or lo)


async def run_phases(args: argparse.Namespace, up: Servers) -> dict[str, Any]:
    note("API up; starting the publisher, seeding a user and four 'running' runs")
    async with bench_env(up, 4, args.timeout) as env:
        lo, hi = _span(args.interval_ms)
        flo, fhi = _span(args.fanout_interval_ms)
        note(f"latency: 1 SSE client + 500 ms poller, {args.events} events")
        latency = await phase_latency(env, env.runs[0], args.events, lo, hi)
        note(f"fan-out: {args.small_clients} clients, {args.fanout_events} events")
        small = await phase_fanout(env, env.runs[1], args.small_clients, args.fanout_events, flo, fhi)
        note(f"fan-out: {args.clients} clients, {args.fanout_events} events")
        large = await phase_fanout(env, env.runs[2], args.clients, args.fanout_events, flo, fhi)
        paced = None
        if args.paced_interval_ms:
            plo, phi = _span(args.paced_interval_ms)
            note(
                f"fan-out: {args.clients} clients, {args.fanout_events} events, {args.paced_interval_ms} ms apart"
            )
            paced = await phase_fanout(env, env.runs[3], args.clients, args.fanout_events, plo, phi)
    note("done")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_note(),
        "args": {k: v for k, v in vars(args).items() if k != "json"},
        "latency": latency,
        "fanout_small": small,
        "fanout_large": large,
        "fanout_paced": paced,
    }


def report(r: dict[str, Any]) -> str:
    args = r["args"]
    return "\n".join(
        [
            f"bench/progress.py - {r['date']} - {r['machine']}",
            "",
            *report_latency(r["latency"], args["interval_ms"]),
            "",
            *report_fanout(r["fanout_small"], r["fanout_large"], r.get("fanout_paced"), args),
        ]
    )


def all_delivered(r: dict[str, Any]) -> bool:
    phases = [r[k] for k in PHASES if r.get(k)]
    return all(f["check"]["complete"] == f["check"]["clients"] for f in phases)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results (what ``main`` prints)."""
    args = parse_args(argv)
    if not Path(REDIS_SERVER).exists():
        raise RuntimeError("redis-server is not installed")
    raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="bcrao-bench-progress-"))
    try:
        note("starting redis-server and the API (bcrao serve)")
        with servers(workdir) as up:
            return run_loop(run_phases(args, up))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    results = run(argv)
    print(report(results))
    if "--json" in argv:
        print(json.dumps(results, indent=2, default=str))
    return 0 if all_delivered(results) else 1


if __name__ == "__main__":
    sys.exit(main())
