from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationInfo, field_validator

from bcrao.campaigns.schemas import Keyword, SubredditName, _check_url
from bcrao.schemas import RequestBody

Channel = Literal["webhook", "email"]
Digest = Literal["instant", "daily", "weekly"]
LabelledArchetype = Literal["Journey", "ProblemSolution", "Feedback"]
Score = Annotated[StrictInt | StrictFloat, Field(ge=0, le=10)]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_target(channel: str, target: str) -> str:
    target = target.strip()
    if channel == "email":
        if not _EMAIL.fullmatch(target) or len(target) > 254:
            raise ValueError("must be an email address, like founder@example.com")
        return target
    checked = _check_url(target)
    assert checked is not None
    return checked


class AlertRules(RequestBody):
    """Which new posts qualify; an empty list or a null minimum means "any"."""

    archetypes: list[LabelledArchetype] = Field(default_factory=list, max_length=3)
    min_success_score: Score | None = None
    min_relevance: Score | None = None
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)
    subreddits: list[SubredditName] = Field(default_factory=list, max_length=10)


class AlertCreate(AlertRules):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    target: str = Field(max_length=2048, description="The webhook URL (http/https) or the email address")
    digest: Digest = "instant"
    active: bool = True

    @field_validator("target")
    @classmethod
    def _target(cls, value: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        return _check_target(channel, value) if channel else value


class AlertUpdate(RequestBody):
    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(None, max_length=2048)
    digest: Digest | None = None
    archetypes: list[LabelledArchetype] | None = Field(None, max_length=3)
    min_success_score: Score | None = None
    min_relevance: Score | None = None
    keywords: list[Keyword] | None = Field(None, max_length=20)
    subreddits: list[SubredditName] | None = Field(None, max_length=10)
    active: bool | None = None

    @field_validator("target", "digest", "archetypes", "keywords", "subreddits", "active", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class AlertOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    channel: Channel
    target: str
    digest: Digest
    archetypes: list[str]
    min_success_score: float | None
    min_relevance: float | None
    keywords: list[str]
    subreddits: list[str]
    active: bool
    created_at: datetime


class AlertCreated(AlertOut):
    secret: str | None = Field(None, description="Webhook signing secret: shown this once, keep it")


class AlertList(BaseModel):
    alerts: list[AlertOut]


class DeliveryOut(BaseModel):
    id: uuid.UUID
    kind: Literal["instant", "digest", "test"]
    status: Literal["sent", "failed", "retrying"]
    attempts: int
    response: str | None = Field(
        None, description="The receiver's answer (HTTP status, SMTP reply) or what failed"
    )
    post_ids: list[uuid.UUID] = Field(description="The best new posts, at most 25, listed in the message")
    post_total: int = Field(
        description="Every new post the delivery announces (the rest are counted and linked)"
    )
    created_at: datetime
    sent_at: datetime | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
    total: int
    page: int
    per_page: int


class TestAccepted(BaseModel):
    delivery_id: uuid.UUID
    status: Literal["retrying"] = "retrying"
