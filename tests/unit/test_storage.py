"""Opening the database: pragmas, migrations, backups, and every way a file can be unusable."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

import console.storage.db as dbmod
from console.domain.errors import (
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseTooNewError,
    DiskFullError,
    ReadOnlyError,
    StorageError,
)
from console.domain.incident import EntryKind, Severity
from console.domain.runbook import cjk_bigrams
from console.ops.incidents import MAX_TEXT, IncidentService
from console.ops.queries import Queries
from console.paths import backups_dir
from console.storage.db import (
    HEAD_REVISION,
    KEEP_BACKUPS,
    KNOWN_REVISIONS,
    Database,
    backup,
    backup_if_stale,
    list_backups,
    open_database,
    restore_backup,
    set_aside,
    translate_errors,
    translate_errors_from,
)
from console.storage.migrate import script_revisions
from console.storage.models import Base, include_name
from tests.unit.conftest import copy_template
from tests.unit.support import FakeClock, raw_rows, raw_scalar

SEED = 20260301


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def opened(db_path: Path, clock: FakeClock) -> Iterator[tuple[Database, IncidentService, int]]:
    database = open_database(db_path, clock=clock)
    service = IncidentService(database, actor="alice", clock=clock)
    outcome = service.declare("Storage test", Severity.SEV2)
    assert outcome.incident is not None
    yield database, service, outcome.incident.id
    database.close()


# --------------------------------------------------------- creating, pragmas


def test_new_database_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "fresh" / "data"
    database = open_database(folder / "console.db")
    try:
        assert mode(folder) == 0o700
        assert mode(folder / "console.db") == 0o600
        with database.reader() as session:
            revision = (
                session.connection()
                .exec_driver_sql("SELECT version_num FROM alembic_version")
                .scalar()
            )
        assert revision == HEAD_REVISION
    finally:
        database.close()
    assert list_backups(folder) == []  # a new file needs no backup


def test_loose_permissions_are_tightened(data_dir: Path, migrated_template: Path) -> None:
    path = copy_template(migrated_template, data_dir)
    data_dir.chmod(0o755)
    path.chmod(0o644)
    open_database(path).close()
    assert mode(data_dir) == 0o700
    assert mode(path) == 0o600


def test_pragmas_on_every_connection(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == dbmod.BUSY_TIMEOUT_MS
    # a second, concurrently checked-out connection gets the same settings
    with db.engine.connect() as first, db.engine.connect() as second:
        for conn in (first, second):
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_writer_takes_the_write_lock_at_begin(db: Database, db_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer waits at BEGIN, not at its first write."""
    with db.writer() as session:
        session.connection().exec_driver_sql("SELECT 1")
        other = sqlite3.connect(db_path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"), db.writer() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO role_assignments (uuid, incident_id, role, person, assigned_at, "
            "assigned_by) VALUES ('00', 999, 'scribe', 'x', 'now', 'y')"
        )


# ----------------------------------------------------------------- migrations


def test_known_revisions_match_the_script_directory() -> None:
    assert tuple(script_revisions()) == KNOWN_REVISIONS
    assert KNOWN_REVISIONS[-1] == HEAD_REVISION


def test_migrated_schema_equals_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        # The FTS5 tables are raw SQL (migration 0002); metadata cannot describe
        # virtual tables, so the same hook as migrations/env.py leaves them out.
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []


def test_newer_database_is_refused_untouched(db_path: Path) -> None:
    connection = sqlite3.connect(db_path)
    connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.commit()
    connection.close()
    before = digest(db_path)
    with pytest.raises(DatabaseTooNewError) as caught:
        open_database(db_path)
    message = str(caught.value)
    assert str(db_path) in message
    assert "9999_from_the_future" in message
    assert HEAD_REVISION in message
    assert "not changed" in message
    assert digest(db_path) == before
    assert list_backups(db_path.parent) == []


