"""A loopback Reddit that speaks the OAuth API's wire format, faults included.

Shapes follow the recorded traffic in ``shared/reddit_api``: the Listing wrapper
(``after``/``before``/``children``/``dist``/``modhash``/``geo_filter``, ``facets`` on search),
``x-ratelimit-*`` headers as float or int strings or absent, JSON error bodies with
``reason``, a 401 with ``www-authenticate`` for a bad bearer token, the redirect to
``/subreddits/search`` for a subreddit that does not exist, and listings that end at 1,000.
Reddit never let anyone record a 429, so the one here is made up the way Reddit documents it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import secrets
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aiohttp import web

from tests.fakes.reddit_comments import FakeComment, Thread, generate_thread
from tests.fakes.reddit_posts import DEFAULT_NEWEST, generate_posts
from tests.fakes.server import LoggedRequest, LoopbackServer

FaultKind = Literal["404", "429", "500", "503", "malformed", "not_a_listing", "stall"]
SubState = Literal[
    "ok", "private", "banned", "banned_403", "missing", "redirect", "quarantined", "blocked", "login_wall"
]
HeaderStyle = Literal["float", "int", "absent", "mixed"]
GoneAnswer = Literal["deleted", "removed", "404"]

_COMMENTS = "__comments__"  # the fault queue of comment requests
LISTING_CAP = 1000
PAGE_MAX = 100
_PERIODS = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=31),
    "year": timedelta(days=365),
}


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    times: int
    retry_after: float | None = 1.0
    seconds: float = 0.0
    skip: int = 0  # requests to let through before the fault starts


class FakeReddit:
    """Programme it from the test (thread-safe), point a client at ``url``, read ``requests``."""

    def __init__(
        self,
        *,
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret",
        budget: int = 1000,
        window_seconds: float = 600.0,
        header_style: HeaderStyle = "float",
        default_posts: int = 250,
        default_thread: int = 12,
        comment_page_max: int = 8,
        comment_page_depth: int = 10,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.budget = budget
        self.window_seconds = window_seconds
        self.header_style: HeaderStyle = header_style
        self.default_posts = default_posts
        # Every post has a generated thread of up to this many comments unless given one;
        # a comments page holds at most ``comment_page_max`` of them (the rest: more stubs).
        self.default_thread = default_thread
        self.comment_page_max = comment_page_max
        # Reddit draws at most 10 levels of a thread on one page, whatever ``depth`` asks;
        # the replies below are behind "continue this thread" stubs.
        self.comment_page_depth = comment_page_depth
        self._threads: dict[str, Thread] = {}
        self._gone: dict[str, GoneAnswer] = {}  # post id -> how its comments page answers
        self._recorded: dict[str, Any] = {}
        self.info_requests = 0
        self.now = DEFAULT_NEWEST + timedelta(hours=1)  # the fake's clock for ``top?t=...``
        self.requests: list[LoggedRequest] = []
        self.tokens: set[str] = set()
        self.token_lifetime = 86400  # the ``expires_in`` of every token issued, in seconds
        self._posts: dict[str, list[dict[str, Any]]] = {}
        self._names: dict[str, str] = {}
        self._states: dict[str, SubState] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._window_start = time.monotonic()
        self._used = 0
        self._style_cycle: Iterator[str] = itertools.cycle(["float", "int", "absent"])
        self.in_flight = 0
        self.max_in_flight = 0
        # Reddit refusing the app itself: a token is issued, then every API call is a 403.
        self.app_blocked = False
        self._server = LoopbackServer(self._app())

    # -- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> FakeReddit:
        self._server.start()
        return self

    def app_settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings that point the app's reddit source at this fake (short timeouts)."""
        return {
            "source": "reddit",
            "reddit_client_id": self.client_id,
            "reddit_client_secret": self.client_secret,
            "reddit_oauth_url": self.url,
            "reddit_www_url": self.url,
            "reddit_timeout_seconds": 2,
            "reddit_max_retries": 2,
            **overrides,
        }

    def stop(self) -> None:
        self._server.stop()

    # -- programming -------------------------------------------------------------------

    def add_subreddit(
        self,
        name: str,
        count: int | None = None,
        *,
        newest: datetime = DEFAULT_NEWEST,
        spacing: timedelta = timedelta(hours=2),
    ) -> list[dict[str, Any]]:
        """Create ``name`` with ``count`` deterministic posts (newest first) and return them."""
        posts = generate_posts(
            name, self.default_posts if count is None else count, newest=newest, spacing=spacing
        )
        with self._lock:
            self._posts[name.lower()] = posts
            self._names[name.lower()] = name
            self._states.setdefault(name.lower(), "ok")
        return posts

    def posts(self, name: str) -> list[dict[str, Any]]:
        return list(self._posts[name.lower()])

    def thread(self, post_id: str, comments: list[FakeComment] | int | None = None) -> Thread:
        """The thread of a post: given (a list, or a count to generate), or its default one."""
        with self._lock:
            if comments is None and post_id in self._threads:
                return self._threads[post_id]
            post = next(p for posts in self._posts.values() for p in posts if p["id"] == post_id)
            if comments is None or isinstance(comments, int):
                count = min(post["num_comments"], self.default_thread) if comments is None else comments
                comments = generate_thread(post, count)
            self._threads[post_id] = Thread(post, comments)
            return self._threads[post_id]

    def delete_post(self, post_id: str, *, answer: GoneAnswer = "deleted") -> None:
        """The post is taken down. As Reddit does, its comments page still answers 200 with
        the comments, and the post a shell: ``deleted`` by its author (author and text
        ``[deleted]``, ``removed_by_category: "deleted"``) or ``removed`` by moderators (text
        ``[removed]``, ``removed_by_category: "moderator"``). ``404``: the page is gone, as
        Reddit answers for a post it purged or an id that never was. ``/api/info`` shows it
        deleted (or removed) either way."""
        with self._lock:
            self._gone[post_id] = answer

    def delete_comment(self, post_id: str, comment_id: str, *, removed: bool = False) -> None:
        """A comment deleted by its author (or removed by moderators) after collection."""
        comment = self.thread(post_id).by_id[comment_id]
        comment.author, comment.body = "[deleted]", "[removed]" if removed else "[deleted]"

    def answer_recorded(self, path: str, body: Any) -> None:
        """Answer every request for ``path`` (``/comments/{id}``, ``/api/morechildren``) with
        ``body`` as given, e.g. a response recorded from real Reddit, whatever was asked."""
        with self._lock:
            self._recorded[path] = body

    def fail_comments(
        self, kind: FaultKind, times: int = 1, *, skip: int = 0, retry_after: float = 1.0
    ) -> None:
        """Like ``fail``, for comment requests (``/comments/{id}`` and ``/api/morechildren``)."""
        self.fail(_COMMENTS, kind, times, skip=skip, retry_after=retry_after)

    def comment_requests(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path.startswith(("/comments/", "/api/morechildren"))]

    def block_app(self, blocked: bool = True) -> None:
        """Every API request (not the token exchange) answers 403 without a ``reason``, as
        Reddit does for an app that is not approved for its Data API."""
        with self._lock:
            self.app_blocked = blocked

    def set_state(self, name: str, state: SubState) -> None:
        with self._lock:
            self._states[name.lower()] = state

    def fail(
        self,
        name: str,
        kind: FaultKind,
        times: int = 1,
        *,
        skip: int = 0,
        retry_after: float | None = 1.0,
        seconds: float = 0.0,
    ) -> None:
        """Make ``times`` listing requests for ``name`` fail with ``kind``, after ``skip`` good ones.

        ``stall`` delays the answer by ``seconds``; ``429`` sends ``Retry-After: retry_after``.
        """
        with self._lock:
            self._faults.setdefault(name.lower(), []).append(
                Fault(kind=kind, times=times, retry_after=retry_after, seconds=seconds, skip=skip)
            )

    def set_budget(self, budget: int, window_seconds: float) -> None:
        """Start a fresh rate-limit window of ``budget`` requests lasting ``window_seconds``."""
        with self._lock:
            self.budget, self.window_seconds = budget, window_seconds
            self._window_start, self._used = time.monotonic(), 0

    def listing_requests(self, name: str | None = None) -> list[LoggedRequest]:
        """Logged GETs of subreddit listings (optionally of one subreddit), in order."""
        return [
            r
            for r in self.requests
            if r.path.startswith("/r/")
            and not r.path.endswith(("/about", "/about.json"))
            and (name is None or r.path.lower().startswith(f"/r/{name.lower()}/"))
        ]

    def about_requests(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path.endswith(("/about", "/about.json"))]

    def token_requests(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path == "/api/v1/access_token"]

    # -- the HTTP side -------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._track])
        app.router.add_post("/api/v1/access_token", self._token)
        app.router.add_get("/r/{sub}/{listing:new|top|search}", self._listing)
        app.router.add_get("/r/{sub}/{listing:new|top|search}.json", self._listing)
        app.router.add_get("/r/{sub}/about", self._about)
        app.router.add_get("/r/{sub}/about.json", self._about)
        app.router.add_get("/comments/{post_id}", self._comments)
        app.router.add_get("/comments/{post_id}/{slug}/{comment_id}", self._comments)
        app.router.add_get("/api/info", self._info)
        app.router.add_get("/api/morechildren", self._morechildren)
        app.router.add_post("/api/morechildren", self._morechildren)
        return app

    @web.middleware
    async def _track(self, request: web.Request, handler: Any) -> web.StreamResponse:
        entry = LoggedRequest(
            request.method, request.path, dict(request.query), headers=dict(request.headers)
        )
        with self._lock:
            self.requests.append(entry)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await handler(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        entry.status = response.status
        return response

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._basic_auth_ok(request.headers.get("Authorization", "")):
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=200)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        return web.json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime, "scope": "*"}
        )

    def _basic_auth_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.client_id) and secrets.compare_digest(
            password, self.client_secret
        )

    async def _gate(self, request: web.Request, key: str) -> tuple[dict[str, str], web.Response | None]:
        """Auth, budget and programmed faults, as for every API request: (headers, refusal)."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            return {}, web.json_response(
                {"message": "Unauthorized", "error": 401},
                status=401,
                headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        if self.app_blocked:
            return {}, web.json_response({"message": "Forbidden", "error": 403}, status=403)
        limit_headers, exhausted = self._spend()
        if exhausted:
            return limit_headers, self._too_many(
                limit_headers, retry_after=float(limit_headers["x-ratelimit-reset"])
            )
        fault = self._next_fault(key)
        if fault is not None:
            if fault.kind == "stall":
                await asyncio.sleep(fault.seconds)
            else:
                return limit_headers, self._fault_response(fault, limit_headers)
        return limit_headers, None

    async def _comments(self, request: web.Request) -> web.Response:
        limit_headers, refusal = await self._gate(request, _COMMENTS)
        if refusal is not None:
            return refusal
        if (recorded := self._recorded.get(request.path)) is not None:
            return web.json_response(recorded, headers=self._visible(limit_headers))
        post_id = request.match_info["post_id"].removesuffix(".json")
        known = any(p["id"] == post_id for posts in self._posts.values() for p in posts)
        if self._gone.get(post_id) == "404" or not known:
            return web.json_response(
                {"message": "Not Found", "error": 404}, status=404, headers=self._visible(limit_headers)
            )
        try:
            limit = max(1, min(int(request.query.get("limit", 200)), self.comment_page_max))
            depth = max(1, min(int(request.query.get("depth", 10)), self.comment_page_depth))
        except ValueError:
            return web.json_response({"message": "Bad Request", "error": 400}, status=400)
        thread = self.thread(post_id)
        root = request.match_info.get("comment_id")
        if root is not None and root.removesuffix(".json") not in thread.by_id:
            return web.json_response(
                {"message": "Not Found", "error": 404}, status=404, headers=self._visible(limit_headers)
            )
        body = thread.render_page(limit, depth, root.removesuffix(".json") if root else None)
        if post_id in self._gone:
            body[0]["data"]["children"][0]["data"] = self._taken_down(thread.post, self._gone[post_id])
        return web.json_response(body, headers=self._visible(limit_headers))

    async def _info(self, request: web.Request) -> web.Response:
        """``/api/info?id=t3_a,t1_b``: a Listing of the things that exist; a deleted post is
        there with ``[deleted]`` author and text, a purged-by-Reddit one is missing."""
        limit_headers, refusal = await self._gate(request, _COMMENTS)
        if refusal is not None:
            return refusal
        self.info_requests += 1
        names = [n for n in request.query.get("id", "").split(",") if n][:100]
        children = []
        posts = {p["name"]: p for ps in self._posts.values() for p in ps}
        comments = {f"t1_{c.id}": (t, c) for t in self._threads.values() for c in t.by_id.values()}
        for name in names:
            if name in posts:
                post = posts[name]
                if post["id"] in self._gone:
                    post = self._taken_down(post, self._gone[post["id"]])
                children.append({"kind": "t3", "data": post})
            elif name in comments:
                thread, comment = comments[name]
                children.append({"kind": "t1", "data": thread._data(comment, thread.depth_of(comment), "")})
        return web.json_response(
            {"kind": "Listing", "data": {"after": None, "dist": len(children), "modhash": None,
                                         "geo_filter": "", "children": children, "before": None}},
            headers=self._visible(limit_headers),
        )  # fmt: skip

    async def _morechildren(self, request: web.Request) -> web.Response:
        limit_headers, refusal = await self._gate(request, _COMMENTS)
        if refusal is not None:
            return refusal
        query = dict(request.query) if request.method == "GET" else dict(await request.post())
        if (recorded := self._recorded.get(request.path)) is not None:
            return web.json_response(recorded, headers=self._visible(limit_headers))
        post_id = str(query.get("link_id", "")).removeprefix("t3_")
        ids = [i for i in str(query.get("children", "")).split(",") if i][:100]
        if self._gone.get(post_id) == "404" or post_id not in self._threads:
            return web.json_response(
                {"json": {"errors": [["INVALID_ID", "that is not a valid id", "link_id"]]}}
            )
        return web.json_response(
            self._threads[post_id].render_more(ids), headers=self._visible(limit_headers)
        )

    async def _listing(self, request: web.Request) -> web.Response:
        sub = request.match_info["sub"].lower()
        limit_headers, refusal = await self._gate(request, sub)
        if refusal is not None:
            return refusal
        state = self._states.get(sub, "redirect")
        if state != "ok":
            return self._state_response(state, sub, limit_headers)
        body = self._listing_body(sub, request.match_info["listing"], request.query)
        return web.json_response(body, headers=self._visible(limit_headers))

    async def _about(self, request: web.Request) -> web.Response:
        """``/r/{sub}/about``: a t5 thing for a readable subreddit, else the same refusals
        (403/404 with ``reason``, the redirect to search) as its listings."""
        sub = request.match_info["sub"].lower()
        limit_headers, refusal = await self._gate(request, sub)
        if refusal is not None:
            return refusal
        state = self._states.get(sub, "redirect")
        if state != "ok":
            return self._state_response(state, sub, limit_headers)
        name = self._names.get(sub, request.match_info["sub"])
        body = {"kind": "t5", "data": _about_data(name, len(self._posts.get(sub, [])))}
        return web.json_response(body, headers=self._visible(limit_headers))

    @staticmethod
    def _taken_down(post: dict[str, Any], answer: GoneAnswer) -> dict[str, Any]:
        """A post's data after it was taken down, as Reddit shows it."""
        if answer == "removed":
            return {
                **post,
                "selftext": "[removed]",
                "selftext_html": None,
                "removed_by_category": "moderator",
            }
        return {
            **{k: v for k, v in post.items() if k != "author_fullname"},
            "author": "[deleted]",
            "selftext": "[deleted]",
            "selftext_html": None,
            "removed_by_category": "deleted",
        }

    def _spend(self) -> tuple[dict[str, str], bool]:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self.window_seconds:
                self._window_start, self._used = now, 0
            exhausted = self._used >= self.budget
            if not exhausted:
                self._used += 1
            # Whole seconds, rounded up as Reddit does: never earlier than the real reset.
            reset = max(1, math.ceil(self.window_seconds - (now - self._window_start)))
            remaining = max(self.budget - self._used, 0)
            return {
                "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-used": str(self._used),
                "x-ratelimit-reset": str(reset),
            }, exhausted

    def _visible(self, headers: dict[str, str]) -> dict[str, str]:
        """The rate-limit headers as this fake's style sends them (float/int strings, or none)."""
        style = self.header_style if self.header_style != "mixed" else next(self._style_cycle)
        if style == "absent":
            return {}
        if style == "float":
            return {**headers, "x-ratelimit-remaining": f"{float(headers['x-ratelimit-remaining']):.1f}"}
        return dict(headers)

    def _next_fault(self, sub: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(sub, [])
            while queue and queue[0].times <= 0:
                queue.pop(0)
            if not queue:
                return None
            if queue[0].skip > 0:
                queue[0].skip -= 1
                return None
            queue[0].times -= 1
            return queue[0]

    def _too_many(self, headers: dict[str, str], *, retry_after: float | None) -> web.Response:
        """A 429 as Reddit documents it: budget headers saying "nothing left until the reset"."""
        extra = {**headers, "x-ratelimit-remaining": "0.0"}
        if retry_after is not None:
            seconds = str(int(retry_after) if float(retry_after).is_integer() else retry_after)
            extra["Retry-After"] = seconds
            extra["x-ratelimit-reset"] = str(max(1, math.ceil(retry_after)))
        return web.json_response({"message": "Too Many Requests", "error": 429}, status=429, headers=extra)

    def _fault_response(self, fault: Fault, headers: dict[str, str]) -> web.Response:
        if fault.kind == "429":
            return self._too_many(headers, retry_after=fault.retry_after)
        if fault.kind in ("404", "500", "503"):
            status = int(fault.kind)
            message = {404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
            return web.json_response(
                {"message": message, "error": status}, status=status, headers=self._visible(headers)
            )
        if fault.kind == "malformed":  # a body cut off mid-way, still labelled JSON
            return web.Response(
                body=b'{"kind": "Listing", "data": {"after": "t3_',
                status=200,
                content_type="application/json",
                headers=self._visible(headers),
            )
        return web.json_response({"kind": "Listing"}, headers=self._visible(headers))  # not_a_listing

    def _state_response(self, state: SubState, sub: str, headers: dict[str, str]) -> web.Response:
        visible = self._visible(headers)
        if state == "private":
            return web.json_response(
                {"reason": "private", "message": "Forbidden", "error": 403}, status=403, headers=visible
            )
        if state == "quarantined":
            return web.json_response(
                {"reason": "quarantined", "quarantine_message": "", "message": "Forbidden", "error": 403},
                status=403,
                headers=visible,
            )
        if state == "banned":
            return web.json_response(
                {"reason": "banned", "message": "Not Found", "error": 404}, status=404, headers=visible
            )
        if state == "banned_403":
            return web.json_response(
                {"reason": "banned", "message": "Forbidden", "error": 403}, status=403, headers=visible
            )
        if state == "missing":
            return web.json_response({"message": "Not Found", "error": 404}, status=404, headers=visible)
        if state == "blocked":  # no reason: the app is refused, not the community
            return web.json_response({"message": "Forbidden", "error": 403}, status=403, headers=visible)
        if state == "login_wall":
            location = f"{self.url}/login/?dest=https%3A%2F%2Fwww.reddit.com%2Fr%2F{sub}%2F"
            return web.Response(status=302, headers={**visible, "Location": location})
        location = f"{self.url}/subreddits/search.json?q={sub}"
        return web.Response(status=302, headers={**visible, "Location": location})

    # -- listings ------------------------------------------------------------------------

    def _listing_body(self, sub: str, listing: str, query: Any) -> dict[str, Any]:
        items = self._ordered(sub, listing, query)[:LISTING_CAP]
        try:
            limit = max(1, min(int(query.get("limit", 25)), PAGE_MAX))
        except ValueError:
            limit = 25
        start, end = 0, len(items)
        names = [item["name"] for item in items]
        if query.get("after") in names:
            start = names.index(query["after"]) + 1
        elif query.get("before") in names:
            end = names.index(query["before"])
            start = max(0, end - limit)
        page = items[start : min(start + limit, end)]
        has_more = start + len(page) < len(items) and "before" not in query
        data: dict[str, Any] = {
            "after": page[-1]["name"] if page and has_more else None,
            "dist": len(page),
            "modhash": None,
            "geo_filter": None,
            "children": [{"kind": "t3", "data": item} for item in page],
            "before": page[0]["name"] if page and start > 0 else None,
        }
        if listing == "search":
            data["facets"] = {}
        return {"kind": "Listing", "data": data}

    def _ordered(self, sub: str, listing: str, query: Any) -> list[dict[str, Any]]:
        posts = self._posts.get(sub, [])
        sort = listing if listing != "search" else query.get("sort", "relevance")
        if listing == "search":
            terms = _search_terms(query.get("q", ""))
            posts = [p for p in posts if any(t in f"{p['title']} {p['selftext']}".lower() for t in terms)]
        if sort == "top":
            period = _PERIODS.get(query.get("t", "day"))
            if period is not None:
                cutoff = (self.now - period).timestamp()
                posts = [p for p in posts if p["created_utc"] >= cutoff]
            return sorted(posts, key=lambda p: (-p["score"], -p["created_utc"]))
        return sorted(posts, key=lambda p: -p["created_utc"])


def _about_data(name: str, posts: int) -> dict[str, Any]:
    """The fields of Reddit's t5 ``about`` answer that clients read (a subset of ~100)."""
    sub_id = format(zlib.crc32(name.lower().encode()), "x")[:6]
    return {
        "display_name": name,
        "display_name_prefixed": f"r/{name}",
        "name": f"t5_{sub_id}",
        "id": sub_id,
        "title": name,
        "public_description": f"A community about {name}.",
        "subscribers": 1000 + 37 * posts,
        "active_user_count": None,
        "subreddit_type": "public",
        "over18": False,
        "quarantine": False,
        "url": f"/r/{name}/",
        "created_utc": 1262304000.0,
        "lang": "en",
        "submission_type": "any",
    }


def _search_terms(q: str) -> list[str]:
    """Reddit's ``a OR "b c"`` syntax, reduced to the lower-cased terms to look for."""
    parts = [part.strip().strip("()").strip().strip('"') for part in q.split(" OR ")]
    return [part.lower() for part in parts if part]
