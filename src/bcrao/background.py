"""Work an API process starts and does not wait for (themes, alert deliveries, deletion
checks in local mode): kept referenced until done, and awaited or stopped at shutdown."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Coroutine
from typing import Any, ClassVar


class BackgroundTasks:
    _every: ClassVar[weakref.WeakSet[BackgroundTasks]] = weakref.WeakSet()

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        BackgroundTasks._every.add(self)

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _pending(self) -> set[asyncio.Task[Any]]:
        """This event loop's unfinished tasks (tests run several apps, each on its own loop)."""
        loop = asyncio.get_running_loop()
        return {t for t in self._tasks if t.get_loop() is loop and not t.done()}

    async def wait(self) -> None:
        if pending := self._pending():
            await asyncio.wait(pending)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """A few seconds to finish, then cancelled."""
        if not (pending := self._pending()):
            return
        _, late = await asyncio.wait(pending, timeout=grace_seconds)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)

    @classmethod
    async def stop_all(cls, grace_seconds: float = 10.0) -> None:
        """Every set's work on this loop (themes, alert deliveries, deletion checks): what
        shutdown, and a test's database teardown, wait for, since a run's followers outlive
        the call that started them."""
        for tasks in list(cls._every):
            await tasks.stop(grace_seconds)
