"""The ``apify`` source: a Reddit scraper actor on Apify instead of Reddit's own API.

For operators without Reddit API credentials (or who need more than the API's 1,000-item
listings). One actor run per subreddit: start it with the subreddit URL or the search
terms, wait for it within ``apify_timeout_seconds``, read its default dataset and keep the
post items (the actor also emits comments, communities and users). apify-client does the
HTTP, its retries with backoff and the run polling; this module maps the actor's item
shape and its failures onto ours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from apify_client import ApifyClientAsync
from apify_client.errors import (
    ApifyApiError,
    ApifyClientError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    UnauthorizedError,
)

from bcrao.config import Settings
from bcrao.sources.base import FetchRequest, FetchResult, NormalizedPost, SourceError, WaitCallback

log = logging.getLogger(__name__)

REDDIT_WWW = "https://www.reddit.com"
REMOVED_BODIES = frozenset({"[removed]", "[deleted]"})
_FAILED = {"FAILED": "failed", "ABORTED": "was aborted", "ABORTING": "was aborted"}


class ApifySource:
    name = "apify"

    def __init__(self, settings: Settings, *, max_retries: int = 3, retry_delay: float = 0.5) -> None:
        if settings.apify_token is None:
            raise ValueError("the apify source needs an Apify token")
        self._settings = settings
        self._max_retries = max_retries
        self._retry_delay = retry_delay

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        settings = self._settings
        assert settings.apify_token is not None
        # A client per fetch: its HTTP session belongs to the running event loop.
        client = ApifyClientAsync(
            settings.apify_token.get_secret_value(),
            api_url=settings.apify_base_url,
            max_retries=self._max_retries,
            min_delay_between_retries=timedelta(seconds=self._retry_delay),
        )
        sub = request.subreddit
        with _translated_errors(sub, client):
            run = await client.actor(settings.apify_actor_id).call(
                run_input=actor_input(request),
                max_items=_max_items(request),
                wait_duration=timedelta(seconds=settings.apify_timeout_seconds),
                logger=None,  # no log streaming: it would hold one more long request per run
            )
        if run is None:
            raise SourceError("actor_failed", f"r/{sub}: the Apify run disappeared before it finished")
        if run.status in ("READY", "RUNNING"):
            await _abort(client, run.id)
        if run.status != "SUCCEEDED":
            if run.status in _FAILED:
                raise SourceError(
                    "actor_failed",
                    f"r/{sub}: the Apify actor {_FAILED[run.status]} ({run.status_message or 'no message'})",
                )
            raise SourceError(
                "timeout",
                f"r/{sub}: the Apify run did not finish within {settings.apify_timeout_seconds:.0f}s",
            )
        with _translated_errors(sub, client):
            posts = await self._read_posts(client, run.default_dataset_id, request)
        stats = getattr(client, "_statistics", None)  # apify-client counts requests, retries included
        return FetchResult(posts=posts, requests=int(getattr(stats, "requests", 0)))

    async def _read_posts(
        self, client: ApifyClientAsync, dataset_id: str, request: FetchRequest
    ) -> list[NormalizedPost]:
        posts: dict[str, NormalizedPost] = {}
        newer_than = request.newer_than
        if newer_than is not None and newer_than.tzinfo is None:
            newer_than = newer_than.replace(tzinfo=UTC)
        async for item in client.dataset(dataset_id).iterate_items(clean=True):
            post = from_apify_item(item)
            if post is None or post.id in posts:
                continue
            if newer_than is not None and post.created_utc <= newer_than:
                continue
            posts[post.id] = post
            if len(posts) >= request.limit:
                break
        return sorted(posts.values(), key=lambda p: p.created_utc, reverse=True)

    async def aclose(self) -> None:
        """Nothing is held between fetches."""


def actor_input(request: FetchRequest) -> dict[str, Any]:
    """Input for Reddit-scraper actors of the ``trudax/reddit-scraper(-lite)`` family."""
    sorts = {"fresh": ["new"], "historical": ["top"], "hybrid": ["new", "top"]}[request.mode]
    common: dict[str, Any] = {
        "maxItems": _max_items(request),
        "maxPostCount": request.limit,
        "maxComments": 0,
        "skipComments": True,
        "skipUserPosts": True,
        "skipCommunity": True,
        "includeNSFW": True,  # the pre-filter decides, with a recorded reason
        "proxy": {"useApifyProxy": True},
    }
    if request.newer_than is not None:
        common["postDateLimit"] = request.newer_than.date().isoformat()
    keywords = [k.strip() for k in request.keywords if k.strip()]
    if keywords:
        return {
            **common,
            "searches": keywords,
            "searchCommunityName": request.subreddit,
            "searchPosts": True,
            "searchComments": False,
            "searchCommunities": False,
            "searchUsers": False,
            "sort": sorts[0],
            "time": "year" if sorts[0] == "top" else "all",
        }
    urls = [
        f"{REDDIT_WWW}/r/{request.subreddit}/{sort}/" + ("?t=year" if sort == "top" else "") for sort in sorts
    ]
    return {**common, "startUrls": [{"url": url} for url in urls]}


def _max_items(request: FetchRequest) -> int:
    return max(1, request.limit)


def from_apify_item(item: dict[str, Any]) -> NormalizedPost | None:
    """Map one dataset item; ``None`` for anything that is not a readable post (or is an ad)."""
    if item.get("dataType") != "post" or item.get("isAd"):
        return None
    post_id = str(item.get("parsedId") or "").strip() or str(item.get("id") or "").removeprefix("t3_")
    created = _parse_time(item.get("createdAt"))
    if not post_id or created is None:
        return None
    subreddit = str(item.get("parsedCommunityName") or item.get("communityName") or "").removeprefix("r/")
    permalink = str(item.get("url") or f"{REDDIT_WWW}/comments/{post_id}/")
    link = item.get("link") if isinstance(item.get("link"), str) else None
    is_self = not link or link.startswith(permalink)
    body = item.get("body") if isinstance(item.get("body"), str) else ""
    author = item.get("username") if isinstance(item.get("username"), str) else None
    ratio = item.get("upVoteRatio")
    return NormalizedPost(
        id=post_id,
        subreddit=subreddit,
        title=str(item.get("title") or ""),
        text="" if not is_self and body == link else body,
        author=None if author in (None, "", "[deleted]") else author,
        url=link or permalink,
        permalink=permalink,
        upvotes=_int(item.get("upVotes")),
        comment_count=_int(item.get("numberOfComments")),
        upvote_ratio=float(ratio) if isinstance(ratio, int | float) and 0 <= ratio <= 1 else None,
        created_utc=created,
        is_self=is_self,
        over_18=bool(item.get("over18")),
        removed=body.strip() in REMOVED_BODIES,
        link_flair_text=item.get("flair")
        if isinstance(item.get("flair"), str) and item.get("flair")
        else None,
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def _translated_errors(sub: str, client: ApifyClientAsync) -> Iterator[None]:
    """Turn whatever apify-client lets through (after its own retries) into a SourceError."""
    try:
        yield
    except ApifyApiError as exc:
        raise _api_error(sub, exc) from None
    except ApifyClientError as exc:  # e.g. a response body it could not decode
        raise SourceError(
            "upstream_error", f"r/{sub}: unreadable answer from Apify ({type(exc).__name__})"
        ) from None
    except Exception as exc:
        # Transport failures arrive as the HTTP library's own exceptions; the client's
        # transport adapter knows which of them are timeouts and which are network trouble.
        transport = client.http_client
        if transport.is_timeout_error(exc):
            raise SourceError("timeout", f"r/{sub}: Apify did not answer in time") from None
        if transport.is_retryable_transport_error(exc) or isinstance(exc, OSError):
            raise SourceError(
                "upstream_error", f"r/{sub}: cannot reach Apify ({type(exc).__name__})"
            ) from None
        raise


async def _abort(client: ApifyClientAsync, run_id: str) -> None:
    """Stop a run we gave up on, so it does not keep spending the operator's credits."""
    try:
        await client.run(run_id).abort()
    except ApifyClientError as exc:
        log.warning("could not abort Apify run %s: %s", run_id, type(exc).__name__)


def _api_error(sub: str, exc: ApifyApiError) -> SourceError:
    if isinstance(exc, UnauthorizedError | ForbiddenError):
        return SourceError("auth_failed", f"Apify refused the token (HTTP {exc.status_code})")
    if isinstance(exc, NotFoundError):
        return SourceError("actor_failed", f"r/{sub}: Apify actor or dataset not found ({exc.type or 404})")
    if isinstance(exc, RateLimitError):
        return SourceError("rate_limited", f"r/{sub}: Apify rate limit persisted after retries")
    return SourceError(
        "upstream_error", f"r/{sub}: Apify answered HTTP {exc.status_code} ({exc.type or 'error'})"
    )
