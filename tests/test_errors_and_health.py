from __future__ import annotations

import re

import httpx
import pytest

from bcrao.config import ConfigError, load_settings


def assert_error_shape(resp, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


async def test_unknown_route_has_the_error_shape(client):
    assert_error_shape(await client.get("/v1/nope"), 404, "RESOURCE_NOT_FOUND")


async def test_wrong_method_has_the_error_shape(client):
    assert_error_shape(await client.delete("/healthz"), 405, "METHOD_NOT_ALLOWED")


async def test_malformed_json_has_the_error_shape(client):
    resp = await client.post(
        "/v1/auth/signup", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_error_shape(resp, 422, "VALIDATION_ERROR")
    assert resp.json()["error"]["details"]["fields"][0]["field"] == "body"


async def test_oversized_bodies_are_refused_with_413(client, alice):
    huge = {"name": "x", "keywords": ["a"], "target_subreddits": ["SaaS"], "product_context": "x" * 1_000_000}
    assert_error_shape(
        await client.post("/v1/campaigns", json=huge, headers=alice["headers"]), 413, "PAYLOAD_TOO_LARGE"
    )


async def test_unexpected_errors_are_500_without_a_stack_trace(app):
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    # Starlette re-raises after answering so servers can log it; look at what the client got.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        resp = await client.get("/boom")
    assert_error_shape(resp, 500, "INTERNAL_ERROR")
    assert "secret" not in resp.text and "Traceback" not in resp.text


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_unreachable(make_settings, db):
    from tests.conftest import app_client

    settings = make_settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    async with app_client(settings) as client:
        assert_error_shape(await client.get("/readyz"), 503, "SERVICE_UNAVAILABLE")


async def test_every_response_carries_a_request_id(client):
    resp = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert resp.headers["x-request-id"] == "abc123"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32


async def test_openapi_documents_the_error_shape(client):
    doc = (await client.get("/openapi.json")).json()
    assert "ErrorResponse" in doc["components"]["schemas"]
    assert "/v1/campaigns/{campaign_id}" in doc["paths"]


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"database_url": "mysql://x/y"}, "BCRAO_DATABASE_URL"),
        ({"database_url": "::::"}, "BCRAO_DATABASE_URL"),
        ({"executor": "threads"}, "BCRAO_EXECUTOR"),
        ({"redis_url": "http://x"}, "BCRAO_REDIS_URL"),
        ({"executor": "celery"}, "BCRAO_REDIS_URL"),
        ({"environment": "production"}, "BCRAO_SECRET_KEY"),
    ],
)
def test_invalid_settings_fail_with_one_clear_line(env, fragment):
    with pytest.raises(ConfigError) as info:
        load_settings(**env)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_database_urls_are_normalized_to_async_drivers():
    assert load_settings(database_url="sqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"
    assert load_settings(database_url="postgresql://u:p@h/db").database_url == "postgresql+asyncpg://u:p@h/db"


def test_embedded_defaults_need_nothing_and_persist_a_generated_secret(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'bcrao.db'}"
    assert settings.effective_executor == "local"
    key = settings.signing_key()
    assert len(key) >= 32
    assert load_settings(data_dir=tmp_path).signing_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


async def test_the_api_reference_works_offline(client):
    page = await client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/vendor/swagger-ui/") for a in assets), assets  # no CDN
    for asset in assets:
        assert (await client.get(asset)).status_code == 200
    assert (await client.get("/redoc")).status_code == 404
