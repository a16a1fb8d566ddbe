"""Runbook sources (issue 15 item 1): each imported folder is a source, ids are unique
within it, two sources never collide, removing one removes exactly its runbooks, a
refresh reports new / updated / unchanged / removed, and 0017 puts the runbooks of an
older database into sources without changing an id."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.domain.errors import InvalidInputError, NotFoundError
from console.importers.runbooks import import_runbooks
from console.library import RunbookLibrary
from console.storage.db import HEAD_REVISION, Database, open_database
from tests.unit.support import FakeClock
from tests.unit.test_storage import _open_at_revision

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def _collection(root: Path, title: str, extra: str) -> Path:
    """The same layout in every collection (as the PagerDuty docs and their translation)."""
    for relative, heading in (
        ("README.md", f"{title} docs"),
        ("during/during_an_incident.md", f"{title} during an incident"),
        ("before/severity_levels.md", f"{title} severity levels"),
        ("oncall/alerting_principles.md", f"{title} alerting principles"),
    ):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {heading}\n\n{extra} words of {relative}.\n", encoding="utf-8")
    return root


@pytest.fixture
def library(db: Database) -> RunbookLibrary:
    return RunbookLibrary(db, clock=FakeClock(NOW))


def _words(db: Database, term: str) -> list[str]:
    with db.raw_reader() as raw:
        return [
            row[0]
            for row in raw.execute(
                "SELECT r.slug FROM runbooks_fts JOIN runbooks r ON r.id = runbooks_fts.rowid "
                "WHERE runbooks_fts MATCH ? ORDER BY r.slug",
                (f'"{term}"',),
            )
        ]


def test_two_sources_with_the_same_layout_never_collide(
    tmp_path: Path, library: RunbookLibrary, db: Database
) -> None:
    english = _collection(tmp_path / "incident-response-docs", "English", "zebra")
    japanese = _collection(tmp_path / "incident-response-docs-ja", "日本語", "ことば")
    report = library.import_paths([english, japanese])
    assert report.refused == []  # no "duplicate id"
    assert (report.imported, [(s.name, s.created, s.imported) for s in report.sources]) == (
        8,
        [("incident-response-docs", True, 4), ("incident-response-docs-ja", True, 4)],
    )
    # the first source's ids are its local ids; the second's take its name in front
    listed = {(e.source, e.local_id): e.id for e in library.runbooks()}
    assert listed[("incident-response-docs", "during-during_an_incident")] == (
        "during-during_an_incident"
    )
    assert listed[("incident-response-docs-ja", "during-during_an_incident")] == (
        "incident-response-docs-ja:during-during_an_incident"
    )
    # both are searchable
    assert len(_words(db, "zebra")) == 4
    assert len(_words(db, "日本語")) == 4
    # each resolves by its id and as SOURCE:LOCAL, even the one whose id is bare
    doc = library.get("incident-response-docs:during-during_an_incident")
    assert (doc.source, doc.title) == ("incident-response-docs", "English during an incident")
    doc = library.get("incident-response-docs-ja:during-during_an_incident")
    assert (doc.source, doc.local_id, doc.source_path) == (
        "incident-response-docs-ja",
        "during-during_an_incident",
        str(japanese),
    )
    # importing both again: two refreshes, nothing new, no new source
    again = library.import_paths([english, japanese])
    assert (again.imported, again.unchanged, again.refused) == (0, 8, [])
    assert [s.created for s in again.sources] == [False, False]
    assert [s.name for s in library.sources()] == [
        "incident-response-docs",
        "incident-response-docs-ja",
    ]


def test_a_duplicate_id_within_one_source_is_still_refused(
    tmp_path: Path, library: RunbookLibrary
) -> None:
    root = tmp_path / "rb"
    root.mkdir()
    (root / "a.md").write_text("---\nid: same\n---\n# A\n")
    (root / "b.md").write_text("---\nid: same\n---\n# B\n")
    report = library.import_paths([root])
    assert [r.reason for r in report.refused] == [
        f"duplicate id 'same' in source 'rb': already used by {root / 'a.md'}"
    ]
    assert report.sources[0].refused == 1


def test_removing_a_source_removes_exactly_its_runbooks_and_their_index_rows(
    tmp_path: Path, library: RunbookLibrary, db: Database
) -> None:
    english = _collection(tmp_path / "en", "English", "zebra")
    japanese = _collection(tmp_path / "ja", "日本語", "ことば")
    library.import_paths([english, japanese])
    source, removed = library.remove_source("en")
    assert (source.name, removed) == ("en", 4)
    assert [s.name for s in library.sources()] == ["ja"]
    assert _words(db, "zebra") == []
    assert len(_words(db, "日本語")) == 4
    with db.raw_reader() as raw:
        raw.execute("INSERT INTO runbooks_fts(runbooks_fts, rank) VALUES ('integrity-check', 1)")
        assert raw.execute("SELECT count(*) FROM runbooks").fetchone()[0] == 4
    with pytest.raises(NotFoundError, match="no runbook source 'en' \\(sources: ja\\)"):
        library.remove_source("en")
    # the folder can be a source again; its ids were freed with it
    report = library.add_source(english)
    assert report.imported == 4
    assert {e.id for e in library.runbooks(source="en")} == {
        "en-readme",
        "during-during_an_incident",
        "before-severity_levels",
        "oncall-alerting_principles",
    }


def test_a_refresh_reports_new_updated_unchanged_removed_for_its_source_only(
    tmp_path: Path, library: RunbookLibrary
) -> None:
    english = _collection(tmp_path / "en", "English", "zebra")
    japanese = _collection(tmp_path / "ja", "日本語", "ことば")
    library.import_paths([english, japanese])
    before = {e.id for e in library.runbooks(source="en")}
    (english / "during/during_an_incident.md").write_text("# Changed\n\nnew text\n")
    (english / "oncall/alerting_principles.md").unlink()
    (english / "after").mkdir()
    (english / "after/postmortems.md").write_text("# Postmortems\n")
    # the Japanese source has the same file: it stays
    report = library.refresh_source("en")
    [source] = report.sources
    assert (source.imported, source.updated, source.unchanged, source.removed) == (1, 1, 2, 1)
    assert (report.imported, report.updated, report.unchanged, report.removed) == (1, 1, 2, 1)
    after = {e.id for e in library.runbooks(source="en")}
    assert before - after == {"oncall-alerting_principles"}
    assert len(library.runbooks(source="ja")) == 4
    assert library.get("ja:oncall-alerting_principles").title == "日本語 alerting principles"
    # what the last import did is kept with the source
    listed = {s.name: s for s in library.sources()}
    assert listed["en"].last_import["removed"] == 1
    assert listed["en"].runbooks == 4
    assert listed["en"].imported_at == NOW
    # a source whose folder is gone says what to do
    renamed = tmp_path / "elsewhere"
    os.rename(english, renamed)
    with pytest.raises(InvalidInputError, match="the folder of source 'en' is gone"):
        library.refresh_source("en")
    assert len(library.runbooks(source="en")) == 4  # nothing removed


def test_add_refuses_a_folder_that_is_a_source_already(
    tmp_path: Path, library: RunbookLibrary
) -> None:
    english = _collection(tmp_path / "en", "English", "zebra")
    library.add_source(english, name="english")
    with pytest.raises(InvalidInputError, match="already the runbook source 'english'"):
        library.add_source(english)
    other = _collection(tmp_path / "other", "Other", "x")
    with pytest.raises(InvalidInputError, match="already named 'english'"):
        library.add_source(other, name="english")
    with pytest.raises(InvalidInputError, match="is inside the runbook source 'english'"):
        library.add_source(english / "during")
    assert [s.name for s in library.sources()] == ["english"]


def test_a_file_named_from_an_imported_folder_stays_in_that_source(
    tmp_path: Path, library: RunbookLibrary
) -> None:
    english = _collection(tmp_path / "en", "English", "zebra")
    library.import_paths([english])
    file = english / "before/severity_levels.md"
    file.write_text("# Severity, again\n")
    report = library.import_paths([file])
    assert (report.updated, [s.name for s in report.sources]) == (1, ["en"])
    assert [s.name for s in library.sources()] == ["en"]
    # its id is still its path in the source's folder, not in its own folder
    assert library.get("before-severity_levels").title == "Severity, again"
    # a new file named inside the folder joins its source too (nothing else is removed)
    (english / "after").mkdir()
    (english / "after/postmortem.md").write_text("# Postmortem\n")
    report = library.import_paths([english / "after/postmortem.md"])
    assert (report.imported, report.removed, [s.name for s in report.sources]) == (1, 0, ["en"])
    assert [s.name for s in library.sources()] == ["en"]
    assert library.get("en:after-postmortem").title == "Postmortem"
    # a folder named inside it: read in that source too, its files gone from it removed
    (english / "after/postmortem.md").unlink()
    (english / "after/review.md").write_text("# Review\n")
    report = library.import_paths([english / "after"])
    assert (report.imported, report.removed, [s.name for s in report.sources]) == (1, 1, ["en"])
    assert library.get("en:after-review").source == "en"
    assert len(library.runbooks(source="en")) == 5
    # a folder holding another source's files passes over them, saying whose they are
    report = library.import_paths([tmp_path])
    assert report.imported == 0
    assert {r.reason.split(" (")[0] for r in report.skipped} == {"already in source 'en'"}


def test_a_folder_with_nothing_recognised_does_not_become_a_source(
    tmp_path: Path, library: RunbookLibrary
) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    report = library.import_paths([tmp_path / "notes"])
    assert report.nothing_found
    assert report.sources == []
    assert library.sources() == []


def test_list_filters_by_source_and_overdue(tmp_path: Path, library: RunbookLibrary) -> None:
    root = tmp_path / "rb"
    root.mkdir()
    (root / "fresh.md").write_text("---\nlast_reviewed: 2026-12-01\n---\n# Fresh\n")
    (root / "stale.md").write_text("---\nlast_reviewed: 2020-01-01\n---\n# Stale\n")
    library.import_paths([root])
    assert [e.id for e in library.runbooks(overdue=True)] == ["stale"]
    assert [e.id for e in library.runbooks(source=str(root))] == ["fresh", "stale"]
    with pytest.raises(NotFoundError, match="no runbook source 'nope'"):
        library.runbooks(source="nope")


def _insert_legacy(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """Rows as a 0016 build stored them: (slug, file path, import root)."""
    with sqlite3.connect(path) as raw:
        for number, (slug, file, root) in enumerate(rows, 1):
            raw.execute(
                "INSERT INTO runbooks (uuid, slug, title, path, source_root, content_hash, "
                "mtime_ns, size, body, services, symptoms, alerts, review_every_days, "
                "imported_at, extra, format) VALUES (?, ?, ?, ?, ?, '', 0, 1, ?, '[]', '[]', "
                "'[]', 180, ?, '{}', 'markdown')",
                (
                    f"{number:032x}",
                    slug,
                    slug.title(),
                    file,
                    root,
                    f"legacy body {slug}",
                    f"2026-11-0{number}T00:00:00.000000Z",
                ),
            )


def test_migration_0017_puts_existing_runbooks_in_sources_keeping_their_ids(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOW)
    first, second = tmp_path / "team" / "docs", tmp_path / "other" / "docs"
    for folder in (first, second):
        folder.mkdir(parents=True)
    path = data_dir / "console.db"
    with monkeypatch.context() as patched:
        _open_at_revision(path, clock, patched, "0016_runbook_format").close()
    _insert_legacy(
        path,
        [
            ("disk-full", str(first / "disk-full.md"), str(first)),
            ("dns", str(first / "dns.md"), str(first)),
            ("failover", str(second / "failover.md"), str(second)),
        ],
    )
    with sqlite3.connect(path) as raw:  # a timeline entry names a runbook by its id
        raw.execute(
            "INSERT INTO incidents (uuid, title, severity, status, declared_at, declared_by, "
            "updated_at, last_seq, summary) VALUES ('aa', 'i', 'SEV2', 'open', "
            "'2026-12-01T00:00:00.000000Z', 'ana', '2026-12-01T00:00:00.000000Z', 0, '')"
        )
    db = open_database(path, clock=clock)
    try:
        with db.raw_reader() as raw:
            assert raw.execute("SELECT version_num FROM alembic_version").fetchone()[0] == (
                HEAD_REVISION
            )
            rows = raw.execute(
                "SELECT r.slug, r.local_id, s.name, s.origin FROM runbooks r "
                "JOIN runbook_sources s ON s.id = r.source_id ORDER BY r.slug"
            ).fetchall()
        # one source per import root, named after its folder (roots in path order)
        assert rows == [
            ("disk-full", "disk-full", "team-docs", "legacy"),
            ("dns", "dns", "team-docs", "legacy"),
            ("failover", "failover", "docs", "legacy"),
        ]
        library = RunbookLibrary(db, clock=clock)
        listed = {s.name: s for s in library.sources()}
        assert (
            listed["team-docs"].path,
            listed["team-docs"].runbooks,
            listed["team-docs"].kind,
        ) == (
            str(first),
            2,
            "markdown",
        )
        assert library.get("disk-full").source == "team-docs"  # old ids resolve as they were
        assert library.get("docs:failover").title == "Failover"
        # refreshing a legacy source: its files read again (ids kept), a gone one removed
        (first / "disk-full.md").write_text("# Disk full\n")
        (first / "new.md").write_text("# New\n")
        report = import_runbooks(db, [first], clock=clock)
        assert (report.imported, report.updated, report.removed) == (1, 1, 1)
        assert report.sources[0].name == "team-docs"
        assert library.get("disk-full").title == "Disk full"
        assert {e.id for e in library.runbooks(source="docs")} == {"failover"}
        with db.raw_reader() as raw:
            report_json = raw.execute(
                "SELECT last_import FROM runbook_sources WHERE name = 'team-docs'"
            ).fetchone()[0]
        assert json.loads(report_json)["new"] == 1
    finally:
        db.close()


def test_downgrade_to_0016_and_up_again_keeps_runbooks_and_their_index(
    tmp_path: Path, data_dir: Path
) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from console.storage.migrate import alembic_config

    clock = FakeClock(NOW)
    path = data_dir / "console.db"
    db = open_database(path, clock=clock)
    RunbookLibrary(db, clock=clock).import_paths(
        [
            _collection(tmp_path / "en", "English", "zebra"),
            _collection(tmp_path / "ja", "日本語", "x"),
        ]
    )
    db.close()
    engine = create_engine(f"sqlite:///{path}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0016_runbook_format")
    engine.dispose()
    with sqlite3.connect(path) as raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(runbooks)")}
        assert not {"source_id", "local_id"} & columns
        assert (
            raw.execute("SELECT name FROM sqlite_master WHERE name = 'runbook_sources'").fetchall()
            == []
        )
        raw.execute("INSERT INTO runbooks_fts(runbooks_fts, rank) VALUES ('integrity-check', 1)")
        matched = raw.execute("SELECT count(*) FROM runbooks_fts WHERE runbooks_fts MATCH 'zebra'")
        assert matched.fetchone()[0] == 4
    db = open_database(path, clock=clock)  # up again: the ids as they were, in legacy sources
    try:
        library = RunbookLibrary(db, clock=clock)
        assert [(s.name, s.origin, s.runbooks) for s in library.sources()] == [
            ("en", "legacy", 4),
            ("ja", "legacy", 4),
        ]
        assert library.get("ja:during-during_an_incident").source == "ja"
    finally:
        db.close()
