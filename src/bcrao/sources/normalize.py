"""Reddit's t3 JSON → ``NormalizedPost``, shared by every source that speaks Reddit's shape.

Reddit's schema drifted over a decade (51 keys in 2016 listings, ~110 today) and any key
can be absent or null, so every lookup here has a default and a type coercion. The
bundled sample corpus, the official API source and fixtures all go through this one
function so they can never disagree on what "removed" or "author" means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bcrao.sources.base import NormalizedPost

REDDIT_WWW = "https://www.reddit.com"
# Bodies Reddit substitutes when a post was taken down or its author deleted it.
REMOVED_BODIES = frozenset({"[removed]", "[deleted]"})
DELETED_AUTHORS = frozenset({"[deleted]", "[removed]", ""})


def _absolute(link: str) -> str:
    """Reddit sends permalinks (and crosspost urls) relative to www.reddit.com."""
    if not link:
        return ""
    if link.startswith("//"):
        return "https:" + link
    if link.startswith("/"):
        return REDDIT_WWW + link
    return link


def to_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _ratio(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        return None
    return ratio if 0.0 <= ratio <= 1.0 else None


def created_at(data: dict[str, Any]) -> datetime:
    # ``created`` was local-time-ish in old responses; prefer ``created_utc``.
    raw: Any = data.get("created_utc", data.get("created"))  # None fails float() below
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, tz=UTC)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def from_reddit_json(data: dict[str, Any]) -> NormalizedPost:
    """Convert the ``data`` object of a ``t3`` listing child; never raises on missing keys."""
    post_id = str(data.get("id") or "")
    if not post_id:
        name = str(data.get("name") or "")
        post_id = name[3:] if name.startswith("t3_") else name
    subreddit = str(data.get("subreddit") or "")

    permalink = _absolute(str(data.get("permalink") or ""))
    if not permalink and post_id:
        permalink = (
            f"{REDDIT_WWW}/r/{subreddit}/comments/{post_id}/"
            if subreddit
            else f"{REDDIT_WWW}/comments/{post_id}/"
        )

    selftext = data.get("selftext")
    selftext = selftext if isinstance(selftext, str) else ""
    body_removed = selftext.strip() in REMOVED_BODIES
    removed_flag = bool(data.get("removed_by_category")) or bool(data.get("removed_by"))

    author = data.get("author")
    author = author if isinstance(author, str) and author not in DELETED_AUTHORS else None

    crossposts = data.get("crosspost_parent_list")
    is_crosspost = bool(data.get("crosspost_parent")) or (isinstance(crossposts, list) and bool(crossposts))

    upvotes = data.get("ups")
    if upvotes is None:
        upvotes = data.get("score")
    is_self = data.get("is_self")
    if is_self is None:
        is_self = str(data.get("domain") or "").startswith("self.") or not data.get("url")

    return NormalizedPost(
        id=post_id,
        subreddit=subreddit,
        title=str(data.get("title") or ""),
        text=selftext,  # kept as fetched ("[removed]" included): raw text is never rewritten
        author=author,
        url=_absolute(str(data.get("url") or "")) or permalink,
        permalink=permalink,
        upvotes=to_int(upvotes),
        comment_count=to_int(data.get("num_comments")),
        upvote_ratio=_ratio(data.get("upvote_ratio")),
        created_utc=created_at(data),
        is_self=bool(is_self),
        stickied=bool(data.get("stickied")),
        over_18=bool(data.get("over_18")),
        removed=body_removed or removed_flag,
        is_crosspost=is_crosspost,
        distinguished=_str_or_none(data.get("distinguished")),
        link_flair_text=_str_or_none(data.get("link_flair_text")),
        lang=_str_or_none(data.get("lang")),
    )
