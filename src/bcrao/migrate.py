"""Apply Alembic migrations programmatically (CLI, app start-up and tests share this)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("bcrao") / "migrations"))
    # ConfigParser interpolates '%': escape it so passwords with % survive.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Run in a thread or outside an event loop: the env script owns its own loop."""
    command.upgrade(alembic_config(url), revision)
