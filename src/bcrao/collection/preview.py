"""What a collection would cost before it starts: Reddit requests, minutes, LLM, Apify.

The estimate follows the sources' own plans rather than a rule of thumb:

- **listings**: per subreddit, the listings ``RedditSource`` reads (``_plan``: new and/or
  top, or subreddit search when the campaign has keywords), each in pages of 100 up to its
  share of ``max_posts_per_subreddit`` (hybrid: half each). A listing of new posts that
  resumes from a cursor ends on its first page with the posts written since the cursor
  moved (the subreddit's posting rate among the stored posts, times the time since); in
  hybrid mode the year's top posts then fill the rest of the limit, as ``RedditSource`` does.
  How many posts a subreddit really has is learnt from the campaign's last run: one whose
  subreddits ran dry before the limit says how many there were.
- **comments**: one ``/comments/{id}`` call per kept post with comments, plus
  ``MORECHILDREN_PER_THREAD`` ``/api/morechildren`` calls. The kept share and the share of
  posts with comments come from the campaign's history (defaults measured on the bundled
  corpus before the first run).
- **deletion checks**: the compliance re-check reads stored posts 100 per ``/api/info`` call
  (``deletion_checks``; not part of the run, so not in ``total``).
- **minutes**: requests at the rate budget (Reddit's 100 per minute per client id unless
  the shared budget in Redis says what is left of the window).
- **LLM**: the top ``classify_fraction`` of kept posts per subreddit, ``llm_batch_size`` to a
  call, with the token counts measured by ``bench/llm_cost.py``, at the settings' prices.
- **Apify**: every post and comment item the actor returns, at ``apify_usd_per_result``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import CollectionRun, RawPost, SourceCursor
from bcrao.collection.schemas import CollectRequest
from bcrao.config import ClassifierName, Settings, SourceName
from bcrao.sources.base import FetchRequest, Mode
from bcrao.sources.reddit import PAGE_SIZE, _plan

# RedisRateLimiter's hash of one client id's window (``remaining``, ``reset_at``).
RATELIMIT_PREFIX = "bcrao:ratelimit:reddit:"
REQUESTS_PER_MINUTE = 100  # Reddit's documented OAuth budget per client id
INFO_BATCH = 100  # ids per /api/info call (compliance re-checks)
MORECHILDREN_PER_THREAD = 1.0  # a 50-comment thread usually needs one expansion
# Before a campaign's first run: the bundled real posts (2,000 of five communities) under
# the default pre-filter keep 75%, 98% of them with comments. Generated or noisy
# subreddits keep far less (22-38%), so a first estimate of comments can be 2x high; from
# the second run on the campaign's own figures are used.
DEFAULT_KEPT_SHARE = 0.75
DEFAULT_WITH_COMMENTS_SHARE = 0.95
DEFAULT_COMMENTS_PER_THREAD = 20.0
# Tokens per LLM call, bench/llm_cost.py with o200k_base at 8 posts per request:
# ~300 of instructions per call, ~192 in and ~35 out per post.
LLM_INSTRUCTION_TOKENS = 300
LLM_INPUT_TOKENS_PER_POST = 192
LLM_OUTPUT_TOKENS_PER_POST = 35


@dataclass(frozen=True, slots=True)
class History:
    """What the campaign's past says about its subreddits."""

    posts_per_subreddit: float | None  # fetched per subreddit when the listings ran dry
    kept_share: float
    with_comments_share: float
    comments_per_thread: float
    stored_posts: int


