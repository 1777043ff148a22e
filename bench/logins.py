"""Password hashing vs. the event loop: /healthz latency while 40 logins run at concurrency 8.

Argon2 is CPU-bound on purpose. On the event loop it stalled every other request of the
process (and every progress stream on it); it now runs on a worker thread. This starts a
real ``bcrao serve`` (SQLite, embedded defaults) as the tests do, signs one user up, then
runs 40 logins from 8 concurrent clients while a probe GETs ``/healthz`` every 5 ms, and
prints the probe's latency percentiles (#20's target: p99 < 50 ms).

    .venv/bin/python bench/logins.py [--logins 40] [--concurrency 8] [--rounds 3]

Figures: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.system.processes import api_process  # noqa: E402

from bcrao.config import Settings  # noqa: E402

PASSWORD = "correct-horse-battery"


async def one_round(url: str, logins: int, concurrency: int, email: str) -> tuple[list[float], list[int]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        queue = list(range(logins))
        codes: list[int] = []

        async def login_loop() -> None:
            while queue:
                queue.pop()
                body = {"email": email, "password": PASSWORD}
                codes.append((await client.post("/v1/auth/login", json=body)).status_code)

        async def probe() -> list[float]:
            delays = []
            while queue or len(codes) < logins:
                started = time.perf_counter()
                assert (await client.get("/healthz")).status_code == 200
                delays.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)
            return delays

        *_, delays = await asyncio.gather(*(login_loop() for _ in range(concurrency)), probe())
    return delays, codes


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


async def main_async(args: argparse.Namespace, workdir: Path) -> int:
    settings = Settings(
        data_dir=workdir,
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        secret_key="bench-secret-key-0123456789abcdefghijkl",
        login_max_attempts=100_000,
        login_max_attempts_per_address=100_000,
        log_level="WARNING",
    )
    with api_process(settings) as url:
        email = "bench@example.com"
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            resp = await client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
            assert resp.status_code == 201, resp.text
        all_delays: list[float] = []
        for i in range(args.rounds):
            started = time.perf_counter()
            delays, codes = await one_round(url, args.logins, args.concurrency, email)
            wall = time.perf_counter() - started
            assert codes == [200] * args.logins, codes
            all_delays += delays
            ms = sorted(d * 1000 for d in delays)
            print(f"round {i + 1}: {args.logins} logins in {wall:.1f} s; {len(ms)} probes, p50 {pct(ms, 50):.1f} ms, "
                  f"p99 {pct(ms, 99):.1f} ms, max {ms[-1]:.1f} ms")  # fmt: skip
    ms = sorted(d * 1000 for d in all_delays)
    p99 = pct(ms, 99)
    print(f"all: {len(ms)} probes during {args.rounds} x {args.logins} logins at concurrency {args.concurrency}: "
          f"p50 {pct(ms, 50):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms; target p99 < 50 ms: "
          f"{'met' if p99 < 50 else 'MISSED'}")  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(main_async(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
