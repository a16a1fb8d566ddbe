"""Open the database: pragmas, migrations with a backup first, and clear errors.

Every way the file can be unusable (newer version, corrupt, locked, read-only,
disk full) becomes a typed :class:`~console.domain.errors.StorageError` whose
message names the file and says what to do. A damaged file is never
overwritten: :func:`set_aside` moves it away and :func:`restore_backup` puts a
backup in its place, both on the user's explicit request.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import threading
import time
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
    BackupError,
    DatabaseCorruptError,
    DatabaseInUseError,
    DatabaseLockedError,
    DatabaseMissingError,
    DatabaseTooNewError,
    DiskFullError,
    FileWriteError,
    ReadOnlyError,
    StorageError,
)
from console.files import fsync_file, fsync_folder, write_file
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
    "0017_sources",
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
        self._marker = damage_marker(self.path)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(write=True), expire_on_commit=False
        )

    @contextlib.contextmanager
    def reader(self) -> Iterator[Session]:
        with translate_errors(self.path), self._read() as session:
            yield session

    def refuse_if_damaged(self) -> None:
        """Raise the damaged-file error once this file is known to be damaged (a check in
        any process left its marker): nothing more is written into it."""
        if self._marker.exists():
            raise corrupt_error(self.path, _marker_text(self.path))

    def check_integrity(self) -> list[str]:
        """SQLite's ``quick_check`` on a connection of its own (readers and writers go on
        meanwhile, WAL). Problems found mark the file damaged: writes are refused from
        then on, here and in every other process. Returns the problems ([] when sound)."""
        problems = quick_check(self.path)
        if problems:
            mark_damaged(self.path, problems)
        return problems

    @contextlib.contextmanager
    def writer(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE), committed when the block ends."""
        self.refuse_if_damaged()
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
        self.refuse_if_damaged()
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


def damage_marker(path: Path) -> Path:
    """The note left beside a database found damaged: every writer refuses while it exists."""
    return path.with_name(f"{path.name}.check-failed")


def mark_damaged(path: Path, problems: list[str]) -> None:
    """Record that ``path`` failed its check, so no process writes into it any more."""
    text = "\n".join(problems[:50]) or "damaged"
    try:
        write_file(damage_marker(path), text + "\n", mode=0o600, what="the damage note")
    except FileWriteError as error:  # a read-only folder: nobody can write there anyway
        log.warning("could not record that %s is damaged: %s", path, error)


def _recovery_hint(good: Path | None, bad: list[tuple[Path, str]]) -> str:
    skipped = "".join(
        f" (the newer backup {p.name} fails its check: {reason}; it is not offered)"
        for p, reason in bad[:3]
    )
    if good is not None:
        return (
            f"The newest good backup is {good}{skipped}: restore it with "
            "'responder-console db restore' (the current file is kept aside, never "
            "overwritten)."
        )
    if bad:
        return (
            f"No backup passes its check{skipped}. Move the file aside with "
            "'responder-console db set-aside' to start with an empty database; keep the "
            "damaged file and the backups for recovery."
        )
    return (
        "There is no backup. Move the file aside with 'responder-console db set-aside' to "
        "start with an empty database; keep the damaged file for recovery."
    )


def corrupt_error(path: Path, detail: str = "") -> DatabaseCorruptError:
    good, bad = newest_good_backup(path.parent)
    what = f" ({detail})" if detail else ""
    return DatabaseCorruptError(
        f"{path} is damaged and cannot be used{what}. {_recovery_hint(good, bad)}",
        path=str(path),
        backups=(str(good),) if good else (),
    )


