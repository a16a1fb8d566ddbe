"""The whole shared corpus through the importer, the search and the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from console.importers.runbooks import import_runbooks
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
        if p.suffix in (".md", ".markdown") and not any(x.startswith(".") for x in p.parts)
    ]
    report = import_runbooks(corpus_db, [CORPUS])
    assert all(r.reason for r in report.refused)
    assert report.imported + len(report.refused) + len(report.skipped) == len(markdown)
    assert all(Path(p).name.lower() == "readme.md" for p in report.skipped)
    assert report.imported > 700
    again = import_runbooks(corpus_db, [CORPUS])
    assert (again.imported, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == report.imported


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
    (folder / "bad.md").write_bytes(b"caf\xe9")
    data = tmp_path / "data"
    imported = run("import", "runbooks", str(folder), data_dir=data)
    assert imported.returncode == 3, imported.stderr
    assert f"{folder / 'bad.md'}: not UTF-8" in imported.stderr
    assert "1 new" in imported.stdout
    assert "1 refused" in imported.stdout

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
