"""The monitoring pass every API process runs: due schedules, digests, alert deliveries a
stopped sender left unsent, deletion checks."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from bcrao.compliance import sync
from bcrao.monitoring import alerts, delivery, schedules

log = logging.getLogger("bcrao.monitoring")


async def monitor_once(runtime: Any, now: datetime | None = None) -> None:
    await schedules.run_due(runtime, now)
    await alerts.send_due_digests(runtime.settings, runtime.sessionmaker, now)
    await delivery.resend_stalled(runtime.settings, runtime.sessionmaker, now)
    await sync.run_due(runtime, now)  # deletion checks and retention


async def monitoring_loop(runtime: Any) -> None:
    while True:
        await asyncio.sleep(runtime.settings.scheduler_interval_seconds)
        try:
            await monitor_once(runtime)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be briefly down; try again next time
            log.warning("monitoring pass failed: %s", type(exc).__name__)
