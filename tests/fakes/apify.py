"""A loopback Apify API v2: the routes ``ActorClientAsync.call`` and dataset reads use.

``POST /v2/actors/{actor}/runs`` (alias ``/v2/acts/``) starts a run (the body may arrive
gzip-compressed, as the client compresses large inputs), ``GET /v2/actor-runs/{id}
?waitForFinish=`` long-polls it, ``GET /v2/datasets/{id}/items`` pages the results with the
``x-apify-pagination-*`` headers. Responses use the ``{"data": {...}}`` envelope and errors
the ``{"error": {"type", "message"}}`` one. The "actor" produces Reddit-scraper-lite items
for the subreddit or the search terms in its input: posts, plus comment and community items
a source must skip.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web

from tests.fakes.reddit_comments import FakeComment, generate_thread
from tests.fakes.reddit_posts import generate_posts
from tests.fakes.server import LoggedRequest, LoopbackServer

RunOutcome = Literal["SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED", "RUNNING"]


class FakeApify:
    def __init__(self, *, token: str = "apify-test-token") -> None:
        self.token = token
        self.requests: list[LoggedRequest] = []
        self.inputs: list[dict[str, Any]] = []
        self.outcome: RunOutcome = "SUCCEEDED"
        self.run_seconds = 0.0  # how long a run stays RUNNING before reaching ``outcome``
        self.comments_per_post = 12  # at most; the input's maxComments caps it too
        # Posts a run had written to its dataset when it was stopped (timed out, aborted, failed).
        self.partial_posts = 0
        self.server_errors = 0  # answer the next N requests with a 500
        self.aborted: list[str] = []
        self._runs: dict[str, dict[str, Any]] = {}
        self._datasets: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._app())

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> FakeApify:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # -- HTTP ----------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._track])
        # apify-client 3 says /v2/actors/, older clients and the docs /v2/acts/: the API serves both.
        app.router.add_post("/v2/actors/{actor}/runs", self._start_run)
        app.router.add_post("/v2/acts/{actor}/runs", self._start_run)
        app.router.add_get("/v2/actor-runs/{run}", self._get_run)
        app.router.add_post("/v2/actor-runs/{run}/abort", self._abort_run)
        app.router.add_get("/v2/datasets/{dataset}/items", self._items)
        app.router.add_get("/v2/users/me", self._me)
        return app

    async def _me(self, request: web.Request) -> web.Response:
        """The token's account, as ``GET /v2/users/me`` answers it (a subset of the fields)."""
        return web.json_response(
            {
                "data": {
                    "id": "fakeUser1234567",
                    "username": "fake-operator",
                    "profile": {},
                    "plan": {"id": "FREE"},
                    "createdAt": "2024-01-01T00:00:00.000Z",
                }
            }
        )

    @web.middleware
    async def _track(self, request: web.Request, handler: Any) -> web.StreamResponse:
        entry = LoggedRequest(request.method, request.path, dict(request.query))
        with self._lock:
            self.requests.append(entry)
        with self._lock:
            failing = self.server_errors > 0
            self.server_errors -= failing
        if failing:
            response: web.StreamResponse = _error(500, "internal-server-error", "Internal server error")
        elif not self._authorized(request):
            response = _error(401, "token-not-valid", "Authentication token is not valid.")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # unknown route: log it like any other answer
                entry.status = exc.status
                raise
        entry.status = response.status
        return response

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        supplied = token if scheme.lower() == "bearer" else request.query.get("token", "")
        return secrets.compare_digest(supplied, self.token)

    async def _start_run(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if request.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        try:
            run_input = json.loads(raw or b"{}")
        except ValueError:
            return _error(400, "invalid-input", "Input is not valid JSON.")
        actor = request.match_info["actor"]
        run_id, dataset_id = secrets.token_hex(8), secrets.token_hex(8)
        max_items = request.query.get("maxItems")
        items = self._scrape(run_input, int(max_items) if max_items else None)
        now = datetime.now(UTC)
        run = {
            "id": run_id,
            "actId": actor,
            "userId": "fakeUser",
            "startedAt": _iso(now),
            "finishedAt": None,
            "status": "RUNNING",
            "statusMessage": "Starting the crawler.",
            "meta": {"origin": "API"},
            "stats": {"inputBodyLen": len(raw)},
            "options": {"build": "latest", "timeoutSecs": 3600, "memoryMbytes": 1024, "diskMbytes": 2048},
            "buildId": "fakeBuild",
            "buildNumber": "1.0.1",
            "defaultKeyValueStoreId": secrets.token_hex(8),
            "defaultDatasetId": dataset_id,
            "defaultRequestQueueId": secrets.token_hex(8),
        }
        with self._lock:
            self.inputs.append(run_input)
            self._runs[run_id] = {
                "run": run,
                "done_at": time.monotonic() + self.run_seconds,
                "outcome": self.outcome,
                "dataset": dataset_id,
            }
            self._datasets[dataset_id] = items
        return web.json_response({"data": self._settle(run_id)}, status=201)

    async def _get_run(self, request: web.Request) -> web.Response:
        run_id = request.match_info["run"]
        if run_id not in self._runs:
            return _error(404, "record-not-found", "Actor run was not found")
        wait = min(float(request.query.get("waitForFinish", 0) or 0), 60.0)
        deadline = time.monotonic() + wait
        run = self._settle(run_id)
        while run["status"] == "RUNNING" and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
            run = self._settle(run_id)
        return web.json_response({"data": run})

    async def _abort_run(self, request: web.Request) -> web.Response:
        run_id = request.match_info["run"]
        if run_id not in self._runs:
            return _error(404, "record-not-found", "Actor run was not found")
        with self._lock:
            self.aborted.append(run_id)
            entry = self._runs[run_id]
            entry["run"].update(status="ABORTED", finishedAt=_iso(datetime.now(UTC)))
            self._cut_short(entry)
        return web.json_response({"data": dict(entry["run"])})

    def _cut_short(self, entry: dict[str, Any]) -> None:
        """A run stopped before the end has only written its first ``partial_posts`` posts."""
        kept, posts = [], 0
        for item in self._datasets[entry["dataset"]]:
            if item["dataType"] == "post":
                posts += 1
                if posts > self.partial_posts:
                    break
            kept.append(item)
        self._datasets[entry["dataset"]] = kept if self.partial_posts else []

    def _settle(self, run_id: str) -> dict[str, Any]:
        """The run as it is now: finished with ``outcome`` once its time has come."""
        with self._lock:
            entry = self._runs[run_id]
            run = entry["run"]
            if (
                run["status"] == "RUNNING"
                and entry["outcome"] != "RUNNING"
                and time.monotonic() >= entry["done_at"]
            ):
                run["status"] = entry["outcome"]
                run["finishedAt"] = _iso(datetime.now(UTC))
                run["exitCode"] = 0 if entry["outcome"] == "SUCCEEDED" else 1
                run["statusMessage"] = {"SUCCEEDED": "Finished!", "FAILED": "The Actor process failed"}.get(
                    entry["outcome"], entry["outcome"].lower()
                )
                if entry["outcome"] != "SUCCEEDED":
                    self._cut_short(entry)
            return dict(run)

    async def _items(self, request: web.Request) -> web.Response:
        dataset = self._datasets.get(request.match_info["dataset"])
        if dataset is None:
            return _error(404, "record-not-found", "Dataset was not found")
        offset = int(request.query.get("offset", 0) or 0)
        limit = int(request.query.get("limit", 0) or 0) or 999_999_999_999
        page = dataset[offset : offset + limit]
        headers = {
            "x-apify-pagination-total": str(len(dataset)),
            "x-apify-pagination-offset": str(offset),
            "x-apify-pagination-count": str(len(page)),
            "x-apify-pagination-limit": str(limit),
            "x-apify-pagination-desc": "false",
        }
        return web.json_response(page, headers=headers)

    # -- the "actor" ---------------------------------------------------------------------------

    def _scrape(self, run_input: dict[str, Any], max_items: int | None) -> list[dict[str, Any]]:
        cap = run_input.get("maxItems") or max_items or 50
        subreddit = run_input.get("searchCommunityName") or _subreddit_of(run_input.get("startUrls") or [])
        posts = generate_posts(subreddit or "all", int(cap))
        terms = [t.lower() for t in run_input.get("searches") or []]
        if terms:
            posts = [p for p in posts if any(t in f"{p['title']} {p['selftext']}".lower() for t in terms)]
        scraped = _iso(datetime.now(UTC))
        items: list[dict[str, Any]] = [_community_item(subreddit or "all", scraped)]
        for post in posts:
            items.append(_post_item(post, scraped, media=bool(run_input.get("includeMediaLinks"))))
            count = min(self.comments_per_post, int(run_input.get("maxComments") or 0))
            if not run_input.get("skipComments", False):
                items.extend(_comment_item(post, c, scraped) for c in generate_thread(post, count))
        posts_seen, kept = 0, []
        for item in items:  # maxItems counts posts here; the real actor counts every item type
            if item["dataType"] == "post":
                posts_seen += 1
                if posts_seen > cap:
                    break
            kept.append(item)
        return kept


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message}}, status=status)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _subreddit_of(start_urls: list[Any]) -> str | None:
    for entry in start_urls:
        url = entry.get("url", "") if isinstance(entry, dict) else str(entry)
        parts = [p for p in url.split("/") if p]
        if "r" in parts and parts.index("r") + 1 < len(parts):
            return parts[parts.index("r") + 1]
    return None


