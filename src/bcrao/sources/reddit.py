"""The ``reddit`` source: Reddit's official OAuth API through asyncpraw, app-only auth.

asyncpraw/asyncprawcore do the HTTP, the client-credentials token exchange and the error
classification; this module adds what a long collection run needs and they do not:

- **429s are survivable.** asyncprawcore raises ``TooManyRequests`` at once. We wait out
  ``Retry-After`` (else the window reset), report the wait through ``on_wait`` and resume
  from the same ``after`` cursor, keeping every post already fetched.
- **One budget per client id.** asyncprawcore's limiter knows one process; ours
  (``ratelimit.py``) is fed by every response's headers and can live in Redis so Celery
  workers sharing the credentials do not overspend. It replaces asyncprawcore's in the session.
- **Our retry policy.** asyncprawcore's built-in retries (2, with 2-4 s random sleeps, and
  none for timeouts) are switched off; 5xx, timeouts, connection errors and bodies that
  are not a Listing are retried here with exponential backoff up to ``reddit_max_retries``.
- **Stable error codes** per subreddit (private, banned, not found, access blocked, auth, rate
  limited), each reduced to a run's source status by ``SourceError.status``.

Paging is a plain ``after`` loop over ``reddit.request`` (raw JSON, converted with
``from_reddit_json``) rather than asyncpraw's ListingGenerator, because resuming after a 429
needs the cursor and the pipeline needs Reddit's JSON, not model objects.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import asyncpraw
from asyncpraw import exceptions as asyncpraw_errors
from asyncprawcore import exceptions as prawcore_errors
from asyncprawcore.rate_limit import RateLimiter as PrawcoreRateLimiter
from asyncprawcore.requestor import Requestor
from asyncprawcore.sessions import FiniteRetryStrategy

from bcrao.config import Settings
from bcrao.sources.base import (
    BLOCKED_MESSAGE,
    CommentRequest,
    CommentResult,
    FetchRequest,
    FetchResult,
    ItemState,
    NormalizedPost,
    SourceError,
    SourceHealth,
    SubredditCheck,
    SubredditStatus,
    WaitCallback,
)
from bcrao.sources.comments import (
    INFO_BATCH,
    MoreStub,
    ThreadReader,
    info_states,
    morechildren_things,
    taken_down,
    thread_listing,
)
from bcrao.sources.normalize import from_reddit_json
from bcrao.sources.ratelimit import (
    RateLimiter,
    RateLimitWaitTooLong,
    make_limiter,
    parse_ratelimit_headers,
    parse_retry_after,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE_SIZE = 100
LISTING_CAP = 1000  # Reddit serves no listing beyond its first 1,000 items
MAX_BACKOFF_SECONDS = 30.0
# A 429 without Retry-After or reset header: Reddit's windows are 10 minutes at most.
DEFAULT_429_WAIT = 60.0
# A check is asked for while someone waits at a form: it does not sit out a long rate limit.
CHECK_MAX_WAIT_SECONDS = 5.0
# A public subreddit every app may read: its about page is the cheapest authenticated call
# that says whether Reddit serves this app at all (a token alone does not: an app that is
# not approved for the Data API gets tokens, then 403s).
PROBE_SUBREDDIT = "announcements"
Params = dict[str, str | int]  # a request's query, as asyncpraw's Reddit.request takes it
_CHECK_STATUS: dict[str, SubredditStatus] = {
    "subreddit_not_found": "not_found",
    "subreddit_private": "private",
    "subreddit_banned": "banned",
}


@dataclass(slots=True)
class _FetchContext:
    """What the HTTP hooks need to know about the fetch they serve (via a ContextVar)."""

    on_wait: WaitCallback | None
    max_wait: float
    requests: int = 0
    rate_limit_waited: float = 0.0


_current: contextvars.ContextVar[_FetchContext | None] = contextvars.ContextVar("reddit_fetch", default=None)


class _Requestor(Requestor):
    """Every HTTP request of the client passes through here, token exchange included.

    It enforces our timeout (asyncprawcore passes its own 16 s default on every call),
    counts requests for ``FetchResult.requests`` and reads error bodies before
    asyncprawcore releases the response, so the ``reason`` of a 403/404 is still there.
    """

    @asynccontextmanager
    async def request(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        context = _current.get()
        if context is not None:
            context.requests += 1
        kwargs["timeout"] = self.timeout
        async with super().request(*args, **kwargs) as response:
            if response.status >= 400:
                await response.read()
            yield response


class _SharedLimiterHook(PrawcoreRateLimiter):
    """Sits where asyncprawcore calls its per-process limiter and defers to ours instead."""

    def __init__(self, limiter: RateLimiter) -> None:
        super().__init__(window_size=600)
        self._limiter = limiter

    @asynccontextmanager
    async def call(
        self, *, method: str, request_function: Any, set_header_callback: Any, url: str, **kwargs: Any
    ) -> AsyncIterator[Any]:
        context = _current.get()
        await self._limiter.acquire(
            max_wait=context.max_wait if context else None, on_wait=context.on_wait if context else None
        )
        answered = False
        try:
            kwargs["headers"] = await set_header_callback()
            async with request_function(method, url, **kwargs) as response:
                answered = True
                await self._limiter.update(response.headers)
                yield response
        finally:
            if not answered:  # timeout, connection error, cancellation: the request is no longer in flight
                await asyncio.shield(self._limiter.release())


@dataclass(frozen=True)
class _NoRetries(FiniteRetryStrategy):
    """asyncprawcore's strategy with neither retries nor the sleep it takes before each call."""

    retries: int = 0

    def _sleep_seconds(self) -> float | None:
        return None


