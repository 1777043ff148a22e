"""posts: the archetype's confidence, source and reasons as columns; a relevance sort index

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00

They lived in ``score_breakdown``, where the dashboard drew them as if they were parts of
the success score, and where no list filter could reach them. Existing rows keep their
values: the backfill copies them out of the breakdown and then drops them from it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOVED = ("archetype_confidence", "archetype_reasons")
_BATCH = 1000


def upgrade() -> None:
    # Plain ALTER TABLE on both databases (no batch copy of the table: SQLite would trip
    # over the campaigns trigger that names it, and the copy would rewrite every post).
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("raw_posts", sa.Column("archetype_confidence", sa.Float(), nullable=True))
    op.add_column("raw_posts", sa.Column("archetype_source", sa.String(length=10), nullable=True))
    op.add_column("raw_posts", sa.Column("archetype_reasons", json_type, nullable=True))
    op.create_index("ix_raw_posts_campaign_relevance", "raw_posts", ["campaign_id", "relevance_score", "id"])
    bind = op.get_bind()
    posts = sa.table(
        "raw_posts",
        sa.column("id", sa.Uuid()),
        sa.column("archetype", sa.String()),
        sa.column("is_ai_processed", sa.Boolean()),
        sa.column("score_breakdown", json_type),
        sa.column("archetype_confidence", sa.Float()),
        sa.column("archetype_source", sa.String()),
        sa.column("archetype_reasons", json_type),
    )
    last = None
    while True:
        query = sa.select(posts.c.id, posts.c.archetype, posts.c.is_ai_processed, posts.c.score_breakdown)
        if last is not None:
            query = query.where(posts.c.id > last)
        rows = bind.execute(query.order_by(posts.c.id).limit(_BATCH)).all()
        if not rows:
            break
        for row in rows:
            breakdown = dict(row.score_breakdown or {})
            labelled = row.archetype != "Unclassified"
            bind.execute(
                posts.update()
                .where(posts.c.id == row.id)
                .values(
                    archetype_confidence=breakdown.get("archetype_confidence") if labelled else None,
                    archetype_source=("llm" if row.is_ai_processed else "model") if labelled else None,
                    archetype_reasons=list(breakdown.get("archetype_reasons") or []),
                    score_breakdown={k: v for k, v in breakdown.items() if k not in _MOVED},
                )
            )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_raw_posts_campaign_relevance", table_name="raw_posts")
    for name in ("archetype_reasons", "archetype_source", "archetype_confidence"):
        op.drop_column("raw_posts", name)
