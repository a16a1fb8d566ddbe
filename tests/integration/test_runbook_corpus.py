"""The whole shared corpus through the importer, the search and the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from console.importers.runbooks import SUFFIXES, import_runbooks
from console.search.runbooks import search
from console.storage.db import Database, open_database
from tests import shared
from tests.integration.test_cli import run

CORPUS = shared.CORPUS
pytestmark = shared.needs(CORPUS, what="the runbook corpus")

#: (what a responder types, the file name of the runbook it should find in the top 3)
QUERIES = [
    ("NodeFilesystemSpaceFillingUp", "NodeFilesystemSpaceFillingUp.md"),
    ("etcd no leader", "etcdNoLeader.md"),
    ("elasticsearch cluster health", "elasticsearch-cluster-health.html.md"),
    ("prometheus remote write behind", "PrometheusRemoteWriteBehind.md"),
    ("virt-api down", "VirtAPIDown.md"),
    ("alertmanager failed to send alerts", "AlertmanagerFailedToSendAlerts.md"),
    ("kubelet client certificate expiration", "KubeletClientCertificateExpiration.md"),
    ("etcd quota low space", "etcdBackendQuotaLowSpace.md"),
    ("ceph osd disk not responding", "CephOSDDiskNotResponding.md"),
    ("whitehall error ratio too high", "whitehall-error-ratio-too-high.html.md"),
    ("重大度", "severity_levels.md"),
]


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    folder = tmp_path_factory.mktemp("corpus-data")
    database = open_database(folder / "console.db")
    yield database
    database.close()


def test_every_file_is_imported_or_refused_with_a_reason(corpus_db: Database) -> None:
    markdown = [
        p
        for p in CORPUS.rglob("*")
        if p.name.lower().endswith(SUFFIXES)
        and p.is_file()
        and not any(x.startswith(".") for x in p.relative_to(CORPUS).parts)
    ]
    report = import_runbooks(corpus_db, [CORPUS])
    assert all(r.reason for r in report.refused)
    assert report.imported + len(report.refused) + len(report.skipped) == len(markdown)
    # only a Hugo archetype (a template for new pages) is passed over, and says why
    assert [(Path(s.path).name, s.reason.split(":")[0]) for s in report.skipped] == [
        ("default.md", "a Hugo archetype")
    ]
    assert report.refused == []  # every file of real collections is shown
    assert report.imported > 800
    assert report.landing >= 15  # folder READMEs and index pages: runbooks too
    assert report.nothing_found == []
    again = import_runbooks(corpus_db, [CORPUS])
    assert (again.imported, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == report.imported
    assert again.warnings == report.warnings  # still listed, from what was stored


def test_each_collection_is_read_in_its_format(tmp_path: Path) -> None:
    db = open_database(tmp_path / "console.db")
    try:
        formats = {
            name: import_runbooks(db, [CORPUS / name]).formats
            for name in (
                "govuk-developer-docs",
                "pagerduty-incident-response-docs",
                "prometheus-operator-runbooks",
                "openshift-runbooks",
            )
        }
    finally:
        db.close()
    assert formats["govuk-developer-docs"] == {"middleman": 212}
    assert formats["pagerduty-incident-response-docs"] == {"mkdocs": 37}
    assert formats["prometheus-operator-runbooks"] == {"hugo": 120}
    assert formats["openshift-runbooks"] == {"markdown": 274}


def test_middleman_pages_come_through_whole(corpus_db: Database) -> None:
    """The collection that imported nothing (issue 15): ``.html.md.erb`` pages are
    read, ERB tags never reach a title or the text (review dates: the fixtures)."""
    if not _imported(corpus_db):
        import_runbooks(corpus_db, [CORPUS])
    with corpus_db.raw_reader() as raw:
        rows = raw.execute(
            "SELECT path, title, body, format FROM runbooks WHERE path LIKE ?",
            (f"{CORPUS / 'govuk-developer-docs'}%",),
        ).fetchall()
    erb = [r for r in rows if r[0].endswith(".erb")]
    assert len(erb) == 7
    assert all(r[3] == "middleman" for r in rows)
    assert not [r[0] for r in rows if "<%" in r[1] or "<%" in r[2]]


def test_titles_are_what_a_person_recognises(corpus_db: Database) -> None:
    if not _imported(corpus_db):
        import_runbooks(corpus_db, [CORPUS])
    with corpus_db.raw_reader() as raw:
        rows = raw.execute("SELECT path, title, body, format FROM runbooks").fetchall()
    for path, title, body, _ in rows:
        stem = Path(path).name.split(".")[0]
        assert "<%" not in title, path
        assert "{{" not in title, path
        if title == stem:  # only when the page's own heading says so
            assert f"# {stem}" in body, path
    titles = {Path(p).relative_to(CORPUS).as_posix(): t for p, t, _, _ in rows}
    # mkdocs.yml's nav names pages that have no level-1 heading
    assert titles["pagerduty-incident-response-docs/docs/after/post_mortem_process.md"] == (
        "Postmortem Process"
    )
    assert titles["pagerduty-incident-response-docs/docs/index.md"] == "Home"


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_responder_queries_find_the_runbook(corpus_db: Database, query: str, expected: str) -> None:
    if not _imported(corpus_db):  # run alone, without the import test
        import_runbooks(corpus_db, [CORPUS])
    hits = search(corpus_db, query, limit=3, today=date(2026, 11, 23))
    assert any(Path(h.path).name == expected for h in hits), [h.path for h in hits]


def _imported(db: Database) -> bool:
    with db.raw_reader() as raw:
        return bool(raw.execute("SELECT count(*) FROM runbooks").fetchone()[0])


def test_cli_import_and_search(tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "etcd.md").write_text("---\nid: etcd\nservices: [etcd]\n---\n# etcd no leader\n")
    (folder / "latin1.md").write_bytes(b"# caf\xe9")
    (folder / "bad.md").write_bytes(b"\x00\x01")
    data = tmp_path / "data"
    imported = run("import", "runbooks", str(folder), data_dir=data)
    assert imported.returncode == 3, imported.stderr
    assert f"{folder / 'bad.md'}: binary file" in imported.stderr
    assert f"{folder / 'latin1.md'}: warning: not UTF-8: byte 0xe9" in imported.stderr
    assert "2 new" in imported.stdout
    assert "1 refused; 1 warning in 1 runbook." in imported.stdout

    nothing = run("import", "runbooks", str(folder / "bad.md"), data_dir=data)
    assert nothing.returncode == 1

    result = run("search", "etcd", "leader", "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["query"] == "etcd leader"
    [hit] = document["results"]
    assert set(hit) == {
        "id", "title", "path", "snippet", "score", "owner", "services", "last_reviewed", "overdue"
    }  # fmt: skip
    assert hit["id"] == "etcd"
    assert hit["services"] == ["etcd"]
    assert hit["overdue"] is True  # never reviewed

    usage = run("search", "x", "--limit", "0", data_dir=data)
    assert usage.returncode == 2
