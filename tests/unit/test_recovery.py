"""Storage recovery never makes things worse (issue 14, items 1-6).

Real SQLite files, real second processes holding real locks, a real tmpfs that fills up
and a real read-only remount (tests/mounts.py; skipped where mounting is not allowed).
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

import pytest

from console.domain.errors import (
    BackupError,
    DatabaseCorruptError,
    DatabaseInUseError,
    DatabaseMissingError,
    DiskFullError,
    FileWriteError,
    ReadOnlyError,
)
from console.domain.incident import Severity
from console.files import write_file
from console.ops.incidents import IncidentService
from console.ops.queries import Queries
from console.storage.db import (
    backup,
    check_backup_file,
    classify_error,
    corrupt_error,
    damage_marker,
    diagnose,
    in_use,
    list_backups,
    newest_good_backup,
    open_database,
    restore_backup,
    set_aside,
    start_empty,
)
from tests.mounts import (
    fill,
    held,
    needs_mount,
    remount_read_only,
    remount_read_write,
    small_disk,
)
from tests.unit.conftest import copy_template
from tests.unit.support import FakeClock

#: the sqlite3 shell's way to hold a database so that nobody else can read it
EXCLUSIVE_HOLD = ("PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def titles(path: Path, clock: FakeClock) -> list[str]:
    database = open_database(path, clock=clock)
    try:
        return [i.title for i in Queries(database).incidents()]
    finally:
        database.close()


def declare(path: Path, clock: FakeClock, title: str) -> None:
    database = open_database(path, clock=clock)
    try:
        IncidentService(database, actor="a", clock=clock).declare(title, Severity.SEV3)
    finally:
        database.close()


def damage_middle(path: Path, offset: int = 40_960 + 100) -> None:
    """4 KB of random bytes inside the page area, the header left intact."""
    data = bytearray(path.read_bytes())
    data[offset : offset + 4096] = random.Random(offset).randbytes(4096)
    path.write_bytes(bytes(data))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith("."))


# --------------------------------------------------- 1. locked / read-only / missing


def test_check_calls_a_locked_database_locked_not_damaged(db_path: Path) -> None:
    before = digest(db_path)
    with held(db_path, *EXCLUSIVE_HOLD):
        found = diagnose(db_path)
    assert found.state == "locked"
    assert "NOT damage" in found.message
    assert "db restore" not in found.message.replace("do not restore", "")
    assert not damage_marker(db_path).exists()
    assert digest(db_path) == before
    assert diagnose(db_path).state == "ok"


def test_restore_and_set_aside_refuse_while_another_process_has_the_file(
    db_path: Path, clock: FakeClock
) -> None:
    declare(db_path, clock, "kept")
    taken = backup(db_path, clock=clock)
    declare(db_path, clock, "written after the backup")
    before = sorted(p.name for p in db_path.parent.iterdir())
    # a writer mid-transaction, an idle reader that has read once (a window left open)
    for holding in (("BEGIN IMMEDIATE",), ("SELECT count(*) FROM incidents",)):
        with held(db_path, *holding):
            assert in_use(db_path)
            with pytest.raises(DatabaseInUseError, match="in use by another program"):
                restore_backup(db_path, taken, clock=clock)
            with pytest.raises(DatabaseInUseError, match="not moved aside"):
                set_aside(db_path, clock=clock)
        assert sorted(p.name for p in db_path.parent.iterdir()) == before
    assert not in_use(db_path)
    assert titles(db_path, clock) == ["written after the backup", "kept"]


def test_errors_are_classified_from_real_sqlite_errors(db_path: Path, tmp_path: Path) -> None:
    def error_of(uri: str, sql: str) -> sqlite3.Error:
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=0)
            try:
                connection.execute(sql).fetchall()
            finally:
                connection.close()
        except sqlite3.Error as error:
            return error
        raise AssertionError("no error")

    written = error_of(f"file:{db_path}?mode=ro", "INSERT INTO cache_sets VALUES ('a','b','c')")
    assert written.sqlite_errorname.startswith("SQLITE_READONLY")
    assert classify_error(written) == "read-only"
    missing = error_of(f"file:{tmp_path / 'no-such.db'}?mode=ro", "SELECT 1")
    assert missing.sqlite_errorname == "SQLITE_CANTOPEN"
    assert classify_error(missing) == "read-only"
    with held(db_path, *EXCLUSIVE_HOLD):
        locked = error_of(f"file:{db_path}?mode=ro", "SELECT count(*) FROM incidents")
    assert classify_error(locked) == "locked"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 400)
    assert classify_error(error_of(f"file:{garbage}?mode=ro", "SELECT 1 FROM x")) == "damaged"


@needs_mount
def test_read_only_folder_is_read_only_not_damaged(
    tmp_path: Path, migrated_template: Path, clock: FakeClock
) -> None:
    with small_disk(tmp_path / "disk", 4096) as disk:
        path = copy_template(migrated_template, disk / "data")
        declare(path, clock, "kept")
        taken = backup(path, clock=clock)
        before = digest(path)
        remount_read_only(disk)
        try:
            found = diagnose(path)
            assert found.state == "read-only"
            assert "NOT damage" in found.message
            assert "content passed the check" in found.message
            with pytest.raises(ReadOnlyError, match="read-only") as caught:
                set_aside(path, clock=clock)
            assert "Nothing was moved" in str(caught.value)
            with pytest.raises(ReadOnlyError, match="read-only"):
                restore_backup(path, taken, clock=clock)
            with pytest.raises(ReadOnlyError):
                open_database(path, clock=clock)
        finally:
            remount_read_write(disk)
        assert digest(path) == before
        assert not damage_marker(path).exists()


# ------------------------------------------------------------- 2. backups


@needs_mount
def test_a_backup_on_a_full_disk_leaves_no_file(
    tmp_path: Path, migrated_template: Path, clock: FakeClock
) -> None:
    with small_disk(tmp_path / "disk", 2048) as disk:
        path = copy_template(migrated_template, disk / "data")
        declare(path, clock, "kept")
        (disk / "data" / "backups").mkdir(mode=0o700)
        fill(disk, leave_bytes=64 * 1024)
        with pytest.raises(BackupError, match="is full") as caught:
            backup(path, clock=clock)
        assert "No backup file was left" in str(caught.value)
        assert list((disk / "data" / "backups").iterdir()) == []
        assert list_backups(disk / "data") == []
        assert titles(path, clock) == ["kept"]


def test_restore_refuses_a_bad_backup_and_names_the_newest_good_one(
    db_path: Path, clock: FakeClock
) -> None:
    declare(db_path, clock, "in the good backup")
    good = backup(db_path, clock=clock)
    clock.advance(minutes=1)
    newer = backup(db_path, clock=clock)
    newer.write_bytes(b"")  # what the old code left on a full disk
    clock.advance(minutes=1)
    cut = backup(db_path, clock=clock)
    cut.write_bytes(cut.read_bytes()[:-4096])  # cut short by a page
    assert list_backups(db_path.parent) == [cut, newer, good]
    assert check_backup_file(newer) == "it is empty (0 bytes)"
    assert "cut short" in str(check_backup_file(cut))
    assert newest_good_backup(db_path.parent) == (
        good,
        [(cut, check_backup_file(cut)), (newer, "it is empty (0 bytes)")],
    )
    before = digest(db_path)
    for bad in (newer, cut):
        with pytest.raises(BackupError, match="cannot be restored") as caught:
            restore_backup(db_path, bad, clock=clock)
        assert f"The newest good backup is {good}" in str(caught.value)
    assert digest(db_path) == before
    offered = corrupt_error(db_path)
    assert offered.backups == (str(good),)
    assert f"The newest good backup is {good}" in str(offered)
    assert newer.name in str(offered)  # named as failing its check, not offered


def test_a_backup_of_a_file_damaged_in_the_middle_is_refused_and_marks_it(
    db_path: Path, clock: FakeClock
) -> None:
    declare(db_path, clock, "before damage")
    good = backup(db_path, clock=clock)
    damage_middle(db_path)
    clock.advance(minutes=1)
    with pytest.raises(DatabaseCorruptError, match="found while taking a backup") as caught:
        backup(db_path, clock=clock)
    assert caught.value.backups == (str(good),)
    assert list_backups(db_path.parent) == [good]
    assert leftovers(db_path.parent) == []
    assert damage_marker(db_path).exists()


# ----------------------------------------------------------- 3. restore


@needs_mount
def test_restore_on_a_full_disk_changes_nothing(
    tmp_path: Path, migrated_template: Path, clock: FakeClock
) -> None:
    with small_disk(tmp_path / "disk", 2048) as disk:
        path = copy_template(migrated_template, disk / "data")
        declare(path, clock, "kept")
        taken = backup(path, clock=clock)
        declare(path, clock, "written after the backup")
        before = digest(path)
        filler = fill(disk, leave_bytes=64 * 1024)
        with pytest.raises(DiskFullError, match="is full") as caught:
            restore_backup(path, taken, clock=clock)
        assert f"{path} is where it was" in str(caught.value)
        assert digest(path) == before
        assert sorted(p.name for p in path.parent.iterdir()) == ["backups", "console.db"]
        filler.unlink()
        assert titles(path, clock) == ["written after the backup", "kept"]
        # with room again the same restore goes through
        aside = restore_backup(path, taken, clock=clock)
        assert aside is not None
        assert digest(aside) == before
        assert titles(path, clock) == ["kept"]


# ------------------------------------------------- 4. missing / empty beside backups


@pytest.mark.parametrize("how", ["missing", "empty"])
def test_a_lost_database_beside_backups_is_not_a_new_one(
    db_path: Path, clock: FakeClock, how: str
) -> None:
    declare(db_path, clock, "kept")
    taken = backup(db_path, clock=clock)
    db_path.unlink()
    if how == "empty":
        db_path.write_bytes(b"")
    with pytest.raises(DatabaseMissingError) as caught:
        open_database(db_path, clock=clock)
    message = str(caught.value)
    assert ("is empty (0 bytes)" if how == "empty" else "is missing") in message
    assert f"The newest good backup is {taken}" in message
    assert "db restore" in message
    assert caught.value.backups == (str(taken),)
    assert db_path.exists() == (how == "empty")  # nothing was created or initialised
    found = diagnose(db_path)
    assert found.state == how
    assert "db restore" in found.message
    # the two ways out: the backup, or (explicitly) an empty database
    restore_backup(db_path, taken, clock=clock)
    assert titles(db_path, clock) == ["kept"]
    start_empty(db_path, clock=clock)
    assert titles(db_path, clock) == []


def test_only_a_folder_without_database_and_backups_is_new(data_dir: Path) -> None:
    path = data_dir / "console.db"
    assert diagnose(path).state == "new"
    path.write_bytes(b"")
    assert diagnose(path).state == "new"
    open_database(path).close()
    assert diagnose(path).state == "ok"


# ----------------------------------------------- 5. damage in the middle of the file


def test_damage_in_the_middle_is_found_and_writes_stop(db_path: Path, clock: FakeClock) -> None:
    declare(db_path, clock, "before damage")
    good = backup(db_path, clock=clock)
    damage_middle(db_path)
    database = open_database(db_path, clock=clock)  # the start-up path does not check
    try:
        service = IncidentService(database, actor="a", clock=clock)
        problems = database.check_integrity()  # what the window runs off its GUI thread
        assert problems
        with pytest.raises(DatabaseCorruptError) as caught:
            service.declare("written into a damaged file", Severity.SEV3)
        assert f"The newest good backup is {good}" in str(caught.value)
        assert "db restore" in str(caught.value)
    finally:
        database.close()
    # every other process refuses it too, until it is restored
    with pytest.raises(DatabaseCorruptError, match="a check found"):
        open_database(db_path, clock=clock)
    restore_backup(db_path, good, clock=clock)
    assert not damage_marker(db_path).exists()
    declare(db_path, clock, "after restore")
    assert titles(db_path, clock) == ["after restore", "before damage"]


def test_a_sound_check_lifts_an_old_mark(db_path: Path) -> None:
    damage_marker(db_path).write_text("an earlier check\n", encoding="utf-8")
    with pytest.raises(DatabaseCorruptError):
        open_database(db_path)
    assert diagnose(db_path).state == "ok"
    assert not damage_marker(db_path).exists()
    open_database(db_path).close()


# ----------------------------------------------------------- 6. one write helper


def test_write_file_refuses_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError, match="does not exist") as caught:
        write_file(tmp_path / "missing" / "out.md", "text")
    assert caught.value.reason == "missing-folder"
    assert not (tmp_path / "missing").exists()
    with pytest.raises(FileWriteError, match="that is a folder") as caught:
        write_file(tmp_path, "text")
    assert caught.value.reason == "is-a-folder"
    target = tmp_path / "out.md"
    target.write_text("old", encoding="utf-8")
    assert write_file(target, "new\n") == target
    assert target.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"]


@needs_mount
def test_write_file_on_a_full_disk_and_a_read_only_folder(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 256) as disk:
        target = disk / "export.json"
        target.write_text("the previous export", encoding="utf-8")
        fill(disk)
        with pytest.raises(FileWriteError, match="is full") as caught:
            write_file(target, "x" * 200_000)
        assert caught.value.reason == "disk-full"
        assert "no partial file is left" in str(caught.value)
        assert sorted(p.name for p in disk.iterdir()) == ["export.json", "filler"]
        assert target.read_text(encoding="utf-8") == "the previous export"
        (disk / "filler").unlink()
        remount_read_only(disk)
        try:
            with pytest.raises(FileWriteError, match="read-only") as caught:
                write_file(disk / "new.json", "{}")
            assert caught.value.reason == "read-only"
        finally:
            remount_read_write(disk)
        assert sorted(p.name for p in disk.iterdir()) == ["export.json"]


@needs_mount
def test_pack_build_output_is_whole_or_absent(tmp_path: Path) -> None:
    """The pack build's --out says what the one helper says: a full disk leaves neither a
    partial pack nor a signature, and a missing folder is named."""
    from datetime import UTC, datetime

    from console.packs import PackError, build_pack
    from console.signing import INTERACTIVE, generate_keypair

    _public, secret = generate_keypair("pw", INTERACTIVE)
    runbook = tmp_path / "big.md"
    runbook.write_text("# Big\n\n" + "text " * 40_000, encoding="utf-8")
    files = {"runbooks/big.md": runbook}
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def build(out: Path) -> None:
        build_pack(out, files, secret, version=1, publisher="S", now=now)

    with pytest.raises(PackError, match="does not exist"):
        build(tmp_path / "no" / "team.rcpack")
    with pytest.raises(PackError, match="that is a folder"):
        build(tmp_path)
    with small_disk(tmp_path / "disk", 128) as disk:
        with pytest.raises(PackError, match="is full"):
            build(disk / "team.rcpack")
        assert list(disk.iterdir()) == []


def test_a_stale_wal_beside_a_lost_database_is_not_replayed_onto_the_backup(
    db_path: Path, clock: FakeClock
) -> None:
    declare(db_path, clock, "kept")
    taken = backup(db_path, clock=clock)
    # another database's WAL, left behind when console.db itself was lost
    other = db_path.parent / "other"
    other.mkdir()
    stray = sqlite3.connect(other / "console.db", isolation_level=None)
    stray.execute("PRAGMA journal_mode = WAL")
    stray.execute("PRAGMA wal_autocheckpoint = 0")
    stray.execute("CREATE TABLE t (x)")
    stray.execute("INSERT INTO t VALUES (randomblob(20000))")
    (other / "console.db-wal").replace(Path(f"{db_path}-wal"))
    stray.close()
    db_path.unlink()
    assert restore_backup(db_path, taken, clock=clock) is not None  # the WAL went aside
    assert not Path(f"{db_path}-wal").exists() or Path(f"{db_path}-wal").stat().st_size == 0
    assert diagnose(db_path).state == "ok"
    assert titles(db_path, clock) == ["kept"]
