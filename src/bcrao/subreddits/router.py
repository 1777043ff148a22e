"""Subreddit checks before a run, and the sample corpus's names for the campaign form."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from bcrao.auth import service as auth
from bcrao.auth.deps import TokenUserId
from bcrao.config import SourceName
from bcrao.deps import RuntimeDep
from bcrao.errors import Unauthorized
from bcrao.sources import sample
from bcrao.subreddits.schemas import CheckRequest, CheckResponse, CheckResult, SampleSubreddits

router = APIRouter(prefix="/v1/subreddits", tags=["subreddits"])


async def caller_id(user_id: TokenUserId, runtime: RuntimeDep) -> uuid.UUID:
    """The caller's account exists; checked in a session closed at once, because a check
    waits on Reddit for seconds and must hold no database connection (nor SQLite's lock)."""
    async with runtime.read_sessionmaker() as session:
        if await auth.get_user(session, user_id) is None:
            raise Unauthorized("Invalid token")
    return user_id


CallerId = Annotated[uuid.UUID, Depends(caller_id)]


@router.post("/check", summary="Check subreddit names", response_model=CheckResponse)
async def check_subreddits(body: CheckRequest, _caller: CallerId, runtime: RuntimeDep) -> CheckResponse:
    """Whether each subreddit exists and can be read by the configured source.

    `unknown` when the source cannot tell (offline, rate limited, Apify); a check is advice,
    it never fails because the source does.
    """
    answers = await runtime.subreddits.check(body.names)
    return CheckResponse(
        results=[
            CheckResult(name=a.name, status=a.status, message=a.message, suggestion=a.suggestion)
            for a in answers
        ]
    )


@router.get("/sample", summary="List the sample corpus's subreddits", response_model=SampleSubreddits)
async def sample_subreddits(_caller: CallerId, runtime: RuntimeDep) -> SampleSubreddits:
    """The offline sample corpus's subreddits (what a `sample` run can collect)."""
    return SampleSubreddits(
        subreddits=sample.subreddits(), in_use=runtime.settings.source is SourceName.sample
    )
