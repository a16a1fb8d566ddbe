"""Runbook search: ranking, hostile queries, filters, prefix, Japanese text."""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.importers.runbooks import import_runbooks
from console.search.runbooks import MARK_END, MARK_START, search
from console.storage.db import Database

TODAY = date(2026, 6, 1)


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def library(db: Database, tmp_path: Path) -> Database:
    root = tmp_path / "runbooks"
    write(
        root,
        "pool.md",
        "---\nid: pool\ntitle: Connection pool exhausted\nservices: [orders-api]\n"
        "symptoms: [too many connections]\nalerts: [PostgresTooManyConnections]\n"
        "owner: team-data\nlast_reviewed: 2026-05-01\nreview_every_days: 90\n---\n"
        "# Connection pool exhausted\n\nRestart the pooler.\n",
    )
    write(
        root,
        "deploy.md",
        "---\nid: deploy\ntitle: Rolling back a deploy\nservices: [web]\nowner: team-web\n"
        "last_reviewed: 2025-01-01\n---\n"
        "Roll back. Afterwards check for too many connections on the database pool.\n",
    )
    write(
        root,
        "sev.md",
        "---\nid: sev\ntitle: SEV-1 escalation (C++ services)\n---\nPage the IC. NEAR the end.\n",
    )
    write(root, "ja.md", "# 重大度の定義\n\nインシデントの重大度を決めます。書記を指名します。\n")
    report = import_runbooks(db, [root])
    assert report.refused == []
    assert report.imported == 4
    return db


def slugs(db: Database, query: str, **filters: object) -> list[str]:
    return [hit.slug for hit in search(db, query, today=TODAY, **filters)]  # type: ignore[arg-type]


def test_title_and_symptom_matches_rank_above_body_mentions(library: Database) -> None:
    assert slugs(library, "connections") == ["pool", "deploy"]
    assert slugs(library, "too many connections ")[0] == "pool"


def test_alert_name_finds_its_runbook(library: Database) -> None:
    assert slugs(library, "PostgresTooManyConnections") == ["pool"]


@pytest.mark.parametrize(
    "query", ["SEV-1", '"unclosed', "a OR", "*", "C++", "()", "NEAR", "", "   ", 'x"y', "AND", "^"]
)
def test_typed_queries_never_raise(library: Database, query: str) -> None:
    search(library, query, today=TODAY)


def test_punctuation_is_text_not_syntax(library: Database) -> None:
    assert slugs(library, "SEV-1") == ["sev"]
    assert slugs(library, "C++") == ["sev"]
    assert slugs(library, "NEAR") == ["sev"]
    assert slugs(library, "*") == []


def test_and_falls_back_to_or(library: Database) -> None:
    assert slugs(library, "pooler zebra ") == ["pool"]


def test_prefix_for_the_last_term(library: Database) -> None:
    assert slugs(library, "exhau") == ["pool"]
    assert slugs(library, "rolling ba") == ["deploy"]


def test_substring_fallback(library: Database) -> None:
    assert slugs(library, "TooMany") == ["pool"]  # inside the alert name
    assert slugs(library, "manyconn ostgres") == ["pool"]  # every term, any case
    assert slugs(library, "manyconn 50%_off") == ["pool"]  # OR when AND finds nothing
    assert slugs(library, "50%_off") == []  # % and _ are literal, not wildcards


def test_japanese_is_findable(library: Database) -> None:
    assert slugs(library, "重大度") == ["ja"]
    assert slugs(library, "インシデント") == ["ja"]
    assert slugs(library, "書記") == ["ja"]  # two characters: one pair
    assert slugs(library, "記") == ["ja"]  # one character: the end of a run ("書記を")
    assert slugs(library, "指") == ["ja"]  # one character: the start of a pair


@pytest.fixture
def cjk_library(db: Database, tmp_path: Path) -> Database:
    root = tmp_path / "cjk"
    write(root, "pod.md", "# Pod の再起動\n\nPodが再起動を繰り返す場合、kubectl で確認します。\n")
    write(root, "split.md", "# 分割\n\n重大 と 度数 は別の語です。\n")
    write(root, "ko.md", "# 장애 대응\n\n데이터베이스 연결 풀이 고갈되었습니다.\n")
    write(root, "en.md", "# Restart a pod\n\nkubectl rollout restart deployment.\n")
    assert import_runbooks(db, [root]).imported == 4
    return db


