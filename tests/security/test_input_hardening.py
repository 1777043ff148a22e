"""Hostile strings and loosely typed numbers get a 422 naming the field and change nothing
(a NUL used to be a 500 on PostgreSQL; "SaaS\\n/" passed as a subreddit)."""

from __future__ import annotations

import pytest

from tests.conftest import CAMPAIGN, field_names, make_campaign, signup

NUL, BELL = "\x00", "\x07"


@pytest.mark.parametrize("bad", [NUL, BELL, "\x1b[31m", "\x7f"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Churn {}"),
        ("product_context", "We help {} founders"),
        ("product_url", "https://example.com/{}"),
        ("keywords", ["churn", "pri{}cing"]),
        ("target_subreddits", ["SaaS", "start{}ups"]),
    ],
)
async def test_control_characters_in_a_campaign_are_422_and_nothing_is_created(
    client, alice, field, value, bad
):
    value = [v.format(bad) for v in value] if isinstance(value, list) else value.format(bad)
    resp = await client.post("/v1/campaigns", json={**CAMPAIGN, field: value}, headers=alice["headers"])
    assert any(name.split(".")[0] == field for name in field_names(resp))
    assert (await client.get("/v1/campaigns", headers=alice["headers"])).json()["total"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", f"x{NUL}"),
        ("product_context", f"text{NUL}"),
        ("keywords", [f"a{NUL}"]),
        ("target_subreddits", [f"SaaS{NUL}"]),
    ],
)
async def test_control_characters_in_an_update_change_nothing(client, alice, field, value):
    campaign = await make_campaign(client, alice["headers"])
    path = f"/v1/campaigns/{campaign['id']}"
    names = field_names(await client.patch(path, json={field: value}, headers=alice["headers"]))
    assert any(name.split(".")[0] == field for name in names)
    assert (await client.get(path, headers=alice["headers"])).json() == campaign


@pytest.mark.parametrize("path", ["/v1/auth/signup", "/v1/auth/login"])
@pytest.mark.parametrize("field", ["email", "password"])
async def test_control_characters_in_credentials_are_422(client, path, field):
    body = {"email": "nul@example.com", "password": "correct-horse"}
    body[field] = body[field][:3] + NUL + body[field][3:]
    assert field in field_names(await client.post(path, json=body))


@pytest.mark.parametrize("name", ["SaaS\n/", "r/Saa\nS", "Saa\tS", "SaaS\r//"])
async def test_a_subreddit_is_matched_whole_never_before_a_newline(client, alice, name):
    resp = await client.post("/v1/campaigns", json={**CAMPAIGN, "target_subreddits": ["startups", name]},
                             headers=alice["headers"])  # fmt: skip
    assert field_names(resp) == ["target_subreddits.1"]


@pytest.mark.parametrize("field", ["name", "keywords"])
async def test_one_line_fields_refuse_line_breaks(client, alice, field):
    value = ["churn\nrate"] if field == "keywords" else "Churn\nresearch"
    resp = await client.post("/v1/campaigns", json={**CAMPAIGN, field: value}, headers=alice["headers"])
    assert any(name.split(".")[0] == field for name in field_names(resp))


async def test_multi_line_text_keeps_its_line_breaks(client, alice):
    text = "We help founders.\n\n\tTabs and\r\nline breaks are fine here."
    campaign = await make_campaign(client, alice["headers"], product_context=text)
    assert campaign["product_context"] == text


@pytest.mark.parametrize("value", [True, False, "50", 50.0, 12.5, None])
async def test_max_posts_per_subreddit_must_be_a_real_integer(client, alice, value):
    campaign = await make_campaign(client, alice["headers"])
    resp = await client.post(
        f"/v1/campaigns/{campaign['id']}/collect",
        json={"max_posts_per_subreddit": value},
        headers=alice["headers"],
    )
    assert "max_posts_per_subreddit" in field_names(resp)
    runs = await client.get(f"/v1/campaigns/{campaign['id']}/runs", headers=alice["headers"])
    assert runs.json()["total"] == 0


async def test_a_nul_in_a_query_word_is_not_a_server_error(client, alice):
    other = await signup(client)
    campaign = await make_campaign(client, other["headers"])
    resp = await client.get(f"/v1/campaigns/{campaign['id']}/posts", params={"q": f"ch{NUL}urn"},
                            headers=other["headers"])  # fmt: skip
    assert resp.status_code in (200, 422)
