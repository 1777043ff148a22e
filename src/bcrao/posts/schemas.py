"""Shapes of the browse endpoints and the one place their query parameters are validated.

``PostFilters`` is both the FastAPI dependency (each argument is a documented query
parameter) and the plain value the services take, so the bench and the export build the
exact same filter the list endpoint does.
"""

from __future__ import annotations

import inspect
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from bcrao.campaigns.schemas import LastRun, normalize_subreddit
from bcrao.errors import ValidationFailed
from bcrao.posts.search import query_words
from bcrao.schemas import RequestBody

Archetype = Literal["Journey", "ProblemSolution", "Feedback", "Unclassified"]
SortKey = Literal[
    "-success_score", "success_score", "-reddit_created_at", "-upvotes", "-comment_count", "-relevance_score"
]
ArchetypeSource = Literal["model", "llm", "user"]
ExportFormat = Literal["csv", "jsonl"]
SearchIn = Literal["posts", "comments", "all"]

# Field order of the post object in API.md; also the CSV header.
POST_FIELDS = (
    "id",
    "campaign_id",
    "run_id",
    "subreddit",
    "reddit_post_id",
    "reddit_url",
    "author",
    "title",
    "raw_text",
    "upvotes",
    "comment_count",
    "upvote_ratio",
    "reddit_created_at",
    "archetype",
    "relevance_score",
    "success_score",
    "is_ai_processed",
    "classifier",
    "collected_at",
    "archetype_confidence",
    "archetype_source",
    "archetype_reasons",
    "matched_keywords",
    "comments_collected",
)
SNIPPET_CHARS = 300

ARCHETYPE_DESCRIPTION = (
    "The author's dominant intent, one label per kept post:\n\n"
    '- `Journey`: a personal story or experience ("I launched...", "My first year freelancing").\n'
    '- `ProblemSolution`: asks for or offers a solution to a concrete problem ("How do I...?",'
    ' "What tool should I use...?", a how-to).\n'
    '- `Feedback`: asks for or gives opinions, critiques, reviews or recommendations ("Roast my'
    ' landing page", "What do you think of...?", a rant about a practice).\n'
    "- `Unclassified`: no classifier labelled it (posts stored before every kept post was"
    " labelled, or whose classification failed; the run's warnings count those).\n\n"
    "A post that fits none of the three gets the closest one with a low `archetype_confidence`."
)
SUCCESS_DESCRIPTION = (
    "How well the post did in its own subreddit, 0-10 (2 decimals; higher is better), judged"
    " against the other posts fetched from that subreddit in the same run, so 50 upvotes in a"
    " small community can beat 500 in a large one. Parts: upvotes percentile (up to 3),"
    " comments percentile (2.5), discussion depth - comments per upvote (1.5), upvote ratio"
    " (1.5), personal voice (1.5), minus up to 2 each for marketing jargon and link density."
    " The detail's `score_breakdown` shows each part. The default sort (`-success_score`);"
    " `min_score` and `max_score` bound it."
)
RELEVANCE_DESCRIPTION = (
    "How promising the post is for the campaign's research, 0-10 (2 decimals), given by the"
    " pre-filter: the campaign's keywords (title mentions count double; up to 2.5), personal voice"
    " (1.5), specifics such as money, percentages, MRR or durations (1.5), a question (1),"
    " emotion words (1), storytelling (1), length (0.75) and engagement (0.75), the last two"
    " log-scaled. The LLM, when configured, refines the labels of each run's most relevant"
    " posts. Sort with `-relevance_score`."
)
MAX_SEARCH_WORDS = 10


