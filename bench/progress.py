"""Progress benchmark: worker → API → SSE client latency, and fan-out to many clients.

Everything runs on 127.0.0.1 and is started (and stopped) by this script:

- a private ``redis-server`` on a free port (no persistence);
- the API as a uvicorn subprocess (``bcrao.main:create_app``, the same server stack as
  ``bcrao serve``: uvloop + httptools when installed) with ``BCRAO_REDIS_URL`` set, so the
  Redis Streams bus (``RedisBus``) carries progress;
- a "worker": a separate process (this file, ``_worker`` sub-command) that publishes with
  ``RedisBus`` exactly as the Celery task does, then SETs ``celery-task-meta-<id>`` like
  ``task.update_state`` does; each event carries ``pub_t`` = ``time.time()`` at publish;
- SSE clients in this process: raw asyncio protocols (HTTP/1.1, chunked, SSE parsing) that
  stamp ``time.time()`` when the bytes arrive. Latency = receive time - ``pub_t``.

Phases, in one run:

1. Latency, one SSE client, side by side with the seed's design: a client polling the
   Celery result key with GET every 500 ms. For the baseline, each event's delay is
   publish → the first poll that shows that event *or a later one* (events between two
   polls are coalesced; the poller never sees most of them individually).
2. Fan-out: N concurrent SSE clients on one API process watching one run, at a small and
   a large client count. Checks every client got every event with dense ids, reports the
   latency of all deliveries, Redis stream reads per event (``INFO commandstats`` deltas on
   the private server; live events reach the API over its one pub/sub subscription, so
   reads happen only to seed a run or fill a gap), API RSS and API CPU time.

    .venv/bin/python bench/progress.py [--clients 1000] [--events 300] [--fanout-events 100] [--quick] [--json]

Exit status 0 when every client received every event (targets are reported, not enforced).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SECRET = "bench-progress-secret-key-0123456789abcdef"
TERMINAL = frozenset({"complete", "partial", "failed", "cancelled"})
SCRIPT = Path(__file__).resolve()
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
POLL_INTERVAL = 0.5
CONNECT_BATCH = 100

TARGETS = {
    "one_p50_ms": 5.0,
    "one_p99_ms": 50.0,
    "fanout_p99_ms": 250.0,
}


# -- small utilities -------------------------------------------------------------------


_T0 = time.monotonic()


def note(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[{time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_nofile() -> None:
    """Also the ``preexec_fn`` of every child: more sockets, and die with this process."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def wait_port(port: int, proc: subprocess.Popen, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout}s")


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary_ms(seconds: list[float]) -> dict[str, float]:
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


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM in KiB."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0])
    return out


def proc_cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime, stime are fields 14, 15.
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def stop_process(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)


# -- the worker (publisher) process ----------------------------------------------------


def _worker_redis(url: str) -> Any:
    # The worker's client as the product builds it, with a larger pool: many runs publishing
    # at once wait for a connection instead of opening one each.
    from bcrao.runtime import make_redis

    return make_redis(url, max_connections=16)


async def _publish(bus: Any, redis: Any, job: dict[str, Any]) -> list[dict[str, Any]]:
    rng = random.Random(job["seed"])
    run, events = job["run"], job["events"]
    meta_key = f"celery-task-meta-{run}"
    log: list[dict[str, Any]] = []
    if job.get("stagger"):  # concurrent runs did not all start at the same instant
        await asyncio.sleep(rng.uniform(0, job["max_ms"]) / 1000)
    for seq in range(events + 1):
        terminal = seq == events
        event = "complete" if terminal else "progress"
        pub_t = time.time()
        data = {
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
        event_id = await bus.publish(run, event, data)
        meta_t = None
        if job["meta"]:
            # What task.update_state writes to the Celery Redis result backend, right after
            # the bus publish (as in bcrao.tasks.scraping); it carries its own write time.
            meta_t = time.time()
            meta = {"status": "SUCCESS" if terminal else "PROGRESS", "result": {**data, "meta_t": meta_t}}
            await redis.set(meta_key, json.dumps({**meta, "task_id": run}, separators=(",", ":")))
        log.append({"seq": seq, "id": event_id, "pub_t": pub_t, "meta_t": meta_t})
        if not terminal:
            await asyncio.sleep(rng.uniform(job["min_ms"], job["max_ms"]) / 1000)
    return log


async def _worker_main(redis_url: str) -> None:
    """The "worker" process: one JSON job per stdin line, one JSON reply per stdout line."""
    from bcrao.progress.bus import RedisBus

    redis = _worker_redis(redis_url)
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
                    logs = await asyncio.gather(*(_publish(bus, redis, j) for j in jobs))
                    reply = {"logs": logs}
                else:
                    reply = {"log": await _publish(bus, redis, job)}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)
    finally:
        await redis.aclose()


