"""Stored comments of kept posts, and per-campaign comment totals."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from bcrao.db import Base, UTCDateTime, new_id, utcnow


class RawComment(Base):
    """One comment under a stored post; unique per campaign, so re-collection only adds
    replies that are new. Like ``raw_posts`` it has no foreign keys (a key check per row
    would dominate bulk inserts): the campaigns trigger deletes a campaign's comments, and
    the store writes a post's comments in the transaction that counts them on the post."""

    __tablename__ = "raw_comments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "reddit_comment_id"),
        # A post's thread in one range scan, in "top" order straight from the index.
        Index("ix_raw_comments_post_upvotes", "post_id", "upvotes", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    reddit_comment_id: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str] = mapped_column(String(20))  # t3_<post> or t1_<comment>
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # Null when deleted or removed on Reddit: the comment keeps its place, not its words.
    author: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    reddit_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentTotal(Base):
    """A campaign's comment totals for ``collection-stats``, kept by the comment store so
    the statistics of a campaign with ten million comments do not count them."""

    __tablename__ = "comment_totals"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    comments: Mapped[int] = mapped_column(Integer, default=0)
    posts_with_comments: Mapped[int] = mapped_column(Integer, default=0)
