"""Helpers shared by the collection and progress tests: read SSE like a browser would."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse

TERMINAL = {"complete", "partial", "failed", "cancelled"}


@dataclass
class Event:
    id: int
    event: str
    data: dict[str, Any]


async def read_events(
    client: httpx.AsyncClient,
    task_id: str,
    *,
    headers: dict | None = None,
    params: dict | None = None,
    limit: int | None = None,
    timeout: float = 60,
) -> list[Event]:
    """Read a run's stream until it closes (or ``limit`` events were read)."""
    events: list[Event] = []

    async def consume() -> None:
        async with aconnect_sse(
            client, "GET", f"/v1/collection/{task_id}/progress", headers=headers or {}, params=params or {}
        ) as source:
            assert source.response.status_code == 200, await source.response.aread()
            assert source.response.headers["content-type"].startswith("text/event-stream")
            async for sse in source.aiter_sse():
                if not sse.event or sse.event == "message":
                    continue  # comments and retry hints
                events.append(Event(int(sse.id), sse.event, json.loads(sse.data)))
                if limit is not None and len(events) >= limit:
                    return

    await asyncio.wait_for(consume(), timeout)
    return events


async def trigger(client: httpx.AsyncClient, campaign_id: str, headers: dict, **body: Any) -> dict:
    resp = await client.post(f"/v1/campaigns/{campaign_id}/collect", json=body or None, headers=headers)
    assert resp.status_code == 202, resp.text
    return resp.json()


async def wait_for_run(client: httpx.AsyncClient, task_id: str, headers: dict, timeout: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        run = (await client.get(f"/v1/collection/{task_id}", headers=headers)).json()
        if run["status"] in TERMINAL:
            return run
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"run did not finish: {run}")
        await asyncio.sleep(0.05)


def assert_well_formed(events: list[Event], *, first_id: int = 1) -> Event:
    """Ids strictly increasing and dense, exactly one terminal event and it is last."""
    ids = [e.id for e in events]
    assert ids == list(range(first_id, first_id + len(events))), ids
    terminals = [e for e in events if e.event in TERMINAL]
    assert len(terminals) == 1 and events[-1] is terminals[0]
    for e in events[:-1]:
        assert e.event == "progress"
        assert {
            "task_id",
            "status",
            "stage",
            "subreddit",
            "step",
            "total_steps",
            "scraped",
            "filtered",
            "classified",
            "stored",
            "duplicates",
            "errors",
            "ts",
        } <= set(e.data)
    return terminals[0]
