"""alert deliveries count every new post they announce, not only the ones they list

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:30:00

- ``alert_deliveries.post_total``: how many new posts qualified for the delivery. It lists the
  best ``POSTS_PER_DELIVERY`` of them (``post_ids``) and says how many more there are, with a
  link to all of them; before, a run with 100 matching posts was announced as "25 new posts"
  and the other 75 were marked sent without a word. Deliveries recorded before count their
  listed posts, which is what they announced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alert_deliveries", sa.Column("post_total", sa.Integer(), nullable=True))
    length = "jsonb_array_length" if op.get_bind().dialect.name == "postgresql" else "json_array_length"
    op.execute(f"UPDATE alert_deliveries SET post_total = {length}(post_ids)")
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.alter_column("post_total", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    op.drop_column("alert_deliveries", "post_total")