class Worker:
    """Handle on the worker subprocess (started once, like a long-running Celery worker)."""

    def __init__(self, redis_url: str, timeout: float) -> None:
        self.redis_url = redis_url
        self.timeout = timeout
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            "_worker",
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
            raise RuntimeError(f"the worker process exited ({self.proc.returncode})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"worker: {reply['error']}")
        return reply

    async def publish(
        self, run: str, events: int, min_ms: float, max_ms: float, *, meta: bool, seed: int
    ) -> list[dict[str, Any]]:
        assert self.proc is not None and self.proc.stdin is not None
        job = {"run": run, "events": events, "min_ms": min_ms, "max_ms": max_ms, "meta": meta, "seed": seed}
        async with self.lock:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            await self.proc.stdin.drain()
            return (await self._reply(self.timeout))["log"]

    async def publish_many(
        self, runs: list[str], events: int, min_ms: float, max_ms: float, *, seed: int
    ) -> list[list[dict[str, Any]]]:
        """Every run publishes at once (interleaved), as concurrent collections do."""
        assert self.proc is not None and self.proc.stdin is not None
        job = {
            "runs": runs,
            "events": events,
            "min_ms": min_ms,
            "max_ms": max_ms,
            "meta": False,
            "seed": seed,
        }
        job["stagger"] = True
        async with self.lock:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            await self.proc.stdin.drain()
            return (await self._reply(self.timeout))["logs"]

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


# -- SSE client --------------------------------------------------------------------------


END_OF_BODY = b"\r\n0\r\n\r\n"  # the last chunk of a chunked body


class SSEClient(asyncio.Protocol):
    """One browser-like EventSource: HTTP/1.1 GET, chunked body, SSE framing.

    Latency is stamped when bytes arrive, against ``pub_t``. The bytes are kept with
    their arrival time and decoded after the phase (``decode``): parsing them live cost
    this process ~15-20 µs per delivery, so with 1,000 sockets becoming readable at once
    the last socket's stamp was taken ~20 ms late, behind the parsing of the others (on
    the same 2 cores as the API). Only the end of the body is watched for live.
    """

    def __init__(self, request: bytes, loop: asyncio.AbstractEventLoop) -> None:
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.head = bytearray()
        self.in_body = False
        self.status = 0
        self.chunked = False
        self.raw = bytearray()  # undecoded body bytes (chunk framing)
        self.text = bytearray()  # decoded SSE text, not yet a complete event
        self.arrivals: list[tuple[float, bytes]] = []  # (time.time(), body bytes), not decoded yet
        self.tail = b""  # the last bytes received, to find END_OF_BODY split across reads
        self.ids: list[int] = []
        self.seqs: list[int] = []
        self.latencies: list[float] = []
        self.error: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the stream started ({exc})"))
        if not self.done.done():
            self.error = self.error or f"connection closed early ({exc})"
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, rest = bytes(self.head[:end]), bytes(self.head[end + 4 :])
            lines = head.split(b"\r\n")
            self.status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
            self.chunked = headers.get(b"transfer-encoding", b"").lower() == b"chunked"
            self.in_body = True
            if self.status != 200:
                self._fail(f"HTTP {self.status}")
                return
            data = rest
        if self.chunked:
            self.arrivals.append((now, data))
            self._watch_for_end(data)
        else:
            self.text += data
            self._parse(now)
        if not self.ready.done() and self.in_body:
            self.ready.set_result(None)

    def _watch_for_end(self, data: bytes) -> None:
        """The server ends the body right after the terminal event: then the client is done."""
        window = self.tail + data
        if window.endswith(END_OF_BODY):
            if not self.done.done():
                self.done.set_result(None)
            if self.transport is not None:
                self.transport.close()
        self.tail = window[-len(END_OF_BODY) :]

    def decode(self) -> None:
        """Parse what arrived, each event stamped with the arrival time of the read that
        completed it (what live parsing did, without delaying other sockets' reads)."""
        arrivals, self.arrivals = self.arrivals, []
        for now, data in arrivals:
            self.raw += data
            self._dechunk()
            self._parse(now)

    def _dechunk(self) -> None:
        raw = self.raw
        pos = 0
        while True:
            line_end = raw.find(b"\r\n", pos)
            if line_end < 0:
                break
            size = int(bytes(raw[pos:line_end]).split(b";")[0], 16)
            if size == 0:
                pos = len(raw)
                break
            start = line_end + 2
            if len(raw) < start + size + 2:
                break
            self.text += raw[start : start + size]
            pos = start + size + 2
        del raw[:pos]

    def _parse(self, now: float) -> None:
        text = self.text
        while True:
            end = text.find(b"\r\n\r\n")
            sep = 4
            alt = text.find(b"\n\n")
            if alt >= 0 and (end < 0 or alt < end):
                end, sep = alt, 2
            if end < 0:
                return
            block = bytes(text[:end])
            del text[: end + sep]
            event = event_id = payload = None
            for line in block.replace(b"\r\n", b"\n").split(b"\n"):
                if line.startswith(b"data:"):
                    payload = line[5:].strip()
                elif line.startswith(b"event:"):
                    event = line[6:].strip().decode()
                elif line.startswith(b"id:"):
                    event_id = int(line[3:].strip())
            if payload is None or event is None:
                continue  # comments, retry hints, keepalives
            seq, pub_t = self._fields(payload)
            self.ids.append(event_id if event_id is not None else -1)
            self.seqs.append(seq)
            self.latencies.append(now - pub_t)
            if event in TERMINAL:
                if not self.done.done():  # not chunked: found live
                    self.done.set_result(None)
                if self.transport is not None:
                    self.transport.close()
                return

    def _fields(self, payload: bytes) -> tuple[int, float]:
        """``seq`` and ``pub_t``. The first event is fully decoded (one-line JSON with a
        ``ts``); later ones are read from their tail, which keeps 100k deliveries cheap."""
        i = payload.rfind(b'"seq":')
        if self.seqs and i >= 0 and payload.endswith(b"}"):
            seq, _, pub_t = payload[i + 6 : -1].partition(b',"pub_t":')
            return int(seq), float(pub_t)
        data = json.loads(payload)
        if "ts" not in data:
            self.error = "an event without ts"
        return int(data.get("seq", -1)), float(data["pub_t"])

    def _fail(self, message: str) -> None:
        self.error = message
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(message))
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def sse_request(port: int, run_id: str, token: str) -> bytes:
    return (
        f"GET /v1/collection/{run_id}/progress HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n"
        "\r\n"
    ).encode()


