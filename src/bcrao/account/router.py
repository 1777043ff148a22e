"""The caller's own account: download everything (``GET /v1/me/export``) or erase it
(``DELETE /v1/me``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from bcrao.account import export, service
from bcrao.account.schemas import DeleteAccountRequest
from bcrao.auth.deps import CurrentUser
from bcrao.auth.throttle import LoginThrottle
from bcrao.collection import lifecycle
from bcrao.db import utcnow
from bcrao.deps import RuntimeDep, SessionDep
from bcrao.errors import ErrorResponse, Unauthorized

router = APIRouter(prefix="/v1/me", tags=["account"])


@router.get(
    "/export",
    summary="Download all your data",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": (
                "Everything the account owns, streamed as JSON Lines: one object per line with a "
                '"type" (user, campaign, run, post, comment, correction, alert)'
            ),
            "content": {"application/x-ndjson": {}},
        }
    },
)
async def export_account(user: CurrentUser, runtime: RuntimeDep) -> StreamingResponse:
    """Everything the account owns as one JSON Lines download (`Content-Disposition:
    attachment`): the user, then its campaigns, runs, posts, comments, corrections and alerts,
    one object per line with a `"type"`. Streamed, so it works for any amount of data."""
    # Authorized; the stream reads through a session of its own (see bcrao.account.export).
    body = export.export_account(runtime.read_sessionmaker, user_id=user.id)
    filename = f"bcrao-account-{utcnow():%Y-%m-%d}.jsonl"
    return StreamingResponse(
        body,
        media_type=export.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.delete(
    "",
    summary="Delete your account",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        401: {"model": ErrorResponse, "description": "UNAUTHORIZED: not logged in, or the wrong password"},
        429: {"model": ErrorResponse, "description": "RATE_LIMITED: too many wrong passwords"},
    },
)
async def delete_account(
    body: DeleteAccountRequest, user: CurrentUser, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Erase the account and everything it owns, for good; its tokens stop working.

    The body repeats the password. Active runs are cancelled first. 401 `UNAUTHORIZED` for a
    wrong password; 429 `RATE_LIMITED` after too many wrong passwords (they count like failed
    logins)."""
    # Password guesses here count like failed logins: a stolen token must not become an oracle.
    throttle = LoginThrottle(runtime.login_attempts, runtime.settings)
    address = request.client.host if request.client else "unknown"
    await throttle.before_attempt(user.email, address)
    try:
        await service.confirm_password(user, body.password)
    except Unauthorized:
        await throttle.failed(user.email)
        raise
    ended = await service.erase_account(session, user_id=user.id)
    await session.commit()
    await lifecycle.publish_ends(runtime.bus, ended)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
