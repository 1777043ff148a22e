"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.db import session_scope
from bcrao.runtime import Runtime

# Methods that never write: their requests read without a transaction (see
# db.make_read_sessionmaker).
READ_METHODS = frozenset({"GET", "HEAD"})

# Dependencies are coroutines, even where nothing is awaited: FastAPI runs a plain function
# (a class too) in the thread pool, a thread hand-off per request for no work at all.


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; commits when the route returns, rolls back on error.

    Function-scoped (see ``SessionDep``): the commit runs before the response is sent, so
    a client that reads right after a 2xx sees its write, and a failed commit is an error
    response rather than a 2xx for a write that never landed."""
    runtime: Runtime = request.app.state.runtime
    maker = runtime.read_sessionmaker if request.method in READ_METHODS else runtime.sessionmaker
    async with session_scope(maker) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For a POST that only reads (login): no writer lock on SQLite while a password is
    checked, so logins neither queue behind each other nor hold up a collection's writes."""
    runtime: Runtime = request.app.state.runtime
    async with session_scope(runtime.read_sessionmaker) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


class PageParams:
    def __init__(self, page: int = 1, per_page: int = 20) -> None:
        self.page = page
        self.per_page = per_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=100, description="Items per page (1-100)")] = 20,
) -> PageParams:
    return PageParams(page, per_page)


PageDep = Annotated[PageParams, Depends(page_params)]
