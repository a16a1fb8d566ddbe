"""The PagerDuty incident-response docs and their official Japanese translation share
their layout: imported together, each is its own source, nothing is refused as a
"duplicate id", and both are searchable (issue 15 item 1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from console.importers.runbooks import SUFFIXES
from console.library import RunbookLibrary
from console.search.runbooks import search
from console.storage.db import Database, open_database
from tests import shared

ENGLISH = shared.CORPUS / "pagerduty-incident-response-docs"
JAPANESE = shared.CORPUS / "pagerduty-incident-response-docs-ja"
pytestmark = shared.needs(ENGLISH, JAPANESE, what="the PagerDuty docs in the corpus")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "console.db")
    yield database
    database.close()


def _markdown(root: Path) -> int:
    return sum(
        1
        for p in root.rglob("*")
        if p.is_file()
        and p.name.lower().endswith(SUFFIXES)
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def test_english_and_japanese_docs_import_together_and_are_both_searchable(
    db: Database,
) -> None:
    library = RunbookLibrary(db)
    report = library.import_paths([ENGLISH, JAPANESE])
    assert [r for r in report.refused if "duplicate id" in r.reason] == []
    assert report.refused == []
    # each detected as what it is: an MkDocs site
    assert {s.name: s.kind for s in library.sources()} == {
        "pagerduty-incident-response-docs": "mkdocs",
        "pagerduty-incident-response-docs-ja": "mkdocs",
    }
    counts = {s.name: s.imported for s in report.sources}
    assert counts == {
        "pagerduty-incident-response-docs": _markdown(ENGLISH),
        "pagerduty-incident-response-docs-ja": _markdown(JAPANESE),
    }
    # the same layout: most ids within the two sources are the same
    english = {e.local_id for e in library.runbooks(source="pagerduty-incident-response-docs")}
    japanese = {e.local_id for e in library.runbooks(source="pagerduty-incident-response-docs-ja")}
    assert len(english & japanese) >= 30
    shared_id = sorted(english & japanese)[0]
    one = library.get(f"pagerduty-incident-response-docs:{shared_id}")
    other = library.get(f"pagerduty-incident-response-docs-ja:{shared_id}")
    assert one.id != other.id
    assert one.slug != other.slug
    # both searchable
    today = date(2026, 12, 8)
    hits = search(db, "インシデントコマンダー", today=today, limit=50)
    assert hits
    assert all(h.path.startswith(str(JAPANESE)) for h in hits)
    hits = search(db, "incident commander", today=today, limit=50)
    assert any(h.path.startswith(str(ENGLISH)) for h in hits)
    # removing the English docs leaves exactly the Japanese ones
    _, removed = library.remove_source("pagerduty-incident-response-docs")
    assert removed == len(english)
    assert library.count() == len(japanese)
    assert search(db, "インシデントコマンダー", today=today, limit=50)
