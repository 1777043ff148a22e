"""POST /v1/subreddits/check and GET /v1/subreddits/sample against the configured source."""

from __future__ import annotations

import socket

import pytest

from bcrao.sources.sample import subreddits
from tests.conftest import app_client, field_names, signup
from tests.fakes.fixtures import fake_reddit  # noqa: F401
from tests.fakes.reddit import FakeReddit


async def check(client, headers, names):
    resp = await client.post("/v1/subreddits/check", json={"names": names}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["results"]


async def test_sample_source_answers_by_corpus_membership_in_the_order_asked(client, alice):
    results = await check(client, alice["headers"], ["r/SaaS", "Entrepeneur", "knitting", "/r/startups/"])

    assert [(r["name"], r["status"], r["suggestion"]) for r in results] == [
        ("SaaS", "ok", None),
        ("Entrepeneur", "not_found", "Entrepreneur"),
        ("knitting", "not_found", None),
        ("startups", "ok", None),
    ]
    assert set(results[0]) == {"name", "status", "message", "suggestion"}
    assert "Did you mean r/Entrepreneur?" in results[1]["message"]


async def test_the_same_name_twice_gets_two_answers_in_its_own_spellings(client, alice):
    results = await check(client, alice["headers"], ["SaaS", "saas"])

    assert [(r["name"], r["status"]) for r in results] == [("SaaS", "ok"), ("saas", "ok")]


@pytest.mark.parametrize(
    ("names", "field"),
    [
        (["SaaS", "bad name"], "names.1"),
        (["_leading"], "names.0"),
        (["x"], "names.0"),
        ([], "names"),
        ([f"sub{i}" for i in range(11)], "names"),
    ],
)
async def test_bad_names_are_a_422_naming_the_item(client, alice, names, field):
    resp = await client.post("/v1/subreddits/check", json={"names": names}, headers=alice["headers"])

    assert field in field_names(resp)


async def test_the_422_says_what_a_valid_name_is_and_how_many_are_allowed(client, alice):
    bad = await client.post("/v1/subreddits/check", json={"names": ["no spaces"]}, headers=alice["headers"])
    many = await client.post(
        "/v1/subreddits/check", json={"names": [f"sub{i}" for i in range(12)]}, headers=alice["headers"]
    )

    assert "2-21 letters, digits or underscores" in bad.json()["error"]["details"]["fields"][0]["message"]
    assert many.json()["error"]["details"]["fields"] == [
        {"field": "names", "message": "at most 10 subreddits per check (12 given)"}
    ]


async def test_checks_need_a_login(client):
    resp = await client.post("/v1/subreddits/check", json={"names": ["SaaS"]})
    sample = await client.get("/v1/subreddits/sample")

    assert resp.status_code == sample.status_code == 401
    assert resp.json()["error"]["code"] == "UNAUTHORIZED"


async def test_a_deleted_account_token_is_refused(client, alice, app):
    from sqlalchemy import delete

    from bcrao.auth.models import User

    async with app.state.runtime.sessionmaker() as session:
        await session.execute(delete(User).where(User.email == "alice@example.com"))
        await session.commit()

    resp = await client.post("/v1/subreddits/check", json={"names": ["SaaS"]}, headers=alice["headers"])
    assert resp.status_code == 401


async def test_the_sample_corpus_is_listed_for_the_form(client, alice):
    resp = await client.get("/v1/subreddits/sample", headers=alice["headers"])

    assert resp.status_code == 200
    assert resp.json() == {"subreddits": subreddits(), "in_use": True}
    assert {"SaaS", "startups", "Accounting"} <= set(resp.json()["subreddits"])


async def test_reddit_source_checks_about_and_remembers_definite_answers(
    make_settings,
    fake_reddit: FakeReddit,  # noqa: F811
):
    fake_reddit.add_subreddit("SaaS", 5)
    fake_reddit.add_subreddit("Secret", 5)
    fake_reddit.set_state("Secret", "private")
    fake_reddit.add_subreddit("Gone", 5)
    fake_reddit.set_state("Gone", "banned")
    async with app_client(make_settings(**fake_reddit.app_settings())) as client:
        user = await signup(client)
        names = ["SaaS", "Secret", "Gone", "Nowhere"]

        first = await check(client, user["headers"], names)
        again = await check(client, user["headers"], names)
        sample = (await client.get("/v1/subreddits/sample", headers=user["headers"])).json()

    assert [r["status"] for r in first] == ["ok", "private", "banned", "not_found"]
    assert again == first
    assert len(fake_reddit.about_requests()) == 4  # the second check was answered from memory
    assert len(fake_reddit.token_requests()) == 1  # one client, one token, for every check
    assert sample["in_use"] is False and sample["subreddits"] == subreddits()


async def test_reddit_unreachable_is_unknown_and_not_remembered(make_settings, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(
        source="reddit",
        reddit_client_id="id",
        reddit_client_secret="secret",
        reddit_oauth_url=f"http://127.0.0.1:{port}",
        reddit_www_url=f"http://127.0.0.1:{port}",
        reddit_max_retries=0,
        reddit_timeout_seconds=2,
    )
    async with app_client(settings) as client:
        user = await signup(client)
        results = await check(client, user["headers"], ["SaaS"])

        assert results[0]["status"] == "unknown" and "r/SaaS" in results[0]["message"]
        assert client.app.state.runtime.subreddits._known == {}  # offline answers are asked again


async def test_apify_source_is_unknown(make_settings):
    async with app_client(make_settings(source="apify", apify_token="token")) as client:
        user = await signup(client)
        (result,) = await check(client, user["headers"], ["SaaS"])

    assert result == {
        "name": "SaaS",
        "status": "unknown",
        "message": "r/SaaS cannot be checked through Apify before a run; the run will tell",
        "suggestion": None,
    }