def missing_error(path: Path, *, empty: bool) -> DatabaseMissingError:
    """A database that is gone (or 0 bytes) beside backups: lost data, not a new workspace."""
    good, bad = newest_good_backup(path.parent)
    state = "is empty (0 bytes)" if empty else "is missing"
    return DatabaseMissingError(
        f"{path} {state}, but its folder holds backups, so this is not a new workspace: the "
        f"database was lost or replaced. {_recovery_hint(good, bad)} To start with an "
        "empty database instead, run 'responder-console db set-aside' (the backups stay).",
        path=str(path),
        backups=(str(good),) if good else (),
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
        if isinstance(translated, DatabaseCorruptError) and path.exists():
            mark_damaged(path, [str(error)])  # known damaged: no process writes into it now
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
    path: Path,
    *,
    clock: Clock = utc_now,
    migrate: Callable[[Engine], None] | None = None,
    new: bool = False,
) -> Database:
    """Open (creating or upgrading) the database at ``path``.

    A file written by a newer version is refused untouched. Before any
    migration the file is backed up. A missing or 0-byte file is a new database
    only when the folder has no backups (or ``new``: the user chose to start
    empty); otherwise it is lost data and refused with the newest good backup
    offered. A file known to be damaged (a failed check left its marker) is
    refused. ``migrate`` is injectable for tests.
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
    if damage_marker(path).exists() and path.exists():
        raise corrupt_error(path, _marker_text(path))
    if not new and list_backups(folder):
        try:
            empty = path.stat().st_size == 0
        except FileNotFoundError:
            raise missing_error(path, empty=False) from None
        if empty:
            raise missing_error(path, empty=True)
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
    """Backups of the database in ``folder``, newest first (checked or not; see
    :func:`newest_good_backup`). Unfinished backups (``.…partial``) never match."""
    directory = backups_dir(folder)
    if not directory.is_dir():
        return []
    return sorted(directory.glob("console-*.db"), reverse=True)


def quick_check(path: Path, *, immutable: bool = False) -> list[str]:
    """SQLite's ``quick_check`` of ``path`` on a read-only connection: [] when sound.

    Raises ``sqlite3.Error`` when the file cannot be read at all (locked, unreadable);
    a file that is not a database comes back as a problem, not an error.
    """
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    try:
        connection = sqlite3.connect(
            f"file:{path}?{query}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            rows = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        if _error_kind(error) == "damaged":
            return [str(error)]
        raise
    return [] if rows == ["ok"] else rows


def check_backup_file(path: Path) -> str | None:
    """Why ``path`` is not a usable backup, or None when it is: a whole SQLite file
    (page count × page size = its size) that passes ``quick_check`` and holds a
    Responder Console schema this build knows."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "it is empty (0 bytes)"
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if not header.startswith(SQLITE_HEADER) or len(header) < 100:
        return "it is not an SQLite database"
    # the header's own page size and page count (valid when the change counter matches)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if header[24:28] == header[92:96]:
        pages = int.from_bytes(header[28:32], "big")
        if pages * page_size != size:
            return f"it is cut short ({size} bytes, its header says {pages * page_size})"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            pages = int(connection.execute("PRAGMA page_count").fetchone()[0])
            rows = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
            has_version = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            revision = (
                connection.execute("SELECT version_num FROM alembic_version").fetchone()
                if has_version
                else None
            )
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"it cannot be read as a database ({error})"
    if pages * page_size != size:
        return f"it is cut short ({size} bytes, its header says {pages * page_size})"
    if rows != ["ok"]:
        return f"quick_check: {'; '.join(rows[:3])}"
    if revision is None or str(revision[0]) not in KNOWN_REVISIONS:
        return "it is not a Responder Console database this version can open"
    return None


