"""Browse a campaign's stored posts: filter, search, sort and page, always within one campaign.

Every query is led by ``campaign_id`` (checked for ownership by the router's dependency),
so each one is a range scan of one of the ``(campaign_id, <sort column>, id)`` indexes.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.collection.models import PostCount, RawPost
from bcrao.errors import NotFound
from bcrao.posts.schemas import POST_FIELDS, SNIPPET_CHARS, PostDetail, PostFilters, PostList, PostOut
from bcrao.posts.search import matches_clause
from bcrao.posts.totals import SearchTotals, stored_posts

# Sort key → (column, descending). The id tie-breaker runs in the same direction, so one
# composite index serves the whole ORDER BY, forwards or backwards, and pages are stable.
SORTS: dict[str, tuple[Any, bool]] = {
    "-success_score": (RawPost.success_score, True),
    "success_score": (RawPost.success_score, False),
    "-reddit_created_at": (RawPost.reddit_created_at, True),
    "-upvotes": (RawPost.upvotes, True),
    "-comment_count": (RawPost.comment_count, True),
}

_COLUMNS = {name: getattr(RawPost, name) for name in POST_FIELDS}


class PostNotFound(NotFound):
    message = "Post not found"


def _scope_clauses(filters: PostFilters, *, campaign_id: uuid.UUID) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [RawPost.campaign_id == campaign_id]
    if filters.archetype:
        where.append(RawPost.archetype == filters.archetype)
    if filters.subreddit_key:
        where.append(RawPost.subreddit_key == filters.subreddit_key)
    return where


def filter_clauses(
    filters: PostFilters, *, campaign_id: uuid.UUID, dialect: str
) -> list[ColumnElement[bool]]:
    where = _scope_clauses(filters, campaign_id=campaign_id)
    if filters.min_score is not None:
        where.append(RawPost.success_score >= filters.min_score)
    if filters.max_score is not None:
        where.append(RawPost.success_score <= filters.max_score)
    if filters.words:
        where.append(matches_clause(RawPost.search_terms, list(filters.words), dialect))
    return where


def full_buckets(low: float, high: float) -> list[int]:
    """Score buckets lying wholly inside ``[low, high]`` (bucket b is [b, b+1), 9 is [9, 10])."""
    return [b for b in range(math.ceil(low), 10) if (b + 1 <= high if b < 9 else high >= 10)]


async def _count(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    return await session.scalar(select(func.count()).select_from(RawPost).where(*where)) or 0


async def counted_total(session: AsyncSession, *, campaign_id: uuid.UUID, filters: PostFilters) -> int:
    """The exact total of a list without text search, without counting every matching post.

    Whole score buckets come from ``post_counts`` (kept by the store step); only posts in
    the partly covered buckets at the edges of a score range are counted one by one, each
    edge as its own short index range scan (one query with ``OR`` would scan the whole range).
    """
    low = filters.min_score if filters.min_score is not None else 0.0
    high = filters.max_score if filters.max_score is not None else 10.0
    scope = _scope_clauses(filters, campaign_id=campaign_id)
    score = RawPost.success_score
    full = full_buckets(low, high)
    if not full:
        return await _count(session, [*scope, score >= low, score <= high])
    counts_where: list[ColumnElement[bool]] = [
        PostCount.campaign_id == campaign_id,
        PostCount.bucket.in_(full),
    ]
    if filters.archetype:
        counts_where.append(PostCount.archetype == filters.archetype)
    if filters.subreddit_key:
        counts_where.append(PostCount.subreddit_key == filters.subreddit_key)
    total = int(
        await session.scalar(select(func.coalesce(func.sum(PostCount.posts), 0)).where(*counts_where)) or 0
    )
    if low < full[0]:
        total += await _count(session, [*scope, score >= low, score < full[0]])
    if full[-1] < 9:
        total += await _count(session, [*scope, score >= full[-1] + 1, score <= high])
    return total


# One per process: totals are cheap to recompute and never shared across processes.
SEARCH_TOTALS = SearchTotals()


async def search_total(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    filters: PostFilters,
    where: list[ColumnElement[bool]],
    totals: SearchTotals = SEARCH_TOTALS,
) -> int:
    """Count the matches of a text search, or reuse the count while the campaign is unchanged."""
    key = (campaign_id, filters.archetype, filters.subreddit_key, filters.min_score, filters.max_score,
           filters.words)  # fmt: skip
    version = await stored_posts(session, campaign_id)
    total = totals.get(key, version)
    if total is None:
        if dialect_of(session) == "postgresql":
            # Room for an exact bitmap of ~100k matches: a lossy one rechecks whole pages.
            await session.execute(text("SET LOCAL work_mem = '32MB'"))
        total = await _count(session, where)
        totals.put(key, version, total)
    return total


def order_by(sort: str) -> list[Any]:
    column, descending = SORTS[sort]
    if descending:
        return [column.desc(), RawPost.id.desc()]
    return [column.asc(), RawPost.id.asc()]


def keyset_after(sort: str, last: Any, last_id: uuid.UUID) -> ColumnElement[bool]:
    """Rows strictly after ``(last, last_id)`` in ``sort`` order (for batch-wise reading)."""
    column, descending = SORTS[sort]
    if descending:
        return or_(column < last, and_(column == last, RawPost.id < last_id))
    return or_(column > last, and_(column == last, RawPost.id > last_id))


def post_select(*, snippet: bool, breakdown: bool = False) -> Select[Any]:
    """The post object's columns only (no ORM objects), ``raw_text`` optionally cut in SQL
    so the list never loads a large text just to throw most of it away."""
    columns: list[Any] = []
    for name, column in _COLUMNS.items():
        if name == "raw_text" and snippet:
            columns.append(func.substr(column, 1, SNIPPET_CHARS).label("raw_text"))
        else:
            columns.append(column)
    if breakdown:
        columns.append(RawPost.score_breakdown)
    return select(*columns)


def page_query(where: list[ColumnElement[bool]], order: list[Any], *, offset: int, limit: int) -> Select[Any]:
    """Deferred join: find the page's ids first (an index-only scan when the filters are
    indexed), then read only those rows. A plain deep OFFSET reads every skipped row's heap tuple."""
    page_ids = select(RawPost.id).where(*where).order_by(*order).offset(offset).limit(limit).subquery()
    return post_select(snippet=True).join(page_ids, page_ids.c.id == RawPost.id).order_by(*order)


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name


