"""Where runs execute: in this process (``local``) or on Celery workers (``celery``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Protocol

from bcrao.collection import lifecycle, service
from bcrao.collection.runner import execute_run
from bcrao.config import Settings
from bcrao.db import session_scope
from bcrao.logs import task_id_var
from bcrao.runtime import Runtime
from bcrao.sources.factory import make_source

log = logging.getLogger("bcrao.executors")

# Named here rather than imported from the task module, which builds the worker's app.
COLLECT_TASK = "bcrao.tasks.scraping.collect_campaign_data"


class Executor(Protocol):
    name: str

    async def submit(self, run_id: uuid.UUID) -> None:
        """Start the run soon. Called after the run row is committed."""
        ...

    async def aclose(self) -> None: ...


class LocalExecutor:
    """Runs as asyncio tasks in the API process: zero servers, one process."""

    name = "local"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def submit(self, run_id: uuid.UUID) -> None:
        task = asyncio.create_task(self._run(run_id), name=f"run-{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))

    async def _run(self, run_id: uuid.UUID) -> None:
        # This task runs in a copy of the submitting request's context: its log lines name
        # the run (task_id); the request id they inherit says which request started it.
        task_id_var.set(str(run_id))
        rt = self.runtime
        source = make_source(rt.settings)
        log.info("run started (local executor, source %s)", source.name)
        try:
            status = await execute_run(
                run_id=run_id, settings=rt.settings, sessionmaker=rt.sessionmaker, bus=rt.bus, source=source
            )
            log.info("run ended: %s", status or "nothing to do")
        except Exception:
            log.exception("local run %s crashed", run_id)
        finally:
            await source.aclose()

    async def wait_idle(self) -> None:
        """Until every submitted run (and what follows it: themes, alerts) has ended."""
        while pending := [t for t in self._tasks.values() if not t.done()]:
            await asyncio.wait(pending)

    async def aclose(self, grace_seconds: float = 10.0) -> None:
        """Stopping the process ends its runs: let them finish for a few seconds, then stop
        the rest and fail them rather than leave them running.

        The grace period matters beyond politeness: a run cancelled in the middle of a
        database call can leave its connection inside a write transaction until the
        connection is collected, and on SQLite that holds the one writer lock.
        """
        tasks = dict(self._tasks)
        if tasks:
            await asyncio.wait(tasks.values(), timeout=grace_seconds)
        tasks = {run_id: task for run_id, task in tasks.items() if not task.done()}
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for run_id in tasks:
            async with session_scope(self.runtime.sessionmaker) as session:
                failed = await service.mark_failed(
                    session, run_id=run_id, from_status="running", message="The server stopped during the run"
                )
            if failed:
                await lifecycle.announce(self.runtime.sessionmaker, self.runtime.bus, run_id)


class CeleryExecutor:
    """Enqueues on the ``scraping`` queue; workers anywhere run the same pipeline."""

    name = "celery"

    def __init__(self, settings: Settings) -> None:
        from bcrao.tasks.celery_app import make_celery

        self.app = make_celery(settings)

    async def submit(self, run_id: uuid.UUID) -> None:
        # The task id is the run id, so Celery tooling and our API talk about the same thing.
        await asyncio.to_thread(self.app.send_task, COLLECT_TASK, args=[str(run_id)], task_id=str(run_id))

    async def aclose(self) -> None:
        await asyncio.to_thread(self.app.close)


def make_executor(runtime: Runtime) -> Executor:
    if runtime.settings.effective_executor == "celery":
        return CeleryExecutor(runtime.settings)
    return LocalExecutor(runtime)
