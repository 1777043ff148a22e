"""Schedules, alert rules, what each alert already sent, and its delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from bcrao.db import Base, JSONType, UTCDateTime, new_id, utcnow


class ScheduledSlot(Base):
    """One row per (campaign, due time) that was started: the primary key is what makes
    "exactly one run per slot" true however many schedulers look at the same moment."""

    __tablename__ = "scheduled_slots"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    outcome: Mapped[str] = mapped_column(String(20), default="started")  # started | skipped
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_campaign_created", "campaign_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))  # webhook | email
    target: Mapped[str] = mapped_column(String(2048))
    digest: Mapped[str] = mapped_column(String(10), default="instant")  # instant | daily | weekly
    archetypes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    min_success_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_relevance: Mapped[float | None] = mapped_column(Float, nullable=True)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    subreddits: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Signs webhook bodies; shown to the user once, at creation.
    secret: Mapped[str | None] = mapped_column(String(128), nullable=True)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertPost(Base):
    """A post an alert has sent (or is sending): never the same post twice per alert."""

    __tablename__ = "alert_posts"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index("ix_alert_deliveries_alert_created", "alert_id", "created_at"),
        Index("ix_alert_deliveries_status_heartbeat", "status", "heartbeat_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("alerts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="instant")  # instant | digest | test
    status: Mapped[str] = mapped_column(String(10), default="retrying")  # sent | failed | retrying
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    post_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # the best POSTS_PER_DELIVERY
    post_total: Mapped[int] = mapped_column(Integer)  # every new post it announces
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When a sender last worked on it (created it, started or ended an attempt): a ``retrying``
    # delivery quiet for longer than a live sender ever is gets sent again (bcrao.monitoring.delivery).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=utcnow)
