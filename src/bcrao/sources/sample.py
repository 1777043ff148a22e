"""The offline ``sample`` source: serves the bundled corpus as if it were Reddit.

It is the default source, so a fresh install can run a whole collection with no network
and no credentials, and tests get the same posts on every run. Two bundled files: a
generated corpus of ten founder subreddits (exact, for tests) and real posts of five
communities (for the demo and a first look at real quality). The corpus is stored in
Reddit's own t3 shape and converted with the same ``from_reddit_json`` the live source uses,
so the pipeline cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import difflib
import gzip
import json
import math
import random
import zlib
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from bcrao.sources.base import (
    CommentRequest,
    CommentResult,
    FetchRequest,
    FetchResult,
    ItemState,
    NormalizedPost,
    SourceHealth,
    SubredditCheck,
    WaitCallback,
)
from bcrao.sources.comments import ThreadReader
from bcrao.sources.normalize import from_reddit_json

CORPUS_PACKAGE = "bcrao.data"
CORPUS_FILE = "sample_posts.json.gz"
# Real posts of real communities (scripts/bundle_real_posts.py; PDDL, credited in the file):
# what the demo campaign collects, so a first look shows the product's real quality.
REAL_POSTS_FILE = "real_posts.json.gz"
HISTORICAL_WINDOW = timedelta(days=365)


@lru_cache(maxsize=1)
def load_corpus() -> dict[str, tuple[NormalizedPost, ...]]:
    """Posts by lower-cased subreddit name, newest first; read and converted once per process.

    Converted posts are shared between fetches, so ``fetch`` hands out copies: the pipeline
    owns what it receives and may not corrupt the cache.
    """
    corpus: dict[str, tuple[NormalizedPost, ...]] = {}
    for file in (CORPUS_FILE, REAL_POSTS_FILE):
        raw = resources.files(CORPUS_PACKAGE).joinpath(file).read_bytes()
        document: dict[str, Any] = json.loads(gzip.decompress(raw))
        for name, listing in document["subreddits"].items():
            posts = [from_reddit_json(item) for item in listing]
            posts.sort(key=_newest_first)
            corpus[name.lower()] = tuple(posts)
    return corpus


@lru_cache(maxsize=1)
def _posts_by_id() -> dict[str, NormalizedPost]:
    return {p.id: p for posts in load_corpus().values() for p in posts}


def _newest_first(post: NormalizedPost) -> tuple[float, str]:
    # Reddit ids grow with time, so the id breaks ties between posts of the same second.
    return (-post.created_utc.timestamp(), _reverse_id(post.id))


def _reverse_id(post_id: str) -> str:
    return "".join(chr(255 - ord(ch)) for ch in post_id.rjust(13, "0"))


def subreddits() -> list[str]:
    """Names of the subreddits the corpus holds, as Reddit spells them."""
    return sorted({p.subreddit for posts in load_corpus().values() for p in posts[:1]}, key=str.lower)


def check_in_corpus(name: str) -> SubredditCheck:
    """Membership in the corpus, with the closest corpus name as a suggestion for a typo."""
    spelled = {n.lower(): n for n in subreddits()}
    found = spelled.get(name.lower())
    if found is not None:
        count = len(load_corpus()[name.lower()])
        return SubredditCheck(name, "ok", f"r/{found} is in the sample corpus ({count:,} posts)")
    close = difflib.get_close_matches(name.lower(), list(spelled), n=1, cutoff=0.75)
    suggestion = spelled[close[0]] if close else None
    hint = f" Did you mean r/{suggestion}?" if suggestion else ""
    return SubredditCheck(
        name,
        "not_found",
        f"r/{name} is not in the offline sample corpus, so a run would find nothing there.{hint}",
        suggestion,
    )


class SampleSource:
    name = "sample"

    async def fetch(self, request: FetchRequest, *, on_wait: WaitCallback | None = None) -> FetchResult:
        """Posts of ``request.subreddit`` picked by mode, newest first, at most ``limit``.

        Keywords deliberately do not narrow the result: relevance is the pre-filter's job,
        and a real listing is not keyword-filtered either.
        """
        if load_corpus.cache_info().currsize == 0:
            # First use: decompressing and converting takes ~0.2 s, keep the event loop free.
            await asyncio.to_thread(load_corpus)
        name = request.subreddit.strip().removeprefix("/").removeprefix("r/").lower()
        known = name in load_corpus()
        posts = load_corpus().get(name, ())
        warnings = []
        if not known:
            warnings.append(f"r/{request.subreddit} is not in the bundled sample corpus")
        elif request.newer_than_id and not any(
            p.id == request.newer_than_id.removeprefix("t3_") for p in posts
        ):
            warnings.append(f"cursor {request.newer_than_id} not found; returning the newest posts")
        limit = max(0, request.limit)
        # The cursor narrows listings of *new* posts only; "top of the year" is re-read in
        # full (a real listing changes under us), and upserts drop what we already have.
        fresh = _newer_than(posts, request)
        if request.mode == "fresh":
            chosen = list(fresh[:limit])
        elif request.mode == "historical":
            chosen = _top(posts, limit)
        else:
            chosen = _hybrid(fresh, posts, limit)
        chosen.sort(key=_newest_first)
        return FetchResult(posts=[replace(p) for p in chosen], requests=0, warnings=warnings)

    async def fetch_comments(
        self, request: CommentRequest, *, on_wait: WaitCallback | None = None
    ) -> CommentResult:
        """A thread generated from the post (deterministic: the same comments every time),
        in Reddit's wire shape and read by the same ``ThreadReader`` as the live source."""
        post = _posts_by_id().get(request.post_id)
        if post is None:
            return CommentResult(comments=[], post_gone=True)
        reader = ThreadReader(post_id=post.id, limit=request.limit, max_depth=request.max_depth)
        reader.read_tree(sample_thread(post))
        return CommentResult(comments=reader.comments)

    async def check_subreddit(self, name: str) -> SubredditCheck:
        if load_corpus.cache_info().currsize == 0:
            await asyncio.to_thread(load_corpus)
        return check_in_corpus(name)

    async def fetch_info(
        self, fullnames: list[str], *, on_wait: WaitCallback | None = None
    ) -> dict[str, ItemState] | None:
        """The bundled posts never change: everything still exists."""
        return dict.fromkeys(fullnames, "ok")

    async def probe(self) -> SourceHealth:
        return SourceHealth("ok", "The offline sample corpus is bundled with the app: nothing to reach")

    async def aclose(self) -> None:
        return None


