"""A user's corrections adapt their own model, and only theirs; corrected posts keep the user's label."""

from __future__ import annotations

import uuid
from collections import Counter

from bcrao.collection import adapt
from bcrao.collection.model import ModelClassifier
from tests.conftest import make_campaign, signup
from tests.streaming import trigger, wait_for_run

from .conftest import build_post

PATTERN = "zorblax"  # a word the shipped model never saw


def zorblax_post(n: int):
    return build_post(
        id=f"z{n}",
        title=f"How do I fix my {PATTERN} setup? number {n}",
        text=f"My {PATTERN} keeps failing after the update. What should I try next to get it working again?",
    )


def examples(n: int, archetype: str = "Journey") -> list[adapt.Example]:
    return [
        adapt.Example(p.id, adapt.stored_features(p.title, p.text), archetype)
        for p in (zorblax_post(i) for i in range(n))
    ]


def test_corrections_of_a_pattern_move_new_posts_of_that_pattern():
    new = [zorblax_post(100 + i) for i in range(5)]
    shipped = ModelClassifier()
    assert all(shipped.classify(p).archetype == "ProblemSolution" for p in new)  # what the model thinks
    mine = adapt.for_examples(examples(12), adapt_after=10)
    labels = [mine.classify(p) for p in new]
    assert [c.archetype for c in labels] == ["Journey"] * 5


def test_below_the_threshold_only_the_corrected_posts_keep_their_label():
    mine = adapt.for_examples(examples(9), adapt_after=10)
    assert mine.classify(zorblax_post(100)).archetype == "ProblemSolution"  # not adapted yet
    known = mine.classify(zorblax_post(3))  # a post the user labelled, collected again
    assert (known.archetype, known.confidence, known.reasons) == ("Journey", 1.0, [adapt.KNOWN_REASON])
    assert adapt.for_examples(examples(50), adapt_after=0).classify(zorblax_post(100)).archetype == (
        "ProblemSolution"
    )  # 0 = never adapt


def test_adapting_leaves_the_shipped_model_untouched():
    before = ModelClassifier().classify(zorblax_post(100))
    adapt.for_examples(examples(20), adapt_after=10)
    assert ModelClassifier().classify(zorblax_post(100)) == before


# ---- through the API: runs of the local executor on the bundled real posts of r/jobs --------


async def collect(client, headers, **campaign) -> dict[str, dict]:
    """A new campaign over r/jobs, collected once; its posts by Reddit id."""
    made = await make_campaign(client, headers, target_subreddits=["jobs"], keywords=["job"], **campaign)
    task = await trigger(client, made["id"], headers, mode="historical", max_posts_per_subreddit=400)
    run = await wait_for_run(client, task["task_id"], headers)
    assert run["status"] == "complete", run
    return {"campaign": made, "run": run, "posts": await all_posts(client, headers, made["id"])}


async def all_posts(client, headers, campaign_id: str) -> dict[str, dict]:
    posts, page = {}, 1
    while True:
        body = (
            await client.get(
                f"/v1/campaigns/{campaign_id}/posts", params={"per_page": 100, "page": page}, headers=headers
            )
        ).json()
        posts.update((p["reddit_post_id"], p) for p in body["posts"])
        if page * 100 >= body["total"]:
            return posts
        page += 1


async def test_ten_corrections_adapt_that_users_later_runs_and_no_one_elses(client, alice, bob):
    first = await collect(client, alice["headers"], name="first")
    machine = {rid: p["archetype"] for rid, p in first["posts"].items()}
    questions = sorted(rid for rid, a in machine.items() if a == "ProblemSolution")
    corrected, untouched = questions[:12], questions[12:]
    assert len(untouched) >= 10
    for rid in corrected:  # "what you call a question in r/jobs, I call feedback"
        post = first["posts"][rid]
        resp = await client.put(f"/v1/campaigns/{first['campaign']['id']}/posts/{post['id']}/label",
                                json={"archetype": "Feedback"}, headers=alice["headers"])  # fmt: skip
        assert resp.status_code == 200

    again = await collect(client, alice["headers"], name="second")
    others = await collect(client, bob["headers"], name="bob's")

    mine = again["posts"]
    assert {mine[rid]["archetype"] for rid in corrected} == {"Feedback"}  # the user's label, kept
    assert all(mine[rid]["archetype_reasons"] == [adapt.KNOWN_REASON] for rid in corrected)
    flipped = Counter(mine[rid]["archetype"] for rid in untouched)
    assert flipped["Feedback"] > len(untouched) / 2, flipped  # similar new posts follow the user
    # Bob's run never saw Alice's corrections: every label is the shipped model's.
    assert {rid: p["archetype"] for rid, p in others["posts"].items()} == machine
    assert all(p["archetype_source"] == "model" for p in others["posts"].values())


async def test_a_users_label_survives_re_collection(client, alice):
    first = await collect(client, alice["headers"])
    campaign_id = first["campaign"]["id"]
    post = next(iter(first["posts"].values()))
    other = next(a for a in ("Journey", "ProblemSolution", "Feedback") if a != post["archetype"])
    await client.put(f"/v1/campaigns/{campaign_id}/posts/{post['id']}/label", json={"archetype": other},
                     headers=alice["headers"])  # fmt: skip
    task = await trigger(
        client, campaign_id, alice["headers"], mode="historical", max_posts_per_subreddit=100
    )
    run = await wait_for_run(client, task["task_id"], alice["headers"])
    assert run["status"] == "complete" and run["duplicates"] == run["filtered"] and run["stored"] == 0
    detail = (
        await client.get(f"/v1/campaigns/{campaign_id}/posts/{post['id']}", headers=alice["headers"])
    ).json()
    assert (detail["archetype"], detail["archetype_source"]) == (other, "user")
    corrections = (await client.get("/v1/corrections", headers=alice["headers"])).json()
    assert [(c["kind"], c["post_id"]) for c in corrections["corrections"]] == [("label", post["id"])]


async def test_another_users_corrections_are_not_read_for_this_users_model(app, client, alice):
    first = await collect(client, alice["headers"])
    campaign_id = first["campaign"]["id"]
    for post in list(first["posts"].values())[:12]:
        url = f"/v1/campaigns/{campaign_id}/posts/{post['id']}/label"
        await client.put(url, json={"archetype": "Journey"}, headers=alice["headers"])
    carol = await signup(client)
    from bcrao.collection import personal

    async with app.state.runtime.sessionmaker() as session:
        assert len(await personal.user_examples(session, user_id=uuid.UUID(alice["user"]["id"]))) == 12
        assert await personal.user_examples(session, user_id=uuid.UUID(carol["user"]["id"])) == []
