"""GET /v1/sources/health against the loopback Reddit and Apify: one cheap probe that tells
"works" from "refused" from "not there" from "not set up"."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

from tests.conftest import app_client, signup

BLOCKED_WORDS = (
    "Reddit refused access: your app is not approved for this API or its credentials were rejected"
)


async def health(client, headers, **params) -> dict:
    resp = await client.get("/v1/sources/health", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"source", "status", "message", "checked_at"}
    checked = datetime.fromisoformat(body["checked_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - checked) < timedelta(minutes=1)
    return body


async def test_reddit_that_accepts_the_app_is_ok_after_one_token_and_one_request(
    make_settings, db, fake_reddit
):
    fake_reddit.add_subreddit("announcements", 3)
    async with app_client(make_settings(**fake_reddit.app_settings())) as client:
        user = await signup(client)
        body = await health(client, user["headers"])

    assert body["source"] == "reddit" and body["status"] == "ok"
    assert "accepts" in body["message"]
    assert len(fake_reddit.token_requests()) == 1
    assert [r.path for r in fake_reddit.requests if r.path != "/api/v1/access_token"] == [
        "/r/announcements/about"
    ]


async def test_reddit_that_refuses_every_request_is_blocked_in_words(make_settings, db, fake_reddit):
    fake_reddit.block_app()
    async with app_client(make_settings(**fake_reddit.app_settings())) as client:
        user = await signup(client)
        body = await health(client, user["headers"])

    assert body["status"] == "blocked" and body["message"].startswith(BLOCKED_WORDS)


async def test_rejected_reddit_credentials_are_blocked(make_settings, db, fake_reddit):
    settings = make_settings(**fake_reddit.app_settings(reddit_client_secret="not-the-secret"))
    async with app_client(settings) as client:
        user = await signup(client)
        body = await health(client, user["headers"])

    assert body["status"] == "blocked" and body["message"].startswith(BLOCKED_WORDS)


async def test_a_reddit_nobody_answers_for_is_unreachable(make_settings, db, fake_reddit):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        **fake_reddit.app_settings(reddit_oauth_url=closed, reddit_www_url=closed, reddit_max_retries=0)
    )
    async with app_client(settings) as client:
        user = await signup(client)
        body = await health(client, user["headers"])

    assert body["status"] == "unreachable" and "Reddit could not be reached" in body["message"]


async def test_a_source_without_credentials_is_unconfigured_and_sample_is_ok(client, alice):
    sample = await health(client, alice["headers"])
    reddit = await health(client, alice["headers"], source="reddit")
    apify = await health(client, alice["headers"], source="apify")

    assert (sample["source"], sample["status"]) == ("sample", "ok")
    assert (reddit["source"], reddit["status"]) == ("reddit", "unconfigured")
    assert "client id and secret" in reddit["message"]
    assert (apify["source"], apify["status"]) == ("apify", "unconfigured")


async def test_apify_is_ok_with_its_token_and_blocked_without(make_settings, db, fake_apify):
    good = make_settings(source="apify", apify_token=fake_apify.token, apify_base_url=fake_apify.url)
    async with app_client(good) as client:
        user = await signup(client)
        ok = await health(client, user["headers"])
    bad = good.model_copy(update={"apify_token": good.apify_token.__class__("wrong-token")})
    async with app_client(bad) as client:
        user = await signup(client)
        refused = await health(client, user["headers"])

    assert (ok["source"], ok["status"]) == ("apify", "ok")
    assert any(r.path == "/v2/users/me" for r in fake_apify.requests)
    assert refused["status"] == "blocked" and "Apify refused the token" in refused["message"]


async def test_health_needs_a_login_and_a_known_source(client, alice):
    anonymous = await client.get("/v1/sources/health")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHORIZED"
    unknown = await client.get("/v1/sources/health", params={"source": "twitter"}, headers=alice["headers"])
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "VALIDATION_ERROR"
