"""Browse a campaign's stored posts: filter, search, sort and page, always within one campaign.

Every query is led by ``campaign_id`` (checked for ownership by the router's dependency),
so each one is a range scan of one of the ``(campaign_id, <sort column>, id)`` indexes.

The list is the hottest read of the API, so its statements are built once per *shape*
(which filters a request uses and its sort) with bound parameters, and reused: building and
cache-keying SQLAlchemy constructs per request cost as much CPU as running them.
"""

from __future__ import annotations

import functools
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.collection.models import PostCount, RawPost
from bcrao.db import core_execute, core_scalar, dialect_of
from bcrao.errors import NotFound
from bcrao.posts.schemas import POST_FIELDS, SNIPPET_CHARS, PostDetail, PostFilters, PostList, PostOut
from bcrao.posts.search import match_params, matches_clause, matches_either_clause
from bcrao.posts.totals import SearchTotals, posts_version
from bcrao.themes.models import ThemePost

# Sort key → (column, descending). The id tie-breaker runs in the same direction, so one
# composite index serves the whole ORDER BY, forwards or backwards, and pages are stable.
SORTS: dict[str, tuple[Any, bool]] = {
    "-success_score": (RawPost.success_score, True),
    "success_score": (RawPost.success_score, False),
    "-reddit_created_at": (RawPost.reddit_created_at, True),
    "-upvotes": (RawPost.upvotes, True),
    "-comment_count": (RawPost.comment_count, True),
    "-relevance_score": (RawPost.relevance_score, True),
}

_COLUMNS = {name: getattr(RawPost, name) for name in POST_FIELDS}


class PostNotFound(NotFound):
    message = "Post not found"


@dataclass(frozen=True, slots=True)
class Shape:
    """Which filters a list request uses (not their values): one set of statements each."""

    dialect: str
    archetype: bool
    subreddit: bool
    min_score: bool
    max_score: bool
    min_confidence: bool
    source: bool
    mentions: bool | None
    hide_noise: bool
    words: int
    search_in: str
    theme: bool = False

    @classmethod
    def of(cls, filters: PostFilters, dialect: str) -> Shape:
        return cls(
            dialect=dialect,
            archetype=bool(filters.archetype),
            subreddit=bool(filters.subreddit_key),
            min_score=filters.min_score is not None,
            max_score=filters.max_score is not None,
            min_confidence=filters.min_confidence is not None,
            source=filters.archetype_source is not None,
            mentions=filters.mentions_keywords,
            hide_noise=filters.hide_noise,
            words=len(filters.words),
            search_in=filters.search_in if filters.words else "posts",
            theme=filters.theme is not None,
        )


def filter_params(filters: PostFilters, *, campaign_id: uuid.UUID, dialect: str) -> dict[str, Any]:
    """The values for the statements of ``Shape.of(filters, dialect)``."""
    return {
        "f_campaign": campaign_id,
        "f_archetype": filters.archetype,
        "f_subreddit": filters.subreddit_key,
        "f_min_score": filters.min_score,
        "f_max_score": filters.max_score,
        "f_min_confidence": filters.min_confidence,
        "f_source": filters.archetype_source,
        "f_theme": filters.theme,
        **(match_params(list(filters.words), dialect) if filters.words else {}),
    }


def _scope(archetype: bool, subreddit: bool) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [RawPost.campaign_id == bindparam("f_campaign")]
    if archetype:
        where.append(RawPost.archetype == bindparam("f_archetype"))
    if subreddit:
        where.append(RawPost.subreddit_key == bindparam("f_subreddit"))
    return where


@functools.lru_cache(maxsize=512)
def shape_where(shape: Shape) -> tuple[ColumnElement[bool], ...]:
    where = _scope(shape.archetype, shape.subreddit)
    if shape.min_score:
        where.append(RawPost.success_score >= bindparam("f_min_score"))
    if shape.max_score:
        where.append(RawPost.success_score <= bindparam("f_max_score"))
    if shape.hide_noise:
        where.append(RawPost.is_noise.is_(False))
    if shape.min_confidence:
        where.append(RawPost.archetype_confidence >= bindparam("f_min_confidence"))
    if shape.source:
        where.append(RawPost.archetype_source == bindparam("f_source"))
    if shape.mentions is not None:
        length = func.jsonb_array_length if shape.dialect == "postgresql" else func.json_array_length
        mentions = func.coalesce(length(RawPost.matched_keywords), 0) > 0
        where.append(mentions if shape.mentions else ~mentions)
    if shape.theme:
        members = select(ThemePost.post_id).where(
            ThemePost.campaign_id == bindparam("f_campaign"), ThemePost.theme_id == bindparam("f_theme")
        )
        where.append(RawPost.id.in_(members))
    if shape.words and shape.search_in == "all":
        columns = (RawPost.search_terms, RawPost.comment_terms)
        where.append(matches_either_clause(columns, shape.words, shape.dialect))
    elif shape.words:
        column = RawPost.comment_terms if shape.search_in == "comments" else RawPost.search_terms
        where.append(matches_clause(column, shape.words, shape.dialect))
    return tuple(where)


