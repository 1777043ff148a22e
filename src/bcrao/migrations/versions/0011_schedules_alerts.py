"""schedules and alerts: scheduled collections, alert rules, their deliveries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:30:00

- ``campaigns.schedule_every`` / ``next_run_at`` / ``last_scheduled_run_at`` / ``schedule_note``
  (plain ADD COLUMN: a batch copy of ``campaigns`` would drop its delete triggers on SQLite).
- ``scheduled_slots``: primary key (campaign, slot time), one run per due slot.
- ``alerts``, ``alert_posts`` (what each alert sent), ``alert_deliveries`` (the log).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bcrao.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column(
        "campaigns",
        sa.Column("schedule_every", sa.String(length=4), server_default=sa.text("'off'"), nullable=False),
    )
    op.add_column("campaigns", sa.Column("next_run_at", bcrao.db.UTCDateTime(), nullable=True))
    op.add_column("campaigns", sa.Column("last_scheduled_run_at", bcrao.db.UTCDateTime(), nullable=True))
    op.add_column("campaigns", sa.Column("schedule_note", sa.Text(), nullable=True))
    op.create_index("ix_campaigns_next_run", "campaigns", ["next_run_at"], unique=False)
    op.create_table(
        "scheduled_slots",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("slot_at", bcrao.db.UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", bcrao.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_scheduled_slots_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "slot_at", name=op.f("pk_scheduled_slots")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=2048), nullable=False),
        sa.Column("digest", sa.String(length=10), nullable=False),
        sa.Column("archetypes", _JSON, nullable=False),
        sa.Column("min_success_score", sa.Float(), nullable=True),
        sa.Column("min_relevance", sa.Float(), nullable=True),
        sa.Column("keywords", _JSON, nullable=False),
        sa.Column("subreddits", _JSON, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("last_digest_at", bcrao.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", bcrao.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_alerts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alerts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("unsubscribe_token", name=op.f("uq_alerts_unsubscribe_token")),
    )
    op.create_index("ix_alerts_campaign_created", "alerts", ["campaign_id", "created_at"], unique=False)
    op.create_table(
        "alert_posts",
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_posts_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", "post_id", name=op.f("pk_alert_posts")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("post_ids", _JSON, nullable=False),
        sa.Column("created_at", bcrao.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", bcrao.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_deliveries_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(
        "ix_alert_deliveries_alert_created", "alert_deliveries", ["alert_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_alert_created", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_posts")
    op.drop_index("ix_alerts_campaign_created", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("scheduled_slots")
    op.drop_index("ix_campaigns_next_run", table_name="campaigns")
    for name in ("schedule_note", "last_scheduled_run_at", "next_run_at", "schedule_every"):
        op.drop_column("campaigns", name)
