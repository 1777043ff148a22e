"""Alert rules of a campaign: which new posts qualify, and picking them for a delivery.

Posts are picked for an alert in the transaction that creates the delivery and records them
in ``alert_posts`` (primary key alert + post): the same post is never picked twice for the
same alert, whether by two processes at once or by a run and a digest. Instant alerts pick
from a finished run's posts; digests, from everything collected since the last digest, and
a digest with nothing new is not sent.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.collection.models import RawPost
from bcrao.collection.store import dialect_insert
from bcrao.config import Settings
from bcrao.db import page_of, session_scope, utcnow
from bcrao.errors import NotFound, ValidationFailed
from bcrao.monitoring import delivery
from bcrao.monitoring.models import Alert, AlertDelivery, AlertPost
from bcrao.monitoring.schemas import (
    AlertCreate,
    AlertList,
    AlertOut,
    DeliveryList,
    DeliveryOut,
    _check_target,
)

DIGEST_PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
POSTS_PER_DELIVERY = 25
MAX_ALERTS_PER_CAMPAIGN = 20


class AlertNotFound(NotFound):
    message = "Alert not found"


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut.model_validate(alert, from_attributes=True)


async def create_alert(
    session: AsyncSession, *, campaign: Any, body: AlertCreate
) -> tuple[Alert, str | None]:
    count = (
        await session.execute(select(func.count()).select_from(Alert).where(Alert.campaign_id == campaign.id))
    ).scalar_one()
    if count >= MAX_ALERTS_PER_CAMPAIGN:
        raise ValidationFailed("channel", f"at most {MAX_ALERTS_PER_CAMPAIGN} alerts per campaign")
    secret = secrets.token_urlsafe(32) if body.channel == "webhook" else None
    alert = Alert(
        campaign_id=campaign.id,
        user_id=campaign.user_id,
        secret=secret,
        unsubscribe_token=secrets.token_urlsafe(32),
        **body.model_dump(),
    )
    session.add(alert)
    await session.flush()
    await session.refresh(alert)
    return alert, secret


async def list_alerts(session: AsyncSession, campaign_id: uuid.UUID) -> AlertList:
    rows = await session.scalars(
        select(Alert).where(Alert.campaign_id == campaign_id).order_by(Alert.created_at, Alert.id)
    )
    return AlertList(alerts=[alert_out(a) for a in rows])


async def get_alert(session: AsyncSession, *, campaign_id: uuid.UUID, alert_id: uuid.UUID) -> Alert:
    alert = await session.scalar(select(Alert).where(Alert.id == alert_id, Alert.campaign_id == campaign_id))
    if alert is None:
        raise AlertNotFound()
    return alert


async def update_alert(session: AsyncSession, *, alert: Alert, changes: dict[str, Any]) -> Alert:
    if "target" in changes:
        try:
            changes["target"] = _check_target(alert.channel, str(changes["target"]))
        except ValueError as exc:
            raise ValidationFailed("target", f"target {exc}") from None
    for name, value in changes.items():
        setattr(alert, name, value)
    await session.flush()
    await session.refresh(alert)
    return alert


async def list_deliveries(
    session: AsyncSession, *, alert_id: uuid.UUID, offset: int, limit: int, page: int
) -> DeliveryList:
    order = (AlertDelivery.created_at.desc(), AlertDelivery.id.desc())
    where = AlertDelivery.alert_id == alert_id
    rows, total = await page_of(session, AlertDelivery, where, order_by=order, offset=offset, limit=limit)
    return DeliveryList(
        deliveries=[DeliveryOut.model_validate(d, from_attributes=True) for d in rows],
        total=total,
        page=page,
        per_page=limit,
    )


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text) is not None


def qualifies(alert: Alert, post: Any) -> bool:
    """Whether a stored post passes the alert's rules (each empty rule passes everything)."""
    if alert.archetypes and post.archetype not in alert.archetypes:
        return False
    if alert.min_success_score is not None and post.success_score < alert.min_success_score:
        return False
    if alert.min_relevance is not None and (post.relevance_score or 0) < alert.min_relevance:
        return False
    if alert.subreddits and post.subreddit_key not in {s.lower() for s in alert.subreddits}:
        return False
    if alert.keywords:
        text = f"{post.title}\n{post.raw_text or ''}".lower()
        if not any(_mentions(text, k) for k in alert.keywords):
            return False
    return True


_CANDIDATE_COLUMNS = (
    RawPost.id,
    RawPost.archetype,
    RawPost.success_score,
    RawPost.relevance_score,
    RawPost.subreddit_key,
    RawPost.title,
    RawPost.raw_text,
)


