"""Open the database: pragmas, migrations with a backup first, and clear errors.

Every way the file can be unusable (newer version, corrupt, locked, read-only,
disk full) becomes a typed :class:`~console.domain.errors.StorageError` whose
message names the file and says what to do. A damaged file is never
overwritten: :func:`set_aside` moves it away and :func:`restore_backup` puts a
backup in its place, both on the user's explicit request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from console.domain.clock import Clock, utc_now
from console.domain.errors import (
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseTooNewError,
    DiskFullError,
    ReadOnlyError,
    StorageError,
)
from console.paths import backups_dir, ensure_private_dir

log = logging.getLogger(__name__)

#: Every revision this build knows, oldest first. A test checks it against the
#: Alembic script directory, so the start-up path never has to import Alembic
#: just to learn that nothing needs migrating.
KNOWN_REVISIONS: tuple[str, ...] = (
    "0001_initial",
    "0002_runbooks",
    "0003_runbook_trigram",
    "0004_catalog",
    "0005_oncall",
    "0006_runbook_cjk_lines",
    "0007_sync",
    "0008_postmortem",
    "0009_change_tokens",
    "0010_word_index_without_prefix",
    "0011_packs",
    "0012_audit",
    "0013_opsgenie",
    "0014_fts_hashsize",
    "0015_cjk_bigrams",
    "0016_runbook_format",
    "0018_sources",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
#: The WAL is copied into the database by a background thread (:class:`Checkpointer`)
#: once it holds this much; a committing writer would otherwise do it inline every
#: 1,000 pages, a 1.5-3 ms stall on one write in ~120 (the timeline_write_p99 tail).
CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024
CHECKPOINT_POLL_S = 1.0
#: the writers' own automatic checkpoint stays as a backstop (pages; 64 MB at 4 KB)
BACKSTOP_AUTOCHECKPOINT_PAGES = 16_384
KEEP_BACKUPS = 10
DAILY_BACKUP_AGE = timedelta(hours=24)


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (SQLAlchemy SQLite docs,
    # "Serializable isolation / Savepoints / Transactional DDL").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk (WAL fsynced) before it returns. The timeline
        # promise "shown as saved only once durable" rests on this line.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_AUTOCHECKPOINT_PAGES}")
    finally:
        cursor.close()


def _on_begin(conn: Any) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def _create_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


class Checkpointer:
    """Copies the WAL into the database file off the writers' path.

    Polls the WAL's size and, past :data:`CHECKPOINT_WAL_BYTES`, runs a PASSIVE
    checkpoint on a connection of its own: it never blocks a writer (writers keep
    appending to the WAL meanwhile) and its fsync of the database file happens
    here, not inside somebody's ``add_note``. Errors are logged and retried on
    the next poll; the writers' automatic checkpoint stays as a backstop.
    """

    def __init__(self, path: Path, *, threshold: int = CHECKPOINT_WAL_BYTES) -> None:
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._threshold = threshold
        self._stop = threading.Event()
        self.checkpoints = 0
        self._thread = threading.Thread(
            target=self._run, name=f"checkpoint {path.name}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_POLL_S):
            self.checkpoint_if_due()

    def checkpoint_if_due(self) -> bool:
        """One PASSIVE checkpoint when the WAL is past the threshold. True when run."""
        try:
            if self._wal.stat().st_size < self._threshold:
                return False
        except FileNotFoundError:
            return False
        try:
            connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            log.warning("background checkpoint of %s failed (retried): %s", self._path, error)
            return False
        self.checkpoints += 1
        return True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Database:
    """An open database file with a reader and a writer session factory."""

    path: Path
    engine: Engine
    checkpointer: Checkpointer | None = None

    def __post_init__(self) -> None:
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(write=True), expire_on_commit=False
        )

    @contextlib.contextmanager
    def reader(self) -> Iterator[Session]:
        with translate_errors(self.path), self._read() as session:
            yield session

    @contextlib.contextmanager
    def writer(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE), committed when the block ends."""
        with translate_errors(self.path), self._write() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def raw_reader(self) -> Iterator[sqlite3.Connection]:
        """A read transaction (one consistent snapshot) on a pooled DBAPI connection,
        for the plain-SQL read path (console.snapshot)."""
        with translate_errors(self.path):
            pooled = self.engine.raw_connection()
            try:
                raw = pooled.driver_connection
                assert isinstance(raw, sqlite3.Connection)
                raw.execute("BEGIN")
                try:
                    yield raw
                finally:
                    if raw.in_transaction:
                        raw.execute("COMMIT")
            finally:
                pooled.close()

    @contextlib.contextmanager
    def raw_writer(
        self, connection: sqlite3.Connection | None = None
    ) -> Iterator[sqlite3.Connection]:
        """A write transaction on the pooled DBAPI connection (or on ``connection``,
        one of :meth:`own_connection`), for hot paths that run fixed SQL. Same
        pragmas, same BEGIN IMMEDIATE, same error mapping."""
        with translate_errors(self.path):
            if connection is not None:
                with _write_transaction(connection):
                    yield connection
                return
            pooled = self.engine.raw_connection()
            try:
                raw = pooled.driver_connection
                assert isinstance(raw, sqlite3.Connection)
                with _write_transaction(raw):
                    yield raw
            finally:
                pooled.close()

    @contextlib.contextmanager
    def own_connection(self) -> Iterator[sqlite3.Connection]:
        """A DBAPI connection outside the pool (same pragmas), closed when the block
        ends: for bulk work whose prepared statements (sqlite3 keeps 128 per
        connection, with their last bound values) must not stay behind in a pooled
        connection for the life of the window."""
        with translate_errors(self.path):
            pooled = self.engine.raw_connection()
            raw = pooled.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            pooled.detach()  # never returned to the pool: closed below, for real
            try:
                yield raw
            finally:
                raw.close()

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self.engine.dispose()


