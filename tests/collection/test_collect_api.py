"""Triggering, reading, listing and cancelling runs through the API (local executor)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bcrao.collection.models import CollectionRun, RunLedger
from tests.conftest import app_client, field_names, make_campaign, signup
from tests.streaming import TERMINAL, trigger, wait_for_run


async def test_trigger_returns_202_with_task_id_progress_url_and_stream_token(client, alice):
    campaign = await make_campaign(client, alice["headers"])
    body = await trigger(client, campaign["id"], alice["headers"])
    assert set(body) == {"task_id", "status", "progress_url", "stream_token", "stream_token_expires_in"}
    assert body["status"] == "queued"
    assert body["progress_url"] == f"/v1/collection/{body['task_id']}/progress"
    assert body["stream_token_expires_in"] > 0
    run = await wait_for_run(client, body["task_id"], alice["headers"])
    assert run["status"] == "complete"
    assert run["stored"] + run["duplicates"] == run["filtered"]
    assert sum(run["filter_reasons"].values()) == run["scraped"] - run["filtered"]
    assert run["campaign_id"] == campaign["id"] and run["source"] == "sample" and run["classifier"] == "model"


async def test_run_object_has_the_contract_fields(client, alice):
    campaign = await make_campaign(client, alice["headers"])
    task = await trigger(client, campaign["id"], alice["headers"], mode="fresh", max_posts_per_subreddit=30)
    run = await wait_for_run(client, task["task_id"], alice["headers"])
    assert {
        "task_id",
        "campaign_id",
        "status",
        "source",
        "classifier",
        "scraped",
        "filtered",
        "classified",
        "stored",
        "duplicates",
        "filter_reasons",
        "errors",
        "created_at",
        "started_at",
        "finished_at",
    } <= set(run)
    assert run["mode"] == "fresh" and run["max_posts_per_subreddit"] == 30
    assert run["scraped"] <= 30 * len(campaign["target_subreddits"])
    assert run["started_at"] and run["finished_at"] >= run["started_at"]


async def test_collect_body_is_validated(client, alice):
    campaign = await make_campaign(client, alice["headers"])
    url = f"/v1/campaigns/{campaign['id']}/collect"
    assert "mode" in field_names(await client.post(url, json={"mode": "all"}, headers=alice["headers"]))
    for bad in (0, 1001):
        resp = await client.post(url, json={"max_posts_per_subreddit": bad}, headers=alice["headers"])
        assert "max_posts_per_subreddit" in field_names(resp)


async def test_concurrent_triggers_for_one_campaign_give_exactly_one_202(make_settings, db):
    async with app_client(make_settings(sample_latency_seconds=0.3)) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"])
        url = f"/v1/campaigns/{campaign['id']}/collect"
        responses = await asyncio.gather(*(client.post(url, headers=user["headers"]) for _ in range(6)))
        codes = sorted(r.status_code for r in responses)
        assert codes == [202, 409, 409, 409, 409, 409]
        winner = next(r for r in responses if r.status_code == 202).json()["task_id"]
        for r in responses:
            if r.status_code == 409:
                assert r.json()["error"]["code"] == "COLLECTION_IN_PROGRESS"
                assert r.json()["error"]["details"]["task_id"] == winner
        await wait_for_run(client, winner, user["headers"])
        # Once it has finished, the campaign can be collected again.
        again = await client.post(url, headers=user["headers"])
        assert again.status_code == 202


async def test_archived_campaigns_cannot_be_collected_but_paused_ones_can(client, alice):
    archived = await make_campaign(client, alice["headers"], status="archived")
    resp = await client.post(f"/v1/campaigns/{archived['id']}/collect", headers=alice["headers"])
    assert "status" in field_names(resp)
    paused = await make_campaign(client, alice["headers"], status="paused")
    task = await trigger(client, paused["id"], alice["headers"])
    await wait_for_run(client, task["task_id"], alice["headers"])


async def test_the_weekly_plan_allowance_is_enforced_with_a_reset_time(make_settings, db):
    async with app_client(make_settings(plan_trial_runs_per_week=2)) as client:
        user = await signup(client)
        first = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        second = await make_campaign(client, user["headers"], target_subreddits=["webdev"])
        t1 = await trigger(client, first["id"], user["headers"])
        t2 = await trigger(client, second["id"], user["headers"])
        for t in (t1, t2):
            await wait_for_run(client, t["task_id"], user["headers"])
        # Deleting a campaign does not give its runs back.
        assert (
            await client.delete(f"/v1/campaigns/{first['id']}", headers=user["headers"])
        ).status_code == 204
        resp = await client.post(f"/v1/campaigns/{second['id']}/collect", headers=user["headers"])
        assert resp.status_code == 429
        err = resp.json()["error"]
        assert err["code"] == "PLAN_LIMIT_REACHED" and err["details"]["limit"] == 2
        resets_at = datetime.fromisoformat(err["details"]["resets_at"].replace("Z", "+00:00"))
        assert timedelta(days=6, hours=23) < resets_at - datetime.now(UTC) <= timedelta(days=7)


async def test_runs_older_than_a_week_do_not_count_and_zero_means_unlimited(make_settings, db):
    async with app_client(make_settings(plan_trial_runs_per_week=1)) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        t = await trigger(client, campaign["id"], user["headers"])
        await wait_for_run(client, t["task_id"], user["headers"])
        async with client.app.state.runtime.sessionmaker() as s:
            await s.execute(update(RunLedger).values(created_at=datetime.now(UTC) - timedelta(days=8)))
            await s.commit()
        t = await trigger(client, campaign["id"], user["headers"])
        await wait_for_run(client, t["task_id"], user["headers"])
    async with app_client(make_settings(plan_trial_runs_per_week=0)) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        for _ in range(3):
            t = await trigger(client, campaign["id"], user["headers"])
            await wait_for_run(client, t["task_id"], user["headers"])


async def test_runs_are_listed_newest_first_with_paging(client, alice):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    ids = []
    for _ in range(3):
        t = await trigger(client, campaign["id"], alice["headers"])
        await wait_for_run(client, t["task_id"], alice["headers"])
        ids.append(t["task_id"])
    page = (
        await client.get(f"/v1/campaigns/{campaign['id']}/runs?per_page=2", headers=alice["headers"])
    ).json()
    assert page["total"] == 3 and [r["task_id"] for r in page["runs"]] == [ids[2], ids[1]]
    last = (
        await client.get(f"/v1/campaigns/{campaign['id']}/runs?per_page=2&page=2", headers=alice["headers"])
    ).json()
    assert [r["task_id"] for r in last["runs"]] == [ids[0]]
    detail = (await client.get(f"/v1/campaigns/{campaign['id']}", headers=alice["headers"])).json()
    assert detail["stats"]["runs"] == 3 and detail["stats"]["last_run"]["task_id"] == ids[2]
    assert detail["stats"]["posts_collected"] > 0


async def test_cancel_mid_run_ends_cancelled_and_keeps_what_was_stored(make_settings, db):
    async with app_client(make_settings(sample_latency_seconds=0.4)) as client:
        user = await signup(client)
        campaign = await make_campaign(
            client, user["headers"], target_subreddits=["SaaS", "startups", "marketing", "sales", "webdev"]
        )
        task = await trigger(client, campaign["id"], user["headers"])
        tid = task["task_id"]
        # Wait until something is stored, then cancel.
        for _ in range(200):
            run = (await client.get(f"/v1/collection/{tid}", headers=user["headers"])).json()
            if run["stored"] > 0:
                break
            await asyncio.sleep(0.05)
        resp = await client.post(f"/v1/collection/{tid}/cancel", headers=user["headers"])
        assert resp.status_code == 202 and resp.json()["task_id"] == tid
        run = await wait_for_run(client, tid, user["headers"])
        assert run["status"] == "cancelled"
        assert run["stored"] > 0 and run["scraped"] < 5 * 100
        assert run["stored"] + run["duplicates"] == run["filtered"]
        posts = (await client.get(f"/v1/campaigns/{campaign['id']}", headers=user["headers"])).json()
        assert posts["stats"]["posts_collected"] == run["stored"]
        again = await client.post(f"/v1/collection/{tid}/cancel", headers=user["headers"])
        assert again.status_code == 409 and again.json()["error"]["code"] == "CONFLICT"


async def test_another_users_run_is_not_found_everywhere(client, alice, bob):
    campaign = await make_campaign(client, alice["headers"], target_subreddits=["SaaS"])
    task = await trigger(client, campaign["id"], alice["headers"])
    tid = task["task_id"]
    await wait_for_run(client, tid, alice["headers"])
    for method, path in [
        ("GET", f"/v1/collection/{tid}"),
        ("POST", f"/v1/collection/{tid}/cancel"),
        ("POST", f"/v1/collection/{tid}/stream-token"),
        ("GET", f"/v1/collection/{tid}/rejected"),
        ("GET", f"/v1/collection/{tid}/progress"),
        ("POST", f"/v1/campaigns/{campaign['id']}/collect"),
        ("GET", f"/v1/campaigns/{campaign['id']}/runs"),
    ]:
        resp = await client.request(method, path, headers=bob["headers"])
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert (await client.get(f"/v1/collection/{uuid.uuid4()}", headers=alice["headers"])).status_code == 404


async def test_a_stale_running_run_is_reaped_and_no_longer_blocks_triggers(make_settings, db):
    from bcrao.tasks.reaper import reap_stale_runs

    async with app_client(make_settings(run_stale_after_seconds=5)) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        runtime = client.app.state.runtime
        async with runtime.sessionmaker() as s:
            ghost = CollectionRun(
                campaign_id=uuid.UUID(campaign["id"]),
                user_id=uuid.UUID(user["user"]["id"]),
                status="running",
                source="sample",
                classifier="rules",
                heartbeat_at=datetime.now(UTC) - timedelta(minutes=5),
            )
            s.add(ghost)
            await s.commit()
        blocked = await client.post(f"/v1/campaigns/{campaign['id']}/collect", headers=user["headers"])
        assert blocked.status_code == 409 and blocked.json()["error"]["details"]["task_id"] == str(ghost.id)
        assert await reap_stale_runs(runtime) == 1
        run = (await client.get(f"/v1/collection/{ghost.id}", headers=user["headers"])).json()
        assert run["status"] == "failed" and run["errors"][-1]["code"] == "executor_lost"
        task = await trigger(client, campaign["id"], user["headers"])
        assert (await wait_for_run(client, task["task_id"], user["headers"]))["status"] in TERMINAL


async def test_runs_left_active_by_a_previous_local_process_are_failed_at_start(make_settings, db):
    settings = make_settings()
    async with app_client(settings) as client:
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"], target_subreddits=["SaaS"])
        async with client.app.state.runtime.sessionmaker() as s:
            orphan = CollectionRun(
                campaign_id=uuid.UUID(campaign["id"]),
                user_id=uuid.UUID(user["user"]["id"]),
                status="running",
                source="sample",
                classifier="rules",
                heartbeat_at=datetime.now(UTC),
            )
            s.add(orphan)
            await s.commit()
    async with app_client(settings) as client:  # the "restarted" process
        run = (await client.get(f"/v1/collection/{orphan.id}", headers=user["headers"])).json()
        assert run["status"] == "failed"
