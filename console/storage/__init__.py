"""Storage: typed SQLAlchemy models on one SQLite file, Alembic migrations, backups."""

from console.storage.db import (
    HEAD_REVISION,
    KNOWN_REVISIONS,
    Database,
    backup,
    backup_if_stale,
    list_backups,
    open_database,
    restore_backup,
    set_aside,
    translate_errors,
)

__all__ = [
    "HEAD_REVISION",
    "KNOWN_REVISIONS",
    "Database",
    "backup",
    "backup_if_stale",
    "list_backups",
    "open_database",
    "restore_backup",
    "set_aside",
    "translate_errors",
]
