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
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
from bcrao.sources.base import (
    CommentRequest,
    CommentResult,
    FetchRequest,
    FetchResult,
    ItemState,
    NormalizedComment,
    NormalizedPost,
    SourceError,
    SourceHealth,
    SubredditCheck,
    WaitCallback,
)
from bcrao.sources.normalize import DELETED_AUTHORS, REDDIT_WWW, REMOVED_BODIES, to_int

log = logging.getLogger(__name__)

_POST_IN_URL = re.compile(r"/comments/([0-9a-z]+)/")
_FAILED = {"FAILED": "failed", "ABORTED": "was aborted", "ABORTING": "was aborted"}


class ApifySource:
    name = "apify"

    def __init__(self, settings: Settings, *, max_retries: int = 3, retry_delay: float = 0.5) -> None:
        if settings.apify_token is None:
            raise ValueError("the apify source needs an Apify token")
        self._settings = settings
        self._max_retries = max_retries
        self._retry_delay = retry_delay
        # Comment items of the posts fetched last, by post id, until the pipeline asks.
        self._comments: dict[str, list[dict[str, Any]]] = {}

    def _new_client(self) -> ApifyClientAsync:
        """A client per call: its HTTP session belongs to the running event loop."""
        assert self._settings.apify_token is not None
        return ApifyClientAsync(
            self._settings.apify_token.get_secret_value(),
            api_url=self._settings.apify_base_url,
            max_retries=self._max_retries,
            min_delay_between_retries=timedelta(seconds=self._retry_delay),
        )

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        """One actor run per sort (hybrid: new and top, half the budget each), merged."""
        client = self._new_client()
        self._comments.clear()  # the pipeline read the previous subreddit's threads already
        posts: dict[str, NormalizedPost] = {}
        warnings: list[str] = []
        for sort, share in _sort_shares(request):
            wanted = replace(request, limit=share)
            for post in await self._run_once(client, wanted, sort, warnings):
                posts.setdefault(post.id, post)
        stats = getattr(client, "_statistics", None)  # apify-client counts requests, retries included
        ordered = sorted(posts.values(), key=lambda p: p.created_utc, reverse=True)[: request.limit]
        return FetchResult(posts=ordered, requests=int(getattr(stats, "requests", 0)), warnings=warnings)

    async def _run_once(
        self, client: ApifyClientAsync, request: FetchRequest, sort: str, warnings: list[str]
    ) -> list[NormalizedPost]:
        """One actor run; a run that timed out, was aborted or failed still gives the posts
        it had found (with a warning), and fails the subreddit only when it found none."""
        settings = self._settings
        sub = request.subreddit
        charge = settings.apify_max_charge_usd
        with _translated_errors(sub, client):
            run = await client.actor(settings.apify_actor_id).call(
                run_input=actor_input(request, sort),
                max_items=_max_items(request),
                max_total_charge_usd=Decimal(str(charge)) if charge else None,
                wait_duration=timedelta(seconds=settings.apify_timeout_seconds),
                logger=None,  # no log streaming: it would hold one more long request per run
            )
        if run is None:
            raise SourceError("actor_failed", f"r/{sub}: the Apify run disappeared before it finished")
        if run.status in ("READY", "RUNNING"):
            await _abort(client, run.id)
        with _translated_errors(sub, client):
            posts = await self._read_posts(client, run.default_dataset_id, request)
        if run.status == "SUCCEEDED":
            return posts
        if run.status in _FAILED:
            why = f"the Apify actor {_FAILED[run.status]} ({run.status_message or 'no message'})"
            code = "actor_failed"
        else:
            why = f"the Apify run did not finish within {settings.apify_timeout_seconds:.0f}s"
            code = "timeout"
        if not posts:
            raise SourceError(code, f"r/{sub}: {why}")
        warnings.append(f"r/{sub}: {why}; the {len(posts)} posts it had found are kept")
        return posts

    async def _read_posts(
        self, client: ApifyClientAsync, dataset_id: str, request: FetchRequest
    ) -> list[NormalizedPost]:
        """The dataset's posts (at most ``limit``); its comment items are kept for
        ``fetch_comments``, which the pipeline calls next for the posts it keeps."""
        posts: dict[str, NormalizedPost] = {}
        comments: dict[str, list[dict[str, Any]]] = {}
        newer_than = request.newer_than
        if newer_than is not None and newer_than.tzinfo is None:
            newer_than = newer_than.replace(tzinfo=UTC)
        async for item in client.dataset(dataset_id).iterate_items(clean=True):
            if item.get("dataType") == "comment" and request.comments_per_post > 0:
                post_of = comment_post_id(item)
                if post_of:
                    comments.setdefault(post_of, []).append(item)
                continue
            post = from_apify_item(item)
            if post is None or post.id in posts or len(posts) >= request.limit:
                continue
            if newer_than is not None and post.created_utc <= newer_than:
                continue
            posts[post.id] = post
        for post_id, items in comments.items():
            if post_id in posts:
                self._comments[post_id] = items
        return sorted(posts.values(), key=lambda p: p.created_utc, reverse=True)

    async def fetch_comments(
        self, request: CommentRequest, *, on_wait: WaitCallback | None = None
    ) -> CommentResult:
        """The comment items the actor returned with the post, as a tree (no request)."""
        items = self._comments.pop(request.post_id, [])
        return CommentResult(comments=comment_tree(items, request), requests=0)

    async def check_subreddit(self, name: str) -> SubredditCheck:
        """An actor run costs money and minutes, so nothing is asked: the run will tell."""
        return SubredditCheck(
            name, "unknown", f"r/{name} cannot be checked through Apify before a run; the run will tell"
        )

    async def fetch_info(
        self, fullnames: list[str], *, on_wait: WaitCallback | None = None
    ) -> dict[str, ItemState] | None:
        """The actor cannot look items up by id: deletion sync needs the reddit source."""
        return None

    async def probe(self) -> SourceHealth:
        """``GET /v2/users/me``: free, and it says whether the token is accepted."""
        client = self._new_client()
        try:
            with _translated_errors("", client):
                await client.user().get()
        except SourceError as exc:
            if exc.status == "blocked":
                return SourceHealth("blocked", exc.message)
            if exc.status == "rate_limited":
                return SourceHealth("ok", "Apify accepts the token (its rate limit is spent for now)")
            detail = exc.message.removeprefix("r/: ")  # the messages name a subreddit; none here
            return SourceHealth("unreachable", f"Apify could not be reached: {detail}")
        return SourceHealth("ok", "Apify accepts the token")

    async def aclose(self) -> None:
        self._comments.clear()


