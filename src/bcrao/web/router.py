"""Serve the dashboard: ``/`` (index.html) and ``/static/*``, with browser security headers.

The dashboard is a pure client of the public JSON API, so this module only serves files.
Security headers are added by a small pure-ASGI wrapper around the page and static routes
only: the JSON API and the SSE stream keep their own headers, and a pure-ASGI wrapper
never buffers a response body.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"
# Third-party code of the API reference, kept apart from the dashboard's own static files
# (which never touch innerHTML and load nothing from elsewhere).
VENDOR_DIR = Path(__file__).parent / "vendor"
SWAGGER = "/vendor/swagger-ui"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate every time (ETag/Last-Modified make that cheap): a deploy is seen at once.
    "Cache-Control": "no-cache",
}
_RAW_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

router = APIRouter(include_in_schema=False)


@router.get("/docs", include_in_schema=False)
async def api_docs() -> HTMLResponse:
    """Swagger UI from the package's own copy (``web/vendor/swagger-ui``), not a CDN: the
    API reference works on a laptop with no internet."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="BC-RAO Collector API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
    )


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=SECURITY_HEADERS)


class SecurityHeaders:
    """Pure-ASGI wrapper: add the dashboard's security headers to every response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in _RAW_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_web(app: FastAPI) -> None:
    """Add the dashboard to ``app``: the page route and the static files, outside the OpenAPI schema."""
    app.include_router(router)
    app.mount("/static", SecurityHeaders(StaticFiles(directory=STATIC_DIR)), name="static")
    app.mount("/vendor", StaticFiles(directory=VENDOR_DIR), name="vendor")