def test_foreign_sqlite_file_is_refused(data_dir: Path) -> None:
    path = data_dir / "console.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO photos (name) VALUES ('cat.jpg')")
    connection.commit()
    connection.close()
    before = digest(path)
    with pytest.raises(StorageError, match="not a Responder Console database") as caught:
        open_database(path)
    assert str(path) in str(caught.value)
    assert "--data-dir" in str(caught.value)
    assert digest(path) == before


def test_empty_existing_file_is_initialised(data_dir: Path) -> None:
    path = data_dir / "console.db"
    path.touch(mode=0o600)
    open_database(path).close()
    assert raw_scalar(path, "SELECT version_num FROM alembic_version") == HEAD_REVISION
    assert list_backups(data_dir) == []


@pytest.fixture
def pretend_newer_build(monkeypatch: pytest.MonkeyPatch) -> str:
    """This build knows one more revision than the file on disk has."""
    newer = "0002_pretend"
    monkeypatch.setattr(dbmod, "KNOWN_REVISIONS", (*KNOWN_REVISIONS, newer))
    monkeypatch.setattr(dbmod, "HEAD_REVISION", newer)
    return newer


def test_upgrade_takes_a_backup_first(
    db_path: Path, clock: FakeClock, pretend_newer_build: str
) -> None:
    seen: list[Path] = []

    def migrate(engine: Engine) -> None:
        found = list_backups(db_path.parent)
        assert len(found) == 1, "the backup exists before the migration runs"
        seen.extend(found)
        # the backup is the old revision, complete
        assert raw_scalar(found[0], "SELECT version_num FROM alembic_version") == HEAD_REVISION
        with engine.begin() as conn:
            conn.exec_driver_sql(
                f"UPDATE alembic_version SET version_num = '{pretend_newer_build}'"
            )

    open_database(db_path, clock=clock, migrate=migrate).close()
    assert len(seen) == 1
    assert seen[0].name == f"console-20260301T090000000000Z-before-{pretend_newer_build}.db"
    assert mode(seen[0]) == 0o600
    assert mode(backups_dir(db_path.parent)) == 0o700
    assert raw_scalar(db_path, "SELECT version_num FROM alembic_version") == pretend_newer_build


def test_failed_post_migration_check_names_the_backup(
    db_path: Path, clock: FakeClock, pretend_newer_build: str
) -> None:
    def broken_migration(engine: Engine) -> None:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.execute("BEGIN")
            raw.execute(
                "INSERT INTO role_assignments (uuid, incident_id, role, person, assigned_at, "
                "assigned_by) VALUES ('00', 424242, 'scribe', 'x', 'now', 'y')"
            )
            raw.execute("COMMIT")
            raw.execute("PRAGMA foreign_keys = ON")

    with pytest.raises(StorageError, match="database check failed") as caught:
        open_database(db_path, clock=clock, migrate=broken_migration)
    assert "1 broken references" in str(caught.value)
    assert str(backups_dir(db_path.parent)) in str(caught.value)
    assert len(list_backups(db_path.parent)) == 1


def test_migration_error_propagates_and_the_backup_remains(
    db_path: Path, clock: FakeClock, pretend_newer_build: str
) -> None:
    def failing(engine: Engine) -> None:
        raise RuntimeError("migration bug")

    before = digest(db_path)
    with pytest.raises(RuntimeError, match="migration bug"):
        open_database(db_path, clock=clock, migrate=failing)
    [taken] = list_backups(db_path.parent)
    assert raw_scalar(taken, "SELECT version_num FROM alembic_version") == HEAD_REVISION
    assert digest(db_path) == before


# ------------------------------------------------------------------ corruption


def _good_file_with_backup(db_path: Path, clock: FakeClock) -> Path:
    database = open_database(db_path, clock=clock)
    IncidentService(database, actor="a", clock=clock).declare("before damage", Severity.SEV3)
    database.close()
    return backup(db_path, clock=clock)