async def list_posts(
    session: AsyncSession, *, campaign_id: uuid.UUID, filters: PostFilters, page: int, per_page: int
) -> PostList:
    where = filter_clauses(filters, campaign_id=campaign_id, dialect=dialect_of(session))
    if filters.words:  # text search: only counting the matches can tell
        total = await search_total(session, campaign_id=campaign_id, filters=filters, where=where)
    else:
        total = await counted_total(session, campaign_id=campaign_id, filters=filters)
    posts: list[PostOut] = []
    order = order_by(filters.sort)
    offset = (page - 1) * per_page
    if offset < total:  # a page past the end needs no second query
        rows = await session.execute(page_query(where, order, offset=offset, limit=per_page))
        posts = [PostOut.model_validate(row, from_attributes=True) for row in rows]
    return PostList(posts=posts, total=total, page=page, per_page=per_page)


async def get_post(session: AsyncSession, *, campaign_id: uuid.UUID, post_id: uuid.UUID) -> PostDetail:
    row = (
        await session.execute(
            post_select(snippet=False, breakdown=True).where(
                RawPost.id == post_id, RawPost.campaign_id == campaign_id
            )
        )
    ).first()
    if row is None:
        raise PostNotFound()
    return PostDetail.model_validate(row, from_attributes=True)
