"""Who is calling: the access token's user, loaded together with the resource they ask for.

A route that names a resource (a campaign, a run) checks the token, then loads the user
and that resource in one query (``owned_by_caller``). The user lands in the session's
identity map, so ``CurrentUser`` in the same request is answered without another query.
Every request still reads the user row: a deleted account's unexpired token is refused.
"""

from __future__ import annotations

import functools
import uuid
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.auth import service
from bcrao.auth.models import User
from bcrao.db import Base
from bcrao.deps import SessionDep
from bcrao.errors import NotFound, Unauthorized

bearer = HTTPBearer(auto_error=False, description="Access token from /v1/auth/login or /v1/auth/signup")

T = TypeVar("T", bound=Base)  # a model with id and user_id columns


async def token_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> uuid.UUID:
    """The user id a valid, unexpired access token names (not yet checked against the users)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    user_id: uuid.UUID = request.app.state.runtime.signer.user_id_from_access(credentials.credentials)
    return user_id


TokenUserId = Annotated[uuid.UUID, Depends(token_user_id)]


async def current_user(user_id: TokenUserId, session: SessionDep) -> User:
    user = await service.get_user(session, user_id)
    if user is None:
        raise Unauthorized("Invalid token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@functools.cache
def _owned_query(model: Any) -> Select[User, Any]:
    """Built once per model: the SQL is the same for every request, only the ids change, and
    building and cache-keying the statement is a good part of a short query's CPU."""
    return (
        select(User, model)
        .outerjoin(model, and_(model.id == bindparam("resource_id"), model.user_id == User.id))
        .where(User.id == bindparam("user_id"))
    )


async def owned_by_caller(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    model: type[T],
    resource_id: uuid.UUID,
    not_found: type[NotFound],
) -> T:
    """``model`` row ``resource_id`` if the token's user exists and owns it.

    401 when the user is gone (checked first, as a separate ``CurrentUser`` would), else
    404 when the row is missing or someone else's.
    """
    row = (
        await session.execute(_owned_query(model), {"resource_id": resource_id, "user_id": user_id})
    ).first()
    if row is None:
        raise Unauthorized("Invalid token")
    # The identity map holds objects weakly: keep the user alive for CurrentUser to find.
    session.info["caller"] = row[0]
    resource: T | None = row[1]
    if resource is None:
        raise not_found()
    return resource
