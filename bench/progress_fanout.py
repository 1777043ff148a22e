"""Progress scenario 2: fan-out, N SSE clients of one run on one API process.

N clients connect (in batches of 100) and watch one run while the publisher sends
``events`` events (+1 terminal). Checked: every client got every event with dense ids.
Reported: the latency of all deliveries, Redis stream reads per event (``INFO
commandstats`` deltas on the private server; live events reach the API over its one
pub/sub subscription, so reads happen only to seed a run or fill a gap), the API's RSS
(before, with every stream open, peak) and CPU time, and this client process's CPU.

Run by ``bench/progress.py`` (shared setup: ``bench/_sse_stack.py``).
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any

from bench._common import ok, proc_cpu_seconds, proc_kib, summary_ms
from bench._sse_client import check_clients, connect_clients
from bench._sse_stack import Env, commandstats, delta, stream_reads

TARGET_P99_MS = 250.0


def _rss(pid: int) -> dict[str, int]:
    return {"VmRSS": proc_kib("VmRSS", pid), "VmHWM": proc_kib("VmHWM", pid)}


async def phase_fanout(
    env: Env, run: str, n_clients: int, events: int, min_ms: float, max_ms: float
) -> dict[str, Any]:
    rss_before = _rss(env.api_pid)
    t0 = time.monotonic()
    clients = await connect_clients(env.api_port, run, env.token, n_clients, env.timeout)
    connect_s = time.monotonic() - t0
    try:
        await asyncio.sleep(0.5)  # let every stream subscribe and the server settle
        rss_connected = _rss(env.api_pid)
        stats_before = commandstats(env.redis_port)
        cpu_before = proc_cpu_seconds(env.api_pid)
        client_cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        t_pub = time.monotonic()
        published = await env.publisher.publish(run, events, min_ms, max_ms, meta=False, seed=2)
        publish_s = time.monotonic() - t_pub
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), env.timeout)
        drain_s = time.monotonic() - t_pub
        cpu_after = proc_cpu_seconds(env.api_pid)
        client_cpu_after = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        stats_after = commandstats(env.redis_port)
        rss_after = _rss(env.api_pid)
    finally:
        for c in clients:
            c.close()
    cmds = delta(stats_after, stats_before)
    n_events = len(published)  # progress events + the terminal one
    check = check_clients(clients, events)  # decodes what the clients received
    latencies = [lat for c in clients for lat in c.latencies]
    return {
        "clients": n_clients,
        "events": events,
        "check": check,
        "latency_ms": summary_ms(latencies),
        "connect_s": connect_s,
        "publish_s": publish_s,
        "drain_s": drain_s,
        "reads_per_event": stream_reads(cmds) / n_events,
        "redis_cmd_deltas": cmds,
        "rss_kib": {
            "before": rss_before["VmRSS"],
            "connected": rss_connected["VmRSS"],
            "after": rss_after["VmRSS"],
            "peak": rss_after["VmHWM"],
        },
        "api_cpu_s": sum(cpu_after) - sum(cpu_before),
        "api_cpu_user_s": cpu_after[0] - cpu_before[0],
        "api_cpu_sys_s": cpu_after[1] - cpu_before[1],
        "client_cpu_s": client_cpu_after - client_cpu_before,
    }


def fanout_row(label: str, f: dict[str, Any]) -> str:
    lat, rss = f["latency_ms"], f["rss_kib"]
    return (
        f"   {label:<16}{f['clients']:>8}{f['check']['complete']:>9}{f['check']['deliveries']:>10}"
        f"{lat['p50']:>9.1f}{lat['p99']:>9.1f}{lat['max']:>9.1f}{f['reads_per_event']:>9.2f}"
        f"{rss['before'] / 1024:>9.1f}{rss['connected'] / 1024:>9.1f}{rss['peak'] / 1024:>9.1f}"
        f"{f['api_cpu_user_s']:>8.2f} /{f['api_cpu_sys_s']:>5.2f}"
    )


def reads_independent(small: dict[str, Any], bigs: list[dict[str, Any]]) -> bool:
    """Stream reads per event never grow with the client count and stay at most about one
    per event (live events arrive over the API's one subscription: usually none)."""
    return small["reads_per_event"] <= 1.05 and all(
        b["reads_per_event"] <= small["reads_per_event"] + 0.05 for b in bigs
    )


def report_fanout(
    small: dict[str, Any], large: dict[str, Any], paced: dict[str, Any] | None, args: dict[str, Any]
) -> list[str]:
    spacing, paced_spacing = args["fanout_interval_ms"], args["paced_interval_ms"]
    bigs = [f for f in (large, paced) if f]
    lines = [
        f"2) Fan-out on one API process, {args['fanout_events']} events (+1 terminal) per row",
        f"   {'spacing':<16}{'clients':>8}{'complete':>9}{'delivered':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'reads/ev':>9}{'RSS idle':>9}{'conn':>9}{'peak MiB':>9}{'API CPU usr/sys s':>19}",
        fanout_row(f"{spacing} ms apart", small),
        fanout_row(f"{spacing} ms apart", large),
    ]
    if paced:
        lines.append(fanout_row(f"{paced_spacing} ms apart", paced))
    per_conn = (large["rss_kib"]["connected"] - large["rss_kib"]["before"]) / max(1, large["clients"])
    us_per_delivery = large["api_cpu_s"] / max(1, large["check"]["deliveries"]) * 1e6
    complete = all(f["check"]["complete"] == f["clients"] for f in (small, *bigs))
    paced_met = f", at {paced_spacing} ms {ok(paced['latency_ms']['p99'] <= TARGET_P99_MS)}" if paced else ""
    lines += [
        f"   {large['clients']} clients: p99 <= {TARGET_P99_MS:.0f} ms at {spacing} ms "
        f"{ok(large['latency_ms']['p99'] <= TARGET_P99_MS)}{paced_met}; every client got every event, "
        f"no gaps: {ok(complete)}",
        f"   Redis reads per event independent of the client count: {ok(reads_independent(small, bigs))} "
        f"(stream reads/event {small['reads_per_event']:.2f} at {small['clients']} clients, "
        + ", ".join(f"{f['reads_per_event']:.2f}" for f in bigs)
        + f" at {large['clients']})",
        f"   API at {large['clients']} clients ({spacing} ms): {per_conn:.1f} KiB RSS per idle stream, "
        f"{us_per_delivery:.0f} us CPU per delivery; connecting took {large['connect_s']:.1f} s; "
        f"last delivery {large['drain_s']:.1f} s after the first publish (publishing took {large['publish_s']:.1f} s); "
        f"this client process used {large['client_cpu_s']:.1f} s CPU",
    ]
    return lines
