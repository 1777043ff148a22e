"""Whole runs that collect comments, through the API, against the loopback Reddit and Apify.

What the run reports, what ``collection-stats`` says and what the comments endpoint lists
must agree, a 429 in the middle of the comment requests loses nothing, a post deleted or
removed between its listing and its comments (answered as Reddit does, 200 with the post a
shell) is a warning in words with none of its comments stored, and collecting again adds
only the replies that are new.
"""

from __future__ import annotations

from tests.conftest import app_client, make_campaign, signup
from tests.fakes.reddit_comments import FakeComment
from tests.streaming import read_events, trigger, wait_for_run

KEYWORDS = ["users", "churn", "feedback", "pricing", "customers", "journey", "tool"]


async def all_comments(client, headers, campaign_id: str, post_id: str) -> list[dict]:
    url = f"/v1/campaigns/{campaign_id}/posts/{post_id}/comments"
    body = (await client.get(url, params={"per_page": 500}, headers=headers)).json()
    assert body["total"] == len(body["comments"])
    return body["comments"]


async def listed_posts(client, headers, campaign_id: str, **params) -> list[dict]:
    url = f"/v1/campaigns/{campaign_id}/posts"
    return (await client.get(url, params={"per_page": 100, **params}, headers=headers)).json()["posts"]


async def comment_totals(client, headers, campaign_id: str) -> dict:
    url = f"/v1/campaigns/{campaign_id}/collection-stats"
    return (await client.get(url, headers=headers)).json()["comments"]


async def test_reddit_comments_through_a_429_and_a_deleted_post(make_settings, db, fake_reddit):
    posts = fake_reddit.add_subreddit("SaaS", 40)
    for post in posts:
        fake_reddit.thread(post["id"], 30 if post["num_comments"] else 0)
    fake_reddit.fail_comments("429", 1, skip=5, retry_after=1)
    # Two posts the run keeps are taken down between the listing and their comments; Reddit
    # still answers their pages (200), the post a "[deleted]" / "[removed]" shell.
    gone, removed = posts[4], posts[8]
    fake_reddit.delete_post(gone["id"])
    fake_reddit.delete_post(removed["id"], answer="removed")
    settings = make_settings(**fake_reddit.app_settings())
    async with app_client(settings) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, keywords=KEYWORDS, target_subreddits=["SaaS"])
        task = await trigger(
            client, campaign["id"], headers, mode="fresh", max_posts_per_subreddit=40, comments_per_post=20
        )
        events = await read_events(client, task["task_id"], headers=headers)
        run = events[-1].data
        assert run["status"] == "complete"
        assert run["comments_per_post"] == 20
        assert any(e.data.get("stage") == "comments" for e in events)
        assert any(e.data.get("stage") == "rate_limited" for e in events)  # the 429, waited out
        assert 429 in [r.status for r in fake_reddit.comment_requests()]

        stored = await listed_posts(client, headers, campaign["id"])
        by_reddit_id = {p["reddit_post_id"]: p for p in stored}
        assert gone["id"] in by_reddit_id and removed["id"] in by_reddit_id  # else nothing is tested
        total = 0
        for post in stored:
            comments = await all_comments(client, headers, campaign["id"], post["id"])
            total += len(comments)
            if post["reddit_post_id"] in (gone["id"], removed["id"]) or not post["comment_count"]:
                assert comments == []
                continue
            thread = fake_reddit.thread(post["reddit_post_id"])
            assert 0 < len(comments) <= 20
            assert {c["reddit_comment_id"] for c in comments} <= set(thread.all_ids())
            assert not any(c["author"] == "AutoModerator" for c in comments)  # bots are noise
        assert total == run["comments_stored"] > 0
        assert run["comments_fetched"] >= run["comments_stored"]
        totals = await comment_totals(client, headers, campaign["id"])
        assert totals["total"] == total
        assert sorted(run["warnings"]) == [
            f'Comments of "{gone["title"]}" (r/SaaS, {gone["id"]}) were not collected:'
            " the post was deleted on Reddit by its author",
            f'Comments of "{removed["title"]}" (r/SaaS, {removed["id"]}) were not collected:'
            " the post was removed on Reddit by its moderators or by Reddit",
        ]
        for post_id in (gone["id"], removed["id"]):  # its page was read, nothing more asked
            asked = [
                r
                for r in fake_reddit.comment_requests()
                if post_id in r.path or r.query.get("link_id") == f"t3_{post_id}"
            ]
            assert [(r.path, r.status) for r in asked] == [(f"/comments/{post_id}", 200)]

        # A reply that appears later is the only thing the next run stores.
        target = next(
            p for p in stored if p["comment_count"] and p["reddit_post_id"] not in (gone["id"], removed["id"])
        )
        thread = fake_reddit.thread(target["reddit_post_id"])
        late = FakeComment(
            "zzlate1", thread.link_id, "Late reply: we moved to Lemon Squeezy", "late", 999, 2.0
        )
        fake_reddit.thread(target["reddit_post_id"], [*thread.by_id.values(), late])
        again = await trigger(
            client,
            campaign["id"],
            headers,
            mode="historical",
            max_posts_per_subreddit=40,
            comments_per_post=20,
        )
        second = await wait_for_run(client, again["task_id"], headers)
        assert second["comments_stored"] >= 1
        after = await comment_totals(client, headers, campaign["id"])
        assert after["total"] == total + second["comments_stored"]
        found = await listed_posts(client, headers, campaign["id"], q="lemon squeez", search_in="comments")
        assert [p["id"] for p in found] == [target["id"]]
        assert await listed_posts(client, headers, campaign["id"], q="lemon squeez") == []


