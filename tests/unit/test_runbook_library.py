"""RunbookLibrary: the runbook read/import API the window uses (core only, no Qt)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from console.domain.errors import NotFoundError
from console.library import RunbookLibrary, library_for
from console.ops.workspace import Workspace
from console.search.runbooks import MARK_END, MARK_START
from console.storage.db import Database
from tests.unit.support import FakeClock

REPO_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
TODAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def library(db: Database) -> RunbookLibrary:
    lib = RunbookLibrary(db, clock=FakeClock(TODAY))
    report = lib.import_paths([REPO_RUNBOOKS])
    assert report.refused == []
    # ten runbooks and the folder's README, a landing page (issue 15)
    assert (report.imported, report.landing, report.formats) == (11, 1, {"markdown": 11})
    return lib


def test_search_ranks_and_marks(library: RunbookLibrary) -> None:
    hits = library.search("pool tim")
    assert hits[0].slug == "db-connection-exhaustion"
    assert any(MARK_START in h.snippet and MARK_END in h.snippet for h in hits)


def test_empty_query_lists_every_runbook_by_title(library: RunbookLibrary) -> None:
    hits = library.search("")
    assert len(hits) == 11
    titles = [h.title for h in hits]
    assert titles == sorted(titles, key=str.casefold)
    assert library.search("   ", limit=3) == hits[:3]
    assert library.search("*") == hits  # no words: a listing, never an error


def test_filters_apply_to_search_and_listing(library: RunbookLibrary) -> None:
    overdue = {h.slug for h in library.search("", stale=True)}
    assert overdue == {"certificate-expiry", "disk-full"}
    current = {h.slug for h in library.search("", stale=False)}
    assert overdue.isdisjoint(current)
    assert len(current) == 8
    cert = library.get("certificate-expiry")
    assert cert.owner is not None
    owned = library.search("", owner=cert.owner.upper())
    assert "certificate-expiry" in {h.slug for h in owned}
    assert all(h.owner == cert.owner for h in owned)
    service = cert.services[0]
    assert all(service in h.services for h in library.search("", service=service))
    assert library.search("certificate", service="no-such-service") == []


def test_get_by_id_and_slug(library: RunbookLibrary) -> None:
    cert = library.get("certificate-expiry")
    assert library.get(cert.id) == cert
    assert cert.title == "TLS certificate expired or about to expire"
    assert cert.last_reviewed == date(2026, 3, 10)
    assert cert.review_every_days == 90
    assert cert.review_due == date(2026, 6, 8)
    assert cert.overdue
    assert "x509" in cert.symptoms
    assert cert.severity_hint == "SEV1"
    assert not cert.body.startswith("---")  # front matter stripped
    assert cert.folder == REPO_RUNBOOKS
    assert not library.get("dns-failure").overdue
    with pytest.raises(NotFoundError):
        library.get("nope")
    with pytest.raises(NotFoundError):
        library.get(10_000)


def test_facets(library: RunbookLibrary) -> None:
    services, owners = library.facets()
    assert "api-gateway" in services
    assert "team-platform" in owners
    assert list(services) == sorted(services, key=str.casefold)
    assert len(set(owners)) == len(owners)
    assert library.count() == 11


def test_import_reports_progress_refusals_and_cancel(db: Database, tmp_path: Path) -> None:
    lib = RunbookLibrary(db, clock=FakeClock(TODAY))
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(30):
        (folder / f"r{n:03}.md").write_text(f"# Runbook {n}\n\nStep {n}.\n", encoding="utf-8")
    (folder / "bad.md").write_bytes(b"# Bad\n\x00")
    seen: list[tuple[int, int]] = []
    report = lib.import_paths([folder], progress=lambda d, t: seen.append((d, t)))
    assert report.imported == 30
    assert [r.path for r in report.refused] == [str(folder / "bad.md")]
    assert seen[-1] == (31, 31)

    class Cancelled:
        cancelled = True

    (folder / "new.md").write_text("# New\n", encoding="utf-8")
    stopped = lib.import_paths([folder], cancel=Cancelled())
    assert stopped.cancelled
    assert lib.count() == 30


def test_library_for_a_workspace(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path / "ws", actor="t", clock=FakeClock(TODAY))
    try:
        lib = library_for(workspace)
        assert lib.today() == date(2026, 11, 23)
        assert lib.search("") == []
        assert lib.facets() == ((), ())
    finally:
        workspace.close()


def test_an_import_reads_the_search_vocabulary_so_a_search_need_not(
    library: RunbookLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.search import forgiving

    read: list[int] = []
    real = forgiving.Vocabulary.of.__func__  # type: ignore[attr-defined]

    def counting(cls: type[forgiving.Vocabulary], rows: Any) -> forgiving.Vocabulary:
        read.append(1)
        vocab: forgiving.Vocabulary = real(cls, rows)
        return vocab

    monkeypatch.setattr(forgiving.Vocabulary, "of", classmethod(counting))
    found = library.find("rollbak")
    assert found.corrected == "rollback"
    assert read == []  # read by the import of the fixture, on its thread
    assert found.hits[0].slug == "bad-deploy-rollback"


def test_an_import_is_reported_even_if_the_vocabulary_cannot_be_read(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from console import library as library_module
    from console.domain.errors import DatabaseLockedError

    def locked(raw: Any, key: str) -> Any:
        raise DatabaseLockedError("console.db is locked by another program")

    monkeypatch.setattr(library_module, "vocabulary", locked)
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "a.md").write_text("# Patroni failover\n")
    lib = RunbookLibrary(db, clock=FakeClock(TODAY))
    with caplog.at_level("WARNING", logger="console.library"):
        report = lib.import_paths([folder])
    assert report.imported == 1  # saved, and said so
    assert "vocabulary was not read" in caplog.text
    assert [h.title for h in lib.search("patroni")] == ["Patroni failover"]
