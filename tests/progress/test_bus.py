"""Both progress buses honour the same contract; the Redis one also across processes."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bcrao.progress.bus import MemoryBus, RedisBus
from bcrao.progress.sse import frame
from bcrao.runtime import make_redis
from tests.fakes.fixtures import _free_port, private_redis


@pytest.fixture(params=["memory", "redis"])
async def bus(request):
    if request.param == "memory":
        b = MemoryBus()
        yield b
        await b.aclose()
        return
    redis = make_redis(request.getfixturevalue("redis_server"))
    b = RedisBus(redis)
    yield b
    await b.aclose()
    await redis.aclose()


async def collect(it, n=None):
    """Flatten a subscription's batches into its events."""
    out = []
    async for batch in it:
        assert batch, "batches are never empty"
        out.extend(batch)
        if n is not None and len(out) >= n:
            break
    return out


async def test_ids_are_dense_and_increasing_and_history_then_live_is_seamless(bus):
    run = str(uuid.uuid4())
    assert [await bus.publish(run, "progress", {"n": i}) for i in range(3)] == [1, 2, 3]
    reader = asyncio.create_task(collect(bus.subscribe(run, after=1)))
    await asyncio.sleep(0.05)
    await bus.publish(run, "progress", {"n": 3})
    await bus.publish(run, "complete", {"n": 4})
    events = await asyncio.wait_for(reader, 5)
    assert [(e.id, e.event) for e in events] == [
        (2, "progress"),
        (3, "progress"),
        (4, "progress"),
        (5, "complete"),
    ]
    assert events[0].data == {"n": 1}
    assert [e.id for e in await bus.history(run, after=3)] == [4, 5]


async def test_a_subscriber_of_a_finished_run_gets_the_rest_and_stops(bus):
    run = str(uuid.uuid4())
    for i in range(4):
        await bus.publish(run, "progress", {"n": i})
    await bus.publish(run, "failed", {"status": "failed"})
    events = await asyncio.wait_for(collect(bus.subscribe(run, after=3)), 5)
    assert [e.id for e in events] == [4, 5] and events[-1].terminal


async def test_many_subscribers_each_receive_every_event_once(bus):
    run = str(uuid.uuid4())
    readers = [asyncio.create_task(collect(bus.subscribe(run, after=0))) for _ in range(50)]
    await asyncio.sleep(0.05)
    for i in range(20):
        await bus.publish(run, "progress", {"n": i})
    await bus.publish(run, "complete", {})
    results = await asyncio.wait_for(asyncio.gather(*readers), 10)
    assert all([e.id for e in r] == list(range(1, 22)) for r in results)


async def test_concurrent_publishers_never_reuse_an_id(bus):
    run = str(uuid.uuid4())
    ids = await asyncio.gather(*(bus.publish(run, "progress", {"n": i}) for i in range(100)))
    assert sorted(ids) == list(range(1, 101))


async def test_stream_reads_do_not_grow_with_the_number_of_watchers(redis_server):
    """Live events come over the one subscription; the stream is read to seed a run."""
    redis = make_redis(redis_server)
    bus, publisher = RedisBus(redis), RedisBus(redis)
    reads = {}
    for watchers in (1, 100):
        run = str(uuid.uuid4())
        before = bus.stream_reads
        tasks = [asyncio.create_task(collect(bus.subscribe(run, after=0))) for _ in range(watchers)]
        await asyncio.sleep(0.1)
        for i in range(30):
            await publisher.publish(run, "progress", {"n": i})
            await asyncio.sleep(0.005)
        await publisher.publish(run, "complete", {})
        results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert all([e.id for e in r] == list(range(1, 32)) for r in results)
        reads[watchers] = bus.stream_reads - before
    assert reads[100] <= reads[1] + 2, reads
    await bus.aclose()
    await redis.aclose()


async def test_ids_stay_monotonic_when_redis_loses_its_data_mid_run(redis_server):
    redis = make_redis(redis_server)
    bus = RedisBus(redis)
    run = str(uuid.uuid4())
    for _ in range(5):
        await bus.publish(run, "progress", {})
    await redis.delete(f"bcrao:progress:{run}")  # as after a restart without AOF
    assert await bus.publish(run, "progress", {}) == 6
    # Another publisher (a worker that took the run over) continues from the stream itself.
    assert await RedisBus(redis).publish(run, "progress", {}) == 7
    await redis.aclose()


