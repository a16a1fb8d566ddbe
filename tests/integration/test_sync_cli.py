"""The sync CLI as a subprocess, and the token's absence from everything we write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.emulators.loopback import Fault
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.emulators.pagerduty import PagerDutyEmulator

REPO = Path(__file__).resolve().parents[2]
TOKEN = "u+SeCrEt-TOKEN-4711-do-not-leak"


@pytest.fixture
def emulator() -> Iterator[PagerDutyEmulator]:
    server = PagerDutyEmulator(token=TOKEN).start()
    yield server
    server.stop()


def _cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "--data-dir", str(data_dir), "--as", "alice", *args],
        cwd=REPO,
        env={
            **os.environ,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_account_and_sync_commands_push_and_report_in_json(
    data_dir: Path, emulator: PagerDutyEmulator
) -> None:
    env = {"RESPONDER_CONSOLE_PAGERDUTY_TOKEN": TOKEN}
    added = _cli(
        data_dir,
        "account",
        "add",
        "pagerduty",
        "--base-url",
        emulator.base_url,
        "--from",
        "alice@example.com",
        "--default-service",
        "PSERV01",
        "--json",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["token"] == "environment"
    declared = _cli(
        data_dir, "incident", "declare", "--title", "Checkout down", "--severity", "SEV2"
    )
    assert declared.returncode == 0, declared.stderr
    assert _cli(data_dir, "incident", "note", "1", "rolled back").returncode == 0
    once = _cli(data_dir, "sync", "once", "--json", env=env)
    assert once.returncode == 0, once.stderr
    report = json.loads(once.stdout)
    assert set(report) == {
        "vendor",
        "pushed",
        "superseded",
        "failed",
        "deferred",
        "waiting",
        "blocked",
        "stopped",
        "errors",
        "next_run_in",
        "requests",
        "pulled",
    }
    assert (report["pushed"], report["waiting"]) == (2, 0)
    (pulled,) = report["pulled"]
    assert set(pulled) == {
        "vendor", "sets", "failed", "requests", "errors", "stopped", "cancelled"
    }  # fmt: skip
    assert pulled["failed"] == {}
    assert set(pulled["sets"]) == {
        "users", "escalation_policies", "schedules", "services", "incidents"
    }  # fmt: skip
    status = json.loads(_cli(data_dir, "sync", "status", "--json", env=env).stdout)
    assert set(status) == {
        "accounts", "pulled", "keyring", "outbox", "queued", "failed", "blocked", "superseded"
    }  # fmt: skip
    assert status["queued"] == []
    assert status["pulled"]["pagerduty.users"]["age"] == "just now"
    assert status["pulled"]["pagerduty.users"]["source"] == f"pagerduty: {emulator.base_url}"
    assert status["keyring"] is None  # the fail backend: no keyring on this machine
    assert status["outbox"] == {
        "pending": 0, "sent": 0, "done": 2, "failed": 0, "superseded": 0, "blocked": 0
    }  # fmt: skip
    assert status["accounts"][0]["last_success_age"] == "just now"
    # exported incident, database, WAL and logs hold no trace of the token
    exported = _cli(data_dir, "incident", "export", "1", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    assert TOKEN not in exported.stdout
    verbose = _cli(data_dir, "-v", "sync", "once", env=env)
    assert TOKEN not in verbose.stderr + verbose.stdout
    written = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".db") for p in written)
    assert any(p.suffix == ".log" for p in written)
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), path


def test_a_vendor_echoing_the_token_leaves_no_trace_in_storage_backups_or_output(
    data_dir: Path, emulator: PagerDutyEmulator
) -> None:
    """A vendor error that repeats the request's Authorization header: refused (400),
    failing (500, retried) and refusing the token (401). The token is in none of
    outbox.last_error, sync_accounts.last_error, a backup, `sync status --json`,
    `account list --json`, the command output or any file in the data folder."""
    env = {"RESPONDER_CONSOLE_PAGERDUTY_TOKEN": TOKEN}
    added = _cli(
        data_dir, "account", "add", "pagerduty", "--base-url", emulator.base_url,
        "--from", "alice@example.com", "--default-service", "PSERV01", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    for title in ("Checkout down", "Search slow"):
        declared = _cli(data_dir, "incident", "declare", "--title", title, "--severity", "SEV2")
        assert declared.returncode == 0, declared.stderr
    # the first creation is refused, the second meets 500s until the pass gives up
    emulator.script_on("POST", "/incidents", Fault.ECHO_400, *[Fault.ECHO_500] * 6)
    outputs = [_cli(data_dir, "sync", "once", "--json", env=env)]
    once = json.loads(outputs[-1].stdout)
    assert (once["failed"], once["pushed"]) == (1, 0)
    outputs.append(_cli(data_dir, "sync", "status", "--json", env=env))
    status = json.loads(outputs[-1].stdout)
    [failed] = status["failed"]
    assert "Authorization: Token [redacted]" in failed["error"]  # the echo was there
    [retried] = [q for q in status["queued"] if q["error"]]
    assert "HTTP 500" in retried["error"]
    assert "Authorization: Token [redacted]" in retried["error"]
    # a 401 that echoes the header stops the account with the vendor's words
    emulator.script(Fault.ECHO_401)
    outputs.append(_cli(data_dir, "-v", "sync", "pull", "--json", env=env))
    outputs.append(_cli(data_dir, "account", "list", "--json"))
    [account] = json.loads(outputs[-1].stdout)["accounts"]
    assert "refused the token" in account["stopped"]
    assert "Authorization: Token [redacted]" in account["last_error"]
    outputs.append(_cli(data_dir, "sync", "status", "--json", env=env))
    outputs.append(_cli(data_dir, "db", "backup"))
    assert outputs[-1].returncode == 0, outputs[-1].stderr
    echoed = [r for r in emulator.requests if r.fault and r.fault.value.startswith("echo")]
    assert len(echoed) >= 3
    leaks = (TOKEN, quote(TOKEN, safe=""))
    for output in outputs:
        for leak in leaks:
            assert leak not in output.stdout + output.stderr, output.args
    written = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any("backup" in str(p.relative_to(data_dir)) for p in written)
    for path in written:
        for leak in leaks:
            assert leak.encode() not in path.read_bytes(), path


def test_without_a_keyring_adding_a_token_says_so_and_changes_nothing(
    data_dir: Path, emulator: PagerDutyEmulator
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "--data-dir",
            str(data_dir),
            "account",
            "add",
            "pagerduty",
            "--base-url",
            emulator.base_url,
            "--from",
            "a@example.com",
            "--default-service",
            "PSERV01",
            "--token-stdin",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
        input=TOKEN + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "no OS keyring is available" in result.stderr
    assert "RESPONDER_CONSOLE_PAGERDUTY_TOKEN" in result.stderr
    assert TOKEN not in result.stderr
    listed = _cli(data_dir, "account", "list", "--json")
    assert json.loads(listed.stdout) == {"accounts": []}


def test_opsgenie_account_modes_and_a_push_from_the_cli(data_dir: Path) -> None:
    emulator = OpsgenieEmulator(token=TOKEN).start()
    try:
        env = {"RESPONDER_CONSOLE_OPSGENIE_TOKEN": TOKEN}
        base = ["account", "add", "opsgenie", "--base-url", emulator.base_url]
        refused = _cli(data_dir, *base, "--mode", "incident", env=env)
        assert refused.returncode != 0
        assert "--default-service ID" in refused.stderr
        assert json.loads(_cli(data_dir, "account", "list", "--json").stdout) == {"accounts": []}
        added = _cli(data_dir, *base, "--json", env=env)
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["mode"] == "alert"
        declared = _cli(
            data_dir, "incident", "declare", "--title", "Queue stuck", "--severity", "SEV3"
        )
        assert declared.returncode == 0, declared.stderr
        once = _cli(data_dir, "sync", "once", "--json", env=env)
        assert once.returncode == 0, once.stderr
        report = json.loads(once.stdout)
        assert (report["vendor"], report["pushed"], report["waiting"]) == ("opsgenie", 1, 0)
        [alert] = emulator.alerts.values()
        assert alert.message == "Queue stuck"
        for path in (p for p in data_dir.rglob("*") if p.is_file()):
            assert TOKEN.encode() not in path.read_bytes(), path
    finally:
        emulator.stop()


def test_sync_pull_reports_each_set_and_exits_3_when_one_was_refused(
    data_dir: Path, emulator: PagerDutyEmulator
) -> None:
    env = {"RESPONDER_CONSOLE_PAGERDUTY_TOKEN": TOKEN}
    emulator.populate(users=120, schedules=2, days=7)
    added = _cli(
        data_dir, "account", "add", "pagerduty", "--base-url", emulator.base_url,
        "--from", "alice@example.com", "--default-service", "PSERV01", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    pulled = _cli(data_dir, "sync", "pull", "--json", env=env)
    assert pulled.returncode == 0, pulled.stderr
    (report,) = json.loads(pulled.stdout)["pulled"]
    assert report["sets"]["users"]["contacts_new"] == 120
    assert report["sets"]["schedules"]["schedules"] == 2
    assert report["requests"] == 2 + 1 + 1 + 1 + 2 + 1
    people = json.loads(_cli(data_dir, "people", "--json").stdout)
    assert len(people["people"]) == 120

    emulator.bad_page = ("/escalation_policies", 0)
    refused = _cli(data_dir, "sync", "pull", env=env)
    assert refused.returncode == 3
    assert "GET /escalation_policies (offset 0)" in refused.stdout
    assert "Pulled from pagerduty" in refused.stdout