class PostFilters:
    """List/export filters. Single-field rules are declared on the parameters (FastAPI names
    the field in its 422); rules that need normalising or span fields raise ``ValidationFailed``."""

    def __init__(
        self,
        archetype: Annotated[
            Archetype | None, Query(description="Only posts with this archetype (see the post's `archetype`)")
        ] = None,
        subreddit: Annotated[
            str | None,
            Query(
                max_length=64,
                description=(
                    "Only posts of this subreddit (case-insensitive, `r/` allowed; an invalid name: 422)"
                ),
            ),
        ] = None,
        min_score: Annotated[
            float | None,
            Query(ge=0, le=10, description="Lowest `success_score`, 0-10 inclusive (above `max_score`: 422)"),
        ] = None,
        max_score: Annotated[
            float | None, Query(ge=0, le=10, description="Highest `success_score`, 0-10 inclusive")
        ] = None,
        q: Annotated[
            str | None,
            Query(
                max_length=200,
                description=(
                    "Words that must each begin a word of the title or text, or of the comments"
                    " with `search_in` (case-insensitive; 'churn' finds 'churned'; at most 10 words)"
                ),
            ),
        ] = None,
        search_in: Annotated[
            SearchIn,
            Query(
                description=(
                    "Where `q` looks: `posts` (title and text), `comments` (the stored comments'"
                    " bodies) or `all` (each word in either)"
                )
            ),
        ] = "posts",
        min_confidence: Annotated[
            float | None,
            Query(ge=0, le=1, description="Lowest archetype_confidence (0-1, inclusive)"),
        ] = None,
        archetype_source: Annotated[
            ArchetypeSource | None,
            Query(description="Only posts labelled by `model` (offline), `llm` or `user` (a correction)"),
        ] = None,
        mentions_keywords: Annotated[
            bool | None,
            Query(
                description="true: only posts that mention a campaign keyword; false: only those that do not"
            ),
        ] = None,
        include_noise: Annotated[
            bool, Query(description="Also list posts you marked as noise (hidden by default)")
        ] = False,
        sort: Annotated[
            SortKey,
            Query(
                description=(
                    "`-success_score` (default, best first), `success_score`, `-reddit_created_at`"
                    " (newest first), `-upvotes`, `-comment_count` or `-relevance_score`; ties are"
                    " broken by post id, so pages are stable"
                )
            ),
        ] = "-success_score",
    ) -> None:
        if min_score is not None and max_score is not None and min_score > max_score:
            raise ValidationFailed("min_score", "min_score must not be greater than max_score")
        self.archetype = archetype
        self.subreddit_key: str | None = None
        if subreddit is not None and subreddit.strip():
            try:
                self.subreddit_key = normalize_subreddit(subreddit).lower()
            except ValueError as exc:
                raise ValidationFailed("subreddit", str(exc)) from None
        self.min_score = min_score
        self.max_score = max_score
        self.min_confidence = min_confidence
        self.archetype_source = archetype_source
        self.mentions_keywords = mentions_keywords
        self.include_noise = include_noise
        # Whether lists need the "not noise" condition; the routers clear it for a campaign
        # with no noise posts (``for_campaign``).
        self.hide_noise = not include_noise
        raw_words = (q or "").split()
        if len(raw_words) > MAX_SEARCH_WORDS:
            raise ValidationFailed("q", f"at most {MAX_SEARCH_WORDS} search words")
        self.words = tuple(query_words(raw_words))
        self.search_in: str = search_in
        # Set by the themes router: only the posts of one theme (of one computation).
        self.theme: int | None = None
        self.theme_generation = 0
        self.sort: str = sort

    def for_campaign(self, noise_posts: int) -> PostFilters:
        self.hide_noise = self.hide_noise and noise_posts > 0
        return self

    @property
    def counts_matches(self) -> bool:
        """Filters that ``post_counts`` (archetype x subreddit x score bucket) cannot total."""
        return (
            bool(self.words)
            or self.min_confidence is not None
            or self.archetype_source is not None
            or self.mentions_keywords is not None
            or self.include_noise  # post_counts leave noise out
            or self.theme is not None
        )

    def __repr__(self) -> str:
        return f"PostFilters({vars(self)!r})"


async def post_filters(**params: Any) -> PostFilters:
    return PostFilters(**params)


# The query parameters stay declared once, on PostFilters (they are its OpenAPI
# description); the dependency is a coroutine because FastAPI runs a class dependency in
# its thread pool, a thread hand-off per request for a few comparisons.
post_filters.__signature__ = inspect.signature(PostFilters).replace(  # type: ignore[attr-defined]
    return_annotation=PostFilters
)
PostFiltersDep = Annotated[PostFilters, Depends(post_filters)]


class PostOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    run_id: uuid.UUID | None
    subreddit: str
    reddit_post_id: str
    reddit_url: str
    author: str | None
    title: str
    raw_text: str
    upvotes: int
    comment_count: int
    upvote_ratio: float | None
    reddit_created_at: datetime
    archetype: Archetype = Field(description=ARCHETYPE_DESCRIPTION)
    relevance_score: float = Field(description=RELEVANCE_DESCRIPTION)
    success_score: float = Field(description=SUCCESS_DESCRIPTION)
    is_ai_processed: bool = Field(description="True only when the LLM classifier assigned the archetype")
    classifier: str | None = Field(
        description=(
            "What assigned the archetype: `model` (the trained offline model), `rules` (the offline"
            " rules classifier), `llm` or `user`; null for Unclassified"
        )
    )
    collected_at: datetime
    archetype_confidence: float | None = Field(
        description=(
            "How sure the labeller was of `archetype`, 0-1. For `archetype_source: model`, the"
            " classifier's calibrated probability (0.34-1 with three classes): under 0.6 is a close"
            ' call the dashboard marks "unsure" (filter with `min_confidence`). For `llm`, the'
            " LLM's own estimate; 1 for a user's label; null for Unclassified."
        )
    )
    archetype_source: ArchetypeSource | None = Field(
        description=(
            "Who chose the archetype: `model` (the offline classifier every kept post gets), `llm`"
            " (the LLM refined it: the most relevant share of each run's posts, when an LLM is"
            " configured) or `user` (your correction, `PUT .../label`); null for Unclassified"
        )
    )
    archetype_reasons: list[str] = Field(
        description="The words, phrases and shapes that pushed the archetype above the others most (up to 5)"
    )
    matched_keywords: list[str] = Field(
        description=(
            "The campaign's keywords found in the title or text (case-insensitive, on word"
            " boundaries), spelled as in the campaign; empty when it mentions none (filter with"
            " `mentions_keywords`)"
        )
    )
    comments_collected: int = Field(description="Comments of this post stored so far")

    @field_serializer("archetype_reasons", "matched_keywords")
    def _lists(self, values: list[str] | None) -> list[str]:
        return values or []  # rows are built unvalidated (model_construct); stored NULL reads as []


class PostDetail(PostOut):
    score_breakdown: dict[str, Any] = Field(
        description=(
            "Each component's contribution to `success_score` (upvotes_percentile,"
            " comments_percentile, discussion_depth, upvote_ratio, personal_voice, jargon_penalty,"
            " link_penalty) and their clamped `total`"
        )
    )
    relevance_breakdown: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Why the post was kept as relevant: each relevance signal's points (keywords_title,"
            " keywords_text, context, personal_voice, question, emotion, specifics, story, length,"
            " engagement), summing to `relevance_score`; empty for posts stored before it was kept"
        ),
    )


class PostList(BaseModel):
    posts: list[PostOut]
    total: int
    page: int
    per_page: int


class Funnel(BaseModel):
    scraped: int = 0
    filtered: int = 0
    classified: int = 0
    stored: int = 0


class HistogramBucket(BaseModel):
    min: int
    max: int
    count: int


class CommentStats(BaseModel):
    total: int = 0
    posts_with_comments: int = 0


class CollectionStats(BaseModel):
    total: int
    by_archetype: dict[str, int]
    by_subreddit: dict[str, int]
    avg_success_score: float | None
    funnel: Funnel
    filter_reasons: dict[str, int]
    score_histogram: list[HistogramBucket]
    runs: int
    runs_remaining_this_week: int | None
    last_run: LastRun | None
    comments: CommentStats = CommentStats()
    purged: int = 0  # posts and comments purged after deletion on Reddit or retention


class LabelRequest(RequestBody):
    model_config = ConfigDict(extra="forbid")

    archetype: Literal["Journey", "ProblemSolution", "Feedback"]


class CorrectionOut(BaseModel):
    id: uuid.UUID
    kind: Literal["label", "noise", "keep"]
    post_id: uuid.UUID | None
    reddit_post_id: str
    archetype: str | None
    created_at: datetime


class CorrectionList(BaseModel):
    corrections: list[CorrectionOut]
    total: int
    page: int
    per_page: int
