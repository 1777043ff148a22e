from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bcrao.auth import service
from bcrao.auth.models import User
from bcrao.deps import RuntimeDep, SessionDep
from bcrao.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="Access token from /v1/auth/login or /v1/auth/signup")


async def current_user(
    runtime: RuntimeDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    user_id = runtime.signer.user_id_from_access(credentials.credentials)
    user = await service.get_user(session, user_id)
    if user is None:
        raise Unauthorized("Invalid token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
