"""Faults: Redis restarting under a live stream, PostgreSQL going away and coming back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import live_server, make_campaign, signup
from tests.fakes.fixtures import REDIS_SERVER, _free_port, _wait_for_port
from tests.streaming import TERMINAL, assert_well_formed, read_events, trigger, wait_for_run

# Some of these stop the PostgreSQL server every worker shares: they run alone.
pytestmark = pytest.mark.serial

SUBS = ["SaaS", "startups", "marketing", "webdev", "sales"]


class PersistentRedis:
    """A Redis with an append-only file, restartable on the same port (like a real restart)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def persistent_redis(tmp_path):
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    redis = PersistentRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


async def test_redis_restarting_mid_stream_loses_no_event_and_repeats_none(
    make_settings, db, persistent_redis
):
    # Local executor with the Redis bus: the run keeps going in the API process while Redis restarts.
    settings = make_settings(redis_url=persistent_redis.url, executor="local", sample_latency_seconds=0.5)
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        user = await signup(http)
        campaign = await make_campaign(http, user["headers"], target_subreddits=SUBS)
        task = await trigger(http, campaign["id"], user["headers"])
        first = await read_events(http, task["task_id"], params={"token": task["stream_token"]}, limit=3)
        persistent_redis.stop()
        await asyncio.sleep(1.0)
        persistent_redis.start()
        rest = await read_events(
            http, task["task_id"], headers={**user["headers"], "Last-Event-ID": str(first[-1].id)}, timeout=90
        )
        terminal = assert_well_formed(first + rest)
        run = await wait_for_run(http, task["task_id"], user["headers"])
        assert terminal.event == run["status"] == "complete"
        assert terminal.data["stored"] == run["stored"] > 0


