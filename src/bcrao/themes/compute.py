"""Compute a campaign's themes from what is stored, and keep them fresh after each run.

The work is CPU-bound (TF-IDF + NMF, seconds for a large campaign), so it never runs in a
request: after a run (a ``collection.hooks`` follower) or when a read finds
the themes missing or stale (``request_themes``), it is queued on the Celery ``analysis``
queue, or in local mode run in a thread of this process. Reads answer at once with
``computing`` or the previous themes marked ``stale``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.background import BackgroundTasks
from bcrao.collection.models import RawPost
from bcrao.collection.store import dialect_insert
from bcrao.comments.models import RawComment
from bcrao.comments.service import comment_url
from bcrao.config import Executor, Settings
from bcrao.db import session_scope, utcnow
from bcrao.posts.totals import posts_version
from bcrao.themes import quotes
from bcrao.themes.engine import ThemeComment, ThemeDoc, build_themes
from bcrao.themes.models import ThemePost, ThemeSet

log = logging.getLogger("bcrao.themes")

ANALYSIS_TASK = "bcrao.tasks.analysis.compute_themes"
COMMENTS_PER_POST = 10  # the best-voted comments of a post join its document
INSERT_BATCH = 2000
LOCAL = BackgroundTasks()  # in-process computations (local mode)


def version_key(version: tuple[int, int, int]) -> str:
    return ":".join(str(v) for v in version)


async def current_version(session: AsyncSession, campaign_id: uuid.UUID) -> str:
    return version_key(await posts_version(session, campaign_id))


async def load_docs(session: AsyncSession, campaign_id: uuid.UUID) -> list[ThemeDoc]:
    """The campaign's kept posts (not the ones marked noise), each with its best comments."""
    rows = await session.execute(
        select(
            RawPost.id,
            RawPost.title,
            RawPost.raw_text,
            RawPost.archetype,
            RawPost.success_score,
            RawPost.upvotes,
            RawPost.comment_count,
            RawPost.reddit_created_at,
            RawPost.reddit_url,
        ).where(RawPost.campaign_id == campaign_id, RawPost.is_noise.is_(False))
    )
    docs = {
        r.id: ThemeDoc(
            r.id,
            r.title,
            r.raw_text or "",
            r.archetype,
            r.success_score,
            r.upvotes,
            r.comment_count,
            r.reddit_created_at,
            r.reddit_url,
        )
        for r in rows
    }
    rank = (
        func.row_number()
        .over(partition_by=RawComment.post_id, order_by=(RawComment.upvotes.desc(), RawComment.id))
        .label("rank")
    )
    best = (
        select(
            RawComment.post_id,
            RawComment.id,
            RawComment.body,
            RawComment.upvotes,
            RawComment.reddit_comment_id,
            rank,
        )
        .where(RawComment.campaign_id == campaign_id, RawComment.is_deleted.is_(False))
        .subquery()
    )
    for c in await session.execute(select(best).where(best.c.rank <= COMMENTS_PER_POST)):
        doc = docs.get(c.post_id)
        if doc is not None and c.body:
            doc.comments.append(
                ThemeComment(c.id, c.body, c.upvotes, comment_url(doc.reddit_url, c.reddit_comment_id))
            )
    return list(docs.values())


async def compute_themes(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID) -> str:
    """Compute and store; the status it ended with (``ready``, ``failed`` or ``gone``)."""
    version = None
    try:
        async with sessionmaker() as session:
            version = await current_version(session, campaign_id)
            docs = await load_docs(session, campaign_id)
        result = await asyncio.to_thread(build_themes, docs)
    except Exception as exc:
        log.exception("themes of campaign %s failed", campaign_id)
        async with session_scope(sessionmaker) as session:
            row = await session.get(ThemeSet, campaign_id)
            if row is not None:
                # Filed under the version it failed on: reads do not retry it in a loop; the
                # next run (or a refresh) does.
                row.status, row.version = "failed", version
                row.error = (
                    f"The themes could not be computed ({type(exc).__name__}); the next run tries again"
                )
        return "failed"
    async with session_scope(sessionmaker) as session:
        from bcrao.campaigns.models import Campaign

        # The campaign first, as deleting it does (campaign, then what cascades): taking the
        # theme set first deadlocked with a deletion on PostgreSQL. Gone meanwhile: nothing to store.
        campaign_row = select(Campaign.id).where(Campaign.id == campaign_id).with_for_update(key_share=True)
        if await session.scalar(campaign_row) is None:
            return "gone"
        row = await session.get(ThemeSet, campaign_id, with_for_update=True)
        if row is None:
            row = ThemeSet(campaign_id=campaign_id, generation=0, themes=[])
            session.add(row)
        row.status, row.error = "ready", None
        row.generation = (row.generation or 0) + 1
        row.version, row.computed_at = version, utcnow()
        # Posts and comments purged since they were read are not quoted (see bcrao.themes.quotes).
        themes = await quotes.still_there(session, result.themes)
        row.total_posts, row.unassigned, row.themes = result.total_posts, result.unassigned, themes
        await session.execute(delete(ThemePost).where(ThemePost.campaign_id == campaign_id))
        pairs = [
            {"campaign_id": campaign_id, "theme_id": theme, "post_id": post}
            for post, theme in result.assignment.items()
        ]
        await session.flush()
        insert = dialect_insert(session, ThemePost.__table__)
        for start in range(0, len(pairs), INSERT_BATCH):
            await session.execute(insert, pairs[start : start + INSERT_BATCH])
    log.info("themes of %s: %d over %d posts", campaign_id, len(result.themes), result.total_posts)
    return "ready"


async def request_themes(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID
) -> None:
    """Mark the themes ``computing`` and start the work where it belongs."""
    async with session_scope(sessionmaker) as session:
        now = utcnow()
        statement = dialect_insert(session, ThemeSet.__table__).values(
            campaign_id=campaign_id, status="computing", requested_at=now, themes=[], generation=0
        )
        statement = statement.on_conflict_do_update(
            index_elements=["campaign_id"], set_={"status": "computing", "requested_at": now}
        )
        await session.execute(statement)
    if settings.effective_executor is Executor.celery:
        from bcrao.tasks.celery_app import send_tasks

        await asyncio.to_thread(send_tasks, settings, ANALYSIS_TASK, [campaign_id])
        return
    LOCAL.start(compute_themes(sessionmaker, campaign_id), name=f"themes-{campaign_id}")


async def wait_for_local() -> None:
    """Let in-process computations finish (tests)."""
    await LOCAL.wait()
