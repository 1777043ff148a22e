"""What deletion sync and retention leave behind: tombstones and per-campaign totals."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from bcrao.db import Base, UTCDateTime, utcnow


class PurgedItem(Base):
    """A post (``t3_``) or comment (``t1_``) removed from our store: ids and times only, so
    it is never shown or collected again, and nothing of what it said is kept."""

    __tablename__ = "purged_items"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    reddit_fullname: Mapped[str] = mapped_column(String(24), primary_key=True)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(20))  # deleted | removed | retention


class ComplianceTotal(Base):
    __tablename__ = "compliance_totals"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    checked: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    purged: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
