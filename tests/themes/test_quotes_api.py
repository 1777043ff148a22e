"""Quotes through the API on a hand-built campaign whose words are all in the comments."""

from __future__ import annotations

from bcrao.themes import compute
from tests.conftest import make_campaign
from tests.themes.handmade import store_docs, topic_docs


async def test_a_quote_cut_from_a_comment_links_to_the_comment_under_its_post(app, client, alice):
    campaign = await make_campaign(client, alice["headers"])
    # Titles too short to quote and no text: every quote has to come from a comment.
    docs = [
        *topic_docs("billing", 8, title="Thoughts?", text=False, comments=2),
        *topic_docs("garden", 8, title="Thoughts?", text=False, comments=2),
    ]
    await store_docs(
        app.state.runtime.sessionmaker, campaign_id=campaign["id"], user_id=alice["user"]["id"], docs=docs
    )
    base = f"/v1/campaigns/{campaign['id']}"
    assert (await client.get(f"{base}/themes", headers=alice["headers"])).json()["status"] == "computing"
    await compute.wait_for_local()
    body = (await client.get(f"{base}/themes", headers=alice["headers"])).json()
    assert body["status"] == "ready" and body["total_posts"] == 16 and len(body["themes"]) == 2
    for theme in body["themes"]:
        assert 3 <= len(theme["quotes"]) <= 5
        for quote in theme["quotes"]:
            assert quote["comment_id"] is not None
            post = (await client.get(f"{base}/posts/{quote['post_id']}", headers=alice["headers"])).json()
            comments = (
                await client.get(f"{base}/posts/{quote['post_id']}/comments", headers=alice["headers"])
            ).json()["comments"]
            comment = next(c for c in comments if c["id"] == quote["comment_id"])  # under the quoted post
            assert quote["text"] in comment["body"] and quote["upvotes"] == comment["upvotes"]
            assert quote["reddit_url"] == comment["reddit_url"]
            assert quote["reddit_url"].startswith(post["reddit_url"].rstrip("/") + "/")
