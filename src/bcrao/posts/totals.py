"""Exact totals of text searches, remembered until the campaign's posts change.

Counting the posts that match a word is O(matches) on either database: PostgreSQL's GIN
index finds them quickly, but every match still costs a visit to its table row (visibility),
so "churn" in a million-post campaign takes a few hundred milliseconds. Paging through a
search, re-sorting it or coming back to it asks for the same total again; remembering it
turns those into two index lookups.

A campaign's posts are only ever added (the store step, which also bumps ``post_counts`` in
the same transaction) or deleted with the campaign, so the campaign's stored-post count is
a version: a remembered total is used only while that count is unchanged. The count is read
before the search is counted, so a total can only ever be filed under an older version
than the posts it saw, never a newer one.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.collection.models import PostCount
from bcrao.comments.models import CommentTotal
from bcrao.db import core_execute, core_scalar

_STORED_POSTS = select(func.coalesce(func.sum(PostCount.posts), 0)).where(
    PostCount.campaign_id == bindparam("campaign_id")
)
_VERSION = select(
    _STORED_POSTS.scalar_subquery(),
    select(Campaign.labels_version).where(Campaign.id == bindparam("campaign_id")).scalar_subquery(),
    select(CommentTotal.comments)
    .where(CommentTotal.campaign_id == bindparam("campaign_id"))
    .scalar_subquery(),
)


async def stored_posts(session: AsyncSession, campaign_id: uuid.UUID) -> int:
    """The campaign's post count from ``post_counts`` (a few hundred rows at most)."""
    return int(await core_scalar(session, _STORED_POSTS, {"campaign_id": campaign_id}) or 0)


async def posts_version(session: AsyncSession, campaign_id: uuid.UUID) -> tuple[int, int, int]:
    """What a remembered total is valid for: the stored-post count (posts are added), the
    campaign's ``labels_version`` (corrections move posts between archetypes, or hide them)
    and its comment count (new comments add words that ``search_in=comments`` matches)."""
    row = (await core_execute(session, _VERSION, {"campaign_id": campaign_id})).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


class SearchTotals:
    """A bounded, least-recently-used map of (campaign, filters) → (version, total)."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, tuple[Hashable, int]] = OrderedDict()
        self._lock = threading.Lock()  # API processes may serve from a thread pool too

    def get(self, key: Hashable, version: Hashable) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, version: Hashable, total: int) -> None:
        with self._lock:
            self._entries[key] = (version, total)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
