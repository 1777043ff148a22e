"""A run whose worker keeps dying is failed with a reason after a few attempts, not requeued forever."""

from __future__ import annotations

from sqlalchemy import update

from bcrao.collection.models import CollectionRun
from bcrao.collection.runner import execute_run
from bcrao.progress.bus import MemoryBus
from bcrao.sources.sample import SampleSource
from tests.collection.test_pipeline import new_run


async def test_the_fourth_attempt_of_a_run_ends_it_failed_with_a_reason(maker, make_settings):
    _, run_id = await new_run(maker, subreddits=("SaaS",))
    async with maker() as s:
        # Three executors took it and vanished (their heartbeat long gone).
        await s.execute(
            update(CollectionRun).where(CollectionRun.id == run_id).values(attempts=3, heartbeat_at=None)
        )
        await s.commit()
    settings = make_settings()
    status = await execute_run(
        run_id=run_id, settings=settings, sessionmaker=maker, bus=MemoryBus(), source=SampleSource()
    )
    assert status == "failed"
    async with maker() as s:
        run = await s.get(CollectionRun, run_id)
    assert run.status == "failed" and run.stored == 0
    assert "stopped its worker 3 times" in run.errors[-1]["message"]


async def test_a_second_attempt_still_runs(maker, make_settings):
    _, run_id = await new_run(maker, subreddits=("SaaS",))
    async with maker() as s:
        await s.execute(
            update(CollectionRun).where(CollectionRun.id == run_id).values(attempts=1, heartbeat_at=None)
        )
        await s.commit()
    status = await execute_run(
        run_id=run_id, settings=make_settings(), sessionmaker=maker, bus=MemoryBus(), source=SampleSource()
    )
    assert status == "complete"


async def test_a_resumed_run_continues_its_counters_instead_of_restarting_them(maker, make_settings):
    """The lost attempt got everything stored; the one taking over re-does the work. Its
    stream and its run row never show fewer than the lost attempt had saved, and it ends
    with the same totals as an uninterrupted run."""
    _, run_id = await new_run(maker, subreddits=("SaaS", "startups"))
    settings = make_settings()
    assert (
        await execute_run(
            run_id=run_id, settings=settings, sessionmaker=maker, bus=MemoryBus(), source=SampleSource()
        )
        == "complete"
    )
    async with maker() as s:
        first = await s.get(CollectionRun, run_id)
        saved = {k: getattr(first, k) for k in ("scraped", "filtered", "stored", "duplicates")}
        # As if that executor had died just before finishing: running, heartbeat gone.
        await s.execute(
            update(CollectionRun)
            .where(CollectionRun.id == run_id)
            .values(status="running", finished_at=None, heartbeat_at=None)
        )
        await s.commit()
    assert saved["scraped"] > 0 and saved["stored"] > 0

    bus = MemoryBus()
    assert (
        await execute_run(
            run_id=run_id, settings=settings, sessionmaker=maker, bus=bus, source=SampleSource()
        )
        == "complete"
    )
    events = await bus.history(str(run_id))
    progress = [e.data for e in events if e.event == "progress"]
    assert progress and all(e["resumed"] and e["attempt"] == 2 for e in progress)
    for name, value in saved.items():
        assert all(e[name] >= value for e in progress), name  # never back to zero
    async with maker() as s:
        again = await s.get(CollectionRun, run_id)
    assert {k: getattr(again, k) for k in saved} == saved  # the uninterrupted run's totals
