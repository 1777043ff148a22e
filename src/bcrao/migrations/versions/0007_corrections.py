"""corrections: a founder's label and noise corrections; posts.is_noise; campaigns.labels_version

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "corrections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=True),
        sa.Column("reddit_post_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("archetype", sa.String(length=20), nullable=True),
        sa.Column("machine", json_type, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_corrections_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_corrections_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index("ix_corrections_user_created", "corrections", ["user_id", "created_at"])
    op.create_index("ix_corrections_post", "corrections", ["post_id"])
    op.add_column(
        "raw_posts", sa.Column("is_noise", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column(
        "campaigns", sa.Column("labels_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("campaigns", "labels_version")
    op.drop_column("raw_posts", "is_noise")
    op.drop_index("ix_corrections_post", table_name="corrections")
    op.drop_index("ix_corrections_user_created", table_name="corrections")
    op.drop_table("corrections")
