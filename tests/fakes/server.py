"""Run an aiohttp application on 127.0.0.1 in a thread of its own.

The fakes live on their own event loop so they keep answering whatever the test's loop is
doing (a client under test stuck in a blocking call, a Celery worker in another process
calling in), and so a fake's deliberate stall never stalls the code under test.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(slots=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class LoopbackServer:
    """Serves ``app`` on a free loopback port until ``stop()``; ``url`` has no trailing slash."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-http", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _serve(self) -> None:
        # A short shutdown timeout: a stalled handler must not hold the test run hostage.
        self._runner = web.AppRunner(self._app, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
