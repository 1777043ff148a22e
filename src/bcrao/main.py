"""Application factory: wires settings, database, routers and error handling."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from bcrao import __version__
from bcrao.account.router import router as account_router
from bcrao.auth.router import router as auth_router
from bcrao.background import BackgroundTasks
from bcrao.campaigns.router import router as campaigns_router
from bcrao.collection.router import router as collection_router
from bcrao.comments.router import router as comments_router
from bcrao.compliance.router import router as compliance_router
from bcrao.config import Settings, get_settings
from bcrao.errors import ErrorResponse, OpenAPIResponses, install_error_handlers
from bcrao.health import router as health_router
from bcrao.imports.router import IMPORT_PATH
from bcrao.imports.router import router as imports_router
from bcrao.metrics import install_metrics
from bcrao.middleware import AccessLog, BodyReadTimeout, BodySizeLimit, RequestId
from bcrao.migrate import upgrade
from bcrao.monitoring.loop import monitoring_loop
from bcrao.monitoring.router import router as alerts_router
from bcrao.monitoring.router import unsubscribe_router
from bcrao.posts.router import corrections_router
from bcrao.posts.router import router as posts_router
from bcrao.runtime import build_runtime
from bcrao.sources.router import router as sources_router
from bcrao.subreddits.router import router as subreddits_router
from bcrao.tasks.executors import make_executor
from bcrao.tasks.reaper import reap_stale_runs, reaper_loop
from bcrao.themes.router import router as themes_router
from bcrao.web.router import mount_web

log = logging.getLogger("bcrao")

ERROR_RESPONSES: OpenAPIResponses = {
    code: {"model": ErrorResponse, "description": desc}
    for code, desc in [
        (401, "Not authenticated"),
        (404, "Not found (or not yours)"),
        (413, "Request body too large"),
        (422, "Validation error"),
        (500, "Internal error"),
        (503, "A backing service (database, Redis, task queue) is unavailable"),
    ]
}


def freeze_startup_objects() -> None:
    """Keep the collector off the objects every server process holds for life.

    The app, its routes, schemas, SQLAlchemy metadata and imported modules are hundreds of
    thousands of objects; every full collection walked all of them, a long pause of the
    event loop (every open stream and request waits) under load (``bench/README.md``).
    ``gc.freeze`` moves them into a generation the collector ignores, and a larger
    first-generation threshold makes young collections rarer; per-request garbage is still
    freed (mostly by refcounting).
    Server processes only: a test process building many apps would pin their cycles forever.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def create_app(settings: Settings | None = None, *, migrate_sqlite: bool = True) -> FastAPI:
    settings = settings or get_settings()
    runtime = build_runtime(settings)
    runtime.executor = make_executor(runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.is_sqlite and migrate_sqlite:
            # The embedded default needs no separate `bcrao migrate` step.
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(upgrade, settings.effective_database_url)
        # Runs left active by a previous local process cannot be alive: fail them now.
        try:
            await reap_stale_runs(runtime, everything_active=runtime.executor.name == "local")
        except Exception as exc:  # the database may be down at start: serve 503s, retry later
            log.warning("start-up reaper skipped: %s", type(exc).__name__)
        reaper = asyncio.create_task(reaper_loop(runtime), name="stale-run-reaper")
        monitor = asyncio.create_task(monitoring_loop(runtime), name="schedules-and-digests")
        if settings.gc_freeze:
            freeze_startup_objects()
        try:
            yield
        finally:
            for task in (reaper, monitor):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.aclose()  # runs end first: their followers may start theme work
            await BackgroundTasks.stop_all()  # in-process work a run or request started

    app = FastAPI(
        title="BC-RAO Collector",
        version=__version__,
        description="Collect, filter, label and score Reddit posts for market research.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # served by bcrao.web from bundled assets (offline), see mount_web
        redoc_url=None,  # ReDoc would load from a CDN: one offline reference is enough
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(account_router)
    app.include_router(campaigns_router)
    app.include_router(collection_router)
    app.include_router(imports_router)
    app.include_router(posts_router)
    app.include_router(corrections_router)
    app.include_router(comments_router)
    app.include_router(themes_router)
    app.include_router(alerts_router)
    app.include_router(compliance_router)
    app.include_router(unsubscribe_router)
    app.include_router(subreddits_router)
    app.include_router(sources_router)
    install_metrics(app, runtime.sessionmaker)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        large_paths=IMPORT_PATH,
        large_bytes=settings.import_max_bytes,
    )
    app.add_middleware(BodyReadTimeout, seconds=settings.http_body_timeout_seconds)
    app.add_middleware(AccessLog)  # inside RequestId, so its lines carry the request id
    app.add_middleware(RequestId)
    mount_web(app)
    return app
