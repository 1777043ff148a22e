"""Serve a run's progress as Server-Sent Events (sse-starlette does the framing).

The stream holds no database session: the route authorizes and reads the run first,
then only the progress bus is involved while events flow.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent

from bcrao.progress.bus import ProgressBus, ProgressEvent

NO_BUFFERING = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def parse_resume_id(header: str | None, query: int | None) -> int:
    """``Last-Event-ID`` (what EventSource sends on reconnect) wins over ``?last_event_id=``."""
    if header is not None:
        try:
            return max(0, int(header.strip()))
        except ValueError:
            return 0
    return max(0, query or 0)


def _sse(event: ProgressEvent) -> ServerSentEvent:
    return ServerSentEvent(
        json.dumps(event.data, separators=(",", ":"), default=str), event=event.event, id=str(event.id)
    )


async def run_events(
    bus: ProgressBus,
    run_id: str,
    *,
    after: int,
    finished: dict[str, Any] | None,
    retry_ms: int,
    final_event_id: int = 0,
    max_seconds: float = 0.0,
) -> AsyncIterator[ServerSentEvent]:
    """History then live events; for a finished run, whatever history is left plus its end.

    ``finished`` is the terminal event data from the database: when the bus has forgotten
    the run (expired), the terminal event is rebuilt from it so late clients still see it.
    """
    yield ServerSentEvent(comment="stream", retry=retry_ms)
    if finished is None:
        # Long-lived connections are recycled (load balancers, deploys): the client resumes.
        deadline = time.monotonic() + max_seconds if max_seconds else None
        async for event in bus.subscribe(run_id, after):
            yield _sse(event)
            if deadline is not None and time.monotonic() > deadline and not event.terminal:
                return
        return
    last = after
    for event in await bus.history(run_id, after):
        yield _sse(event)
        last = event.id
        if event.terminal:
            return
    status = str(finished["status"])
    yield _sse(ProgressEvent(max(final_event_id, last + 1), status, finished))


def event_source(content: AsyncIterator[ServerSentEvent], *, keepalive: float) -> EventSourceResponse:
    return EventSourceResponse(
        content,
        headers=NO_BUFFERING,
        ping=keepalive,
        ping_message_factory=lambda: ServerSentEvent(comment="keepalive"),
        send_timeout=30,  # a client that stops reading is dropped instead of pinning memory
    )
