"""A founder corrects labels and marks noise; lists, totals, stats and exports follow, and the
machine's label comes back when the correction is removed."""

from __future__ import annotations

import pytest

from tests.conftest import field_names, signup

from .conftest import expected_ids


def labelled(seeded, archetype: str) -> dict:
    return next(p for p in seeded.posts if p["archetype"] == archetype)


async def stats(client, seeded) -> dict:
    return (await client.get(seeded.url("/collection-stats"), headers=seeded.headers)).json()


async def test_a_label_correction_is_the_users_and_moves_every_count(client, seeded):
    post = labelled(seeded, "Journey")
    before = await stats(client, seeded)
    journeys = (
        await client.get(seeded.url(), params={"archetype": "Journey"}, headers=seeded.headers)
    ).json()
    resp = await client.put(seeded.url(f"/posts/{post['id']}/label"), json={"archetype": "Feedback"},
                            headers=seeded.headers)  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["archetype"], body["archetype_source"], body["archetype_confidence"]) == (
        "Feedback",
        "user",
        1.0,
    )
    after = await stats(client, seeded)
    assert after["by_archetype"]["Journey"] == before["by_archetype"]["Journey"] - 1
    assert after["by_archetype"]["Feedback"] == before["by_archetype"]["Feedback"] + 1
    assert after["total"] == before["total"]
    listed = (await client.get(seeded.url(), params={"archetype": "Journey"}, headers=seeded.headers)).json()
    assert listed["total"] == journeys["total"] - 1 and str(post["id"]) not in [
        p["id"] for p in listed["posts"]
    ]
    mine = await client.get(seeded.url(), params={"archetype_source": "user"}, headers=seeded.headers)
    assert [p["id"] for p in mine.json()["posts"]] == [str(post["id"])]

    undone = await client.delete(seeded.url(f"/posts/{post['id']}/label"), headers=seeded.headers)
    assert undone.status_code == 200
    restored = undone.json()
    assert restored["archetype"] == "Journey" and restored["archetype_source"] == post["archetype_source"]
    assert restored["archetype_confidence"] == post["archetype_confidence"]
    assert restored["archetype_reasons"] == post["archetype_reasons"]
    assert (await stats(client, seeded))["by_archetype"] == before["by_archetype"]


async def test_relabelling_twice_still_restores_the_machine_label(client, seeded):
    post = labelled(seeded, "ProblemSolution")
    for archetype in ("Journey", "Feedback"):
        resp = await client.put(seeded.url(f"/posts/{post['id']}/label"), json={"archetype": archetype},
                                headers=seeded.headers)  # fmt: skip
        assert resp.json()["archetype"] == archetype
    corrections = (await client.get("/v1/corrections", headers=seeded.headers)).json()
    assert [(c["kind"], c["archetype"]) for c in corrections["corrections"]] == [("label", "Feedback")]
    restored = (await client.delete(seeded.url(f"/posts/{post['id']}/label"), headers=seeded.headers)).json()
    assert restored["archetype"] == "ProblemSolution"
    assert (await client.get("/v1/corrections", headers=seeded.headers)).json()["total"] == 0


async def test_noise_is_hidden_from_lists_totals_stats_and_exports(client, seeded):
    post = labelled(seeded, "Feedback")
    before = await stats(client, seeded)
    resp = await client.put(seeded.url(f"/posts/{post['id']}/noise"), headers=seeded.headers)
    assert resp.status_code == 200
    everything = expected_ids(seeded.posts)
    listed = (await client.get(seeded.url(), params={"per_page": 100}, headers=seeded.headers)).json()
    assert [p["id"] for p in listed["posts"]] == [i for i in everything if i != str(post["id"])]
    assert listed["total"] == len(everything) - 1
    with_noise = await client.get(seeded.url(), params={"per_page": 100, "include_noise": "true"},
                                  headers=seeded.headers)  # fmt: skip
    assert [p["id"] for p in with_noise.json()["posts"]] == everything
    searched = await client.get(seeded.url(), params={"q": post["title"].split()[0], "per_page": 100},
                                headers=seeded.headers)  # fmt: skip
    assert str(post["id"]) not in [p["id"] for p in searched.json()["posts"]]
    after = await stats(client, seeded)
    assert after["total"] == before["total"] - 1
    assert after["by_archetype"]["Feedback"] == before["by_archetype"]["Feedback"] - 1
    export = await client.get(seeded.url("/posts/export"), params={"format": "jsonl"}, headers=seeded.headers)
    assert str(post["id"]) not in export.text
    # Still reachable by its id, and listed as a correction.
    assert (await client.get(seeded.url(f"/posts/{post['id']}"), headers=seeded.headers)).status_code == 200
    corrections = (await client.get("/v1/corrections", headers=seeded.headers)).json()["corrections"]
    assert [(c["kind"], c["post_id"], c["reddit_post_id"]) for c in corrections] == [
        ("noise", str(post["id"]), post["reddit_post_id"])
    ]
    again = await client.put(seeded.url(f"/posts/{post['id']}/noise"), headers=seeded.headers)
    assert again.status_code == 200 and (await stats(client, seeded))["total"] == after["total"]  # idempotent


@pytest.mark.parametrize(
    "body", [{"archetype": "Unclassified"}, {"archetype": "journey"}, {}, {"archetype": 1}]
)
async def test_an_invalid_label_is_422_and_changes_nothing(client, seeded, body):
    post = labelled(seeded, "Journey")
    resp = await client.put(seeded.url(f"/posts/{post['id']}/label"), json=body, headers=seeded.headers)
    assert "archetype" in field_names(resp)
    detail = (await client.get(seeded.url(f"/posts/{post['id']}"), headers=seeded.headers)).json()
    assert detail["archetype"] == "Journey"


async def test_another_users_post_cannot_be_corrected_and_corrections_are_private(client, seeded):
    post = labelled(seeded, "Journey")
    other = await signup(client)
    for method, suffix, body in (("PUT", "/label", {"archetype": "Feedback"}), ("DELETE", "/label", None),
                                 ("PUT", "/noise", None)):  # fmt: skip
        resp = await client.request(method, seeded.url(f"/posts/{post['id']}{suffix}"), json=body,
                                    headers=other["headers"])  # fmt: skip
        assert resp.status_code == 404
    await client.put(seeded.url(f"/posts/{post['id']}/noise"), headers=seeded.headers)
    assert (await client.get("/v1/corrections", headers=other["headers"])).json()["total"] == 0


async def test_a_remembered_search_total_is_not_reused_across_a_correction(client, seeded):
    post = next(p for p in seeded.posts if p["archetype"] == "Journey" and "churn" in p["title"].lower())
    params = {"archetype": "Journey", "q": "churn"}
    before = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()["total"]
    assert before == len(expected_ids(seeded.posts, **params))  # counted, and now remembered
    await client.put(
        seeded.url(f"/posts/{post['id']}/label"), json={"archetype": "Feedback"}, headers=seeded.headers
    )
    after = (await client.get(seeded.url(), params=params, headers=seeded.headers)).json()
    assert after["total"] == before - 1 == len(after["posts"])