async def preview(
    session: AsyncSession,
    *,
    campaign: Campaign,
    options: CollectRequest,
    settings: Settings,
    redis: Any = None,
) -> dict[str, Any]:
    history = await _history(session, campaign)
    subs = list(campaign.target_subreddits)
    limit = options.max_posts_per_subreddit
    comments_per_post = (
        settings.comments_per_post if options.comments_per_post is None else options.comments_per_post
    )
    fetched = min(limit, history.posts_per_subreddit) if history.posts_per_subreddit is not None else limit
    cursors = await _cursors(session, campaign, options.mode)
    listings = comments = 0
    posts = 0.0  # fetched over all subreddits
    for sub in subs:
        resumed = cursors.get(sub.lower())  # posts a resumed listing of new posts brings
        requests, sub_posts = _listing_plan(sub, list(campaign.keywords), options.mode, fetched, resumed)
        listings += requests
        posts += sub_posts
    kept_per_sub = posts / max(1, len(subs)) * history.kept_share
    threads = kept_per_sub * history.with_comments_share * len(subs) if comments_per_post > 0 else 0.0
    if settings.source is SourceName.reddit:
        comments = math.ceil(threads * (1 + MORECHILDREN_PER_THREAD))
    else:
        listings = 0
    total = listings + comments
    budget = await _budget(settings, redis)
    return {
        "source": settings.source.value,
        "requests": {
            "listings": listings,
            "comments": comments,
            "total": total,
            "deletion_checks": math.ceil(history.stored_posts / INFO_BATCH)
            if settings.source is SourceName.reddit
            else 0,
        },
        "minutes": _minutes(total, budget),
        "llm": _llm(settings, kept_per_sub, len(subs)),
        "apify": _apify(settings, posts, threads, history, comments_per_post),
        "budget": {
            "remaining": budget[0] if budget else None,
            "resets_at": budget[1].isoformat().replace("+00:00", "Z") if budget else None,
        },
    }


def _listing_plan(
    sub: str, keywords: list[str], mode: Mode, fetched: float, resumed: float | None
) -> tuple[int, float]:
    """Requests and posts of one subreddit's listings; ``resumed`` is how many new posts a
    listing of new posts that resumes from a cursor brings (None: no cursor)."""
    request = FetchRequest(subreddit=sub, keywords=keywords, mode=mode, limit=int(fetched))
    groups = _plan(request)
    left, requests, posts = fetched, 0, 0.0
    for index, listings in enumerate(groups):
        # Hybrid: the new posts get half, the year's top posts what is left of the limit (as
        # RedditSource); a sort's several keyword searches share its part.
        share = math.ceil(left / 2) if index == 0 and len(groups) > 1 else left
        if listings[0].newest_first and resumed is not None:
            # Resumes from the cursor: the known post ends the listing, on its first page.
            share = min(share, resumed)
            requests += len(listings) * max(1, math.ceil(share / len(listings) / PAGE_SIZE))
        else:
            # Full pages (the last says there is no more: at least one page). A sort after the
            # first meets the posts that one collected again and reads past them: their share
            # of what it reads, taking the subreddit's listing to be about ``fetched`` long.
            repeats = (fetched - left) * share / fetched if index and fetched else 0.0
            pages = math.ceil((share + repeats) / len(listings) / PAGE_SIZE)
            requests += len(listings) * max(1, pages)
        left -= share
        posts += share
    return requests, posts


async def _history(session: AsyncSession, campaign: Campaign) -> History:
    last = await session.scalar(
        select(CollectionRun)
        .where(
            CollectionRun.campaign_id == campaign.id,
            CollectionRun.status.in_(("complete", "partial")),
            CollectionRun.source != "import",
            CollectionRun.scraped > 0,
        )
        .order_by(CollectionRun.created_at.desc())
        .limit(1)
    )
    stored, with_comments, comment_sum = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(RawPost.comment_count > 0),
                func.coalesce(func.sum(RawPost.comment_count), 0),
            ).where(RawPost.campaign_id == campaign.id)
        )
    ).one()
    posts_per_subreddit = None
    kept_share = DEFAULT_KEPT_SHARE
    if last is not None:
        per_sub = last.scraped / max(1, len(campaign.target_subreddits))
        kept_share = last.filtered / last.scraped
        if per_sub < 0.95 * last.max_posts_per_subreddit:  # the listings ran dry: that is their size
            posts_per_subreddit = per_sub
    return History(
        posts_per_subreddit=posts_per_subreddit,
        kept_share=kept_share,
        with_comments_share=with_comments / stored if stored else DEFAULT_WITH_COMMENTS_SHARE,
        comments_per_thread=comment_sum / with_comments if with_comments else DEFAULT_COMMENTS_PER_THREAD,
        stored_posts=int(stored),
    )


