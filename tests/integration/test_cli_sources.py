"""``sources list/add/refresh/remove`` and ``runbook list/show`` through the real CLI
(issue 15 items 1 and 7), with the shapes of their ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli import ok, run


def _folder(root: Path, word: str) -> Path:
    (root / "db").mkdir(parents=True)
    (root / "db" / "failover.md").write_text(
        f"---\nowner: team-db\nservices: [orders-db]\nlast_reviewed: 2020-01-01\n---\n"
        f"# {word} failover\n\n```sh\nunclosed\n",
        encoding="utf-8",
    )
    (root / "disk-full.md").write_text(f"# {word} disk full\n\nSteps.\n", encoding="utf-8")
    return root


def test_sources_add_list_refresh_remove(tmp_path: Path) -> None:
    data = tmp_path / "data"
    english, japanese = _folder(tmp_path / "docs", "English"), _folder(tmp_path / "ja", "日本語")
    added = json.loads(ok(run("sources", "add", str(english), "--json", data_dir=data)))
    assert added["sources"] == [
        {
            "name": "docs",
            "path": str(english),
            "kind": "markdown",
            "created": True,
            "new": 2,
            "updated": 0,
            "unchanged": 0,
            "removed": 0,
            "refused": 0,
            "skipped": 0,
            "warnings": 1,
        }
    ]
    text = ok(run("sources", "add", str(japanese), "--name", "docs-ja", data_dir=data))
    assert text.startswith(f"new source 'docs-ja' (markdown, {japanese}): 2 new, 0 updated")
    again = run("sources", "add", str(japanese), data_dir=data)
    assert again.returncode == 2
    assert "already the runbook source 'docs-ja': refresh it" in again.stderr

    listed = json.loads(ok(run("sources", "list", "--json", data_dir=data)))["sources"]
    assert [(s["name"], s["runbooks"], s["with_warnings"], s["overdue"]) for s in listed] == [
        ("docs", 2, 1, 2),
        ("docs-ja", 2, 1, 2),
    ]
    assert set(listed[0]) == {
        "name", "path", "kind", "origin", "added_at", "imported_at", "runbooks",
        "with_warnings", "landing", "overdue", "last_import", "path_exists",
    }  # fmt: skip
    assert listed[0]["last_import"]["new"] == 2
    text = ok(run("sources", "list", data_dir=data))
    assert "docs  markdown  2 runbooks (1 with warnings, 2 overdue)  imported just now" in text

    (english / "disk-full.md").unlink()
    (english / "new.md").write_text("# New\n")
    refreshed = json.loads(ok(run("sources", "refresh", "docs", "--json", data_dir=data)))
    [source] = refreshed["sources"]
    assert (source["new"], source["unchanged"], source["removed"], source["created"]) == (
        1,
        1,
        1,
        False,
    )
    everything = json.loads(ok(run("sources", "refresh", "--json", data_dir=data)))
    assert [s["name"] for s in everything["sources"]] == ["docs", "docs-ja"]
    missing = run("sources", "refresh", "nope", data_dir=data)
    assert missing.returncode == 1
    assert "no runbook source 'nope' (sources: docs, docs-ja)" in missing.stderr

    removed = json.loads(ok(run("sources", "remove", "docs", "--json", data_dir=data)))
    assert removed == {"removed": "docs", "path": str(english), "runbooks_removed": 2}
    left = json.loads(ok(run("runbook", "list", "--json", data_dir=data)))["runbooks"]
    assert {(r["source"], r["local_id"]) for r in left} == {
        ("docs-ja", "db-failover"),
        ("docs-ja", "disk-full"),
    }


def test_runbook_list_and_show(tmp_path: Path) -> None:
    data = tmp_path / "data"
    english, japanese = _folder(tmp_path / "en", "English"), _folder(tmp_path / "ja", "日本語")
    ok(run("import", "runbooks", str(english), str(japanese), data_dir=data))
    listed = json.loads(ok(run("runbook", "list", "--json", data_dir=data)))["runbooks"]
    assert [r["id"] for r in listed] == [
        "db-failover",
        "disk-full",
        "ja:db-failover",
        "ja:disk-full",
    ]
    assert set(listed[0]) == {
        "id", "source", "local_id", "title", "path", "format", "landing", "warnings",
        "owner", "last_reviewed", "review_due", "overdue",
    }  # fmt: skip
    assert (listed[0]["warnings"], listed[0]["overdue"], listed[0]["owner"]) == (1, True, "team-db")
    only = json.loads(ok(run("runbook", "list", "--source", "ja", "--json", data_dir=data)))
    assert [r["id"] for r in only["runbooks"]] == ["ja:db-failover", "ja:disk-full"]
    overdue = json.loads(ok(run("runbook", "list", "--overdue", "--json", data_dir=data)))
    assert {r["local_id"] for r in overdue["runbooks"]} == {"db-failover", "disk-full"}
    text = ok(run("runbook", "list", data_dir=data))
    assert (
        "ja:db-failover  日本語 failover  [ja]  (review overdue since 2020-06-29; 1 warning)"
        in text
    )

    shown = json.loads(ok(run("runbook", "show", "ja:db-failover", "--json", data_dir=data)))
    assert (shown["source"], shown["source_path"], shown["local_id"], shown["format"]) == (
        "ja",
        str(japanese),
        "db-failover",
        "markdown",
    )
    assert shown["path"] == str(japanese / "db" / "failover.md")
    assert shown["warnings"][0].startswith("line 8: code fence never closed")
    assert "body" not in shown
    # the English one by its bare id, or as SOURCE:ID
    text = ok(run("runbook", "show", "en:db-failover", data_dir=data))
    assert text.splitlines()[:3] == [
        "English failover",
        "  id        db-failover",
        f"  source    en ({english}), id there: db-failover",
    ]
    assert "  warnings  1 (fix them in the file, then refresh):" in text
    gone = run("runbook", "show", "nope", data_dir=data)
    assert gone.returncode == 1
    assert "no runbook 'nope'" in gone.stderr
