from __future__ import annotations

import asyncio

from fastapi import APIRouter
from sqlalchemy import text

from bcrao.deps import RuntimeDep
from bcrao.errors import ErrorResponse, ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness check")
async def healthz() -> dict[str, str]:
    """The process is up and answering: always `{"status": "ok"}`. Checks nothing else (see
    `/readyz`); no authentication. For load balancers and container health checks."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness check", responses={503: {"model": ErrorResponse}})
async def readyz(runtime: RuntimeDep) -> dict[str, str]:
    """Whether the service can do work: 200 with `database` (and `redis`, when configured)
    `"ok"` once each answers within 2 s; otherwise 503 `SERVICE_UNAVAILABLE` with the failing
    check in `details.check`. No authentication."""
    checks = {"database": "ok"}
    try:
        async with asyncio.timeout(2):
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:
        raise ServiceUnavailable("Database is not reachable", details={"check": "database"}) from None
    if runtime.redis is not None:
        try:
            async with asyncio.timeout(2):
                await runtime.redis.ping()
        except Exception:
            raise ServiceUnavailable("Redis is not reachable", details={"check": "redis"}) from None
        checks["redis"] = "ok"
    return {"status": "ok", **checks}
