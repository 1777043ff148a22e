"""Alert rules through the API, delivered to real receivers on loopback."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bcrao.db import utcnow
from bcrao.monitoring import alerts as alert_service
from bcrao.monitoring import delivery
from bcrao.monitoring.loop import monitor_once
from bcrao.monitoring.models import Alert, AlertDelivery
from tests.conftest import app_client, field_names, make_campaign, signup
from tests.monitoring.conftest import webhook_alert
from tests.streaming import trigger, wait_for_run


def fast(make_settings, **overrides):
    return make_settings(alert_retry_base_seconds=0.05, scheduler_interval_seconds=3600, **overrides)


async def collect(client, headers, campaign_id: str, **body) -> dict:
    task = await trigger(client, campaign_id, headers, **body)
    run = await wait_for_run(client, task["task_id"], headers)
    await client.app.state.runtime.executor.wait_idle()  # the run's followers picked its posts
    await delivery.wait_for_local()
    return run


async def test_alert_crud_validation_and_tenancy(client, alice, bob):
    campaign = await make_campaign(client, alice["headers"])
    url = f"/v1/campaigns/{campaign['id']}/alerts"
    created = await client.post(
        url,
        json={
            "channel": "webhook",
            "target": "https://example.com/hook",
            "archetypes": ["ProblemSolution"],
            "min_success_score": 5,
        },
        headers=alice["headers"],
    )
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert["secret"] and len(alert["secret"]) >= 32
    assert {
        k: alert[k] for k in ("channel", "target", "digest", "archetypes", "min_success_score", "active")
    } == {
        "channel": "webhook",
        "target": "https://example.com/hook",
        "digest": "instant",
        "archetypes": ["ProblemSolution"],
        "min_success_score": 5.0,
        "active": True,
    }
    listed = (await client.get(url, headers=alice["headers"])).json()["alerts"]
    assert [a["id"] for a in listed] == [alert["id"]] and "secret" not in listed[0]
    patched = await client.patch(
        f"{url}/{alert['id']}", json={"digest": "weekly", "keywords": ["churn"]}, headers=alice["headers"]
    )
    assert (
        patched.status_code == 200
        and patched.json()["digest"] == "weekly"
        and patched.json()["keywords"] == ["churn"]
    )
    for bad, field in (
        ({"channel": "sms", "target": "x"}, "channel"),
        ({"channel": "webhook", "target": "ftp://x"}, "target"),
        ({"channel": "email", "target": "not-an-address"}, "target"),
        ({"channel": "email", "target": "a@b.co", "archetypes": ["Unclassified"]}, "archetypes"),
        ({"channel": "email", "target": "a@b.co", "min_success_score": 11}, "min_success_score"),
        ({"channel": "email", "target": "a@b.co", "digest": "hourly"}, "digest"),
    ):
        resp = await client.post(url, json=bad, headers=alice["headers"])
        assert resp.status_code == 422 and any(field in f for f in field_names(resp)), (bad, resp.text)
    bad_patch = await client.patch(f"{url}/{alert['id']}", json={"target": "nope"}, headers=alice["headers"])
    assert bad_patch.status_code == 422
    for method, path in (
        ("GET", ""),
        ("POST", ""),
        ("PATCH", f"/{alert['id']}"),
        ("DELETE", f"/{alert['id']}"),
        ("POST", f"/{alert['id']}/test"),
        ("GET", f"/{alert['id']}/deliveries"),
    ):
        resp = await client.request(
            method,
            url + path,
            json={"channel": "email", "target": "a@b.co"} if method != "GET" else None,
            headers=bob["headers"],
        )
        assert resp.status_code == 404, (method, path, resp.status_code)
    other = await client.get(f"{url}/{uuid.uuid4()}/deliveries", headers=alice["headers"])
    assert other.status_code == 404
    assert (await client.delete(f"{url}/{alert['id']}", headers=alice["headers"])).status_code == 204
    assert (await client.get(url, headers=alice["headers"])).json()["alerts"] == []


async def test_webhook_after_a_run_is_signed_retried_and_sent_once(make_settings, db, receiver):
    async with app_client(fast(make_settings)) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, target_subreddits=["SaaS"])
        url, alert = await webhook_alert(
            client, receiver, headers, campaign["id"], archetypes=["ProblemSolution"]
        )
        receiver.fail_next = 2
        await collect(client, headers, campaign["id"], max_posts_per_subreddit=80, comments_per_post=0)
        assert [h.status for h in receiver.hits] == [503, 503, 200]
        assert all(h.signature_ok for h in receiver.hits)
        assert len({h.delivery_id for h in receiver.hits}) == 1  # the same id on every retry
        [hit] = receiver.delivered.values()
        sent = hit.body
        assert sent["alert_id"] == alert["id"] and sent["campaign_id"] == campaign["id"]
        assert sent["text"].startswith(f"{len(sent['posts'])} new post") or "new post" in sent["text"]
        assert sent["posts"] and all(p["archetype"] == "ProblemSolution" for p in sent["posts"])
        listed = (
            await client.get(
                f"/v1/campaigns/{campaign['id']}/posts",
                params={"archetype": "ProblemSolution", "per_page": 100},
                headers=headers,
            )
        ).json()
        assert {p["id"] for p in sent["posts"]} <= {p["id"] for p in listed["posts"]}
        log = (await client.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()
        assert log["total"] == 1
        entry = log["deliveries"][0]
        assert (entry["status"], entry["attempts"], entry["kind"]) == ("sent", 3, "instant")
        assert entry["response"].startswith("HTTP 200") and entry["id"] == hit.delivery_id
        assert sorted(entry["post_ids"]) == sorted(p["id"] for p in sent["posts"])

        # Collecting again: only posts never sent qualify; an old post is never sent twice.
        await collect(client, headers, campaign["id"], max_posts_per_subreddit=80, comments_per_post=0)
        ids = [p["id"] for h in receiver.delivered.values() for p in h.body["posts"]]
        assert len(ids) == len(set(ids))


async def test_more_new_posts_than_a_message_lists_are_counted_and_linked(make_settings, db, receiver):
    """A run with more matching posts than one message lists: the best 25 are listed, and the
    message says how many there are in all, with the link to them (none is marked sent unseen)."""
    async with app_client(fast(make_settings)) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, target_subreddits=["SaaS"])
        url, alert = await webhook_alert(client, receiver, headers, campaign["id"])
        await collect(client, headers, campaign["id"], max_posts_per_subreddit=80, comments_per_post=0)
        [hit] = receiver.delivered.values()
        sent, total = hit.body, hit.body["post_total"]
        kept = (await client.get(f"/v1/campaigns/{campaign['id']}/posts", headers=headers)).json()["total"]
        assert total == kept > alert_service.POSTS_PER_DELIVERY
        assert len(sent["posts"]) == alert_service.POSTS_PER_DELIVERY
        scores = [p["success_score"] for p in sent["posts"]]
        assert scores == sorted(scores, reverse=True)  # the best ones
        lines = sent["text"].splitlines()
        assert lines[0].startswith(f"{total} new posts for")
        assert lines[-1].startswith(f"…and {total - 10} more: ") and campaign["id"] in lines[-1]
        [entry] = (await client.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()["deliveries"]
        assert entry["post_total"] == total and len(entry["post_ids"]) == alert_service.POSTS_PER_DELIVERY


async def test_a_failing_target_is_visible_in_the_log(make_settings, db, receiver):
    async with app_client(fast(make_settings, alert_max_attempts=2)) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        url, alert = await webhook_alert(client, receiver, user["headers"], campaign["id"])
        receiver.fail_next = 10
        await collect(
            client, user["headers"], campaign["id"], max_posts_per_subreddit=30, comments_per_post=0
        )
        entry = (await client.get(f"{url}/{alert['id']}/deliveries", headers=user["headers"])).json()[
            "deliveries"
        ][0]
        assert (entry["status"], entry["attempts"]) == ("failed", 2)
        assert entry["response"].startswith("HTTP 503")


async def _retrying_delivery(runtime, alert_id: str, **columns) -> AlertDelivery:
    """A test delivery left ``retrying`` (as a process that died mid-send leaves it)."""
    async with runtime.sessionmaker() as s:
        row = AlertDelivery(
            alert_id=uuid.UUID(alert_id),
            kind="test",
            status="retrying",
            attempts=0,
            post_ids=[],
            post_total=0,
            **columns,
        )
        s.add(row)
        await s.commit()
    return row


async def test_a_delivery_interrupted_mid_send_is_resent_with_the_same_key(app, client, alice, receiver):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    _, alert = await webhook_alert(client, receiver, alice["headers"], campaign["id"])
    runtime = app.state.runtime
    delivery_id = (await _retrying_delivery(runtime, alert["id"])).id
    receiver.stall_seconds = 1.0
    worker = asyncio.create_task(delivery.deliver(runtime.settings, runtime.sessionmaker, delivery_id))
    while not receiver.hits:  # noqa: ASYNC110 (the receiver runs in another thread)
        await asyncio.sleep(0.02)
    worker.cancel()  # the worker dies after the receiver got the request, before it recorded it
    with pytest.raises(asyncio.CancelledError):
        await worker
    receiver.stall_seconds = 0
    assert await delivery.deliver(runtime.settings, runtime.sessionmaker, delivery_id) == "sent"
    assert [h.delivery_id for h in receiver.hits] == [str(delivery_id)] * 2
    assert list(receiver.delivered) == [str(delivery_id)]  # one delivery for a receiver that dedupes
    assert await delivery.deliver(runtime.settings, runtime.sessionmaker, delivery_id) == "sent"
    assert len(receiver.hits) == 2  # sent is final: a redelivered task sends nothing


async def test_email_digest_with_html_text_and_a_working_unsubscribe_link(make_settings, db, smtp):
    settings = fast(make_settings, smtp_host="127.0.0.1", smtp_port=smtp.port, public_url="http://bcrao.test")
    async with app_client(settings) as client:
        user = await signup(client)
        headers = user["headers"]
        campaign = await make_campaign(client, headers, target_subreddits=["SaaS", "startups"])
        url = f"/v1/campaigns/{campaign['id']}/alerts"
        alert = (
            await client.post(
                url,
                json={
                    "channel": "email",
                    "target": "founder@example.com",
                    "digest": "daily",
                    "min_success_score": 3,
                },
                headers=headers,
            )
        ).json()
        assert alert["secret"] is None
        runtime = client.app.state.runtime
        # Not due yet: nothing is sent.
        assert await alert_service.send_due_digests(runtime.settings, runtime.sessionmaker) == 0
        await collect(client, headers, campaign["id"], max_posts_per_subreddit=60, comments_per_post=0)
        assert smtp.inbox.messages == []  # a digest alert does not send after each run
        tomorrow = utcnow() + timedelta(days=1, minutes=1)
        assert await alert_service.send_due_digests(runtime.settings, runtime.sessionmaker, now=tomorrow) == 1
        await delivery.wait_for_local()
        log = (await client.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()
        assert len(smtp.inbox.messages) == 1, log["deliveries"][0]["response"]
        [message] = smtp.inbox.messages
        assert message["To"] == "founder@example.com" and "digest" in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        html_part = message.get_body(("html",)).get_content()
        assert "new post" in text and "<ul>" in html_part
        link = next(w for w in text.split() if w.startswith("http://bcrao.test/v1/unsubscribe?token="))
        assert link in html_part.replace("&amp;", "&")
        entry = (await client.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()["deliveries"][0]
        assert (
            entry["status"] == "sent"
            and entry["kind"] == "digest"
            and entry["response"].startswith("SMTP 250")
        )
        # Nothing new the next day: no email.
        assert (
            await alert_service.send_due_digests(
                runtime.settings, runtime.sessionmaker, now=tomorrow + timedelta(days=1, minutes=1)
            )
            == 0
        )
        # The link works without logging in, and the alert stops.
        page = await client.get(link.removeprefix("http://bcrao.test"))
        assert page.status_code == 200 and "unsubscribed" in page.text
        listed = (await client.get(url, headers=headers)).json()["alerts"]
        assert listed[0]["active"] is False
        bad = await client.get("/v1/unsubscribe", params={"token": "x" * 40})
        assert bad.status_code == 200 and "not valid" in bad.text


async def test_send_a_test(make_settings, db, receiver):
    async with app_client(fast(make_settings)) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        await collect(
            client, user["headers"], campaign["id"], max_posts_per_subreddit=20, comments_per_post=0
        )
        url, alert = await webhook_alert(client, receiver, user["headers"], campaign["id"])
        resp = await client.post(f"{url}/{alert['id']}/test", headers=user["headers"])
        assert resp.status_code == 202
        await delivery.wait_for_local()
        [hit] = receiver.delivered.values()
        assert hit.delivery_id == resp.json()["delivery_id"] and hit.body["text"].startswith("Test alert")
        assert len(hit.body["posts"]) == 3
        entry = (await client.get(f"{url}/{alert['id']}/deliveries", headers=user["headers"])).json()[
            "deliveries"
        ][0]
        assert entry["kind"] == "test" and entry["status"] == "sent"


async def test_an_email_alert_without_smtp_settings_fails_saying_why(app, client, alice):
    campaign = await make_campaign(client, alice["headers"])
    url = f"/v1/campaigns/{campaign['id']}/alerts"
    alert = (
        await client.post(url, json={"channel": "email", "target": "a@example.com"}, headers=alice["headers"])
    ).json()
    await client.post(f"{url}/{alert['id']}/test", headers=alice["headers"])
    await delivery.wait_for_local()
    entry = (await client.get(f"{url}/{alert['id']}/deliveries", headers=alice["headers"])).json()[
        "deliveries"
    ][0]
    assert entry["status"] == "failed" and "BCRAO_SMTP_HOST" in entry["response"] and entry["attempts"] == 1
    async with app.state.runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Alert)) == 1


_ = httpx


async def test_a_delivery_left_retrying_by_a_crashed_process_is_resent_by_the_monitoring_pass(
    make_settings, db, receiver
):
    settings = fast(make_settings)
    async with app_client(settings) as first:
        user = await signup(first)
        headers = user["headers"]
        campaign = await make_campaign(first, headers, target_subreddits=["SaaS"])
        url, alert = await webhook_alert(first, receiver, headers, campaign["id"])
        receiver.stall_seconds = 1.0  # the answer is held: the process dies before it hears it
        task = await trigger(first, campaign["id"], headers, max_posts_per_subreddit=30, comments_per_post=0)
        await wait_for_run(first, task["task_id"], headers)
        await first.app.state.runtime.executor.wait_idle()  # the run's delivery is being sent
        while not receiver.hits:  # noqa: ASYNC110 (the receiver runs in another thread)
            await asyncio.sleep(0.02)
        await delivery.LOCAL.stop(grace_seconds=0)  # the process stops mid-delivery
        [entry] = (await first.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()["deliveries"]
        assert (entry["status"], entry["attempts"]) == ("retrying", 0)
    receiver.stall_seconds = 0

    async with app_client(settings) as second:  # the process again, or another one
        runtime = second.app.state.runtime
        quiet = delivery.quiet_limit(runtime.settings)
        assert quiet == settings.alert_resend_after_seconds
        # Quiet, but not for long enough: a live sender may still be at it.
        await monitor_once(runtime, now=utcnow() + timedelta(seconds=quiet - 30))
        await delivery.wait_for_local()
        assert len(receiver.hits) == 1
        await monitor_once(runtime, now=utcnow() + timedelta(seconds=quiet + 1))
        await delivery.wait_for_local()
        assert [h.delivery_id for h in receiver.hits] == [entry["id"]] * 2  # the same key
        assert all(h.signature_ok for h in receiver.hits)
        [kept] = receiver.delivered.values()  # a receiver that drops duplicates keeps it once
        assert sorted(p["id"] for p in kept.body["posts"]) == sorted(entry["post_ids"])
        assert len(entry["post_ids"]) == len(set(entry["post_ids"])) > 0
        [resent] = (await second.get(f"{url}/{alert['id']}/deliveries", headers=headers)).json()["deliveries"]
        assert (resent["id"], resent["status"], resent["attempts"]) == (entry["id"], "sent", 1)
        # Sent is final: later passes leave it alone.
        await monitor_once(runtime, now=utcnow() + timedelta(hours=2))
        await delivery.wait_for_local()
        assert len(receiver.hits) == 2


async def test_two_processes_resend_a_stalled_delivery_once(app, client, alice, receiver, make_settings):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    _, alert = await webhook_alert(client, receiver, alice["headers"], campaign["id"])
    runtime = app.state.runtime
    quiet_since = utcnow() - timedelta(seconds=delivery.quiet_limit(runtime.settings) + 1)
    row = await _retrying_delivery(runtime, alert["id"], created_at=quiet_since, heartbeat_at=quiet_since)
    async with app_client(make_settings()) as other:
        claimed = await asyncio.gather(
            delivery.resend_stalled(runtime.settings, runtime.sessionmaker),
            delivery.resend_stalled(runtime.settings, other.app.state.runtime.sessionmaker),
        )
        await delivery.wait_for_local()
    assert sorted(len(c) for c in claimed) == [0, 1]
    assert [h.delivery_id for h in receiver.hits] == [str(row.id)]
