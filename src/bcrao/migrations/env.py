"""Alembic environment: one migration tree for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from bcrao.models import Base

config = context.config
target_metadata = Base.metadata


# PostgreSQL-only indexes created by hand in the migrations (the GIN word-search index, and
# the trigram ones of revisions before 0003); the models do not declare them, so
# autogenerate must not propose dropping them.
DIALECT_ONLY_INDEXES = {
    "ix_raw_posts_search",
    "ix_raw_posts_comment_search",
    "ix_raw_posts_title_trgm",
    "ix_raw_posts_text_trgm",
}


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object | None
) -> bool:
    return not (type_ == "index" and name in DIALECT_ONLY_INDEXES)


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
        literal_binds=url is not None,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"))
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("the Alembic config has no sqlalchemy.url")
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
