"""The campaign object's ``schedule`` (kept apart from the alert schemas, which build on the
campaign schemas, so the campaign schemas can use it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bcrao.schemas import RequestBody

Every = Literal["off", "1h", "6h", "24h", "7d"]


class ScheduleIn(RequestBody):
    model_config = ConfigDict(extra="forbid")

    every: Every = Field(description="Collect by itself every 1 h, 6 h, 24 h or 7 days; `off` stops it")


class ScheduleOut(BaseModel):
    every: Every = "off"
    next_run_at: datetime | None = None
    last_scheduled_run_at: datetime | None = None
    note: str | None = Field(None, description="Why the last scheduled slot did not run, in words")
