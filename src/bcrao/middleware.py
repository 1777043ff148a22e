"""Small pure-ASGI middlewares (pure ASGI so they never buffer an event stream).

Their ``send`` wrappers are plain functions that return the next ``send``'s awaitable
rather than coroutines awaiting it: a progress stream's body chunks pass through every
wrapper, 1,000 clients times every event, and a function call is several times cheaper
than creating and running one more coroutine frame per layer and per send. Only the
``http.response.start`` message is looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bcrao.errors import error_json

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


async def _send_error(send: Send, status: int, code: str, message: str, *, close: bool = False) -> None:
    """An error response in the contract's shape, from a middleware (before any route)."""
    response = error_json(status, code, message, headers={"connection": "close"} if close else None)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class _BodyGuard:
    """What the two body checks share: once ``receive`` gives up on the body (``refuse``),
    the app's own answer is dropped (FastAPI catches errors while reading a body and answers
    400/422 itself) and the check's error is sent instead, unless a response had started."""

    def __init__(self, send: Send, status: int, code: str, message: str, *, close: bool = False) -> None:
        self.send = send
        self.error = (status, code, message)
        self.close = close
        self.refused = self.started = False

    def refuse(self) -> _BodyRefused:
        self.refused = True
        return _BodyRefused()

    def guarded_send(self, message: Message) -> Awaitable[None]:
        if self.refused and not self.started:
            return _dropped()
        self.started = self.started or message["type"] == "http.response.start"
        return self.send(message)

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        with contextlib.suppress(_BodyRefused):
            await app(scope, receive, self.guarded_send)
        if self.refused and not self.started:
            await self.reject()

    async def reject(self) -> None:
        await _send_error(self.send, *self.error, close=self.close)


class _BodyRefused(Exception):
    pass


async def _dropped() -> None:
    """What a send that is swallowed returns (a wrapper must still return an awaitable)."""


class BodySizeLimit:
    """Refuse bodies over the limit with 413 before they are read into memory.

    ``large_paths`` (a pattern of POST paths) may send up to ``large_bytes`` instead: file
    imports, which stream their body to disk rather than into memory."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, *, large_paths: str | None = None, large_bytes: int = 0
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large_paths = re.compile(large_paths) if large_paths else None
        self.large_bytes = large_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        large = self.large_paths
        if large is not None and scope.get("method") == "POST" and large.fullmatch(scope.get("path", "")):
            limit = self.large_bytes
        guard = _BodyGuard(send, 413, "PAYLOAD_TOO_LARGE", f"Request body exceeds {limit} bytes")
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await guard.reject()
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise guard.refuse()
            return message

        await guard.run(self.app, scope, limited_receive)


class BodyReadTimeout:
    """A request body must keep arriving: a gap longer than ``seconds`` between its chunks
    is a 408 and the end of the connection, not a socket held open by a stalled client.
    Only the body is timed; a stream's wait for the client to disconnect is not."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        stalled = f"The request body stalled for {self.seconds:g} s"
        guard = _BodyGuard(send, 408, "REQUEST_TIMEOUT", stalled, close=True)
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                raise guard.refuse() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await guard.run(self.app, scope, timed_receive)


class RequestId:
    """Give every request an id (or keep the caller's) for logs and the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)

        def send_with_id(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            return send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


access_log = logging.getLogger("bcrao.access")


class AccessLog:
    """One log line per request: method, path, status, duration in ms.

    The path is logged without its query string: query strings can carry stream tokens.
    Streams are logged when they end, so their duration is the stream's lifetime.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        def send_and_record(message: Message) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            duration_ms = (time.perf_counter() - start) * 1000
            access_log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, duration_ms)
