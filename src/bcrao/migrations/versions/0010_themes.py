"""themes: themes and pain points per campaign

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:30:00

- ``theme_sets``: the latest computed themes of a campaign (status, the posts version they
  were computed from, the themes with their quotes as JSON).
- ``theme_posts``: (campaign, theme, post), the posts of each theme.
Both go with their campaign (foreign keys, cascading).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bcrao.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "theme_sets",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("generation", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("requested_at", bcrao.db.UTCDateTime(), nullable=True),
        sa.Column("computed_at", bcrao.db.UTCDateTime(), nullable=True),
        sa.Column("total_posts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("unassigned", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "themes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_theme_sets_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_theme_sets")),
    )
    op.create_table(
        "theme_posts",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_theme_posts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "theme_id", "post_id", name=op.f("pk_theme_posts")),
    )


def downgrade() -> None:
    op.drop_table("theme_posts")
    op.drop_table("theme_sets")