def test_cjk_runs_are_found_as_substrings_and_never_across_runs(cjk_library: Database) -> None:
    assert slugs(cjk_library, "再起動") == ["pod"]
    assert slugs(cjk_library, "起動を繰") == ["pod"]  # inside a run
    assert slugs(cjk_library, "重大度") == []  # "重大" and "度数" are two runs: no match
    assert slugs(cjk_library, "大 度") == ["split"]  # one character each, both there
    assert slugs(cjk_library, "연결") == ["ko"]  # Korean
    assert slugs(cjk_library, "고갈") == ["ko"]


def test_mixed_scripts_in_one_query(cjk_library: Database) -> None:
    # a word glued to Japanese text is a word of its own
    assert slugs(cjk_library, "pod 再起動") == ["pod"]
    assert slugs(cjk_library, "Podが再起動") == ["pod"]  # one mixed term: its pieces AND-ed
    assert set(slugs(cjk_library, "kubectl")) == {"pod", "en"}
    assert slugs(cjk_library, "kubectl 確認") == ["pod"]
    assert slugs(cjk_library, "rollout 確認") == ["en", "pod"]  # AND finds none: OR


def test_mixed_terms_are_marked_piece_by_piece(cjk_library: Database) -> None:
    (hit,) = search(cjk_library, "Podが 確認", today=TODAY)
    assert f"{MARK_START}Pod{MARK_END}{MARK_START}が{MARK_END}" in hit.snippet
    assert f"{MARK_START}確認{MARK_END}" in hit.snippet


def test_filters(library: Database) -> None:
    assert slugs(library, "connections", service="orders-api") == ["pool"]
    assert slugs(library, "connections", owner="TEAM-WEB") == ["deploy"]
    assert slugs(library, "connections", stale=True) == ["deploy"]
    assert slugs(library, "connections", stale=False) == ["pool"]
    assert slugs(library, "connections", limit=1) == ["pool"]


def test_hit_fields(library: Database) -> None:
    [hit] = search(library, "pooler", today=TODAY)
    assert f"{MARK_START}pooler{MARK_END}" in hit.snippet
    assert hit.services == ("orders-api",)
    assert hit.owner == "team-data"
    assert hit.last_reviewed == date(2026, 5, 1)
    assert not hit.overdue
    assert hit.score > 0


def test_snippet_marks_whole_words_and_the_typed_prefix() -> None:
    from console.search.runbooks import _marker, make_snippet

    body = "Intro.\n\nThe   spool filled; the pool timed out (pool timeout) on orders-api."
    marker = _marker(["pool", "tim"], prefix_last=True, words=True)
    for needles in ((), ("pool", "tim")):  # with needles, str.find skips ahead first
        snippet = make_snippet(body, marker, needles)
        assert "s[[pool]]" not in snippet  # a word index does not match inside "spool"
        assert "the [[pool]] [[timed]] out ([[pool]] [[timeout]])" in snippet
        assert "\n" not in snippet


def test_snippet_needles_skip_to_the_first_whole_word_far_into_the_body() -> None:
    from console.search.runbooks import _marker, make_snippet

    body = "spool " * 200 + "check the pool size" + " tail" * 200
    snippet = make_snippet(body, _marker(["pool"], prefix_last=False, words=True), ("pool",))
    assert "the [[pool]] size" in snippet
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    # a case change that alters offsets (İ lower-cases to two characters) falls back
    odd = "İ" * 50 + " pool"
    assert make_snippet(odd, _marker(["pool"], prefix_last=False, words=True), ("pool",)).endswith(
        "[[pool]]"
    )


def test_short_last_words_are_not_prefixes() -> None:
    from console.search.runbooks import _prefix_worthy

    assert _prefix_worthy("certif")
    assert _prefix_worthy("pods")
    assert not _prefix_worthy("pod")
    assert not _prefix_worthy("SEV-1")  # the "1" would expand to every number
    assert not _prefix_worthy("--")