def _pg_ctl(action: str, *, mode: str = "fast", synchronous_commit: bool = False) -> None:
    """Start or stop the suite's throw-away cluster. ``mode="immediate"`` is a crash (no
    checkpoint, recovery at the next start); a commit survives it only when the cluster
    commits synchronously, as production does (the suite's cluster does not, for speed)."""
    pg_bin, data = os.environ["BCRAO_TEST_PG_BIN"], os.environ["BCRAO_TEST_PG_DATA"]
    port = os.environ["BCRAO_TEST_PG_PORT"]
    runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    args = [*runner, f"{pg_bin}/pg_ctl", "-D", data, "-w", "-t", "30"]
    if action == "start":
        sock_dir = str(Path(data).parent)
        args += [
            "-l",
            f"{sock_dir}/log",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {sock_dir} -c fsync=off "
            f"-c synchronous_commit={'on' if synchronous_commit else 'off'} "
            "-c full_page_writes=off -c max_connections=300",
            "start",
        ]
    else:
        args += ["-m", mode, "stop"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


async def test_postgres_going_away_is_a_fast_503_and_everything_recovers(make_settings, db, is_postgres):
    if not is_postgres or "BCRAO_TEST_PG_DATA" not in os.environ:
        pytest.skip("needs the throw-away PostgreSQL of scripts/with-postgres.sh")
    async with live_server(make_settings()) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        user = await signup(http)
        campaign = await make_campaign(http, user["headers"], target_subreddits=["SaaS"])
        task = await trigger(http, campaign["id"], user["headers"])
        before = await wait_for_run(http, task["task_id"], user["headers"])
        _pg_ctl("stop")
        try:
            for path, headers in [
                ("/readyz", {}),
                ("/v1/campaigns", user["headers"]),
                (f"/v1/collection/{task['task_id']}", user["headers"]),
            ]:
                started = time.monotonic()
                resp = await http.get(path, headers=headers)
                assert time.monotonic() - started < 2.0, path
                assert resp.status_code == 503, (path, resp.text)
                assert resp.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert (await http.get("/healthz")).status_code == 200  # the process itself is fine
        finally:
            _pg_ctl("start")
        for _ in range(50):
            if (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        after = (await http.get(f"/v1/collection/{task['task_id']}", headers=user["headers"])).json()
        assert after == before
        again = await trigger(http, campaign["id"], user["headers"])
        assert (await wait_for_run(http, again["task_id"], user["headers"]))["status"] in TERMINAL


@pytest.mark.parametrize("pool", ["prefork", "threads"])
async def test_a_redis_restart_under_a_running_task_loses_no_run(make_settings, db, persistent_redis, pool):
    """kombu (5.7) may ack a task on a channel whose connection the restart took away
    (AttributeError 'hostname') and the worker exits: always with the threads pool, at times
    with prefork (``bcrao worker``'s default, which usually rides the restart out). Then its
    supervisor's replacement (``restart: unless-stopped``) takes the run over once the
    heartbeat stops. Either way the run completes, once, with nothing lost."""
    from tests.conftest import app_client
    from tests.tasks.workers import running_worker

    settings = make_settings(
        redis_url=persistent_redis.url,
        executor="celery",
        sample_latency_seconds=0.6,
        heartbeat_lost_seconds=6,
        reaper_interval_seconds=1,
    )
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=SUBS)
        with running_worker(settings, name="w1", pool=pool) as worker:
            task = await trigger(client, campaign["id"], user["headers"])
            for _ in range(200):
                run = (await client.get(f"/v1/collection/{task['task_id']}", headers=user["headers"])).json()
                if run["status"] == "running" and run["scraped"] > 0:
                    break
                await asyncio.sleep(0.05)
            persistent_redis.stop()
            await asyncio.sleep(1.0)
            persistent_redis.start()
            await asyncio.sleep(3.0)
            survived = worker.process.poll() is None
            if survived:
                run = await wait_for_run(client, task["task_id"], user["headers"], timeout=120)
        if not survived:
            with running_worker(settings, name="w2"):  # what `restart: unless-stopped` does
                run = await wait_for_run(client, task["task_id"], user["headers"], timeout=120)
        assert run["status"] == "complete", (survived, run)


async def test_postgres_stopped_mid_run_the_run_still_finishes_and_streams_end(
    make_settings, db, is_postgres
):
    if not is_postgres or "BCRAO_TEST_PG_DATA" not in os.environ:
        pytest.skip("needs the throw-away PostgreSQL of scripts/with-postgres.sh")
    settings = make_settings(sample_latency_seconds=0.5)
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        user = await signup(http)
        campaign = await make_campaign(http, user["headers"], target_subreddits=SUBS)
        task = await trigger(http, campaign["id"], user["headers"])
        first = await read_events(http, task["task_id"], params={"token": task["stream_token"]}, limit=2)
        stream = asyncio.create_task(
            read_events(http, task["task_id"], timeout=150,
                        params={"token": task["stream_token"], "last_event_id": first[-1].id})
        )  # fmt: skip
        await asyncio.sleep(0.5)  # the stream is open (it reads the database only to start)
        _pg_ctl("stop")
        try:
            await asyncio.sleep(10)
        finally:
            _pg_ctl("start")
        back = time.monotonic()
        events = await stream
        assert events[-1].event in TERMINAL
        assert time.monotonic() - back < 120
        run = await wait_for_run(http, task["task_id"], user["headers"], timeout=30)
        assert run["status"] == events[-1].event
        if run["status"] == "failed":  # with a reason a founder can read
            assert run["errors"] and run["errors"][-1]["message"]


async def test_postgres_killed_during_writes_loses_no_answered_write(make_settings, db, is_postgres):
    """PostgreSQL crashes (an immediate stop: no shutdown checkpoint, crash recovery at the
    next start) under four writers: every campaign answered 201 is there afterwards."""
    if not is_postgres or "BCRAO_TEST_PG_DATA" not in os.environ:
        pytest.skip("needs the throw-away PostgreSQL of scripts/with-postgres.sh")
    from tests.conftest import CAMPAIGN

    _pg_ctl("stop")
    _pg_ctl("start", synchronous_commit=True)  # durable commits, as in production
    try:
        await _writes_through_a_crash(make_settings, CAMPAIGN)
    finally:
        _pg_ctl("stop")
        _pg_ctl("start")


async def _writes_through_a_crash(make_settings, campaign: dict) -> None:
    async with live_server(make_settings()) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        user = await signup(http)
        answered: list[str] = []
        stop = asyncio.Event()

        async def writer(n: int) -> None:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    resp = await http.post(
                        "/v1/campaigns", json={**campaign, "name": f"w{n}-{i}"}, headers=user["headers"]
                    )
                except httpx.HTTPError:
                    continue
                if resp.status_code == 201:
                    answered.append(resp.json()["id"])
                else:
                    assert resp.status_code == 503, resp.text  # refused, never half-done
                    await asyncio.sleep(0.05)

        writers = [asyncio.create_task(writer(n)) for n in range(4)]
        await asyncio.sleep(1.0)
        before_stop = len(answered)
        _pg_ctl("stop", mode="immediate")
        try:
            await asyncio.sleep(2.0)
        finally:
            _pg_ctl("start", synchronous_commit=True)
        await asyncio.sleep(2.0)
        stop.set()
        await asyncio.gather(*writers)
        assert before_stop > 0 and len(answered) > before_stop
        missing = [
            cid
            for cid in answered
            if (await http.get(f"/v1/campaigns/{cid}", headers=user["headers"])).status_code != 200
        ]
        assert missing == []
