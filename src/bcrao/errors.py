"""One error family, one handler, one JSON shape for every 4xx and 5xx.

``{"error": {"code": "...", "message": "...", "details": {...}}}`` — FastAPI's own 404,
405 and 422 included, and 500s never carry a stack trace.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("bcrao.errors")


class AppError(Exception):
    status_code = 500
    code = "INTERNAL_ERROR"
    message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or {}
        self.headers = headers


class ValidationFailed(AppError):
    status_code = 422
    code = "VALIDATION_ERROR"
    message = "Invalid request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, details={"fields": [{"field": field, "message": message}]})


class Unauthorized(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Not authenticated"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class NotFound(AppError):
    status_code = 404
    code = "RESOURCE_NOT_FOUND"
    message = "Resource not found"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "Conflict"


class CollectionInProgress(AppError):
    status_code = 409
    code = "COLLECTION_IN_PROGRESS"
    message = "A collection is already running for this campaign"

    def __init__(self, task_id: str) -> None:
        super().__init__(details={"task_id": task_id})


class PlanLimitReached(AppError):
    status_code = 429
    code = "PLAN_LIMIT_REACHED"
    message = "Weekly collection allowance of your plan is used up"

    def __init__(self, limit: int, resets_at: datetime) -> None:
        super().__init__(
            f"Your plan allows {limit} collections per 7 days",
            details={"limit": limit, "resets_at": resets_at.isoformat().replace("+00:00", "Z")},
        )


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many attempts; try again later"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(
            message, details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
        )


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "Service temporarily unavailable"


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    """The documented error shape (used in the OpenAPI document)."""

    error: ErrorBody


# A route's or the app's ``responses=`` (extra OpenAPI responses by status), as FastAPI types it.
OpenAPIResponses = dict[int | str, dict[str, Any]]


def error_json(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


_HTTP_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Not authenticated"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("RESOURCE_NOT_FOUND", "Resource not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    429: ("RATE_LIMITED", "Too many requests"),
    503: ("SERVICE_UNAVAILABLE", "Service temporarily unavailable"),
}


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic error locations → ``[{"field": "target_subreddits.0", "message": ...}]``."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            loc = ["body"]
        elif loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        msg = err.get("msg", "Invalid value")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append({"field": ".".join(loc) or "body", "message": msg})
    return out


async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
    return error_json(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = field_errors(list(exc.errors()))
    message = "Invalid request: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields[:3])
    return error_json(422, "VALIDATION_ERROR", message, {"fields": fields})


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body it cannot decode (e.g. not UTF-8). Malformed JSON is
        # already a 422 VALIDATION_ERROR; an undecodable body is the same mistake.
        fields = [{"field": "body", "message": "Body could not be decoded"}]
        return error_json(
            422, "VALIDATION_ERROR", "Invalid request: body could not be decoded", {"fields": fields}
        )
    code, default = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "Request failed"))
    if exc.status_code >= 500:
        code, default = "INTERNAL_ERROR", "Internal server error"
    message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else default
    return error_json(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", type(exc).__name__)
    return error_json(
        503,
        "SERVICE_UNAVAILABLE",
        "A backing service is unavailable; retry shortly",
        headers={"Retry-After": "2"},
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_json(500, "INTERNAL_ERROR", "Internal server error")


def _is_connection_error(exc: Exception) -> bool:
    if isinstance(exc, InterfaceError | OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | TimeoutError)


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    if _is_connection_error(exc):
        return await _database_down(request, exc)
    return await _unhandled(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette types every handler as taking Exception, though each gets the class it is for.
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _dbapi_error)
    app.add_exception_handler(OSError, _database_down)
    app.add_exception_handler(RedisError, _database_down)
    app.add_exception_handler(TimeoutError, _database_down)
    app.add_exception_handler(Exception, _unhandled)
