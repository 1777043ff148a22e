"""post counts: per-campaign totals kept by the store step

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:45:00

Counting a campaign's posts is O(posts); the dashboard and the list totals ask for it on
every page. ``post_counts`` holds the same numbers grouped by (archetype, subreddit, score
bucket), incremented in the transaction that inserts the posts. Existing posts are
counted once here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_counts",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("archetype", sa.String(length=20), nullable=False),
        sa.Column("subreddit_key", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_post_counts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "archetype", "subreddit_key", "bucket", name=op.f("pk_post_counts")
        ),
    )
    bucket = "CASE WHEN success_score >= 9 THEN 9 WHEN success_score < 0 THEN 0 " + (
        "ELSE CAST(floor(success_score) AS INTEGER) END"
        if op.get_bind().dialect.name == "postgresql"
        else "ELSE CAST(success_score AS INTEGER) END"
    )
    op.execute(
        "INSERT INTO post_counts (campaign_id, archetype, subreddit_key, bucket, posts, score_sum) "
        f"SELECT campaign_id, archetype, subreddit_key, {bucket}, count(*), sum(success_score) "
        f"FROM raw_posts GROUP BY campaign_id, archetype, subreddit_key, {bucket}"
    )


def downgrade() -> None:
    op.drop_table("post_counts")