def newest_good_backup(folder: Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest backup that passes :func:`check_backup_file`, and the newer ones that
    failed it (with the reason). Older backups are not checked once a good one is found."""
    bad: list[tuple[Path, str]] = []
    for candidate in list_backups(folder):
        problem = check_backup_file(candidate)
        if problem is None:
            return candidate, bad
        bad.append((candidate, problem))
    return None, bad


def _remove_stale_partials(directory: Path) -> None:
    """Unfinished backups of a process killed mid-way (older than an hour)."""
    horizon = time.time() - 3600
    for stale in directory.glob(".console-*.partial"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < horizon:
                stale.unlink()


def backup(path: Path, *, clock: Clock = utc_now, reason: str = "daily") -> Path:
    """Copy the live database consistently (SQLite backup API) into backups/.

    The copy is written under a temporary name, checked (:func:`check_backup_file`:
    page count and ``quick_check``), fsynced and renamed only when whole, so a failure
    (a full disk, a kill) leaves no file that could later be offered for a restore.
    A copy that fails its check because the live file is damaged marks the file damaged
    (writes are refused from then on) and raises the damaged-file error.
    """
    directory = backups_dir(path.parent)
    try:
        ensure_private_dir(directory)
    except OSError as error:
        raise BackupError(
            f"Cannot create the backups folder {directory}: {error.strerror}. Give your user "
            "write access to the data folder; no backup was taken."
        ) from error
    _remove_stale_partials(directory)
    stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = directory / f"console-{stamp}-{reason}.db"
    attempt = 1
    while target.exists():  # two backups in the same microsecond (fixed clocks)
        attempt += 1
        target = directory / f"console-{stamp}-{reason}-{attempt}.db"
    temporary = directory / f".{target.name}.{os.getpid()}.partial"
    try:
        try:
            _create_private_file(temporary)
            with translate_errors(path):
                source = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
                try:
                    destination = sqlite3.connect(temporary)
                    try:
                        source.backup(destination)
                    finally:
                        destination.close()
                finally:
                    source.close()
            problem = check_backup_file(temporary)
            if problem is not None:
                live = quick_check(path)
                if live:
                    mark_damaged(path, live)
                    raise corrupt_error(path, "found while taking a backup")
                raise BackupError(
                    f"The backup of {path} failed its check ({problem}); no backup was "
                    "kept. Try again; if it fails again run 'responder-console db check'."
                )
            fsync_file(temporary)
            os.replace(temporary, target)
            fsync_folder(directory)
        except DiskFullError as error:
            raise BackupError(
                f"Cannot back up {path}: the disk holding {directory} is full. No backup "
                "file was left; the database itself is unchanged. Free some space and take "
                "the backup again ('responder-console db backup')."
            ) from error
        except OSError as error:
            raise BackupError(
                f"Cannot back up {path} into {directory}: {error.strerror or error}. No "
                "backup file was left; the database itself is unchanged."
            ) from error
    finally:
        temporary.unlink(missing_ok=True)
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


# ------------------------------------------------------------------ diagnosis


def _error_kind(error: BaseException) -> str:
    """locked / read-only / disk-full / damaged / io-error / other, from SQLite's error."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return "locked"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return "read-only"
    if "readonly database" in text or "unable to open database" in text:
        return "read-only"
    if name == "SQLITE_FULL" or "disk is full" in text:
        return "disk-full"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return "damaged"
    if "malformed" in text or "not a database" in text:
        return "damaged"
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return "io-error"
    return "other"


def classify_error(error: BaseException) -> str:
    """The kind of a real SQLite error (public for tests and the CLI): never "damaged"
    for a lock or a permission."""
    original = error.orig if isinstance(error, DBAPIError) else error
    return _error_kind(original if original is not None else error)


def in_use(path: Path) -> bool:
    """True when another connection (in any process, this one included) has ``path`` open.

    Probed with SQLite's own locks: a connection of its own in EXCLUSIVE locking mode
    asks for the exclusive lock with no wait. In WAL mode that fails while any other
    connection is attached (even an idle reader) or holds a transaction. A file
    SQLite cannot read at all (not a database) cannot be in use by the console.
    Raises :class:`ReadOnlyError` when the file or folder cannot be written.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise _read_only(path) from error
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        return False  # nothing can be using it, and SQLite must not touch it (nor its WAL)
    try:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    except sqlite3.Error as error:
        if _error_kind(error) == "read-only":
            raise _read_only(path) from error
        raise
    try:
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        kind = _error_kind(error)
        if kind == "locked":
            return True
        if kind == "read-only":
            raise _read_only(path) from error
        if kind == "damaged":
            return False
        raise
    finally:
        connection.close()
    return False


def _read_only(path: Path) -> ReadOnlyError:
    return ReadOnlyError(
        f"{path} cannot be written: the file or its folder {path.parent} is read-only. "
        "Nothing was moved or changed. Give your user write access to the folder (or "
        "remount the disk read-write), then run the command again."
    )


def _in_use_error(path: Path, doing: str) -> DatabaseInUseError:
    return DatabaseInUseError(
        f"{path} is in use by another program (a Responder Console window, a script, or a "
        f"sqlite3 shell), so it was not {doing}; nothing was changed. The file is not "
        "damaged because of this. Close that program, then run the command again."
    )


def _refuse_if_in_use(path: Path, doing: str) -> None:
    if in_use(path):
        raise _in_use_error(path, doing)


@dataclass(frozen=True)
class Diagnosis:
    """What ``db check`` found: ``state`` is ok, missing, empty, new, locked, read-only or
    damaged; ``message`` says what is going on and what to do."""

    path: Path
    state: str
    message: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def diagnose(path: Path) -> Diagnosis:
    """Tell a healthy, locked, read-only, missing and damaged database apart.

    Reads only: the file is opened read-only (``integrity_check``); a lock held by
    another program is reported as such, never as damage. A file found damaged is
    marked (writes refused); a file found sound loses an earlier mark.
    """
    folder = path.parent
    has_backups = bool(list_backups(folder))
    if not path.exists():
        if not has_backups:
            return Diagnosis(
                path,
                "new",
                f"There is no database at {path} yet (and no backups): the first command "
                "creates a new, empty one.",
            )
        return Diagnosis(path, "missing", str(missing_error(path, empty=False)))
    if path.stat().st_size == 0:
        if not has_backups:
            return Diagnosis(
                path,
                "new",
                f"{path} is empty (0 bytes) and there are no backups: the first command "
                "initialises it as a new database.",
            )
        return Diagnosis(path, "empty", str(missing_error(path, empty=True)))
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        return Diagnosis(
            path,
            "read-only",
            f"{path} cannot be read ({error.strerror}). Give your user access to it, or "
            "start with --data-dir pointing at another folder. Nothing was changed.",
        )
    if header != SQLITE_HEADER:
        mark_damaged(path, ["not an SQLite database (bad header)"])
        return Diagnosis(path, "damaged", str(corrupt_error(path, "not an SQLite database")))
    writable = os.access(folder, os.W_OK) and os.access(path, os.W_OK)
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            rows = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
        finally:
            connection.close()
    except sqlite3.Error as error:
        kind = _error_kind(error)
        if kind == "locked":
            return Diagnosis(
                path,
                "locked",
                f"{path} is locked by another program (a Responder Console window, a "
                "script, or a sqlite3 shell holding a transaction), so it could not be "
                "checked. This is NOT damage: do not restore a backup. Close that program "
                "(or wait for it to finish), then run 'responder-console db check' again.",
            )
        if kind == "read-only" or not writable:
            return _read_only_diagnosis(path)
        if kind == "damaged":
            mark_damaged(path, [str(error)])
            return Diagnosis(path, "damaged", str(corrupt_error(path, str(error))), (str(error),))
        return Diagnosis(
            path,
            "io-error",
            f"{path} could not be read: {error}. Check the disk (is it removed or failing?) "
            "and run 'responder-console db check' again; nothing was changed.",
        )
    if rows != ["ok"]:
        mark_damaged(path, rows)
        return Diagnosis(path, "damaged", str(corrupt_error(path)), tuple(rows))
    if not writable:
        return _read_only_diagnosis(path, intact=True)
    damage_marker(path).unlink(missing_ok=True)  # checked sound: writes may go on
    return Diagnosis(path, "ok", f"{path}: ok")


def _read_only_diagnosis(path: Path, *, intact: bool | None = None) -> Diagnosis:
    if intact is None and not Path(f"{path}-wal").exists():
        # SQLite needs to create console.db-shm to read a WAL file; without a WAL to
        # replay the file can be read as it lies (immutable) and still be checked.
        with contextlib.suppress(sqlite3.Error):
            intact = not quick_check(path, immutable=True)
    state = " Its content passed the check." if intact else " Its content could not be checked."
    return Diagnosis(
        path,
        "read-only",
        f"{path} is read-only (the file or its folder {path.parent} cannot be written), so "
        f"the console cannot use it.{state} This is NOT damage: do not restore a backup. "
        "Give your user write access to the folder (or remount the disk read-write), or "
        "copy the folder elsewhere and start with --data-dir pointing at the copy.",
    )


# ------------------------------------------------------------------ recovery


def set_aside(path: Path, *, clock: Clock = utc_now) -> Path:
    """Move a database (and its WAL/SHM) aside; never delete or overwrite it.

    Refused while another program has the file open, and with a clear message on a
    read-only folder. The moves are undone if one of them fails.
    """
    if not os.access(path.parent, os.W_OK):
        raise _read_only(path)
    _refuse_if_in_use(path, "moved aside")
    stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    attempt = 1
    while any(Path(f"{target}{suffix}").exists() for suffix in ("", "-wal", "-shm")):
        attempt += 1  # set aside twice within a second: rename would overwrite the first
        target = path.with_name(f"{path.name}.damaged-{stamp}-{attempt}")
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                source.rename(Path(f"{target}{suffix}"))
                moved.append((source, Path(f"{target}{suffix}")))
        with contextlib.suppress(OSError):
            fsync_folder(path.parent)
    except OSError as error:
        for source, moved_to in reversed(moved):
            with contextlib.suppress(OSError):
                moved_to.rename(source)
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise _read_only(path) from error
        raise StorageError(
            f"Could not move {path} aside: {error.strerror or error}. Nothing was moved."
        ) from error
    damage_marker(path).unlink(missing_ok=True)
    log.warning("moved database %s aside to %s", path, target)
    return target


def start_empty(path: Path, *, clock: Clock = utc_now) -> Path | None:
    """The user's explicit choice to start empty: the current file (if any) is set aside
    and an empty database is created at once. Returns where the old file went."""
    aside = set_aside(path, clock=clock) if _any_files(path) else None
    damage_marker(path).unlink(missing_ok=True)
    open_database(path, clock=clock, new=True).close()
    return aside


def restore_backup(path: Path, backup_file: Path, *, clock: Clock = utc_now) -> Path | None:
    """Put ``backup_file`` in place of ``path``, all or nothing.

    The backup must pass :func:`check_backup_file` (else the newest good one is named).
    It is copied to a temporary file beside ``path``, checked again, fsynced; only then
    is the current file set aside and the copy renamed into place. On any failure the
    current file stays exactly where it was and the temporary copy is removed. Refused
    while another program has the current file open.
    """
    if not backup_file.is_file():
        raise BackupError(f"The backup {backup_file} does not exist.")
    problem = check_backup_file(backup_file)
    if problem is not None:
        good, _bad = newest_good_backup(path.parent)
        offer = (
            f" The newest good backup is {good}: 'responder-console db restore --backup {good}'."
            if good is not None and good != backup_file
            else " No backup in the backups folder passes its check."
        )
        raise BackupError(
            f"The backup {backup_file} cannot be restored: {problem}. Nothing was changed." + offer
        )
    folder = path.parent
    if not os.access(folder, os.W_OK):
        raise _read_only(path)
    _refuse_if_in_use(path, "replaced by the backup")
    temporary = folder / f".{path.name}.{os.getpid()}.restoring"
    try:
        try:
            _create_private_file(temporary)
            with backup_file.open("rb") as source, temporary.open("wb") as copy:
                shutil.copyfileobj(source, copy, 1024 * 1024)
                copy.flush()
                os.fsync(copy.fileno())
        except OSError as error:
            raise _restore_failed(path, backup_file, error) from error
        problem = check_backup_file(temporary)
        if problem is not None:
            raise BackupError(
                f"The copy of {backup_file} beside {path} failed its check ({problem}); "
                f"nothing was changed, {path} is where it was."
            )
        # a WAL left beside a lost file goes too: replayed onto the backup it would damage it
        aside = set_aside(path, clock=clock) if _any_files(path) else None
        try:
            os.replace(temporary, path)
            fsync_folder(folder)
        except OSError as error:
            if aside is not None:  # put the original back where it was
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        Path(f"{aside}{suffix}").rename(Path(f"{path}{suffix}"))
            raise _restore_failed(path, backup_file, error) from error
    finally:
        temporary.unlink(missing_ok=True)
    damage_marker(path).unlink(missing_ok=True)
    log.warning("restored %s from %s (previous file: %s)", path, backup_file, aside)
    return aside


def _any_files(path: Path) -> bool:
    return any(Path(f"{path}{suffix}").exists() for suffix in ("", "-wal", "-shm"))


def _restore_failed(path: Path, backup_file: Path, error: OSError) -> StorageError:
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return DiskFullError(
            f"Cannot restore {backup_file}: the disk holding {path.parent} is full. Nothing "
            f"was changed: {path} is where it was. Free some space (the restore needs "
            f"{backup_file.stat().st_size} bytes), then run 'responder-console db restore' "
            "again."
        )
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return _read_only(path)
    return StorageError(
        f"Cannot restore {backup_file}: {error.strerror or error}. Nothing was changed: "
        f"{path} is where it was."
    )


def _marker_text(path: Path) -> str:
    try:
        first = damage_marker(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return "a check found it damaged"
    return f"a check found: {first[0]}" if first else "a check found it damaged"
