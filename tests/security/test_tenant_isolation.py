"""Tenant isolation, route by route: walk every operation of the OpenAPI document with
user A's objects in the path and user B's token, and never see A's data.

The walk is driven by the document, so a new route is covered the day it is added — and
if it has a path parameter this test cannot fill, the test fails until it learns how.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from sqlalchemy import delete

from bcrao.auth.models import User
from bcrao.themes.compute import wait_for_local as wait_for_themes
from tests.conftest import make_campaign, signup
from tests.streaming import read_events, trigger, wait_for_run

# A representative, valid body per operation, so B's request passes validation and reaches
# the ownership check (a 422 would prove nothing). Operations without a body send none.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/auth/signup"): {"email": "mallory@example.com", "password": "mallory-pass"},
    ("POST", "/v1/auth/login"): {"email": "bob@example.com", "password": "correct-horse"},
    ("POST", "/v1/campaigns"): {
        "name": "Mallory",
        "keywords": ["churn"],
        "target_subreddits": ["SaaS"],
    },
    ("PATCH", "/v1/campaigns/{campaign_id}"): {"name": "taken over", "status": "archived"},
    ("POST", "/v1/campaigns/{campaign_id}/collect"): {"mode": "fresh", "max_posts_per_subreddit": 5},
    ("POST", "/v1/campaigns/{campaign_id}/alerts"): {"channel": "email", "target": "mallory@example.com"},
    ("PATCH", "/v1/campaigns/{campaign_id}/alerts/{alert_id}"): {"active": True},
}
# Routes without path parameters that answer identically for everyone (no tenant data).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}


async def _a_world(client: httpx.AsyncClient, alice: dict) -> dict[str, str]:
    """Alice's campaign with collected posts, its finished run and one of its posts."""
    campaign = await make_campaign(client, alice["headers"])
    accepted = await trigger(client, campaign["id"], alice["headers"])
    run = await wait_for_run(client, accepted["task_id"], alice["headers"])
    assert run["status"] == "complete" and run["stored"] > 0, run
    posts = (await client.get(f"/v1/campaigns/{campaign['id']}/posts", headers=alice["headers"])).json()
    await client.app.state.runtime.executor.wait_idle()
    await wait_for_themes()
    themes = (await client.get(f"/v1/campaigns/{campaign['id']}/themes", headers=alice["headers"])).json()
    alert = (
        await client.post(
            f"/v1/campaigns/{campaign['id']}/alerts",
            json={"channel": "webhook", "target": "https://example.com/hook", "active": False},
            headers=alice["headers"],
        )
    ).json()
    rejected = (
        await client.get(f"/v1/collection/{run['task_id']}/rejected", headers=alice["headers"])
    ).json()
    return {
        "alert_id": alert["id"],
        "theme_id": str(themes["themes"][0]["id"]),
        "campaign_id": campaign["id"],
        "task_id": accepted["task_id"],
        "post_id": posts["posts"][0]["id"],
        "reddit_post_id": rejected["rejected"][0]["reddit_post_id"],
        "stream_token": accepted["stream_token"],
    }


def _operations(doc: dict) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _fill(path: str, ids: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", path)
    unknown = [n for n in names if n not in ids]
    assert not unknown, f"{path}: no value for path parameter(s) {unknown}; teach _a_world about them"
    return path.format(**{n: ids[n] for n in names})


async def test_user_b_never_reaches_user_a_data_on_any_route(
    client: httpx.AsyncClient, alice: dict, bob: dict
) -> None:
    ids = await _a_world(client, alice)
    a_values = {ids["campaign_id"], ids["task_id"], ids["post_id"], alice["user"]["id"]}
    doc = (await client.get("/openapi.json")).json()
    walked: set[str] = set()

    # Control: Alice herself reaches every read route of hers, so B's 404s below mean "not yours",
    # not "no such thing".
    for method, path in _operations(doc):
        if method == "GET" and "{" in path:
            resp = await client.get(_fill(path, ids), headers=alice["headers"])
            assert resp.status_code in (200, 204), (path, resp.status_code, resp.text[:200])

    for method, path in _operations(doc):
        url = _fill(path, ids)
        body = BODIES.get((method, path))
        resp = await client.request(
            method, url, json=body, headers=bob["headers"] if (method, path) not in PUBLIC else {}
        )
        walked.add(path)
        text = resp.text
        if "{" in path:
            assert resp.status_code == 404, (method, path, resp.status_code, text[:300])
            assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
        else:
            assert resp.status_code < 500, (method, path, resp.status_code, text[:300])
        leaked = [v for v in a_values if v in text]
        assert not leaked, f"{method} {path} answered bob with alice's ids {leaked}: {text[:300]}"

    assert walked == set(doc["paths"]), set(doc["paths"]) - walked

    # B's stream token (for B's own run) does not open A's stream either, nor does A's
    # token open it for a different run id.
    b_campaign = await make_campaign(client, bob["headers"])
    b_run = await trigger(client, b_campaign["id"], bob["headers"])
    resp = await client.get(
        f"/v1/collection/{ids['task_id']}/progress", params={"token": b_run["stream_token"]}
    )
    assert resp.status_code == 401, resp.text
    resp = await client.get(
        f"/v1/collection/{b_run['task_id']}/progress", params={"token": ids["stream_token"]}
    )
    assert resp.status_code == 401, resp.text
    await wait_for_run(client, b_run["task_id"], bob["headers"])

    # Bob's PATCH, DELETE, collect and cancel changed nothing of Alice's.
    campaign = (await client.get(f"/v1/campaigns/{ids['campaign_id']}", headers=alice["headers"])).json()
    assert campaign["name"] != "taken over" and campaign["status"] == "active"
    assert campaign["stats"]["runs"] == 1 and campaign["stats"]["posts_collected"] > 0
    run = (await client.get(f"/v1/collection/{ids['task_id']}", headers=alice["headers"])).json()
    assert run["status"] == "complete"
    events = await read_events(client, ids["task_id"], params={"token": ids["stream_token"]})
    assert events[-1].event == "complete"


async def test_list_endpoints_only_list_the_callers_objects(
    client: httpx.AsyncClient, alice: dict, bob: dict
) -> None:
    ids = await _a_world(client, alice)
    await make_campaign(client, bob["headers"], name="Bob's own")
    campaigns = (await client.get("/v1/campaigns", params={"per_page": 100}, headers=bob["headers"])).json()
    assert [c["name"] for c in campaigns["campaigns"]] == ["Bob's own"]
    assert campaigns["total"] == 1
    assert ids["campaign_id"] not in str(campaigns)
    for status in ("active", "paused", "archived"):
        listed = await client.get("/v1/campaigns", params={"status": status}, headers=bob["headers"])
        assert ids["campaign_id"] not in listed.text
    me = (await client.get("/v1/auth/me", headers=bob["headers"])).json()
    assert me["id"] == bob["user"]["id"]


async def test_a_deleted_users_token_opens_nothing(client: httpx.AsyncClient, app) -> None:
    mallory = await signup(client)
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(delete(User).where(User.id == uuid.UUID(mallory["user"]["id"])))
        await session.commit()
    for path in ("/v1/auth/me", "/v1/campaigns"):
        resp = await client.get(path, headers=mallory["headers"])
        assert resp.status_code == 401, resp.text
