"""Runbook files: every accepted shape and every refusal, with hand-made files."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from console.domain.runbook import (
    DEFAULT_REVIEW_DAYS,
    RunbookError,
    is_overdue,
    parse_interval_days,
    review_due,
)
from console.importers.runbooks import MAX_BYTES, import_runbooks, parse_runbook
from console.storage.db import Database
from tests.unit.support import raw_rows, raw_scalar

FRONT = """---
id: db-connection-exhaustion
title: Database connection pool exhausted
services: [orders-api, postgres-main]
symptoms: ["too many connections", "pool timeout"]
severity_hint: SEV2
alerts: [PostgresTooManyConnections]
owner: team-data
last_reviewed: 2026-09-01
review_every_days: 90
runbook_url: https://example.invalid/x
---
# Heading

Body text.
"""


def parse(data: bytes | str, name: str = "rb.md", root: str = "/r") -> object:
    raw = data.encode() if isinstance(data, str) else data
    return parse_runbook(raw, path=f"{root}/{name}", root=root)


def refusal(data: bytes | str, name: str = "rb.md") -> str:
    with pytest.raises(RunbookError) as caught:
        parse(data, name)
    assert caught.value.path == f"/r/{name}"
    return caught.value.reason


# ------------------------------------------------------------------ accepted


def test_full_front_matter() -> None:
    parsed = parse_runbook(FRONT.encode(), path="/r/x.md", root="/r")
    assert parsed.slug == "db-connection-exhaustion"
    assert parsed.title == "Database connection pool exhausted"
    assert parsed.services == ("orders-api", "postgres-main")
    assert parsed.symptoms == ("too many connections", "pool timeout")
    assert parsed.alerts == ("PostgresTooManyConnections",)
    assert parsed.severity_hint == "SEV2"
    assert parsed.owner == "team-data"
    assert parsed.last_reviewed == date(2026, 9, 1)
    assert parsed.review_every_days == 90
    assert parsed.extra == {"runbook_url": "https://example.invalid/x"}
    assert parsed.body.startswith("# Heading")


def test_no_front_matter_takes_first_heading_and_path_slug() -> None:
    parsed = parse_runbook(
        b"intro\n```\n# not a heading\n```\n# Disk Full\n\ntext", path="/r/a/B c.md", root="/r"
    )
    assert parsed.title == "Disk Full"
    assert parsed.slug == "a-b-c"
    assert parsed.review_every_days == DEFAULT_REVIEW_DAYS
    assert parsed.last_reviewed is None


def test_no_heading_takes_the_file_name_as_a_person_writes_it() -> None:
    parsed = parse_runbook(b"just text", path="/r/disk-full_alerts.md", root="/r")
    assert parsed.title == "Disk full alerts"


def test_bom_and_crlf() -> None:
    data = b"\xef\xbb\xbf" + FRONT.replace("\n", "\r\n").encode()
    parsed = parse_runbook(data, path="/r/x.md", root="/r")
    assert parsed.slug == "db-connection-exhaustion"
    assert "\r" not in parsed.body


@pytest.mark.parametrize(
    ("front", "field", "expected"),
    [
        ("last_reviewed_on: 2026-01-02", "last_reviewed", date(2026, 1, 2)),
        ("reviewed: '2026-01-02'", "last_reviewed", date(2026, 1, 2)),
        ("last_review: 2026-01-02T10:00:00Z", "last_reviewed", date(2026, 1, 2)),
        ("review_in: 90d", "review_every_days", 90),
        ("review_in: 3 months", "review_every_days", 90),
        ("review_in: 12w", "review_every_days", 84),
        ("review_interval: 30", "review_every_days", 30),
        ("service: orders-api", "services", ("orders-api",)),
        ("alert: [A, B]", "alerts", ("A", "B")),
        ("team: sre", "owner", "sre"),
        ("severity: sev1", "severity_hint", "SEV1"),
    ],
)
def test_aliases(front: str, field: str, expected: object) -> None:
    parsed = parse(f"---\n{front}\n---\nbody")
    assert getattr(parsed, field) == expected


def test_canonical_key_wins_over_alias() -> None:
    parsed = parse_runbook(b"---\nowner: a\nteam: b\n---\nx", path="/r/x.md", root="/r")
    assert parsed.owner == "a"
    assert parsed.extra == {"team": "b"}


def test_empty_front_matter_and_fences_inside_html_comments() -> None:
    parsed = parse("---\n---\n<!-- x\n```sh\n```-->\nbody")
    assert parsed.body.endswith("body")  # type: ignore[attr-defined]


# ------------------------------------------------------------------ warnings and refusals


def warned(data: bytes | str, name: str = "rb.md") -> tuple[str, ...]:
    raw = data.encode() if isinstance(data, str) else data
    return parse_runbook(raw, path=f"/r/{name}", root="/r").warnings


def test_invalid_yaml_is_a_warning_naming_the_line_and_the_body_still_shows() -> None:
    parsed = parse_runbook(b"---\ntitle: a\nx: [1, 2\n---\n# Body\n", path="/r/x.md", root="/r")
    assert parsed.warnings[0].startswith("line 3: invalid YAML front matter (")
    assert parsed.warnings[0].endswith("its keys were ignored")
    assert (parsed.title, parsed.body) == ("Body", "# Body\n")


def test_front_matter_nested_too_deeply_is_refused_before_libyaml_sees_it() -> None:
    # ~30,000 levels crash libyaml on the C stack (the whole process, not a YAMLError)
    nested = "---\nservices: " + "[" * 40_000 + "]" * 40_000 + "\n---\n# T\n"
    assert refusal(nested) == (
        "invalid YAML front matter: nested too deeply (40000 levels of [ ] or { }; "
        "the limit is 500)"
    )


def test_a_date_that_does_not_exist_is_a_warning_not_raised() -> None:
    # PyYAML's constructor raises ValueError (not a YAMLError) for these
    assert warned("---\nlast_reviewed: 2026-13-45\n---\n# T\n") == (
        "front matter: invalid YAML front matter (month must be in 1..12 (a date or time "
        "that does not exist?)): its keys were ignored",
    )
    assert "day is out of range" in warned("---\nreviewed: 2026-02-30 10:00:00\n---\n")[0]


def test_front_matter_not_a_mapping_is_ignored_with_a_warning() -> None:
    assert warned("---\n- a\n- b\n---\nbody") == (
        "line 2: front matter is a list, not a mapping of keys to values: ignored",
    )


def test_unclosed_front_matter_reads_as_text_with_a_warning() -> None:
    parsed = parse_runbook(b"---\ntitle: a\nbody", path="/r/x.md", root="/r")
    assert "front matter opened with '---' is never closed" in parsed.warnings[0]
    assert parsed.body == "---\ntitle: a\nbody"


def test_latin1_is_read_as_windows_1252_with_a_warning_naming_the_byte() -> None:
    parsed = parse_runbook(b"# Caf\xe9 noir", path="/r/x.md", root="/r")
    assert parsed.title == "Café noir"
    assert parsed.warnings == (
        "not UTF-8: byte 0xe9 at byte offset 5: read as Windows-1252 (Latin-1); "
        "save the file as UTF-8",
    )


def test_latin1_offset_counts_the_bom() -> None:
    assert "byte offset 4" in warned(b"\xef\xbb\xbfa\xff")[0]


def test_utf16_with_its_byte_order_mark_is_text() -> None:
    parsed = parse_runbook("# Größe\n".encode("utf-16"), path="/r/x.md", root="/r")
    assert (parsed.title, parsed.warnings) == ("Größe", ())


def test_bytes_that_are_text_in_no_encoding_are_refused() -> None:
    # 0x81 is undefined in Windows-1252 and not UTF-8
    assert "not text in an encoding we can detect" in refusal(b"# a\n\x81\x81")
    # control characters: binary, whatever the encoding
    assert "binary file" in refusal(b"# a\n\xe9\x02\x03")


def test_nul_bytes_are_binary() -> None:
    assert "binary" in refusal(b"# x\n\x00\x01")


def test_empty_file() -> None:
    assert refusal(b"") == "empty file (nothing to show)"
    assert refusal(b" \n\n") == "empty file (nothing to show)"
    assert refusal(b"\xff\xfe") == "empty file (nothing to show)"  # a UTF-16 mark alone


def test_too_large() -> None:
    assert "too large" in refusal(b"a" * (MAX_BYTES + 1))


def test_unclosed_fence_is_a_warning_and_runs_to_the_end_as_renderers_show_it() -> None:
    parsed = parse_runbook(
        b"---\ntitle: t\n---\n# T\n\n```sh\necho hi\n", path="/r/x.md", root="/r"
    )
    assert parsed.warnings == (
        "line 6: code fence never closed: shown running to the end of the file, as "
        "Markdown renderers show it (add a line ``` where the code ends)",
    )
    assert parsed.body == "# T\n\n```sh\necho hi\n```\n"


def test_unclosed_html_comment_is_a_warning() -> None:
    assert warned("# T\n\ntext\n<!-- draft\nhidden\n")[0].startswith(
        "line 4: HTML comment (<!--) never closed"
    )


@pytest.mark.parametrize(
    ("front", "words"),
    [
        ("last_reviewed: yesterday", "'last_reviewed' is not a date: 'yesterday'"),
        ("review_in: soon", "not an interval"),
        ("review_every_days: 0", "at least one day"),
        ("services: {a: 1}", "list of names"),
        ("title: [a, b]", "single value"),
        ("weight: heavy", "'weight' is not a number"),
    ],
)
def test_bad_values_are_left_out_with_a_warning(front: str, words: str) -> None:
    parsed = parse_runbook(f"---\n{front}\n---\n# Kept\n".encode(), path="/r/x.md", root="/r")
    assert parsed.title == "Kept"
    assert len(parsed.warnings) == 1
    assert words in parsed.warnings[0]
    assert parsed.warnings[0].startswith("front matter: ")
    assert parsed.warnings[0].endswith(": ignored")


# ------------------------------------------------------------------ staleness


def test_review_due_and_overdue() -> None:
    today = date(2026, 6, 1)
    assert review_due(date(2026, 3, 3), 90, today) == date(2026, 6, 1)
    assert not is_overdue(date(2026, 3, 3), 90, today)
    assert is_overdue(date(2026, 3, 2), 90, today)
    assert review_due(None, 90, today) == today
    assert is_overdue(None, 90, today)


def test_interval_rejects_bools() -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_interval_days(True)


# ------------------------------------------------------------------ folders


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_import_walks_folders_and_lists_every_refusal(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "rb"
    write(root / "good.md", "# Good\n")
    write(root / "sub" / "also.markdown", "# Also\n")
    write(root / "notes.txt", "ignored")
    write(root / "bad.md", b"# a\n\x81\x81")
    write(root / "bin.md", b"\x00")
    write(root / "dup-a.md", "---\nid: same\n---\nx")
    write(root / "dup-b.md", "---\nid: same\n---\ny")
    for name, mib in (("big.md", 6), ("huge.md", 50)):
        with (root / name).open("wb") as handle:  # sparse: the size without the writing
            handle.truncate(mib * 1024 * 1024)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "broken.md").symlink_to(root / "nowhere.md")
    unreadable = write(root / "secret.md", "# s")
    unreadable.chmod(0)
    report = import_runbooks(db, [root, tmp_path / "missing"])
    reasons = {Path(r.path).name: r.reason for r in report.refused}
    # good, also, dup-a (and secret.md when running as root, who reads mode 000)
    assert report.imported == 3 + (1 if os.geteuid() == 0 else 0)
    assert "not text in an encoding we can detect (not UTF-8" in reasons["bad.md"]
    assert "binary" in reasons["bin.md"]
    assert (
        reasons["dup-b.md"]
        == f"duplicate id 'same' in source 'rb': already used by {root / 'dup-a.md'}"
    )
    assert "too large (6.0 MB" in reasons["big.md"]
    assert reasons["huge.md"] == "too large (50.0 MB; the limit is 5 MB)"  # never read
    assert "symlink loop" in reasons["loop"]
    assert "broken symlink" in reasons["broken.md"]
    assert "no such file" in reasons["missing"]
    if os.geteuid() != 0:
        assert "permission denied" in reasons["secret.md"]


def test_incremental_reimport(db: Database, db_path: Path, tmp_path: Path) -> None:
    root = tmp_path / "rb"
    first = write(root / "a.md", "# A\n")
    second = write(root / "b.md", "# B\n")
    write(root / "c.md", "# C\n")
    assert import_runbooks(db, [root]).imported == 3
    again = import_runbooks(db, [root])
    assert (again.imported, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    # same bytes, new mtime: re-stamped, not re-parsed
    os.utime(first, ns=(1, 1))
    touched = import_runbooks(db, [root])
    assert (touched.updated, touched.unchanged) == (0, 3)
    write(second, "# B changed\n")
    os.utime(second, ns=(2, 2))
    (root / "c.md").unlink()
    changed = import_runbooks(db, [root])
    assert (changed.updated, changed.unchanged, changed.removed) == (1, 1, 1)
    assert raw_scalar(db_path, "SELECT title FROM runbooks WHERE path = ?", (str(second),)) == (
        "B changed"
    )
    assert raw_scalar(db_path, "SELECT count(*) FROM runbooks") == 2
    # the index follows the table (triggers)
    assert (
        raw_rows(db_path, "SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH 'changed'") != []
    )


def test_other_roots_are_not_removed(db: Database, tmp_path: Path) -> None:
    write(tmp_path / "one" / "a.md", "# A")
    write(tmp_path / "two" / "b.md", "# B")
    import_runbooks(db, [tmp_path / "one"])
    report = import_runbooks(db, [tmp_path / "two"])
    assert (report.imported, report.removed) == (1, 0)


def test_progress_and_cancel(db: Database, tmp_path: Path) -> None:
    for n in range(5):
        write(tmp_path / f"{n}.md", f"# {n}")
    seen: list[tuple[int, int]] = []

    class Token:
        @property
        def cancelled(self) -> bool:
            return len(seen) > 2

    report = import_runbooks(
        db, [tmp_path], progress=lambda d, t: seen.append((d, t)), cancel=Token()
    )
    assert report.cancelled
    assert report.imported == 2
    assert seen[0] == (0, 5)


def test_folder_readme_is_a_landing_page_runbook(tmp_path: Path) -> None:
    from console.importers.runbooks import import_runbooks
    from console.storage.db import open_database

    folder = tmp_path / "books"
    (folder / "payments-api").mkdir(parents=True)
    (folder / "payments-api" / "README.md").write_text("Troubleshooting pointers\n")
    (folder / "disk.md").write_text("# Disk full\n\nSymptoms: ENOSPC\n", encoding="utf-8")
    db = open_database(tmp_path / "data" / "console.db")
    try:
        report = import_runbooks(db, [folder])
        assert (report.imported, report.landing, report.skipped) == (2, 1, [])
        rows = raw_rows(
            tmp_path / "data" / "console.db", "SELECT title, landing FROM runbooks ORDER BY 1"
        )
        assert rows == [("Disk full", 0), ("Payments api", 1)]
    finally:
        db.close()


def test_an_unclosed_fence_in_a_list_item_is_closed_at_its_indentation() -> None:
    parsed = parse_runbook(b"# T\n\n1. Step\n\n   ```sh\n   ls\n", path="/r/a.md", root="/r")
    assert parsed.body.endswith("   ```sh\n   ls\n   ```\n")
    assert "(add a line ``` where the code ends)" in parsed.warnings[0]
