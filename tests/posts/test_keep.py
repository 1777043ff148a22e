"""PUT /v1/collection/{task_id}/rejected/{reddit_post_id}/keep: the pre-filter was wrong."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import field_names

SAMPLE = "r_too_0"  # a too_short sample of the seed's first run (see conftest.REJECTED)


def keep_url(task_id: str, reddit_post_id: str = SAMPLE) -> str:
    return f"/v1/collection/{task_id}/rejected/{reddit_post_id}/keep"


async def stats(client, seeded) -> dict:
    return (await client.get(seeded.url("/collection-stats"), headers=seeded.headers)).json()


async def test_a_kept_sample_is_stored_labelled_and_counted(client, seeded):
    before = await stats(client, seeded)
    resp = await client.put(keep_url(seeded.runs[0]["id"]), headers=seeded.headers)
    assert resp.status_code == 200, resp.text
    post = resp.json()
    assert post["reddit_post_id"] == SAMPLE and post["campaign_id"] == seeded.campaign_id
    assert post["run_id"] == seeded.runs[0]["id"]
    assert (post["title"], post["raw_text"]) == ("too_short sample 0", "too_short sample 0 text")
    assert post["reddit_url"] == f"https://www.reddit.com/r/SaaS/comments/{SAMPLE}/"
    assert post["archetype"] in ("Journey", "ProblemSolution", "Feedback")
    assert post["archetype_source"] == "model" and post["classifier"] == "model"
    assert 0 < post["archetype_confidence"] <= 1 and post["archetype_reasons"]
    assert 0 <= post["success_score"] <= 10 and "total" in post["score_breakdown"]

    after = await stats(client, seeded)
    assert after["total"] == before["total"] + 1
    assert after["by_archetype"][post["archetype"]] == before["by_archetype"][post["archetype"]] + 1
    listed = (
        await client.get(
            seeded.url(), params={"per_page": 100, "archetype_source": "model"}, headers=seeded.headers
        )
    ).json()
    assert post["id"] in [p["id"] for p in listed["posts"]]
    found = (await client.get(seeded.url(), params={"q": "too_short sample"}, headers=seeded.headers)).json()
    assert [p["id"] for p in found["posts"]] == [post["id"]]

    corrections = (await client.get("/v1/corrections", headers=seeded.headers)).json()
    listed_corrections = [
        (c["kind"], c["post_id"], c["reddit_post_id"], c["archetype"]) for c in corrections["corrections"]
    ]
    assert listed_corrections == [("keep", post["id"], SAMPLE, post["archetype"])]


async def test_keeping_twice_returns_the_same_post_and_counts_it_once(client, seeded):
    first = (await client.put(keep_url(seeded.runs[0]["id"]), headers=seeded.headers)).json()
    total = (await stats(client, seeded))["total"]
    again = await client.put(keep_url(seeded.runs[0]["id"]), headers=seeded.headers)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert (await stats(client, seeded))["total"] == total
    assert (await client.get("/v1/corrections", headers=seeded.headers)).json()["total"] == 1


async def test_a_kept_post_can_then_be_labelled_by_the_user(client, seeded):
    post = (await client.put(keep_url(seeded.runs[0]["id"], "r_link1"), headers=seeded.headers)).json()
    other = next(a for a in ("Journey", "ProblemSolution", "Feedback") if a != post["archetype"])
    resp = await client.put(seeded.url(f"/posts/{post['id']}/label"), json={"archetype": other},
                            headers=seeded.headers)  # fmt: skip
    assert resp.status_code == 200
    mine = (
        await client.get(seeded.url(), params={"archetype_source": "user"}, headers=seeded.headers)
    ).json()
    assert [(p["id"], p["archetype"]) for p in mine["posts"]] == [(post["id"], other)]
    kinds = [
        c["kind"] for c in (await client.get("/v1/corrections", headers=seeded.headers)).json()["corrections"]
    ]
    assert sorted(kinds) == ["keep", "label"]


async def test_another_users_run_is_404_and_changes_nothing(client, seeded, bob):
    before = await stats(client, seeded)
    resp = await client.put(keep_url(seeded.runs[0]["id"]), headers=bob["headers"])
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert await stats(client, seeded) == before
    assert (await client.get("/v1/corrections", headers=bob["headers"])).json()["total"] == 0
    assert (await client.get("/v1/corrections", headers=seeded.headers)).json()["total"] == 0


@pytest.mark.parametrize("which", ["unknown sample", "sample of another run", "unknown run"])
async def test_an_unknown_sample_or_run_is_404(client, seeded, which):
    task_id, reddit_id = {
        "unknown sample": (seeded.runs[0]["id"], "nosuchpost"),
        "sample of another run": (seeded.runs[1]["id"], SAMPLE),  # the second run kept no samples
        "unknown run": (str(uuid.uuid4()), SAMPLE),
    }[which]
    before = await stats(client, seeded)
    resp = await client.put(keep_url(task_id, reddit_id), headers=seeded.headers)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert await stats(client, seeded) == before


async def test_a_malformed_reddit_id_is_422(client, seeded):
    resp = await client.put(keep_url(seeded.runs[0]["id"], "x" * 17), headers=seeded.headers)
    assert "reddit_post_id" in field_names(resp)
