"""Payloads of the subreddit checks: the names are validated like a campaign's."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bcrao.campaigns.schemas import SubredditName
from bcrao.schemas import RequestBody

MAX_NAMES = 10  # a campaign's own limit: one form's worth of names per call

CheckStatus = Literal["ok", "not_found", "private", "banned", "unknown"]


class CheckRequest(RequestBody):
    model_config = ConfigDict(extra="forbid")

    names: Annotated[
        list[SubredditName],
        # Absurd lists are refused before each name is validated; the rule is below.
        Field(max_length=200, description="1-10 subreddit names (`r/` allowed), answered in this order"),
    ]

    @field_validator("names")
    @classmethod
    def _count(cls, names: list[str]) -> list[str]:
        if not names:
            raise ValueError("must name at least one subreddit")
        if len(names) > MAX_NAMES:
            raise ValueError(f"at most {MAX_NAMES} subreddits per check ({len(names)} given)")
        return names


class CheckResult(BaseModel):
    name: str = Field(description="The name as given, without its `r/` prefix")
    status: CheckStatus
    message: str = Field(description="What the status means for this subreddit, in words")
    suggestion: str | None = Field(None, description="A close existing name, when the source knows one")


class CheckResponse(BaseModel):
    results: list[CheckResult]


class SampleSubreddits(BaseModel):
    subreddits: list[str] = Field(description="The subreddits of the offline sample corpus")
    in_use: bool = Field(description="Whether this server collects from the sample source")
