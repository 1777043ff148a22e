from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from bcrao.errors import ErrorResponse, OpenAPIResponses
from bcrao.schemas import RequestBody
from bcrao.sources.base import SourceStatus

Mode = Literal["hybrid", "fresh", "historical"]
RunStatus = Literal["queued", "running", "complete", "partial", "failed", "cancelled"]
Stage = Literal[
    "queued",
    "fetching",
    "rate_limited",
    "filtering",
    "classifying",
    "scoring",
    "storing",
    "comments",
    "done",
]


MODE_DESCRIPTION = (
    "Which posts are read from each target subreddit. The live sources (Reddit, Apify) search the"
    " subreddit for the campaign's keywords in the order the mode names; the offline `sample`"
    " source picks from its bundled posts the same way.\n\n"
    "- `fresh`: the newest posts (Reddit's `new` order). Incremental: the run resumes after the"
    " newest post the campaign's previous `fresh` run fetched from that subreddit, so collecting"
    " again fetches only what was posted since (possibly nothing).\n"
    "- `historical`: the highest-voted posts of the past year (Reddit's `top` of the year). Not"
    " incremental: the listing is read again in full each time, and posts the campaign already"
    " has are counted as `duplicates`, not stored twice.\n"
    "- `hybrid` (default): half of `max_posts_per_subreddit` (rounded up) from the newest posts,"
    " incremental like `fresh` but with a cursor of its own, and the rest filled with the year's"
    " top posts (a post in both counts once). Scheduled runs use `hybrid`."
)


class CollectRequest(RequestBody):
    model_config = ConfigDict(extra="forbid")

    mode: Mode = Field("hybrid", description=MODE_DESCRIPTION)
    # Strict: ``true`` is not 1 and ``"50"`` is not 50.
    max_posts_per_subreddit: StrictInt = Field(
        100,
        ge=1,
        le=1000,
        description=(
            "Most posts fetched from each target subreddit (1-1000, default 100), counted before the"
            " pre-filter: the run's `scraped` is at most this times the number of subreddits, and"
            " fewer posts are usually kept. Reddit serves 100 posts per listing page, so every"
            " 100 more costs about one request per subreddit (see `POST .../collect/preview`)."
        ),
    )
    comments_per_post: StrictInt | None = Field(
        None,
        ge=0,
        le=500,
        description=(
            "Comments collected under each kept post, best first, `more` replies expanded down to"
            " `BCRAO_COMMENTS_MAX_DEPTH` (8) reply levels (0-500; 0 = no comments; omitted or null: the"
            " server's `BCRAO_COMMENTS_PER_POST`, 50 unless configured). Collecting again stores only"
            " the new replies."
        ),
    )


class CollectAccepted(BaseModel):
    task_id: uuid.UUID
    status: Literal["queued"] = "queued"
    progress_url: str
    stream_token: str
    stream_token_expires_in: int


class StreamToken(BaseModel):
    stream_token: str
    stream_token_expires_in: int


class RunError(BaseModel):
    subreddit: str
    code: str = Field(
        description=(
            "For a subreddit: its source status (blocked, not_found, rate_limited, error); "
            'for the run as a whole (subreddit ""): why it stopped, e.g. executor_lost'
        )
    )
    message: str


class LLMUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    estimated_cost_usd: float
    fallbacks: int


class RunOut(BaseModel):
    task_id: uuid.UUID
    campaign_id: uuid.UUID
    status: RunStatus
    source: str
    classifier: str
    mode: Mode = Field(
        description="The collect body's `mode` (hybrid, fresh or historical; imports: historical)"
    )
    max_posts_per_subreddit: int = Field(
        description="The collect body's limit of posts fetched per subreddit (an import reads its whole file)"
    )
    comments_per_post: int = Field(description="Comments collected per kept post (0 = none)")
    scraped: int = Field(description="Posts fetched from the source")
    filtered: int = Field(description="Posts that passed the pre-filter (`stored + duplicates` at the end)")
    classified: int = Field(description="Posts given an archetype by a classifier")
    stored: int = Field(description="Posts newly stored by this run")
    duplicates: int = Field(description="Passed posts the campaign already had")
    comments_fetched: int
    comments_stored: int
    filter_reasons: dict[str, int]
    errors: list[RunError]
    warnings: list[str]
    source_status: dict[str, SourceStatus] = Field(
        default_factory=dict,
        description="Per subreddit collected so far: ok, empty, blocked, not_found, rate_limited or error",
    )
    llm_usage: LLMUsage
    # The executor's attempt at this run: above 1 it was taken over after its executor was
    # lost, and its counters started again from the first subreddit (the posts stored before
    # count as stored by it, so the totals end where an uninterrupted run's would).
    attempt: int = 1
    resumed: bool = False
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunList(BaseModel):
    runs: list[RunOut]
    total: int
    page: int
    per_page: int


class RejectedOut(BaseModel):
    reddit_post_id: str
    subreddit: str
    title: str
    reason: str
    text_preview: str  # the first 300 characters of the text ("" for samples stored before)
    reddit_url: str | None


class RejectedList(BaseModel):
    rejected: list[RejectedOut]
    total: int
    page: int
    per_page: int


class ProgressData(BaseModel):
    """The JSON ``data`` of a ``progress`` event (terminal events carry the run object + stage)."""

    task_id: uuid.UUID
    status: RunStatus
    stage: Stage
    subreddit: str | None = None
    step: int = 0
    total_steps: int = 0
    scraped: int = 0
    filtered: int = 0
    classified: int = 0
    stored: int = 0
    duplicates: int = 0
    comments_fetched: int = 0
    comments_stored: int = 0
    errors: list[RunError] = []
    warnings: list[str] | None = None
    wait_seconds: float | None = None
    attempt: int = 1
    resumed: bool = False
    ts: datetime


def event_stream_doc() -> OpenAPIResponses:
    """OpenAPI description of the SSE response (FastAPI cannot infer it from a generator)."""
    return {
        200: {
            "description": (
                "Server-Sent Events. Each event has `id:` (positive, increasing), `event:` "
                "(`progress`, or one terminal event `complete` | `partial` | `failed` | `cancelled`, "
                "after which the stream closes) and one line of JSON `data:` (ProgressData for progress; "
                'the run object plus `"stage": "done"` for terminal events). `: keepalive` comments '
                "every 15 s; `retry: 2000` first."
            ),
            "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/ProgressData"}}},
        },
        204: {"description": "Resume id at or after the terminal event: nothing more to send"},
        401: {"model": ErrorResponse, "description": "No valid bearer token or stream token"},
        404: {"model": ErrorResponse, "description": "RESOURCE_NOT_FOUND: no such run of this account"},
        429: {"model": ErrorResponse, "description": "RATE_LIMITED: too many streams open for the account"},
    }


class PreviewRequests(BaseModel):
    listings: int
    comments: int
    total: int = Field(description="Requests the run spends: listings + comments")
    deletion_checks: int = Field(
        0, description="Compliance re-checks of stored posts (100 per request); not part of the run"
    )


class PreviewLLM(BaseModel):
    calls: int
    tokens: int
    usd: float


class PreviewApify(BaseModel):
    results: int
    usd: float


class PreviewBudget(BaseModel):
    remaining: int | None = Field(description="Requests left in the current window (null: unknown)")
    resets_at: datetime | None


class CollectPreview(BaseModel):
    source: str
    requests: PreviewRequests
    minutes: float
    llm: PreviewLLM
    apify: PreviewApify
    budget: PreviewBudget
