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
    status_code=status.HTTP_201_CREATED,
    response_model=TokenResponse,
    responses={409: {"model": ErrorResponse, "description": "CONFLICT: the email is taken"}},
)
async def signup(body: Credentials, runtime: RuntimeDep, session: SessionDep) -> TokenResponse:
    user = await service.create_user(session, email=body.email, password=body.password)
    return _token_response(runtime, user)


@router.post(
    "/login",
    response_model=TokenResponse,
    responses={429: {"model": ErrorResponse, "description": "RATE_LIMITED: too many attempts"}},
)
async def login(
    body: LoginRequest, request: Request, runtime: RuntimeDep, session: ReadSessionDep
) -> TokenResponse:
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


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return UserOut(id=user.id, email=user.email, plan=user.plan, created_at=user.created_at)
