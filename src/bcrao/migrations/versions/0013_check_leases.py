"""check leases: which pass is looking a post up on Reddit right now

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00

- ``raw_posts.check_lease_until``: set when a deletion-check pass claims the post, cleared
  when it finishes. A periodic pass also moves ``next_check_at`` past the lease, but the
  on-demand check takes posts that are not due yet, so it needs to tell a live lease from
  a scheduled time: it skips posts leased by another pass.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bcrao.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite: the campaigns triggers name raw_posts).
    op.add_column("raw_posts", sa.Column("check_lease_until", bcrao.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("raw_posts", "check_lease_until")
