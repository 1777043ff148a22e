"""Forged and misused tokens, oversized bodies, and CORS."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from bcrao.config import Settings
from tests.conftest import TEST_SECRET, app_client, make_campaign, signup
from tests.streaming import trigger, wait_for_run

# PyJWT warns that the test key is short for HS512; the forgery is the point.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

ISSUER, AUDIENCE = "bcrao", "bcrao-api"  # the Settings defaults the app signs with


def _claims(user_id: str, **overrides: object) -> dict:
    now = datetime.now(UTC)
    claims: dict = {
        "sub": user_id,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(overrides)
    return claims


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, default=str).encode()).rstrip(b"=").decode()


def _unsigned(claims: dict) -> str:
    """``alg: none`` with an empty signature, built by hand (no library helps you forge one)."""
    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."


FORGERIES: dict[str, Callable[[str], str]] = {
    "alg none": lambda uid: _unsigned(_claims(uid)),
    "alg none, no dot": lambda uid: _unsigned(_claims(uid)).rstrip("."),
    "wrong key": lambda uid: jwt.encode(_claims(uid), "another-secret-key-of-sufficient-length-42", "HS256"),
    "expired": lambda uid: jwt.encode(
        _claims(uid, iat=datetime.now(UTC) - timedelta(hours=2), exp=datetime.now(UTC) - timedelta(hours=1)),
        TEST_SECRET,
        "HS256",
    ),
    "wrong audience": lambda uid: jwt.encode(_claims(uid, aud="someone-else"), TEST_SECRET, "HS256"),
    "wrong issuer": lambda uid: jwt.encode(_claims(uid, iss="evil"), TEST_SECRET, "HS256"),
    "no expiry": lambda uid: jwt.encode(
        {k: v for k, v in _claims(uid).items() if k != "exp"}, TEST_SECRET, "HS256"
    ),
    "HS512 with the right key": lambda uid: jwt.encode(_claims(uid), TEST_SECRET, "HS512"),
    "subject not a uuid": lambda uid: jwt.encode(_claims("alice"), TEST_SECRET, "HS256"),
    "garbage": lambda uid: "not.a.jwt",
}


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
async def test_forged_or_misaddressed_tokens_are_refused(
    client: httpx.AsyncClient, alice: dict, forgery: str
) -> None:
    campaign = await make_campaign(client, alice["headers"])
    token = FORGERIES[forgery](alice["user"]["id"])
    for path in ("/v1/auth/me", f"/v1/campaigns/{campaign['id']}"):
        resp = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, (forgery, path, resp.text)
        assert resp.json()["error"]["code"] == "UNAUTHORIZED"
        assert resp.headers.get("www-authenticate", "").lower().startswith("bearer")


async def test_the_honest_token_works_so_the_refusals_mean_something(
    client: httpx.AsyncClient, alice: dict
) -> None:
    token = jwt.encode(_claims(alice["user"]["id"]), TEST_SECRET, "HS256")
    resp = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.json()["id"] == alice["user"]["id"]


async def test_a_stream_token_is_not_an_access_token(client: httpx.AsyncClient, alice: dict) -> None:
    campaign = await make_campaign(client, alice["headers"])
    accepted = await trigger(client, campaign["id"], alice["headers"])
    stream_token = accepted["stream_token"]
    for path in ("/v1/auth/me", f"/v1/campaigns/{campaign['id']}", f"/v1/collection/{accepted['task_id']}"):
        resp = await client.get(path, headers={"Authorization": f"Bearer {stream_token}"})
        assert resp.status_code == 401, (path, resp.text)
    # ... and an access token is not a stream token (it must never travel in a URL).
    resp = await client.get(
        f"/v1/collection/{accepted['task_id']}/progress", params={"token": alice["token"]}
    )
    assert resp.status_code == 401
    await wait_for_run(client, accepted["task_id"], alice["headers"])


async def test_a_non_bearer_scheme_is_refused(client: httpx.AsyncClient, alice: dict) -> None:
    for value in (f"Basic {alice['token']}", alice["token"], "Bearer", "Bearer "):
        resp = await client.get("/v1/auth/me", headers={"Authorization": value})
        assert resp.status_code == 401, (value, resp.text)


# -- oversized and hostile bodies ---------------------------------------------------------


def _campaign_of_size(size: int) -> bytes:
    body = {
        "name": "big",
        "product_context": "x" * size,
        "keywords": ["churn"],
        "target_subreddits": ["SaaS"],
    }
    return json.dumps(body).encode()


async def test_a_one_megabyte_campaign_is_refused_without_a_server_error(
    client: httpx.AsyncClient, alice: dict
) -> None:
    headers = {**alice["headers"], "Content-Type": "application/json"}
    resp = await client.post("/v1/campaigns", content=_campaign_of_size(1024 * 1024), headers=headers)
    assert resp.status_code in (413, 422), resp.text
    assert resp.json()["error"]["code"] in ("PAYLOAD_TOO_LARGE", "VALIDATION_ERROR")


async def test_a_chunked_body_without_length_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, alice: dict
) -> None:
    async def chunks():
        for _ in range(64):
            yield b"x" * 16384  # 1 MiB, no Content-Length header

    headers = {**alice["headers"], "Content-Type": "application/json"}
    resp = await client.post("/v1/campaigns", content=chunks(), headers=headers)
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00 not utf-8",
        b"{" * 50_000,  # deep nesting
        b'{"name": "' + b"\\u0000" * 1000 + b'", "keywords": ["a"], "target_subreddits": ["SaaS"]}',
        b"[]",
        b"null",
        b'{"name": 1e999999, "keywords": ["a"], "target_subreddits": ["SaaS"]}',
    ],
    ids=["not utf-8", "deep nesting", "NUL characters", "array", "null", "huge number"],
)
async def test_hostile_json_is_a_validation_error_not_a_crash(
    client: httpx.AsyncClient, alice: dict, content: bytes
) -> None:
    headers = {**alice["headers"], "Content-Type": "application/json"}
    resp = await client.post("/v1/campaigns", content=content, headers=headers)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"]["code"] in ("VALIDATION_ERROR", "PAYLOAD_TOO_LARGE")


# -- CORS ---------------------------------------------------------------------------------

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}


async def test_by_default_no_foreign_origin_is_allowed(client: httpx.AsyncClient, alice: dict) -> None:
    origin = {"Origin": "https://evil.example.net"}
    resp = await client.options("/v1/campaigns", headers={**origin, **PREFLIGHT})
    assert "access-control-allow-origin" not in resp.headers
    resp = await client.get("/v1/campaigns", headers={**origin, **alice["headers"]})
    assert resp.status_code == 200
    assert "access-control-allow-origin" not in resp.headers


async def test_configured_origins_are_allowed_and_only_them(
    db: str, make_settings: Callable[..., Settings]
) -> None:
    async with app_client(make_settings(cors_origins=["https://app.example.com"])) as client:
        user = await signup(client)
        good, evil = {"Origin": "https://app.example.com"}, {"Origin": "https://evil.example.net"}

        resp = await client.options("/v1/campaigns", headers={**good, **PREFLIGHT})
        assert resp.status_code == 200
        assert resp.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "authorization" in resp.headers["access-control-allow-headers"].lower()
        resp = await client.get("/v1/campaigns", headers={**good, **user["headers"]})
        assert resp.headers["access-control-allow-origin"] == "https://app.example.com"
        # Credentials (cookies) are never allowed: the API authenticates with bearer tokens.
        assert "access-control-allow-credentials" not in resp.headers

        resp = await client.options("/v1/campaigns", headers={**evil, **PREFLIGHT})
        assert resp.status_code == 400
        assert "access-control-allow-origin" not in resp.headers
        resp = await client.get("/v1/campaigns", headers={**evil, **user["headers"]})
        assert "access-control-allow-origin" not in resp.headers