def filter_clauses(
    filters: PostFilters, *, campaign_id: uuid.UUID, dialect: str
) -> list[ColumnElement[bool]]:
    """The filters as clauses carrying their values (for statements built per call: export)."""
    values = filter_params(filters, campaign_id=campaign_id, dialect=dialect)
    return [clause.params(values) for clause in shape_where(Shape.of(filters, dialect))]


def full_buckets(low: float, high: float) -> list[int]:
    """Score buckets lying wholly inside ``[low, high]`` (bucket b is [b, b+1), 9 is [9, 10])."""
    return [b for b in range(math.ceil(low), 10) if (b + 1 <= high if b < 9 else high >= 10)]


@functools.lru_cache(maxsize=512)
def _count_statement(where: tuple[ColumnElement[bool], ...]) -> Select[Any]:
    return select(func.count()).select_from(RawPost).where(*where)


@functools.lru_cache(maxsize=16)
def _edge_count_statement(
    archetype: bool, subreddit: bool, upper_inclusive: bool, hide_noise: bool
) -> Select[Any]:
    """Posts of the scope with ``e_low <= score < e_high`` (``<=`` for the upper edge)."""
    score = RawPost.success_score
    high = score <= bindparam("e_high") if upper_inclusive else score < bindparam("e_high")
    where = [*_scope(archetype, subreddit), score >= bindparam("e_low"), high]
    if hide_noise:
        where.append(RawPost.is_noise.is_(False))  # as in post_counts, which leave noise out
    return _count_statement(tuple(where))


@functools.lru_cache(maxsize=8)
def _bucket_sum_statement(archetype: bool, subreddit: bool) -> Select[Any]:
    where = [
        PostCount.campaign_id == bindparam("f_campaign"),
        PostCount.bucket.in_(bindparam("buckets", expanding=True)),
    ]
    if archetype:
        where.append(PostCount.archetype == bindparam("f_archetype"))
    if subreddit:
        where.append(PostCount.subreddit_key == bindparam("f_subreddit"))
    return select(func.coalesce(func.sum(PostCount.posts), 0)).where(*where)


async def counted_total(session: AsyncSession, *, campaign_id: uuid.UUID, filters: PostFilters) -> int:
    """The exact total of a list without text search, without counting every matching post.

    Whole score buckets come from ``post_counts`` (kept by the store step); only posts in
    the partly covered buckets at the edges of a score range are counted one by one, each
    edge as its own short index range scan (one query with ``OR`` would scan the whole range).
    """
    low = filters.min_score if filters.min_score is not None else 0.0
    high = filters.max_score if filters.max_score is not None else 10.0
    scoped = (bool(filters.archetype), bool(filters.subreddit_key))
    params = filter_params(filters, campaign_id=campaign_id, dialect="")

    async def edge(e_low: float, e_high: float, *, upper_inclusive: bool) -> int:
        statement = _edge_count_statement(*scoped, upper_inclusive, filters.hide_noise)
        return await core_scalar(session, statement, {**params, "e_low": e_low, "e_high": e_high}) or 0

    full = full_buckets(low, high)
    if not full:
        return await edge(low, high, upper_inclusive=True)
    total = int(await core_scalar(session, _bucket_sum_statement(*scoped), {**params, "buckets": full}) or 0)
    if low < full[0]:
        total += await edge(low, full[0], upper_inclusive=False)
    if full[-1] < 9:
        total += await edge(full[-1] + 1, high, upper_inclusive=True)
    return total


def search_key(campaign_id: uuid.UUID, filters: PostFilters) -> tuple[Any, ...]:
    """What a remembered search total is filed under (the sort and page do not change it)."""
    return (campaign_id, filters.archetype, filters.subreddit_key, filters.min_score, filters.max_score,
            filters.min_confidence, filters.archetype_source, filters.mentions_keywords,
            filters.include_noise, filters.words, filters.search_in, filters.theme,
            filters.theme_generation)  # fmt: skip


