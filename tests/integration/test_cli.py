"""The real command line, run as a subprocess: the contract teams script against."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.support import ENTRY_KEYS, INCIDENT_KEYS

REPO = Path(__file__).resolve().parents[2]


def run(
    *args: str,
    data_dir: Path | None,
    env: dict[str, str] | None = None,
    program: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    command = [*(program or [sys.executable, "-m", "console"])]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [*command, *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


def damaged_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))
    )


# ------------------------------------------------------------------ incidents


def test_incident_lifecycle_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    declared = as_json(
        run(
            "--as",
            "Ana",
            "incident",
            "declare",
            "--title",
            "Checkout 5xx",
            "--severity",
            "sev-2",
            "--ic",
            "Ana",
            "--json",
            data_dir=data,
        )
    )
    assert set(declared) == INCIDENT_KEYS
    assert declared["id"] == 1
    assert declared["severity"] == "SEV2"
    assert declared["status"] == "open"
    assert declared["roles"] == {"incident_commander": "Ana"}
    assert declared["entries"] == 2
    assert declared["resolved_at"] is None
    assert declared["declared_at"].endswith("+00:00")
    assert (data / "console.db").stat().st_mode & 0o777 == 0o600

    text = ok(run("incident", "note", "1", "pool", "exhausted", data_dir=data))
    assert text == "Logged #3: pool exhausted\n"
    note = as_json(
        run("incident", "note", declared["uuid"], "second note", "--json", data_dir=data)
    )
    assert set(note) == ENTRY_KEYS
    assert (note["seq"], note["kind"], note["text"]) == (4, "note", "second note")
    assert note["author"] == "tester"  # RESPONDER_CONSOLE_USER from the test environment

    moved = as_json(run("incident", "status", "1", "triage", "--json", data_dir=data))
    assert (moved["kind"], moved["data"]) == ("status_change", {"from": "open", "to": "triage"})

    refused = run("incident", "status", "1", "closed", data_dir=data)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "cannot move from triage to closed" in refused.stderr
    assert refused.stderr.startswith("responder-console: ")

    listing = as_json(run("incident", "list", "--json", data_dir=data))
    assert set(listing) == {"incidents"}
    [only] = listing["incidents"]
    assert set(only) == INCIDENT_KEYS
    assert (only["status"], only["entries"]) == ("triage", 5)

    shown = as_json(run("incident", "show", "1", "--json", data_dir=data))
    assert set(shown) == {"incident", "timeline"}
    assert [e["seq"] for e in shown["timeline"]] == [1, 2, 3, 4, 5]
    assert all(set(e) == ENTRY_KEYS for e in shown["timeline"])
    assert shown["timeline"][2]["text"] == "pool exhausted"

    plain = ok(run("incident", "show", "1", data_dir=data)).splitlines()
    assert plain[0] == "Checkout 5xx — SEV2, triage"
    assert plain[3].endswith("tester: pool exhausted")


def test_usage_and_lookup_errors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad_severity = run("incident", "declare", "--title", "x", "--severity", "9", data_dir=data)
    assert bad_severity.returncode == 2
    assert "unknown severity '9'" in bad_severity.stderr

    missing_arg = run("incident", "declare", "--severity", "1", data_dir=data)
    assert missing_arg.returncode == 2
    assert "--title" in missing_arg.stderr
    assert "usage:" in missing_arg.stderr

    unknown = run("incident", "note", "42", "hello", data_dir=data)
    assert unknown.returncode == 1
    assert "there is no incident 42" in unknown.stderr


def test_export_to_stdout_and_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run("incident", "declare", "--title", "Login | outage", "--severity", "1", data_dir=data))
    document = as_json(run("incident", "export", "1", "--format", "json", data_dir=data))
    assert document["format"] == "responder-console/incident"
    assert document["incident"]["title"] == "Login | outage"
    assert {"role_history", "checklist", "timeline"} <= set(document)
    assert document["checklist"], "a SEV1 gets its checklist"

    markdown = ok(run("incident", "export", "1", "--format", "markdown", data_dir=data))
    assert markdown.startswith("# Login | outage\n")
    assert "| 1 |" in markdown
    assert "Declared SEV1: Login \\| outage" in markdown

    out_json, out_md = tmp_path / "incident.json", tmp_path / "incident.md"
    assert ok(run("incident", "export", "1", "--out", str(out_json), data_dir=data)) == ""
    assert json.loads(out_json.read_text(encoding="utf-8"))["timeline"] == document["timeline"]
    ok(run("incident", "export", "1", "--format", "markdown", "--out", str(out_md), data_dir=data))
    assert out_md.read_text(encoding="utf-8") == markdown


# ---------------------------------------------------------- folders, demo


def test_data_dir_from_the_environment(tmp_path: Path) -> None:
    from_env = tmp_path / "from-env"
    env = {"RESPONDER_CONSOLE_DATA_DIR": str(from_env)}
    ok(run("incident", "declare", "--title", "env", "--severity", "4", data_dir=None, env=env))
    assert (from_env / "console.db").exists()
    listed = as_json(run("incident", "list", "--json", data_dir=None, env=env))
    assert [i["title"] for i in listed["incidents"]] == ["env"]
    # --data-dir wins over the environment
    other = tmp_path / "other"
    assert as_json(run("incident", "list", "--json", data_dir=other, env=env)) == {"incidents": []}


def test_demo_seeds_three_incidents_once(tmp_path: Path) -> None:
    base = tmp_path / "base"
    env = {"RESPONDER_CONSOLE_DATA_DIR": str(base)}
    first = as_json(run("--demo", "incident", "list", "--json", data_dir=None, env=env))
    assert len(first["incidents"]) == 3
    statuses = sorted(i["status"] for i in first["incidents"])
    assert statuses == ["closed", "mitigating", "resolved"]
    assert (base / "demo" / "console.db").exists()
    assert not (base / "console.db").exists(), "the demo lives beside the real data"
    again = as_json(run("--demo", "incident", "list", "--json", data_dir=None, env=env))
    assert [i["uuid"] for i in again["incidents"]] == [i["uuid"] for i in first["incidents"]]
    # with an explicit --data-dir the demo is seeded there
    explicit = tmp_path / "explicit"
    seeded = as_json(run("--demo", "incident", "list", "--json", data_dir=explicit))
    assert len(seeded["incidents"]) == 3


# ------------------------------------------------------------------- db


def test_db_backup_check_restore_set_aside(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert ok(run("db", "backups", data_dir=data)) == "No backups.\n"
    missing = run("db", "check", data_dir=data)
    assert missing.returncode == 1
    assert "There is no database" in missing.stderr

    ok(run("incident", "declare", "--title", "kept", "--severity", "3", data_dir=data))
    backed = ok(run("db", "backup", data_dir=data))
    assert backed.startswith("Backed up to ")
    backup_file = Path(backed.removeprefix("Backed up to ").strip())
    assert backup_file.parent == data / "backups"
    assert backup_file.name.endswith("-manual.db")
    assert as_json(run("db", "backups", "--json", data_dir=data)) == {"backups": [str(backup_file)]}
    checked = as_json(run("db", "check", "--json", data_dir=data))
    assert checked == {
        "path": str(data / "console.db"),
        "ok": True,
        "state": "ok",
        "problems": [],
        "message": f"{data / 'console.db'}: ok",
    }

    # a later incident, then restore: the backup comes back, the newer file is kept aside
    ok(run("incident", "declare", "--title", "after backup", "--severity", "3", data_dir=data))
    restored = ok(run("db", "restore", data_dir=data))
    assert f"from {backup_file}" in restored
    assert "the previous file is kept at" in restored
    aside = damaged_files(data)
    assert len(aside) == 1
    titles = [
        i["title"] for i in as_json(run("incident", "list", "--json", data_dir=data))["incidents"]
    ]
    assert titles == ["kept"]

    moved = ok(run("db", "set-aside", data_dir=data))
    assert moved.startswith(f"Moved {data / 'console.db'} aside to ")
    assert moved.rstrip().endswith("started with an empty database")
    # both earlier files are kept, even when set aside within the same second
    assert len(damaged_files(data)) == 2
    assert aside[0] in damaged_files(data)
    assert as_json(run("incident", "list", "--json", data_dir=data)) == {"incidents": []}

    no_backup = run("db", "restore", "--backup", str(tmp_path / "nope.db"), data_dir=data)
    assert no_backup.returncode == 1
    assert "does not exist" in no_backup.stderr


def test_corrupt_database_names_the_file_and_the_way_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run("incident", "declare", "--title", "x", "--severity", "3", data_dir=data))
    database = data / "console.db"
    raw = bytearray(database.read_bytes())
    raw[100:4096] = bytes(range(256)) * 15 + bytes(range(220))
    database.write_bytes(bytes(raw))
    before = database.read_bytes()

    no_backup = run("incident", "list", data_dir=data)
    assert no_backup.returncode == 1
    assert str(database) in no_backup.stderr
    assert "db set-aside" in no_backup.stderr

    check = run("db", "check", "--json", data_dir=data)
    assert check.returncode == 1
    assert str(database) in check.stderr

    # take a backup of a good file to offer, by restoring through a second folder
    good = tmp_path / "good"
    ok(run("incident", "declare", "--title", "good", "--severity", "3", data_dir=good))
    ok(run("db", "backup", data_dir=good))
    (data / "backups").mkdir(mode=0o700)
    [good_backup] = (good / "backups").iterdir()
    (data / "backups" / good_backup.name).write_bytes(good_backup.read_bytes())

    offered = run("incident", "list", data_dir=data)
    assert offered.returncode == 1
    assert str(database) in offered.stderr
    assert "db restore" in offered.stderr
    assert good_backup.name in offered.stderr
    assert database.read_bytes() == before, "a damaged file is never written"

    ok(run("db", "restore", data_dir=data))
    titles = [
        i["title"] for i in as_json(run("incident", "list", "--json", data_dir=data))["incidents"]
    ]
    assert titles == ["good"]
    assert [p.read_bytes() for p in damaged_files(data)] == [before]


def test_newer_database_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run("incident", "list", data_dir=data))
    connection = sqlite3.connect(data / "console.db")
    connection.execute("UPDATE alembic_version SET version_num = '0999_future'")
    connection.commit()
    connection.close()
    refused = run("incident", "list", data_dir=data)
    assert refused.returncode == 1
    assert "newer Responder Console" in refused.stderr
    assert "0999_future" in refused.stderr


# ------------------------------------------------------------ no Qt, script

NO_QT = """
import sys
from console.cli import main
code = main(["--data-dir", sys.argv[1], "incident", "declare", "--title", "t", "--severity", "2"])
assert code == 0, code
code = main(["--data-dir", sys.argv[1], "incident", "list"])
assert code == 0, code
code = main(["--data-dir", sys.argv[1], "db", "check"])
assert code == 0, code
leaked = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "ui")))
print("LEAKED=" + ",".join(leaked))
"""


def test_cli_commands_never_import_qt(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_QT, str(tmp_path / "data")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "LEAKED="


def test_installed_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "responder-console"
    if not script.exists():
        pytest.skip(f"no installed responder-console script next to {sys.executable}")
    data = tmp_path / "data"
    declared = as_json(
        run(
            "incident",
            "declare",
            "--title",
            "via script",
            "--severity",
            "S1",
            "--json",
            data_dir=data,
            program=[str(script)],
        )
    )
    assert declared["severity"] == "SEV1"
    version = run("--version", data_dir=None, program=[str(script)])
    assert version.returncode == 0
    assert version.stdout.startswith("responder-console ")
    bad = run("incident", "status", "1", "sideways", data_dir=data, program=[str(script)])
    assert bad.returncode == 2
    assert "unknown status 'sideways'" in bad.stderr


def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path: Path) -> None:
    """``responder-console search … --json | head -c 50``: the pipe closes early."""
    data, books = tmp_path / "data", tmp_path / "books"
    books.mkdir()
    for n in range(400):  # an answer of ~200 kB: more than a pipe holds
        (books / f"r{n}.md").write_text(f"# Restart service {n}\n\n" + "Restart it. " * 40)
    ok(run("import", "runbooks", str(books), data_dir=data))
    command = [sys.executable, "-m", "console", "--data-dir", str(data)]
    reader = subprocess.Popen(
        [*command, "search", "restart", "--limit", "400", "--json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    reader.stdout.read(50)
    reader.stdout.close()  # what head does after its bytes
    _, errors = reader.communicate(timeout=60)
    assert b"Traceback" not in errors, errors.decode()
    assert reader.returncode == 1


def test_search_says_how_long_it_took_and_which_query_it_answered(tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "patroni.md").write_text("# Patroni failover\n\nPromote a replica.\n")
    data = tmp_path / "data"
    assert run("import", "runbooks", str(folder), data_dir=data).returncode == 0

    result = run("search", "patroin", "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["query"] == "patroin"
    assert document["showing_results_for"] == "patroni"
    assert isinstance(document["elapsed_ms"], float)
    assert document["elapsed_ms"] > 0
    assert [hit["title"] for hit in document["results"]] == ["Patroni failover"]

    spelt = json.loads(run("search", "patroni", "--json", data_dir=data).stdout)
    assert spelt["showing_results_for"] is None

    text = run("search", "patroin", data_dir=data)
    assert text.stdout.startswith("Showing results for 'patroni'.\nPatroni failover\n")
