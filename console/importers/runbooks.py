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
import dataclasses
import hashlib
import json
import logging
import os
import re
import sqlite3
import stat
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from console.domain.clock import Clock, utc_now
from console.domain.errors import InvalidInputError
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
from console.importers import runbook_formats as formats
from console.importers import runbook_sources as sources
from console.importers.runbook_formats import Site
from console.importers.yaml_support import (
    LOAD_ERRORS,
    load_front_matter,
    too_deep,
    yaml_error_reason,
)
from console.safe_yaml import AliasExpansionError
from console.storage.db import Database
from console.storage.models import format_utc

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
#: file endings read from a folder (formats: Markdown, Middleman, MDX)
SUFFIXES = formats.SUFFIXES
#: a folder's README: imported as its landing page (``landing``), no longer passed
#: over (issue 15: a service's README is often its main page)
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
    # the navigation's title and place (Docusaurus, Hugo, just-the-docs, MkDocs plugins)
    "sidebar_label": "nav_title",
    "linktitle": "nav_title",
    "nav_title": "nav_title",
    "sidebar_position": "nav_order",
    "weight": "nav_order",
    "nav_order": "nav_order",
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
        "nav_title",
        "nav_order",
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


@dataclass(frozen=True)
class NothingFound:
    """A folder named for import in which no file was recognised as a runbook:
    what it holds instead, by file ending (``{".txt": 3, "(no ending)": 1}``)."""

    folder: str
    found: Mapping[str, int]

    def describe(self) -> str:
        if not self.found:
            return f"{self.folder}: nothing recognised as a runbook: the folder holds no files"
        listed = ", ".join(
            f"{count} {ending}"
            for ending, count in sorted(self.found.items(), key=lambda item: (-item[1], item[0]))
        )
        return (
            f"{self.folder}: nothing recognised as a runbook (read are "
            f"{', '.join('*' + s for s in SUFFIXES)}); found instead: {listed}"
        )


@dataclass
class ImportReport:
    """What one import did. ``refused`` lists (path, reason), in walk order."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    refused: list[RunbookRefusal] = field(default_factory=list)
    #: files passed over, each with why (a wiki's sidebar, a Docusaurus partial)
    skipped: list[RunbookRefusal] = field(default_factory=list)
    #: runbooks imported with problems a renderer shows past: (path, warning), in order
    warnings: list[RunbookRefusal] = field(default_factory=list)
    #: runbooks read (new, updated or unchanged) by format
    formats: dict[str, int] = field(default_factory=dict)
    #: of those, landing pages (folder READMEs, index pages)
    landing: int = 0
    #: folders named in which nothing was recognised as a runbook, with what they hold
    nothing_found: list[NothingFound] = field(default_factory=list)
    #: a site's config that could not be read (the pages still are)
    site_problems: list[str] = field(default_factory=list)
    #: what the import did to each source it read (in the order given)
    sources: list[SourceImport] = field(default_factory=list)
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
    site: Site | None = None,
) -> ParsedRunbook:
    """Parse one file's bytes. Raises :class:`RunbookError` (path + reason) when refused:
    only what cannot be shown or is unsafe (too large, empty, binary, not text in an
    encoding we can detect, hostile front matter). Everything else a Markdown renderer
    shows is imported, its problems listed in ``warnings`` (each with its line).

    ``site`` is the site generator's folder the file is in (the walk finds it), for
    the format and the navigation's titles and order."""
    if len(data) > MAX_BYTES:
        raise RunbookError(path, _too_big(len(data)))
    if not data or data.isspace():  # not data.strip(): no copy of every file
        raise RunbookError(path, "empty file (nothing to show)")
    warnings: list[str] = []
    text = _decode(data, path, warnings)
    if not text or text.isspace():
        raise RunbookError(path, "empty file (nothing to show)")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    name = os.path.basename(path)
    lower = name.lower()
    fmt = formats.format_of_name(lower)
    meta, body, body_line, toml = _split_front_matter(text, path, warnings)
    if fmt is None:
        fmt = formats.HUGO if toml else site.kind if site is not None else None
    if fmt == formats.MIDDLEMAN:
        body = formats.strip_erb(body)
    elif lower.endswith(".mdx"):
        body = formats.strip_mdx(body)
    fields = _normalise(meta, path, warnings)
    if fmt is None:
        fmt = _format_of_keys(meta)
    title = fields.pop("title", None)
    if title is not None and ("<%" in title or "{" in title):
        title = formats.clean_title(title) or None
    nav_title = fields.pop("nav_title", None)
    nav_order = fields.pop("nav_order", None)
    scan = _scan_body(body, body_line, path, heading=title is None)
    if scan.unclosed is not None:
        line, fence = scan.unclosed
        warnings.append(
            f"line {line}: code fence never closed: shown running to the end of the file, "
            f"as Markdown renderers show it (add a line {fence.lstrip()} where the code ends)"
        )
        body = body.rstrip("\n") + "\n" + fence + "\n"
    if scan.comment is not None:
        warnings.append(
            f"line {scan.comment}: HTML comment (<!--) never closed: renderers hide "
            "everything after it (add --> where the comment ends)"
        )
    heading = scan.heading
    if heading is not None and ("<%" in heading or "{" in heading):
        heading = formats.clean_title(heading) or None
    if fmt is None:
        fmt = formats.RUNME if scan.attributes else formats.MARKDOWN
    if site is not None and site.nav:
        entry = site.nav.get(os.path.normpath(path))
        if entry is not None:
            nav_title = nav_title or entry.title
            nav_order = nav_order if nav_order is not None else entry.order
    landing = formats.is_landing(lower, fmt)
    title = (
        title
        or heading
        or nav_title
        or (_any_heading(body) if title is None else None)
        or _file_title(path, root, landing and fmt != formats.WIKI)
    )
    digest = hashlib.sha256(data).hexdigest()
    slug = fields.pop("id", None) or _relative_slug(path, root, landing=landing)
    return ParsedRunbook(
        slug=slug,
        title=title,
        path=path,
        source_root=root,
        content_hash=digest,
        mtime_ns=mtime_ns,
        size=len(data),
        body=body,
        format=fmt,
        landing=landing,
        warnings=tuple(warnings),
        nav_order=nav_order,
        **fields,
    )