async def test_a_redis_restart_mid_run_loses_nothing_and_repeats_nothing(tmp_path: Path):
    """The server is restarted without persistence while a client watches: the stream is
    gone, the subscription reconnects, the publisher's floor keeps ids going; the client
    gets every event published while Redis was up, once, in order, and the terminal one."""
    port = _free_port()
    run = str(uuid.uuid4())
    with private_redis(tmp_path, port=port) as url:
        api_redis, worker_redis = make_redis(url), make_redis(url)
        api, worker = RedisBus(api_redis, sweep_seconds=0.5), RedisBus(worker_redis)
        reader = asyncio.create_task(collect(api.subscribe(run, after=0)))
        await asyncio.sleep(0.1)
        for i in range(5):
            await worker.publish(run, "progress", {"n": i})
        await asyncio.sleep(0.2)
    with private_redis(tmp_path, port=port):
        await asyncio.sleep(0.5)
        for i in range(5, 8):  # the worker's client reconnects by itself
            assert await worker.publish(run, "progress", {"n": i}) == i + 1
        await worker.publish(run, "complete", {})
        events = await asyncio.wait_for(reader, 15)
        assert [e.id for e in events] == list(range(1, 10))
        assert [e.data.get("n") for e in events[:-1]] == list(range(8)) and events[-1].terminal
        assert api.reconnects >= 1
        await api.aclose()
        await api_redis.aclose()
        await worker_redis.aclose()


async def test_a_client_resumes_with_last_event_id_across_a_reconnect_of_the_subscription(redis_server):
    redis = make_redis(redis_server)
    api, worker = RedisBus(redis, sweep_seconds=0.5), RedisBus(make_redis(redis_server))
    run = str(uuid.uuid4())
    first = asyncio.create_task(collect(api.subscribe(run, after=0), n=3))
    await asyncio.sleep(0.1)
    for i in range(3):
        await worker.publish(run, "progress", {"n": i})
    seen = await asyncio.wait_for(first, 5)  # the client leaves after id 3 ...
    assert [e.id for e in seen] == [1, 2, 3]
    # ... the API's subscription is cut (as by a network blip) while events keep coming ...
    await redis.client_kill_filter(_type="pubsub")
    for i in range(3, 6):
        await worker.publish(run, "progress", {"n": i})
    # ... and the client comes back with Last-Event-ID 3.
    rest = asyncio.create_task(collect(api.subscribe(run, after=seen[-1].id)))
    await asyncio.sleep(0.3)
    await worker.publish(run, "complete", {})
    events = await asyncio.wait_for(rest, 10)
    assert [e.id for e in events] == [4, 5, 6, 7]
    await api.aclose()
    await worker.redis.aclose()
    await redis.aclose()


async def test_a_client_behind_the_memory_tail_reads_the_rest_from_the_stream(redis_server):
    redis = make_redis(redis_server)
    bus = RedisBus(redis, tail=10)
    run = str(uuid.uuid4())
    watcher = asyncio.create_task(collect(bus.subscribe(run, after=0)))  # keeps the run watched
    await asyncio.sleep(0.1)
    for i in range(2500):
        await bus.publish(run, "progress", {"n": i})
    await asyncio.sleep(0.2)
    assert len(bus._watchers[run].log.events) == 10  # only the tail is held in memory
    late = asyncio.create_task(collect(bus.subscribe(run, after=7)))
    await asyncio.sleep(0.2)
    await bus.publish(run, "complete", {})
    assert [e.id for e in await asyncio.wait_for(late, 10)] == list(range(8, 2502))
    assert [e.id for e in await asyncio.wait_for(watcher, 10)] == list(range(1, 2502))
    await bus.aclose()
    await redis.aclose()


