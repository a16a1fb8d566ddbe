"""The comms commands end to end through console.cli.main (in process, real files):
JSON shapes (README), exit codes (3 when some inputs were refused)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from console.cli import EXIT_OK, EXIT_PARTIAL, main
from tests.unit.support import ENTRY_KEYS

ACTION_KEYS = {
    "id", "uuid", "incident_id", "title", "owner", "due_on", "priority", "type", "status",
    "overdue", "created_at", "created_by", "done_at",
}  # fmt: skip


def cli(data: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data), "--as", "ana", *args], stdout=out)
    return code, out.getvalue()


def cli_json(data: Path, *args: str) -> Any:
    code, text = cli(data, *args, "--json")
    assert code == EXIT_OK, text
    return json.loads(text)


def test_update_import_export_and_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    cli_json(data, "incident", "declare", "--title", "Checkout down", "--severity", "SEV1",
             "--summary", "Payments fail.", "--ic", "Ana")  # fmt: skip
    listed = cli_json(data, "incident", "update", "1", "--list")
    assert {t["name"] for t in listed["templates"]} >= {"status-investigating", "can-report"}
    assert listed["refused"] == []

    draft = cli_json(data, "incident", "update", "1", "--template", "customer-email", "--send")
    assert set(draft) == {"template", "title", "audience", "markdown", "plain", "next_update",
                          "sent"}  # fmt: skip
    assert draft["template"] == "customer-email"
    assert "Payments fail." in draft["plain"]
    assert set(draft["sent"]) == ENTRY_KEYS
    assert draft["sent"]["kind"] == "status_update"
    code, plain = cli(data, "incident", "update", "1", "--template", "status-resolved", "--plain")
    assert code == EXIT_OK
    assert plain.startswith("Resolved — Checkout down")

    events = tmp_path / "alerts.csv"
    events.write_text(
        "timestamp,source,message\n2026-01-01T00:00:00Z,pager,fired\nbad,pager,x\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    code, text = cli(data, "incident", "import-timeline", "1", str(events), "--json")
    assert code == EXIT_PARTIAL
    report = json.loads(text)
    assert (report["added"], report["duplicates"]) == (1, 0)
    assert report["refused"] == [
        {
            "path": str(events),
            "line": 3,
            "reason": "timestamp 'bad' is not ISO 8601 or epoch seconds",
        }
    ]
    assert f"{events}:3: timestamp 'bad'" in capsys.readouterr().err
    code, text = cli(data, "incident", "import-timeline", "1", str(events), "--json")
    assert (code, json.loads(text)["duplicates"]) == (EXIT_PARTIAL, 1)

    added = cli_json(data, "actions", "add", "Alert", "on", "pool", "--owner", "Bob",
                     "--incident", "1", "--due", "2000-01-01", "--type", "detect")  # fmt: skip
    assert set(added) == ACTION_KEYS
    assert (added["title"], added["overdue"], added["type"]) == ("Alert on pool", True, "detect")
    assert cli_json(data, "actions", "list", "--overdue")["action_items"][0]["id"] == added["id"]
    code, markdown = cli(data, "actions", "list", "--format", "markdown")
    assert markdown.startswith("- [ ] Alert on pool — Bob (P2, detect, due 2000-01-01) **overdue**")
    assert cli_json(data, "actions", "done", str(added["id"]))["status"] == "done"
    assert cli_json(data, "actions", "list", "--open")["action_items"] == []

    code, postmortem = cli(data, "incident", "export", "1", "--postmortem", "--format", "markdown")
    assert code == EXIT_OK
    assert postmortem.startswith("# Postmortem: Checkout down")
    assert "- [x] Alert on pool — Bob" in postmortem
    code, html = cli(data, "incident", "export", "1", "--postmortem", "--format", "html")
    assert "<h1" in html
    code, html = cli(data, "incident", "export", "1", "--format", "html")
    assert (code, "Checkout down" in html) == (EXIT_OK, True)


def test_refusals_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    cli_json(data, "incident", "declare", "--title", "T", "--severity", "SEV3")
    assert cli(data, "incident", "update", "1", "--template", "nope")[0] == 1
    assert "no template 'nope'" in capsys.readouterr().err
    assert cli(data, "incident", "export", "1", "--postmortem", "--format", "json")[0] == 2
    assert cli(data, "actions", "add", "x", "--owner", "o", "--type", "fix")[0] == 2
    assert cli(data, "actions", "add", "x", "--owner", "o", "--due", "soon")[0] == 2
    assert cli(data, "actions", "done", "9")[0] == 1
    missing = tmp_path / "none.jsonl"
    assert cli(data, "incident", "import-timeline", "1", str(missing))[0] == 1
    assert "cannot be read" in capsys.readouterr().err
    assert cli(data, "incident", "import-timeline", "1", str(missing), "--tz", "Mars/Base")[0] == 2
    user = data / "templates" / "comms"
    user.mkdir(parents=True)
    (user / "bad.md").write_text("---\ntitle: b\n---\n{{ x\n", encoding="utf-8")
    code, _ = cli(data, "incident", "update", "1", "--list")
    assert code == EXIT_PARTIAL
    assert "bad.md:4: '{{' is not closed" in capsys.readouterr().err
