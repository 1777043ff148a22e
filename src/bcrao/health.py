from __future__ import annotations

import asyncio

from fastapi import APIRouter
from sqlalchemy import text

from bcrao.deps import RuntimeDep
from bcrao.errors import ErrorResponse, ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorResponse}})
async def readyz(runtime: RuntimeDep) -> dict[str, str]:
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
