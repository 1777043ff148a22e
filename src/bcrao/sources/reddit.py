"""The ``reddit`` source: Reddit's official OAuth API over plain httpx, app-only auth.

The HTTP is done here, in the open, because a long collection run needs what a general
Reddit client does not offer through its public surface (asyncpraw could be bent to it only
by writing its private attributes):

- **429s are survivable.** A 429 is waited out (``Retry-After``, else the window reset), the
  wait reported through ``on_wait``, and the same ``after`` cursor asked again, keeping every
  post already fetched.
- **One budget per client id.** Every API request takes its turn from ``ratelimit.py``'s
  limiter, which every response's headers feed and which can live in Redis, so Celery workers
  sharing the credentials do not overspend.
- **One retry policy.** 5xx, timeouts, connection errors and bodies that are not what was
  asked for are retried with exponential backoff up to ``reddit_max_retries``, all in one
  loop (``_get``); a refused token is replaced once.
- **Stable error codes** per subreddit (private, banned, not found, access blocked, auth, rate
  limited), each reduced to a run's source status by ``SourceError.status``.

The pipeline wants Reddit's JSON (``from_reddit_json`` converts it), not model objects, and
resuming after a 429 needs the cursor: paging is a plain ``after`` loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlparse

import httpx

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
# A token is replaced this long before Reddit says it expires, so none dies in flight.
TOKEN_MARGIN_SECONDS = 60.0
Params = dict[str, str]  # a request's query
_CHECK_STATUS: dict[str, SubredditStatus] = {
    "subreddit_not_found": "not_found",
    "subreddit_private": "private",
    "subreddit_banned": "banned",
}


@dataclass(slots=True)
class _FetchContext:
    """One call (a fetch, a check, ...): how long it may wait for the budget, what it spent."""

    on_wait: WaitCallback | None
    max_wait: float
    requests: int = 0
    rate_limit_waited: float = 0.0


@dataclass(slots=True)
class _Session:
    """What belongs to one event loop: httpx and redis connections cannot leave the loop
    that made them, so the client, the limiter (unless one was given) and the token are
    replaced together."""

    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    limiter: RateLimiter
    token: str | None = None
    expires_at: float = 0.0  # time.monotonic() when the token is to be replaced
    token_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class _Retry(Exception):
    """A failure the next try may well not meet: a 5xx, or a 200 whose body is not what was
    asked for. Its text is what the log and, after the last try, the error say."""


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
        self._session: _Session | None = None

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        context = _FetchContext(on_wait=on_wait, max_wait=self._settings.reddit_max_wait_seconds)
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
                    await self._page_through(request, listing, share, collected, context)
        posts = sorted(collected.posts.values(), key=lambda p: p.created_utc, reverse=True)
        return FetchResult(
            posts=posts[: request.limit], requests=context.requests, warnings=collected.warnings
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is None or session.loop is not asyncio.get_running_loop():
            return  # another loop's connections cannot be closed from this one
        await session.client.aclose()
        if session.limiter is not self._given_limiter:
            await session.limiter.aclose()

    # -- HTTP -----------------------------------------------------------------------------

    def _session_here(self) -> _Session:
        """This event loop's session, built on first use (and again if the loop changed)."""
        loop = asyncio.get_running_loop()
        if self._session is not None and self._session.loop is loop:
            return self._session
        if self._session is not None:
            log.debug("event loop changed; building a new Reddit client")
        settings = self._settings
        assert settings.reddit_client_id
        client = httpx.AsyncClient(
            timeout=settings.reddit_timeout_seconds,
            follow_redirects=False,  # a redirect is an answer: it says why a subreddit is unreadable
            headers={"User-Agent": settings.reddit_user_agent},
        )
        limiter = self._given_limiter or make_limiter(settings, settings.reddit_client_id)
        self._session = _Session(loop, client, limiter)
        return self._session

    async def _http(
        self, session: _Session, context: _FetchContext, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        """Every HTTP request, the token exchange included: counted, and held to the timeout
        as a whole (httpx's timeout bounds each read, which a trickle of bytes would pass)."""
        context.requests += 1
        async with asyncio.timeout(self._settings.reddit_timeout_seconds):
            return await session.client.request(method, url, **kwargs)

    async def _token(self, session: _Session, context: _FetchContext) -> str:
        """The app-only bearer token, replaced before it expires; concurrent callers on one
        loop wait for a single exchange instead of each making their own."""
        async with session.token_lock:
            if session.token is None or time.monotonic() >= session.expires_at:
                session.token, session.expires_at = await self._new_token(session, context)
            return session.token

    async def _new_token(self, session: _Session, context: _FetchContext) -> tuple[str, float]:
        """``POST /api/v1/access_token`` with the app's id and secret (client credentials)."""
        settings = self._settings
        assert settings.reddit_client_id and settings.reddit_client_secret
        asked_at = time.monotonic()
        response = await self._http(
            session,
            context,
            "POST",
            f"{settings.reddit_www_url.rstrip('/')}/api/v1/access_token",
            auth=(settings.reddit_client_id, settings.reddit_client_secret.get_secret_value()),
            data={"grant_type": "client_credentials"},
        )
        status = response.status_code
        if status >= 500 or status == 429:  # Reddit failing or busy, not refusing: worth a retry
            raise _Retry(f"HTTP {status}")
        if status != 200:
            raise SourceError("auth_failed", f"{BLOCKED_MESSAGE} (HTTP {status} for a token)")
        body = _json(response)
        if isinstance(body, dict) and "error" in body:  # a refusal Reddit sends as a 200
            raise SourceError("auth_failed", f"{BLOCKED_MESSAGE} ({body['error']})")
        token = body.get("access_token") if isinstance(body, dict) else None
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        if not isinstance(token, str) or not isinstance(lifetime, int | float):
            raise _Retry("the token answer holds no token")
        return token, asked_at + lifetime - TOKEN_MARGIN_SECONDS

    async def _send(
        self, session: _Session, path: str, params: Params, context: _FetchContext
    ) -> httpx.Response:
        """One API request inside the shared budget. Each ``acquire`` is settled by the
        response's headers, or released when no response came (timeout, connection error,
        cancellation): the request is then no longer in flight."""
        token = await self._token(session, context)
        await session.limiter.acquire(max_wait=context.max_wait, on_wait=context.on_wait)
        answered = False
        try:
            response = await self._http(
                session,
                context,
                "GET",
                f"{self._settings.reddit_oauth_url.rstrip('/')}/{path}",
                params={**params, "raw_json": "1"},  # text as written, not HTML-escaped
                headers={"Authorization": f"bearer {token}"},
            )
            answered = True
            await session.limiter.update(response.headers)
        finally:
            if not answered:
                await asyncio.shield(session.limiter.release())
        if response.status_code == 401 and session.token == token:
            session.token = None  # expired or revoked: the next request exchanges a new one
        return response

    async def _get(
        self, sub: str, path: str, params: Params, context: _FetchContext, parse: Callable[[Any], T]
    ) -> T:
        """One request, retried: transient failures with backoff, 429s by waiting them out,
        a refused token once with a new one. ``parse`` raises ``_Retry`` for a 200 whose body
        is not what was asked for."""
        session = self._session_here()
        failures = 0
        token_refused = False
        while True:
            try:
                response = await self._send(session, path, params, context)
                if response.status_code == 429:
                    await self._wait_out_429(session, sub, response.headers, context)
                elif response.status_code == 401 and not token_refused:
                    token_refused = True
                else:
                    return parse(_answer(sub, response))
            except RateLimitWaitTooLong as exc:
                raise _rate_limited(sub, exc.wait_seconds, self._settings.reddit_max_wait_seconds) from None
            except (_Retry, httpx.RequestError, TimeoutError) as exc:
                failures += 1
                if failures > self._settings.reddit_max_retries:
                    raise _transient_error(sub, exc, failures) from None
                delay = min(self._backoff_base * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                log.info("r/%s: %s; retry %d in %.2fs", sub, _short(exc), failures, delay)
                await asyncio.sleep(delay)

    async def _wait_out_429(
        self, session: _Session, sub: str, headers: httpx.Headers, context: _FetchContext
    ) -> None:
        """Make every holder of this client id pause; the next ``acquire`` does the waiting."""
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
        await session.limiter.block(wait)

    # -- paging ---------------------------------------------------------------------------

    async def _page_through(
        self,
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
            data = await self._get(sub, listing.path, params, context, _listing_data)
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

    # -- comments -------------------------------------------------------------------------

    async def fetch_comments(
        self, request: CommentRequest, *, on_wait: WaitCallback | None = None
    ) -> CommentResult:
        """The thread best first (``sort=confidence``), then ``more`` stubs expanded through
        ``/api/morechildren`` until the limit; every call goes through the shared budget."""
        context = _FetchContext(on_wait=on_wait, max_wait=self._settings.reddit_max_wait_seconds)
        sub = request.subreddit
        reader = ThreadReader(post_id=request.post_id, limit=request.limit, max_depth=request.max_depth)
        params: Params = {
            "sort": "confidence",
            "limit": str(min(max(request.limit, 1), 500)),
            "depth": str(request.max_depth + 1),
        }
        try:
            post, children = await self._get(
                sub, f"comments/{quote(request.post_id, safe='')}", params, context, _thread
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
                await self._continue_thread(request, stub, reader, context)
            elif batch := reader.next_batch():
                more: Params = {
                    "api_type": "json",
                    "link_id": f"t3_{request.post_id}",
                    "children": ",".join(batch),
                    "sort": "confidence",
                    "limit_children": "false",
                }
                reader.read_things(await self._get(sub, "api/morechildren", more, context, _more_things))
            else:
                break
        return CommentResult(comments=reader.comments, requests=context.requests)

    async def _continue_thread(
        self, request: CommentRequest, stub: MoreStub, reader: ThreadReader, context: _FetchContext
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
        }
        try:
            _, children = await self._get(request.subreddit, path, params, context, _thread)
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
        try:
            about = await self._get(name, f"r/{quote(name, safe='')}/about", {}, context, _about_data)
        except SourceError as exc:
            status = _CHECK_STATUS.get(exc.code)
            if status is None:  # rate limited, timed out, Reddit failing, credentials refused
                return SubredditCheck(
                    name, "unknown", f"Reddit could not be asked about r/{name}: {exc.message}"
                )
            return SubredditCheck(name, status, exc.message)
        return _check_from_about(name, about)

    async def fetch_info(
        self, fullnames: list[str], *, on_wait: WaitCallback | None = None
    ) -> dict[str, ItemState] | None:
        """``/api/info`` in batches of 100 fullnames, inside the shared rate budget."""
        context = _FetchContext(on_wait=on_wait, max_wait=self._settings.reddit_max_wait_seconds)
        states: dict[str, ItemState] = {}
        for start in range(0, len(fullnames), INFO_BATCH):
            batch = fullnames[start : start + INFO_BATCH]
            data = await self._get("info", "api/info", {"id": ",".join(batch)}, context, _listing_data)
            states.update(info_states(batch, data.get("children") or []))
        return states

    async def probe(self) -> SourceHealth:
        """The token exchange and ``/r/announcements/about``, through the shared budget."""
        context = _FetchContext(on_wait=None, max_wait=CHECK_MAX_WAIT_SECONDS)
        try:
            await self._get(PROBE_SUBREDDIT, f"r/{PROBE_SUBREDDIT}/about", {}, context, _about_data)
        except SourceError as exc:
            if exc.status == "blocked":
                return SourceHealth("blocked", exc.message)
            if exc.status in ("not_found", "rate_limited"):  # Reddit answered this app: access works
                return SourceHealth("ok", f"Reddit accepts this app's credentials ({exc.message})")
            return SourceHealth("unreachable", f"Reddit could not be reached: {exc.message}")
        return SourceHealth("ok", "Reddit accepts this app's credentials and serves its API requests")


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
        raise _Retry("response is not a Listing")
    data: dict[str, Any] = body["data"]
    if not isinstance(data.get("children", []), list):
        raise _Retry("Listing has no children list")
    return data


def _about_data(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("kind") != "t5" or not isinstance(body.get("data"), dict):
        raise _Retry("response is not a subreddit")
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
        raise _Retry("response is not a comment thread")
    return parsed


def _more_things(body: Any) -> list[Any]:
    things = morechildren_things(body)
    if things is None:
        raise _Retry("response is not a morechildren answer")
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
    return isinstance(exc, httpx.TimeoutException | TimeoutError)


def _transient_error(sub: str, exc: BaseException, attempts: int) -> SourceError:
    if _is_timeout(exc):
        return SourceError("timeout", f"r/{sub}: Reddit did not answer in time ({attempts} attempts)")
    return SourceError("upstream_error", f"r/{sub}: Reddit kept failing ({_short(exc)}; {attempts} attempts)")


def _short(exc: BaseException) -> str:
    if _is_timeout(exc):
        return "timeout"
    if isinstance(exc, httpx.RequestError):  # ConnectError, RemoteProtocolError, ...
        return type(exc).__name__
    return str(exc) or type(exc).__name__


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # cut off, or not JSON at all
        raise _Retry(f"HTTP {response.status_code} with a body that is not JSON") from None


def _answer(sub: str, response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; anything else is raised: ``_Retry`` when another try may
    fare better, else the error users see for this subreddit."""
    if response.status_code >= 500:
        raise _Retry(f"HTTP {response.status_code}")
    if not response.is_success:
        raise _refusal(sub, response)
    return _json(response)


def _refusal(sub: str, response: httpx.Response) -> SourceError:
    """Turn a final HTTP refusal into the code users see for this subreddit."""
    status = response.status_code
    if status == 401:  # a second refusal, with a token just issued
        return SourceError("auth_failed", f"{BLOCKED_MESSAGE} (token refused)")
    if "insufficient_scope" in response.headers.get("www-authenticate", ""):
        return SourceError("auth_failed", f"{BLOCKED_MESSAGE} (HTTP {status} for a token)")
    if response.is_redirect:
        return _redirected(sub, response.headers["location"])
    body = _error_body(response)
    reason = str(body.get("reason") or "").lower()
    if reason == "banned":
        return SourceError("subreddit_banned", f"r/{sub} has been banned by Reddit")
    if status == 403:
        if reason == "quarantined":
            return SourceError("subreddit_private", f"r/{sub} is quarantined and cannot be read by an app")
        if reason:  # private, gold_only, gated: this community is closed to us, not the API
            return SourceError("subreddit_private", f"r/{sub} is private")
        # A 403 that names no reason is Reddit refusing the app itself (not approved for the
        # Data API, or blocked): every subreddit will answer the same.
        return SourceError("access_blocked", f"{BLOCKED_MESSAGE} (HTTP 403 on r/{sub})")
    if status == 404:
        return SourceError("subreddit_not_found", f"r/{sub} does not exist")
    if status == 400 and (detail := _rejection(body, response.text)):
        return SourceError("upstream_error", f"r/{sub}: Reddit rejected the request ({detail})")
    return SourceError("upstream_error", f"r/{sub}: Reddit answered HTTP {status}")


def _redirected(sub: str, location: str) -> SourceError:
    """Reddit answers some refusals with a redirect to a page meant for a browser."""
    path = urlparse(location).path.removesuffix(".json")
    if "/subreddits/search" in path:
        return SourceError("subreddit_not_found", f"r/{sub} does not exist")
    if "/login" in path:  # a login wall: Reddit wants a user, it does not serve this app
        return SourceError("access_blocked", f"{BLOCKED_MESSAGE} (Reddit answered with its login page)")
    return SourceError("upstream_error", f"r/{sub}: unexpected redirect to {path}")


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _rejection(body: dict[str, Any], text: str) -> str | None:
    """What a 400 says was wrong, in Reddit's words: ``REASON: 'explanation' on field 'f'``."""
    if not body:
        return text or None
    if "reason" not in body:  # only Reddit's generic {"error": 400, "message": "Bad Request"}
        return None
    detail = str(body["reason"])
    if body.get("explanation"):
        detail += f": {body['explanation']!r}"
    if isinstance(body.get("fields"), list) and body["fields"]:
        detail += f" on field {body['fields'][0]!r}"
    return detail