def _open_and_read(path: Path, clock: FakeClock) -> None:
    database = open_database(path, clock=clock)
    try:  # damage deeper in the file shows on the first read instead
        Queries(database).incidents()
    finally:
        database.close()


def test_random_bytes_are_refused_as_corrupt(data_dir: Path) -> None:
    path = data_dir / "console.db"
    path.write_bytes(random.Random(SEED).randbytes(8192))
    before = digest(path)
    with pytest.raises(DatabaseCorruptError) as caught:
        open_database(path)
    error = caught.value
    assert error.path == str(path)
    assert str(path) in str(error)
    assert error.backups == ()
    assert "There is no backup" in str(error)
    assert "db set-aside" in str(error)
    assert digest(path) == before


@pytest.mark.parametrize("offset", [100, 1024, 4096])
def test_valid_header_with_garbage_pages_is_refused(
    db_path: Path, clock: FakeClock, offset: int
) -> None:
    taken = _good_file_with_backup(db_path, clock)
    data = bytearray(db_path.read_bytes())
    assert data[:16] == b"SQLite format 3\x00"
    data[offset : offset + 4096] = random.Random(SEED + offset).randbytes(4096)
    db_path.write_bytes(bytes(data))
    before = digest(db_path)
    with pytest.raises(DatabaseCorruptError) as caught:
        _open_and_read(db_path, clock)
    error = caught.value
    assert error.path == str(db_path)
    assert error.backups == (str(taken),)
    assert f"The newest good backup is {taken}" in str(error)
    assert "responder-console db restore" in str(error)
    assert digest(db_path) == before


def test_set_aside_keeps_the_damaged_file_and_its_wal(data_dir: Path, clock: FakeClock) -> None:
    path = data_dir / "console.db"
    path.write_bytes(b"damaged main")
    Path(f"{path}-wal").write_bytes(b"damaged wal")
    Path(f"{path}-shm").write_bytes(b"shm")
    aside = set_aside(path, clock=clock)
    assert aside == data_dir / "console.db.damaged-20260301T090000Z"
    assert not path.exists()
    assert not Path(f"{path}-wal").exists()
    assert aside.read_bytes() == b"damaged main"
    assert Path(f"{aside}-wal").read_bytes() == b"damaged wal"
    assert Path(f"{aside}-shm").read_bytes() == b"shm"


def test_set_aside_twice_in_one_second_overwrites_nothing(data_dir: Path) -> None:
    path = data_dir / "console.db"
    fixed = FakeClock()
    path.write_bytes(b"first damaged file")
    first = set_aside(path, clock=fixed)
    path.write_bytes(b"second damaged file")
    second = set_aside(path, clock=fixed)
    assert first != second
    assert first.read_bytes() == b"first damaged file"
    assert second.read_bytes() == b"second damaged file"


def test_restore_backup_keeps_the_damaged_file(db_path: Path, clock: FakeClock) -> None:
    taken = _good_file_with_backup(db_path, clock)
    db_path.write_bytes(b"garbage" * 1000)
    damaged = digest(db_path)
    clock.advance(minutes=1)
    aside = restore_backup(db_path, taken, clock=clock)
    assert aside is not None
    assert digest(aside) == damaged
    assert mode(db_path) == 0o600
    assert digest(db_path) == digest(taken)
    database = open_database(db_path, clock=clock)
    try:
        assert [i.title for i in Queries(database).incidents()] == ["before damage"]
    finally:
        database.close()
    # restoring onto a missing file sets nothing aside
    db_path.unlink()
    assert restore_backup(db_path, taken, clock=clock) is None
    assert db_path.exists()


