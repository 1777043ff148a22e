"""Everything a user owns, streamed as JSON Lines (``GET /v1/me/export``).

One object per line, each with a ``"type"``: the user, then their campaigns, runs, posts,
comments, corrections and alerts, each in the shape the API returns it (posts as in the
post detail, comments with their post's ``reddit_post_id``). Posts and comments are walked
campaign by campaign along their unique ``(campaign_id, reddit id)`` index in keyset
batches, so memory holds one batch whatever the account's size. The generator owns a
read-only session (see ``bcrao.posts.export``): on SQLite its deferred transaction is one
snapshot, so the file is consistent even while a collection writes.

Left out on purpose: alert webhook secrets and unsubscribe tokens (credentials, not data
the user gave us), and a post's ``search_terms`` (an index of its own words).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.auth.models import User
from bcrao.auth.schemas import UserOut
from bcrao.campaigns import service as campaigns
from bcrao.campaigns.models import Campaign
from bcrao.collection import service as collection
from bcrao.collection.models import CollectionRun, Correction, RawPost
from bcrao.comments.models import RawComment
from bcrao.comments.schemas import COMMENT_FIELDS
from bcrao.db import core_execute
from bcrao.monitoring.alerts import alert_out
from bcrao.monitoring.models import Alert
from bcrao.posts.export import RowFormat, jsonl_lines, post_dict, text_id, utc_text
from bcrao.posts.schemas import CorrectionOut
from bcrao.posts.service import post_select

BATCH = 1000
MEDIA_TYPE = "application/x-ndjson; charset=utf-8"

_COMMENT_ROWS = RowFormat(
    (*COMMENT_FIELDS, "campaign_id", "reddit_post_id"),
    to_json={
        **dict.fromkeys(("id", "post_id", "campaign_id"), text_id),
        **dict.fromkeys(("reddit_created_at", "collected_at"), utc_text),
    },
    to_cell={},
)
_COMMENTS = select(
    *(getattr(RawComment, name) for name in COMMENT_FIELDS),
    RawComment.campaign_id,
    RawPost.reddit_post_id,
    RawComment.reddit_comment_id.label("keyset"),
).join(RawPost, RawPost.id == RawComment.post_id)
_POSTS = post_select(snippet=False, breakdown=True).add_columns(
    RawPost.is_noise, RawPost.reddit_post_id.label("keyset")
)


def typed(kind: str, objects: Iterable[dict[str, Any]]) -> bytes:
    return jsonl_lines({"type": kind, **obj} for obj in objects)


async def export_account(
    sessionmaker: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID
) -> AsyncIterator[bytes]:
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        if user is None:  # erased between the request's check and the first read
            return
        yield typed("user", [_model(UserOut, user)])
        campaign_ids: list[uuid.UUID] = []
        async for batch in _entities(session, select(Campaign).where(Campaign.user_id == user_id), Campaign):
            campaign_ids.extend(c.id for c in batch)
            yield typed("campaign", (campaigns.to_out(c).model_dump(mode="json") for c in batch))
        runs = select(CollectionRun).where(CollectionRun.user_id == user_id)
        async for batch in _entities(session, runs, CollectionRun):
            yield typed("run", (collection.run_out(r).model_dump(mode="json") for r in batch))
        for campaign_id in campaign_ids:
            posts = _POSTS.where(RawPost.campaign_id == campaign_id)
            async for rows in _rows(session, posts, RawPost.reddit_post_id):
                yield typed("post", (_post(row) for row in rows))
        for campaign_id in campaign_ids:
            comments = _COMMENTS.where(RawComment.campaign_id == campaign_id)
            async for rows in _rows(session, comments, RawComment.reddit_comment_id):
                yield typed("comment", (_COMMENT_ROWS.json_dict(row) for row in rows))
        corrections = select(Correction).where(Correction.user_id == user_id)
        async for batch in _entities(session, corrections, Correction):
            yield typed("correction", (_correction(c) for c in batch))
        async for batch in _entities(session, select(Alert).where(Alert.user_id == user_id), Alert):
            yield typed("alert", (alert_out(a).model_dump(mode="json") for a in batch))


def _model(schema: type[BaseModel], obj: Any) -> dict[str, Any]:
    return schema.model_validate(obj, from_attributes=True).model_dump(mode="json")


def _post(row: Any) -> dict[str, Any]:
    return {**post_dict(row, breakdown=True), "is_noise": bool(row.is_noise)}


def _correction(c: Correction) -> dict[str, Any]:
    out = CorrectionOut.model_validate(c, from_attributes=True).model_dump(mode="json")
    return {**out, "campaign_id": str(c.campaign_id)}


async def _entities(session: AsyncSession, query: Select[Any], model: Any) -> AsyncIterator[list[Any]]:
    """ORM objects in id order, a batch at a time; each batch leaves the identity map after
    it is written, so a long export does not keep every object it has read."""
    async for batch in _keyset(
        lambda after: session.scalars(
            (query if after is None else query.where(model.id > after)).order_by(model.id).limit(BATCH)
        ),
        key=lambda obj: obj.id,
    ):
        yield batch
        session.expunge_all()


async def _rows(session: AsyncSession, query: Select[Any], column: Any) -> AsyncIterator[list[Any]]:
    async for batch in _keyset(
        lambda after: core_execute(
            session, (query if after is None else query.where(column > after)).order_by(column).limit(BATCH)
        ),
        key=lambda row: row.keyset,
    ):
        yield batch


async def _keyset(read: Callable[[Any], Any], *, key: Callable[[Any], Any]) -> AsyncIterator[list[Any]]:
    after = None
    while True:
        batch = list(await read(after))
        if not batch:
            return
        yield batch
        if len(batch) < BATCH:
            return
        after = key(batch[-1])
