"""Import runbook files (Markdown + YAML front matter): the one writer path for runbooks.

:func:`parse_runbook` turns one file's bytes into a :class:`ParsedRunbook` or
raises :class:`RunbookError` with a reason a person can act on (line numbers,
byte offsets). :func:`import_runbooks` walks folders, skips files whose
(path, size, mtime) is unchanged without reading them, re-parses changed ones,
removes rows for files gone from the folders given, and writes in batches.
One bad file never stops the import: it is listed in the report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import stat
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from console.domain.clock import Clock, utc_now
from console.domain.runbook import (
    DEFAULT_REVIEW_DAYS,
    ParsedRunbook,
    RunbookError,
    RunbookRefusal,
    cjk_bigrams,
    may_hold_cjk,
    parse_interval_days,
    slugify,
)
from console.importers.yaml_support import (
    LOAD_ERRORS,
    load_front_matter,
    too_deep,
    yaml_error_reason,
)
from console.storage.db import Database
from console.storage.models import format_utc

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
SUFFIXES = (".md", ".markdown")
#: Inside a folder these describe the folder, not a failure: passed over (a file
#: named on the command line is still imported). docs/RUNBOOK_FORMAT.md says so.
FOLDER_NOTES = frozenset({"readme.md", "readme.markdown"})
#: Rows go to the writer as soon as it is free and at least MIN_BATCH are ready;
#: while it is busy they gather up to MAX_BATCH, and up to two such batches queue
#: behind the one being written (then the parser waits). The writer starts after
#: 128 files instead of 500 and then hardly waits, and the batches it gets grow to
#: what it can take: fewer, larger statements are cheaper for FTS5. MAX_BATCH
#: bounds how long one transaction
#: holds the write lock (about 0.15 s) that a timeline write may wait behind, and
#: the memory the rows in flight take (peak 104 MB at 512, 124 MB at 1,024).
#: Batches are powers of two, so that the multi-row INSERTs come in a few shapes
#: (see :func:`_statement_rows`).
MIN_BATCH = 128
MAX_BATCH = 512

#: An import of this many changed files or more is a bulk import: its batches write
#: the FTS5 index with ``automerge`` 0, so that segments are merged only when 16
#: pile up on one level (FTS5's ``crisismerge``), 16 at a time, instead of 4 at a
#: time over and over; its last transaction sets automerge back. On the 10,000-
#: runbook benchmark library (SQL alone, the same rows, measured while the trigram
#: index of 0003-0014 was still there): 1,410-1,470 ms of CPU instead of
#: 1,525-1,550, and raw MATCH queries as fast after it (p95 0.94-0.97 vs
#: 0.95-0.97 ms). A smaller import merges as it goes (and so repairs the
#: setting after a bulk import that was killed).
BULK_FILES = 1024
#: FTS5's own ``automerge``
DEFAULT_AUTOMERGE = 4
FTS_INDEXES = ("runbooks_fts",)

#: alias → canonical front-matter key (docs/RUNBOOK_FORMAT.md)
ALIASES = {
    "last_reviewed_on": "last_reviewed",
    "reviewed": "last_reviewed",
    "last_review": "last_reviewed",
    "review_in": "review_every_days",
    "review_interval": "review_every_days",
    "service": "services",
    "alert": "alerts",
    "team": "owner",
    "severity": "severity_hint",
    "symptom": "symptoms",
}
KNOWN_KEYS = frozenset(
    {
        "id",
        "title",
        "services",
        "symptoms",
        "alerts",
        "severity_hint",
        "owner",
        "last_reviewed",
        "review_every_days",
    }
)

_FENCE_OPEN = re.compile(r"^ *(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}#(?!#)\s+(.+?)\s*#*\s*$")
#: the fence and heading lines :func:`_scan_body` looks at (fences at any
#: indentation, tabs included: any closes; level-1 headings), each found from
#: the newline before it: a pattern that starts with a literal is searched for
#: that character at C speed, where one that starts with ``^`` under re.M is
#: tried at every position (2.5x slower over the benchmark library)
_FENCE_OR_HEADING = re.compile(r"\n(?:[ \t]*(?:`{3,}|~{3,})|(?= {0,3}#[^#\n]))[^\n]*")
#: the fence lines alone, for a runbook whose title its front matter gives
_FENCE = re.compile(r"\n[ \t]*(?:`{3,}|~{3,})[^\n]*")
_COMMENT_MARKS = ("<!--", "-->")
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[^\S\n]*$", re.M)


class CancelToken(Protocol):
    @property
    def cancelled(self) -> bool: ...


Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What one import did. ``refused`` lists (path, reason), in walk order."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    refused: list[RunbookRefusal] = field(default_factory=list)
    #: folder READMEs passed over (they describe a folder; they are not runbooks)
    skipped: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def read_any(self) -> bool:
        return bool(self.imported or self.updated or self.unchanged)


# ------------------------------------------------------------------ parsing


def parse_runbook(
    data: bytes,
    *,
    path: str,
    root: str,
    mtime_ns: int = 0,
) -> ParsedRunbook:
    """Parse one file's bytes. Raises :class:`RunbookError` (path + reason) when refused."""
    if len(data) > MAX_BYTES:
        raise RunbookError(path, _too_big(len(data)))
    if not data or data.isspace():  # not data.strip(): no copy of every file
        raise RunbookError(path, "empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise RunbookError(path, f"binary file (NUL byte at byte offset {nul}), not Markdown")
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + bom
        raise RunbookError(
            path,
            f"not UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} "
            "(save the file as UTF-8)",
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, body, body_line = _split_front_matter(text, path)
    fields = _normalise(meta, path)
    title = fields.pop("title", None)
    heading = _scan_body(body, body_line, path, heading=title is None)
    digest = hashlib.sha256(data).hexdigest()
    title = title or heading or Path(path).name.split(".")[0]
    slug = fields.pop("id", None) or _relative_slug(path, root)
    return ParsedRunbook(
        slug=slug,
        title=title,
        path=path,
        source_root=root,
        content_hash=digest,
        mtime_ns=mtime_ns,
        size=len(data),
        body=body,
        **fields,
    )


def _too_big(size: int) -> str:
    return f"too large ({size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB)"


def _split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """(front matter, body, line number of the body's first line)."""
    first_end = text.find("\n")
    first = text if first_end < 0 else text[:first_end]
    if first.rstrip() != "---":
        return {}, text, 1
    end = _FRONT_MATTER_END.search(text, first_end + 1) if first_end >= 0 else None
    if end is None:
        raise RunbookError(path, "front matter opened on line 1 is never closed with '---'")
    # without the newline that ends the last line, as the lines joined would be
    source = text[first_end + 1 : max(end.start() - 1, first_end + 1)]
    deep = too_deep(source)
    if deep is not None:
        raise RunbookError(path, f"invalid YAML front matter: {deep}")
    try:
        loaded = load_front_matter(source) if source.strip() else {}
    except LOAD_ERRORS:
        # rare: re-parsed by the pure loader for the clearer line number
        reason = yaml_error_reason(source, first_line=2)
        raise RunbookError(path, f"invalid YAML front matter{reason}") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise RunbookError(
            path,
            f"front matter must be a mapping of keys to values, not a {_kind(loaded)}",
        )
    closing_line = text.count("\n", 0, end.start())  # 0-based
    return loaded, text[end.end() + 1 :], closing_line + 2


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _scan_body(body: str, first_line: int, path: str, *, heading: bool = True) -> str | None:
    """Refuse an unclosed code fence; return the first ``#`` heading outside fences
    (None without looking when ``heading`` is False: the front matter has the title).

    Only the lines that can change the state are visited (a regex finds fence,
    comment and heading lines): a fence opens with three or more backticks or
    tildes, any indented line of only that character (at least as many) closes
    it, and an HTML comment block hides fences from Markdown.
    """
    opened: tuple[str, int, int] | None = None  # (char, length, offset of its line)
    in_comment = False
    found: str | None = None
    for start, line in _marker_lines(body, headings=heading):
        if in_comment:
            in_comment = "-->" not in line
            continue
        if opened is None:
            comment = line.find("<!--")
            if comment >= 0 and "-->" not in line[comment:]:
                in_comment = True
                continue
            fence = _FENCE_OPEN.match(line)
            if fence is None:
                if heading and found is None:
                    level_one = _HEADING.match(line)
                    found = level_one.group(1).strip() if level_one else None
                continue
            ticks, info = fence.group(1), fence.group(2)
            if ticks[0] == "`" and "`" in info:
                continue  # inline code such as ```a``` is not a fence
            opened = (ticks[0], len(ticks), start)
        else:
            # Any indentation closes: fences inside list items are indented.
            char, length, _ = opened
            stripped = line.strip()
            if len(stripped) >= length and set(stripped) == {char}:
                opened = None
    if opened is not None:
        char, length, offset = opened
        number = first_line + body.count("\n", 0, offset)
        raise RunbookError(
            path,
            f"code fence opened on line {number} is never closed "
            f"(add a line {char * length} where the code ends)",
        )
    return found


def _marker_lines(body: str, *, headings: bool) -> Iterator[tuple[int, str]]:
    """(offset, line) of the lines that can change :func:`_scan_body`'s state, in
    order: fence lines, level-1 headings (when asked for), and lines with an HTML
    comment mark."""
    # offsets in "\n" + body: the newline before a line is where it starts in body
    pattern = _FENCE_OR_HEADING if headings else _FENCE
    fences = ((m.start(), m.group(0)[1:]) for m in pattern.finditer("\n" + body))
    if not any(mark in body for mark in _COMMENT_MARKS):
        return fences
    lines = dict(fences)
    for mark in _COMMENT_MARKS:
        at = body.find(mark)
        while at >= 0:
            start = body.rfind("\n", 0, at) + 1
            end = body.find("\n", at)
            end = len(body) if end < 0 else end
            lines[start] = body[start:end]
            at = body.find(mark, end)
    return iter(sorted(lines.items()))


def _relative_slug(path: str, root: str) -> str:
    inside = root.rstrip(os.sep) + os.sep
    if path.startswith(inside):
        relative = path[len(inside) :]  # the walk joined it: relpath would find the same
    else:
        relative = os.path.relpath(path, root) if path != root else os.path.basename(path)
    for suffix in SUFFIXES:
        if relative.lower().endswith(suffix):
            relative = relative[: -len(suffix)]
            break
    return slugify(relative)


def _normalise(meta: dict[Any, Any], path: str) -> dict[str, Any]:
    """Resolve aliases, check types; unknown keys go to ``extra``."""
    canonical: dict[str, tuple[str, Any]] = {}  # key → (as written, value)
    extra: dict[str, Any] = {}
    for raw_key, value in meta.items():
        key = str(raw_key)
        target = ALIASES.get(key.lower(), key.lower())
        if target not in KNOWN_KEYS:
            extra[key] = _json_safe(value)
            continue
        if target in canonical and canonical[target][0] == target:
            extra[key] = _json_safe(value)  # the canonical spelling wins over an alias
            continue
        canonical[target] = (key, value)
    fields: dict[str, Any] = {"extra": extra}
    for target, (written, value) in canonical.items():
        if value is None:
            continue
        if target in ("id", "title", "owner", "severity_hint"):
            if isinstance(value, dict | list):
                raise RunbookError(
                    path, f"'{written}' must be a single value, not a {_kind(value)}"
                )
            text = str(value).strip()
            if target == "severity_hint" and re.fullmatch(r"(?i)sev\s*-?\s*\d", text):
                text = "SEV" + text[-1]
            if text:
                fields[target] = text
        elif target in ("services", "symptoms", "alerts"):
            fields[target] = _names(value, written, path)
        elif target == "last_reviewed":
            fields[target] = _date(value, written, path)
        else:  # review_every_days
            try:
                fields[target] = parse_interval_days(value)
            except ValueError as error:
                raise RunbookError(path, f"'{written}': {error}") from None
    fields.setdefault("review_every_days", DEFAULT_REVIEW_DAYS)
    return fields


def _names(value: object, written: str, path: str) -> tuple[str, ...]:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        items: list[object] = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise RunbookError(
            path, f"'{written}' must be a list of names or one name, not a {_kind(value)}"
        )
    names: list[str] = []
    for item in items:
        if isinstance(item, dict | list):
            raise RunbookError(path, f"'{written}' must hold plain names, found a {_kind(item)}")
        text = str(item).strip()
        if text and text not in names:
            names.append(text)
    return tuple(names)


def _date(value: object, written: str, path: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise RunbookError(path, f"'{written}' is not a date: {value!r} (write YYYY-MM-DD)")


def _json_safe(value: Any) -> Any:
    if value is None or type(value) in (str, int, bool):
        return value  # most extra keys: JSON already, and the round trip is 15 µs
    return json.loads(json.dumps(value, default=str))


# ------------------------------------------------------------------ walking


@dataclass(frozen=True)
class _Candidate:
    path: str  # absolute, symlinks not resolved
    root: str
    size: int
    mtime_ns: int


def _walk(
    paths: Iterable[Path | str], refused: list[RunbookRefusal], skipped: list[str]
) -> tuple[list[_Candidate], list[str]]:
    """Markdown files under ``paths`` (sorted), and the roots given."""
    found: list[_Candidate] = []
    roots: list[str] = []
    seen_files: set[tuple[int, int]] = set()  # (st_dev, st_ino): one read per real file
    for given in paths:
        absolute = os.path.abspath(os.fspath(given))
        try:
            info = os.stat(absolute)
        except OSError as error:
            refused.append(RunbookRefusal(absolute, os_reason(error)))
            continue
        if stat.S_ISDIR(info.st_mode):
            roots.append(absolute)
            found.extend(_walk_folder(absolute, refused, skipped, seen_files))
        elif absolute.lower().endswith(SUFFIXES):
            roots.append(absolute)
            identity = (info.st_dev, info.st_ino)
            if identity not in seen_files:
                seen_files.add(identity)
                found.append(
                    _Candidate(absolute, os.path.dirname(absolute), info.st_size, info.st_mtime_ns)
                )
        else:
            refused.append(
                RunbookRefusal(absolute, "not a Markdown file (only .md and .markdown are read)")
            )
    return found, roots


def _walk_folder(
    root: str,
    refused: list[RunbookRefusal],
    skipped: list[str],
    seen_files: set[tuple[int, int]],
) -> Iterator[_Candidate]:
    # Depth first with the chain of real folder paths: a symlink back into the
    # chain is a loop; a folder reached twice by different links is read once.
    seen_dirs: set[str] = set()

    def visit(folder: str, chain: tuple[str, ...]) -> Iterator[_Candidate]:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            refused.append(RunbookRefusal(folder, os_reason(error)))
            return
        for entry in entries:
            full = os.path.join(folder, entry.name)
            try:
                info = os.stat(full)  # follows symlinks
            except OSError as error:
                if entry.name.lower().endswith(SUFFIXES) or entry.is_symlink():
                    refused.append(RunbookRefusal(full, os_reason(error)))
                continue
            if stat.S_ISDIR(info.st_mode):
                if entry.name.startswith("."):
                    continue  # .git, .github: never runbooks
                real = os.path.realpath(full)
                if real in chain:
                    refused.append(
                        RunbookRefusal(full, f"symlink loop: points back to {real}, not followed")
                    )
                    continue
                if real in seen_dirs:
                    continue
                seen_dirs.add(real)
                yield from visit(full, (*chain, real))
            elif stat.S_ISREG(info.st_mode) and entry.name.lower() in FOLDER_NOTES:
                skipped.append(full)
            elif stat.S_ISREG(info.st_mode) and entry.name.lower().endswith(SUFFIXES):
                identity = (info.st_dev, info.st_ino)  # from the stat above, no realpath
                if identity in seen_files:
                    continue
                seen_files.add(identity)
                yield _Candidate(full, root, info.st_size, info.st_mtime_ns)

    real_root = os.path.realpath(root)
    seen_dirs.add(real_root)
    yield from visit(root, (real_root,))


def os_reason(error: OSError) -> str:
    """Why a file or folder could not be read, in words (shared by the importers)."""
    if error.errno is not None and error.errno == getattr(os, "ELOOP", -1):
        return "symlink loop: the link resolves to itself"
    if isinstance(error, FileNotFoundError):
        return "no such file or folder (or a broken symlink)"
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied"
    return f"cannot be read: {error.strerror or error}"


# ------------------------------------------------------------------ import


@dataclass(frozen=True)
class _Stored:
    id: int
    slug: str
    size: int
    mtime_ns: int
    content_hash: str
    root: str


def import_runbooks(
    db: Database,
    paths: Sequence[Path | str],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    clock: Clock = utc_now,
) -> ImportReport:
    """Import (incrementally) the runbooks in ``paths`` (folders or files)."""
    report = ImportReport()
    candidates, roots = _walk(paths, report.refused, report.skipped)
    with db.raw_reader() as raw:
        stored = {
            row[0]: _Stored(*row[1:])
            for row in raw.execute(
                "SELECT path, id, slug, size, mtime_ns, content_hash, source_root FROM runbooks"
            )
        }
    found_paths = {c.path for c in candidates}
    refused_paths = {r.path for r in report.refused}
    # Gone from a folder given in this import (a refused file keeps its last good version).
    gone = [
        s.id
        for path, s in stored.items()
        if path not in found_paths
        and path not in refused_paths
        and any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
    ]
    gone_ids = set(gone)
    # Every id already taken, by which file, so a duplicate is refused naming the first.
    owners: dict[str, str] = {s.slug: p for p, s in stored.items() if s.id not in gone_ids}
    unchanged: list[_Candidate] = []
    changed: list[_Candidate] = []
    for candidate in candidates:
        old = stored.get(candidate.path)
        if old and old.size == candidate.size and old.mtime_ns == candidate.mtime_ns:
            unchanged.append(candidate)
        else:
            changed.append(candidate)
    report.unchanged = len(unchanged)
    total = len(candidates)
    done = len(unchanged)
    if progress:
        progress(done, total)

    now = format_utc(clock())
    pending: list[tuple[str, Any]] = [("delete", i) for i in gone]
    writer = _BatchWriter(db, bulk=len(changed) >= BULK_FILES)
    report.removed = len(gone)
    try:
        for candidate in changed:
            if cancel is not None and cancel.cancelled:
                report.cancelled = True
                break
            old = stored.get(candidate.path)
            try:
                read = _read_and_parse(candidate, old)
            except RunbookError as error:
                report.refused.append(RunbookRefusal(error.path, error.reason))
            else:
                if read is None:  # size or mtime changed, the bytes did not
                    assert old is not None
                    pending.append(("touch", (candidate.size, candidate.mtime_ns, old.id)))
                    report.unchanged += 1
                else:
                    parsed, may_be_cjk = read
                    holder = owners.get(parsed.slug)
                    if holder is not None and holder != parsed.path:
                        report.refused.append(
                            RunbookRefusal(
                                parsed.path,
                                f"duplicate id '{parsed.slug}': already used by {holder}",
                            )
                        )
                    else:
                        if old is not None and old.slug != parsed.slug:
                            owners.pop(old.slug, None)
                        owners[parsed.slug] = parsed.path
                        if old is None:
                            # rows are built here, not on the writer's thread: the
                            # writer is the slower of the two
                            row = (uuid.uuid4().hex, *_values(parsed, now, may_be_cjk))
                            pending.append(("insert", row))
                            report.imported += 1
                        else:
                            pending.append(("update", (*_values(parsed, now, may_be_cjk), old.id)))
                            report.updated += 1
            done += 1
            if progress:
                progress(done, total)
            if len(pending) >= MAX_BATCH or (len(pending) >= MIN_BATCH and writer.idle):
                size = _power_of_two_at_most(min(len(pending), MAX_BATCH))
                writer.submit(pending[:size])
                pending = pending[size:]
        writer.finish([pending] if pending else [])
    finally:
        writer.close()  # waits for the last batch; raises if it failed
    log.info(
        "runbook import: %d new, %d updated, %d unchanged, %d removed, %d refused",
        report.imported,
        report.updated,
        report.unchanged,
        report.removed,
        len(report.refused),
    )
    return report


def _read_and_parse(
    candidate: _Candidate, old: _Stored | None
) -> tuple[ParsedRunbook, bool] | None:
    """Parse a changed file: (the runbook, whether its bytes may hold CJK text); None
    when its bytes hash as stored (only touched)."""
    if candidate.size > MAX_BYTES:
        raise RunbookError(candidate.path, _too_big(candidate.size))
    try:
        data = read_file(candidate.path, candidate.size, MAX_BYTES + 1)
    except OSError as error:
        raise RunbookError(candidate.path, os_reason(error)) from None
    if old is not None and hashlib.sha256(data).hexdigest() == old.content_hash:
        return None
    parsed = parse_runbook(
        data, path=candidate.path, root=candidate.root, mtime_ns=candidate.mtime_ns
    )
    return parsed, may_hold_cjk(data)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_file(path: str, size: int, limit: int) -> bytes:
    """A file's bytes, at most ``limit``, for a file a walk saw ``size`` bytes long.

    One ``os.read`` of ``size + 1`` bytes when the file still has that size (the
    extra byte notices growth): ``open()`` and its buffered reader cost three more
    system calls a file (fstat, ioctl, lseek), and ``read(limit)`` allocated a
    buffer of the limit for every file. A file that grew or shrank since is read
    on to its end or the limit."""
    handle = os.open(path, _READ_FLAGS)
    try:
        data = os.read(handle, min(size + 1, limit))
        if len(data) != size:
            parts, total = [data], len(data)
            while total < limit:
                more = os.read(handle, min(1 << 20, limit - total))
                if not more:
                    break
                parts.append(more)
                total += len(more)
            data = b"".join(parts)
        return data
    finally:
        os.close(handle)


_COLUMNS = (
    "slug, title, path, source_root, content_hash, mtime_ns, size, body, services, symptoms, "
    "alerts, severity_hint, owner, last_reviewed, review_every_days, imported_at, extra, "
    "cjk_names, cjk_body"
)


def _values(parsed: ParsedRunbook, now: str, may_be_cjk: bool) -> tuple[Any, ...]:
    return (
        parsed.slug,
        parsed.title,
        parsed.path,
        parsed.source_root,
        parsed.content_hash,
        parsed.mtime_ns,
        parsed.size,
        parsed.body.encode(),
        _json_names(parsed.services),
        _json_names(parsed.symptoms),
        _json_names(parsed.alerts),
        parsed.severity_hint,
        parsed.owner,
        parsed.last_reviewed.isoformat() if parsed.last_reviewed else None,
        parsed.review_every_days,
        now,
        json.dumps(dict(parsed.extra), ensure_ascii=False),
        *_cjk_columns(parsed, may_be_cjk),
    )


def _json_names(names: tuple[str, ...]) -> str:
    """``json.dumps(list(names), ensure_ascii=False)``, without building an encoder
    per call (three lists a runbook; a test holds the two equal)."""
    return "[" + ", ".join(map(_JSON_STRING, names)) + "]"


#: json's own string encoder (C), the one ``json.dumps(..., ensure_ascii=False)`` uses
_JSON_STRING: Callable[[str], str] = json.encoder.encode_basestring


def _cjk_columns(parsed: ParsedRunbook, body_may_be_cjk: bool) -> tuple[str, bytes]:
    """(cjk_names, cjk_body as UTF-8): the CJK runs of the names and of the body as
    character pairs, for the word index (the body's without looking when the file's
    bytes cannot encode CJK text). Made here, on the parser's thread (0.11 s for
    the 10,000-runbook library), not on the writer's."""
    names = cjk_bigrams(
        parsed.title,
        parsed.slug,
        *parsed.symptoms,
        *parsed.alerts,
        *parsed.services,
        parsed.owner or "",
    )
    body = cjk_bigrams(parsed.body) if body_may_be_cjk else ""
    return names, body.encode()


class _BatchWriter:
    """Writes batches on one worker thread while the caller parses the next.

    sqlite3 releases the GIL while SQLite runs a statement, and most of an
    import's SQL time is FTS5 tokenising: on two cores parsing and indexing
    overlap. Batches are written in the order submitted; up to :data:`QUEUED`
    wait behind the one being written before :meth:`submit` waits, so that a slow
    batch does not stall the parser, which would later leave the writer idle. A
    failed batch raises from the next :meth:`submit` or from :meth:`close`, which
    always waits for every batch.

    The batches go through a connection of the import's own, opened at the first
    batch and closed after :meth:`close`: what its multi-row INSERTs leave prepared
    (with the last runbooks bound to them, 20-30 MB after 10,000) goes with it.
    """

    #: batches waiting behind the one being written (bounds the rows in memory)
    QUEUED = 2

    def __init__(self, db: Database, *, bulk: bool) -> None:
        self._db = db
        self._bulk = bulk
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runbook-import")
        self._futures: deque[Future[None]] = deque()
        self._own = contextlib.ExitStack()
        self._raw: sqlite3.Connection | None = None
        self._failed = False

    def submit(self, batch: list[tuple[str, Any]], *, last: bool = False) -> None:
        """Queue ``batch``; the first one sets how the indexes merge (:data:`BULK_FILES`),
        and the ``last`` one of a bulk import sets it back."""
        self._reap()
        while len(self._futures) > self.QUEUED:
            self._futures.popleft().result()
        before = after = None
        if self._raw is None:
            self._raw = self._own.enter_context(self._db.own_connection())
            before = 0 if self._bulk else DEFAULT_AUTOMERGE
        if last and self._bulk:
            after = DEFAULT_AUTOMERGE
        self._futures.append(self._pool.submit(self._write, batch, self._raw, before, after))

    def finish(self, batches: list[list[tuple[str, Any]]]) -> None:
        """Queue the import's last batches; a bulk import's setting goes back with
        the last one, or in a transaction of its own when none is left."""
        if not batches and self._bulk and self._raw is not None:
            batches = [[]]
        for number, batch in enumerate(batches, 1):
            self.submit(batch, last=number == len(batches))

    @property
    def idle(self) -> bool:
        """True when no batch is being written or waiting to be."""
        return all(future.done() for future in self._futures)

    def close(self) -> None:
        """Wait for every batch (raising the first failure); the connection is then
        closed on the writer's thread, after this returns: sqlite3 finalizes the
        statements it kept, with their last rows bound to them, and that took 70 ms
        at the end of a 10,000-runbook import, with nothing left to wait for."""
        try:
            while self._futures:
                self._futures.popleft().result()
        finally:
            self._pool.submit(_close_quietly, self._own)
            self._pool.shutdown(wait=False)

    def _write(
        self,
        batch: list[tuple[str, Any]],
        connection: sqlite3.Connection,
        before: int | None,
        after: int | None,
    ) -> None:
        if self._failed:
            return  # the batches after a failed one are not written either
        try:
            _write(self._db, batch, connection, automerge_before=before, automerge_after=after)
        except BaseException:
            self._failed = True
            raise

    def _reap(self) -> None:
        """Forget the batches written; raise the first failure."""
        while self._futures and self._futures[0].done():
            self._futures.popleft().result()


def _close_quietly(own: contextlib.ExitStack) -> None:
    try:
        own.close()
    except Exception:  # nobody is waiting for it: say so in the log
        log.exception("closing the runbook import's connection failed")


def _write(
    db: Database,
    pending: list[tuple[str, Any]],
    connection: sqlite3.Connection,
    *,
    automerge_before: int | None = None,
    automerge_after: int | None = None,
) -> None:
    """One transaction for a batch. Deletes first so a moved id can be reused.

    New runbooks go in as multi-row INSERTs. FTS5 writes its pending terms out
    as a new segment at every statement that opens a savepoint, and every
    INSERT into ``runbooks`` does (its triggers write the two indexes): one
    statement per row made one tiny segment per runbook, and merging those
    doubled the index's cost (10,000 runbooks: 6.5–7 s of CPU one row per
    statement, 3.4–4.1 s in statements of 500 rows).
    """
    order = {"delete": 0, "touch": 1, "update": 2, "insert": 3}
    inserts: list[tuple[Any, ...]] = []
    with db.raw_writer(connection) as raw:
        if automerge_before is not None:
            _set_automerge(raw, automerge_before)
        for action, payload in sorted(pending, key=lambda item: order[item[0]]):
            if action == "delete":
                raw.execute("DELETE FROM runbooks WHERE id = ?", (payload,))
            elif action == "touch":
                raw.execute("UPDATE runbooks SET size = ?, mtime_ns = ? WHERE id = ?", payload)
            elif action == "update":
                raw.execute(_UPDATE, payload)
            else:
                inserts.append(payload)
        limit = _rows_per_statement(raw)
        start = 0
        while start < len(inserts):
            rows = inserts[start : start + _statement_rows(len(inserts) - start, limit)]
            raw.execute(
                _INSERT + ", ".join([_ROW] * len(rows)),
                [value for row in rows for value in row],
            )
            start += len(rows)
        if automerge_after is not None:
            _set_automerge(raw, automerge_after)


def _set_automerge(raw: sqlite3.Connection, pages: int) -> None:
    for index in FTS_INDEXES:
        raw.execute(f"INSERT INTO {index}({index}, rank) VALUES ('automerge', ?)", (pages,))


def _rows_per_statement(raw: sqlite3.Connection) -> int:
    """As many rows as this SQLite binds parameters for (32,766 since 3.32: 1,638 rows)."""
    return max(1, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _INSERTED)


def _statement_rows(remaining: int, limit: int) -> int:
    """Rows for the next INSERT: a power of two. sqlite3 keeps every statement it
    ran prepared (128 per connection), and a prepared 1,000-row INSERT takes about
    1 MB: with any row count allowed, one import left up to 128 MB behind in the
    pooled connection. Powers of two make at most 11 shapes, and a power-of-two
    batch (all of a full import's but the last) is still one statement."""
    return _power_of_two_at_most(min(remaining, limit))


def _power_of_two_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


_NAMES = tuple(c.strip() for c in _COLUMNS.split(","))
#: The long texts are handed over as UTF-8 bytes the parser encoded, and stored as
#: the TEXT they are (``CAST`` of a BLOB to TEXT takes its bytes as they are in a
#: UTF-8 database): binding a str that is not ASCII encodes it on the writer's
#: thread, with the GIL held, and the writer is the slower of the two (40 ms of
#: its 1.3 s for the 10,000-runbook library).
_AS_BYTES = frozenset({"body", "cjk_body"})
_PLACES = tuple("CAST(? AS TEXT)" if c in _AS_BYTES else "?" for c in _NAMES)
_UPDATE = (
    f"UPDATE runbooks SET {', '.join(f'{c} = {p}' for c, p in zip(_NAMES, _PLACES, strict=True))}"
    " WHERE id = ?"
)
_INSERTED = len(_NAMES) + 1  # and the uuid
_INSERT = f"INSERT INTO runbooks (uuid, {_COLUMNS}) VALUES "
_ROW = f"(?, {', '.join(_PLACES)})"
