"""The progress stream over a real socket, as browsers and SSE clients see it (local executor)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from tests.conftest import TEST_SECRET, live_server, make_campaign, signup
from tests.streaming import TERMINAL, assert_well_formed, read_events, trigger, wait_for_run

SUBS = ["SaaS", "startups", "marketing", "webdev"]


@pytest.fixture
async def server(make_settings, db):
    async with live_server(make_settings(sample_latency_seconds=0.15)) as url:
        yield url


@pytest.fixture
async def http(server):
    async with httpx.AsyncClient(base_url=server, timeout=30) as c:
        yield c


async def start(http: httpx.AsyncClient, **body) -> tuple[dict, dict]:
    """A new user with a campaign over SUBS and a triggered run."""
    user = await signup(http)
    campaign = await make_campaign(http, user["headers"], target_subreddits=SUBS)
    return user, await trigger(http, campaign["id"], user["headers"], **body)


async def test_a_run_streams_ordered_events_then_one_terminal_event_then_closes(http):
    user, task = await start(http)
    events = await read_events(http, task["task_id"], params={"token": task["stream_token"]})
    terminal = assert_well_formed(events)
    stages = [e.data["stage"] for e in events[:-1]]
    assert stages[0] == "queued"
    assert {"fetching", "filtering", "classifying", "scoring", "storing"} <= set(stages)
    steps = [e.data["step"] for e in events[1:-1]]
    assert steps == sorted(steps) and max(steps) == len(SUBS)
    assert {e.data["subreddit"] for e in events if e.data.get("step")} == set(SUBS)
    # The terminal event carries the final run object, identical to what the API returns.
    run = (await http.get(f"/v1/collection/{task['task_id']}", headers=user["headers"])).json()
    assert terminal.event == run["status"] == "complete"
    assert terminal.data == {**run, "stage": "done"}
    last_progress = events[-2].data
    for key in ("scraped", "filtered", "classified", "stored", "duplicates"):
        assert last_progress[key] == run[key]


async def test_the_stream_opens_with_a_retry_hint_and_compact_json(http, server):
    user, task = await start(http)
    await wait_for_run(http, task["task_id"], user["headers"])
    raw = (await http.get(f"/v1/collection/{task['task_id']}/progress", headers=user["headers"])).text
    assert raw.lstrip().startswith(": stream") or raw.lstrip().startswith("retry:")
    assert "retry: 2000" in raw
    data_lines = [line for line in raw.splitlines() if line.startswith("data: ")]
    assert data_lines and all(", " not in line[6:8] for line in data_lines)
    assert all(json.loads(line[6:]) for line in data_lines)


async def test_a_late_joiner_gets_the_whole_history(http):
    user, task = await start(http)
    await wait_for_run(http, task["task_id"], user["headers"])
    events = await read_events(http, task["task_id"], headers=user["headers"])
    assert_well_formed(events)
    assert events[0].data["stage"] == "queued"


async def test_resume_after_a_dropped_connection_gets_every_remaining_event_exactly_once(http):
    user, task = await start(http)
    first = await read_events(http, task["task_id"], params={"token": task["stream_token"]}, limit=4)
    assert [e.id for e in first] == [1, 2, 3, 4]
    run = (await http.get(f"/v1/collection/{task['task_id']}", headers=user["headers"])).json()
    assert run["status"] == "running", "the drop must happen mid-run"
    rest = await read_events(http, task["task_id"], headers={**user["headers"], "Last-Event-ID": "4"})
    assert_well_formed(first + rest)


async def test_resume_with_the_query_parameter_works_too(http):
    user, task = await start(http)
    await wait_for_run(http, task["task_id"], user["headers"])
    full = await read_events(http, task["task_id"], headers=user["headers"])
    tail = await read_events(
        http, task["task_id"], params={"token": task["stream_token"], "last_event_id": 3}
    )
    assert [e.id for e in tail] == [e.id for e in full[3:]]


async def test_resuming_at_or_after_the_terminal_event_is_204(http):
    user, task = await start(http)
    events = await read_events(http, task["task_id"], headers=user["headers"])
    last = events[-1].id
    for resume in (last, last + 5):
        resp = await http.get(
            f"/v1/collection/{task['task_id']}/progress",
            headers={**user["headers"], "Last-Event-ID": str(resume)},
        )
        assert resp.status_code == 204


async def test_many_watchers_of_one_run_all_receive_every_event(http):
    _user, task = await start(http)
    watchers = [read_events(http, task["task_id"], params={"token": task["stream_token"]}) for _ in range(20)]
    results = await asyncio.gather(*watchers)
    reference = [(e.id, e.event) for e in results[0]]
    for events in results:
        assert_well_formed(events)
        assert [(e.id, e.event) for e in events] == reference


async def test_stream_auth_rules(http):
    user, task = await start(http)
    other_user, other_task = await start(http)
    tid = task["task_id"]
    url = f"/v1/collection/{tid}/progress"

    def code(resp: httpx.Response, status: int, error: str) -> None:
        assert resp.status_code == status, resp.text
        assert resp.json()["error"]["code"] == error

    code(await http.get(url), 401, "UNAUTHORIZED")
    # A stream token for run B never opens run A.
    code(await http.get(url, params={"token": other_task["stream_token"]}), 401, "UNAUTHORIZED")
    # Access tokens are not accepted in the URL.
    code(await http.get(url, params={"token": user["token"]}), 401, "UNAUTHORIZED")
    expired = jwt.encode(
        {
            "sub": user["user"]["id"],
            "run": tid,
            "iss": "bcrao",
            "aud": "bcrao-api:stream",
            "iat": datetime.now(UTC) - timedelta(hours=2),
            "exp": datetime.now(UTC) - timedelta(hours=1),
        },
        TEST_SECRET,
        algorithm="HS256",
    )
    code(await http.get(url, params={"token": expired}), 401, "UNAUTHORIZED")
    # Another user's run is a 404 before any stream starts; so is an unknown one.
    code(await http.get(url, headers=other_user["headers"]), 404, "RESOURCE_NOT_FOUND")
    code(
        await http.get(f"/v1/collection/{uuid.uuid4()}/progress", headers=user["headers"]),
        404,
        "RESOURCE_NOT_FOUND",
    )
    # A fresh stream token (as after a page reload) opens the stream.
    fresh = (await http.post(f"/v1/collection/{tid}/stream-token", headers=user["headers"])).json()
    assert set(fresh) == {"stream_token", "stream_token_expires_in"}
    events = await read_events(http, tid, params={"token": fresh["stream_token"]})
    assert events[-1].event in TERMINAL
    await wait_for_run(http, other_task["task_id"], other_user["headers"])


async def test_a_finished_run_is_replayed_from_the_database_when_the_bus_forgot_it(make_settings, db):
    settings = make_settings()
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        user, task = await start(http)
        events = await read_events(http, task["task_id"], headers=user["headers"])
    # A new process has an empty in-memory bus: only the database remembers the run.
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        replay = await read_events(http, task["task_id"], headers=user["headers"])
        assert [(e.id, e.event, e.data) for e in replay] == [
            (events[-1].id, events[-1].event, events[-1].data)
        ]
        resp = await http.get(
            f"/v1/collection/{task['task_id']}/progress",
            headers={**user["headers"], "Last-Event-ID": str(events[-1].id)},
        )
        assert resp.status_code == 204


async def test_a_raw_socket_client_parses_the_stream_per_the_sse_spec(http, server):
    """No SSE library: read bytes off a socket and parse fields as the spec says."""
    _user, task = await start(http)
    host, port = server.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"GET /v1/collection/{task['task_id']}/progress?token={task['stream_token']} HTTP/1.1\r\n"
            f"Host: {host}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    raw = (await asyncio.wait_for(reader.read(), 60)).decode()
    writer.close()
    head, _, body = raw.partition("\r\n\r\n")
    assert "200 OK" in head.splitlines()[0] and "text/event-stream" in head.lower()
    assert "transfer-encoding: chunked" in head.lower()
    # De-chunk, then split into events on blank lines (CRLF, LF or CR line ends all allowed).
    payload, rest = "", body
    while rest:
        size_line, _, rest = rest.partition("\r\n")
        size = int(size_line.strip() or "0", 16)
        if size == 0:
            break
        payload, rest = payload + rest[:size], rest[size + 2 :]
    parsed = []
    for block in payload.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value
        if "data" in fields:
            parsed.append(fields)
    assert parsed[-1]["event"] in TERMINAL
    assert [int(f["id"]) for f in parsed] == list(range(1, len(parsed) + 1))
    assert all(json.loads(f["data"])["task_id"] == task["task_id"] for f in parsed)


async def test_connections_are_recycled_and_clients_resume_without_gaps(make_settings, db):
    settings = make_settings(sample_latency_seconds=0.2, sse_max_connection_seconds=0.3)
    async with live_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        user, task = await start(http)
        seen: list = []
        connections = 0
        while not seen or seen[-1].event not in TERMINAL:
            headers = {**user["headers"], **({"Last-Event-ID": str(seen[-1].id)} if seen else {})}
            seen += await read_events(http, task["task_id"], headers=headers)
            connections += 1
        assert connections > 1
        assert_well_formed(seen)


def test_free_port_helper_is_loopback_only():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        assert sock.getsockname()[0] == "127.0.0.1"
