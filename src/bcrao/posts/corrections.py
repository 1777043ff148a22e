"""A founder's corrections: "this is a Journey, not a question", "this one is noise".

A label correction replaces the post's archetype (``archetype_source: "user"``) and keeps
the machine's label in the correction, so removing the correction restores it exactly. A
noise correction hides the post from lists, exports and stats (``include_noise=true``
shows it again). Both keep ``post_counts`` exact in the same transaction, and bump the
campaign's ``labels_version`` so remembered search totals are not reused across them.
The corrections are the labelled data a retrained model can learn from (``GET
/v1/corrections`` lists them).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import Correction, RawPost
from bcrao.collection.store import count_posts
from bcrao.db import page_of
from bcrao.posts.schemas import CorrectionList, CorrectionOut, PostDetail
from bcrao.posts.service import PostNotFound, get_post

USER_REASON = "labelled by you"
_MACHINE_FIELDS = ("archetype", "archetype_confidence", "archetype_source", "archetype_reasons", "classifier",
                   "is_ai_processed")  # fmt: skip


async def _post_row(session: AsyncSession, campaign_id: uuid.UUID, post_id: uuid.UUID) -> RawPost:
    post = await session.scalar(
        select(RawPost).where(RawPost.id == post_id, RawPost.campaign_id == campaign_id).with_for_update()
    )
    if post is None:
        raise PostNotFound()
    return post


async def bump_version(session: AsyncSession, campaign_id: uuid.UUID, *, new_noise: int = 0) -> None:
    await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(
            labels_version=Campaign.labels_version + 1,
            noise_posts=Campaign.noise_posts + new_noise,
            updated_at=Campaign.updated_at,
        )
    )


def record(
    session: AsyncSession,
    user_id: uuid.UUID,
    post: RawPost,
    *,
    kind: str,
    archetype: str,
    machine: dict[str, Any],
) -> None:
    session.add(
        Correction(
            user_id=user_id,
            campaign_id=post.campaign_id,
            post_id=post.id,
            reddit_post_id=post.reddit_post_id,
            kind=kind,
            archetype=archetype,
            machine=machine,
        )
    )


def _counted(post: RawPost, archetype: str | None = None) -> dict[str, Any]:
    return {
        "archetype": archetype or post.archetype,
        "subreddit_key": post.subreddit_key,
        "success_score": post.success_score,
    }


async def _relabel(session: AsyncSession, post: RawPost, values: dict[str, Any]) -> None:
    """Change the post's label columns, moving it between ``post_counts`` groups."""
    if not post.is_noise and values["archetype"] != post.archetype:
        await count_posts(session, campaign_id=post.campaign_id, rows=[_counted(post)], sign=-1)
        await count_posts(session, campaign_id=post.campaign_id, rows=[_counted(post, values["archetype"])])
    for name, value in values.items():
        setattr(post, name, value)
    await session.flush()


async def set_label(
    session: AsyncSession, *, user_id: uuid.UUID, campaign_id: uuid.UUID, post_id: uuid.UUID, archetype: str
) -> PostDetail:
    post = await _post_row(session, campaign_id, post_id)
    previous = await _label_correction(session, post.id)
    machine = previous.machine if previous is not None else {f: getattr(post, f) for f in _MACHINE_FIELDS}
    await session.execute(delete(Correction).where(Correction.post_id == post.id, Correction.kind == "label"))
    record(session, user_id, post, kind="label", archetype=archetype, machine=machine)
    await _relabel(
        session,
        post,
        {
            "archetype": archetype,
            "archetype_confidence": 1.0,
            "archetype_source": "user",
            "archetype_reasons": [USER_REASON],
            "classifier": "user",
            "is_ai_processed": False,
        },
    )
    await bump_version(session, campaign_id)
    return await get_post(session, campaign_id=campaign_id, post_id=post.id)


async def clear_label(session: AsyncSession, *, campaign_id: uuid.UUID, post_id: uuid.UUID) -> PostDetail:
    post = await _post_row(session, campaign_id, post_id)
    correction = await _label_correction(session, post.id)
    if correction is not None:
        await _relabel(session, post, dict(correction.machine))
        await session.delete(correction)
        await bump_version(session, campaign_id)
    return await get_post(session, campaign_id=campaign_id, post_id=post.id)


async def mark_noise(
    session: AsyncSession, *, user_id: uuid.UUID, campaign_id: uuid.UUID, post_id: uuid.UUID
) -> PostDetail:
    post = await _post_row(session, campaign_id, post_id)
    if not post.is_noise:
        await count_posts(session, campaign_id=campaign_id, rows=[_counted(post)], sign=-1)
        post.is_noise = True
        record(session, user_id, post, kind="noise", archetype=post.archetype, machine={})
        await session.flush()
        await bump_version(session, campaign_id, new_noise=1)
    return await get_post(session, campaign_id=campaign_id, post_id=post.id)


async def _label_correction(session: AsyncSession, post_id: uuid.UUID) -> Correction | None:
    return await session.scalar(
        select(Correction)
        .where(Correction.post_id == post_id, Correction.kind == "label")
        .order_by(Correction.created_at.desc())
        .limit(1)
    )


async def list_corrections(
    session: AsyncSession, *, user_id: uuid.UUID, offset: int, limit: int
) -> CorrectionList:
    order = (Correction.created_at.desc(), Correction.id)
    where = Correction.user_id == user_id
    rows, total = await page_of(session, Correction, where, order_by=order, offset=offset, limit=limit)
    return CorrectionList(
        corrections=[
            CorrectionOut(
                id=c.id,
                kind=c.kind,
                post_id=c.post_id,
                reddit_post_id=c.reddit_post_id,
                archetype=c.archetype,
                created_at=c.created_at,
            )
            for c in rows
        ],
        total=total,
        page=offset // limit + 1,
        per_page=limit,
    )
