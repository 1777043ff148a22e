"""delivery heartbeats: a delivery whose sender stopped is sent again

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 11:00:00

- ``alert_deliveries.heartbeat_at``: when a sender last worked on the delivery (created it,
  started or finished an attempt). The monitoring pass sends a ``retrying`` delivery again,
  under the same id, once it has been quiet longer than any live sender is, and the index
  ``(status, heartbeat_at)`` finds those without reading the whole delivery log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bcrao.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alert_deliveries", sa.Column("heartbeat_at", bcrao.db.UTCDateTime(), nullable=True))
    op.create_index(
        "ix_alert_deliveries_status_heartbeat", "alert_deliveries", ["status", "heartbeat_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_status_heartbeat", table_name="alert_deliveries")
    op.drop_column("alert_deliveries", "heartbeat_at")
