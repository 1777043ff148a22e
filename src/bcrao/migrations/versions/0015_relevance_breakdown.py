"""relevance breakdown: why a kept post is relevant to its campaign

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:10:00

- ``raw_posts.relevance_breakdown``: each relevance signal's points (keywords in the title,
  in the text, the product context, personal voice, question, ...), summing to
  ``relevance_score``; shown in the post dialog as "Why it was kept". Posts stored before
  have none (NULL reads as an empty breakdown).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("raw_posts", sa.Column("relevance_breakdown", json_type, nullable=True))


def downgrade() -> None:
    op.drop_column("raw_posts", "relevance_breakdown")
