"""Each Celery queue is bound on its own: a task reaches the queue its name says, only it."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bcrao.tasks.celery_app import QUEUES, make_celery
from tests.fakes.fixtures import REDIS_SERVER, private_redis


def test_every_queue_has_its_own_exchange_and_routing_key(make_settings):
    app = make_celery(make_settings(redis_url="redis://127.0.0.1:1/0"))
    bindings = {name: (q.exchange.name, q.routing_key) for name, q in app.amqp.queues.items()}
    assert bindings == {q: (q, q) for q in QUEUES}


@pytest.mark.redis
def test_a_task_is_delivered_to_its_own_queue_only(tmp_path: Path, make_settings):
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    with private_redis(tmp_path) as url:  # no worker of another test consumes here
        app = make_celery(make_settings(redis_url=url))
        client = redis.Redis.from_url(url)
        with app.connection_for_write() as conn:
            for queue in app.amqp.queues.values():  # what a worker declares at start
                queue(conn.default_channel).declare()
        for queue_name in ("analysis", "monitoring", "scraping"):
            app.send_task(f"bcrao.tasks.{queue_name}.some_task", args=["x"])
        app.send_task("elsewhere.task", args=["x"])  # unknown prefix: the default queue
        queued = {q: client.llen(q) for q in QUEUES}
        assert queued == {"scraping": 2, "analysis": 1, "generation": 0, "monitoring": 1}
        client.close()