async def connect_clients(port: int, run_id: str, token: str, n: int, timeout: float) -> list[SSEClient]:
    loop = asyncio.get_running_loop()
    request = sse_request(port, run_id, token)
    clients: list[SSEClient] = []

    async def one() -> SSEClient:
        _transport, proto = await loop.create_connection(lambda: SSEClient(request, loop), "127.0.0.1", port)
        clients.append(proto)
        await proto.ready
        return proto

    try:
        for start in range(0, n, CONNECT_BATCH):
            batch = [one() for _ in range(min(CONNECT_BATCH, n - start))]
            await asyncio.wait_for(asyncio.gather(*batch), timeout)
    except BaseException:
        for c in clients:
            c.close()
        raise
    return clients


def check_clients(clients: list[SSEClient], events: int) -> dict[str, Any]:
    """Every client: ids 1..events+1 dense, seqs 0..events, nothing missing or repeated."""
    for c in clients:
        c.decode()
    expected_ids = list(range(1, events + 2))
    expected_seqs = list(range(events + 1))
    complete = sum(
        1 for c in clients if c.error is None and c.ids == expected_ids and c.seqs == expected_seqs
    )
    bad = [c for c in clients if not (c.error is None and c.ids == expected_ids and c.seqs == expected_seqs)]
    sample = None
    if bad:
        c = bad[0]
        sample = {"error": c.error, "received": len(c.ids), "first_ids": c.ids[:5], "last_ids": c.ids[-5:]}
    return {
        "clients": len(clients),
        "complete": complete,
        "deliveries": sum(len(c.ids) for c in clients),
        "expected_deliveries": len(clients) * (events + 1),
        "first_bad": sample,
    }


# -- Redis / DB setup ------------------------------------------------------------------


