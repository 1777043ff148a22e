"""Storing posts without foreign keys on ``raw_posts``: the campaign still owns them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from bcrao.collection import store
from bcrao.collection.models import RawPost
from bcrao.db import new_id
from tests.conftest import make_campaign
from tests.posts.conftest import post_rows


async def _posts(maker, campaign_id: uuid.UUID) -> int:
    async with maker() as s:
        query = select(func.count()).select_from(RawPost).where(RawPost.campaign_id == campaign_id)
        return await s.scalar(query)


async def _campaign(client, alice) -> tuple[uuid.UUID, list[dict]]:
    cid = uuid.UUID((await make_campaign(client, alice["headers"]))["id"])
    return cid, post_rows(cid, uuid.UUID(alice["user"]["id"]), [new_id()])[:20]


async def test_nothing_is_stored_for_a_deleted_campaign(client, app, alice):
    cid, rows = await _campaign(client, alice)
    assert (await client.delete(f"/v1/campaigns/{cid}", headers=alice["headers"])).status_code == 204
    maker = app.state.runtime.sessionmaker
    async with maker() as session:
        with pytest.raises(store.CampaignGone):
            await store.insert_posts(session, campaign_id=cid, run_id=rows[0]["run_id"], rows=rows)
    assert await _posts(maker, cid) == 0


async def test_a_campaign_deleted_while_its_posts_are_stored_takes_them_along(client, app, alice):
    cid, rows = await _campaign(client, alice)
    maker = app.state.runtime.sessionmaker
    async with maker() as session:
        outcome = await store.insert_posts(session, campaign_id=cid, run_id=rows[0]["run_id"], rows=rows)
        assert outcome.stored == len(rows)
        deleting = asyncio.create_task(client.delete(f"/v1/campaigns/{cid}", headers=alice["headers"]))
        await asyncio.sleep(0.5)
        assert not deleting.done()  # the delete waits for the storing transaction
        await session.commit()
    assert (await asyncio.wait_for(deleting, 30)).status_code == 204
    assert await _posts(maker, cid) == 0


async def test_deleting_a_campaign_leaves_other_campaigns_posts(client, app, alice):
    (kept, kept_rows), (gone, gone_rows) = await _campaign(client, alice), await _campaign(client, alice)
    maker = app.state.runtime.sessionmaker
    async with maker() as session:
        for cid, rows in ((kept, kept_rows), (gone, gone_rows)):
            await store.insert_posts(session, campaign_id=cid, run_id=rows[0]["run_id"], rows=rows)
        await session.commit()
    assert (await client.delete(f"/v1/campaigns/{gone}", headers=alice["headers"])).status_code == 204
    assert (await _posts(maker, kept), await _posts(maker, gone)) == (len(kept_rows), 0)


def test_ids_are_time_ordered_version_7_uuids():
    ids = [new_id() for _ in range(2_000)]
    assert {i.version for i in ids} == {7} and {i.variant for i in ids} == {uuid.RFC_4122}
    assert len(set(ids)) == len(ids)
    # Ordered to the 1/4096 ms; ids drawn within one such tick may come in any order.
    ticks = [i.int >> 64 for i in ids]
    assert ticks == sorted(ticks)
