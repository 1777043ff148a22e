"""Prometheus metrics, served at ``GET /metrics`` (text exposition format 0.0.4).

Two kinds of numbers:

- **Per process** (this API process only): active SSE clients and the publish-to-send
  latency of progress events, observed by the SSE layer through ``StreamObserver``.
- **From the database at scrape time**: runs by status, posts stored and per-subreddit
  source errors by code. Runs execute in Celery workers (other processes, other machines),
  so counters incremented there would never reach this endpoint; the database is the one
  place every process writes to, and every API replica reports the same totals. The query
  result is cached for a few seconds so frequent scrapes stay cheap.

Each app gets its own ``CollectorRegistry`` (never the global default), so several apps
in one process — tests do that — do not clash.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.collection.models import ACTIVE_STATUSES, TERMINAL_STATUSES, CollectionRun, RawPost
from bcrao.errors import NotFound
from bcrao.progress.bus import ProgressEvent

log = logging.getLogger("bcrao.metrics")

# Only runs that end other than complete (partial, failed, cancelled) can carry per-subreddit errors.
STATUSES_WITH_ERRORS = sorted(TERMINAL_STATUSES - {"complete"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class DbSnapshot:
    runs_by_status: dict[str, int] = field(default_factory=dict)
    posts: int = 0
    source_errors: dict[str, int] = field(default_factory=dict)
    ok: bool = False


async def read_snapshot(session: AsyncSession) -> DbSnapshot:
    """Counts every process contributed to: runs by status, stored posts, source errors."""
    rows = await session.execute(select(CollectionRun.status, func.count()).group_by(CollectionRun.status))
    runs = dict.fromkeys((*ACTIVE_STATUSES, *TERMINAL_STATUSES), 0)
    runs.update({status: count for status, count in rows.all()})
    posts = (await session.execute(select(func.count()).select_from(RawPost))).scalar_one()
    errors: Counter[str] = Counter()
    result = await session.execute(
        select(CollectionRun.errors).where(CollectionRun.status.in_(STATUSES_WITH_ERRORS))
    )
    for (run_errors,) in result:
        for error in run_errors or []:
            # Entries without a subreddit are run-level failures (a lost worker), not source errors.
            if isinstance(error, dict) and error.get("subreddit"):
                errors[str(error.get("code") or "unknown")] += 1
    return DbSnapshot(runs_by_status=runs, posts=int(posts), source_errors=dict(errors), ok=True)


class _DbCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.metrics.snapshot
        yield _gauge("bcrao_metrics_database_up", "1 if the last database read for metrics worked", snap.ok)
        if not snap.ok:
            return
        runs = "Collection runs by status (all processes, from the database)"
        yield _gauge("bcrao_collection_runs", runs, snap.runs_by_status, label="status")
        yield _gauge("bcrao_posts_collected", "Collected posts stored (from the database)", snap.posts)
        errors = "Per-subreddit source errors recorded by runs, by error code (from the database)"
        yield _gauge("bcrao_source_errors", errors, snap.source_errors, label="code")


def _gauge(name: str, doc: str, value: float | dict[str, int], *, label: str = "") -> GaugeMetricFamily:
    """A gauge of one value, or of one value per ``label`` (sorted)."""
    if not isinstance(value, dict):
        return GaugeMetricFamily(name, doc, value=float(value))
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, count in sorted(value.items()):
        family.add_metric([key], count)
    return family


class LatencyHistogram(Collector):
    """A Prometheus histogram kept in plain integers.

    Observed once per event per SSE client (100,000 times for one event to 1,000
    clients and 100 events), so it must cost a bisect and two additions: the client
    library's ``Histogram.observe`` takes a lock per bucket, sum and count and walks the
    buckets in Python, which showed up in the fan-out profile. All observations happen on
    the event loop's thread, so nothing needs a lock.
    """

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = [float(b) for b in buckets]
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1  # buckets are "<= bound"
        self.sum += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        cumulative, buckets = 0, []
        for bound, count in zip([*self.bounds, math.inf], self.counts, strict=True):
            cumulative += count
            buckets.append((floatToGoString(bound), cumulative))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=self.sum)


class Metrics:
    """The app's metrics; also the SSE layer's ``StreamObserver``."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, cache_seconds: float = 5.0) -> None:
        self.sessionmaker = sessionmaker
        self.cache_seconds = cache_seconds
        self.registry = CollectorRegistry(auto_describe=True)
        self.sse_clients = Gauge(
            "bcrao_sse_clients", "Progress streams open in this process", registry=self.registry
        )
        self.event_latency = LatencyHistogram(
            "bcrao_sse_event_latency_seconds",
            "Seconds from a progress event's `ts` (when it was produced) to the SSE layer sending it",
            LATENCY_BUCKETS,
        )
        self.registry.register(self.event_latency)
        self.snapshot = DbSnapshot()
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()
        self.registry.register(_DbCollector(self))

    # -- StreamObserver (called by bcrao.progress.sse) -------------------------------

    def stream_opened(self) -> float:
        self.sse_clients.inc()
        return time.time()

    def stream_closed(self) -> None:
        self.sse_clients.dec()

    def events_sent(self, events: Sequence[ProgressEvent], *, opened_at: float) -> None:
        """Observe publish-to-send latency for events produced while this client was connected.

        History replayed to a client that connected late is not latency, so it is skipped,
        as are events without a ``ts`` (terminal events carry the run object instead).
        ``produced_at`` is parsed once per event per process, not once per client.
        """
        now = time.time()
        observe = self.event_latency.observe
        for event in events:
            produced = event.produced_at
            if produced is not None and produced >= opened_at:
                observe(max(0.0, now - produced))

    # -- scraping ---------------------------------------------------------------------

    async def refresh(self) -> None:
        if time.monotonic() - self._read_at < self.cache_seconds:
            return
        async with self._lock:
            if time.monotonic() - self._read_at < self.cache_seconds:
                return
            try:
                async with asyncio.timeout(5), self.sessionmaker() as session:
                    self.snapshot = await read_snapshot(session)
            except Exception as exc:  # a scrape must answer even when the database does not
                log.warning("metrics: database read failed: %s", type(exc).__name__)
                self.snapshot = DbSnapshot(ok=False)
            self._read_at = time.monotonic()

    async def render(self) -> bytes:
        await self.refresh()
        return generate_latest(self.registry)


router = APIRouter(include_in_schema=False)


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def may_read_metrics(request: Request) -> bool:
    """Totals across every user are for operators: with ``BCRAO_METRICS_TOKEN`` set, only a
    request bearing it; without one, only a scraper on this machine (the TCP peer is loopback)."""
    token = request.app.state.runtime.settings.metrics_token
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}".encode()
        return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected)
    return request.client is not None and request.client.host in LOOPBACK


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    if not may_read_metrics(request):
        raise NotFound()  # as if there were nothing here
    metrics: Metrics = request.app.state.metrics
    return Response(await metrics.render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)


def install_metrics(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]) -> Metrics:
    """Create the app's metrics, keep them on ``app.state.metrics`` and mount ``/metrics``."""
    metrics = Metrics(sessionmaker)
    app.state.metrics = metrics
    app.include_router(router)
    return metrics