def _newer_than(posts: tuple[NormalizedPost, ...], request: FetchRequest) -> tuple[NormalizedPost, ...]:
    """Incremental collection: keep posts created after the cursor (time and/or post id)."""
    if request.newer_than_id:
        cursor_id = request.newer_than_id.removeprefix("t3_")
        for index, post in enumerate(posts):
            if post.id == cursor_id:
                posts = posts[:index]  # newest first: everything before the cursor is newer
                break
    if request.newer_than is not None:
        posts = tuple(p for p in posts if p.created_utc > request.newer_than)
    return posts


def _top(posts: tuple[NormalizedPost, ...], limit: int) -> list[NormalizedPost]:
    """Highest-scored posts of the year before the newest one (Reddit's top?t=year)."""
    if not posts:
        return []
    since = posts[0].created_utc - HISTORICAL_WINDOW
    in_window = [p for p in posts if p.created_utc >= since]
    return sorted(in_window, key=lambda p: (-p.upvotes, _newest_first(p)))[:limit]


def _hybrid(
    fresh: tuple[NormalizedPost, ...], posts: tuple[NormalizedPost, ...], limit: int
) -> list[NormalizedPost]:
    """Half newest (after the cursor), half top of the year, without duplicates, topped up
    to ``limit`` with more new posts."""
    fresh_share = math.ceil(limit / 2)
    chosen = list(fresh[:fresh_share])
    seen = {p.id for p in chosen}
    for post in (*_top(posts, limit), *fresh[fresh_share:]):
        if len(chosen) >= limit:
            break
        if post.id not in seen:
            seen.add(post.id)
            chosen.append(post)
    return chosen