def translate_errors_from(path: Path, error: BaseException) -> StorageError | None:
    """Map a sqlite3/SQLAlchemy error to the user-facing error, or None for a bug."""
    original = error.orig if isinstance(error, DBAPIError) else error
    if not isinstance(original, sqlite3.Error):
        return None
    name = getattr(original, "sqlite_errorname", "") or ""
    text = str(original).lower()
    if name == "SQLITE_FULL" or "disk is full" in text or "database or disk is full" in text:
        return DiskFullError(
            f"The disk holding {path} is full, so the change was NOT saved. "
            "Free some space on that disk, then try again."
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return DatabaseLockedError(
            f"{path} is locked by another program (another Responder Console window or a "
            "script?). Close it or wait for it to finish, then try again."
        )
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return ReadOnlyError(
            f"{path} cannot be written (read-only file or folder). Give your user write "
            "access to it, or start with --data-dir pointing at a writable folder."
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open database" in text:
        return ReadOnlyError(
            f"{path} cannot be opened. Check that the folder exists and is writable, or start "
            "with --data-dir pointing at a writable folder."
        )
    if (
        name in ("SQLITE_CORRUPT", "SQLITE_NOTADB")
        or "malformed" in text
        or "not a database" in text
    ):
        return corrupt_error(path)
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return StorageError(
            f"The disk reported an input/output error on {path}; the change was NOT saved. "
            "Check the disk (is it full, removed, or failing?) and try again."
        )
    return None


def corrupt_error(path: Path) -> DatabaseCorruptError:
    backups = tuple(str(p) for p in list_backups(path.parent))
    hint = (
        f"The newest backup is {backups[0]}: restore it with "
        f"'responder-console db restore' (the damaged file is kept aside, never overwritten)."
        if backups
        else "There is no backup. Move the file aside with 'responder-console db set-aside' to "
        "start with an empty database; keep the damaged file for recovery."
    )
    return DatabaseCorruptError(
        f"{path} is damaged and cannot be read. {hint}", path=str(path), backups=backups
    )


@contextlib.contextmanager
def _write_transaction(raw: sqlite3.Connection) -> Iterator[None]:
    raw.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        # SQLite may already have rolled back (SQLITE_FULL, IOERR, ...);
        # a ROLLBACK then fails and would hide the real error.
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")


@contextlib.contextmanager
def translate_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except (sqlite3.Error, DBAPIError) as error:
        translated = translate_errors_from(path, error)
        if translated is None:
            raise
        raise translated from error


def _check_header(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise corrupt_error(path)


def _current_revision(path: Path) -> str | None:
    connection = sqlite3.connect(path)
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        has_table = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_table:
            tables = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
            if tables:
                raise StorageError(
                    f"{path} is an SQLite file but not a Responder Console database. Start "
                    "with --data-dir pointing at another folder."
                )
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])
    finally:
        connection.close()


def _create_private_file(path: Path) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    os.close(fd)


def open_database(
    path: Path, *, clock: Clock = utc_now, migrate: Callable[[Engine], None] | None = None
) -> Database:
    """Open (creating or upgrading) the database at ``path``.

    A file written by a newer version is refused untouched. Before any
    migration the file is backed up. ``migrate`` is injectable for tests.
    """
    folder = path.parent
    try:
        ensure_private_dir(folder)
    except OSError as error:
        raise ReadOnlyError(
            f"Cannot create the data folder {folder}: {error.strerror}. Start with --data-dir "
            "pointing at a writable folder."
        ) from error
    if not os.access(folder, os.W_OK):
        raise ReadOnlyError(
            f"The data folder {folder} is read-only. Give your user write access to it, or "
            "start with --data-dir pointing at a writable folder."
        )
    with translate_errors(path):
        if path.exists():
            _check_header(path)
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
            revision = _current_revision(path)
        else:
            _create_private_file(path)
            revision = None
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise DatabaseTooNewError(
            f"{path} was written by a newer Responder Console (schema {revision}); this "
            f"version knows up to {HEAD_REVISION}. Install the newer version; the file was "
            "not changed."
        )
    engine = _create_engine(path)
    if revision != HEAD_REVISION:
        if revision is not None:
            backup(path, clock=clock, reason=f"before-{HEAD_REVISION}")
        with translate_errors(path):
            (migrate or _alembic_upgrade)(engine)
            _post_migration_checks(engine, path)
    return Database(path=path, engine=engine, checkpointer=Checkpointer(path))


def _alembic_upgrade(engine: Engine) -> None:
    from console.storage.migrate import upgrade_to_head  # alembic loads only when needed

    upgrade_to_head(engine)


def _post_migration_checks(engine: Engine, path: Path) -> None:
    with engine.connect() as conn:
        problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        quick = conn.exec_driver_sql("PRAGMA quick_check").scalar()
    if problems or quick != "ok":
        raise StorageError(
            f"After upgrading {path} the database check failed ({quick}; "
            f"{len(problems)} broken references). The backup taken before the upgrade is in "
            f"{backups_dir(path.parent)}."
        )


# ------------------------------------------------------------------ backups


def list_backups(folder: Path) -> list[Path]:
    """Backups of the database in ``folder``, newest first."""
    directory = backups_dir(folder)
    if not directory.is_dir():
        return []
    return sorted(directory.glob("console-*.db"), reverse=True)


def backup(path: Path, *, clock: Clock = utc_now, reason: str = "daily") -> Path:
    """Copy the live database consistently (SQLite backup API) into backups/."""
    directory = backups_dir(path.parent)
    ensure_private_dir(directory)
    stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = directory / f"console-{stamp}-{reason}.db"
    for attempt in range(2, 100):  # two backups in the same microsecond (fixed clocks)
        try:
            _create_private_file(target)
            break
        except FileExistsError:
            target = directory / f"console-{stamp}-{reason}-{attempt}.db"
    with translate_errors(path):
        source = sqlite3.connect(path)
        try:
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            source.close()
    for old in list_backups(path.parent)[KEEP_BACKUPS:]:
        old.unlink(missing_ok=True)
    log.info("backed up %s to %s", path, target)
    return target


def backup_if_stale(path: Path, *, clock: Clock = utc_now) -> Path | None:
    """The daily backup: taken when the newest one is older than a day."""
    newest = list_backups(path.parent)
    if newest:
        age = clock().timestamp() - newest[0].stat().st_mtime
        if age < DAILY_BACKUP_AGE.total_seconds():
            return None
    return backup(path, clock=clock)


def set_aside(path: Path, *, clock: Clock = utc_now) -> Path:
    """Move a damaged database (and its WAL/SHM) aside; never delete or overwrite it."""
    stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    attempt = 1
    while any(Path(f"{target}{suffix}").exists() for suffix in ("", "-wal", "-shm")):
        attempt += 1  # set aside twice within a second: rename would overwrite the first
        target = path.with_name(f"{path.name}.damaged-{stamp}-{attempt}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{target}{suffix}"))
    log.warning("moved damaged database %s aside to %s", path, target)
    return target


def restore_backup(path: Path, backup_file: Path, *, clock: Clock = utc_now) -> Path | None:
    """Put ``backup_file`` in place of ``path``; the current file is set aside first."""
    if not backup_file.is_file():
        raise StorageError(f"The backup {backup_file} does not exist.")
    aside = set_aside(path, clock=clock) if path.exists() else None
    shutil.copyfile(backup_file, path)
    path.chmod(0o600)
    return aside
