"""posts: no foreign keys; a trigger deletes a campaign's posts with it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 08:00:00

Storing posts is the hottest write path, and each of the three foreign keys of
``raw_posts`` cost a check per inserted post: on PostgreSQL a ``SELECT ... FOR KEY SHARE``
of the same campaign, user and run row, thousands of times per run; on SQLite a parent
look-up. Together they took more than half of the bulk insert time. What they protected is
kept another way:

- deleting a campaign deletes its posts: an ``AFTER DELETE`` trigger on ``campaigns``
  (deleting a user cascades to their campaigns, and so here too);
- no post is stored for a campaign that no longer exists: the store locks the campaign row
  once per transaction (``bcrao.collection.store``), which is what the key did per row;
- ``user_id`` is a copy of the campaign's owner, for tenant filters, and ``run_id`` names
  the run that first stored the post; runs are deleted only with their campaign, so the
  ``SET NULL`` never fired and the index on ``run_id`` served nothing else.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEYS = [
    ("fk_raw_posts_campaign_id_campaigns", "campaigns", "campaign_id", "CASCADE"),
    ("fk_raw_posts_user_id_users", "users", "user_id", "CASCADE"),
    ("fk_raw_posts_run_id_collection_runs", "collection_runs", "run_id", "SET NULL"),
]


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_posts_run")
        for name, _parent, _column, _action in _FOREIGN_KEYS:
            batch_op.drop_constraint(op.f(name), type_="foreignkey")
    if _is_postgresql():
        op.execute(
            """
            CREATE FUNCTION bcrao_delete_campaign_posts() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM raw_posts WHERE campaign_id IN (SELECT id FROM deleted_campaigns);
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER trg_campaigns_delete_posts AFTER DELETE ON campaigns"
            " REFERENCING OLD TABLE AS deleted_campaigns"
            " FOR EACH STATEMENT EXECUTE FUNCTION bcrao_delete_campaign_posts()"
        )
    else:
        op.execute(
            "CREATE TRIGGER trg_campaigns_delete_posts AFTER DELETE ON campaigns"
            " BEGIN DELETE FROM raw_posts WHERE campaign_id = OLD.id; END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS trg_campaigns_delete_posts" + (" ON campaigns" if _is_postgresql() else "")
    )
    if _is_postgresql():
        op.execute("DROP FUNCTION IF EXISTS bcrao_delete_campaign_posts()")
    # Rows the restored keys would refuse (none should exist).
    op.execute("DELETE FROM raw_posts WHERE campaign_id NOT IN (SELECT id FROM campaigns)")
    op.execute("DELETE FROM raw_posts WHERE user_id NOT IN (SELECT id FROM users)")
    op.execute("UPDATE raw_posts SET run_id = NULL WHERE run_id NOT IN (SELECT id FROM collection_runs)")
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        for name, parent, column, action in _FOREIGN_KEYS:
            batch_op.create_foreign_key(op.f(name), parent, [column], ["id"], ondelete=action)
        batch_op.create_index("ix_raw_posts_run", ["run_id"], unique=False)
