"""word search: search_terms column and its index, replacing the trigram indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:00:00

``q`` becomes a word-prefix search over words tokenized in Python (bcrao.posts.search), so
both databases return the same posts. PostgreSQL stores the words as a ``tsvector`` in one
GIN index led by ``campaign_id`` (``btree_gin``), which is exact (no text recheck) and
cheaper to maintain than the two trigram indexes it replaces. Existing posts are
tokenized here, in batches.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from bcrao.posts.search import search_terms

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 1_000


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _backfill() -> None:
    bind = op.get_bind()
    posts = sa.table(
        "raw_posts",
        sa.column("id", sa.Uuid()),
        sa.column("title", sa.Text()),
        sa.column("raw_text", sa.Text()),
        sa.column("search_terms", sa.Text()),
    )
    update = (
        sa.update(posts)
        .where(posts.c.id == sa.bindparam("post_id"))
        .values(
            search_terms=sa.cast(sa.bindparam("terms"), postgresql.TSVECTOR)
            if _is_postgresql()
            else sa.bindparam("terms")
        )
    )
    last = None
    while True:
        query = (
            sa.select(posts.c.id, posts.c.title, posts.c.raw_text).order_by(posts.c.id).limit(BACKFILL_BATCH)
        )
        if last is not None:
            query = query.where(posts.c.id > last)
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(update, [{"post_id": r.id, "terms": search_terms(r.title, r.raw_text)} for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    column_type = postgresql.TSVECTOR() if _is_postgresql() else sa.Text()
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_terms", column_type, server_default=sa.text("''"), nullable=False)
        )
    _backfill()
    if _is_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        op.execute("CREATE INDEX ix_raw_posts_search ON raw_posts USING gin (campaign_id, search_terms)")
        op.execute("DROP INDEX IF EXISTS ix_raw_posts_title_trgm")
        op.execute("DROP INDEX IF EXISTS ix_raw_posts_text_trgm")


def downgrade() -> None:
    if _is_postgresql():
        op.execute("DROP INDEX IF EXISTS ix_raw_posts_search")
        op.execute("CREATE INDEX ix_raw_posts_title_trgm ON raw_posts USING gin (title gin_trgm_ops)")
        op.execute("CREATE INDEX ix_raw_posts_text_trgm ON raw_posts USING gin (raw_text gin_trgm_ops)")
    with op.batch_alter_table("raw_posts", schema=None) as batch_op:
        batch_op.drop_column("search_terms")
