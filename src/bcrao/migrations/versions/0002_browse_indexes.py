"""browse indexes: one covering index for collection stats and counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:20:00

``collection-stats`` groups a campaign's posts by (archetype, subreddit_key, score bucket).
With every column it reads in one index, PostgreSQL answers it with an index-only scan of a
narrow index instead of reading every heap row of the campaign (the texts make the heap
~15x wider). Plain btree: portable, mirrored in ``RawPost.__table_args__``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_raw_posts_campaign_stats",
            ["campaign_id", "archetype", "subreddit_key", "success_score"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_posts_campaign_stats")
