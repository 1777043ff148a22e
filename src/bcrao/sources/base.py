"""The one post shape every source produces, and the interface sources implement."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

Mode = Literal["fresh", "historical", "hybrid"]


@dataclass(slots=True)
class NormalizedPost:
    """A Reddit submission reduced to what the pipeline needs, whatever the source."""

    id: str  # Reddit base-36 id without the ``t3_`` prefix
    subreddit: str
    title: str
    text: str  # selftext; "" for link and title-only posts
    author: str | None  # None when deleted
    url: str  # the link target (equals permalink URL for self posts)
    permalink: str  # absolute https://www.reddit.com/r/.../comments/... URL
    upvotes: int
    comment_count: int
    upvote_ratio: float | None
    created_utc: datetime
    is_self: bool = True
    stickied: bool = False
    over_18: bool = False
    removed: bool = False  # removed by moderators or deleted by the author
    is_crosspost: bool = False
    distinguished: str | None = None
    link_flair_text: str | None = None
    lang: str | None = None


@dataclass(slots=True)
class FetchRequest:
    subreddit: str
    keywords: list[str]
    mode: Mode
    limit: int
    # Incremental collection: only posts created after this one are wanted (None = all).
    newer_than: datetime | None = None
    newer_than_id: str | None = None
    # Comments wanted per kept post later (sources that fetch them with the posts use it).
    comments_per_post: int = 0


@dataclass(slots=True)
class FetchResult:
    posts: list[NormalizedPost]
    requests: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NormalizedComment:
    """A comment reduced to what we store; ``author`` and ``body`` are None when it was
    deleted or removed (it keeps its place in the tree)."""

    id: str  # base-36 id without ``t1_``
    post_id: str  # base-36 id of the post, without ``t3_``
    parent_id: str  # fullname: ``t3_<post>`` for a top-level comment, else ``t1_<comment>``
    depth: int
    author: str | None
    body: str | None
    upvotes: int
    created_utc: datetime
    is_deleted: bool = False
    distinguished: str | None = None
    stickied: bool = False


@dataclass(slots=True)
class CommentRequest:
    post_id: str  # base-36, without ``t3_``
    subreddit: str
    limit: int  # comments wanted, best first
    max_depth: int  # 0 = top-level comments only


@dataclass(slots=True)
class CommentResult:
    comments: list[NormalizedComment]
    requests: int = 0
    post_gone: bool = False  # the post was deleted (or became unreadable) since it was listed
    # How: "deleted" by its author, "removed" by moderators or Reddit, "" when the source
    # only knows the post is no longer there (its page answered 404).
    gone_as: str = ""


SubredditStatus = Literal["ok", "not_found", "private", "banned", "unknown"]


@dataclass(slots=True, frozen=True)
class SubredditCheck:
    """What a source can say about a subreddit before a run; ``unknown`` when it cannot tell
    (offline, rate limited, a source with no way to ask)."""

    name: str
    status: SubredditStatus
    message: str
    suggestion: str | None = None  # a close existing name, when the source knows one


# What a re-check on Reddit found of a stored post or comment (by fullname, t3_/t1_).
ItemState = Literal["ok", "deleted", "removed"]

# What a run says of each subreddit (``collection_runs.source_status``, the run's errors'
# ``code``): a founder must tell "Reddit refused us" from "this community is gone" from
# "too fast, try later" from "nothing there", because each asks for a different fix.
SourceStatus = Literal["ok", "empty", "blocked", "not_found", "rate_limited", "error"]

# The sources' detailed codes, reduced to a status; any other code is ``error``.
_STATUS_OF_CODE: dict[str, SourceStatus] = {
    "auth_failed": "blocked",
    "access_blocked": "blocked",
    "subreddit_private": "not_found",
    "subreddit_banned": "not_found",
    "subreddit_not_found": "not_found",
    "rate_limited": "rate_limited",
}

BLOCKED_MESSAGE = (
    "Reddit refused access: your app is not approved for this API or its credentials were rejected"
)


HealthStatus = Literal["ok", "blocked", "unreachable", "unconfigured"]


@dataclass(slots=True, frozen=True)
class SourceHealth:
    """What one cheap request says about the source as a whole (``GET /v1/sources/health``)."""

    status: HealthStatus
    message: str


class SourceError(Exception):
    """A subreddit could not be fetched. ``code`` is the source's precise reason (e.g.
    ``subreddit_private``, which subreddit checks report as such); ``status`` is what a
    run records for the subreddit."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> SourceStatus:
        return _STATUS_OF_CODE.get(self.code, "error")


# Called by a source while it waits out a rate limit so progress can say so.
WaitCallback = Callable[[float], Awaitable[None]]


class PostSource(Protocol):
    name: str

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        """Return the subreddit's posts, newest first; raise ``SourceError`` per subreddit."""
        ...

    async def fetch_comments(
        self, request: CommentRequest, *, on_wait: WaitCallback | None = None
    ) -> CommentResult:
        """The post's comments in tree order (depth-first, best first among siblings), at
        most ``limit``, none deeper than ``max_depth``; raise ``SourceError`` on failure."""
        ...

    async def check_subreddit(self, name: str) -> SubredditCheck:
        """Whether ``name`` (a valid, prefix-free name) can be collected; never raises for
        an answer the source cannot give, it says ``unknown`` instead."""
        ...

    async def fetch_info(
        self, fullnames: list[str], *, on_wait: WaitCallback | None = None
    ) -> dict[str, ItemState] | None:
        """Whether stored items still exist on Reddit (``/api/info``); an item missing from the
        answer is deleted. None when the source cannot tell (then nothing is purged)."""

    async def probe(self) -> SourceHealth:
        """One cheap request that tells whether collecting can work at all (credentials
        accepted, API reachable); never raises for an answer it can give."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class PagedSource(PostSource, Protocol):
    """A source that can also hand a subreddit over in pages (an import), which the
    pipeline then processes one page at a time."""

    def fetch_pages(
        self, request: FetchRequest, *, on_wait: WaitCallback | None = None
    ) -> AsyncGenerator[FetchResult, None]: ...
