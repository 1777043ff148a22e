"""rejected samples keep the whole post: "should have been kept" stores it as it was

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:20:00

- ``rejected_samples.post``: the sample's text, author, link, engagement and creation time
  as the source gave them. A sample kept by its user becomes a post with all of it (before,
  only the 300-character preview, no engagement and the run's date). Samples stored before
  have none and are kept from their preview, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("rejected_samples", sa.Column("post", json_type, nullable=True))


def downgrade() -> None:
    op.drop_column("rejected_samples", "post")
