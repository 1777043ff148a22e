from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bcrao.sources.base import HealthStatus


class SourceHealthOut(BaseModel):
    source: str = Field(description="The source probed: reddit, apify or sample")
    status: HealthStatus = Field(
        description="ok, blocked (credentials refused or app not approved), unreachable, or unconfigured"
    )
    message: str
    checked_at: datetime