def _too_big(size: int) -> str:
    return f"too large ({size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB)"


#: C0 control characters no text file holds (tab, newlines, form feed and escape do)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def _decode(data: bytes, path: str, warnings: list[str]) -> str:
    """The file's text: UTF-8 (a BOM removed), UTF-16 with its BOM, else Windows-1252
    with a warning. Refused: a NUL byte in a file without a UTF-16 BOM (binary), and
    bytes that are text in none of these."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")[0:].lstrip("\ufeff")
        except UnicodeDecodeError as error:
            raise RunbookError(
                path,
                f"not text: UTF-16 byte order mark, then bytes that are not UTF-16 "
                f"(byte offset {error.start}); save the file as UTF-8",
            ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise RunbookError(path, f"binary file (NUL byte at byte offset {nul}), not Markdown")
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + bom
        not_utf8 = f"not UTF-8: byte 0x{data[offset]:02x} at byte offset {offset}"
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise RunbookError(
            path,
            f"not text in an encoding we can detect ({not_utf8}; not Windows-1252 either: "
            f"byte 0x{data[error.start]:02x}); save the file as UTF-8",
        ) from None
    control = _CONTROL.search(text)
    if control is not None:
        raise RunbookError(
            path,
            f"binary file ({not_utf8}, and a control character 0x{ord(control.group()):02x} "
            f"at byte offset {control.start()}), not Markdown",
        )
    warnings.append(f"{not_utf8}: read as Windows-1252 (Latin-1); save the file as UTF-8")
    return text


_TOML_END = re.compile(r"^\+\+\+[^\S\n]*$", re.M)


def _split_front_matter(
    text: str, path: str, warnings: list[str]
) -> tuple[dict[str, Any], str, int, bool]:
    """(front matter, body, line number of the body's first line, whether it was TOML).

    Front matter a renderer would not take (never closed, not YAML, not a mapping)
    gives a warning and no keys; YAML nested deeply enough to be an attack refuses
    the file."""
    first_end = text.find("\n")
    first = (text if first_end < 0 else text[:first_end]).rstrip()
    if first == "+++":
        return _toml_front_matter(text, path, first_end, warnings)
    if first != "---":
        return {}, text, 1, False
    end = _FRONT_MATTER_END.search(text, first_end + 1) if first_end >= 0 else None
    if end is None:
        warnings.append(
            "line 1: front matter opened with '---' is never closed: read as text, "
            "its keys ignored (add a line --- where it ends)"
        )
        return {}, text, 1, False
    # without the newline that ends the last line, as the lines joined would be
    source = text[first_end + 1 : max(end.start() - 1, first_end + 1)]
    closing_line = text.count("\n", 0, end.start())  # 0-based
    body, body_line = text[end.end() + 1 :], closing_line + 2
    deep = too_deep(source)
    if deep is not None:
        raise RunbookError(path, f"invalid YAML front matter: {deep}")
    try:
        loaded = load_front_matter(source) if source.strip() else {}
    except AliasExpansionError:
        # hostile, not merely broken: refused (issue 15 item 3), with the pure loader's line
        reason = yaml_error_reason(source, first_line=2)
        raise RunbookError(path, f"invalid YAML front matter{reason}") from None
    except LOAD_ERRORS:
        # rare: re-parsed by the pure loader for the clearer line number
        reason = yaml_error_reason(source, first_line=2)
        where, _, problem = reason.partition(": ")
        place = where.strip().removeprefix("on ") or "front matter"
        warnings.append(f"{place}: invalid YAML front matter ({problem}): its keys were ignored")
        return {}, body, body_line, False
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        warnings.append(
            f"line 2: front matter is a {_kind(loaded)}, not a mapping of keys to values: ignored"
        )
        return {}, body, body_line, False
    return loaded, body, body_line, False


def _toml_front_matter(
    text: str, path: str, first_end: int, warnings: list[str]
) -> tuple[dict[str, Any], str, int, bool]:
    """Hugo's TOML front matter between ``+++`` lines."""
    end = _TOML_END.search(text, first_end + 1) if first_end >= 0 else None
    if end is None:
        warnings.append(
            "line 1: front matter opened with '+++' is never closed: read as text, "
            "its keys ignored (add a line +++ where it ends)"
        )
        return {}, text, 1, True
    source = text[first_end + 1 : max(end.start() - 1, first_end + 1)]
    closing_line = text.count("\n", 0, end.start())
    body, body_line = text[end.end() + 1 :], closing_line + 2
    try:
        loaded = formats.load_toml(source)
    except RecursionError:
        raise RunbookError(path, "invalid TOML front matter: nested too deeply") from None
    except ValueError as error:
        warnings.append(f"line 2: invalid TOML front matter ({error}): its keys were ignored")
        return {}, body, body_line, True
    return loaded, body, body_line, True


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _format_of_keys(meta: dict[Any, Any]) -> str | None:
    """A site generator's keys in front matter of a file outside any site folder."""
    if not meta:
        return None
    keys = {str(key).lower() for key in meta}
    if keys & {"sidebar_position", "sidebar_label"}:
        return formats.DOCUSAURUS
    if keys & {"linktitle", "weight"}:
        return formats.HUGO
    return None


def _file_title(path: str, root: str, landing: bool) -> str:
    """A title from the file's name: ``disk-full_alerts.md`` → "Disk full alerts";
    a landing page's from its folder's name (``payments/README.md`` → "Payments")."""
    if landing:
        folder = os.path.dirname(path)
        return formats.humanise(os.path.basename(folder) or os.path.basename(root) or "Index")
    return formats.humanise(formats.strip_suffix(os.path.basename(path)))


@dataclass
class _Scan:
    heading: str | None = None
    #: (line, closing fence) of a code fence never closed
    unclosed: tuple[int, str] | None = None
    #: line of an HTML comment never closed
    comment: int | None = None
    #: a fence with attributes (```sh {"name": "x"}```): Runme's blocks
    attributes: bool = False


def _scan_body(body: str, first_line: int, path: str, *, heading: bool = True) -> _Scan:
    """The first ``#`` heading outside fences (not looked for when ``heading`` is
    False: the front matter has the title), a code fence or comment never closed,
    and whether a fence has attributes.

    Only the lines that can change the state are visited (a regex finds fence,
    comment and heading lines): a fence opens with three or more backticks or
    tildes, any indented line of only that character (at least as many) closes
    it, and an HTML comment block hides fences from Markdown.
    """
    scan = _Scan()
    opened: tuple[str, int, int] | None = None  # (char, length, offset of its line)
    comment_at: int | None = None
    found: str | None = None
    for start, line in _marker_lines(body, headings=heading):
        if comment_at is not None:
            if "-->" in line:
                comment_at = None
            continue
        if opened is None:
            comment = line.find("<!--")
            if comment >= 0 and "-->" not in line[comment:]:
                comment_at = start
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
            if "{" in info:
                scan.attributes = True
            opened = (ticks[0], len(ticks), start)
        else:
            # Any indentation closes: fences inside list items are indented.
            char, length, _ = opened
            stripped = line.strip()
            if len(stripped) >= length and set(stripped) == {char}:
                opened = None
    scan.heading = found
    if opened is not None:
        char, length, offset = opened
        # closed as it was opened: at the same indentation (a fence inside a list item)
        opening = body[offset : body.find("\n", offset) if "\n" in body[offset:] else None]
        indent = opening[: len(opening) - len(opening.lstrip())]
        scan.unclosed = (first_line + body.count("\n", 0, offset), indent + char * length)
    if comment_at is not None:
        scan.comment = first_line + body.count("\n", 0, comment_at)
    return scan


_ANY_HEADING = re.compile(
    r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$|^([^\n]+)\n {0,3}(?:=+|-+)[ \t]*$", re.M
)


def _any_heading(body: str) -> str | None:
    """The first heading of any level (ATX or a setext underline) outside code
    fences whose text is more than template tags: for a runbook without a title
    and without a ``# `` heading, so that it never shows as its file name."""
    fenced = _fenced_spans(body)
    for match in _ANY_HEADING.finditer(body):
        if any(start <= match.start() < end for start, end in fenced):
            continue
        text = match.group(1) if match.group(1) is not None else match.group(2)
        if match.group(2) is not None:
            stripped = text.strip()
            # a setext underline needs paragraph text above it, not a list, table or rule
            if not stripped or stripped[0] in "-*+|>" or set(stripped) <= {"-", "=", " "}:
                continue
        title = formats.clean_title(text.strip().strip("#").strip())
        if title:
            return title
    return None


def _fenced_spans(body: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    opened: tuple[str, int] | None = None
    offset = 0
    for line in body.split("\n"):
        stripped = line.strip()
        if opened is None:
            fence = _FENCE_OPEN.match(line)
            if fence is not None and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
                opened = (fence.group(1), offset)
        elif (
            stripped.startswith(opened[0][0])
            and set(stripped) == {opened[0][0]}
            and len(stripped) >= len(opened[0])
        ):
            spans.append((opened[1], offset + len(line)))
            opened = None
        offset += len(line) + 1
    if opened is not None:
        spans.append((opened[1], len(body)))
    return spans


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


def _relative_slug(path: str, root: str, *, landing: bool = False) -> str:
    """The path relative to the imported folder, without its endings, as a slug. The
    landing page of the imported folder itself (its README) is named after that
    folder: every collection has a README.md, and two folders imported side by side
    must not both claim ``readme``."""
    inside = root.rstrip(os.sep) + os.sep
    if landing and os.path.dirname(path) == root.rstrip(os.sep) and os.path.basename(root):
        return slugify(f"{os.path.basename(root)}-{formats.strip_suffix(os.path.basename(path))}")
    if path.startswith(inside):
        relative = path[len(inside) :]  # the walk joined it: relpath would find the same
    else:
        relative = os.path.relpath(path, root) if path != root else os.path.basename(path)
    folder, name = os.path.split(relative)
    return slugify(os.path.join(folder, formats.strip_suffix(name)))


class _BadValueError(ValueError):
    """A front-matter value of the wrong kind: the key is left out, with a warning."""


def _normalise(meta: dict[Any, Any], path: str, warnings: list[str]) -> dict[str, Any]:
    """Resolve aliases, check types; unknown keys go to ``extra``. A known key with
    a value of the wrong kind is left out with a warning (the runbook still shows)."""
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
        try:
            fields[target] = _value(target, written, value)
        except _BadValueError as error:
            warnings.append(f"front matter: {error}: ignored")
        if fields.get(target) is None or fields.get(target) == "":
            fields.pop(target, None)
    fields.setdefault("review_every_days", DEFAULT_REVIEW_DAYS)
    return fields


def _value(target: str, written: str, value: object) -> Any:
    if target in ("id", "title", "owner", "severity_hint", "nav_title"):
        if isinstance(value, dict | list):
            raise _BadValueError(f"'{written}' must be a single value, not a {_kind(value)}")
        text = str(value).strip()
        if target == "severity_hint" and re.fullmatch(r"(?i)sev\s*-?\s*\d", text):
            text = "SEV" + text[-1]
        return text or None
    if target in ("services", "symptoms", "alerts"):
        return _names(value, written)
    if target == "last_reviewed":
        return _date(value, written)
    if target == "nav_order":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise _BadValueError(f"'{written}' is not a number: {value!r}")
    try:  # review_every_days
        return parse_interval_days(value)
    except ValueError as error:
        raise _BadValueError(f"'{written}': {error}") from None


def _names(value: object, written: str) -> tuple[str, ...]:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        items: list[object] = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise _BadValueError(
            f"'{written}' must be a list of names or one name, not a {_kind(value)}"
        )
    names: list[str] = []
    for item in items:
        if isinstance(item, dict | list):
            raise _BadValueError(f"'{written}' must hold plain names, found a {_kind(item)}")
        text = str(item).strip()
        if text and text not in names:
            names.append(text)
    return tuple(names)


def _date(value: object, written: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise _BadValueError(f"'{written}' is not a date: {value!r} (write YYYY-MM-DD)")


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
    #: the site generator's folder it is in (format, nav titles and order)
    site: Site | None = None
    #: the path given (folder or file) it was found through: its source's path
    given: str = ""


@dataclass
class _Walked:
    candidates: list[_Candidate] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    nothing_found: list[NothingFound] = field(default_factory=list)
    site_problems: list[str] = field(default_factory=list)


_NO_ENDING = "(no ending)"


def _walk(
    paths: Iterable[Path | str],
    refused: list[RunbookRefusal],
    skipped: list[RunbookRefusal],
) -> _Walked:
    """Runbook files under ``paths`` (sorted), the roots given, and the folders in
    which nothing was recognised (with what they hold instead)."""
    walked = _Walked()
    seen_files: set[tuple[int, int]] = set()  # (st_dev, st_ino): one read per real file
    problems: dict[str, None] = {}  # a site's config problems, once each, in order
    for given in paths:
        absolute = os.path.abspath(os.fspath(given))
        try:
            info = os.stat(absolute)
        except OSError as error:
            refused.append(RunbookRefusal(absolute, os_reason(error)))
            continue
        if stat.S_ISDIR(info.st_mode):
            walked.roots.append(absolute)
            others: dict[str, int] = {}
            before, skipped_before = len(walked.candidates), len(skipped)
            walked.candidates.extend(
                _walk_folder(absolute, refused, skipped, seen_files, others, problems)
            )
            if len(walked.candidates) == before and len(skipped) == skipped_before:
                walked.nothing_found.append(NothingFound(absolute, others))
        elif formats.is_markdown_name(absolute):
            walked.roots.append(absolute)
            identity = (info.st_dev, info.st_ino)
            if identity not in seen_files:
                seen_files.add(identity)
                folder = os.path.dirname(absolute)
                site = _site_of_folder(folder) or formats.site_above(folder)
                if site is not None:
                    problems.update(dict.fromkeys(site.problems))
                walked.candidates.append(
                    _Candidate(absolute, folder, info.st_size, info.st_mtime_ns, site, absolute)
                )
        elif stat.S_ISREG(info.st_mode):
            refused.append(
                RunbookRefusal(
                    absolute,
                    "not a Markdown file: its name does not end in "
                    + ", ".join(SUFFIXES)
                    + " (rename it if it is Markdown)",
                )
            )
        else:
            refused.append(RunbookRefusal(absolute, "not a file or a folder"))
    walked.site_problems = list(problems)
    return walked


def _site_of_folder(folder: str) -> Site | None:
    try:
        listed = os.listdir(folder)
    except OSError:
        return None
    return formats.detect_site(
        folder, {n.lower(): n for n in listed if n.lower() in formats.MARKERS}
    )


def _walk_folder(
    root: str,
    refused: list[RunbookRefusal],
    skipped: list[RunbookRefusal],
    seen_files: set[tuple[int, int]],
    others: dict[str, int],
    problems: dict[str, None],
) -> Iterator[_Candidate]:
    # Depth first with the chain of real folder paths: a symlink back into the
    # chain is a loop; a folder reached twice by different links is read once.
    seen_dirs: set[str] = set()

    def visit(folder: str, chain: tuple[str, ...], site: Site | None) -> Iterator[_Candidate]:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            refused.append(RunbookRefusal(folder, os_reason(error)))
            return
        markers = {e.name.lower(): e.name for e in entries if e.name.lower() in formats.MARKERS}
        if markers:
            found = formats.detect_site(folder, markers)
            if found is not None:
                site = found
                problems.update(dict.fromkeys(found.problems))
        for entry in entries:
            full = os.path.join(folder, entry.name)
            lower = entry.name.lower()
            try:
                info = os.stat(full)  # follows symlinks
            except OSError as error:
                if lower.endswith(SUFFIXES) or entry.is_symlink():
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
                yield from visit(full, (*chain, real), site)
            elif not stat.S_ISREG(info.st_mode):
                continue
            elif lower.endswith(SUFFIXES):
                reason = _passed_over(lower, folder, site)
                if reason is not None:
                    skipped.append(RunbookRefusal(full, reason))
                    continue
                identity = (info.st_dev, info.st_ino)  # from the stat above, no realpath
                if identity in seen_files:
                    continue
                seen_files.add(identity)
                yield _Candidate(full, root, info.st_size, info.st_mtime_ns, site, root)
            else:
                ending = os.path.splitext(lower)[1] or _NO_ENDING
                others[ending] = others.get(ending, 0) + 1

    real_root = os.path.realpath(root)
    seen_dirs.add(real_root)
    yield from visit(root, (real_root,), formats.site_above(root))


def _passed_over(lower: str, folder: str, site: Site | None) -> str | None:
    """Why a Markdown file in a folder is not a runbook of its site, else None (a
    file named on the command line is read whatever its name)."""
    if site is None:
        return None
    if site.kind == formats.WIKI and lower in formats.WIKI_PARTS and folder == site.folder:
        return (
            f"a GitHub wiki's {formats.strip_suffix(lower).lstrip('_')}: shown around every "
            "page, not a runbook (name the file to import it)"
        )
    if site.kind == formats.HUGO and folder.startswith(os.path.join(site.folder, "archetypes")):
        return (
            "a Hugo archetype: the template new pages start from, not a page "
            "(name the file to import it)"
        )
    if site.kind == formats.DOCUSAURUS and lower.startswith("_"):
        return (
            "a Docusaurus partial: a name starting with _ is included in pages, not a page "
            "(name the file to import it)"
        )
    return None


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
    format: str
    landing: bool
    warnings: str  # JSON
    source_id: int
    local_id: str


@dataclass
class SourceImport:
    """What one import did to one source (``ImportReport.sources``)."""

    name: str
    path: str
    #: made by this import (the folder was not a source before)
    created: bool
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    refused: int = 0
    skipped: int = 0
    warnings: int = 0
    kind: str = formats.MARKDOWN
    #: its runbooks read (new, updated, unchanged) by format
    formats: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "new": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "refused": self.refused,
            "skipped": self.skipped,
            "warnings": self.warnings,
        }


@dataclass
class _SourcePlan:
    """A source this import reads: its row, and whether it is read whole (a folder or
    file that is the source's path: files gone from it are removed) or only some files
    of it (a file named that an imported folder holds)."""

    id: int
    name: str
    whole: bool
    result: SourceImport


def import_runbooks(
    db: Database,
    paths: Sequence[Path | str],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    clock: Clock = utc_now,
    name: str | None = None,
    origin: str = sources.FOLDER,
) -> ImportReport:
    """Import (incrementally) the runbooks in ``paths`` (folders or files). Each path
    given is a source (made at its first import, refreshed after): ids are unique
    within their source, and files gone from a source's folder leave the library.
    ``name`` names a new source (one path only; a pack's source is renamed to it)."""
    report = ImportReport()
    walked = _walk(paths, report.refused, report.skipped)
    candidates = walked.candidates
    report.nothing_found = walked.nothing_found
    report.site_problems = walked.site_problems
    now = format_utc(clock())
    with db.raw_reader() as raw:
        stored = {
            row[0]: _Stored(*row[1:])
            for row in raw.execute(
                "SELECT path, id, slug, size, mtime_ns, content_hash, source_root, format, "
                "landing, warnings, source_id, local_id FROM runbooks"
            )
        }
        existing = {
            row[1]: (row[0], row[2])
            for row in raw.execute("SELECT id, path, name FROM runbook_sources")
        }
    plans = _plan_sources(db, walked, stored, existing, name, origin, now, report)
    plan_of_given = plans
    by_id = {plan.id: plan for plan in plans.values()}
    holders = _by_id(existing)
    # A file an imported folder holds belongs to that folder's source: a folder imported
    # that holds another source's files passes over them (the other source keeps them).
    kept: list[_Candidate] = []
    for candidate in candidates:
        plan = plan_of_given[candidate.given]
        old = stored.get(candidate.path)
        if old is not None and old.source_id != plan.id and plan.whole:
            other = holders.get(old.source_id, ("", "?"))[1]
            report.skipped.append(
                RunbookRefusal(
                    candidate.path,
                    f"already in source '{other}' (refresh that source, or remove it first "
                    "to import the file here)",
                )
            )
            plan.result.skipped += 1
            continue
        if not plan.whole and plan.result.path != candidate.path:
            # a file named that its source's folder holds: its id is its path in that
            # folder, as the source's refresh would give it (an id never changes)
            candidate = dataclasses.replace(candidate, root=plan.result.path)
        kept.append(candidate)
    candidates = kept
    found_paths = {c.path for c in candidates}
    refused_paths = {r.path for r in report.refused}
    # Gone from a source read whole (a refused file keeps its last good version).
    whole = {plan.id for plan in plans.values() if plan.whole}
    # a folder named inside a source's folder: that source's files gone from it
    inside = [
        (given.rstrip(os.sep) + os.sep, plan.id)
        for given, plan in plans.items()
        if not plan.whole and given not in stored
    ]
    gone_rows = [
        s
        for path, s in stored.items()
        if (
            s.source_id in whole
            or any(s.source_id == i and path.startswith(folder) for folder, i in inside)
        )
        and path not in found_paths
        and path not in refused_paths
    ]
    gone = [s.id for s in gone_rows]
    for s in gone_rows:
        by_id[s.source_id].result.removed += 1
    gone_ids = set(gone)
    # Every id already taken, by which file: within a source a duplicate is refused
    # naming the first; across sources the library-wide id takes the source's name.
    owners: dict[tuple[int, str], str] = {
        (s.source_id, s.local_id): p for p, s in stored.items() if s.id not in gone_ids
    }
    taken: dict[str, str] = {s.slug: p for p, s in stored.items() if s.id not in gone_ids}
    unchanged: list[_Candidate] = []
    changed: list[_Candidate] = []
    for candidate in candidates:
        old = stored.get(candidate.path)
        if old and old.size == candidate.size and old.mtime_ns == candidate.mtime_ns:
            unchanged.append(candidate)
        else:
            changed.append(candidate)
    report.unchanged = len(unchanged)
    for candidate in unchanged:
        result = plan_of_given[candidate.given].result
        result.unchanged += 1
        result.warnings += _count(report, candidate.path, stored[candidate.path], result)
    total = len(candidates)
    done = len(unchanged)
    if progress:
        progress(done, total)

    pending: list[tuple[str, Any]] = [("delete", i) for i in gone]
    writer = _BatchWriter(db, bulk=len(changed) >= BULK_FILES)
    report.removed = len(gone)
    try:
        for candidate in changed:
            if cancel is not None and cancel.cancelled:
                report.cancelled = True
                break
            old = stored.get(candidate.path)
            plan = plan_of_given[candidate.given]
            if old is not None:
                plan = by_id.get(old.source_id, plan)  # a named file stays in its source
            result = plan.result
            try:
                read = _read_and_parse(candidate, old)
            except RunbookError as error:
                report.refused.append(RunbookRefusal(error.path, error.reason))
                result.refused += 1
            else:
                if read is None:  # size or mtime changed, the bytes did not
                    assert old is not None
                    pending.append(("touch", (candidate.size, candidate.mtime_ns, old.id)))
                    report.unchanged += 1
                    result.unchanged += 1
                    result.warnings += _count(report, candidate.path, old, result)
                else:
                    parsed, may_be_cjk = read
                    local = parsed.slug
                    holder = owners.get((plan.id, local))
                    if holder is not None and holder != parsed.path:
                        report.refused.append(
                            RunbookRefusal(
                                parsed.path,
                                f"duplicate id '{local}' in source '{plan.name}': "
                                f"already used by {holder}",
                            )
                        )
                        result.refused += 1
                    else:
                        if old is not None and old.local_id != local:
                            owners.pop((old.source_id, old.local_id), None)
                            taken.pop(old.slug, None)
                        owners[(plan.id, local)] = parsed.path
                        if old is not None and old.local_id == local:
                            slug = old.slug  # an id once given never changes
                        else:
                            slug = sources.public_id(local, plan.name, taken)
                        taken[slug] = parsed.path
                        result.warnings += _count(report, parsed.path, parsed, result)
                        values = _values(parsed, now, may_be_cjk, slug, plan.id)
                        if old is None:
                            # rows are built here, not on the writer's thread: the
                            # writer is the slower of the two
                            pending.append(("insert", (uuid.uuid4().hex, *values)))
                            report.imported += 1
                            result.imported += 1
                        else:
                            pending.append(("update", (*values, old.id)))
                            report.updated += 1
                            result.updated += 1
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
    _record_sources(db, plans, report, now)
    log.info(
        "runbook import: %d new, %d updated, %d unchanged, %d removed, %d refused, "
        "%d warnings, formats %s",
        report.imported,
        report.updated,
        report.unchanged,
        report.removed,
        len(report.refused),
        len(report.warnings),
        report.formats,
    )
    return report


def _count(
    report: ImportReport, path: str, runbook: ParsedRunbook | _Stored, source: SourceImport
) -> int:
    """Add a runbook read (parsed now or unchanged) to the report's (and its source's)
    formats, landing pages and warnings; returns its warnings."""
    report.formats[runbook.format] = report.formats.get(runbook.format, 0) + 1
    source.formats[runbook.format] = source.formats.get(runbook.format, 0) + 1
    report.landing += bool(runbook.landing)
    if isinstance(runbook, _Stored):
        if runbook.warnings in ("[]", ""):
            return 0
        warnings: Sequence[str] = json.loads(runbook.warnings)
    else:
        warnings = runbook.warnings
    report.warnings.extend(RunbookRefusal(path, warning) for warning in warnings)
    return len(warnings)


def _by_id(existing: Mapping[str, tuple[int, str]]) -> dict[int, tuple[str, str]]:
    return {source_id: (path, name) for path, (source_id, name) in existing.items()}


def _plan_sources(
    db: Database,
    walked: _Walked,
    stored: Mapping[str, _Stored],
    existing: dict[str, tuple[int, str]],
    name: str | None,
    origin: str,
    now: str,
    report: ImportReport,
) -> dict[str, _SourcePlan]:
    """The source of each path given, made when it is new and something was found in
    it (a folder in which nothing was recognised does not become a source). A file
    named that an imported folder already holds is read in that folder's source."""
    found = {c.given for c in walked.candidates}
    names_by_id = _by_id(existing)
    wanted = name if name is not None and len(walked.roots) == 1 else None
    plans: dict[str, _SourcePlan] = {}
    creating: list[str] = []
    for given in walked.roots:
        if given in plans:
            continue
        if given in existing:
            source_id, source = existing[given]
            plans[given] = _SourcePlan(source_id, source, True, SourceImport(source, given, False))
        elif given in stored and stored[given].source_id in names_by_id:
            source_id = stored[given].source_id
            path, source = names_by_id[source_id]
            plans[given] = _SourcePlan(source_id, source, False, SourceImport(source, path, False))
        elif (holder := _source_holding(given, existing)) is not None:
            # a new file named inside a source's folder joins that source
            path, (source_id, source) = holder
            plans[given] = _SourcePlan(source_id, source, False, SourceImport(source, path, False))
        elif given in found or any(s.path.startswith(given + os.sep) for s in report.skipped):
            creating.append(given)
    used = {n for _, n in existing.values()}
    if wanted is not None and wanted in used and walked.roots[0] not in existing:
        raise InvalidInputError(
            f"a runbook source is already named '{wanted}': choose another name"
        )
    if creating or wanted is not None:
        with db.raw_writer() as raw:
            for given in creating:
                source = wanted or sources.source_name(given, used)
                used.add(source)
                source_id = raw.execute(
                    "INSERT INTO runbook_sources (name, path, kind, origin, added_at, "
                    "last_import) VALUES (?, ?, ?, ?, ?, '{}') RETURNING id",
                    (source, given, formats.MARKDOWN, origin, now),
                ).fetchone()[0]
                plans[given] = _SourcePlan(
                    source_id, source, True, SourceImport(source, given, True)
                )
            plan = plans.get(walked.roots[0])
            if wanted is not None and plan is not None and plan.name != wanted and plan.whole:
                # a pack's content folder is one: the pack of another publisher renames it
                raw.execute("UPDATE runbook_sources SET name = ? WHERE id = ?", (wanted, plan.id))
                plan.name = plan.result.name = wanted
    return plans


def _source_holding(
    path: str, existing: Mapping[str, tuple[int, str]]
) -> tuple[str, tuple[int, str]] | None:
    """The source whose folder holds ``path`` (the innermost), if any."""
    best: tuple[str, tuple[int, str]] | None = None
    for folder, source in existing.items():
        if path.startswith(folder.rstrip(os.sep) + os.sep) and (
            best is None or len(folder) > len(best[0])
        ):
            best = (folder, source)
    return best


def _record_sources(
    db: Database, plans: Mapping[str, _SourcePlan], report: ImportReport, now: str
) -> None:
    """Each source's kind, when it was imported and what the import did."""
    if not plans:
        return
    with db.raw_writer() as raw:
        for plan in {p.id: p for p in plans.values()}.values():
            result = plan.result
            if plan.whole and not report.cancelled:  # every runbook of it was counted
                result.kind = max(
                    sorted(result.formats) or [formats.MARKDOWN],
                    key=lambda kind: result.formats.get(kind, 0),
                )
            else:  # 36 ms over 10,000 runbooks: only when the import did not read them all
                result.kind = sources.dominant_kind(raw, plan.id)
            counts = {**result.counts(), "cancelled": report.cancelled}
            raw.execute(
                "UPDATE runbook_sources SET kind = ?, imported_at = ?, last_import = ? "
                "WHERE id = ?",
                (result.kind, now, json.dumps(counts), plan.id),
            )
            report.sources.append(result)


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
        data,
        path=candidate.path,
        root=candidate.root,
        mtime_ns=candidate.mtime_ns,
        site=candidate.site,
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
    "cjk_names, cjk_body, format, landing, warnings, nav_order, local_id, source_id"
)


def _values(
    parsed: ParsedRunbook, now: str, may_be_cjk: bool, slug: str, source_id: int
) -> tuple[Any, ...]:
    """A row's values: ``slug`` is the library-wide id, ``parsed.slug`` the id within
    the source (``local_id``)."""
    return (
        slug,
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
        parsed.format,
        parsed.landing,
        _json_names(parsed.warnings),
        parsed.nav_order,
        parsed.slug,
        source_id,
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
