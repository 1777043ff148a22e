"""The themes task goes to the Celery ``analysis`` queue, and a worker of that queue alone
computes a campaign's themes."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest
import redis

from bcrao.tasks import celery_app as celery_module
from bcrao.tasks.celery_app import QUEUES, TASK_MODULES, make_celery, route_by_prefix, send_tasks
from bcrao.themes.compute import ANALYSIS_TASK
from tests.conftest import app_client, make_campaign, signup
from tests.tasks.workers import running_worker
from tests.themes.handmade import store_docs, topic_docs


@pytest.fixture
def celery_settings(make_settings, redis_server, db):
    def factory(**overrides):
        return make_settings(redis_url=redis_server, **overrides)

    return factory


def test_the_themes_task_is_routed_to_the_analysis_queue(settings):
    assert ANALYSIS_TASK == "bcrao.tasks.analysis.compute_themes"
    assert route_by_prefix(ANALYSIS_TASK, [], {}, {}) == {"queue": "analysis"}
    assert "analysis" in QUEUES and "bcrao.tasks.analysis" in TASK_MODULES
    app = make_celery(settings)
    try:
        route = app.amqp.router.route({}, ANALYSIS_TASK, (str(uuid.uuid4()),), {})
        assert route["queue"].name == "analysis"
        celery_module.celery_app.loader.import_default_modules()  # what a worker imports (TASK_MODULES)
        assert ANALYSIS_TASK in celery_module.celery_app.tasks
        assert celery_module.celery_app.tasks[ANALYSIS_TASK].__module__ == "bcrao.tasks.analysis"
    finally:
        app.close()


def test_a_refresh_in_celery_mode_puts_one_message_on_the_analysis_queue(celery_settings):
    settings = celery_settings()
    broker = redis.Redis.from_url(settings.redis_url)
    before = {q: broker.llen(q) for q in QUEUES}
    campaign_id = uuid.uuid4()
    send_tasks(settings, ANALYSIS_TASK, [campaign_id])  # what request_themes does in celery mode
    after = {q: broker.llen(q) for q in QUEUES}
    assert {q: after[q] - before[q] for q in QUEUES} == {
        "scraping": 0,
        "analysis": 1,
        "generation": 0,
        "monitoring": 0,
    }
    message = json.loads(broker.lpop("analysis"))  # newest first; taken so no worker runs it
    assert message["headers"]["task"] == ANALYSIS_TASK
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == [str(campaign_id)]
    broker.close()


async def test_a_worker_of_the_analysis_queue_alone_computes_the_themes(celery_settings):
    settings = celery_settings()
    async with app_client(settings) as client:
        assert client.app.state.runtime.executor.name == "celery"
        user = await signup(client)
        campaign = await make_campaign(client, user["headers"])
        docs = [*topic_docs("billing", 10, comments=1), *topic_docs("garden", 10, comments=1)]
        await store_docs(
            client.app.state.runtime.sessionmaker,
            campaign_id=campaign["id"],
            user_id=user["user"]["id"],
            docs=docs,
        )
        url = f"/v1/campaigns/{campaign['id']}/themes"
        # Queued before any worker runs: nothing in the API process computes it.
        assert (await client.get(url, headers=user["headers"])).json()["status"] == "computing"
        await asyncio.sleep(1)
        assert (await client.get(url, headers=user["headers"])).json()["status"] == "computing"
        with running_worker(settings, name="analyst", queues="analysis") as worker:
            for _ in range(300):
                body = (await client.get(url, headers=user["headers"])).json()
                if body["status"] == "ready":
                    break
                await asyncio.sleep(0.1)
            assert body["status"] == "ready", "".join(worker.lines[-40:])
            assert body["total_posts"] == 20 and len(body["themes"]) == 2
            assert all(3 <= len(t["quotes"]) <= 5 for t in body["themes"])
            # The worker logs "succeeded" after the task's commit, which the API may see first.
            for _ in range(100):
                if any(ANALYSIS_TASK in line and "succeeded" in line for line in worker.lines):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("".join(worker.lines[-20:]))