def test_restore_refuses_a_missing_backup(db_path: Path) -> None:
    before = digest(db_path)
    with pytest.raises(StorageError, match="does not exist"):
        restore_backup(db_path, db_path.parent / "backups" / "nope.db")
    assert digest(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["console.db"]


# -------------------------------------------------------- read-only, no folder


def test_data_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ReadOnlyError, match="Cannot create the data folder") as caught:
        open_database(blocker / "data" / "console.db")
    assert str(blocker / "data") in str(caught.value)


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="running as root: chmod 0500 does not stop root from writing, so a read-only "
    "folder cannot be made; the mapping is covered by the mode=ro and os.access tests",
)
def test_read_only_folder_is_refused(data_dir: Path, migrated_template: Path) -> None:
    path = copy_template(migrated_template, data_dir)
    data_dir.chmod(0o500)
    try:
        with pytest.raises(ReadOnlyError) as caught:
            open_database(path)
        assert str(data_dir) in str(caught.value)
    finally:
        data_dir.chmod(0o700)


def test_read_only_folder_check(
    data_dir: Path, migrated_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The os.access branch, simulated (root can write anywhere)."""
    path = copy_template(migrated_template, data_dir)
    real_access = os.access

    def access(target: Any, wanted: int, **kwargs: Any) -> bool:
        if Path(target) == data_dir and wanted == os.W_OK:
            return False
        return real_access(target, wanted, **kwargs)

    monkeypatch.setattr(os, "access", access)
    before = digest(path)
    with pytest.raises(ReadOnlyError, match="is read-only") as caught:
        open_database(path)
    assert str(data_dir) in str(caught.value)
    assert digest(path) == before


def test_read_only_connection_error_is_translated(db_path: Path) -> None:
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        with pytest.raises(ReadOnlyError) as caught, translate_errors(db_path):
            connection.execute("INSERT INTO cache_sets VALUES ('x', 'y', 'z')")
    finally:
        connection.close()
    assert str(db_path) in str(caught.value)
    assert "--data-dir" in str(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)


# ---------------------------------------------------------------- locked


def test_locked_database(db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 200)
    database = open_database(db_path, clock=clock)
    try:
        service = IncidentService(database, actor="alice", clock=clock)
        queries = Queries(database)
        declared = service.declare("locked", Severity.SEV3).incident
        assert declared is not None
        holder = sqlite3.connect(db_path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(DatabaseLockedError) as caught:
                service.add_note(declared.id, "while locked")
            assert str(db_path) in str(caught.value)
            assert "another program" in str(caught.value)
            with pytest.raises(DatabaseLockedError):
                service.change_severity(declared.id, Severity.SEV1)
            assert queries.timeline_count(declared.id) == 1  # WAL readers still read
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # released: the same service writes again, numbering continues without a gap
        entry = service.add_note(declared.id, "after the lock").entry
        assert entry is not None
        assert entry.seq == 2
        assert [e.text for e in queries.timeline(declared.id)][-1] == "after the lock"
    finally:
        database.close()


# --------------------------------------------------------------- disk full


def _write_until_full(service: IncidentService, incident_id: int, saved: list[str]) -> None:
    for number in range(100):
        text = f"{number} {'x' * MAX_TEXT}"[:MAX_TEXT]
        service.add_note(incident_id, text)
        saved.append(text)


def test_disk_full_is_reported_and_nothing_is_lost(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = dbmod._on_connect

    def tiny_disk(connection: sqlite3.Connection, record: Any) -> None:
        original(connection, record)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages + 40}")

    monkeypatch.setattr(dbmod, "_on_connect", tiny_disk)
    database = open_database(db_path, clock=clock)
    try:
        service = IncidentService(database, actor="alice", clock=clock)
        queries = Queries(database)
        declared = service.declare("disk full", Severity.SEV3).incident
        assert declared is not None
        saved: list[str] = []
        big = "x" * MAX_TEXT
        with pytest.raises(DiskFullError) as caught:
            _write_until_full(service, declared.id, saved)
        assert saved, "some notes fit before the disk filled up"
        message = str(caught.value)
        assert "NOT saved" in message
        assert str(db_path) in message
        # the failed write left nothing behind, and the session can still read
        texts = [e.text for e in queries.timeline(declared.id)]
        assert texts[1:] == saved
        assert queries.timeline_count(declared.id) == len(saved) + 1
        # the ORM path reports the same way
        with pytest.raises(DiskFullError):
            service.log(declared.id, EntryKind.COMMUNICATION, big, sync_as_note=True)
        assert queries.timeline_count(declared.id) == len(saved) + 1
        # a small change still fits: the database is usable, not wedged
        service.change_severity(declared.id, Severity.SEV1)
        saved.append("severity")
    finally:
        database.close()
    assert raw_scalar(db_path, "PRAGMA integrity_check") == "ok"
    assert raw_scalar(db_path, "SELECT count(*) FROM outbox") == len(saved) + 1
    assert raw_scalar(db_path, "SELECT last_seq FROM incidents") == len(saved) + 1


# ---------------------------------------------------------- error mapping


def _real_error(sql: str, path: Path, **connect: Any) -> sqlite3.Error:
    connection = sqlite3.connect(path, **connect)
    try:
        connection.execute(sql)
    except sqlite3.Error as error:
        return error
    finally:
        connection.close()
    raise AssertionError(f"{sql} did not fail")


def test_translate_errors_mapping(tmp_path: Path, db_path: Path) -> None:
    notadb = tmp_path / "notadb"
    notadb.write_bytes(b"x" * 4096)
    cases: list[tuple[BaseException, type[StorageError]]] = [
        (_real_error("SELECT * FROM sqlite_master", notadb), DatabaseCorruptError),
        (sqlite3.OperationalError("database or disk is full"), DiskFullError),
        (sqlite3.OperationalError("database is locked"), DatabaseLockedError),
        (sqlite3.OperationalError("attempt to write a readonly database"), ReadOnlyError),
        (sqlite3.OperationalError("unable to open database file"), ReadOnlyError),
        (sqlite3.DatabaseError("database disk image is malformed"), DatabaseCorruptError),
        (sqlite3.OperationalError("disk I/O error"), StorageError),
    ]
    for error, expected in cases:
        translated = translate_errors_from(db_path, error)
        assert type(translated) is expected, (error, translated)
        assert str(db_path) in str(translated)
    with pytest.raises(ReadOnlyError, match="cannot be opened"), translate_errors(db_path):
        sqlite3.connect(tmp_path / "missing" / "x.db")


def test_translate_errors_leaves_bugs_alone(db_path: Path) -> None:
    bug = _real_error("SELECT * FROM no_such_table", db_path)
    assert translate_errors_from(db_path, bug) is None
    assert translate_errors_from(db_path, ValueError("not sqlite")) is None
    with pytest.raises(sqlite3.OperationalError, match="no such table"), translate_errors(db_path):
        raise bug
    with pytest.raises(KeyError), translate_errors(db_path):
        raise KeyError("untouched")


# ----------------------------------------------------------------- backups


def test_backup_copies_committed_data_still_in_the_wal(
    opened: tuple[Database, IncidentService, int], db_path: Path, clock: FakeClock
) -> None:
    _database, service, incident_id = opened
    service.add_note(incident_id, "only in the WAL so far")
    assert Path(f"{db_path}-wal").stat().st_size > 0
    # a plain copy of the main file would miss the note; the backup API does not
    taken = backup(db_path, clock=clock, reason="manual")
    assert taken.name == "console-20260301T090000000000Z-manual.db"
    assert mode(taken) == 0o600
    assert not Path(f"{taken}-wal").exists()
    assert raw_rows(taken, "SELECT text FROM timeline_entries ORDER BY seq")[-1] == (
        "only in the WAL so far",
    )
    assert raw_scalar(taken, "PRAGMA integrity_check") == "ok"


def test_backup_keeps_at_most_the_newest(db_path: Path, clock: FakeClock) -> None:
    taken = []
    for _ in range(KEEP_BACKUPS + 3):
        taken.append(backup(db_path, clock=clock))
        clock.advance(minutes=7)
    kept = list_backups(db_path.parent)
    assert len(kept) == KEEP_BACKUPS
    assert kept == sorted(taken, reverse=True)[:KEEP_BACKUPS]
    assert all(not p.exists() for p in taken[:3])


def test_backup_if_stale_respects_age(db_path: Path) -> None:
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    clock = FakeClock(now)
    first = backup_if_stale(db_path, clock=clock)
    assert first is not None
    stamp = now.timestamp()
    os.utime(first, (stamp, stamp))
    clock.now = now + timedelta(hours=23, minutes=59)
    assert backup_if_stale(db_path, clock=clock) is None
    clock.now = now + timedelta(hours=24, minutes=1)
    second = backup_if_stale(db_path, clock=clock)
    assert second is not None
    assert second != first
    assert list_backups(db_path.parent) == [second, first]


def test_list_backups_without_folder(tmp_path: Path) -> None:
    assert list_backups(tmp_path) == []
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "unrelated.txt").write_text("x")
    assert list_backups(tmp_path) == []


def test_open_after_writes_without_clean_close_recovers(db_path: Path, clock: FakeClock) -> None:
    """A second open while the first still holds the WAL sees every committed entry."""
    first = open_database(db_path, clock=clock)
    service = IncidentService(first, actor="a", clock=clock)
    incident = service.declare("wal", Severity.SEV4).incident
    assert incident is not None
    for n in range(5):
        service.add_note(incident.id, f"n{n}")
    second = open_database(db_path, clock=clock)
    try:
        assert Queries(second).timeline_count(incident.id) == 6
    finally:
        second.close()
        first.close()


def _open_at_revision(
    path: Path, clock: FakeClock, patched: pytest.MonkeyPatch, revision: str
) -> Database:
    """A database as an older release left it: migrated only up to ``revision``."""
    from alembic import command

    from console.storage.migrate import alembic_config

    def upgrade(engine: Engine) -> None:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    known = dbmod.KNOWN_REVISIONS
    patched.setattr(dbmod, "KNOWN_REVISIONS", known[: known.index(revision) + 1])
    patched.setattr(dbmod, "HEAD_REVISION", revision)
    return open_database(path, clock=clock, migrate=upgrade)


def test_a_0001_database_is_upgraded_with_its_incidents(
    data_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:

    path = data_dir / "console.db"
    with monkeypatch.context() as patched:
        old = _open_at_revision(path, clock, patched, "0001_initial")
        old.close()
    # what a 0001 build wrote (today's IncidentService also writes later tables)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO incidents (uuid, title, severity, status, declared_at, declared_by, "
            "updated_at, last_seq, summary) VALUES (?, 'Kept across the upgrade', 'SEV2', 'open', "
            "'2026-03-01T09:00:00.000000Z', 'ana', '2026-03-01T09:00:00.000000Z', 0, '')",
            (uuid.uuid4().hex,),
        )
        connection.execute(
            "INSERT INTO services (uuid, name, kind, owner, tier, description, source) "
            "VALUES (?, 'orders-api', 'component', 'team-orders', 'tier-1', '', 'demo')",
            (uuid.uuid4().hex,),
        )
    connection.close()
    assert raw_scalar(path, "SELECT version_num FROM alembic_version") == "0001_initial"

    open_database(path, clock=clock).close()
    assert raw_scalar(path, "SELECT version_num FROM alembic_version") == HEAD_REVISION
    assert raw_scalar(path, "SELECT title FROM incidents") == "Kept across the upgrade"
    assert raw_scalar(path, "SELECT count(*) FROM runbooks") == 0
    # 0004: a 0001-0003 service gets its ref, namespace and owner ref from kind and name
    assert raw_rows(path, "SELECT ref, namespace, owner_ref, relations FROM services") == [
        ("component:default/orders-api", "default", "group:default/team-orders", "{}")
    ]
    assert raw_scalar(path, "SELECT count(*) FROM runbooks_fts") == 0
    [taken] = list_backups(data_dir)
    assert taken.name.endswith(f"-before-{HEAD_REVISION}.db")
    assert raw_scalar(taken, "SELECT version_num FROM alembic_version") == "0001_initial"


def _insert_runbooks(raw: sqlite3.Connection) -> None:
    for row_id, title, symptoms, body in (
        (1, "Disk full", "[]", "Check NodeFilesystemSpaceFillingUp on the node"),
        (
            2,
            "インシデント対応",
            '["書記"]',
            "重大度を判断して、インシデント指揮官を決めます。Podが再起動",
        ),
    ):
        raw.execute(
            "INSERT INTO runbooks (id, uuid, slug, title, path, source_root, "
            "content_hash, mtime_ns, size, body, services, symptoms, alerts, "
            "review_every_days, imported_at, extra) VALUES "
            "(?, ?, ?, ?, ?, '/r', 'h', 0, 1, ?, '[]', ?, '[]', 180, ?, '{}')",
            (
                row_id,
                f"{row_id:032x}",
                f"rb-{row_id}",
                title,
                f"/r/{row_id}.md",
                body,
                symptoms,
                "2026-11-23T00:00:00.000000Z",
            ),
        )


def test_upgrade_from_0002_keeps_runbooks_and_indexes_cjk_text_as_pairs(
    data_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0003 … 0015: the rows stay; the word index holds their words and, in its CJK
    columns, their CJK text as pairs; the triggers keep it in step."""
    path = data_dir / "console.db"
    with monkeypatch.context() as patched:
        old = _open_at_revision(path, clock, patched, "0002_runbooks")
        with old.raw_writer() as raw:
            _insert_runbooks(raw)
        old.close()

    open_database(path, clock=clock).close()
    assert raw_scalar(path, "SELECT version_num FROM alembic_version") == HEAD_REVISION

    def ids(sql: str, *params: object) -> list[int]:
        with sqlite3.connect(path) as connection:
            return [row[0] for row in connection.execute(sql, params)]

    assert ids("SELECT name FROM sqlite_master WHERE name LIKE 'runbooks_trigram%'") == []
    rows = raw_rows(path, "SELECT id, cjk_names, cjk_body FROM runbooks ORDER BY id")
    assert rows[0] == (1, "", "")
    assert rows[1][1].split() == cjk_bigrams("インシデント対応", "rb-2", '["書記"]').split()
    body = "重大度を判断して、インシデント指揮官を決めます。Podが再起動"
    assert rows[1][2].split() == cjk_bigrams(body).split()
    words = "SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH ?"
    assert ids(words, '{cjk_names cjk_body} : "指揮 揮官"') == [2]
    assert ids(words, '{cjk_names cjk_body} : "書記"') == [2]  # two characters, a symptom
    assert ids(words, '"pod"') == [2]  # the word glued to Japanese text
    assert ids(words, '"NodeFilesystemSpaceFillingUp"') == [1]
    assert ids(words, '"Disk"') == [1]
    # the triggers keep the index in step from now on
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE runbooks SET body = 'ポストモーテム', cjk_body = ? WHERE id = 1",
            (cjk_bigrams("ポストモーテム"),),
        )
        connection.execute("DELETE FROM runbooks WHERE id = 2")
    assert ids(words, '{cjk_names cjk_body} : "モー ーテ テム"') == [1]
    assert ids(words, '{cjk_names cjk_body} : "指揮 揮官"') == []
    assert ids(words, '"NodeFilesystemSpaceFillingUp"') == []
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO runbooks_fts(runbooks_fts, rank) VALUES ('integrity-check', 1)"
        )
    hashsize = "SELECT v FROM runbooks_fts_config WHERE k = 'hashsize'"
    assert raw_scalar(path, hashsize) == 32 * 1024 * 1024


