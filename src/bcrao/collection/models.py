"""Runs, stored posts and the bookkeeping a collection leaves behind."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bcrao.db import Base, JSONType, UTCDateTime, new_id, utcnow
from bcrao.posts.search import SearchTermsType, default_search_terms
from bcrao.sources.base import Mode

ACTIVE_STATUSES = ("queued", "running")
TERMINAL_STATUSES = frozenset({"complete", "partial", "failed", "cancelled"})
ARCHETYPES = ("Journey", "ProblemSolution", "Feedback", "Unclassified")

_ACTIVE_WHERE = text("status IN ('queued', 'running')")


class CollectionRun(Base):
    __tablename__ = "collection_runs"
    __table_args__ = (
        # At most one queued/running run per campaign, enforced by the database so two
        # concurrent triggers cannot both win (no read-then-write race).
        Index(
            "uq_collection_runs_one_active",
            "campaign_id",
            unique=True,
            sqlite_where=_ACTIVE_WHERE,
            postgresql_where=_ACTIVE_WHERE,
        ),
        Index("ix_collection_runs_campaign_created", "campaign_id", "created_at"),
        Index("ix_collection_runs_status_heartbeat", "status", "heartbeat_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    source: Mapped[str] = mapped_column(String(20))
    classifier: Mapped[str] = mapped_column(String(20))
    mode: Mapped[Mode] = mapped_column(String(20), default="hybrid")
    max_posts_per_subreddit: Mapped[int] = mapped_column(Integer, default=100)
    comments_per_post: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    scraped: Mapped[int] = mapped_column(Integer, default=0)
    filtered: Mapped[int] = mapped_column(Integer, default=0)
    classified: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    comments_fetched: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    comments_stored: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    filter_reasons: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Per subreddit: ok | empty | blocked | not_found | rate_limited | error (#18).
    source_status: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    llm_prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    llm_completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    llm_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    llm_fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RunLedger(Base):
    """One row per triggered run, kept when the campaign is deleted: the plan allowance
    counts every run a user started in the window, deleted ones included."""

    __tablename__ = "run_ledger"
    __table_args__ = (Index("ix_run_ledger_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RawPost(Base):
    __tablename__ = "raw_posts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "reddit_post_id"),
        # One index per list sort, each led by the campaign so a campaign's page is a range scan.
        Index("ix_raw_posts_campaign_score", "campaign_id", "success_score", "id"),
        Index("ix_raw_posts_campaign_archetype_score", "campaign_id", "archetype", "success_score", "id"),
        Index("ix_raw_posts_campaign_subreddit_score", "campaign_id", "subreddit_key", "success_score", "id"),
        Index("ix_raw_posts_campaign_created", "campaign_id", "reddit_created_at", "id"),
        Index("ix_raw_posts_campaign_upvotes", "campaign_id", "upvotes", "id"),
        Index("ix_raw_posts_campaign_comments", "campaign_id", "comment_count", "id"),
        Index("ix_raw_posts_campaign_relevance", "campaign_id", "relevance_score", "id"),
        Index("ix_raw_posts_campaign_next_check", "campaign_id", "next_check_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    # No foreign keys: a key check per inserted post took more than half of bulk insert
    # time. A trigger on ``campaigns`` deletes a campaign's posts with it, and the store
    # locks the campaign once per transaction instead of once per post (migration 0004).
    # ``user_id`` is the campaign's owner, for tenant filters; ``run_id`` the run that
    # first stored the post (runs are deleted only with their campaign).
    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    subreddit: Mapped[str] = mapped_column(String(32))
    subreddit_key: Mapped[str] = mapped_column(String(32))  # lower-cased, for case-insensitive filters
    reddit_post_id: Mapped[str] = mapped_column(String(16))
    reddit_url: Mapped[str] = mapped_column(String(2048))
    author: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str] = mapped_column(Text)
    raw_text: Mapped[str] = mapped_column(Text, default="")
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    upvote_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    reddit_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archetype: Mapped[str] = mapped_column(String(20), default="Unclassified")
    relevance_score: Mapped[float] = mapped_column(Float, default=0.0)
    success_score: Mapped[float] = mapped_column(Float, default=0.0)
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_ai_processed: Mapped[bool] = mapped_column(Boolean, default=False)
    classifier: Mapped[str | None] = mapped_column(String(20), nullable=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How sure the label is (the classifier's probability of its choice, 0-1; null while
    # Unclassified), who chose it (``model`` | ``llm`` | ``user``) and the words that weighed most.
    archetype_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    archetype_source: Mapped[str | None] = mapped_column(String(10), nullable=True)
    archetype_reasons: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True, default=list)
    # Each relevance signal's points, summing to relevance_score ("why it was kept").
    # No ORM default: the store fills it, and migration tests insert at older revisions.
    relevance_breakdown: Mapped[dict[str, float] | None] = mapped_column(JSONType, nullable=True)
    # The campaign's keywords the post mentions (as the campaign spells them) and how many
    # of its comments are stored (0 until comments are collected).
    matched_keywords: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True, default=list)
    comments_collected: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The founder said this kept post is noise: hidden from lists, exports and stats.
    is_noise: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The post's words for ``q`` (see bcrao.posts.search); deferred: only queries read it.
    search_terms: Mapped[str] = mapped_column(
        SearchTermsType, default=default_search_terms, server_default=text("''"), deferred=True
    )
    # The words of its stored comments, for ``q`` with ``search_in=comments|all``.
    comment_terms: Mapped[str] = mapped_column(
        SearchTermsType, default=" ", server_default=text("''"), deferred=True
    )
    # Deletion sync (bcrao.compliance): when this post is next looked up on Reddit.
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checks: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Set while a check pass holds the post (it is being looked up), so no other pass takes it.
    check_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RejectedSample(Base):
    """A few of the posts the pre-filter threw away, so users can tune their keywords."""

    __tablename__ = "rejected_samples"
    __table_args__ = (Index("ix_rejected_samples_run_reason", "run_id", "reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("collection_runs.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    reddit_post_id: Mapped[str] = mapped_column(String(16))
    subreddit: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    text_preview: Mapped[str | None] = mapped_column(Text, nullable=True)
    reddit_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # The whole post as the source gave it (text, author, engagement, time), for "keep".
    post: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class SourceCursor(Base):
    """The newest post already seen per campaign, subreddit and mode ("Collect More").

    ``run_id`` is the run that last advanced it and ``previous_*`` what it was before, so a
    redelivered run re-reads from where *it* started rather than from its own progress.
    """

    __tablename__ = "source_cursors"
    __table_args__ = (PrimaryKeyConstraint("campaign_id", "subreddit_key", "mode"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"))
    subreddit_key: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(20))
    newest_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    newest_post_id: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    previous_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    previous_post_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PostCount(Base):
    """Stored posts per campaign, archetype, subreddit and score bucket, kept by the store step.

    Totals and dashboard statistics of a campaign with a million posts come from a few
    hundred rows here instead of counting the posts every time; posts are only ever added
    (or removed with their campaign, which cascades here too), so increments suffice.
    """

    __tablename__ = "post_counts"
    __table_args__ = (PrimaryKeyConstraint("campaign_id", "archetype", "subreddit_key", "bucket"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"))
    archetype: Mapped[str] = mapped_column(String(20))
    subreddit_key: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[int] = mapped_column(Integer)  # floor(success_score), 10 counted in bucket 9
    posts: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)


class Correction(Base):
    """A founder's correction of a kept post: its archetype (``label``) or that it is
    ``noise``. ``machine`` keeps the label the classifier gave, so removing a label
    correction restores it; the rows are labelled data to learn from."""

    __tablename__ = "corrections"
    __table_args__ = (
        Index("ix_corrections_user_created", "user_id", "created_at"),
        Index("ix_corrections_post", "post_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"))
    post_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    reddit_post_id: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(10))  # label | noise | keep
    archetype: Mapped[str | None] = mapped_column(String(20), nullable=True)
    machine: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
