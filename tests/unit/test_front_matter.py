"""The import's fast paths against the plain rule each one replaces.

* :func:`simple_mapping` (front matter without PyYAML's node graph) must give
  exactly what ``yaml.load(..., SAFE_LOADER)`` gives, or step aside (None);
* :func:`_marker_lines` must find the lines the one ``^...$`` regex found;
* :func:`_json_names` must write what ``json.dumps(..., ensure_ascii=False)`` writes;
* the multi-row INSERT must store what one row per statement stored.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from console.importers import runbooks as importer
from console.importers.runbooks import import_runbooks
from console.importers.yaml_support import (
    LOAD_ERRORS,
    SAFE_LOADER,
    load_front_matter,
    simple_mapping,
)
from console.search.runbooks import search
from console.storage.db import Database
from tests import shared
from tests.unit.support import raw_rows

CORPUS = shared.CORPUS

#: scalars PyYAML reads in ways that are easy to get wrong
TRICKY = [
    "SEV2",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "~",
    "null",
    "Null",
    "",
    "010",
    "0o17",
    "0x1F",
    "0b101",
    "1:20",
    "190:20:30",
    "1_000",
    "-1",
    "+1",
    "1.5",
    "-.5",
    ".inf",
    ".NaN",
    "1e3",
    "6.8523015e+5",
    "2026-01-02",
    "2026-1-2",
    "2026-01-02 10:00:00",
    "2026-01-02T10:00:00Z",
    "2026-13-45",
    "a: b",
    "a:b",
    "a:",
    "a #b",
    "a#b",
    "C#",
    "'q'",
    "'it''s'",
    "'a' 'b'",
    "'open",
    '"d"',
    '"a\\nb"',
    '"q" x',
    "[a, b]",
    "[a,]",
    "[a, , b]",
    "[]",
    "[ ]",
    "['a, b', c]",
    "[a: b]",
    "[a, [b]]",
    "[a, 'b']",
    '["x", y"]',
    "[1, yes, ~]",
    "[a] x",
    "{a: 1}",
    "&x a",
    "*x",
    "!!str 1",
    "|",
    ">",
    "@x",
    "`x`",
    "%x",
    "=",
    "<<",
    "a [b]",
    "a, b",
    "-",
    "- a",
    "-x",
    "?x",
    ":x",
    "x:",
    "日本語の説明",
    "café",
    "a\tb",
    "a  b",
    "a ",
    "end'",
    "it''s'",
    "a: b'",
    "'",
    "''",
    "x' y",
    "\u2028",
    "\x85",
    "\ufeff",
    "#",
    "a # c",
    "'a' # c",
]
KEYS = [
    "title",
    "services",
    "Owner",
    "last_reviewed",
    "a.b",
    "x-y",
    "_k",
    "yes",
    "on",
    "null",
    "True",
    "k1",
    "review_in",
]


def _line() -> st.SearchStrategy[str]:
    scalar = st.one_of(
        st.sampled_from(TRICKY),
        st.text(alphabet="ab1-: #'\"[],{}&*!|>@`%?~\t日.", max_size=8),
    )
    key = st.one_of(st.sampled_from(KEYS), st.text(alphabet="ab_1.- :", min_size=1, max_size=5))
    indent = st.sampled_from(["", " ", "  ", "    "])
    return st.one_of(
        st.builds(lambda k, v: f"{k}: {v}", key, scalar),
        st.builds(lambda k: f"{k}:", key),
        st.builds(lambda i, v: f"{i}- {v}", indent, scalar),
        st.builds(lambda i, v: f"{i}{v}", indent, scalar),
        st.sampled_from(["# a comment", "  # indented comment", "", "   ", "---", "..."]),
    )


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 == True == 1.0 in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (
            list(map(type, a)) == list(map(type, b))
            and a.keys() == b.keys()
            and all(same(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def pyyaml(source: str) -> Any:
    try:
        return yaml.load(source, Loader=SAFE_LOADER)
    except LOAD_ERRORS:
        return "<refused>"


@settings(max_examples=800, deadline=None)
@given(st.lists(_line(), min_size=1, max_size=8))
@example(["title: a", "services:", "  - x", "  - 2026-01-02", "owner: 'it''s'"])
@example(["services:", "- a", "- b", "owner: x"])
@example(["services:", "  - a", " - b"])
@example(["title: a", "  continued"])
@example(["title: 'a' 'b'"])
@example(["title: 'PostgresConnectionPoolExhausted: Debug published documents with", "  links'"])
@example(["description: A successful postmortem", "  and accountability.", "  More:"])
@example(["t: 'it''s", "  ''quoted'' end  '", "k: x"])
@example(["t: 'open", "", "  close'"])
@example(["yes: a"])
def test_simple_mapping_agrees_with_pyyaml_or_steps_aside(lines: list[str]) -> None:
    source = "\n".join(lines)
    fast = simple_mapping(source)
    if fast is not None:
        assert same(fast, pyyaml(source)), source
    expected = pyyaml(source)
    if expected == "<refused>":
        with pytest.raises(LOAD_ERRORS):
            load_front_matter(source)
    else:
        assert same(load_front_matter(source), expected), source


@settings(max_examples=1500, deadline=None)
@given(
    st.text(alphabet="ab '#:-", min_size=1, max_size=8),
    st.lists(
        st.tuples(st.sampled_from([" ", "  ", "    "]), st.text(alphabet="ab '#:-", max_size=8)),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
)
@example("'abc", [("  ", "def '"), (" ", "gh'")], True)
def test_values_continued_on_indented_lines(
    first: str, more: list[tuple[str, str]], quoted: bool
) -> None:
    start = "'" + first if quoted else first
    source = "k: " + start + "".join(f"\n{indent}{text}" for indent, text in more) + "\nz: 1"
    fast = simple_mapping(source)
    if fast is not None:
        assert same(fast, pyyaml(source)), source


@pytest.mark.parametrize("value", TRICKY)
def test_every_tricky_scalar_in_every_position(value: str) -> None:
    for source in (
        f"title: x\nk: {value}\n",
        f"k: [{value}]",
        f"k: [a, {value}, b]",
        f"k:\n- {value}\n",
        f"k:\n  - a\n  - {value}\nz: 1",
    ):
        fast = simple_mapping(source)
        if fast is not None:
            assert same(fast, pyyaml(source)), source


def test_the_common_shapes_take_the_fast_path() -> None:
    source = (
        "# front matter\n"
        "id: db-pool\n"
        "title: Database connection pool exhausted [orders]\n"
        "services: [orders-api, 'postgres-main']\n"
        "symptoms:\n"
        "  - too many connections\n"
        '  - "pool timeout"\n'
        "alerts:\n"
        "- PostgresTooManyConnections\n"
        "owner: team-data\n"
        "severity_hint: SEV2\n"
        "last_reviewed: 2026-09-01\n"
        "review_every_days: 90\n"
        "runbook_url: https://example.invalid/x?a=b#frag\n"
        "description: 組織の危機対応計画\n"
        "draft: false\n"
        "weight: 010\n"
    )
    fast = simple_mapping(source)
    assert fast is not None
    assert same(fast, pyyaml(source))
    assert fast["last_reviewed"] == date(2026, 9, 1)
    assert fast["weight"] == 8  # YAML 1.1 octal, as PyYAML reads it
    assert fast["draft"] is False


@pytest.mark.parametrize(
    "source",
    [
        "k: {a: 1}",  # flow mapping
        "k: |\n  text\n",  # block scalar
        "k:\n  nested: 1\n",  # nested mapping
        "k: &a x\nj: *a\n",  # anchors
        "k: a # comment\n",  # comment after a value
        "k: 'a'\n  # indented comment\n",
        "k:\ttab\n",
        "just a string",
        "- a\n- b\n",
        "# only a comment\n",
        "yes: a\n",  # a key PyYAML reads as True
    ],
)
def test_anything_else_is_left_to_pyyaml(source: str) -> None:
    assert simple_mapping(source) is None
    assert same(load_front_matter(source), yaml.load(source, Loader=SAFE_LOADER))


def _corpus_front_matters() -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for path in sorted(CORPUS.rglob("*.md")):
        try:
            text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            continue
        end = text.find("\n---\n", 3) if text.startswith("---\n") else -1
        if end > 0:
            found.append((path, text[4:end]))
    return found


@shared.needs(CORPUS, what="the runbook corpus")
def test_every_front_matter_of_the_corpus_reads_as_pyyaml_reads_it() -> None:
    sources = _corpus_front_matters()
    assert len(sources) > 100
    fast = 0
    for path, source in sources:
        got = simple_mapping(source)
        if got is not None:
            fast += 1
            assert same(got, pyyaml(source)), path
    assert fast >= 0.8 * len(sources), f"only {fast} of {len(sources)} took the fast path"


# ------------------------------------------------------------------ body lines

#: the one regex _marker_lines replaced: the lines _scan_body must see
MARKER_LINES = re.compile(r"^.*(?:<!--|-->).*$|^[ \t]*(?:`{3,}|~{3,}).*$|^ {0,3}#[^#\n].*$", re.M)
FRAGMENTS = [
    "```",
    "~~~",
    "````",
    "    ```",
    "\t~~~",
    "# h",
    "## h",
    "   # h",
    "    # h",
    "#",
    "<!--",
    "-->",
    "<!-- x -->",
    "text",
    "",
    " ",
    "a ``` b",
    "#x",
    "日本",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=3).map("".join), max_size=12))
def test_marker_lines_are_the_lines_the_plain_regex_finds(lines: list[str]) -> None:
    body = "\n".join(lines)
    expected = [(m.start(), m.group(0)) for m in MARKER_LINES.finditer(body)]
    assert list(importer._marker_lines(body, headings=True)) == expected


@given(st.lists(st.text(max_size=6), max_size=4))
@example(['a"b', "back\\slash", "日本", "\u2028", "\x00\x1f"])
def test_json_names_is_json_dumps(names: list[str]) -> None:
    assert importer._json_names(tuple(names)) == json.dumps(names, ensure_ascii=False)


# ------------------------------------------------------------------ multi-row inserts


def test_rows_split_across_statements_are_all_stored_and_indexed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "rb"
    folder.mkdir()
    for n in range(7):
        (folder / f"r{n}.md").write_text(
            f"---\nservices: [svc-{n}]\nalerts: [Alert{n}]\n---\n"
            f"# Runbook {n}\n\nquokka{n} steps\n",
            encoding="utf-8",
        )
    (folder / "jp.md").write_text("# 障害対応\n\nデータベースの接続が枯渇した\n", encoding="utf-8")
    monkeypatch.setattr(importer, "_rows_per_statement", lambda raw: 3)  # 2 + 2 + 2 + 2
    report = import_runbooks(db, [folder])
    assert report.imported == 8
    assert not report.refused
    rows = raw_rows(db.path, "SELECT slug, services, alerts FROM runbooks ORDER BY slug")
    assert rows[0] == ("jp", "[]", "[]")
    assert rows[1:] == [(f"r{n}", f'["svc-{n}"]', f'["Alert{n}"]') for n in range(7)]
    for n in range(7):
        assert [h.slug for h in search(db, f"quokka{n}", today=date(2026, 11, 23))] == [f"r{n}"]
    assert [h.slug for h in search(db, "枯渇", today=date(2026, 11, 23))] == ["jp"]


def test_batches_of_every_size_keep_rows_and_indexes_in_step(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small MIN/MAX batches: many batches, some handed over while the writer is busy."""
    monkeypatch.setattr(importer, "MIN_BATCH", 7)
    monkeypatch.setattr(importer, "MAX_BATCH", 40)
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(300):
        (folder / f"r{n:03}.md").write_text(
            f"---\ntitle: Runbook {n}\nservices: [svc-{n % 7}]\n---\nbody wombat{n}\n",
            encoding="utf-8",
        )
    assert import_runbooks(db, [folder]).imported == 300
    for n in range(0, 300, 3):  # change a third, remove a third
        path = folder / f"r{n:03}.md"
        path.write_text(f"---\ntitle: Changed {n}\n---\nbody numbat{n}\n", encoding="utf-8")
        os.utime(path, ns=(10**18 + n, 10**18 + n))
        (folder / f"r{n + 1:03}.md").unlink()
    again = import_runbooks(db, [folder])
    assert (again.updated, again.removed, again.unchanged) == (100, 100, 100)
    today = date(2026, 11, 23)
    assert [h.slug for h in search(db, "numbat99 ", today=today)] == ["r099"]
    assert search(db, "wombat99", today=today) == []
    assert [h.slug for h in search(db, "wombat2 ", today=today)] == ["r002"]  # a whole word
    assert raw_rows(db.path, "SELECT count(*) FROM runbooks") == [(200,)]
    # the index against its content table too (rank 1)
    raw_rows(db.path, "INSERT INTO runbooks_fts(runbooks_fts, rank) VALUES ('integrity-check', 1)")


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=2000))
def test_statements_are_powers_of_two_that_add_up(rows: int, limit: int) -> None:
    sizes: list[int] = []
    while sum(sizes) < rows:
        sizes.append(importer._statement_rows(rows - sum(sizes), limit))
    assert sum(sizes) == rows
    assert all(size & (size - 1) == 0 and size <= limit for size in sizes)
    assert len(set(sizes)) <= limit.bit_length()  # the shapes sqlite3 keeps prepared
    if rows & (rows - 1) == 0 and rows <= limit:
        assert sizes == [rows]  # a power-of-two batch is one statement


def test_the_writer_gets_power_of_two_batches(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MIN_BATCH", 8)
    monkeypatch.setattr(importer, "MAX_BATCH", 64)
    batches: list[int] = []
    write = importer._write

    def recording(
        db: Database, pending: list[tuple[str, Any]], raw: sqlite3.Connection, **settings: Any
    ) -> None:
        batches.append(len(pending))
        write(db, pending, raw, **settings)

    monkeypatch.setattr(importer, "_write", recording)
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(333):
        (folder / f"r{n:03}.md").write_text(f"# Runbook {n}\n", encoding="utf-8")
    assert import_runbooks(db, [folder]).imported == 333
    assert sum(batches) == 333
    assert all(8 <= size <= 64 and size & (size - 1) == 0 for size in batches[:-1]), batches
