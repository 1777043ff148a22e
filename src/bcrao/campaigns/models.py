from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from bcrao.db import Base, JSONType, UTCDateTime, new_id, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_user_created", "user_id", "created_at"),
        Index("ix_campaigns_next_run", "next_run_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    product_context: Mapped[str] = mapped_column(Text, default="")
    product_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    target_subreddits: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Bumped by every label or noise correction of its posts: remembered search totals are
    # filed under it too (bcrao.posts.totals), as corrections move posts between filters.
    labels_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Posts marked noise. While 0 (nearly always) lists need no "not noise" condition, which
    # would make every page read table rows instead of only its index (deep pages: 6 -> 164 ms).
    noise_posts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Scheduled collections: every "off" | "1h" | "6h" | "24h" | "7d" (bcrao.monitoring.schedules).
    schedule_every: Mapped[str] = mapped_column(String(4), default="off", server_default=text("'off'"))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_scheduled_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    schedule_note: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the last slot did not run
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
