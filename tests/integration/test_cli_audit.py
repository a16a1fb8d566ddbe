"""``responder-console audit`` end to end through console.cli.main (in process, real files):
the JSON shape (README), the exports written with --out, the trend across runs, and a
target that cannot be written."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from console.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main

REPORT_KEYS = {"ran_at", "scores", "counts", "findings", "history"}
SCORE_KEYS = {"area", "score", "checked", "flagged", "previous", "change", "definition"}
FINDING_KEYS = {"id", "check", "area", "severity", "title", "objects", "fix"}


def cli(data: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data), "--as", "ana", *args], stdout=out)
    return code, out.getvalue()


def audit_json(data: Path, *args: str) -> Any:
    code, text = cli(data, "audit", "--json", *args)
    assert code == EXIT_OK, text
    return json.loads(text)


def test_audit_json_exports_and_trend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    first = audit_json(data)
    assert set(first) == REPORT_KEYS
    assert all(set(s) == SCORE_KEYS for s in first["scores"])
    assert [(f["check"], f["objects"][0]["key"]) for f in first["findings"]] == [
        ("cache-stale", "catalog"),
        ("cache-stale", "people"),
        ("cache-stale", "schedules"),
    ]
    assert all(set(f) == FINDING_KEYS for f in first["findings"])
    assert first["history"] == []

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "catalog: 1\nservices:\n  - {name: orders-api, owner: team-orders, tier: tier-1}\n",
        encoding="utf-8",
    )
    assert cli(data, "import", "catalog", str(catalog))[0] == EXIT_OK
    second = audit_json(data)
    owned = second["scores"][0]
    assert owned["area"] == "owned"
    assert (owned["checked"], owned["flagged"], owned["previous"]) == (2, 1, 0.0)
    assert owned["score"] == 50.0
    assert owned["change"] == 50.0
    assert len(second["history"]) == 1
    checks = {f["check"] for f in second["findings"]}
    assert {"service-without-escalation-policy", "service-without-runbook"} <= checks

    unsaved = audit_json(data, "--no-save")
    assert len(unsaved["history"]) == 2
    assert len(audit_json(data)["history"]) == 2  # the --no-save run was not stored

    code, text = cli(data, "audit")
    assert code == EXIT_OK
    assert text.startswith("Readiness audit ")
    assert "[high] owned: Service orders-api has no escalation policy" in text

    for fmt, start in (("markdown", "# Readiness audit"), ("html", "<!DOCTYPE html>")):
        target = tmp_path / f"audit.{fmt}"
        code, text = cli(data, "audit", "--format", fmt, "--out", str(target))
        assert code == EXIT_OK
        assert text.startswith(f"Wrote the audit to {target}")
        assert target.read_text(encoding="utf-8").startswith(start)
    code, text = cli(data, "audit", "--json", "--out", str(tmp_path / "audit.json"))
    assert code == EXIT_OK
    assert set(json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))) == REPORT_KEYS

    capsys.readouterr()
    code, _ = cli(data, "audit", "--out", str(tmp_path / "missing" / "audit.md"))
    assert code == EXIT_FAILED
    err = capsys.readouterr().err
    assert "Cannot write the audit report" in err
    assert f"the folder {tmp_path / 'missing'} does not exist" in err
    assert not (tmp_path / "missing").exists()
    with pytest.raises(SystemExit) as usage:
        cli(data, "audit", "--format", "pdf")
    assert usage.value.code == EXIT_USAGE


def test_audit_of_the_demo_names_its_gaps(tmp_path: Path) -> None:
    out = io.StringIO()
    code = main(["--data-dir", str(tmp_path), "--demo", "audit", "--json"], stdout=out)
    assert code == EXIT_OK
    document = json.loads(out.getvalue())
    checks = {f["check"] for f in document["findings"]}
    assert {"service-without-escalation-policy", "schedule-gap", "alert-without-runbook"} <= checks