def start_redis(workdir: Path) -> tuple[subprocess.Popen, int]:
    for _attempt in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [
                REDIS_SERVER,
                *(["--bind", "127.0.0.1", "--appendonly", "no", "--maxclients", "4096", "--port"]),
                str(port),
                *("--save", ""),
                *("--dir", str(workdir), "--logfile", str(workdir / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=raise_nofile,
        )
        try:
            wait_port(port, proc, "redis-server", 10)
            return proc, port
        except RuntimeError:
            stop_process(proc)
    raise RuntimeError("could not start redis-server")


async def seed_database(url: str, runs: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A user, and per run a campaign with one 'running' run (no collection executes)."""
    from bcrao.auth.models import User
    from bcrao.campaigns.models import Campaign
    from bcrao.collection.models import CollectionRun
    from bcrao.db import make_engine, make_sessionmaker, utcnow

    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    user_id = uuid.uuid4()
    run_ids: list[uuid.UUID] = []
    try:
        async with maker() as session:
            session.add(User(id=user_id, email=f"bench-{user_id.hex[:8]}@example.com", password_hash="x"))
            await session.flush()
            for i in range(runs):
                campaign = Campaign(
                    user_id=user_id,
                    name=f"bench progress {i}",
                    keywords=["churn"],
                    target_subreddits=["SaaS"],
                )
                session.add(campaign)
                await session.flush()
                run = CollectionRun(
                    campaign_id=campaign.id,
                    user_id=user_id,
                    status="running",
                    source="sample",
                    classifier="rules",
                    started_at=utcnow(),
                    heartbeat_at=utcnow(),
                )
                session.add(run)
                await session.flush()
                run_ids.append(run.id)
            await session.commit()
    finally:
        await engine.dispose()
    return user_id, run_ids


def commandstats(port: int) -> dict[str, int]:
    """``cmdstat_<name>`` → calls, plus ``total`` = total_commands_processed."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        stats = client.info("commandstats")
        total = client.info("stats")["total_commands_processed"]
    finally:
        client.close()
    out = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    out["total"] = int(total)
    return out


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def stream_reads(cmds: dict[str, int]) -> int:
    """Stream reads by readers: the publish script's own XREVRANGE (one per call of the
    current script) is counted by Redis as a command too, so it is taken off."""
    scripts = cmds.get("evalsha", 0) + cmds.get("eval", 0)
    own = max(0, cmds.get("xrevrange", 0) - scripts)
    return sum(cmds.get(k, 0) for k in ("xread", "xrange", "xreadgroup")) + own


# -- the API process -----------------------------------------------------------------------


def spawn_api(workdir: Path, db_url: str, redis_url: str, port: int) -> subprocess.Popen:
    """uvicorn + create_app; its lifespan migrates the fresh SQLite file (as ``bcrao serve``)."""
    env = {
        **os.environ,
        "BCRAO_DATABASE_URL": db_url,
        "BCRAO_REDIS_URL": redis_url,
        "BCRAO_SECRET_KEY": SECRET,
        "BCRAO_DATA_DIR": str(workdir / "data"),
        "BCRAO_ENVIRONMENT": "test",
        "BCRAO_LOG_LEVEL": "WARNING",
        "BCRAO_GC_FREEZE": os.environ.get("BCRAO_GC_FREEZE", "1"),  # as `bcrao serve` sets it
        # One bench user holds every stream: lift the per-user cap (20 per process).
        "BCRAO_SSE_MAX_STREAMS_PER_USER": os.environ.get("BCRAO_SSE_MAX_STREAMS_PER_USER", "100000"),
        "PYTHONUNBUFFERED": "1",
    }
    with open(workdir / "api.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                *["-m", "uvicorn", "bcrao.main:create_app", "--factory", "--host", "127.0.0.1"],
                *["--log-level", "warning", "--no-access-log", "--backlog", "4096", "--port"],
                str(port),
            ],
            env=env,
            cwd=workdir,  # no stray .env from the caller's directory
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_nofile,
        )


async def http_get_status(port: int, path: str, token: str | None = None) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10)
        return int(line.split()[1])
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


# -- phases --------------------------------------------------------------------------------


@dataclass
class Env:
    workdir: Path
    redis_port: int
    api_port: int
    api_pid: int
    token: str
    runs: list[str]
    timeout: float
    worker: Worker

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"


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
        published = await env.worker.publish(run, events, min_ms, max_ms, meta=True, seed=1)
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


async def phase_fanout(
    env: Env, run: str, n_clients: int, events: int, min_ms: float, max_ms: float
) -> dict[str, Any]:
    rss_before = proc_status(env.api_pid)
    t0 = time.monotonic()
    clients = await connect_clients(env.api_port, run, env.token, n_clients, env.timeout)
    connect_s = time.monotonic() - t0
    try:
        await asyncio.sleep(0.5)  # let every stream subscribe and the server settle
        rss_connected = proc_status(env.api_pid)
        stats_before = commandstats(env.redis_port)
        cpu_before = proc_cpu_seconds(env.api_pid)
        client_cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        t_pub = time.monotonic()
        published = await env.worker.publish(run, events, min_ms, max_ms, meta=False, seed=2)
        publish_s = time.monotonic() - t_pub
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), env.timeout)
        drain_s = time.monotonic() - t_pub
        cpu_after = proc_cpu_seconds(env.api_pid)
        client_cpu_after = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        stats_after = commandstats(env.redis_port)
        rss_after = proc_status(env.api_pid)
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
            "before": rss_before.get("VmRSS", 0),
            "connected": rss_connected.get("VmRSS", 0),
            "after": rss_after.get("VmRSS", 0),
            "peak": rss_after.get("VmHWM", 0),
        },
        "api_cpu_s": sum(cpu_after) - sum(cpu_before),
        "api_cpu_user_s": cpu_after[0] - cpu_before[0],
        "api_cpu_sys_s": cpu_after[1] - cpu_before[1],
        "client_cpu_s": client_cpu_after - client_cpu_before,
    }


