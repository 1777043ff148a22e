"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.db import session_scope
from bcrao.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; commits when the route returns, rolls back on error."""
    async with session_scope(request.app.state.runtime.sessionmaker) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


class PageParams:
    def __init__(
        self,
        page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
        per_page: Annotated[int, Query(ge=1, le=100, description="Items per page (1-100)")] = 20,
    ) -> None:
        self.page = page
        self.per_page = per_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


PageDep = Annotated[PageParams, Depends()]
