"""posts: matched keywords and comment count; rejected samples: text preview and link

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00

Plain ALTER TABLE ADD COLUMN on both databases (see 0005). Posts stored before keep an
empty keyword list: which keywords they mention was not recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("raw_posts", sa.Column("matched_keywords", json_type, nullable=True))
    op.add_column(
        "raw_posts",
        sa.Column("comments_collected", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("rejected_samples", sa.Column("text_preview", sa.Text(), nullable=True))
    op.add_column("rejected_samples", sa.Column("reddit_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    op.drop_column("rejected_samples", "reddit_url")
    op.drop_column("rejected_samples", "text_preview")
    op.drop_column("raw_posts", "comments_collected")
    op.drop_column("raw_posts", "matched_keywords")
