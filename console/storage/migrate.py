"""Run the Alembic migrations programmatically (no alembic.ini on the user's machine)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def script_revisions() -> list[str]:
    """All revisions in the script directory, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def upgrade_to_head(engine: Engine) -> None:
    """Upgrade in one transaction with foreign keys off, as the SQLite docs require for
    table rebuilds (batch mode)."""
    config = alembic_config()
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")  # outside any transaction, or it is ignored
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        finally:
            raw.execute("PRAGMA foreign_keys = ON")
