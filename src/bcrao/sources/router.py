"""Source health: whether the configured source (or a named one) can collect at all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from bcrao.config import SourceName
from bcrao.deps import RuntimeDep
from bcrao.sources import health
from bcrao.sources.schemas import SourceHealthOut
from bcrao.subreddits.router import CallerId

router = APIRouter(prefix="/v1/sources", tags=["sources"])


@router.get("/health", summary="Source health", response_model=SourceHealthOut)
async def source_health(
    _caller: CallerId,
    runtime: RuntimeDep,
    source: Annotated[
        SourceName | None, Query(description="The source to probe (default: the configured one)")
    ] = None,
) -> SourceHealthOut:
    """One cheap request to the source: `blocked` when Reddit (or Apify) refuses this app's
    credentials, `unreachable` when it does not answer, `unconfigured` without credentials."""
    return await health.probe(runtime.settings, source or runtime.settings.source)
