"""create core tables

Revision ID: 0001
Revises:
Create Date: 2026-11-29 01:45:52.142526
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bcrao.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("plan", sa.String(length=20), nullable=False),
        sa.Column("created_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("product_context", sa.Text(), nullable=False),
        sa.Column("product_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "keywords",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "target_subreddits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_campaigns_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_user_created", ["user_id", "created_at"], unique=False)

    op.create_table(
        "run_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_run_ledger_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_ledger")),
    )
    with op.batch_alter_table("run_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_run_ledger_user_created", ["user_id", "created_at"], unique=False)

    op.create_table(
        "collection_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("classifier", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("max_posts_per_subreddit", sa.Integer(), nullable=False),
        sa.Column("scraped", sa.Integer(), nullable=False),
        sa.Column("filtered", sa.Integer(), nullable=False),
        sa.Column("classified", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column(
            "filter_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("llm_prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("llm_completion_tokens", sa.Integer(), nullable=False),
        sa.Column("llm_cost_usd", sa.Float(), nullable=False),
        sa.Column("llm_fallbacks", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", bcrao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", bcrao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", bcrao.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_collection_runs_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_collection_runs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_runs")),
    )
    with op.batch_alter_table("collection_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_runs_campaign_created", ["campaign_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_collection_runs_status_heartbeat", ["status", "heartbeat_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_collection_runs_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_collection_runs_one_active",
            ["campaign_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )

    op.create_table(
        "source_cursors",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("subreddit_key", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("newest_created_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("newest_post_id", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("previous_created_at", bcrao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("previous_post_id", sa.String(length=16), nullable=True),
        sa.Column("updated_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_source_cursors_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "subreddit_key", "mode", name=op.f("pk_source_cursors")),
    )
    op.create_table(
        "raw_posts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("subreddit", sa.String(length=32), nullable=False),
        sa.Column("subreddit_key", sa.String(length=32), nullable=False),
        sa.Column("reddit_post_id", sa.String(length=16), nullable=False),
        sa.Column("reddit_url", sa.String(length=2048), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("upvotes", sa.Integer(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("upvote_ratio", sa.Float(), nullable=True),
        sa.Column("reddit_created_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archetype", sa.String(length=20), nullable=False),
        sa.Column("relevance_score", sa.Float(), nullable=False),
        sa.Column("success_score", sa.Float(), nullable=False),
        sa.Column(
            "score_breakdown",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_ai_processed", sa.Boolean(), nullable=False),
        sa.Column("classifier", sa.String(length=20), nullable=True),
        sa.Column("collected_at", bcrao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_raw_posts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["collection_runs.id"],
            name=op.f("fk_raw_posts_run_id_collection_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_raw_posts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_posts")),
        sa.UniqueConstraint(
            "campaign_id", "reddit_post_id", name=op.f("uq_raw_posts_campaign_id_reddit_post_id")
        ),
    )
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_raw_posts_campaign_archetype_score",
            ["campaign_id", "archetype", "success_score", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_raw_posts_campaign_comments", ["campaign_id", "comment_count", "id"], unique=False
        )
        batch_op.create_index(
            "ix_raw_posts_campaign_created", ["campaign_id", "reddit_created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_raw_posts_campaign_score", ["campaign_id", "success_score", "id"], unique=False
        )
        batch_op.create_index(
            "ix_raw_posts_campaign_subreddit_score",
            ["campaign_id", "subreddit_key", "success_score", "id"],
            unique=False,
        )
        batch_op.create_index("ix_raw_posts_campaign_upvotes", ["campaign_id", "upvotes", "id"], unique=False)
        batch_op.create_index("ix_raw_posts_run", ["run_id"], unique=False)

    op.create_table(
        "rejected_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reddit_post_id", sa.String(length=16), nullable=False),
        sa.Column("subreddit", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["collection_runs.id"],
            name=op.f("fk_rejected_samples_run_id_collection_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_samples")),
    )
    with op.batch_alter_table("rejected_samples", schema=None) as batch_op:
        batch_op.create_index("ix_rejected_samples_run_reason", ["run_id", "reason"], unique=False)

    _create_search_indexes()


def _create_search_indexes() -> None:
    """Trigram indexes make `q` (ILIKE on title and text) fast on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_raw_posts_title_trgm ON raw_posts USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX ix_raw_posts_text_trgm ON raw_posts USING gin (raw_text gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_raw_posts_text_trgm")
        op.execute("DROP INDEX IF EXISTS ix_raw_posts_title_trgm")
    with op.batch_alter_table("rejected_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_rejected_samples_run_reason")

    op.drop_table("rejected_samples")
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_posts_run")
        batch_op.drop_index("ix_raw_posts_campaign_upvotes")
        batch_op.drop_index("ix_raw_posts_campaign_subreddit_score")
        batch_op.drop_index("ix_raw_posts_campaign_score")
        batch_op.drop_index("ix_raw_posts_campaign_created")
        batch_op.drop_index("ix_raw_posts_campaign_comments")
        batch_op.drop_index("ix_raw_posts_campaign_archetype_score")

    op.drop_table("raw_posts")
    op.drop_table("source_cursors")
    with op.batch_alter_table("collection_runs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_collection_runs_one_active",
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
        batch_op.drop_index(batch_op.f("ix_collection_runs_user_id"))
        batch_op.drop_index("ix_collection_runs_status_heartbeat")
        batch_op.drop_index("ix_collection_runs_campaign_created")

    op.drop_table("collection_runs")
    with op.batch_alter_table("run_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_run_ledger_user_created")

    op.drop_table("run_ledger")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_user_created")

    op.drop_table("campaigns")
    op.drop_table("users")