def test_downgrade_from_0015_brings_back_the_trigram_index(
    data_dir: Path, clock: FakeClock
) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from console.storage.migrate import alembic_config

    path = data_dir / "console.db"
    db = open_database(path, clock=clock)
    with db.raw_writer() as raw:
        _insert_runbooks(raw)
    db.close()
    engine = create_engine(f"sqlite:///{path}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014_fts_hashsize")
    engine.dispose()

    def ids(sql: str, *params: object) -> list[int]:
        with sqlite3.connect(path) as connection:
            return [row[0] for row in connection.execute(sql, params)]

    assert ids("SELECT id FROM runbooks WHERE has_cjk") == [2]
    trigram = "SELECT rowid FROM runbooks_trigram WHERE runbooks_trigram MATCH ?"
    assert ids(trigram, '"指揮官"') == [2]
    assert ids(trigram, '"Filesystem"') == []
    assert ids("SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH 'disk'") == [1]
    with sqlite3.connect(path) as plain:
        plain.execute("UPDATE runbooks SET has_cjk = 0, cjk_text = '' WHERE id = 2")
    assert ids(trigram, '"指揮官"') == []
    # and up again, to what the importer writes
    open_database(path, clock=clock).close()
    assert raw_scalar(path, "SELECT version_num FROM alembic_version") == HEAD_REVISION
    assert ids(
        "SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH ?",
        '{cjk_names cjk_body} : "指揮 揮官"',
    ) == [2]