def _post_item(post: dict[str, Any], scraped: str, *, media: bool = True) -> dict[str, Any]:
    created = datetime.fromtimestamp(post["created_utc"], tz=UTC)
    item: dict[str, Any] = {
        "id": post["name"],
        "parsedId": post["id"],
        "url": f"https://www.reddit.com{post['permalink']}",
        "username": post["author"],
        "userId": post.get("author_fullname"),
        "title": post["title"],
        "communityName": f"r/{post['subreddit']}",
        "parsedCommunityName": post["subreddit"],
        "body": post["selftext"],
        "html": post.get("selftext_html"),
        "link": None if post["is_self"] else post["url"],
        "numberOfComments": post["num_comments"],
        "flair": post.get("link_flair_text"),
        "upVotes": post["score"],
        "upVoteRatio": post.get("upvote_ratio"),
        "isVideo": False,
        "isAd": False,
        "over18": post["over_18"],
        "thumbnailUrl": None,
        "imageUrls": [],
        "createdAt": _iso(created),
        "scrapedAt": scraped,
        "dataType": "post",
    }
    if "upvote_ratio" not in post:  # the actor omits what Reddit omitted
        del item["upVoteRatio"]
    if not media:  # without includeMediaLinks the actor sends no engagement figures
        for key in ("upVotes", "upVoteRatio", "numberOfComments"):
            item.pop(key, None)
    elif not post["is_self"]:
        item["body"] = f"URL: {post['url']}\nThumbnail: https://b.thumbs.redditmedia.com/x.jpg\n"
    return item


def _comment_item(post: dict[str, Any], comment: FakeComment, scraped: str) -> dict[str, Any]:
    """A comment as the actor writes it: no depth, the parent's and the post's fullnames."""
    created = datetime.fromtimestamp(comment.created_utc, tz=UTC)
    return {
        "id": f"t1_{comment.id}",
        "parsedId": comment.id,
        "url": f"https://www.reddit.com{post['permalink']}{comment.id}/",
        "postId": post["name"],
        "parentId": comment.parent,
        "username": comment.author,
        "category": post["subreddit"],
        "communityName": f"r/{post['subreddit']}",
        "body": comment.body,
        "createdAt": _iso(created),
        "scrapedAt": scraped,
        "upVotes": comment.ups,
        "numberOfreplies": 0,
        "html": None,
        "dataType": "comment",
    }


def _community_item(name: str, scraped: str) -> dict[str, Any]:
    return {
        "id": "t5_fake",
        "name": f"r/{name}",
        "title": name,
        "numberOfMembers": 12345,
        "url": f"https://www.reddit.com/r/{name}/",
        "createdAt": "2008-01-25T00:00:00.000Z",
        "scrapedAt": scraped,
        "dataType": "community",
    }
