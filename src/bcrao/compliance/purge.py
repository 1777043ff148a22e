"""Take posts and comments out of the store for good, keeping every count right.

Reddit's data terms want content deleted on Reddit deleted from what we hold, not hidden:
so a purged post's row goes (with its comments, theme membership and quotes), and what stays is a
tombstone (``purged_items``: its fullname and times, nothing it said) that stops it from
ever being collected again. The per-campaign counts the reads rely on (``post_counts``,
``comment_totals``, the post's ``comments_collected`` and comment words) move in the same
transaction, so lists, totals, search, stats and exports agree the moment it commits.
They move by what the purge's own ``DELETE ... RETURNING`` removed (both dialects), never by
rows read beforehand: two passes purging the same post (two checks, a check and retention,
two processes) take it off the counts once.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import RawPost
from bcrao.collection.store import count_posts, dialect_insert
from bcrao.comments.models import CommentTotal, RawComment
from bcrao.compliance.models import ComplianceTotal, PurgedItem
from bcrao.posts.search import search_terms
from bcrao.themes.models import ThemePost
from bcrao.themes.quotes import drop_quotes

POST_COLUMNS = (
    RawPost.id,
    RawPost.reddit_post_id,
    RawPost.collected_at,
    RawPost.archetype,
    RawPost.subreddit_key,
    RawPost.success_score,
    RawPost.is_noise,
    RawPost.comments_collected,
)


async def _tombstones(
    session: Any, campaign_id: uuid.UUID, items: list[tuple[str, Any]], reason: str, now: datetime
) -> None:
    if items:
        await session.execute(
            dialect_insert(session, PurgedItem.__table__)
            .values(
                [
                    {
                        "campaign_id": campaign_id,
                        "reddit_fullname": n,
                        "collected_at": c,
                        "purged_at": now,
                        "reason": reason,
                    }
                    for n, c in items
                ]
            )
            .on_conflict_do_nothing(index_elements=["campaign_id", "reddit_fullname"])
        )


async def add_to_totals(
    session: Any, campaign_id: uuid.UUID, *, checked: int = 0, purged: int = 0, now: datetime | None = None
) -> None:
    table = ComplianceTotal.__table__
    statement = dialect_insert(session, table).values(
        campaign_id=campaign_id, checked=checked, purged=purged, last_checked_at=now
    )
    changes: dict[str, Any] = {
        "checked": table.c.checked + statement.excluded.checked,
        "purged": table.c.purged + statement.excluded.purged,
    }
    if now is not None:
        changes["last_checked_at"] = statement.excluded.last_checked_at
    await session.execute(statement.on_conflict_do_update(index_elements=["campaign_id"], set_=changes))


async def lock_posts(session: Any, ids: Any) -> None:
    """PostgreSQL: lock these posts (ids, or a subquery of them) in id order, the order every
    purge and check takes its post rows in, so two of them never wait on each other in a
    cycle. SQLite needs nothing: its writer holds the database lock from ``BEGIN IMMEDIATE``."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            select(RawPost.id).where(RawPost.id.in_(ids)).order_by(RawPost.id).with_for_update()
        )


async def purge_posts(
    session: Any, *, campaign_id: uuid.UUID, ids: Collection[uuid.UUID], reason: str, now: datetime
) -> int:
    """Purge these posts of the campaign (and their comments); how many *this call* removed.

    Every count moves by what the ``DELETE ... RETURNING`` statements report, not by what
    the caller read earlier: a post another pass (a concurrent check, a retention pass in
    another process) purged first is simply not returned, so nothing is taken off twice.
    On PostgreSQL a concurrent purge of the same row waits for the first to commit and
    then finds it gone; SQLite's writers are serialized by ``BEGIN IMMEDIATE``.
    """
    if not ids:
        return 0
    await lock_posts(session, list(ids))
    posts = list(
        await session.execute(
            delete(RawPost)
            .where(RawPost.campaign_id == campaign_id, RawPost.id.in_(list(ids)))
            .returning(*POST_COLUMNS)
            .execution_options(synchronize_session=False)
        )
    )
    if not posts:
        return 0
    gone = [p.id for p in posts]
    shown = [p for p in posts if not p.is_noise]  # noise posts already left post_counts
    await count_posts(
        session,
        campaign_id=campaign_id,
        rows=[
            {"archetype": p.archetype, "subreddit_key": p.subreddit_key, "success_score": p.success_score}
            for p in shown
        ],
        sign=-1,
    )
    noise = len(posts) - len(shown)
    if noise:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(noise_posts=Campaign.noise_posts - noise)
        )
    comments = len(
        list(
            await session.execute(
                delete(RawComment)
                .where(RawComment.post_id.in_(gone))
                .returning(RawComment.id)
                .execution_options(synchronize_session=False)
            )
        )
    )
    with_comments = sum(1 for p in posts if p.comments_collected)
    if comments or with_comments:
        await session.execute(
            update(CommentTotal)
            .where(CommentTotal.campaign_id == campaign_id)
            .values(
                comments=CommentTotal.comments - comments,
                posts_with_comments=CommentTotal.posts_with_comments - with_comments,
            )
        )
    await session.execute(
        delete(ThemePost).where(ThemePost.campaign_id == campaign_id, ThemePost.post_id.in_(gone))
    )
    await drop_quotes(session, campaign_id, posts=gone)
    await _tombstones(
        session, campaign_id, [(f"t3_{p.reddit_post_id}", p.collected_at) for p in posts], reason, now
    )
    await add_to_totals(session, campaign_id, purged=len(posts))
    return len(posts)


async def purge_comments(
    session: Any, *, campaign_id: uuid.UUID, ids: Collection[uuid.UUID], reason: str, now: datetime
) -> int:
    """Purge these comments of the campaign; how many *this call* removed (as above)."""
    if not ids:
        return 0
    ids = list(ids)
    # Their posts first: two passes purging comments of one post then rebuild its words and
    # counts one after the other, each from what the other left, not both from a snapshot
    # that still holds the other's comments.
    await lock_posts(session, select(RawComment.post_id).where(RawComment.id.in_(ids)))
    comments = list(
        await session.execute(
            delete(RawComment)
            .where(RawComment.campaign_id == campaign_id, RawComment.id.in_(ids))
            .returning(
                RawComment.id, RawComment.post_id, RawComment.reddit_comment_id, RawComment.collected_at
            )
            .execution_options(synchronize_session=False)
        )
    )
    if not comments:
        return 0
    emptied = 0
    for post_id in sorted({c.post_id for c in comments}):
        left = list(await session.scalars(select(RawComment.body).where(RawComment.post_id == post_id)))
        # The post's comment words are rebuilt from what is left: no word of a purged comment stays.
        had = await session.scalar(
            update(RawPost)
            .where(RawPost.id == post_id)
            .values(comments_collected=len(left), comment_terms=search_terms(*left))
            .returning(RawPost.id)
            .execution_options(synchronize_session=False)
        )
        # A post purged meanwhile left the totals with all its comments already.
        emptied += 1 if had is not None and not left else 0
    await session.execute(
        update(CommentTotal)
        .where(CommentTotal.campaign_id == campaign_id)
        .values(
            comments=CommentTotal.comments - len(comments),
            posts_with_comments=CommentTotal.posts_with_comments - emptied,
        )
    )
    await drop_quotes(session, campaign_id, comments=[c.id for c in comments])
    await _tombstones(
        session, campaign_id, [(f"t1_{c.reddit_comment_id}", c.collected_at) for c in comments], reason, now
    )
    await add_to_totals(session, campaign_id, purged=len(comments))
    return len(comments)