# -- orchestration -------------------------------------------------------------------------


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


async def run_async(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    procs: list[subprocess.Popen] = []
    worker: Worker | None = None
    try:
        note("starting redis-server, the API (uvicorn) and the worker process")
        redis_proc, redis_port = start_redis(workdir)
        procs.append(redis_proc)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        db_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        api_port = free_port()
        api_proc = spawn_api(workdir, db_url, redis_url, api_port)
        procs.append(api_proc)
        worker = Worker(redis_url, args.timeout)
        await worker.start()
        # Meanwhile this process imports what it needs; the API migrates the database.
        from bcrao.config import Settings
        from bcrao.runtime import make_signer

        await asyncio.to_thread(wait_port, api_port, api_proc, f"the API (see {workdir / 'api.log'})", 90)
        note("API up; seeding a user and four 'running' runs")
        user_id, run_ids = await seed_database(db_url, 4)
        signer = make_signer(Settings(secret_key=SECRET, data_dir=workdir / "data", database_url=db_url))
        token = signer.access_token(user_id)
        env = Env(
            workdir,
            redis_port,
            api_port,
            api_proc.pid,
            token,
            [str(r) for r in run_ids],
            args.timeout,
            worker,
        )
        # Warm-up: one authorized request through the whole stack.
        status = await http_get_status(api_port, f"/v1/collection/{run_ids[0]}", token)
        if status != 200:
            raise RuntimeError(f"warm-up GET returned {status}; see {workdir / 'api.log'}")

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
    finally:
        if worker is not None:
            await worker.stop()
        for proc in reversed(procs):
            stop_process(proc)


def machine_note() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}"


def ok(flag: bool) -> str:
    return "ok" if flag else "MISSED"


def fanout_row(label: str, f: dict[str, Any]) -> str:
    lat, rss = f["latency_ms"], f["rss_kib"]
    return (
        f"   {label:<16}{f['clients']:>8}{f['check']['complete']:>9}{f['check']['deliveries']:>10}"
        f"{lat['p50']:>9.1f}{lat['p99']:>9.1f}{lat['max']:>9.1f}{f['reads_per_event']:>9.2f}"
        f"{rss['before'] / 1024:>9.1f}{rss['connected'] / 1024:>9.1f}{rss['peak'] / 1024:>9.1f}"
        f"{f['api_cpu_user_s']:>8.2f} /{f['api_cpu_sys_s']:>5.2f}"
    )


def reads_independent(r: dict[str, Any]) -> bool:
    """Stream reads per event never grow with the client count and stay at most about one
    per event (live events arrive over the API's one subscription: usually none)."""
    small = r["fanout_small"]["reads_per_event"]
    bigs = [r[k]["reads_per_event"] for k in ("fanout_large", "fanout_paced") if r.get(k)]
    return small <= 1.05 and all(b <= small + 0.05 for b in bigs)


