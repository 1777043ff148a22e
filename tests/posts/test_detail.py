"""GET /v1/campaigns/{id}/posts/{post_id}: the whole post, its score breakdown, owner only."""

from __future__ import annotations

import uuid

from bcrao.posts.schemas import POST_FIELDS
from tests.conftest import field_names

from .conftest import seed


async def test_detail_has_the_full_text_and_the_score_breakdown(client, seeded):
    post = next(p for p in seeded.posts if len(p["raw_text"]) > 300)
    resp = await client.get(seeded.url(f"/posts/{post['id']}"), headers=seeded.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert list(body) == [*POST_FIELDS, "score_breakdown", "relevance_breakdown"]
    assert body["raw_text"] == post["raw_text"]
    assert body["score_breakdown"] == post["score_breakdown"]
    assert body["id"] == str(post["id"])
    assert body["run_id"] == str(post["run_id"])
    assert body["subreddit"] == post["subreddit"]
    assert body["success_score"] == post["success_score"]
    assert body["reddit_created_at"].startswith(post["reddit_created_at"].strftime("%Y-%m-%dT%H:%M:%S"))


async def test_detail_keeps_nulls_and_booleans(client, seeded):
    post = next(p for p in seeded.posts if p["upvote_ratio"] is None)
    body = (await client.get(seeded.url(f"/posts/{post['id']}"), headers=seeded.headers)).json()
    assert body["upvote_ratio"] is None
    assert body["classifier"] is None and body["archetype"] == "Unclassified"
    assert body["is_ai_processed"] is False


async def test_unknown_post_is_404(client, seeded):
    resp = await client.get(seeded.url(f"/posts/{uuid.uuid4()}"), headers=seeded.headers)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


async def test_post_of_another_campaign_is_404_under_this_one(client, app, alice, seeded):
    other = await seed(app, client, alice, name="Other")
    resp = await client.get(seeded.url(f"/posts/{other.posts[0]['id']}"), headers=alice["headers"])
    assert resp.status_code == 404


async def test_another_users_post_is_404(client, app, bob, seeded):
    post_id = seeded.posts[0]["id"]
    resp = await client.get(seeded.url(f"/posts/{post_id}"), headers=bob["headers"])
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    # Not even through a campaign of their own.
    bobs = await seed(app, client, bob)
    resp = await client.get(bobs.url(f"/posts/{post_id}"), headers=bob["headers"])
    assert resp.status_code == 404


async def test_malformed_post_id_is_422(client, seeded):
    resp = await client.get(seeded.url("/posts/not-a-uuid"), headers=seeded.headers)
    assert "post_id" in field_names(resp)