async def _pick(
    session: AsyncSession, alert: Alert, candidates: Sequence[Any], kind: str
) -> uuid.UUID | None:
    """Record a delivery with the qualifying posts the alert has not sent; None if none."""
    qualifying = [p for p in candidates if qualifies(alert, p)]
    if not qualifying:
        return None
    ids = [p.id for p in qualifying]
    claimed = set(
        await session.scalars(
            dialect_insert(session, AlertPost.__table__)
            .values([{"alert_id": alert.id, "post_id": i} for i in ids])
            .on_conflict_do_nothing(index_elements=["alert_id", "post_id"])
            .returning(AlertPost.__table__.c.post_id)
        )
    )
    fresh = sorted((p for p in qualifying if p.id in claimed), key=lambda p: (-p.success_score, str(p.id)))
    if not fresh:
        return None
    row = AlertDelivery(
        alert_id=alert.id,
        kind=kind,
        status="retrying",
        attempts=0,
        post_ids=[str(p.id) for p in fresh[:POSTS_PER_DELIVERY]],
        post_total=len(fresh),  # all are announced (count and link), the best listed
    )
    session.add(row)
    await session.flush()
    return row.id


async def follow_run(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    run_id: uuid.UUID,
    campaign_id: uuid.UUID,
) -> None:
    """After a run: each active instant alert of the campaign gets the run's new posts it wants."""
    created = []
    async with session_scope(sessionmaker) as session:
        alerts = list(
            await session.scalars(
                select(Alert).where(
                    Alert.campaign_id == campaign_id, Alert.active.is_(True), Alert.digest == "instant"
                )
            )
        )
        if not alerts:
            return
        posts = list(
            await session.execute(
                select(*_CANDIDATE_COLUMNS).where(
                    RawPost.campaign_id == campaign_id, RawPost.run_id == run_id, RawPost.is_noise.is_(False)
                )
            )
        )
        for alert in alerts:
            delivery_id = await _pick(session, alert, posts, "instant")
            if delivery_id is not None:
                created.append(delivery_id)
    await delivery.dispatch(settings, sessionmaker, created)


async def send_due_digests(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Daily and weekly digests that are due; how many deliveries were created."""
    now = now or utcnow()
    created = []
    async with sessionmaker() as session:
        due = [
            (a.id, a.last_digest_at)
            for a in await session.scalars(
                select(Alert).where(Alert.active.is_(True), Alert.digest.in_(tuple(DIGEST_PERIODS)))
            )
            if (a.last_digest_at or a.created_at) + DIGEST_PERIODS[a.digest] <= now
        ]
    for alert_id, last in due:
        async with session_scope(sessionmaker) as session:
            # Compare-and-set: of two schedulers, one moves the digest on and sends it.
            moved = await session.scalar(
                update(Alert)
                .where(
                    Alert.id == alert_id,
                    Alert.last_digest_at.is_(None) if last is None else Alert.last_digest_at == last,
                )
                .values(last_digest_at=now)
                .returning(Alert.id)
            )
            if moved is None:
                continue
            alert = await session.get_one(Alert, alert_id)  # the row the update just returned
            since = last or alert.created_at
            posts = list(
                await session.execute(
                    select(*_CANDIDATE_COLUMNS).where(
                        RawPost.campaign_id == alert.campaign_id,
                        RawPost.is_noise.is_(False),
                        RawPost.collected_at > since,
                    )
                )
            )
            delivery_id = await _pick(session, alert, posts, "digest")
            if delivery_id is not None:
                created.append(delivery_id)
    await delivery.dispatch(settings, sessionmaker, created)
    return len(created)


async def send_test(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], *, alert: Alert
) -> uuid.UUID:
    """A delivery of the campaign's three best posts (whether sent before or not), marked test."""
    async with session_scope(sessionmaker) as session:
        best = await session.scalars(
            select(RawPost.id)
            .where(RawPost.campaign_id == alert.campaign_id, RawPost.is_noise.is_(False))
            .order_by(RawPost.success_score.desc(), RawPost.id)
            .limit(3)
        )
        ids = [str(i) for i in best]
        row = AlertDelivery(
            alert_id=alert.id, kind="test", status="retrying", attempts=0, post_ids=ids, post_total=len(ids)
        )
        session.add(row)
        await session.flush()
        delivery_id = row.id
    await delivery.dispatch(settings, sessionmaker, [delivery_id])
    return delivery_id


async def unsubscribe(session: AsyncSession, token: str) -> Alert | None:
    alert = await session.scalar(select(Alert).where(Alert.unsubscribe_token == token))
    if alert is not None:
        alert.active = False
    return alert
