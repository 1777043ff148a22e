"""Deletion sync: re-check stored posts and comments on Reddit, purge what was deleted.

Each stored post is looked up through the source's ``/api/info`` (100 fullnames a request,
in the shared rate budget) with its comments: first within 48 h of collection (after 24 h),
then after 3, 7, 14 and 30 days, then no more. Posts are *claimed* before they are checked
(a lease set and their next check moved past it in one ``UPDATE ... RETURNING``), so two
processes checking at once never check the same post, and the on-demand check leaves alone
what a periodic pass holds; a check that fails leaves the lease to expire and the post is
checked again later. Retention (``retention_days``) purges what is older. Purges count what
their ``DELETE ... RETURNING`` removed, so two passes purging the same post count it once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import RawPost
from bcrao.comments.models import RawComment
from bcrao.compliance.checks import RECHECK_AFTER, next_check
from bcrao.compliance.models import ComplianceTotal
from bcrao.compliance.purge import POST_COLUMNS, add_to_totals, lock_posts, purge_comments, purge_posts
from bcrao.db import session_scope, utcnow
from bcrao.sources.base import PostSource, SourceError

log = logging.getLogger("bcrao.compliance")

LEASE = timedelta(minutes=10)
POSTS_PER_PASS = 500
RETENTION_BATCH = 5000


@dataclass
class CheckOutcome:
    checked: int = 0
    purged_posts: int = 0
    purged_comments: int = 0
    message: str | None = None
    last_id: uuid.UUID | None = None


async def _claim(
    session: AsyncSession, campaign_id: uuid.UUID, now: datetime, after: uuid.UUID | None
) -> list[Any]:
    """Due posts (or, for an on-demand check, every watched post after ``after`` in id
    order) that no other pass holds, leased to this one: ``check_lease_until`` set, and the
    next check moved past the lease so the periodic pass does not take them meanwhile.

    A post leased by another pass is skipped, whichever kind of pass holds it; a lease that
    outlived its pass (a crash) expires. PostgreSQL skips rows another claim is taking at
    this moment (``SKIP LOCKED``) instead of waiting for them; SQLite claims one at a time.
    """
    free = or_(RawPost.check_lease_until.is_(None), RawPost.check_lease_until <= now)
    picked = select(RawPost.id).where(RawPost.campaign_id == campaign_id, free)
    if after is None:
        picked = picked.where(RawPost.next_check_at <= now).order_by(RawPost.next_check_at)
        still_due = RawPost.next_check_at <= now
    else:
        picked = picked.where(RawPost.next_check_at.is_not(None), RawPost.id > after).order_by(RawPost.id)
        still_due = RawPost.next_check_at.is_not(None)
    picked = picked.limit(POSTS_PER_PASS).with_for_update(skip_locked=True)
    statement = (
        update(RawPost)
        .where(RawPost.id.in_(picked.scalar_subquery()), still_due, free)
        .values(next_check_at=now + LEASE, check_lease_until=now + LEASE)
        .returning(*POST_COLUMNS, RawPost.checks)
        .execution_options(synchronize_session=False)
    )
    return list(await session.execute(statement))


async def check_campaign(
    sessionmaker: async_sessionmaker[AsyncSession],
    source: PostSource,
    campaign_id: uuid.UUID,
    *,
    now: datetime | None = None,
    after: uuid.UUID | None = None,
) -> CheckOutcome:
    """One pass over the campaign's due posts (``after``: its watched posts from that id on)."""
    now = now or utcnow()
    outcome = CheckOutcome()
    async with session_scope(sessionmaker) as session:
        posts = await _claim(session, campaign_id, now, after)
    outcome.last_id = max((p.id for p in posts), default=None)
    if not posts:
        return outcome
    async with sessionmaker() as session:
        comments = list(
            await session.execute(
                select(
                    RawComment.id, RawComment.post_id, RawComment.reddit_comment_id, RawComment.collected_at
                )
                # A placeholder of a comment deleted before collection holds nothing to purge.
                .where(RawComment.post_id.in_([p.id for p in posts]), RawComment.is_deleted.is_(False))
            )
        )
    fullnames = [f"t3_{p.reddit_post_id}" for p in posts] + [f"t1_{c.reddit_comment_id}" for c in comments]
    try:
        states = await source.fetch_info(fullnames)
    except SourceError as exc:
        outcome.message = f"Reddit could not be asked about deletions: {exc.message}"
        log.warning("deletion check of %s failed: %s", campaign_id, exc.message)
        return outcome  # the lease expires and the posts are checked again later
    lease = now + LEASE
    if states is None:
        outcome.message = f"The {source.name} source cannot look up deletions; use the reddit source"
        async with session_scope(sessionmaker) as session:
            await session.execute(
                update(RawPost)
                .where(RawPost.id.in_([p.id for p in posts]), RawPost.check_lease_until == lease)
                .values(next_check_at=now + RECHECK_AFTER[0], check_lease_until=None)
            )
        return outcome
    gone_posts = [p for p in posts if states.get(f"t3_{p.reddit_post_id}", "ok") != "ok"]
    gone_ids = {p.id for p in gone_posts}
    gone_comments = [
        c
        for c in comments
        if c.post_id not in gone_ids and states.get(f"t1_{c.reddit_comment_id}", "ok") != "ok"
    ]
    async with session_scope(sessionmaker) as session:
        # Every row this transaction writes is taken in id order first (see ``lock_posts``).
        await lock_posts(session, [p.id for p in posts])
        reason_of = {p.id: states[f"t3_{p.reddit_post_id}"] for p in gone_posts}
        for reason in ("deleted", "removed"):
            # What was really removed is counted: a post another pass (retention) purged
            # meanwhile is not counted again.
            outcome.purged_posts += await purge_posts(
                session,
                campaign_id=campaign_id,
                ids=[p.id for p in gone_posts if reason_of[p.id] == reason],
                reason=reason,
                now=now,
            )
            outcome.purged_comments += await purge_comments(
                session,
                campaign_id=campaign_id,
                ids=[c.id for c in gone_comments if states[f"t1_{c.reddit_comment_id}"] == reason],
                reason=reason,
                now=now,
            )
        for post in sorted(posts, key=lambda p: p.id):
            if post.id not in gone_ids:
                await session.execute(
                    update(RawPost)
                    # Still ours: a pass that outlived its lease does not undo a later one's work.
                    .where(RawPost.id == post.id, RawPost.check_lease_until == lease)
                    .values(
                        checks=post.checks + 1,
                        next_check_at=next_check(post.collected_at, post.checks + 1),
                        check_lease_until=None,
                    )
                )
        outcome.checked = len(posts)
        await add_to_totals(session, campaign_id, checked=len(posts), now=now)
    log.info(
        "deletion check of %s: %d checked, %d posts and %d comments purged",
        campaign_id,
        outcome.checked,
        outcome.purged_posts,
        outcome.purged_comments,
    )
    return outcome


