"""Logs and metrics of a whole collection, as an operator would read them.

The logs: JSON, one object a line; request lines carry the request id, the run's lines its
task id, and no secret ever appears (password, tokens, signing key, provider credentials).
The metrics: ``/metrics`` exposes the named families with values that match the run.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bcrao.config import Settings
from bcrao.logs import configure_logging
from bcrao.metrics import Metrics
from bcrao.progress.bus import MemoryBus
from bcrao.progress.sse import ProgressStream
from tests.conftest import TEST_SECRET, app_client, make_campaign, signup
from tests.fakes.reddit import FakeReddit
from tests.streaming import read_events, trigger, wait_for_run

LLM_KEY = "sk-or-v1-llm-key-that-must-never-be-logged-0123456789"
APIFY_TOKEN = "apify_api_token_that_must_never_be_logged_987"
PASSWORD = "a-very-private-passphrase"
NOISY = ("httpx", "httpcore", "openai", "apify_client")


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """``configure_logging(json_logs=True)`` as ``bcrao serve`` calls it, its output captured."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in NOISY}
    configure_logging("INFO", json_logs=True)
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def observed_settings(make_settings: Callable[..., Settings], fake: FakeReddit) -> Settings:
    return make_settings(
        **fake.app_settings(reddit_max_retries=1),
        log_json=True,
        llm_api_key=LLM_KEY,  # set but unused (rules classifier): must not leak either
        apify_token=APIFY_TOKEN,
    )


def metric_values(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


@pytest.fixture
def reddit_world(fake_reddit: FakeReddit) -> FakeReddit:
    for name in ("SaaS", "startups"):
        fake_reddit.add_subreddit(name, 60)
    fake_reddit.add_subreddit("secretclub", 5)
    fake_reddit.set_state("secretclub", "private")  # → one per-subreddit source error
    # The first listing answers slowly, so the progress stream is open while events flow.
    fake_reddit.fail("SaaS", "stall", seconds=0.5)
    return fake_reddit


async def test_a_collection_logs_json_with_ids_and_no_secrets(
    db: str, make_settings: Callable[..., Settings], reddit_world: FakeReddit
) -> None:
    settings = observed_settings(make_settings, reddit_world)
    with json_logs() as buffer:
        async with app_client(settings) as client:
            user = await signup(client, "observed@example.com", PASSWORD)
            failed = await client.post(
                "/v1/auth/login", json={"email": "observed@example.com", "password": PASSWORD + "x"}
            )
            assert failed.status_code == 401
            login = await client.post(
                "/v1/auth/login", json={"email": "observed@example.com", "password": PASSWORD}
            )
            assert login.status_code == 200
            campaign = await make_campaign(
                client, user["headers"], target_subreddits=["SaaS", "secretclub", "startups"]
            )
            accepted = await trigger(client, campaign["id"], user["headers"], mode="fresh")
            events = await read_events(
                client, accepted["task_id"], params={"token": accepted["stream_token"]}
            )
            assert events[-1].event == "partial"
            run = await wait_for_run(client, accepted["task_id"], user["headers"])
            await client.get(f"/v1/campaigns/{campaign['id']}/posts/export", headers=user["headers"])
            await client.get("/v1/campaigns/not-a-uuid", headers=user["headers"])  # a 422
            await client.get("/v1/auth/me", headers={"Authorization": "Bearer forged.token.here"})  # a 401

    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    assert lines, "nothing was logged"
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON log line: {line!r}")
    assert all({"ts", "level", "logger", "msg"} <= set(e) for e in entries)

    access = [e for e in entries if e["logger"] == "bcrao.access"]
    assert access and all(e.get("request_id") for e in access)
    assert len({e["request_id"] for e in access}) == len(access), "each request has its own id"
    stream_lines = [e for e in access if "/progress" in e["msg"]]
    assert stream_lines and all("?" not in e["msg"] and "token" not in e["msg"] for e in stream_lines)
    assert any(e["msg"].startswith("POST /v1/campaigns/") and " 202 " in e["msg"] for e in access)
    assert any(" 422 " in e["msg"] for e in access) and any(" 401 " in e["msg"] for e in access)
    assert all(e["msg"].endswith("ms") for e in access)

    run_lines = [e for e in entries if e.get("task_id") == accepted["task_id"]]
    assert run_lines, "the run logged nothing with its task id"
    assert any("run ended: partial" in e["msg"] for e in run_lines)
    assert run["status"] == "partial"

    text = buffer.getvalue()
    secrets = {
        "password": PASSWORD,
        "access token": user["token"],
        "login token": login.json()["access_token"],
        "stream token": accepted["stream_token"],
        "signing key": TEST_SECRET,
        "LLM API key": LLM_KEY,
        "Apify token": APIFY_TOKEN,
        "Reddit client secret": reddit_world.client_secret,
    }
    leaked = [name for name, value in secrets.items() if value in text]
    assert not leaked, f"secrets in the logs: {leaked}"


async def test_metrics_describe_the_finished_run(
    db: str, make_settings: Callable[..., Settings], reddit_world: FakeReddit
) -> None:
    async with app_client(observed_settings(make_settings, reddit_world)) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client, user["headers"], target_subreddits=["SaaS", "secretclub", "startups"]
        )
        accepted = await trigger(client, campaign["id"], user["headers"], mode="fresh")
        await read_events(client, accepted["task_id"], params={"token": accepted["stream_token"]})
        run = await wait_for_run(client, accepted["task_id"], user["headers"])

        resp = await client.get("/metrics")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
        values = metric_values(resp.text)
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]

    assert values["bcrao_metrics_database_up"][()] == 1
    runs = {dict(k)["status"]: v for k, v in values["bcrao_collection_runs"].items()}
    assert runs["partial"] == 1 and runs["running"] == runs["queued"] == runs["complete"] == 0
    assert values["bcrao_posts_collected"][()] == run["stored"] > 0
    assert values["bcrao_source_errors"] == {(("code", "not_found"),): 1}
    assert values["bcrao_sse_clients"][()] == 0  # the stream closed
    count = values["bcrao_sse_event_latency_seconds_count"][()]
    total = values["bcrao_sse_event_latency_seconds_sum"][()]
    assert count >= 1, "no live event was observed"
    assert 0 <= total / count < 1.0, "publish-to-send latency should be milliseconds in-process"


