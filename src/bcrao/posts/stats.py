"""The numbers of a campaign's dashboard header, in a handful of set-based queries.

Every post aggregate (total, per archetype, per subreddit, average, histogram) comes from
``post_counts``: at most 4 x (subreddits) x 10 rows, however many posts are stored, kept
exact by the store step in the same transaction as the posts themselves.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.auth.models import User
from bcrao.campaigns.models import Campaign
from bcrao.campaigns.schemas import LastRun
from bcrao.collection import service as collection
from bcrao.collection.models import ARCHETYPES, CollectionRun, PostCount, RawPost
from bcrao.comments.models import CommentTotal
from bcrao.compliance.models import ComplianceTotal
from bcrao.config import Settings
from bcrao.db import core_execute
from bcrao.posts.schemas import CollectionStats, CommentStats, Funnel, HistogramBucket

BUCKETS = 10


# Built once: the SQL never changes, only the campaign id does.
_POST_GROUPS = select(
    PostCount.archetype, PostCount.subreddit_key, PostCount.bucket, PostCount.posts, PostCount.score_sum
).where(PostCount.campaign_id == bindparam("campaign_id"))
_RUNS_NEWEST_FIRST = (
    select(
        CollectionRun.scraped,
        CollectionRun.filtered,
        CollectionRun.classified,
        CollectionRun.stored,
        CollectionRun.filter_reasons,
        CollectionRun.id,
        CollectionRun.status,
        CollectionRun.created_at,
        CollectionRun.finished_at,
    )
    .where(CollectionRun.campaign_id == bindparam("campaign_id"))
    .order_by(CollectionRun.created_at.desc(), CollectionRun.id.desc())
)


async def _post_groups(session: AsyncSession, *, campaign_id: Any) -> list[tuple[str, str, int, int, float]]:
    """(archetype, subreddit, bucket, posts, score sum) from the counts the store step keeps."""
    rows = await core_execute(session, _POST_GROUPS, {"campaign_id": campaign_id})
    return [(a, s, int(b), int(n), float(total or 0)) for a, s, b, n, total in rows]


async def _spelling(session: AsyncSession, *, campaign_id: Any, key: str) -> str:
    """How posts of a subreddit that is no longer a target were stored (rare: targets edited)."""
    name = await session.scalar(
        select(RawPost.subreddit)
        .where(RawPost.campaign_id == campaign_id, RawPost.subreddit_key == key)
        .limit(1)
    )
    return name or key


async def _run_totals(
    session: AsyncSession, *, campaign_id: Any
) -> tuple[int, Funnel, dict[str, int], LastRun | None]:
    """Funnel and filter reasons summed over the runs, and the newest run, in one query."""
    rows = await core_execute(session, _RUNS_NEWEST_FIRST, {"campaign_id": campaign_id})
    funnel = Funnel()
    reasons: Counter[str] = Counter()
    runs = 0
    last: LastRun | None = None
    for scraped, filtered, classified, stored, filter_reasons, run_id, status, created, finished in rows:
        if last is None:
            last = LastRun(task_id=run_id, status=status, created_at=created, finished_at=finished)
        runs += 1
        funnel.scraped += scraped
        funnel.filtered += filtered
        funnel.classified += classified
        funnel.stored += stored
        reasons.update({k: int(v) for k, v in (filter_reasons or {}).items()})
    return runs, funnel, dict(sorted(reasons.items())), last


async def collection_stats(
    session: AsyncSession, *, campaign: Campaign, user: User, settings: Settings
) -> CollectionStats:
    groups = await _post_groups(session, campaign_id=campaign.id)
    by_archetype = dict.fromkeys(ARCHETYPES, 0)
    targets = {name.lower(): name for name in campaign.target_subreddits}
    by_key: Counter[str] = Counter({key: 0 for key in targets})
    histogram = [0] * BUCKETS
    total, score_sum = 0, 0.0
    for archetype, key, bucket, count, sum_scores in groups:
        by_archetype[archetype] = by_archetype.get(archetype, 0) + count
        by_key[key] += count
        histogram[bucket] += count
        total += count
        score_sum += sum_scores
    by_subreddit = {}
    for key, count in by_key.items():
        name = targets.get(key) or await _spelling(session, campaign_id=campaign.id, key=key)
        by_subreddit[name] = count
    runs, funnel, reasons, last = await _run_totals(session, campaign_id=campaign.id)
    return CollectionStats(
        total=total,
        by_archetype=by_archetype,
        by_subreddit=by_subreddit,
        avg_success_score=round(score_sum / total, 2) if total else None,
        funnel=funnel,
        filter_reasons=reasons,
        score_histogram=[HistogramBucket(min=i, max=i + 1, count=histogram[i]) for i in range(BUCKETS)],
        runs=runs,
        runs_remaining_this_week=await collection.runs_remaining(session, user=user, settings=settings),
        last_run=last,
        comments=await _comment_totals(session, campaign_id=campaign.id),
        purged=int(
            await session.scalar(
                select(ComplianceTotal.purged).where(ComplianceTotal.campaign_id == campaign.id)
            )
            or 0
        ),
    )


async def _comment_totals(session: AsyncSession, *, campaign_id: Any) -> CommentStats:
    totals = await session.get(CommentTotal, campaign_id)
    if totals is None:
        return CommentStats()
    return CommentStats(total=totals.comments, posts_with_comments=totals.posts_with_comments)
