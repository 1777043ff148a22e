"""The classifier a user's run labels posts with: theirs, built from their own corrections.

Read once at the start of every run (both executors) and by "keep" (a rejected sample the
user wants is labelled as their run would have). Only the user's own label corrections of
their own posts are read, so nothing of one user's corrections reaches another user's labels.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.collection import adapt
from bcrao.collection.classify import RulesClassifier
from bcrao.collection.models import Correction, RawPost
from bcrao.config import ClassifierName, Settings

# The newest corrections learnt from: bounds the build (~0.5 s at 1,000) whatever a user did.
MAX_EXAMPLES = 1000


async def user_examples(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int = MAX_EXAMPLES
) -> list[adapt.Example]:
    """The user's label corrections, oldest first (a post relabelled later wins)."""
    rows = (
        await session.execute(
            select(Correction.reddit_post_id, Correction.archetype, RawPost.title, RawPost.raw_text)
            .join(RawPost, RawPost.id == Correction.post_id)
            .where(Correction.user_id == user_id, Correction.kind == "label", RawPost.user_id == user_id)
            .order_by(Correction.created_at.desc(), Correction.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        adapt.Example(reddit_id, adapt.stored_features(title, text), archetype)
        for reddit_id, archetype, title, text in reversed(rows)
        if archetype
    ]


async def classifier_for_user(session: AsyncSession, *, user_id: uuid.UUID, settings: Settings) -> Any:
    """The offline classifier of the user's runs: the ``rules`` when asked for, else the shipped
    model adapted to the user's corrections (``bcrao.collection.adapt``)."""
    if settings.classifier is ClassifierName.rules:
        return RulesClassifier()
    examples = await user_examples(session, user_id=user_id)
    # Fitting is CPU work: off the event loop, which serves the API in the local executor.
    return await asyncio.to_thread(adapt.for_examples, examples, adapt_after=settings.adapt_after_corrections)