async def test_the_active_clients_gauge_follows_open_streams(db: str, settings: Settings) -> None:
    from bcrao.db import make_engine, make_sessionmaker

    engine = make_engine(settings.effective_database_url)
    metrics = Metrics(make_sessionmaker(engine))
    bus = MemoryBus(maxlen=100, ttl_seconds=60)
    scope = {"type": "http", "method": "GET"}
    clients = []

    async def open_stream() -> tuple[asyncio.Task[None], asyncio.Event]:
        """An ASGI stream whose client leaves when the returned event is set."""
        opened, left = asyncio.Event(), asyncio.Event()

        async def receive() -> dict:
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message.get("body", b"").startswith(b": stream"):
                opened.set()

        stream = ProgressStream(
            bus, "run-1", after=0, finished=None, retry_ms=2000, keepalive=15, observer=metrics
        )
        task = asyncio.create_task(stream(scope, receive, send))
        await asyncio.wait_for(opened.wait(), 5)
        return task, left

    try:
        clients = [await open_stream() for _ in range(2)]
        assert metrics.sse_clients._value.get() == 2
        for open_now, (task, left) in ((1, clients[0]), (0, clients[1])):
            left.set()
            await asyncio.wait_for(task, 5)
            assert metrics.sse_clients._value.get() == open_now
    finally:
        for task, _left in clients:
            task.cancel()
        await bus.aclose()
        await engine.dispose()


async def test_metrics_answer_even_when_the_database_does_not(settings: Settings) -> None:
    from bcrao.db import make_engine, make_sessionmaker

    engine = make_engine("sqlite+aiosqlite:////nonexistent-dir/for/metrics.db")
    metrics = Metrics(make_sessionmaker(engine))
    try:
        values = metric_values((await metrics.render()).decode())
    finally:
        await engine.dispose()
    assert values["bcrao_metrics_database_up"][()] == 0
    assert "bcrao_sse_clients" in values


async def test_metrics_need_the_token_or_a_loopback_peer(make_settings, db):
    import httpx

    from bcrao.main import create_app

    async def status(settings, peer: str, headers: dict | None = None) -> int:
        app = create_app(settings, migrate_sqlite=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(peer, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return (await client.get("/metrics", headers=headers or {})).status_code

    open_settings = make_settings()
    assert await status(open_settings, "127.0.0.1") == 200  # a scraper on the same machine
    assert await status(open_settings, "203.0.113.9") == 404  # totals across users stay private
    guarded = make_settings(metrics_token="s3cret-metrics-token")
    assert await status(guarded, "127.0.0.1") == 404
    assert await status(guarded, "203.0.113.9", {"Authorization": "Bearer wrong"}) == 404
    assert await status(guarded, "203.0.113.9", {"Authorization": "Bearer s3cret-metrics-token"}) == 200
