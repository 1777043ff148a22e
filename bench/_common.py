"""What several benchmarks share: percentiles, /proc readings, limits, the event loop.

Servers, Redis and fakes are not here: the benches start them with the tests' own helpers
(``tests.fakes.fixtures.private_redis``, ``tests.system.processes.running_api``,
``tests.fakes.llm.FakeLLM``, ...), so a bench measures what the tests exercise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import resource
import signal
import statistics
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

_T0 = time.monotonic()


def note(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[{time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """n, p50, p99, max and mean in milliseconds (nearest-rank percentiles)."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan"), "mean": float("nan")}
    return {
        "n": len(ms),
        "p50": pct(ms, 50),
        "p99": pct(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
    }


def ok(flag: bool) -> str:
    """A target in a report: met or not."""
    return "ok" if flag else "MISSED"


def proc_kib(field: str = "VmRSS", pid: int | str = "self") -> int:
    """A memory line of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``...) in KiB; 0 without /proc."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key == field:
                return int(rest.split()[0])
    return 0


def proc_cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime, stime are fields 14, 15.
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def raise_nofile() -> None:
    """More sockets; also the ``preexec_fn`` of the servers a bench starts, so that they die
    with the thread that started them (``PR_SET_PDEATHSIG``) even if the bench is killed."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def machine_note() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}"


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed, as the API processes do: a load generator sharing the
    cores with what it measures spends less CPU on it than on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def database_url_from_env() -> str | None:
    """``BCRAO_BENCH_DATABASE_URL``, else ``BCRAO_TEST_DATABASE_URL`` (what
    ``scripts/with-postgres.sh`` exports)."""
    return os.environ.get("BCRAO_BENCH_DATABASE_URL") or os.environ.get("BCRAO_TEST_DATABASE_URL")
