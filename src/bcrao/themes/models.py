"""A campaign's computed themes: one row with the result, one row per (theme, post)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from bcrao.db import Base, JSONType, UTCDateTime


class ThemeSet(Base):
    """The latest themes of a campaign. ``version`` is the campaign's posts version they were
    computed from (posts, labels, comments), so a read can tell "ready" from "stale"."""

    __tablename__ = "theme_sets"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(12), default="computing")  # computing | ready | failed
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    total_posts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    unassigned: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    themes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ThemePost(Base):
    """Which theme a post belongs to (each post in at most one), for a theme's post list."""

    __tablename__ = "theme_posts"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
