"""Connection bounds for ``bcrao serve``: what uvicorn does not time out by itself.

uvicorn closes a keep-alive connection idle between requests (``timeout_keep_alive``) and
caps concurrent connections (``limit_concurrency``), but it waits forever for the headers
of a request: a client that connects and sends nothing, or trickles a header a byte at a
time, holds a socket (and a file descriptor) for as long as it likes. This protocol gives
every request ``BCRAO_HTTP_HEADER_TIMEOUT_SECONDS`` from its first byte (or from the
connection's start) to complete its headers, then closes the connection. Slow bodies are
bounded in the app (``bcrao.middleware.BodyReadTimeout``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bcrao.config import get_settings


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn narrows it too
        super().connection_made(transport)
        self._header_timeout = get_settings().http_header_timeout_seconds
        self._header_deadline: asyncio.TimerHandle | None = None
        self._start_header_clock()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_header_clock()  # a keep-alive connection's next request starts its own clock

    def on_headers_complete(self) -> None:
        self._stop_header_clock()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        super().connection_lost(exc)

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        self._header_deadline = asyncio.get_running_loop().call_later(self._header_timeout, self._too_slow)

    def _stop_header_clock(self) -> None:
        deadline: Any = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        transport = getattr(self, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.close()
