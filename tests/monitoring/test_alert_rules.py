"""Which posts an alert sends (keywords and phrases, subreddits, minimum relevance), and what
its emails hold (an instant alert, a digest's rising themes), through the API to real
receivers on loopback."""

from __future__ import annotations

import html
import uuid
from contextlib import ExitStack
from datetime import timedelta

from bcrao.db import session_scope, utcnow
from bcrao.monitoring import alerts as alert_service
from bcrao.monitoring import delivery
from bcrao.themes import compute
from bcrao.themes.models import ThemeSet
from tests.conftest import app_client, make_campaign, signup
from tests.fakes.receivers import WebhookReceiver
from tests.monitoring.test_alerts import collect, fast

KEYWORDS = ["churn", "pricing", "users", "feedback", "tool"]
THRESHOLD = 6.1  # minimum relevance of one alert: some stored posts are above it, some below


def stored_posts(fake_reddit) -> None:
    fake_reddit.add_subreddit("SaaS", 20)
    fake_reddit.add_subreddit("startups", 20)


async def all_posts(client, headers, cid) -> list[dict]:
    body = (await client.get(f"/v1/campaigns/{cid}/posts", params={"per_page": 100}, headers=headers)).json()
    assert body["total"] == len(body["posts"])
    return body["posts"]


def says(post: dict, phrase: str) -> bool:
    return phrase.lower() in f"{post['title']}\n{post['raw_text'] or ''}".lower()


async def test_keywords_phrases_subreddits_and_minimum_relevance_choose_the_posts_sent(
    make_settings, db, fake_reddit
):
    stored_posts(fake_reddit)
    rules = {
        # A phrase in any case, a phrase with punctuation, and a word that must match whole
        # ("user" is not "users", which many posts say).
        "phrases": {"keywords": ["Landing Page", "onboarding drop-off", "user"]},
        "subreddit": {"subreddits": ["r/Startups"]},
        "relevance": {"min_relevance": THRESHOLD},
        # Every rule must hold.
        "together": {"keywords": ["pricing"], "subreddits": ["SaaS"], "min_relevance": 5},
    }
    with ExitStack() as stack:
        receivers = {name: WebhookReceiver().start() for name in rules}
        for hook in receivers.values():
            stack.callback(hook.stop)
        async with app_client(fast(make_settings, **fake_reddit.app_settings())) as client:
            user = await signup(client)
            headers = user["headers"]
            campaign = await make_campaign(
                client, headers, keywords=KEYWORDS, target_subreddits=["SaaS", "startups"]
            )
            cid = campaign["id"]
            alerts = {}
            for name, rule in rules.items():
                resp = await client.post(
                    f"/v1/campaigns/{cid}/alerts",
                    json={"channel": "webhook", "target": receivers[name].url, **rule},
                    headers=headers,
                )
                assert resp.status_code == 201, resp.text
                alerts[name] = resp.json()
                receivers[name].secret = alerts[name]["secret"]
            assert alerts["subreddit"]["subreddits"] == ["Startups"]
            await collect(client, headers, cid, max_posts_per_subreddit=20, comments_per_post=0)
            posts = await all_posts(client, headers, cid)
            assert len(posts) < alert_service.POSTS_PER_DELIVERY  # each alert sends all it picks

            expected = {
                "phrases": [p for p in posts if says(p, "landing page") or says(p, "onboarding drop-off")],
                "subreddit": [p for p in posts if p["subreddit"] == "startups"],
                "relevance": [p for p in posts if p["relevance_score"] >= THRESHOLD],
                "together": [
                    p
                    for p in posts
                    if says(p, "pricing") and p["subreddit"] == "SaaS" and p["relevance_score"] >= 5
                ],
            }
            # Each rule is a real choice: some posts pass it, some do not.
            for name, chosen in expected.items():
                assert 0 < len(chosen) < len(posts), name
            assert any(says(p, "users") for p in posts)
            assert not any(abs(p["relevance_score"] - THRESHOLD) < 0.01 for p in posts)
            together_parts = [
                {p["id"] for p in posts if says(p, "pricing")},
                {p["id"] for p in posts if p["subreddit"] == "SaaS"},
            ]
            assert all({p["id"] for p in expected["together"]} < part for part in together_parts)

            for name, alert in alerts.items():
                hook = receivers[name]
                [hit] = hook.delivered.values()
                assert all(h.signature_ok for h in hook.hits)
                sent = hit.body["posts"]
                assert hit.body["alert_id"] == alert["id"]
                assert sorted(p["id"] for p in sent) == sorted(p["id"] for p in expected[name]), name
                scores = [p["success_score"] for p in sent]
                assert scores == sorted(scores, reverse=True)  # best first
                assert hit.body["text"].startswith(f"{len(sent)} new post")
                log = (
                    await client.get(f"/v1/campaigns/{cid}/alerts/{alert['id']}/deliveries", headers=headers)
                ).json()
                assert [(d["status"], len(d["post_ids"])) for d in log["deliveries"]] == [("sent", len(sent))]