# One per process: totals are cheap to recompute and never shared across processes.
SEARCH_TOTALS = SearchTotals()


async def search_total(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    filters: PostFilters,
    totals: SearchTotals = SEARCH_TOTALS,
) -> int:
    """Count the matches of a search (words, confidence, source), or reuse the count while
    the campaign is unchanged."""
    key = search_key(campaign_id, filters)
    version = await posts_version(session, campaign_id)
    total = totals.get(key, version)
    if total is None:
        dialect = dialect_of(session)
        if dialect == "postgresql":
            # Room for an exact bitmap of ~100k matches: a lossy one rechecks whole pages.
            await core_execute(session, _SEARCH_WORK_MEM)
        statement = _count_statement(shape_where(Shape.of(filters, dialect)))
        params = filter_params(filters, campaign_id=campaign_id, dialect=dialect)
        total = await core_scalar(session, statement, params) or 0
        totals.put(key, version, total)
    return total


_SEARCH_WORK_MEM = text("SET LOCAL work_mem = '32MB'")


def order_by(sort: str) -> list[Any]:
    column, descending = SORTS[sort]
    if descending:
        return [column.desc(), RawPost.id.desc()]
    return [column.asc(), RawPost.id.asc()]


def keyset_after(sort: str, last: Any, last_id: uuid.UUID) -> ColumnElement[bool]:
    """Rows strictly after ``(last, last_id)`` in ``sort`` order (for batch-wise reading).

    A row-value comparison, not the equivalent ``a < x OR (a = x AND id < y)``: both
    databases seek the sort's index to it, where the OR form scans from the first row, so
    every batch of an export re-read all the batches before it."""
    column, descending = SORTS[sort]
    key = tuple_(column, RawPost.id)
    after = tuple_(literal(last, column.type), literal(last_id, RawPost.id.type))
    return key < after if descending else key > after


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
        columns += [RawPost.score_breakdown, RawPost.relevance_breakdown]
    return select(*columns)


def page_query(where: list[ColumnElement[bool]], order: list[Any], *, offset: Any, limit: Any) -> Select[Any]:
    """Deferred join: find the page's ids first (an index-only scan when the filters are
    indexed), then read only those rows. A plain deep OFFSET reads every skipped row's heap tuple."""
    page_ids = select(RawPost.id).where(*where).order_by(*order).offset(offset).limit(limit).subquery()
    return post_select(snippet=True).join(page_ids, page_ids.c.id == RawPost.id).order_by(*order)


@functools.lru_cache(maxsize=512)
def _page_statement(shape: Shape, sort: str) -> Select[Any]:
    offset, limit = bindparam("p_offset", type_=Integer()), bindparam("p_limit", type_=Integer())
    return page_query(list(shape_where(shape)), order_by(sort), offset=offset, limit=limit)


async def list_posts(
    session: AsyncSession, *, campaign_id: uuid.UUID, filters: PostFilters, page: int, per_page: int
) -> PostList:
    if filters.counts_matches:  # text search, confidence, source: only counting can tell
        total = await search_total(session, campaign_id=campaign_id, filters=filters)
    else:
        total = await counted_total(session, campaign_id=campaign_id, filters=filters)
    posts: list[PostOut] = []
    offset = (page - 1) * per_page
    if offset < total:  # a page past the end needs no second query
        dialect = dialect_of(session)
        statement = _page_statement(Shape.of(filters, dialect), filters.sort)
        params = filter_params(filters, campaign_id=campaign_id, dialect=dialect)
        rows = await core_execute(session, statement, {**params, "p_offset": offset, "p_limit": per_page})
        # Straight from typed columns: validating every field of every row again would cost
        # more than the query.
        posts = [PostOut.model_construct(**row._mapping) for row in rows]
    return PostList.model_construct(posts=posts, total=total, page=page, per_page=per_page)


_POST_BY_ID = post_select(snippet=False, breakdown=True).where(
    RawPost.id == bindparam("post_id"), RawPost.campaign_id == bindparam("campaign_id")
)


async def get_post(session: AsyncSession, *, campaign_id: uuid.UUID, post_id: uuid.UUID) -> PostDetail:
    row = (await core_execute(session, _POST_BY_ID, {"post_id": post_id, "campaign_id": campaign_id})).first()
    if row is None:
        raise PostNotFound()
    return PostDetail.model_construct(**row._mapping)
