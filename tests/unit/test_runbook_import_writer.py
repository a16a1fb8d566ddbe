"""The import's writer: CJK batches, the queue, bulk merging, reading files.

These hold the import's shortcuts to what a plain import would store:

* rows are written in the order parsed, so an update that frees an id goes
  before the new runbook that takes it, and every row of every batch is indexed;
* batches queue behind a slow one, and a failed batch stops the ones behind it;
* a bulk import writes with FTS5's ``automerge`` off and sets it back, and a
  smaller import repairs it after a bulk import that was killed;
* the UTF-8 lead-byte test never misses a CJK character, and a file is read whole
  whatever happened to its size since the walk;
* the long texts, handed over as UTF-8 bytes, are stored and indexed as text.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.runbook import (
    CJK_CLASS,
    CJK_LEAD_BYTES,
    cjk_bigrams,
    may_hold_cjk,
)
from console.importers import runbooks as importer
from console.importers.runbooks import import_runbooks, read_file
from console.storage.db import Database
from tests.unit.support import raw_rows, raw_scalar

JAPANESE = "インシデント対応の手順です。重大度を判断します。"


def write(folder: Path, name: str, *, slug: str, body: str = "Steps.") -> Path:
    path = folder / name
    path.write_text(f"---\nid: {slug}\ntitle: {slug}\n---\n{body}\n", encoding="utf-8")
    return path


def automerge(db: Database) -> list[str]:
    return [
        str(raw_scalar(db.path, f"SELECT v FROM {index}_config WHERE k = 'automerge'"))
        for index in importer.FTS_INDEXES
    ]


class Recorder:
    """Wraps ``importer._write``: what each batch held, in the order written."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.batches: list[list[tuple[str, Any]]] = []
        self.settings: list[dict[str, Any]] = []
        self._write = importer._write
        monkeypatch.setattr(importer, "_write", self)

    def __call__(
        self, db: Database, pending: list[tuple[str, Any]], raw: sqlite3.Connection, **settings: Any
    ) -> None:
        self.batches.append(list(pending))
        self.settings.append(settings)
        self._write(db, pending, raw, **settings)


# ------------------------------------------------------------------ batches


def test_runbooks_of_both_scripts_in_many_batches_are_all_indexed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MIN_BATCH", 4)
    monkeypatch.setattr(importer, "MAX_BATCH", 8)
    recorder = Recorder(monkeypatch)
    for n in range(40):
        body = JAPANESE if n % 3 == 0 else "Restart the pod."
        write(tmp_path, f"r{n:02}.md", slug=f"r{n:02}", body=body)
    report = import_runbooks(db, [tmp_path])
    assert report.imported == 40
    assert not report.refused
    assert len(recorder.batches) > 4
    # every runbook is found by its own script, as if written one by one
    assert raw_scalar(db.path, "SELECT count(*) FROM runbooks WHERE cjk_body != ''") == 14
    hits = raw_rows(
        db.path,
        "SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH '{cjk_body} : \"重大 大度\"'",
    )
    assert len(hits) == 14
    words = raw_rows(db.path, "SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH 'restart'")
    assert len(words) == 26
    raw_rows(db.path, "INSERT INTO runbooks_fts(runbooks_fts, rank) VALUES ('integrity-check', 1)")


