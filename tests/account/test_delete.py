"""DELETE /v1/me: a wrong password changes nothing; the right one leaves no row of the user
in any table, and every other account's rows stay."""

from __future__ import annotations

import uuid

from sqlalchemy import Uuid, or_, select

from bcrao.models import Base
from tests.account.conftest import Owned, populate
from tests.conftest import make_campaign, signup
from tests.streaming import trigger

# Every column that can point at something a user owns, and what it points at.
REFERENCES = {
    "user_id": "user",
    "campaign_id": "campaigns",
    "run_id": "runs",
    "post_id": "posts",
    "alert_id": "alerts",
}


def rows_of(owned: Owned):
    """Per table, a select of the rows that reference the account (by any id it owns)."""
    for table in Base.metadata.sorted_tables:
        conditions = []
        for column in table.columns:
            if column.name == "id" and isinstance(column.type, Uuid):
                conditions.append(column.in_(owned.ids()))
            elif column.name in REFERENCES:
                target = getattr(owned, REFERENCES[column.name])
                conditions.append(column.in_(target if isinstance(target, set) else {target}))
        assert conditions, f"{table.name} has no column that says whose it is"
        yield table.name, select(table).where(or_(*conditions))


async def snapshot(client, owned: Owned) -> dict[str, list[tuple]]:
    async with client.app.state.runtime.sessionmaker() as s:
        return {
            name: sorted(map(tuple, (await s.execute(query)).all()), key=repr)
            for name, query in rows_of(owned)
        }


async def delete_me(client, account: dict, password: str):
    return await client.request("DELETE", "/v1/me", json={"password": password}, headers=account["headers"])


async def test_deleting_the_account_leaves_no_row_of_it_in_any_table_and_others_untouched(client, alice, bob):
    mine = await populate(client, alice, subreddits=["SaaS", "startups"])
    theirs = await populate(client, bob, subreddits=["SaaS", "startups"])
    before_mine, before_theirs = await snapshot(client, mine), await snapshot(client, theirs)
    empty = [name for name, rows in before_mine.items() if not rows]
    assert empty == [], f"the test account has no rows in {empty}: the walk would prove nothing there"

    resp = await delete_me(client, alice, alice["password"])

    assert resp.status_code == 204 and resp.content == b""
    after_mine = await snapshot(client, mine)
    assert {name: rows for name, rows in after_mine.items() if rows} == {}
    assert await snapshot(client, theirs) == before_theirs
    again = await client.get("/v1/auth/me", headers=alice["headers"])
    assert again.status_code == 401, "the deleted account's token no longer works"
    login = await client.post("/v1/auth/login", json={"email": alice["email"], "password": alice["password"]})
    assert login.status_code == 401
    assert (await client.get("/v1/auth/me", headers=bob["headers"])).status_code == 200


async def test_a_wrong_password_is_401_and_deletes_nothing(client, alice):
    mine = await populate(client, alice, subreddits=["SaaS"])
    before = await snapshot(client, mine)

    resp = await delete_me(client, alice, "not-my-password")

    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHORIZED"
    assert "password" in resp.json()["error"]["message"].lower()
    assert await snapshot(client, mine) == before


async def test_a_missing_password_is_a_validation_error(client, alice):
    resp = await client.request("DELETE", "/v1/me", json={}, headers=alice["headers"])
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "VALIDATION_ERROR"
    assert (await client.get("/v1/auth/me", headers=alice["headers"])).status_code == 200


async def test_repeated_wrong_passwords_are_throttled_like_logins(client, app):
    account = await signup(client)
    codes = [(await delete_me(client, account, f"guess-{i}")).status_code for i in range(12)]
    assert codes[0] == 401 and 429 in codes
    assert (await client.get("/v1/auth/me", headers=account["headers"])).status_code == 200


async def test_deleting_an_account_mid_collection_ends_its_run_and_leaves_nothing(client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS", "startups"])
    task = await trigger(client, campaign["id"], alice["headers"], comments_per_post=3)

    resp = await delete_me(client, alice, alice["password"])
    await client.app.state.runtime.executor.wait_idle()  # the run saw its end and stopped

    assert resp.status_code == 204
    owned = Owned(
        user=uuid.UUID(alice["user"]["id"]),
        campaigns={uuid.UUID(campaign["id"])},
        runs={uuid.UUID(task["task_id"])},
    )
    assert {name: rows for name, rows in (await snapshot(client, owned)).items() if rows} == {}