def test_snippet_window_and_substring_marking() -> None:
    from console.search.runbooks import _marker, make_snippet

    body = "word " * 100 + "重大度の定義" + " tail" * 100
    snippet = make_snippet(body, _marker(["重大度"], prefix_last=False, words=False))
    assert "[[重大度]]の定義" in snippet
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert len(snippet) < 260
    assert make_snippet("short body", None) == "short body"


def test_a_word_the_index_does_not_know_is_dropped_before_or(library: Database) -> None:
    """AND of the known words, not OR of all: "exhausted" nowhere must not widen the search."""
    known = slugs(library, "too many connections ")
    assert known
    assert slugs(library, "too many connections qqqzzzx ") == known
    # every word unknown to the word index: on to the substring fallback
    assert slugs(library, "manyconn qqqzzzx") == ["pool"]


def test_first_match_skips_false_starts_inside_other_words() -> None:
    from console.search.runbooks import _CANDIDATES, _first_match, _marker

    marker = _marker(["not", "ready"], prefix_last=True, words=True)
    body = "another knot; notes: the node is NOT ready"
    assert _first_match(body, marker, ("not", "ready")) == body.index("NOT")
    many = "knot " * (_CANDIDATES + 10) + "not here"  # past the anchored tries: a scan
    assert _first_match(many, marker, ("not",)) == many.index("not here")
    assert _first_match("nothing at all", marker, ("not", "ready")) == -1
    assert _first_match("plain", None, ()) == -1


@given(
    body=st.text(alphabet="ab NOTnot.İ-\n", max_size=120),
    chunk=st.integers(min_value=1, max_value=16),
)
def test_first_match_agrees_with_a_plain_scan(body: str, chunk: int) -> None:
    """Piecewise lower-casing never changes the answer: the first place the marker
    matches, whatever the piece size and wherever pieces cut an occurrence."""
    from console.search.runbooks import _first_match, _marker

    marker = _marker(["not", "ab"], prefix_last=True, words=True)
    assert marker is not None
    found = marker.search(body)
    expected = found.start() if found else -1
    assert _first_match(body, marker, ("not", "ab"), chunk) == expected


def reference_snippet(body: str, marker: re.Pattern[str] | None) -> str:
    """The snippet rule in its plainest form (whole-window fold, regex search and
    sub): what make_snippet's shortcuts must agree with."""
    from console.search.runbooks import MARK_END, MARK_START, SNIPPET_AFTER, SNIPPET_BEFORE

    found = marker.search(body) if marker is not None else None
    anchor = found.start() if found else 0
    low = max(0, anchor - 4 * SNIPPET_BEFORE)
    if low:
        space = body.find(" ", low, anchor)
        low = space + 1 if space >= 0 else low
    high = anchor + 4 * SNIPPET_AFTER
    text = " ".join(body[low:high].split())
    first = marker.search(text) if marker is not None else None
    start = first.start() if first else 0
    begin = max(0, start - SNIPPET_BEFORE)
    end = min(len(text), start + SNIPPET_AFTER)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    window = text[begin:end]
    if marker is not None:
        window = marker.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", window)
    return (
        ("…" if begin or low else "")
        + window
        + ("…" if end < len(text) or high < len(body) else "")
    )


@given(
    body=st.lists(
        st.sampled_from(
            ["pool", "Pool", "spool", "timeout", "tim", " ", "  ", "\n", "x", "(", "İ"]
        ),
        max_size=150,
    ).map("".join),
    prefix=st.booleans(),
)
def test_snippet_agrees_with_the_plain_rule(body: str, prefix: bool) -> None:
    from console.search.runbooks import _marker, make_snippet

    marker = _marker(["pool", "tim"], prefix_last=prefix, words=True)
    assert make_snippet(body, marker, ("pool", "tim")) == reference_snippet(body, marker)


@given(st.text(alphabet="日本カナ한글ab1 -_、\n", max_size=30))
def test_script_runs_cut_text_where_the_script_changes(text: str) -> None:
    from console.domain.runbook import CJK_CLASS, script_runs

    pieces = script_runs(text)
    assert "".join(piece for piece, _ in pieces) == text
    for piece, cjk in pieces:
        assert piece or not text
        assert bool(re.fullmatch(f"{CJK_CLASS}+", piece)) == cjk
        assert cjk or not re.search(CJK_CLASS, piece)
    assert all(a[1] != b[1] for a, b in pairwise(pieces))
