from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ThemeStatus = Literal["ready", "computing", "stale", "empty"]
ThemeSort = Literal["-size", "-pain_score", "-direction"]
ReportFormat = Literal["md", "csv"]


class Quote(BaseModel):
    post_id: uuid.UUID
    comment_id: uuid.UUID | None
    reddit_url: str
    text: str = Field(
        description="A sentence cut out of the post's title or text, or of the comment: an exact substring"
    )
    upvotes: int


class WeekCount(BaseModel):
    week: str = Field(description="Monday of the week (ISO date)")
    count: int


class ThemeOut(BaseModel):
    id: int
    label: str = Field(description="The theme's most distinctive terms")
    terms: list[str]
    size: int = Field(description="Posts in the theme")
    share: float = Field(description="Share of the campaign's themed posts (0-1)")
    by_archetype: dict[str, int]
    avg_success_score: float
    pain_score: float = Field(
        description=(
            "0-10: the theme's ProblemSolution posts plus its negative sentences (in posts and"
            " comments), times engagement (1 + the mean log of its posts' upvotes and comments);"
            " the campaign's most painful theme is 10"
        )
    )
    trend: list[WeekCount] = Field(description="Posts per week, the last 8 weeks up to the newest post")
    direction: Literal["rising", "steady", "fading"]
    quotes: list[Quote]


class ThemeList(BaseModel):
    status: ThemeStatus = Field(
        description=(
            "`ready`: computed from the posts stored now; `computing`: being (re)computed, the themes"
            " shown are the previous ones if any; `stale`: posts changed since (a recomputation is"
            " queued); `empty`: not enough posts to find themes"
        )
    )
    computed_at: datetime | None
    total_posts: int
    unassigned: int
    themes: list[ThemeOut]
    message: str | None = Field(
        None, description="Why the themes are not up to date, in words, when they failed"
    )


class RefreshAccepted(BaseModel):
    status: Literal["computing"] = "computing"