async def test_apify_comments_arrive_with_the_posts(make_settings, db, fake_apify):
    fake_apify.comments_per_post = 12
    settings = make_settings(
        source="apify", apify_token=fake_apify.token, apify_base_url=fake_apify.url, apify_timeout_seconds=5.0
    )
    async with app_client(settings) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, keywords=KEYWORDS, target_subreddits=["SaaS"])
        task = await trigger(
            client, campaign["id"], headers, mode="fresh", max_posts_per_subreddit=15, comments_per_post=10
        )
        run = await wait_for_run(client, task["task_id"], headers)
        assert run["status"] == "complete" and run["comments_stored"] > 0
        assert fake_apify.inputs[0]["maxComments"] == 10 and fake_apify.inputs[0]["skipComments"] is False
        total = 0
        for post in await listed_posts(client, headers, campaign["id"]):
            comments = await all_comments(client, headers, campaign["id"], post["id"])
            total += len(comments)
            depths = {c["reddit_comment_id"]: c["depth"] for c in comments}
            for c in comments:
                parent = c["parent_id"].removeprefix("t1_")
                assert c["depth"] == (depths[parent] + 1 if parent in depths else 0)
        assert (
            total
            == run["comments_stored"]
            == (await comment_totals(client, headers, campaign["id"]))["total"]
        )


async def test_the_collect_body_validates_comments_per_post(client, alice):
    from tests.conftest import field_names

    campaign = await make_campaign(client, alice["headers"])
    url = f"/v1/campaigns/{campaign['id']}/collect"
    for bad in (-1, 501, "20", True, 2.5):
        resp = await client.post(url, json={"comments_per_post": bad}, headers=alice["headers"])
        assert resp.status_code == 422 and "comments_per_post" in field_names(resp), bad
    ok = await client.post(url, json={"comments_per_post": 0}, headers=alice["headers"])
    assert ok.status_code == 202
    run = await wait_for_run(client, ok.json()["task_id"], alice["headers"])
    assert run["comments_per_post"] == 0 and run["comments_stored"] == run["comments_fetched"] == 0