# Lines the actor writes into a link post's body about its link and media, not the author's words.
_BOILERPLATE = re.compile(r"^(?:URL|Thumbnail|Images?|Image URLs?):[^\n]*\n?", re.MULTILINE)


def _sort_shares(request: FetchRequest) -> list[tuple[str, int]]:
    """Hybrid asks for the newest posts and the year's top posts in two runs, half each."""
    if request.mode == "fresh":
        return [("new", request.limit)]
    if request.mode == "historical":
        return [("top", request.limit)]
    return [("new", -(-request.limit // 2)), ("top", max(1, request.limit // 2))]


def actor_input(request: FetchRequest, sort: str | None = None) -> dict[str, Any]:
    """Input for Reddit-scraper actors of the ``trudax/reddit-scraper(-lite)`` family, one sort
    per run. ``includeMediaLinks`` is what makes the actor send upvotes, upvote ratio and
    comment counts (its input schema): without them the success score has nothing to judge."""
    sorts = [sort] if sort else [_sort_shares(request)[0][0]]
    common: dict[str, Any] = {
        "maxItems": _max_items(request),
        "maxPostCount": request.limit,
        "maxComments": request.comments_per_post,
        "skipComments": request.comments_per_post == 0,
        "skipUserPosts": True,
        "skipCommunity": True,
        "includeNSFW": True,  # the pre-filter decides, with a recorded reason
        "includeMediaLinks": True,
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
    """The actor counts every item (posts and comments) against ``maxItems``."""
    return max(1, request.limit * (1 + request.comments_per_post))


def comment_post_id(item: dict[str, Any]) -> str | None:
    """The base-36 id of the post a comment item belongs to."""
    post_id = item.get("postId")
    if isinstance(post_id, str) and post_id:
        return post_id.removeprefix("t3_")
    match = _POST_IN_URL.search(str(item.get("url") or ""))
    return match.group(1) if match else None


def comment_tree(items: list[dict[str, Any]], request: CommentRequest) -> list[NormalizedComment]:
    """Map comment items to comments in tree order (best first among siblings), with the
    depth the actor does not send, cut at the request's depth and limit."""
    by_parent: dict[str, list[NormalizedComment]] = {}
    for item in items:
        comment = _comment_of(item, request.post_id)
        if comment is not None:
            by_parent.setdefault(comment.parent_id, []).append(comment)
    ordered: list[NormalizedComment] = []
    seen: set[str] = set()

    def walk(parent: str, depth: int) -> None:
        if depth > request.max_depth:
            return
        siblings = sorted(by_parent.get(parent, []), key=lambda c: (-c.upvotes, c.created_utc, c.id))
        for comment in siblings:
            if len(ordered) >= request.limit:
                return
            if comment.id in seen:
                continue
            seen.add(comment.id)
            comment.depth = depth
            ordered.append(comment)
            walk(f"t1_{comment.id}", depth + 1)

    walk(f"t3_{request.post_id}", 0)
    return ordered


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


def _comment_of(item: dict[str, Any], post_id: str) -> NormalizedComment | None:
    comment_id = str(item.get("parsedId") or "").strip() or str(item.get("id") or "").removeprefix("t1_")
    created = _parse_time(item.get("createdAt"))
    if not comment_id or created is None:
        return None
    body = _BOILERPLATE.sub("", _text(item, "body")).strip()
    author = item.get("username") if isinstance(item.get("username"), str) else ""
    deleted = body.strip() in REMOVED_BODIES
    return NormalizedComment(
        id=comment_id,
        post_id=post_id,
        parent_id=str(item.get("parentId") or f"t3_{post_id}"),
        depth=0,
        author=None if deleted or author in DELETED_AUTHORS else author,
        body=None if deleted else body,
        upvotes=to_int(item.get("upVotes")),
        created_utc=created,
        is_deleted=deleted,
    )


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
    body = _BOILERPLATE.sub("", _text(item, "body")).strip()
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
        upvotes=to_int(item.get("upVotes")),
        comment_count=to_int(item.get("numberOfComments")),
        upvote_ratio=float(ratio) if isinstance(ratio, int | float) and 0 <= ratio <= 1 else None,
        created_utc=created,
        is_self=is_self,
        over_18=bool(item.get("over18")),
        removed=body.strip() in REMOVED_BODIES,
        link_flair_text=item.get("flair")
        if isinstance(item.get("flair"), str) and item.get("flair")
        else None,
    )


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
