"""Can the source collect at all? One cheap probe, asked by an operator or the dashboard
before a run meets a wall of 403s (``GET /v1/sources/health``).

A source client is built for the probe and closed after it: a health call is rare, and a
fresh client proves the credentials from the token exchange on. The configured source is
probed unless another is named, so an operator can check Reddit credentials before
switching to them; a source without its credentials is ``unconfigured``.
"""

from __future__ import annotations

import asyncio
import logging

from bcrao.config import Settings, SourceName
from bcrao.db import utcnow
from bcrao.sources.base import PostSource, SourceHealth
from bcrao.sources.factory import make_source
from bcrao.sources.schemas import SourceHealthOut

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 10.0  # someone is waiting for the answer


async def probe(settings: Settings, source: SourceName) -> SourceHealthOut:
    health = await _probe(settings.model_copy(update={"source": source}))
    return SourceHealthOut(
        source=source.value, status=health.status, message=health.message, checked_at=utcnow()
    )


async def _probe(settings: Settings) -> SourceHealth:
    try:
        client: PostSource = make_source(settings)
    except ValueError as exc:  # no credentials for this source
        return SourceHealth("unconfigured", f"The {settings.source.value} source is not configured: {exc}")
    try:
        return await asyncio.wait_for(client.probe(), PROBE_TIMEOUT_SECONDS)
    except TimeoutError:
        return SourceHealth("unreachable", f"No answer within {PROBE_TIMEOUT_SECONDS:.0f} s")
    except Exception as exc:  # a probe is advice: a failing source must not fail the call
        log.warning("probing the %s source failed: %s", settings.source.value, type(exc).__name__)
        return SourceHealth("unreachable", f"The probe failed ({type(exc).__name__})")
    finally:
        await client.aclose()