async def test_an_instant_email_alert_is_sent_over_smtp(make_settings, db, fake_reddit, smtp):
    stored_posts(fake_reddit)
    settings = fast(
        make_settings,
        **fake_reddit.app_settings(),
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_sender="BC-RAO Alerts <alerts@bcrao.test>",
        public_url="http://bcrao.test",
    )
    async with app_client(settings) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(
            client, headers, keywords=KEYWORDS, target_subreddits=["SaaS", "startups"]
        )
        cid = campaign["id"]
        url = f"/v1/campaigns/{cid}/alerts"
        alert = (
            await client.post(
                url,
                json={"channel": "email", "target": "founder@example.com", "min_success_score": 6},
                headers=headers,
            )
        ).json()
        await collect(client, headers, cid, max_posts_per_subreddit=20, comments_per_post=0)
        posts = await all_posts(client, headers, cid)
        wanted = sorted(
            (p for p in posts if p["success_score"] >= 6), key=lambda p: (-p["success_score"], p["id"])
        )
        assert 0 < len(wanted) < len(posts)

        [message] = smtp.inbox.messages  # one email for the run, right after it
        assert smtp.inbox.envelopes == [("alerts@bcrao.test", ["founder@example.com"])]
        assert (
            message["To"] == "founder@example.com" and message["From"] == "BC-RAO Alerts <alerts@bcrao.test>"
        )
        assert message["Subject"] == f"{len(wanted)} new posts for “{campaign['name']}”"
        assert message["List-Unsubscribe"].startswith("<http://bcrao.test/v1/unsubscribe?token=")
        text = message.get_body(("plain",)).get_content()
        html_part = message.get_body(("html",)).get_content()
        for post in wanted[:10]:  # the text lists the best ten, the HTML every post sent
            assert post["reddit_url"] in text and post["title"] in text
        for post in wanted:
            assert f'href="{html.escape(post["reddit_url"])}"' in html_part
            assert html.escape(post["title"]) in html_part
        assert "Themes on the rise" not in text + html_part  # an instant alert has no themes section
        assert f"http://bcrao.test/#/campaigns/{cid}" in text
        entry = (await client.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()["deliveries"]
        assert [(d["kind"], d["status"], d["attempts"]) for d in entry] == [("instant", "sent", 1)]
        assert entry[0]["response"].startswith("SMTP 250") and len(entry[0]["post_ids"]) == len(wanted)


def theme(theme_id: int, label: str, size: int, direction: str) -> dict:
    return {
        "id": theme_id,
        "label": label,
        "terms": label.lower().split(),
        "size": size,
        "share": 0.2,
        "by_archetype": {"Journey": 0, "ProblemSolution": size, "Feedback": 0, "Unclassified": 0},
        "avg_success_score": 6.0,
        "pain_score": 5.0,
        "trend": [],
        "direction": direction,
        "quotes": [],
    }


async def test_a_digest_says_which_themes_are_rising(make_settings, db, fake_reddit, smtp):
    stored_posts(fake_reddit)
    settings = fast(
        make_settings,
        **fake_reddit.app_settings(),
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        public_url="http://bcrao.test",
    )
    async with app_client(settings) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(
            client, headers, keywords=KEYWORDS, target_subreddits=["SaaS", "startups"]
        )
        cid = uuid.UUID(campaign["id"])
        url = f"/v1/campaigns/{cid}/alerts"
        alert = (
            await client.post(
                url,
                json={"channel": "email", "target": "founder@example.com", "digest": "weekly"},
                headers=headers,
            )
        ).json()
        await collect(client, headers, cid, max_posts_per_subreddit=20, comments_per_post=0)
        await compute.wait_for_local()
        assert smtp.inbox.messages == []  # a digest waits for its day
        runtime = client.app.state.runtime
        async with session_scope(runtime.sessionmaker) as s:
            row = await s.get(ThemeSet, cid)
            row.themes = [
                theme(1, "Pricing & <plans> anxiety", 7, "rising"),
                theme(2, "Onboarding drop-off", 5, "steady"),
                theme(3, "Cold outreach", 4, "fading"),
                theme(4, "Churn after trial", 3, "rising"),
            ]
        week = utcnow() + timedelta(days=7, minutes=1)
        assert await alert_service.send_due_digests(runtime.settings, runtime.sessionmaker, now=week) == 1
        await delivery.wait_for_local()

        [message] = smtp.inbox.messages
        assert message["Subject"].startswith("Your weekly digest: ")
        text = message.get_body(("plain",)).get_content()
        html_part = message.get_body(("html",)).get_content()
        section = text[text.index("Themes on the rise:") :]
        assert "- Pricing & <plans> anxiety (7 posts, rising)" in section
        assert "- Churn after trial (3 posts, rising)" in section
        assert section.index("Stop these emails") > section.index("Churn after trial")  # before the footer
        assert "<h3>Themes on the rise</h3>" in html_part
        assert "<li>Pricing &amp; &lt;plans&gt; anxiety (7 posts, rising)</li>" in html_part
        assert "<plans>" not in html_part  # escaped
        assert "<li>Churn after trial (3 posts, rising)</li>" in html_part
        for quiet in ("Onboarding drop-off", "Cold outreach"):  # steady and fading themes are not news
            assert quiet not in section and f"<li>{quiet}" not in html_part
        assert "new post" in text  # the week's posts come first
        entry = (await client.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()["deliveries"]
        assert [(d["kind"], d["status"]) for d in entry] == [("digest", "sent")]
