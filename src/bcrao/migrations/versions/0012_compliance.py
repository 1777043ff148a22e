"""compliance: deletion sync, tombstones, per-subreddit source status

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00

- ``raw_posts.next_check_at`` / ``checks``: when a stored post is next re-checked on Reddit
  (within 48 h of collection, then less often for 30 days), in ``(campaign_id, next_check_at)``.
- ``purged_items``: tombstones (ids and times, no content) of posts and comments deleted on
  Reddit or past retention, so they are never shown or collected again.
- ``compliance_totals``: per campaign, posts checked and items purged, last check.
- ``collection_runs.source_status``: per subreddit, ok | empty | blocked | not_found |
  rate_limited | error.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bcrao.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite: the campaigns triggers name raw_posts).
    op.add_column("raw_posts", sa.Column("next_check_at", bcrao.db.UTCDateTime(), nullable=True))
    op.add_column("raw_posts", sa.Column("checks", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.create_index(
        "ix_raw_posts_campaign_next_check", "raw_posts", ["campaign_id", "next_check_at"], unique=False
    )
    op.add_column(
        "collection_runs", sa.Column("source_status", _JSON, server_default=sa.text("'{}'"), nullable=False)
    )
    op.create_table(
        "purged_items",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("reddit_fullname", sa.String(length=24), nullable=False),
        sa.Column("collected_at", bcrao.db.UTCDateTime(), nullable=True),
        sa.Column("purged_at", bcrao.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_purged_items_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "reddit_fullname", name=op.f("pk_purged_items")),
    )
    op.create_table(
        "compliance_totals",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("checked", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("purged", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_checked_at", bcrao.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_compliance_totals_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_compliance_totals")),
    )


def downgrade() -> None:
    op.drop_table("compliance_totals")
    op.drop_table("purged_items")
    op.drop_column("collection_runs", "source_status")
    op.drop_index("ix_raw_posts_campaign_next_check", table_name="raw_posts")
    op.drop_column("raw_posts", "checks")
    op.drop_column("raw_posts", "next_check_at")