async def _cursors(session: AsyncSession, campaign: Campaign, mode: str) -> dict[str, float]:
    """Per subreddit with a cursor of this mode: the new posts expected since it last moved
    (the subreddit's posting rate among the campaign's stored posts times the time since)."""
    if mode not in ("fresh", "hybrid"):
        return {}
    cursors = (
        await session.scalars(
            select(SourceCursor).where(SourceCursor.campaign_id == campaign.id, SourceCursor.mode == mode)
        )
    ).all()
    if not cursors:
        return {}
    rates = {
        key: (count - 1) / max(1.0, (newest - oldest).total_seconds())
        for key, count, oldest, newest in await session.execute(
            select(
                RawPost.subreddit_key,
                func.count(),
                func.min(RawPost.reddit_created_at),
                func.max(RawPost.reddit_created_at),
            )
            .where(RawPost.campaign_id == campaign.id)
            .group_by(RawPost.subreddit_key)
        )
        if count > 1 and oldest is not None and newest is not None
    }
    now = datetime.now(UTC)
    return {
        c.subreddit_key: math.floor(
            rates.get(c.subreddit_key, 0.0) * max(0.0, (now - _aware(c.updated_at)).total_seconds())
        )
        for c in cursors
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _budget(settings: Settings, redis: Any) -> tuple[int, datetime] | None:
    """What is left of the shared window, when workers share one in Redis and it is known."""
    if settings.source is not SourceName.reddit or redis is None or not settings.reddit_client_id:
        return None
    key = f"{RATELIMIT_PREFIX}{settings.reddit_client_id}"
    try:
        remaining, reset_at = await redis.hmget(key, "remaining", "reset_at")
    except Exception:  # the preview is advice: no budget rather than an error
        return None
    if remaining is None or reset_at is None:
        return None
    resets = datetime.fromtimestamp(float(reset_at), tz=UTC)
    if resets <= datetime.now(UTC):
        return None  # the window is over: a fresh one starts with the next request
    return max(0, int(float(remaining))), resets


def _minutes(total: int, budget: tuple[int, datetime] | None) -> float:
    if total == 0:
        return 0.0
    minutes = total / REQUESTS_PER_MINUTE
    if budget is not None and total > budget[0]:
        # The rest of this window first, then the remainder at the full rate after its reset.
        wait = max(0.0, (budget[1] - datetime.now(UTC)).total_seconds() / 60)
        minutes = wait + (total - budget[0]) / REQUESTS_PER_MINUTE
    return round(minutes, 1)


def _llm(settings: Settings, kept_per_sub: float, subreddits: int) -> dict[str, Any]:
    if settings.classifier is not ClassifierName.llm or kept_per_sub <= 0:
        return {"calls": 0, "tokens": 0, "usd": 0.0}
    per_sub = max(1, math.ceil(round(kept_per_sub * settings.classify_fraction, 9)))
    calls = math.ceil(per_sub / settings.llm_batch_size) * subreddits
    posts = per_sub * subreddits
    tokens_in = calls * LLM_INSTRUCTION_TOKENS + posts * LLM_INPUT_TOKENS_PER_POST
    tokens_out = posts * LLM_OUTPUT_TOKENS_PER_POST
    usd = (
        tokens_in / 1e6 * settings.llm_input_cost_per_mtok
        + tokens_out / 1e6 * settings.llm_output_cost_per_mtok
    )
    return {"calls": calls, "tokens": tokens_in + tokens_out, "usd": round(usd, 4)}


def _apify(
    settings: Settings, posts: float, threads: float, history: History, comments_per_post: int
) -> dict[str, Any]:
    if settings.source is not SourceName.apify:
        return {"results": 0, "usd": 0.0}
    results = math.ceil(posts + threads * min(history.comments_per_thread, comments_per_post))
    return {"results": results, "usd": round(results * settings.apify_usd_per_result, 4)}
