"""The auth dependencies: one query for the caller and the resource, same answers as before."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import delete

from bcrao.auth.models import User
from bcrao.auth.tokens import TokenSigner
from bcrao.errors import Unauthorized
from tests.conftest import make_campaign, signup


async def test_a_deleted_users_remembered_token_opens_nothing(client, app) -> None:
    """The token was used (and remembered as verified) before the account went away."""
    mallory = await signup(client)
    campaign = await make_campaign(client, mallory["headers"])
    paths = [
        "/v1/auth/me",
        "/v1/campaigns",
        f"/v1/campaigns/{campaign['id']}",
        f"/v1/campaigns/{campaign['id']}/posts",
        f"/v1/campaigns/{campaign['id']}/collection-stats",
        f"/v1/collection/{uuid.uuid4()}",
    ]
    for path in paths[:-1]:
        assert (await client.get(path, headers=mallory["headers"])).status_code == 200, path
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(delete(User).where(User.id == uuid.UUID(mallory["user"]["id"])))
        await session.commit()
    for path in paths:
        resp = await client.get(path, headers=mallory["headers"])
        assert resp.status_code == 401, (path, resp.text)
        assert resp.json()["error"]["code"] == "UNAUTHORIZED"


async def test_a_missing_or_foreign_resource_is_404_for_a_live_user(client, alice, bob) -> None:
    campaign = await make_campaign(client, alice["headers"])
    for path in (f"/v1/campaigns/{campaign['id']}", f"/v1/campaigns/{uuid.uuid4()}"):
        resp = await client.get(path, headers=bob["headers"])
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert (await client.get(f"/v1/collection/{uuid.uuid4()}", headers=bob["headers"])).status_code == 404


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    signer = TokenSigner(key="k" * 40, issuer="bcrao", audience="bcrao-api", access_ttl=1, stream_ttl=60)
    user_id = uuid.uuid4()
    token = signer.access_token(user_id)
    assert signer.user_id_from_access(token) == user_id
    assert signer.user_id_from_access(token) == user_id  # from the verified-token memory
    time.sleep(2.1)  # exp is whole seconds
    with pytest.raises(Unauthorized) as refused:
        signer.user_id_from_access(token)
    assert refused.value.message == "Token expired"


def test_only_verified_tokens_are_remembered() -> None:
    signer = TokenSigner(key="k" * 40, issuer="bcrao", audience="bcrao-api", access_ttl=60, stream_ttl=60)
    other = TokenSigner(key="x" * 40, issuer="bcrao", audience="bcrao-api", access_ttl=60, stream_ttl=60)
    forged = other.access_token(uuid.uuid4())
    for _ in range(2):
        with pytest.raises(Unauthorized):
            signer.user_id_from_access(forged)
    assert forged not in signer._verified
