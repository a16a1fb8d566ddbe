"""``import runbooks`` on the hand-made collections (tests/fixtures/runbooks), through
the real CLI: a folder with nothing recognised exits 4 and says what it holds; the
summary counts warnings, formats and landing pages (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli import run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runbooks"


def test_cli_a_folder_with_nothing_recognised_exits_4_and_lists_what_it_holds(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    result = run("import", "runbooks", str(FIXTURES / "nothing"), "--json", data_dir=data)
    assert result.returncode == 4, result.stderr
    document = json.loads(result.stdout)
    assert document["nothing_found"] == [
        {
            "folder": str(FIXTURES / "nothing"),
            "found": {".rst": 2, ".png": 1, ".txt": 1, "(no ending)": 1},
        }
    ]
    assert "found instead: 2 .rst, 1 (no ending), 1 .png, 1 .txt" in result.stderr
    # with a folder that has runbooks beside it: still 4, and the runbooks are imported
    both = run(
        "import", "runbooks", str(FIXTURES / "nothing"), str(FIXTURES / "wiki"), data_dir=data
    )
    assert both.returncode == 4
    assert "3 new" in both.stdout
    assert f"Nothing recognised as a runbook in {FIXTURES / 'nothing'}." in both.stdout
    assert f"{FIXTURES / 'wiki' / '_Sidebar.md'}: skipped: a GitHub wiki's sidebar" in both.stderr


def test_cli_summary_counts_warnings_formats_and_landing_pages(tmp_path: Path) -> None:
    result = run(
        "import", "runbooks", str(FIXTURES / "plain"), "--json", data_dir=tmp_path / "data"
    )
    assert result.returncode == 3  # the binary, empty and undecodable files are refused
    document = json.loads(result.stdout)
    assert set(document) == {
        "sources", "imported", "updated", "unchanged", "removed", "refused", "skipped",
        "warnings", "formats", "landing", "nothing_found",
    }  # fmt: skip
    # the folder named became a source, with its own counts
    assert [(s["name"], s["created"], s["new"]) for s in document["sources"]] == [
        ("plain", True, 11)
    ]
    assert (document["imported"], document["landing"]) == (11, 2)
    assert document["formats"] == {"markdown": 11}
    assert len(document["warnings"]) == 9
    assert {"path", "warning"} == set(document["warnings"][0])
    text = run("import", "runbooks", str(FIXTURES / "middleman"), data_dir=tmp_path / "data")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "Runbooks: 4 new, 0 updated, 0 unchanged, 0 removed, 0 refused.",
        "Read as: 4 middleman.",
        "Source 'middleman' (new).",
    ]
