"""Campaign payloads and every validation rule of the contract.

Errors point at the offending item (``target_subreddits.2``) so the dashboard can show
them inline next to the right chip.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bcrao.monitoring.schedule_schemas import ScheduleIn, ScheduleOut
from bcrao.schemas import RequestBody, single_line

SUBREDDIT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")  # always fullmatch: "$" matches before a "\n"
_PREFIX_RE = re.compile(r"^/?r/", re.IGNORECASE)

MAX_SUBREDDITS = 10  # refused beyond, never cut: a dropped subreddit would go unnoticed

CampaignStatus = Literal["active", "paused", "archived"]


def normalize_subreddit(value: str) -> str:
    """``r/SaaS``, ``/r/SaaS`` and ``SaaS`` are the same subreddit."""
    name = _PREFIX_RE.sub("", value.strip(), count=1).rstrip("/")
    if not SUBREDDIT_RE.fullmatch(name):
        raise ValueError(
            "must be a subreddit name: 2-21 letters, digits or underscores (no spaces or hyphens),"
            " not starting with an underscore, like SaaS or r/SaaS"
        )
    return name


def _dedupe(values: list[str]) -> list[str]:
    """Case-insensitive de-duplication keeping the first spelling."""
    seen: set[str] = set()
    out = []
    for v in values:
        if v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return out


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError("must be an http(s) URL")
    return value


SubredditName = Annotated[str, StringConstraints(max_length=64), AfterValidator(normalize_subreddit)]
Keyword = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), AfterValidator(single_line)
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(single_line)
]
ProductContext = Annotated[str, StringConstraints(max_length=5000)]
ProductUrl = Annotated[str | None, StringConstraints(max_length=2048), AfterValidator(_check_url)]
# Raw list lengths are bounded before de-duplication only to refuse absurd payloads.
KeywordList = Annotated[list[Keyword], Field(min_length=1, max_length=200)]
SubredditList = Annotated[list[SubredditName], Field(min_length=1, max_length=200)]


def _keywords_rule(values: list[str]) -> list[str]:
    values = _dedupe(values)
    if not 1 <= len(values) <= 15:
        raise ValueError("must have 1-15 distinct keywords")
    return values


def _subreddits_rule(values: list[str]) -> list[str]:
    values = _dedupe(values)
    if not values:
        raise ValueError("must name at least one subreddit")
    if len(values) > MAX_SUBREDDITS:
        raise ValueError(
            f"at most {MAX_SUBREDDITS} subreddits per campaign ({len(values)} given):"
            f" remove {len(values) - MAX_SUBREDDITS} or split them over two campaigns"
        )
    return values


class CampaignCreate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    name: Name
    product_context: ProductContext = ""
    product_url: ProductUrl = None
    keywords: KeywordList
    target_subreddits: SubredditList
    status: CampaignStatus = "active"

    @field_validator("keywords")
    @classmethod
    def _kw(cls, value: list[str]) -> list[str]:
        return _keywords_rule(value)

    @field_validator("target_subreddits")
    @classmethod
    def _subs(cls, value: list[str]) -> list[str]:
        return _subreddits_rule(value)


class CampaignUpdate(RequestBody):
    """Any subset of the writable fields; only ``product_url`` may be set to null."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    product_context: ProductContext | None = None
    product_url: ProductUrl = None
    keywords: KeywordList | None = None
    target_subreddits: SubredditList | None = None
    status: CampaignStatus | None = None
    schedule: ScheduleIn | None = None

    @field_validator(
        "name", "product_context", "keywords", "target_subreddits", "status", "schedule", mode="before"
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value

    @field_validator("keywords")
    @classmethod
    def _kw(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _keywords_rule(value)

    @field_validator("target_subreddits")
    @classmethod
    def _subs(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _subreddits_rule(value)

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class LastRun(BaseModel):
    task_id: uuid.UUID
    status: str
    created_at: datetime
    finished_at: datetime | None


class CampaignStats(BaseModel):
    posts_collected: int = 0
    runs: int = 0
    last_run: LastRun | None = None


class CampaignOut(BaseModel):
    id: uuid.UUID
    name: str
    product_context: str
    product_url: str | None
    keywords: list[str]
    target_subreddits: list[str]
    status: CampaignStatus
    created_at: datetime
    updated_at: datetime
    stats: CampaignStats
    schedule: ScheduleOut


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]
    total: int
    page: int
    per_page: int
