"""Pick the configured post source."""

from __future__ import annotations

import asyncio

from bcrao.config import Settings, SourceName
from bcrao.sources.base import (
    CommentRequest,
    CommentResult,
    FetchRequest,
    FetchResult,
    ItemState,
    PostSource,
    SourceHealth,
    SubredditCheck,
    WaitCallback,
)


class SimulatedLatency:
    """Wraps a source with a fixed delay per fetch, so an offline demo feels like a real
    collection (and progress can be watched) instead of finishing in a blink."""

    def __init__(self, inner: PostSource, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.name = inner.name

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        await asyncio.sleep(self.seconds)
        return await self.inner.fetch(request, on_wait=on_wait)

    async def fetch_comments(
        self, request: CommentRequest, *, on_wait: WaitCallback | None = None
    ) -> CommentResult:
        return await self.inner.fetch_comments(request, on_wait=on_wait)

    async def check_subreddit(self, name: str) -> SubredditCheck:
        return await self.inner.check_subreddit(name)  # a check is no collection: no delay

    async def fetch_info(
        self, fullnames: list[str], *, on_wait: WaitCallback | None = None
    ) -> dict[str, ItemState] | None:
        return await self.inner.fetch_info(fullnames, on_wait=on_wait)

    async def probe(self) -> SourceHealth:
        return await self.inner.probe()

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_source(settings: Settings) -> PostSource:
    if settings.source is SourceName.reddit:
        from bcrao.sources.reddit import RedditSource

        return RedditSource(settings)
    if settings.source is SourceName.apify:
        from bcrao.sources.apify import ApifySource

        return ApifySource(settings)
    from bcrao.sources.sample import SampleSource

    source: PostSource = SampleSource()
    if settings.sample_latency_seconds:
        source = SimulatedLatency(source, settings.sample_latency_seconds)
    return source