def report(r: dict[str, Any]) -> str:
    lat, small, large, paced = r["latency"], r["fanout_small"], r["fanout_large"], r.get("fanout_paced")
    sse, poll = lat["sse_ms"], lat["poll_ms"]
    args = r["args"]
    lines = [
        f"bench/progress.py - {r['date']} - {r['machine']}",
        "",
        f"1) Worker -> client latency, one SSE client, {lat['events']} events (+1 terminal), "
        f"{args['interval_ms']} ms apart",
        f"   {'':34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}   target",
        f"   {'SSE push (RedisBus -> API -> SSE)':34}{sse['p50']:>9.2f}{sse['p99']:>9.2f}{sse['max']:>9.1f}"
        f"   p50 <= {TARGETS['one_p50_ms']:.0f} ms {ok(sse['p50'] <= TARGETS['one_p50_ms'])},"
        f" p99 <= {TARGETS['one_p99_ms']:.0f} ms {ok(sse['p99'] <= TARGETS['one_p99_ms'])}",
        f"   {'500 ms polling (seed design)':34}{poll['p50']:>9.1f}{poll['p99']:>9.1f}{poll['max']:>9.1f}"
        f"   (the poller saw {lat['poll_observed']} of {lat['published']} states)",
        f"   SSE stream complete and gap-free: {lat['check']['complete']}/{lat['check']['clients']}",
        "",
        f"2) Fan-out on one API process, {args['fanout_events']} events (+1 terminal) per row",
        f"   {'spacing':<16}{'clients':>8}{'complete':>9}{'delivered':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'reads/ev':>9}{'RSS idle':>9}{'conn':>9}{'peak MiB':>9}{'API CPU usr/sys s':>19}",
        fanout_row(f"{args['fanout_interval_ms']} ms apart", small),
        fanout_row(f"{args['fanout_interval_ms']} ms apart", large),
    ]
    if paced:
        lines.append(fanout_row(f"{args['paced_interval_ms']} ms apart", paced))
    per_conn = (large["rss_kib"]["connected"] - large["rss_kib"]["before"]) / max(1, large["clients"])
    us_per_delivery = large["api_cpu_s"] / max(1, large["check"]["deliveries"]) * 1e6
    complete = all(f["check"]["complete"] == f["clients"] for f in (small, large, paced) if f)
    lines += [
        f"   {large['clients']} clients: p99 <= {TARGETS['fanout_p99_ms']:.0f} ms at {args['fanout_interval_ms']} ms "
        f"{ok(large['latency_ms']['p99'] <= TARGETS['fanout_p99_ms'])}"
        + (
            f", at {args['paced_interval_ms']} ms {ok(paced['latency_ms']['p99'] <= TARGETS['fanout_p99_ms'])}"
            if paced
            else ""
        )
        + f"; every client got every event, no gaps: {ok(complete)}",
        f"   Redis reads per event independent of the client count: {ok(reads_independent(r))} "
        f"(stream reads/event {small['reads_per_event']:.2f} at {small['clients']} clients, "
        + ", ".join(f"{f['reads_per_event']:.2f}" for f in (large, paced) if f)
        + f" at {large['clients']})",
        f"   API at {large['clients']} clients ({args['fanout_interval_ms']} ms): {per_conn:.1f} KiB RSS per idle stream, "
        f"{us_per_delivery:.0f} us CPU per delivery; connecting took {large['connect_s']:.1f} s; "
        f"last delivery {large['drain_s']:.1f} s after the first publish (publishing took {large['publish_s']:.1f} s); "
        f"this client process used {large['client_cpu_s']:.1f} s CPU",
    ]
    return "\n".join(lines)


def all_delivered(r: dict[str, Any]) -> bool:
    phases = [r[k] for k in ("latency", "fanout_small", "fanout_large", "fanout_paced") if r.get(k)]
    return all(f["check"]["complete"] == f["check"]["clients"] for f in phases)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results (what ``main`` prints)."""
    args = parse_args(argv)
    if not Path(REDIS_SERVER).exists():
        raise RuntimeError("redis-server is not installed")
    raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="bcrao-bench-progress-"))
    try:
        coro = run_async(args, workdir)
        try:
            import uvloop
        except ImportError:
            return asyncio.run(coro)
        return uvloop.run(coro)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        asyncio.run(_worker_main(argv[1]))
        return 0
    results = run(argv)
    print(report(results))
    if "--json" in argv:
        print(json.dumps(results, indent=2, default=str))
    return 0 if all_delivered(results) else 1


if __name__ == "__main__":
    sys.exit(main())