class _NotAListing(Exception):
    """A 200 whose body is not a Listing: treated like any transient upstream failure."""


@dataclass(slots=True)
class _Listing:
    path: str
    params: dict[str, str]
    newest_first: bool  # only then does "older than newer_than" mean "stop paging"


@dataclass(slots=True)
class _Collected:
    posts: dict[str, NormalizedPost] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class RedditSource:
    name = "reddit"

    def __init__(
        self, settings: Settings, *, limiter: RateLimiter | None = None, backoff_base: float = 0.5
    ) -> None:
        if not (settings.reddit_client_id and settings.reddit_client_secret):
            raise ValueError("the reddit source needs a client id and secret")
        self._settings = settings
        self._backoff_base = backoff_base
        self._given_limiter = limiter
        self._limiter: RateLimiter | None = limiter
        self._reddit: asyncpraw.Reddit | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        context = _FetchContext(on_wait=on_wait, max_wait=self._settings.reddit_max_wait_seconds)
        token = _current.set(context)
        try:
            reddit = await self._client()
            collected = _Collected()
            groups = _plan(request)
            for index, listings in enumerate(groups):
                # Hybrid: the newest posts get half the budget, the year's top posts fill the rest;
                # a sort's several searches share its part, each what the earlier ones left.
                budget = request.limit - len(collected.posts)
                if index == 0 and len(groups) > 1:
                    budget = -(-request.limit // 2)
                start = len(collected.posts)
                for n, listing in enumerate(listings):
                    left = budget - (len(collected.posts) - start)
                    share = -(-left // (len(listings) - n))
                    if share > 0:
                        await self._page_through(reddit, request, listing, share, collected, context)
        finally:
            _current.reset(token)
        posts = sorted(collected.posts.values(), key=lambda p: p.created_utc, reverse=True)
        return FetchResult(
            posts=posts[: request.limit], requests=context.requests, warnings=collected.warnings
        )

    async def aclose(self) -> None:
        if self._reddit is not None:
            await self._reddit.close()
            self._reddit = None
        if self._limiter is not None and self._limiter is not self._given_limiter:
            await self._limiter.aclose()
            self._limiter = None

    # -- client ---------------------------------------------------------------------------

    async def _client(self) -> asyncpraw.Reddit:
        """One client per event loop: aiohttp and redis connections belong to the loop that made them."""
        loop = asyncio.get_running_loop()
        if self._reddit is not None and self._loop is loop:
            return self._reddit
        if self._reddit is not None:
            log.debug("event loop changed; building a new Reddit client")
            if self._limiter is not self._given_limiter:
                self._limiter = None
        settings = self._settings
        assert settings.reddit_client_id and settings.reddit_client_secret
        if self._limiter is None:
            self._limiter = make_limiter(settings, settings.reddit_client_id)
        reddit = asyncpraw.Reddit(
            client_id=settings.reddit_client_id,
            client_secret=settings.reddit_client_secret.get_secret_value(),
            user_agent=settings.reddit_user_agent,
            oauth_url=settings.reddit_oauth_url.rstrip("/"),
            reddit_url=settings.reddit_www_url.rstrip("/"),
            check_for_updates=False,
            requestor_class=_Requestor,
            requestor_kwargs={"timeout": settings.reddit_timeout_seconds},
        )
        core = reddit._core  # asyncprawcore Session; no public way to swap its limiter and retry policy
        if core is None or not hasattr(core, "_rate_limiter") or not hasattr(core, "_retry_strategy_class"):
            raise RuntimeError("unsupported asyncprawcore version: cannot install the shared rate limiter")
        core._rate_limiter = _SharedLimiterHook(self._limiter)
        core._retry_strategy_class = _NoRetries
        self._reddit, self._loop = reddit, loop
        return reddit

    # -- paging ---------------------------------------------------------------------------

    async def _page_through(
        self,
        reddit: asyncpraw.Reddit,
        request: FetchRequest,
        listing: _Listing,
        want: int,
        collected: _Collected,
        context: _FetchContext,
    ) -> None:
        """Add up to ``want`` posts from one listing to ``collected``, newest cursor first."""
        sub = request.subreddit
        after: str | None = None
        seen = 0
        start = len(collected.posts)
        cutoff = _aware(request.newer_than) if listing.newest_first else None
        while len(collected.posts) - start < want:
            # Ask for just what is missing, unless earlier listings may make this one repeat
            # posts already collected: then full pages save requests.
            missing = want - (len(collected.posts) - start)
            page_size = PAGE_SIZE if start else min(PAGE_SIZE, max(missing, 1))
            params: Params = {**listing.params, "limit": str(page_size)}
            if after:
                params["after"] = after
            data = await self._get_listing(reddit, sub, listing.path, params, context)
            children = data.get("children") or []
            seen += len(children)
            reached_known = False
            for child in children:
                if not _is_post(child):
                    continue
                post = from_reddit_json(child["data"])
                if listing.newest_first and _is_known(post, cutoff, request.newer_than_id):
                    reached_known = True
                    break
                if post.id and post.id not in collected.posts and len(collected.posts) - start < want:
                    collected.posts[post.id] = post
            previous, after = after, data.get("after") if isinstance(data.get("after"), str) else None
            if reached_known or (after is not None and after == previous):
                return
            if not after or not children:
                if seen >= LISTING_CAP and len(collected.posts) - start < want:
                    warning = f"r/{sub}: Reddit listing cap of 1,000 reached; older posts were not fetched"
                    if warning not in collected.warnings:
                        collected.warnings.append(warning)
                return

    async def _get_listing(
        self, reddit: asyncpraw.Reddit, sub: str, path: str, params: Params, context: _FetchContext
    ) -> dict[str, Any]:
        return await self._get(reddit, sub, path, params, context, _listing_data)

    async def _get(
        self,
        reddit: asyncpraw.Reddit,
        sub: str,
        path: str,
        params: Params,
        context: _FetchContext,
        parse: Callable[[Any], T],
    ) -> T:
        """One request, retried: transient failures with backoff, 429s by waiting them out.
        ``parse`` raises ``_NotAListing`` for a 200 whose body is not what was asked for."""
        failures = 0
        token_refreshed = False
        while True:
            try:
                body = await reddit.request(method="GET", path=path, params=params)
                return parse(body)
            except RateLimitWaitTooLong as exc:
                raise _rate_limited(sub, exc.wait_seconds, self._settings.reddit_max_wait_seconds) from None
            except prawcore_errors.TooManyRequests as exc:
                await self._wait_out_429(sub, exc, context)
            except prawcore_errors.InvalidToken:
                # Expired or revoked: asyncprawcore dropped it, so one more try re-authenticates.
                if token_refreshed:
                    raise SourceError("auth_failed", f"{BLOCKED_MESSAGE} (token refused)") from None
                token_refreshed = True
            except prawcore_errors.OAuthException as exc:
                raise SourceError("auth_failed", f"{BLOCKED_MESSAGE} ({exc.error})") from None
            except (prawcore_errors.AsyncPrawcoreException, _NotAListing, aiohttp.ClientError) as exc:
                if not _is_transient(exc):
                    raise await _classify(sub, exc) from None
                failures += 1
                if failures > self._settings.reddit_max_retries:
                    raise _transient_error(sub, exc, failures) from None
                delay = min(self._backoff_base * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                log.info("r/%s: %s; retry %d in %.2fs", sub, _short(exc), failures, delay)
                await asyncio.sleep(delay)
            except asyncpraw_errors.AsyncPRAWException as exc:  # e.g. a 400 turned into RedditAPIException
                raise SourceError("upstream_error", f"r/{sub}: Reddit rejected the request ({exc})") from None

    # -- comments -------------------------------------------------------------------------

    async def fetch_comments(
        self, request: CommentRequest, *, on_wait: WaitCallback | None = None
    ) -> CommentResult:
        """The thread best first (``sort=confidence``), then ``more`` stubs expanded through
        ``/api/morechildren`` until the limit; every call goes through the shared budget."""
        context = _FetchContext(on_wait=on_wait, max_wait=self._settings.reddit_max_wait_seconds)
        token = _current.set(context)
        sub = request.subreddit
        reader = ThreadReader(post_id=request.post_id, limit=request.limit, max_depth=request.max_depth)
        try:
            reddit = await self._client()
            params: Params = {
                "sort": "confidence",
                "limit": str(min(max(request.limit, 1), 500)),
                "depth": str(request.max_depth + 1),
                "raw_json": "1",
            }
            try:
                post, children = await self._get(
                    reddit, sub, f"comments/{quote(request.post_id, safe='')}", params, context, _thread
                )
            except SourceError as exc:
                if exc.code == "subreddit_not_found":  # the post's page is gone: deleted or removed
                    return CommentResult(comments=[], requests=context.requests, post_gone=True)
                raise
            if post is None:
                return CommentResult(comments=[], requests=context.requests, post_gone=True)
            if gone_as := taken_down(post):  # deleted or removed since the listing
                return CommentResult(comments=[], requests=context.requests, post_gone=True, gone_as=gone_as)
            reader.read_tree(children)
            while not reader.full:
                if (stub := reader.next_continue()) is not None:
                    await self._continue_thread(reddit, request, stub, reader, context)
                elif batch := reader.next_batch():
                    things = await self._get(
                        reddit,
                        sub,
                        "api/morechildren",
                        {
                            "api_type": "json",
                            "link_id": f"t3_{request.post_id}",
                            "children": ",".join(batch),
                            "sort": "confidence",
                            "limit_children": "false",
                            "raw_json": "1",
                        },
                        context,
                        _more_things,
                    )
                    reader.read_things(things)
                else:
                    break
        finally:
            _current.reset(token)
        return CommentResult(comments=reader.comments, requests=context.requests)

    async def _continue_thread(
        self,
        reddit: asyncpraw.Reddit,
        request: CommentRequest,
        stub: MoreStub,
        reader: ThreadReader,
        context: _FetchContext,
    ) -> None:
        """A "continue this thread" link: ``/comments/{post}/_/{comment}`` draws that comment
        as the top of a page of its own, with up to 10 more levels of replies."""
        comment_id = stub.parent_id.removeprefix("t1_")
        path = f"comments/{quote(request.post_id, safe='')}/_/{quote(comment_id, safe='')}"
        params: Params = {
            "sort": "confidence",
            # The comment on top is drawn again (and counted): one more than still wanted.
            "limit": str(min(request.limit - len(reader.comments) + 1, 500)),
            # Levels from the comment on top (itself the first): ours end at ``max_depth``.
            "depth": str(request.max_depth - stub.depth + 2),
            "raw_json": "1",
        }
        try:
            _, children = await self._get(reddit, request.subreddit, path, params, context, _thread)
        except SourceError as exc:
            if exc.code != "subreddit_not_found":
                raise
            reader.skipped_deep += 1  # the comment went away since its page was read
            return
        reader.read_continued(stub, children)

    # -- checks ---------------------------------------------------------------------------

    async def check_subreddit(self, name: str) -> SubredditCheck:
        """``/r/{name}/about`` through the same budget, retries and error codes as a listing,
        so what a check says is what a run would meet."""
        max_wait = min(self._settings.reddit_max_wait_seconds, CHECK_MAX_WAIT_SECONDS)
        context = _FetchContext(on_wait=None, max_wait=max_wait)
        token = _current.set(context)
        try:
            reddit = await self._client()
            about = await self._get(
                reddit, name, f"r/{quote(name, safe='')}/about", {"raw_json": "1"}, context, _about_data
            )
        except SourceError as exc:
            status = _CHECK_STATUS.get(exc.code)
            if status is None:  # rate limited, timed out, Reddit failing, credentials refused
                return SubredditCheck(
                    name, "unknown", f"Reddit could not be asked about r/{name}: {exc.message}"
                )
            return SubredditCheck(name, status, exc.message)
        finally:
            _current.reset(token)
        return _check_from_about(name, about)

    async def fetch_info(
        self, fullnames: list[str], *, on_wait: WaitCallback | None = None
    ) -> dict[str, ItemState] | None:
        """``/api/info`` in batches of 100 fullnames, inside the shared rate budget."""
        context = _FetchContext(on_wait=on_wait, max_wait=self._settings.reddit_max_wait_seconds)
        token = _current.set(context)
        states: dict[str, ItemState] = {}
        try:
            reddit = await self._client()
            for start in range(0, len(fullnames), INFO_BATCH):
                batch = fullnames[start : start + INFO_BATCH]
                data = await self._get(
                    reddit,
                    "info",
                    "api/info",
                    {"id": ",".join(batch), "raw_json": "1"},
                    context,
                    _listing_data,
                )
                states.update(info_states(batch, data.get("children") or []))
        finally:
            _current.reset(token)
        return states

    async def probe(self) -> SourceHealth:
        """The token exchange and ``/r/announcements/about``, through the shared budget."""
        context = _FetchContext(on_wait=None, max_wait=CHECK_MAX_WAIT_SECONDS)
        token = _current.set(context)
        try:
            reddit = await self._client()
            path = f"r/{PROBE_SUBREDDIT}/about"
            await self._get(reddit, PROBE_SUBREDDIT, path, {"raw_json": "1"}, context, _about_data)
        except SourceError as exc:
            if exc.status == "blocked":
                return SourceHealth("blocked", exc.message)
            if exc.status in ("not_found", "rate_limited"):  # Reddit answered this app: access works
                return SourceHealth("ok", f"Reddit accepts this app's credentials ({exc.message})")
            return SourceHealth("unreachable", f"Reddit could not be reached: {exc.message}")
        finally:
            _current.reset(token)
        return SourceHealth("ok", "Reddit accepts this app's credentials and serves its API requests")

    async def _wait_out_429(
        self, sub: str, exc: prawcore_errors.TooManyRequests, context: _FetchContext
    ) -> None:
        """Make every holder of this client id pause; the next ``acquire`` does the waiting."""
        headers = exc.response.headers
        wait = parse_retry_after(headers)
        if wait is None:
            parsed = parse_ratelimit_headers(headers)
            wait = parsed.reset_seconds if parsed is not None else DEFAULT_429_WAIT
        wait = max(wait, 1.0)
        max_wait = self._settings.reddit_max_wait_seconds
        if wait > max_wait or context.rate_limit_waited + wait > max_wait:
            raise _rate_limited(sub, context.rate_limit_waited + wait, max_wait)
        context.rate_limit_waited += wait
        log.info("r/%s: rate limited by Reddit; waiting %.0fs", sub, wait)
        assert self._limiter is not None
        await self._limiter.block(wait)


# -- helpers ---------------------------------------------------------------------------------


SEARCH_QUERY_CHARS = 512  # Reddit's limit on a search's ``q``


def search_queries(keywords: list[str]) -> list[str]:
    """Keywords as ``"a" OR "b"`` queries of at most ``SEARCH_QUERY_CHARS`` each. Every keyword
    is quoted, so ``-``, ``:`` or ``(`` in one is a character, not a search operator."""
    queries: list[str] = []
    current = ""
    for keyword in keywords:
        term = '"' + keyword.replace('"', "")[: SEARCH_QUERY_CHARS - 2] + '"'
        candidate = f"{current} OR {term}" if current else term
        if len(candidate) > SEARCH_QUERY_CHARS:
            queries.append(current)
            candidate = term
        current = candidate
    return [*queries, current] if current else queries


def _plan(request: FetchRequest) -> list[list[_Listing]]:
    """Which listings answer the request, one group per sort: plain listings, or subreddit
    searches (one per query) when there are keywords."""
    sub = quote(request.subreddit.strip(), safe="")
    modes = {"fresh": ["new"], "historical": ["top"], "hybrid": ["new", "top"]}[request.mode]
    keywords = [k.strip() for k in request.keywords if k.strip().replace('"', "")]
    groups = []
    for sort in modes:
        period = {"t": "year"} if sort == "top" else {}
        if keywords:
            groups.append(
                [
                    _Listing(
                        f"r/{sub}/search",
                        {"q": query, "restrict_sr": "1", "sort": sort, **period},
                        newest_first=sort == "new",
                    )
                    for query in search_queries(keywords)
                ]
            )
        else:
            groups.append([_Listing(f"r/{sub}/{sort}", period, newest_first=sort == "new")])
    return groups


def _listing_data(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("kind") != "Listing" or not isinstance(body.get("data"), dict):
        raise _NotAListing("response is not a Listing")
    data: dict[str, Any] = body["data"]
    if not isinstance(data.get("children", []), list):
        raise _NotAListing("Listing has no children list")
    return data


def _about_data(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("kind") != "t5" or not isinstance(body.get("data"), dict):
        raise _NotAListing("response is not a subreddit")
    data: dict[str, Any] = body["data"]
    return data


def _check_from_about(name: str, about: dict[str, Any]) -> SubredditCheck:
    """A subreddit Reddit describes: readable unless private or quarantined."""
    shown = about.get("display_name") if isinstance(about.get("display_name"), str) else name
    if about.get("subreddit_type") == "private":
        return SubredditCheck(name, "private", f"r/{shown} is private")
    if about.get("quarantine") is True:
        return SubredditCheck(name, "private", f"r/{shown} is quarantined and cannot be read by an app")
    members = about.get("subscribers")
    message = f"r/{shown} exists" + (f" ({members:,} members)" if isinstance(members, int) else "")
    if about.get("over18") is True:
        message += "; it is marked NSFW, and NSFW posts are filtered out"
    return SubredditCheck(name, "ok", message)


def _thread(body: Any) -> tuple[dict[str, Any] | None, list[Any]]:
    parsed = thread_listing(body)
    if parsed is None:
        raise _NotAListing("response is not a comment thread")
    return parsed


def _more_things(body: Any) -> list[Any]:
    things = morechildren_things(body)
    if things is None:
        raise _NotAListing("response is not a morechildren answer")
    return things


def _is_post(child: Any) -> bool:
    return isinstance(child, dict) and child.get("kind") == "t3" and isinstance(child.get("data"), dict)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _is_known(post: NormalizedPost, cutoff: datetime | None, known_id: str | None) -> bool:
    if known_id and post.id == known_id:
        return True
    return cutoff is not None and post.created_utc <= cutoff


def _rate_limited(sub: str, wait: float, max_wait: float) -> SourceError:
    return SourceError(
        "rate_limited", f"r/{sub}: Reddit asked to wait {wait:.0f}s, more than the allowed {max_wait:.0f}s"
    )


def _is_timeout(exc: BaseException) -> bool:
    original = getattr(exc, "original_exception", exc)
    return isinstance(original, TimeoutError | asyncio.TimeoutError)


def _transient_error(sub: str, exc: BaseException, attempts: int) -> SourceError:
    if _is_timeout(exc):
        return SourceError("timeout", f"r/{sub}: Reddit did not answer in time ({attempts} attempts)")
    return SourceError("upstream_error", f"r/{sub}: Reddit kept failing ({_short(exc)}; {attempts} attempts)")


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, prawcore_errors.ResponseException) and not isinstance(exc, prawcore_errors.BadJSON):
        # A 429 reaching here came from the token endpoint (API 429s are waited out): passing too.
        return exc.response.status >= 500 or exc.response.status == 429
    return isinstance(
        exc, prawcore_errors.RequestException | prawcore_errors.BadJSON | _NotAListing | aiohttp.ClientError
    )


def _short(exc: BaseException) -> str:
    if isinstance(exc, prawcore_errors.ResponseException):
        return f"HTTP {exc.response.status}"
    if _is_timeout(exc):
        return "timeout"
    if isinstance(exc, prawcore_errors.RequestException):
        return type(exc.original_exception).__name__
    return str(exc) or type(exc).__name__


async def _error_body(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError, RuntimeError):
        return {}
    return body if isinstance(body, dict) else {}


async def _classify(sub: str, exc: BaseException) -> SourceError:
    """Turn a final HTTP error into the code users see for this subreddit."""
    if not isinstance(exc, prawcore_errors.ResponseException):
        return SourceError("upstream_error", f"r/{sub}: {exc}")
    response = exc.response
    if str(response.url.path).endswith("/access_token") or isinstance(exc, prawcore_errors.InsufficientScope):
        return SourceError("auth_failed", f"{BLOCKED_MESSAGE} (HTTP {response.status} for a token)")
    reason = str((await _error_body(response)).get("reason") or "").lower()
    if isinstance(exc, prawcore_errors.Redirect):
        if "/subreddits/search" in exc.path:
            return SourceError("subreddit_not_found", f"r/{sub} does not exist")
        if "/login" in exc.path:  # a login wall: Reddit wants a user, it does not serve this app
            return SourceError("access_blocked", f"{BLOCKED_MESSAGE} (Reddit answered with its login page)")
        return SourceError("upstream_error", f"r/{sub}: unexpected redirect to {exc.path}")
    if reason == "banned":
        return SourceError("subreddit_banned", f"r/{sub} has been banned by Reddit")
    if isinstance(exc, prawcore_errors.Forbidden):
        if reason == "quarantined":
            return SourceError("subreddit_private", f"r/{sub} is quarantined and cannot be read by an app")
        if reason:  # private, gold_only, gated: this community is closed to us, not the API
            return SourceError("subreddit_private", f"r/{sub} is private")
        # A 403 that names no reason is Reddit refusing the app itself (not approved for the
        # Data API, or blocked): every subreddit will answer the same.
        return SourceError("access_blocked", f"{BLOCKED_MESSAGE} (HTTP 403 on r/{sub})")
    if isinstance(exc, prawcore_errors.NotFound):
        return SourceError("subreddit_not_found", f"r/{sub} does not exist")
    if response.status == 401:
        return SourceError("auth_failed", f"{BLOCKED_MESSAGE} (HTTP 401)")
    return SourceError("upstream_error", f"r/{sub}: Reddit answered HTTP {response.status}")