async def test_a_publisher_that_does_not_announce_is_still_followed(redis_server):
    """An older worker during a rolling deploy appends to the stream without the channel:
    the quiet-run sweep picks its events up."""
    redis = make_redis(redis_server)
    bus = RedisBus(redis, sweep_seconds=0.3)
    run = str(uuid.uuid4())
    reader = asyncio.create_task(collect(bus.subscribe(run, after=0)))
    await asyncio.sleep(0.1)
    for seq, event in enumerate(["progress", "progress", "complete"], start=1):
        await redis.xadd(f"bcrao:progress:{run}", {"e": event, "d": json.dumps({"n": seq})}, id=f"0-{seq}")
    events = await asyncio.wait_for(reader, 5)
    assert [e.id for e in events] == [1, 2, 3] and events[-1].terminal
    await bus.aclose()
    await redis.aclose()


async def test_many_watched_runs_share_a_bounded_number_of_connections(tmp_path: Path):
    """300 runs watched at once by one process: every event arrives, and the process holds
    no more Redis connections than its pool allows (one of them the subscription)."""
    with private_redis(tmp_path) as url:
        api_redis = make_redis(url, max_connections=4)
        worker = RedisBus(Redis.from_url(url, decode_responses=True, client_name="worker"))
        admin = Redis.from_url(url, decode_responses=True, client_name="admin")
        api = RedisBus(api_redis)
        runs = [str(uuid.uuid4()) for _ in range(300)]
        readers = [asyncio.create_task(collect(api.subscribe(run, after=0))) for run in runs]
        await asyncio.sleep(0.5)
        for run in runs:
            await worker.publish(run, "progress", {})
        api_connections = [c for c in await admin.client_list() if c["name"] not in ("worker", "admin")]
        for run in runs:
            await worker.publish(run, "complete", {})
        results = await asyncio.wait_for(asyncio.gather(*readers), 20)
        assert all([e.id for e in r] == [1, 2] for r in results)
        assert 1 <= len(api_connections) <= 4
        assert sum(int(c["psub"]) for c in api_connections) == 1  # one subscription for all runs
        await api.aclose()
        for client in (api_redis, worker.redis, admin):
            await client.aclose()


async def test_history_expires_after_the_run_ends_and_is_bounded_while_live(redis_server):
    redis = make_redis(redis_server)
    bus = RedisBus(redis, ttl_seconds=60, maxlen=100)
    run = str(uuid.uuid4())
    for _ in range(1000):
        await bus.publish(run, "progress", {})
    key = f"bcrao:progress:{run}"
    assert await redis.xlen(key) < 300  # approximate trimming (MAXLEN ~)
    assert await redis.ttl(key) > 60  # a live run does not expire soon
    await bus.publish(run, "complete", {})
    assert 0 < await redis.ttl(key) <= 60
    await redis.aclose()


async def test_a_late_subscriber_gets_the_backlog_in_one_batch_and_frames_are_encoded_once():
    bus = MemoryBus()
    run = str(uuid.uuid4())
    for i in range(5):
        await bus.publish(run, "progress", {"n": i, "text": "line\nbreak"})
    await bus.publish(run, "complete", {})
    batches = [b async for b in bus.subscribe(run, after=0)]
    assert [[e.id for e in b] for b in batches] == [[1, 2, 3, 4, 5, 6]]
    first = batches[0][0]
    assert frame(first) is frame(first)  # cached
    assert frame(first) == b'id: 1\r\nevent: progress\r\ndata: {"n":0,"text":"line\\nbreak"}\r\n\r\n'


async def test_an_unreadable_message_on_a_run_channel_is_read_from_the_stream_instead(redis_server):
    redis = make_redis(redis_server)
    bus = RedisBus(redis)
    run = str(uuid.uuid4())
    reader = asyncio.create_task(collect(bus.subscribe(run, after=0)))
    await asyncio.sleep(0.1)
    await redis.publish(f"bcrao:progress-live:{run}", "not an event")  # a stranger's message
    await bus.publish(run, "progress", {"n": 1})
    await bus.publish(run, "complete", {})
    assert [e.id for e in await asyncio.wait_for(reader, 5)] == [1, 2]
    await bus.aclose()
    await redis.aclose()
