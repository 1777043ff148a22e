"""raw_comments: the discussion under each post, with per-campaign totals

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:30:00

- ``raw_comments``: unique on (campaign, reddit comment id), read per post through
  ``(post_id, upvotes, id)``; no foreign keys, like ``raw_posts`` (migration 0004): the
  campaigns trigger deletes a campaign's comments too.
- ``comment_totals``: one row per campaign, kept by the comment store.
- ``raw_posts.comment_terms``: the words of a post's comments, for ``search_in``; on
  PostgreSQL in a GIN index led by ``campaign_id`` like ``search_terms``.
- ``collection_runs.comments_per_post`` / ``comments_fetched`` / ``comments_stored``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bcrao.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "raw_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("reddit_comment_id", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.String(length=20), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("upvotes", sa.Integer(), nullable=False),
        sa.Column("reddit_created_at", bcrao.db.UTCDateTime(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("collected_at", bcrao.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_comments")),
        sa.UniqueConstraint(
            "campaign_id", "reddit_comment_id", name=op.f("uq_raw_comments_campaign_id_reddit_comment_id")
        ),
    )
    op.create_index(
        "ix_raw_comments_post_upvotes", "raw_comments", ["post_id", "upvotes", "id"], unique=False
    )
    op.create_table(
        "comment_totals",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("posts_with_comments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_comment_totals_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_comment_totals")),
    )
    column_type = postgresql.TSVECTOR() if _is_postgresql() else sa.Text()
    # Plain ADD COLUMN (no batch copy on SQLite: the campaigns triggers name raw_posts).
    op.add_column(
        "raw_posts", sa.Column("comment_terms", column_type, server_default=sa.text("''"), nullable=False)
    )
    for name in ("comments_per_post", "comments_fetched", "comments_stored"):
        op.add_column(
            "collection_runs", sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    if _is_postgresql():
        op.execute(
            "CREATE INDEX ix_raw_posts_comment_search ON raw_posts USING gin (campaign_id, comment_terms)"
        )
        op.execute(
            """
            CREATE FUNCTION bcrao_delete_campaign_comments() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM raw_comments WHERE campaign_id IN (SELECT id FROM deleted_campaigns);
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER trg_campaigns_delete_comments AFTER DELETE ON campaigns"
            " REFERENCING OLD TABLE AS deleted_campaigns"
            " FOR EACH STATEMENT EXECUTE FUNCTION bcrao_delete_campaign_comments()"
        )
    else:
        op.execute(
            "CREATE TRIGGER trg_campaigns_delete_comments AFTER DELETE ON campaigns"
            " BEGIN DELETE FROM raw_comments WHERE campaign_id = OLD.id; END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS trg_campaigns_delete_comments" + (" ON campaigns" if _is_postgresql() else "")
    )
    if _is_postgresql():
        op.execute("DROP FUNCTION IF EXISTS bcrao_delete_campaign_comments()")
        op.execute("DROP INDEX IF EXISTS ix_raw_posts_comment_search")
    for name in ("comments_stored", "comments_fetched", "comments_per_post"):
        op.drop_column("collection_runs", name)
    op.drop_column("raw_posts", "comment_terms")
    op.drop_table("comment_totals")
    op.drop_index("ix_raw_comments_post_upvotes", table_name="raw_comments")
    op.drop_table("raw_comments")
