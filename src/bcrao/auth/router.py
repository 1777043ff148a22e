from __future__ import annotations

from fastapi import APIRouter, Request, status

from bcrao.auth import service
from bcrao.auth.deps import CurrentUser
from bcrao.auth.models import User
from bcrao.auth.schemas import Credentials, LoginRequest, TokenResponse, UserOut, UserSummary
from bcrao.auth.throttle import LoginThrottle
from bcrao.deps import ReadSessionDep, RuntimeDep, SessionDep
from bcrao.errors import ErrorResponse, Unauthorized
from bcrao.runtime import Runtime

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _token_response(runtime: Runtime, user: User) -> TokenResponse:
    return TokenResponse(
        access_token=runtime.signer.access_token(user.id),
        expires_in=runtime.settings.access_token_ttl_seconds,
        user=UserSummary(id=user.id, email=user.email, plan=user.plan),
    )


@router.post(
    "/signup",
    summary="Create an account",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenResponse,
    responses={409: {"model": ErrorResponse, "description": "CONFLICT: the email is taken"}},
)
async def signup(body: Credentials, runtime: RuntimeDep, session: SessionDep) -> TokenResponse:
    """Create an account (on the `trial` plan) from an email address and a password of at
    least 8 characters, and get an access token to send as `Authorization: Bearer <token>`
    (valid for `expires_in` seconds). 409 `CONFLICT` when the email is already registered
    (case-insensitive); 422 for an invalid email address or a short password."""
    user = await service.create_user(session, email=body.email, password=body.password)
    return _token_response(runtime, user)


@router.post(
    "/login",
    summary="Log in",
    response_model=TokenResponse,
    responses={429: {"model": ErrorResponse, "description": "RATE_LIMITED: too many attempts"}},
)
async def login(
    body: LoginRequest, request: Request, runtime: RuntimeDep, session: ReadSessionDep
) -> TokenResponse:
    """Exchange email and password for a fresh access token (same answer as signup).
    401 `UNAUTHORIZED` for a wrong email or password, with the same message for both;
    429 `RATE_LIMITED` after too many attempts for the account or from the address."""
    address = request.client.host if request.client else "unknown"
    email = service.normalize_email(body.email)
    throttle = LoginThrottle(runtime.login_attempts, runtime.settings)
    await throttle.before_attempt(email, address)
    try:
        user = await service.authenticate(session, email=email, password=body.password)
    except Unauthorized:
        await throttle.failed(email)
        raise
    await throttle.succeeded(email, address)
    return _token_response(runtime, user)


@router.get("/me", summary="Current account", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    """The account the access token belongs to: id, email, plan (which sets the weekly run
    allowance) and when it was created. 401 `UNAUTHORIZED` without a valid token."""
    return UserOut(id=user.id, email=user.email, plan=user.plan, created_at=user.created_at)
