from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests.conftest import TEST_SECRET, field_names, signup


async def test_signup_returns_a_token_and_the_user(client):
    resp = await client.post("/v1/auth/signup", json={"email": "New@Example.com", "password": "long-enough"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["user"]["email"] == "new@example.com"
    assert body["user"]["plan"] == "trial"
    uuid.UUID(body["user"]["id"])


async def test_signup_with_an_existing_email_in_any_case_is_a_conflict(client):
    await signup(client, "dup@example.com")
    resp = await client.post("/v1/auth/signup", json={"email": "DUP@example.COM", "password": "long-enough"})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "CONFLICT"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": "long-enough"}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"password": "long-enough"}, "email"),
        ({"email": "a@example.com"}, "password"),
    ],
)
async def test_signup_validation_names_the_field(client, payload, field):
    assert field in field_names(await client.post("/v1/auth/signup", json=payload))


async def test_login_with_the_right_password_in_any_email_case(client):
    await signup(client, "login@example.com", "correct-horse")
    resp = await client.post(
        "/v1/auth/login", json={"email": "LOGIN@example.com", "password": "correct-horse"}
    )
    assert resp.status_code == 200
    assert resp.json()["user"]["email"] == "login@example.com"


async def test_login_failures_do_not_reveal_whether_the_email_exists(client):
    await signup(client, "known@example.com", "correct-horse")
    wrong_password = await client.post(
        "/v1/auth/login", json={"email": "known@example.com", "password": "nope-nope"}
    )
    unknown_email = await client.post(
        "/v1/auth/login", json={"email": "ghost@example.com", "password": "nope-nope"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["error"]["code"] == "UNAUTHORIZED"


async def test_login_attempts_are_limited_per_email_and_ip(make_settings, db):
    from tests.conftest import app_client

    async with app_client(make_settings(login_max_attempts=3)) as client:
        await signup(client, "victim@example.com", "correct-horse")
        for _ in range(3):
            r = await client.post(
                "/v1/auth/login", json={"email": "victim@example.com", "password": "bad-guess"}
            )
            assert r.status_code == 401
        blocked = await client.post(
            "/v1/auth/login", json={"email": "victim@example.com", "password": "correct-horse"}
        )
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "RATE_LIMITED"
        assert int(blocked.headers["retry-after"]) > 0
        other = await client.post(
            "/v1/auth/login", json={"email": "other@example.com", "password": "bad-guess"}
        )
        assert other.status_code == 401  # another email is not blocked


async def test_me_returns_the_current_user(client, alice):
    resp = await client.get("/v1/auth/me", headers=alice["headers"])
    assert resp.status_code == 200
    body = resp.json()
    assert body["email"] == "alice@example.com"
    assert set(body) == {"id", "email", "plan", "created_at"}
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]


def _forge(claims: dict, key: str = TEST_SECRET, alg: str = "HS256") -> str:
    now = datetime.now(UTC)
    base = {"iss": "bcrao", "aud": "bcrao-api", "iat": now, "exp": now + timedelta(hours=1)}
    return jwt.encode({**base, **claims}, key, algorithm=alg)


async def test_me_without_a_token_is_unauthorized(client):
    resp = await client.get("/v1/auth/me")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda uid: _forge({"sub": uid, "exp": datetime.now(UTC) - timedelta(seconds=5)}),
        lambda uid: _forge({"sub": uid}, key="some-other-key-that-is-long-enough-too"),
        lambda uid: _forge({"sub": uid, "aud": "someone-else"}),
        lambda uid: _forge({"sub": uid, "iss": "evil"}),
        lambda uid: _forge({"sub": uid, "aud": "bcrao-api:stream", "run": str(uuid.uuid4())}),
        lambda uid: jwt.encode({"sub": uid, "iss": "bcrao", "aud": "bcrao-api"}, None, algorithm="none"),
        lambda uid: _forge({"sub": uid})[:-3] + "abc",
        lambda uid: _forge({"sub": str(uuid.uuid4())}),
        lambda uid: "garbage",
    ],
    ids=[
        "expired",
        "wrong-key",
        "wrong-audience",
        "wrong-issuer",
        "stream-token",
        "alg-none",
        "tampered",
        "unknown-user",
        "garbage",
    ],
)
async def test_bad_tokens_are_unauthorized(client, alice, make_token):
    token = make_token(alice["user"]["id"])
    resp = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHORIZED"