def test_a_new_runbook_may_take_the_id_an_update_gave_up(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MIN_BATCH", 2)
    monkeypatch.setattr(importer, "MAX_BATCH", 2)
    old = write(tmp_path, "a.md", slug="shared-id")
    assert import_runbooks(db, [tmp_path]).imported == 1
    write(tmp_path, "a.md", slug="renamed")  # gives up "shared-id" ...
    os.utime(old, ns=(1, 1))
    write(tmp_path, "b.md", slug="shared-id", body=JAPANESE)  # ... which a CJK file takes,
    write(tmp_path, "c.md", slug="c", body=JAPANESE)  # and a full CJK batch goes out
    report = import_runbooks(db, [tmp_path])
    assert (report.imported, report.updated, report.refused) == (2, 1, [])
    owners = dict(raw_rows(db.path, "SELECT slug, path FROM runbooks"))
    assert owners["shared-id"].endswith("b.md")
    assert owners["renamed"].endswith("a.md")


def test_cancel_writes_the_runbooks_parsed_so_far(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(10):
        write(tmp_path, f"r{n}.md", slug=f"r{n}", body=JAPANESE)

    class CancelAfter:
        def __init__(self) -> None:
            self.asked = 0

        @property
        def cancelled(self) -> bool:
            self.asked += 1
            return self.asked > 4

    report = import_runbooks(db, [tmp_path], cancel=CancelAfter())
    assert report.cancelled
    assert report.imported == 4
    assert raw_scalar(db.path, "SELECT count(*) FROM runbooks WHERE cjk_body != ''") == 4


# ------------------------------------------------------------------ the queue


def test_a_failed_batch_raises_and_the_batches_behind_it_are_not_written(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MIN_BATCH", 2)
    monkeypatch.setattr(importer, "MAX_BATCH", 2)
    write_batch = importer._write
    written: list[int] = []

    def failing_second(
        db: Database, pending: list[tuple[str, Any]], raw: sqlite3.Connection, **settings: Any
    ) -> None:
        written.append(len(pending))
        if len(written) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        write_batch(db, pending, raw, **settings)

    monkeypatch.setattr(importer, "_write", failing_second)
    for n in range(12):
        write(tmp_path, f"r{n:02}.md", slug=f"r{n:02}")
    with pytest.raises(Exception, match="full"):
        import_runbooks(db, [tmp_path])
    assert len(written) == 2  # the queued ones behind the failure were skipped
    assert raw_scalar(db.path, "SELECT count(*) FROM runbooks") == 2  # the first batch


# ------------------------------------------------------------------ bulk merging


def test_a_bulk_import_merges_as_fts5_does_once_it_ends(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BULK_FILES", 8)
    monkeypatch.setattr(importer, "MIN_BATCH", 4)
    monkeypatch.setattr(importer, "MAX_BATCH", 4)
    recorder = Recorder(monkeypatch)
    for n in range(20):
        write(tmp_path, f"r{n:02}.md", slug=f"r{n:02}", body=JAPANESE if n % 2 else "Restart.")
    assert import_runbooks(db, [tmp_path]).imported == 20
    assert recorder.settings[0]["automerge_before"] == 0
    assert all(s["automerge_before"] is None for s in recorder.settings[1:])
    assert [s["automerge_after"] for s in recorder.settings].count(4) == 1
    assert recorder.settings[-1]["automerge_after"] == 4
    assert automerge(db) == ["4"]


def test_a_small_import_sets_merging_back_after_a_killed_bulk_import(
    db: Database, tmp_path: Path
) -> None:
    write(tmp_path, "a.md", slug="a")
    import_runbooks(db, [tmp_path])
    connection = sqlite3.connect(db.path)
    with connection:  # what a bulk import killed mid-way leaves
        for index in importer.FTS_INDEXES:
            connection.execute(f"INSERT INTO {index}({index}, rank) VALUES ('automerge', 0)")
    connection.close()
    assert automerge(db) == ["0"]
    write(tmp_path, "b.md", slug="b")
    assert import_runbooks(db, [tmp_path]).imported == 1
    assert automerge(db) == ["4"]


def test_an_import_with_nothing_to_write_writes_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.md", slug="a")
    import_runbooks(db, [tmp_path])
    recorder = Recorder(monkeypatch)
    assert import_runbooks(db, [tmp_path]).unchanged == 1
    assert recorder.batches == []


# ------------------------------------------------------------------ reading


def test_every_cjk_character_has_a_lead_byte_the_prefilter_looks_for() -> None:
    ranges = re.findall(r"(.)-(.)", CJK_CLASS.strip("[]"))
    assert ranges, CJK_CLASS
    for low, high in ranges:
        for code in range(ord(low), ord(high) + 1):
            assert chr(code).encode("utf-8")[0] in CJK_LEAD_BYTES, hex(code)


@given(st.text())
def test_the_prefilter_never_misses_cjk_text(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    if re.search(CJK_CLASS, text):  # the plain rule: any character of the class
        assert may_hold_cjk(data)
    if data.isascii():
        assert not may_hold_cjk(data)


def test_english_with_typographic_marks_skips_the_cjk_scan() -> None:
    assert not may_hold_cjk("Don’t restart — check → logs… “now”".encode())
    assert may_hold_cjk("再起動".encode())


@pytest.mark.parametrize(
    ("seen", "actual", "limit", "expected"),
    [
        (10, 10, 100, 10),  # unchanged since the walk: one read
        (10, 25, 100, 25),  # grew
        (10, 4, 100, 4),  # shrank
        (0, 3, 100, 3),  # was empty
        (10, 500, 50, 50),  # grew past the limit: the limit, for the caller to refuse
    ],
)
def test_read_file_reads_to_the_end_or_the_limit(
    tmp_path: Path, seen: int, actual: int, limit: int, expected: int
) -> None:
    path = tmp_path / "f.md"
    data = bytes(range(256)) * (actual // 256 + 1)
    path.write_bytes(data[:actual])
    assert read_file(str(path), seen, limit) == data[:expected]


def test_a_file_that_grew_past_the_limit_after_the_walk_is_refused(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_BYTES", 64)
    path = write(tmp_path, "a.md", slug="a")
    walk = importer._walk

    def walk_then_grow(*args: Any) -> Any:
        found = walk(*args)
        path.write_text("---\nid: a\n---\n" + "x" * 200, encoding="utf-8")
        return found

    monkeypatch.setattr(importer, "_walk", walk_then_grow)
    report = import_runbooks(db, [tmp_path])
    assert report.imported == 0
    assert len(report.refused) == 1
    assert report.refused[0].reason.startswith("too large")


def test_long_texts_handed_over_as_bytes_are_stored_as_text(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "a.md", slug="a", body=f"Café {JAPANESE}")
    import_runbooks(db, [tmp_path])
    text = f"Überlauf {JAPANESE} again\n"
    path.write_text(f"---\nid: a\n---\n{text}", encoding="utf-8")
    os.utime(path, ns=(2, 2))
    assert import_runbooks(db, [tmp_path]).updated == 1
    rows = raw_rows(db.path, "SELECT typeof(body), typeof(cjk_body), body, cjk_body FROM runbooks")
    assert rows == [("text", "text", text, cjk_bigrams(text))]
    words = raw_rows(db.path, "SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH 'uberlauf'")
    assert len(words) == 1  # diacritics folded: the text, not its bytes, was indexed