async def check_everything(
    sessionmaker: async_sessionmaker[AsyncSession],
    source: PostSource,
    campaign_id: uuid.UUID,
    now: datetime | None = None,
) -> CheckOutcome:
    """The on-demand check: every watched post of the campaign, pass after pass."""
    total = CheckOutcome()
    after = uuid.UUID(int=0)
    while True:
        one = await check_campaign(sessionmaker, source, campaign_id, now=now, after=after)
        total.checked += one.checked
        total.purged_posts += one.purged_posts
        total.purged_comments += one.purged_comments
        total.message = one.message or total.message
        if one.last_id is None or one.message:
            return total
        after = one.last_id


async def apply_retention(
    sessionmaker: async_sessionmaker[AsyncSession],
    campaign_id: uuid.UUID,
    days: int,
    now: datetime | None = None,
) -> int:
    """Purge the campaign's posts collected more than ``days`` ago (0: keep forever); how
    many this pass removed (a post another pass purged first is not counted here).

    Batches of ``RETENTION_BATCH`` posts, one transaction each. Retention does not wait for
    a deletion check's lease: the post goes either way, and the check's own purge then finds
    nothing left to count.
    """
    if days <= 0:
        return 0
    now = now or utcnow()
    purged = 0
    while True:
        async with session_scope(sessionmaker) as session:
            old = list(
                await session.scalars(
                    select(RawPost.id)
                    .where(
                        RawPost.campaign_id == campaign_id, RawPost.collected_at < now - timedelta(days=days)
                    )
                    .order_by(RawPost.id)
                    .limit(RETENTION_BATCH)
                )
            )
            purged += await purge_posts(
                session, campaign_id=campaign_id, ids=old, reason="retention", now=now
            )
        if len(old) < RETENTION_BATCH:
            return purged


async def run_due(runtime: Any, now: datetime | None = None) -> int:
    """The periodic pass: due checks and retention of every campaign; posts checked."""
    from bcrao.sources.factory import make_source

    now = now or utcnow()
    settings = runtime.settings
    async with runtime.sessionmaker() as session:
        campaigns = list(await session.scalars(select(Campaign.id)))
    checked = 0
    source = None
    try:
        for campaign_id in campaigns:
            await apply_retention(runtime.sessionmaker, campaign_id, settings.retention_days, now)
            async with runtime.sessionmaker() as session:
                due = await session.scalar(
                    select(exists().where(RawPost.campaign_id == campaign_id, RawPost.next_check_at <= now))
                )
            if due:
                source = source or make_source(settings)
                checked += (await check_campaign(runtime.sessionmaker, source, campaign_id, now=now)).checked
    finally:
        if source is not None:
            await source.aclose()
    return checked


async def summary(session: AsyncSession, campaign_id: uuid.UUID) -> dict[str, Any]:
    totals = await session.get(ComplianceTotal, campaign_id)
    next_at = await session.scalar(
        select(func.min(RawPost.next_check_at)).where(RawPost.campaign_id == campaign_id)
    )
    return {
        "checked": totals.checked if totals else 0,
        "purged": totals.purged if totals else 0,
        "last_checked_at": totals.last_checked_at if totals else None,
        "next_check_at": next_at,
    }
