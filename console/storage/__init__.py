"""Storage: typed SQLAlchemy models on one SQLite file, Alembic migrations, backups."""

from console.storage.db import (
    HEAD_REVISION,
    KNOWN_REVISIONS,
    Database,
    Diagnosis,
    backup,
    backup_if_stale,
    check_backup_file,
    diagnose,
    in_use,
    list_backups,
    newest_good_backup,
    open_database,
    restore_backup,
    set_aside,
    start_empty,
    translate_errors,
)

__all__ = [
    "HEAD_REVISION",
    "KNOWN_REVISIONS",
    "Database",
    "Diagnosis",
    "backup",
    "backup_if_stale",
    "check_backup_file",
    "diagnose",
    "in_use",
    "list_backups",
    "newest_good_backup",
    "open_database",
    "restore_backup",
    "set_aside",
    "start_empty",
    "translate_errors",
]
