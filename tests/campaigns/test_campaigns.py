from __future__ import annotations

import uuid

import pytest

from tests.conftest import CAMPAIGN, field_names, make_campaign


async def test_create_returns_the_campaign_with_empty_stats(client, alice):
    body = await make_campaign(client, alice["headers"])
    assert body["name"] == CAMPAIGN["name"]
    assert body["status"] == "active"
    assert body["stats"] == {"posts_collected": 0, "runs": 0, "last_run": None}
    assert set(body) == {
        "id",
        "name",
        "product_context",
        "product_url",
        "keywords",
        "target_subreddits",
        "status",
        "created_at",
        "updated_at",
        "stats",
        "schedule",
    }
    assert body["schedule"] == {
        "every": "off",
        "next_run_at": None,
        "last_scheduled_run_at": None,
        "note": None,
    }


async def test_subreddit_prefixes_are_stripped_and_duplicates_dropped_keeping_first_spelling(client, alice):
    body = await make_campaign(
        client, alice["headers"], target_subreddits=["r/SaaS", "/r/saas", "R/startups", "webdev/"]
    )
    assert body["target_subreddits"] == ["SaaS", "startups", "webdev"]


async def test_keywords_are_trimmed_and_deduplicated_case_insensitively(client, alice):
    body = await make_campaign(
        client, alice["headers"], keywords=["  churn ", "Churn", "MRR", "mrr ", "pricing"]
    )
    assert body["keywords"] == ["churn", "MRR", "pricing"]


async def test_counts_are_checked_after_deduplication(client, alice):
    eleven_but_ten_distinct = [f"sub{i}" for i in range(10)] + ["SUB0"]
    body = await make_campaign(client, alice["headers"], target_subreddits=eleven_but_ten_distinct)
    assert len(body["target_subreddits"]) == 10
    sixteen_but_fifteen_distinct = [f"kw{i}" for i in range(15)] + ["KW3"]
    body = await make_campaign(client, alice["headers"], keywords=sixteen_but_fifteen_distinct)
    assert len(body["keywords"]) == 15


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"product_context": "x" * 5001}, "product_context"),
        ({"product_url": "ftp://example.com"}, "product_url"),
        ({"product_url": "not a url"}, "product_url"),
        ({"keywords": []}, "keywords"),
        ({"keywords": [f"k{i}" for i in range(16)]}, "keywords"),
        ({"keywords": ["ok", "x" * 51]}, "keywords.1"),
        ({"keywords": ["ok", "   "]}, "keywords.1"),
        ({"target_subreddits": []}, "target_subreddits"),
        ({"target_subreddits": [f"sub{i}" for i in range(11)]}, "target_subreddits"),
        ({"target_subreddits": ["SaaS", "bad name"]}, "target_subreddits.1"),
        ({"target_subreddits": ["_leading"]}, "target_subreddits.0"),
        ({"target_subreddits": ["a"]}, "target_subreddits.0"),
        ({"target_subreddits": ["x" * 22]}, "target_subreddits.0"),
        ({"target_subreddits": ["r/"]}, "target_subreddits.0"),
        ({"status": "deleted"}, "status"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_every_validation_rule_is_a_422_naming_the_field(client, alice, overrides, field):
    resp = await client.post("/v1/campaigns", json={**CAMPAIGN, **overrides}, headers=alice["headers"])
    assert field in field_names(resp)


async def test_missing_required_fields_are_named(client, alice):
    fields = field_names(await client.post("/v1/campaigns", json={}, headers=alice["headers"]))
    assert {"name", "keywords", "target_subreddits"} <= set(fields)


async def test_product_url_may_be_null_and_status_may_be_chosen(client, alice):
    body = await make_campaign(client, alice["headers"], product_url=None, status="paused")
    assert body["product_url"] is None
    assert body["status"] == "paused"


async def test_list_is_newest_first_paginated_and_filterable_by_status(client, alice):
    ids = [(await make_campaign(client, alice["headers"], name=f"c{i}"))["id"] for i in range(5)]
    await client.patch(f"/v1/campaigns/{ids[0]}", json={"status": "archived"}, headers=alice["headers"])
    page1 = (await client.get("/v1/campaigns?per_page=2", headers=alice["headers"])).json()
    assert page1["total"] == 5 and page1["page"] == 1 and page1["per_page"] == 2
    assert [c["id"] for c in page1["campaigns"]] == [ids[4], ids[3]]
    page3 = (await client.get("/v1/campaigns?per_page=2&page=3", headers=alice["headers"])).json()
    assert [c["id"] for c in page3["campaigns"]] == [ids[0]]
    beyond = (await client.get("/v1/campaigns?per_page=2&page=9", headers=alice["headers"])).json()
    assert beyond["campaigns"] == [] and beyond["total"] == 5
    archived = (await client.get("/v1/campaigns?status=archived", headers=alice["headers"])).json()
    assert [c["id"] for c in archived["campaigns"]] == [ids[0]] and archived["total"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("status=gone", "status"),
        ("page=abc", "page"),
    ],
)
async def test_bad_list_parameters_are_422(client, alice, query, field):
    assert field in field_names(await client.get(f"/v1/campaigns?{query}", headers=alice["headers"]))