# -- generated comment threads -------------------------------------------------------------

_TOOLS = ("a spreadsheet", "Notion", "QuickBooks", "Wave", "FreshBooks", "Stripe", "Zapier", "Airtable")
_REPLIES = (
    "We had the same problem. Ended up using {tool} and it works until you hit about 50 clients.",
    "Honestly {tool} is fine for this, but the pricing jumped last year and nobody warns you.",
    "Have you tried {tool}? It took me a weekend to set up but it saved hours every month.",
    "This is exactly what I struggle with. Following for answers.",
    "I tried three tools for this and went back to {tool}. The others were too expensive for what they did.",
    "The hard part isn't the tool, it's getting clients to actually pay on time.",
    "What worked for me: a template, a fixed day each week, and reminders through {tool}.",
    "I'd pay for something that just did this one thing well. Everything out there is bloated.",
    "Same here. Support at {tool} never answered my ticket about exports.",
    "Thanks for writing this up, super useful. How long did it take you to get there?",
    "Counterpoint: most people overthink this. Start simple and automate later.",
    "We switched away from {tool} because it kept breaking our integrations.",
    "Does anyone know a cheaper alternative to {tool} for a one-person business?",
    "Great question. I'd also like to know how others handle taxes on this.",
    "My accountant recommended {tool}; two years in and no complaints so far.",
    "The free tier of {tool} is enough until you need recurring invoices.",
)
_FOLLOW_UPS = (
    "How much does it cost you per month?",
    "Same experience here.",
    "Which plan are you on?",
    "This. Exactly this.",
    "Did you try their support? They fixed it for me in a day.",
    "Good to know, thanks!",
    "Agreed, the pricing is the main issue.",
)
_AUTHORS = (
    "quietfounder",
    "ledger_lisa",
    "mk_builds",
    "throwaway_ops",
    "sam_the_freelancer",
    "cpa_dan",
    "jo_dev",
)


def sample_thread(post: NormalizedPost) -> list[dict[str, Any]]:
    """A comment Listing's children for ``post``: top-level replies with a few nested
    answers, one deleted comment on busy threads; sized by the post's own comment count."""
    rng = random.Random(zlib.crc32(post.id.encode()))
    total = min(post.comment_count, 40)
    created = post.created_utc.timestamp()
    made = 0

    def comment(parent: str, depth: int, text: str, score: int) -> dict[str, Any]:
        nonlocal made
        made += 1
        comment_id = f"{post.id}s{made}"
        deleted = total >= 8 and made == 3
        return {
            "kind": "t1",
            "data": {
                "id": comment_id,
                "name": f"t1_{comment_id}",
                "parent_id": parent,
                "link_id": f"t3_{post.id}",
                "depth": depth,
                "author": "[deleted]" if deleted else rng.choice(_AUTHORS),
                "body": "[deleted]" if deleted else text,
                "score": score,
                "ups": score,
                "created_utc": created + 60.0 * made,
                "replies": "",
                "subreddit": post.subreddit,
            },
        }

    top: list[dict[str, Any]] = []
    while made < total:
        score = max(1, int(post.upvotes * rng.uniform(0.02, 0.3)))
        root = comment(f"t3_{post.id}", 0, rng.choice(_REPLIES).format(tool=rng.choice(_TOOLS)), score)
        children = []
        for _ in range(rng.randint(0, 2)):
            if made >= total:
                break
            reply = comment(
                root["data"]["name"], 1, rng.choice(_FOLLOW_UPS), max(1, score // rng.randint(2, 6))
            )
            children.append(reply)
        if children:
            root["data"]["replies"] = {"kind": "Listing", "data": {"children": children}}
        top.append(root)
    top.sort(key=lambda c: -c["data"]["score"])
    return top
