"""Both progress buses honour the same contract; the Redis one also across processes."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from bcrao.progress.bus import MemoryBus, RedisBus
from bcrao.runtime import make_redis


@pytest.fixture(params=["memory", "redis"])
async def bus(request):
    if request.param == "memory":
        b = MemoryBus()
        yield b
        await b.aclose()
        return
    url = request.getfixturevalue("redis_server")
    redis, reader = make_redis(url), make_redis(url, blocking=True)
    b = RedisBus(redis, reader=reader, block_ms=2000)
    yield b
    await b.aclose()
    await reader.aclose()
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


async def test_one_reader_per_run_per_process_whatever_the_number_of_watchers(redis_server):
    """Redis reads per event do not grow with the number of local watchers."""
    redis, reader = make_redis(redis_server), make_redis(redis_server, blocking=True)
    counting = _CountingRedis(reader)
    bus = RedisBus(redis, reader=counting, block_ms=2000)  # type: ignore[arg-type]
    publisher = RedisBus(redis)
    reads = {}
    for watchers in (1, 100):
        run = str(uuid.uuid4())
        counting.calls = 0
        tasks = [asyncio.create_task(collect(bus.subscribe(run, after=0))) for _ in range(watchers)]
        await asyncio.sleep(0.1)
        for i in range(30):
            await publisher.publish(run, "progress", {"n": i})
            await asyncio.sleep(0.005)
        await publisher.publish(run, "complete", {})
        results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert all(len(r) == 31 for r in results)
        reads[watchers] = counting.calls
    assert reads[100] <= reads[1] + 3, reads
    await bus.aclose()
    await reader.aclose()
    await redis.aclose()


async def test_ids_stay_monotonic_when_redis_loses_its_data_mid_run(redis_server):
    redis = make_redis(redis_server)
    bus = RedisBus(redis)
    run = str(uuid.uuid4())
    for _ in range(5):
        await bus.publish(run, "progress", {})
    await redis.delete(f"bcrao:progress:{run}", f"bcrao:progress:{run}:seq")  # as after a restart without AOF
    assert await bus.publish(run, "progress", {}) == 6
    await redis.aclose()


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
    assert 0 < await redis.ttl(f"{key}:seq") <= 60
    await redis.aclose()


class _CountingRedis:
    """Counts XREAD calls made through it."""

    def __init__(self, inner: Redis) -> None:
        self.inner = inner
        self.calls = 0

    async def xread(self, *args, **kwargs):
        self.calls += 1
        return await self.inner.xread(*args, **kwargs)


async def test_a_late_subscriber_gets_the_backlog_in_one_batch_and_frames_are_encoded_once():
    bus = MemoryBus()
    run = str(uuid.uuid4())
    for i in range(5):
        await bus.publish(run, "progress", {"n": i, "text": "line\nbreak"})
    await bus.publish(run, "complete", {})
    batches = [b async for b in bus.subscribe(run, after=0)]
    assert [[e.id for e in b] for b in batches] == [[1, 2, 3, 4, 5, 6]]
    first = batches[0][0]
    assert first.wire is first.wire  # cached
    assert first.wire == b'id: 1\r\nevent: progress\r\ndata: {"n":0,"text":"line\\nbreak"}\r\n\r\n'
