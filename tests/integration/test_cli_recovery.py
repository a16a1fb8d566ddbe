"""Recovery through the real command line (issue 14, items 1-6): exit codes, messages,
no tracebacks, and files left exactly as they were when a command refuses."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from tests.integration.test_cli import as_json, damaged_files, ok, run
from tests.mounts import (
    fill,
    held,
    needs_mount,
    remount_read_only,
    remount_read_write,
    small_disk,
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def titles(data: Path) -> list[str]:
    listed = as_json(run("incident", "list", "--json", data_dir=data))
    return [i["title"] for i in listed["incidents"]]


def refused(result: object, *needles: str) -> str:
    """Exit 1, the message on stderr, never a traceback."""
    returncode, stderr = result.returncode, result.stderr  # type: ignore[attr-defined]
    assert returncode == 1, (returncode, stderr)
    assert "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)
    return str(stderr)


def with_backup(data: Path) -> Path:
    ok(run("incident", "declare", "--title", "kept", "--severity", "3", data_dir=data))
    backed = ok(run("db", "backup", data_dir=data))
    ok(run("incident", "declare", "--title", "after", "--severity", "3", data_dir=data))
    return Path(backed.removeprefix("Backed up to ").strip())


def test_locked_is_not_damaged_and_restore_waits(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with_backup(data)
    database = data / "console.db"
    before = digest(database)
    with held(database, "PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE"):
        checked = run("db", "check", "--json", data_dir=data)
        refused(checked, "locked by another program", "NOT damage")
        assert '"state": "locked"' in checked.stdout
    with held(database, "BEGIN IMMEDIATE"):
        refused(run("db", "restore", data_dir=data), "in use by another program")
        refused(run("db", "set-aside", data_dir=data), "in use by another program")
    assert digest(database) == before
    assert damaged_files(data) == []
    assert titles(data) == ["after", "kept"]


@pytest.mark.parametrize("how", ["empty", "missing"])
def test_a_lost_database_beside_backups_is_offered_its_backup(tmp_path: Path, how: str) -> None:
    data = tmp_path / "data"
    taken = with_backup(data)
    database = data / "console.db"
    database.unlink()
    if how == "empty":
        database.write_bytes(b"")
    listed = refused(run("incident", "list", data_dir=data), "db restore", str(taken))
    assert ("is empty (0 bytes)" if how == "empty" else "is missing") in listed
    checked = run("db", "check", "--json", data_dir=data)
    refused(checked, "db restore")
    assert f'"state": "{how}"' in checked.stdout
    ok(run("db", "restore", data_dir=data))
    assert titles(data) == ["kept"]


def test_damage_in_the_middle_is_caught_by_the_backup_and_writes_stop(tmp_path: Path) -> None:
    data = tmp_path / "data"
    taken = with_backup(data)
    database = data / "console.db"
    raw = bytearray(database.read_bytes())
    raw[41_060 : 41_060 + 4096] = random.Random(7).randbytes(4096)
    database.write_bytes(bytes(raw))
    refused(run("db", "backup", data_dir=data), "is damaged", str(taken))
    note = run("incident", "note", "1", "written into a damaged file", data_dir=data)
    refused(note, "is damaged", "db restore", str(taken))
    ok(run("db", "restore", data_dir=data))
    ok(run("incident", "note", "1", "after the restore", data_dir=data))


@needs_mount
def test_restore_and_backup_on_a_full_disk_change_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 2048) as disk:
        data = disk / "data"
        taken = with_backup(data)
        database = data / "console.db"
        before = digest(database)
        filler = fill(disk, leave_bytes=64 * 1024)
        refused(run("db", "restore", data_dir=data), "is full", "is where it was")
        refused(run("db", "backup", data_dir=data), "is full", "No backup file was left")
        assert digest(database) == before
        assert damaged_files(data) == []
        assert sorted(p.name for p in (data / "backups").iterdir()) == [taken.name]
        filler.unlink()
        assert titles(data) == ["after", "kept"]  # not a new, empty database


@needs_mount
def test_set_aside_and_restore_on_a_read_only_folder(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 4096) as disk:
        data = disk / "data"
        with_backup(data)
        remount_read_only(disk)
        try:
            refused(run("db", "set-aside", data_dir=data), "read-only", "Nothing was moved")
            refused(run("db", "restore", data_dir=data), "read-only")
            checked = run("db", "check", "--json", data_dir=data)
            refused(checked, "read-only", "NOT damage")
        finally:
            remount_read_write(disk)
        assert titles(data) == ["after", "kept"]


def test_out_to_a_missing_folder_or_a_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run("incident", "declare", "--title", "x", "--severity", "3", data_dir=data))
    missing = tmp_path / "no" / "such" / "x.md"
    refused(
        run("incident", "export", "1", "--out", str(missing), data_dir=data),
        f"the folder {missing.parent} does not exist",
    )
    assert not (tmp_path / "no").exists()
    refused(
        run("incident", "export", "1", "--out", str(tmp_path), data_dir=data),
        "that is a folder",
    )
    audit = refused(run("audit", "--out", str(missing), data_dir=data), "Cannot write the audit")
    assert "does not exist" in audit


@needs_mount
def test_out_on_a_full_disk_and_a_read_only_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run("incident", "declare", "--title", "x", "--severity", "3", data_dir=data))
    for number in range(10):
        ok(run("incident", "note", "1", f"note {number} " + "y" * 2000, data_dir=data))
    with small_disk(tmp_path / "disk", 64) as disk:
        fill(disk)
        target = disk / "export.md"
        refused(
            run("incident", "export", "1", "--out", str(target), data_dir=data),
            "is full",
            "no partial file is left",
        )
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
        (disk / "filler").unlink()
        remount_read_only(disk)
        try:
            refused(
                run("incident", "export", "1", "--out", str(target), data_dir=data),
                "read-only",
            )
        finally:
            remount_read_write(disk)
        assert list(disk.iterdir()) == []
        ok(run("incident", "export", "1", "--out", str(target), data_dir=data))
        assert "note 9" in target.read_text(encoding="utf-8")
