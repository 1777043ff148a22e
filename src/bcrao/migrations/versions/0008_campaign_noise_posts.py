"""campaigns.noise_posts: lists of campaigns without noise skip the noise condition

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "campaigns", sa.Column("noise_posts", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.execute(
        "UPDATE campaigns SET noise_posts = "
        "(SELECT count(*) FROM raw_posts WHERE raw_posts.campaign_id = campaigns.id AND raw_posts.is_noise)"
    )


def downgrade() -> None:
    op.drop_column("campaigns", "noise_posts")
