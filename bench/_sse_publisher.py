"""The progress benches' "worker": a process of its own that publishes as the Celery task does.

``Publisher`` (used by ``progress.py`` and ``many_runs.py``) starts this file as a script,
once, like a long-running Celery worker, and sends it one JSON job per stdin line; the
script replies with one JSON line per job. It publishes with ``RedisBus`` exactly as
``bcrao.tasks.scraping`` does, then (``meta``) SETs ``celery-task-meta-<id>`` as
``task.update_state`` does. Each event carries ``pub_t`` = ``time.time()`` at publish.

The script imports nothing from ``bench`` or ``tests``: ``many_runs.py --src`` runs it (and
the API) from another checkout's ``src`` alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCRIPT = str(Path(__file__).resolve())


def _redis(url: str) -> Any:
    # The worker's client as the product builds it, with a larger pool: many runs publishing
    # at once wait for a connection instead of opening one each.
    from bcrao.runtime import make_redis

    return make_redis(url, max_connections=16)


def _event(run: str, seq: int, terminal: bool, pub_t: float) -> dict[str, Any]:
    return {
        "task_id": run,
        "status": "complete" if terminal else "running",
        "stage": "done" if terminal else "fetching",
        "subreddit": "SaaS",
        "step": 1,
        "total_steps": 1,
        "scraped": seq,
        "filtered": 0,
        "classified": 0,
        "stored": 0,
        "duplicates": 0,
        "errors": [],
        "ts": datetime.fromtimestamp(pub_t, UTC).isoformat().replace("+00:00", "Z"),
        "seq": seq,
        "pub_t": pub_t,
    }


async def _publish(bus: Any, redis: Any, job: dict[str, Any]) -> list[dict[str, Any]]:
    rng = random.Random(job["seed"])
    run, events = job["run"], job["events"]
    log: list[dict[str, Any]] = []
    if job.get("stagger"):  # concurrent runs did not all start at the same instant
        await asyncio.sleep(rng.uniform(0, job["max_ms"]) / 1000)
    for seq in range(events + 1):
        terminal = seq == events
        pub_t = time.time()
        data = _event(run, seq, terminal, pub_t)
        event_id = await bus.publish(run, "complete" if terminal else "progress", data)
        meta_t = None
        if job["meta"]:
            # What task.update_state writes to the Celery Redis result backend, right after
            # the bus publish (as in bcrao.tasks.scraping); it carries its own write time.
            meta_t = time.time()
            meta = {"status": "SUCCESS" if terminal else "PROGRESS", "result": {**data, "meta_t": meta_t}}
            body = json.dumps({**meta, "task_id": run}, separators=(",", ":"))
            await redis.set(f"celery-task-meta-{run}", body)
        log.append({"seq": seq, "id": event_id, "pub_t": pub_t, "meta_t": meta_t})
        if not terminal:
            await asyncio.sleep(rng.uniform(job["min_ms"], job["max_ms"]) / 1000)
    return log


async def _serve(redis_url: str) -> None:
    """One JSON job per stdin line, one JSON reply per stdout line, until stdin closes."""
    from bcrao.progress.bus import RedisBus

    redis = _redis(redis_url)
    bus = RedisBus(redis)
    loop = asyncio.get_running_loop()
    try:
        await redis.ping()
        print(json.dumps({"ready": True}), flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line.strip():
                return  # EOF: the parent is done (or gone)
            job = json.loads(line)
            try:
                reply: dict[str, Any]
                if "runs" in job:  # many runs at once, each with its own pacing
                    jobs = [{**job, "run": r, "seed": job["seed"] + i} for i, r in enumerate(job["runs"])]
                    reply = {"logs": await asyncio.gather(*(_publish(bus, redis, j) for j in jobs))}
                else:
                    reply = {"log": await _publish(bus, redis, job)}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)
    finally:
        await redis.aclose()


class Publisher:
    """Handle on the publishing process (started once, like a long-running Celery worker)."""

    def __init__(self, redis_url: str, timeout: float) -> None:
        self.redis_url = redis_url
        self.timeout = timeout
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        from bench._common import raise_nofile

        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            SCRIPT,
            self.redis_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            preexec_fn=raise_nofile,
            limit=1 << 26,  # a reply for 1,000 runs is one long line
        )
        await self._reply(60)

    async def _reply(self, timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"the publisher process exited ({self.proc.returncode})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"publisher: {reply['error']}")
        return reply

    async def _job(self, job: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        async with self.lock:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            await self.proc.stdin.drain()
            return await self._reply(self.timeout)

    async def publish(
        self, run: str, events: int, min_ms: float, max_ms: float, *, meta: bool, seed: int
    ) -> list[dict[str, Any]]:
        """``events`` progress events and a terminal one, ``min_ms``-``max_ms`` apart."""
        job = {"run": run, "events": events, "min_ms": min_ms, "max_ms": max_ms, "meta": meta, "seed": seed}
        return (await self._job(job))["log"]

    async def publish_many(
        self, runs: list[str], events: int, min_ms: float, max_ms: float, *, seed: int
    ) -> list[list[dict[str, Any]]]:
        """Every run publishes at once (interleaved, staggered starts), as concurrent
        collections do."""
        job = {"runs": runs, "events": events, "min_ms": min_ms, "max_ms": max_ms, "meta": False,
               "seed": seed, "stagger": True}  # fmt: skip
        return (await self._job(job))["logs"]

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
