"""Quotes of content that was purged leave the stored themes at once.

A theme's quotes are sentences cut from posts and comments, kept in ``theme_sets.themes``.
When a post or comment is purged (deleted on Reddit, or past retention) the themes are
recomputed, but until then they are shown "stale", and a computation that read the posts
before the purge may store its result after it. So the purge takes the quotes out of the
stored themes in its own transaction, and a computation drops quotes whose post or comment
is gone before it stores. Both lock the campaign's ``theme_sets`` row; on PostgreSQL the one
that waits then reads what the other committed, so neither order lets a quote through.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update

from bcrao.collection.models import RawPost
from bcrao.comments.models import RawComment
from bcrao.themes.models import ThemeSet


def without(
    themes: list[dict[str, Any]], *, posts: Collection[str], comments: Collection[str]
) -> list[dict[str, Any]] | None:
    """The themes without quotes cut from these posts or comments (ids as strings); None
    when none of their quotes was."""
    kept, changed = [], False
    for theme in themes:
        quotes = theme.get("quotes") or []
        left = [q for q in quotes if q.get("post_id") not in posts and q.get("comment_id") not in comments]
        if len(left) != len(quotes):
            changed = True
            theme = {**theme, "quotes": left}
        kept.append(theme)
    return kept if changed else None


async def drop_quotes(
    session: Any,
    campaign_id: uuid.UUID,
    *,
    posts: Collection[uuid.UUID] = (),
    comments: Collection[uuid.UUID] = (),
) -> None:
    """Take quotes of these (purged) posts and comments out of the campaign's stored themes."""
    query = select(ThemeSet.themes).where(ThemeSet.campaign_id == campaign_id).with_for_update()
    themes = (await session.execute(query)).scalar_one_or_none()
    kept = without(themes or [], posts={str(p) for p in posts}, comments={str(c) for c in comments})
    if kept is not None:
        await session.execute(update(ThemeSet).where(ThemeSet.campaign_id == campaign_id).values(themes=kept))


async def still_there(session: Any, themes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The themes without quotes whose post or comment is no longer stored."""
    quotes = [q for theme in themes for q in theme.get("quotes") or []]
    post_ids = {uuid.UUID(q["post_id"]) for q in quotes}
    comment_ids = {uuid.UUID(q["comment_id"]) for q in quotes if q.get("comment_id")}
    if not post_ids:
        return themes
    posts = set(await session.scalars(select(RawPost.id).where(RawPost.id.in_(post_ids))))
    comments = set()
    if comment_ids:
        comments = set(await session.scalars(select(RawComment.id).where(RawComment.id.in_(comment_ids))))
    kept = without(
        themes, posts={str(p) for p in post_ids - posts}, comments={str(c) for c in comment_ids - comments}
    )
    return themes if kept is None else kept
