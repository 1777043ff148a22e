"""Serve a run's progress as Server-Sent Events (sse-starlette does the framing).

The stream holds no database session: the route authorizes and reads the run first,
then only the progress bus is involved while events flow.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

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


class StreamObserver(Protocol):
    """What the SSE layer reports (``bcrao.metrics.Metrics`` implements it)."""

    def stream_opened(self) -> float: ...  # returns the open time (epoch seconds)

    def stream_closed(self) -> None: ...

    def event_sent(self, data: dict[str, Any], *, opened_at: float) -> None: ...


async def run_events(
    bus: ProgressBus,
    run_id: str,
    *,
    after: int,
    finished: dict[str, Any] | None,
    retry_ms: int,
    final_event_id: int = 0,
    max_seconds: float = 0.0,
    observer: StreamObserver | None = None,
) -> AsyncIterator[ServerSentEvent | bytes]:
    """History then live events; for a finished run, whatever history is left plus its end.

    ``finished`` is the terminal event data from the database: when the bus has forgotten
    the run (expired), the terminal event is rebuilt from it so late clients still see it.
    ``observer`` (metrics) hears of the stream opening and closing and of every event sent.
    """
    opened_at = observer.stream_opened() if observer is not None else 0.0

    def send(events: list[ProgressEvent]) -> bytes:
        if observer is not None:
            for event in events:
                observer.event_sent(event.data, opened_at=opened_at)
        return b"".join(event.wire for event in events)

    try:
        yield ServerSentEvent(comment="stream", retry=retry_ms)
        if finished is None:
            # Long-lived connections are recycled (load balancers, deploys): the client resumes.
            deadline = time.monotonic() + max_seconds if max_seconds else None
            async for batch in bus.subscribe(run_id, after):
                yield send(batch)
                if deadline is not None and time.monotonic() > deadline and not batch[-1].terminal:
                    return
            return
        history = await bus.history(run_id, after)
        end = next((i for i, e in enumerate(history) if e.terminal), None)
        if end is not None:
            yield send(history[: end + 1])
            return
        if history:
            yield send(history)
        last = history[-1].id if history else after
        yield send([ProgressEvent(max(final_event_id, last + 1), str(finished["status"]), finished)])
    finally:
        if observer is not None:
            observer.stream_closed()


def event_source(content: AsyncIterator[ServerSentEvent | bytes], *, keepalive: float) -> EventSourceResponse:
    return EventSourceResponse(
        content,
        headers=NO_BUFFERING,
        ping=keepalive,
        ping_message_factory=lambda: ServerSentEvent(comment="keepalive"),
        send_timeout=30,  # a client that stops reading is dropped instead of pinning memory
    )