def test_migration_cjk_classes_and_pairs_match_the_domain() -> None:
    import importlib

    from console.domain.runbook import CJK_CLASS

    for name in ("0003_runbook_trigram", "0006_runbook_cjk_lines", "0015_cjk_bigrams"):
        module = importlib.import_module(f"console.storage.migrations.versions.{name}")
        assert module.CJK_CLASS == CJK_CLASS
    frozen = importlib.import_module("console.storage.migrations.versions.0015_cjk_bigrams")
    texts = ("インシデント対応", "Podが再起動 k8sクラスタ3台", "重", "a_b日本_c x", "", "plain")
    for text in texts:
        assert frozen.cjk_bigrams(text).split() == cjk_bigrams(text).split(), text


def _checkpointer_of(db: Database) -> object:
    return db.checkpointer  # a call: mypy keeps no narrowing across it


def test_the_wal_is_checkpointed_off_the_writers_path(db_path: Path, clock: FakeClock) -> None:
    from console.storage.db import BACKSTOP_AUTOCHECKPOINT_PAGES, Checkpointer

    db = open_database(db_path, clock=clock)
    try:
        assert db.checkpointer is not None  # the background thread of an open database
        with db.raw_reader() as raw:
            assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == (
                BACKSTOP_AUTOCHECKPOINT_PAGES
            )
        service = IncidentService(db, actor="a", clock=clock)
        incident = service.declare("wal", Severity.SEV4).incident
        assert incident is not None
        for n in range(30):
            service.add_note(incident.id, f"note {n}")
        checkpointer = Checkpointer(db_path, threshold=1)
        try:
            assert checkpointer.checkpoint_if_due()
            assert checkpointer.checkpoints == 1
        finally:
            checkpointer.stop()
        with sqlite3.connect(db_path) as connection:
            busy, frames, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0
        assert frames == done  # every frame already copied into the database file
        assert not Checkpointer(db_path, threshold=1 << 40).checkpoint_if_due()  # below: no-op
    finally:
        db.close()
    assert _checkpointer_of(db) is None  # stopped with the database
    gone = Checkpointer(db_path.parent / "absent.db", threshold=1)
    assert not gone.checkpoint_if_due()  # no WAL file: nothing to do, no error
    gone.stop()


@given(st.text(alphabet="日本語カナ한글ab1_ -、。\néＡ", max_size=40))
def test_migration_0015_pairs_are_the_importers_pairs(text: str) -> None:
    import importlib

    frozen = importlib.import_module("console.storage.migrations.versions.0015_cjk_bigrams")
    assert frozen.cjk_bigrams(text).split() == cjk_bigrams(text).split()
