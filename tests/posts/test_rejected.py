"""GET /v1/collection/{task_id}/rejected: samples of what the pre-filter threw away."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import field_names

from .conftest import REJECTED


def url(task_id: str) -> str:
    return f"/v1/collection/{task_id}/rejected"


async def test_lists_every_sample_of_the_run_grouped_by_reason(client, seeded):
    run_id = seeded.runs[0]["id"]
    resp = await client.get(url(run_id), headers=seeded.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    total = sum(n for _, n in REJECTED)
    assert body["total"] == total and body["page"] == 1 and body["per_page"] == 20
    assert len(body["rejected"]) == total
    assert [r["reason"] for r in body["rejected"]] == sorted(r["reason"] for r in body["rejected"])
    assert set(body["rejected"][0]) == {
        "reddit_post_id", "subreddit", "title", "reason", "text_preview", "reddit_url"
    }  # fmt: skip
    for sample in body["rejected"]:  # enough to judge the verdict, and a link to check it
        assert sample["text_preview"] == f"{sample['title']} text"
        assert sample["reddit_url"] == f"https://www.reddit.com/r/SaaS/comments/{sample['reddit_post_id']}/"


@pytest.mark.parametrize(("reason", "count"), REJECTED)
async def test_reason_filter(client, seeded, reason, count):
    resp = await client.get(url(seeded.runs[0]["id"]), params={"reason": reason}, headers=seeded.headers)
    body = resp.json()
    assert body["total"] == count
    assert {r["reason"] for r in body["rejected"]} == {reason}
    assert sorted(r["title"] for r in body["rejected"]) == [f"{reason} sample {n}" for n in range(count)]


async def test_reason_with_no_samples_is_empty(client, seeded):
    resp = await client.get(
        url(seeded.runs[0]["id"]), params={"reason": "promotional"}, headers=seeded.headers
    )
    assert resp.json()["rejected"] == [] and resp.json()["total"] == 0


async def test_pagination_of_samples(client, seeded):
    run_id = seeded.runs[0]["id"]
    pages = []
    for page in (1, 2, 3, 4):  # 10 samples, 4 per page: 4, 4, 2, 0
        resp = await client.get(url(run_id), params={"page": page, "per_page": 4}, headers=seeded.headers)
        body = resp.json()
        assert body["total"] == 10 and body["page"] == page and body["per_page"] == 4
        pages.append([r["reddit_post_id"] for r in body["rejected"]])
    assert [len(p) for p in pages] == [4, 4, 2, 0]
    flat = [i for p in pages for i in p]
    assert len(set(flat)) == 10


async def test_run_without_samples_lists_nothing(client, seeded):
    resp = await client.get(url(seeded.runs[1]["id"]), headers=seeded.headers)
    assert resp.status_code == 200 and resp.json()["total"] == 0


async def test_unknown_reason_is_422(client, seeded):
    resp = await client.get(url(seeded.runs[0]["id"]), params={"reason": "boring"}, headers=seeded.headers)
    assert "reason" in field_names(resp)


async def test_another_users_run_is_404(client, seeded, bob):
    resp = await client.get(url(seeded.runs[0]["id"]), headers=bob["headers"])
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_unknown_run_is_404(client, seeded):
    resp = await client.get(url(str(uuid.uuid4())), headers=seeded.headers)
    assert resp.status_code == 404