async def test_get_returns_the_campaign(client, alice):
    created = await make_campaign(client, alice["headers"])
    resp = await client.get(f"/v1/campaigns/{created['id']}", headers=alice["headers"])
    assert resp.status_code == 200
    assert resp.json()["id"] == created["id"]


async def test_patch_changes_only_the_given_fields(client, alice):
    created = await make_campaign(client, alice["headers"])
    resp = await client.patch(
        f"/v1/campaigns/{created['id']}",
        json={"name": "Renamed", "target_subreddits": ["r/webdev"], "product_url": None},
        headers=alice["headers"],
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == "Renamed"
    assert body["target_subreddits"] == ["webdev"]
    assert body["product_url"] is None
    assert body["keywords"] == created["keywords"]
    assert body["updated_at"] >= created["updated_at"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": None}, "name"),
        ({"keywords": []}, "keywords"),
        ({"target_subreddits": ["no way"]}, "target_subreddits.0"),
        ({"status": "gone"}, "status"),
    ],
)
async def test_patch_validates_like_create_and_changes_nothing(client, alice, payload, field):
    created = await make_campaign(client, alice["headers"])
    assert field in field_names(
        await client.patch(f"/v1/campaigns/{created['id']}", json=payload, headers=alice["headers"])
    )
    after = (await client.get(f"/v1/campaigns/{created['id']}", headers=alice["headers"])).json()
    assert after == created


async def test_delete_removes_the_campaign(client, alice):
    created = await make_campaign(client, alice["headers"])
    resp = await client.delete(f"/v1/campaigns/{created['id']}", headers=alice["headers"])
    assert resp.status_code == 204 and resp.content == b""
    assert (await client.get(f"/v1/campaigns/{created['id']}", headers=alice["headers"])).status_code == 404


async def test_another_users_campaign_is_not_found_for_every_verb(client, alice, bob):
    created = await make_campaign(client, alice["headers"])
    url = f"/v1/campaigns/{created['id']}"
    for method, kwargs in [("GET", {}), ("PATCH", {"json": {"name": "pwned"}}), ("DELETE", {})]:
        resp = await client.request(method, url, headers=bob["headers"], **kwargs)
        assert resp.status_code == 404, method
        assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert (await client.get("/v1/campaigns", headers=bob["headers"])).json()["total"] == 0
    still = (await client.get(url, headers=alice["headers"])).json()
    assert still["name"] == created["name"]


async def test_unknown_and_malformed_ids_are_404_and_422(client, alice):
    resp = await client.get(f"/v1/campaigns/{uuid.uuid4()}", headers=alice["headers"])
    assert resp.status_code == 404
    assert "campaign_id" in field_names(
        await client.get("/v1/campaigns/not-a-uuid", headers=alice["headers"])
    )


async def test_campaign_routes_need_authentication(client):
    assert (await client.get("/v1/campaigns")).status_code == 401
    assert (await client.post("/v1/campaigns", json=CAMPAIGN)).status_code == 401


async def test_more_than_ten_subreddits_are_refused_with_a_message_never_cut(client, alice):
    twelve = [f"sub{i}" for i in range(12)]
    created = await client.post(
        "/v1/campaigns", json={**CAMPAIGN, "target_subreddits": twelve}, headers=alice["headers"]
    )
    campaign = await make_campaign(client, alice["headers"])
    patched = await client.patch(
        f"/v1/campaigns/{campaign['id']}", json={"target_subreddits": twelve}, headers=alice["headers"]
    )

    expected = [
        {
            "field": "target_subreddits",
            "message": (
                "at most 10 subreddits per campaign (12 given): remove 2 or split them over two campaigns"
            ),
        }
    ]
    assert created.status_code == patched.status_code == 422
    assert (
        created.json()["error"]["details"]["fields"]
        == patched.json()["error"]["details"]["fields"]
        == expected
    )
    listed = await client.get("/v1/campaigns", headers=alice["headers"])
    assert [c["target_subreddits"] for c in listed.json()["campaigns"]] == [CAMPAIGN["target_subreddits"]]


async def test_an_invalid_subreddit_name_is_explained(client, alice):
    resp = await client.post(
        "/v1/campaigns", json={**CAMPAIGN, "target_subreddits": ["SaaS", "my-sub"]}, headers=alice["headers"]
    )

    (field,) = resp.json()["error"]["details"]["fields"]
    assert field["field"] == "target_subreddits.1"
    assert "2-21 letters, digits or underscores (no spaces or hyphens)" in field["message"]
