"""Runbook sources: each folder (or file) imported is a source (issue 15, migration 0017).

A source has a unique short ``name`` (a slug of the folder's name), its ``path``, a
``kind`` (the format most of its runbooks are in), an ``origin`` (``folder``; ``pack``
for a content pack's runbooks, one source per pack publisher; ``legacy`` for runbooks
imported before sources existed), when it was added and last imported, and what that
import did. Runbook ids are unique within a source (``runbooks.local_id``); the id
the library knows a runbook by (``runbooks.slug``) is its local id, or
``<source name>:<local id>`` when another source already holds that id, and it never
changes once given.

:func:`~console.importers.runbooks.import_runbooks` creates and refreshes sources;
this module reads them and removes one (exactly its runbooks, and so their rows in
the word index, through its triggers).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from console.domain.errors import NotFoundError
from console.domain.runbook import is_overdue, slugify
from console.importers import runbook_formats as formats
from console.storage.db import Database
from console.storage.models import parse_utc

FOLDER, PACK, LEGACY = "folder", "pack", "legacy"
#: separates a source's name from a runbook's id within it (``ja-docs:oncall/ic``)
SEPARATOR = ":"


@dataclass(frozen=True)
class Source:
    """A source as listed: its runbooks counted now, and what its last import did."""

    id: int
    name: str
    path: str
    kind: str
    origin: str
    added_at: datetime
    imported_at: datetime | None
    runbooks: int = 0
    #: runbooks imported with warnings
    warned: int = 0
    landing: int = 0
    overdue: int = 0
    #: the last import's counts (new, updated, unchanged, removed, refused, skipped,
    #: warnings); ``{}`` when it was never imported as a source (legacy)
    last_import: dict[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        """Whether its folder (or file) is still there to refresh from."""
        return os.path.exists(self.path)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "kind": self.kind,
            "origin": self.origin,
            "added_at": self.added_at.isoformat().replace("+00:00", "Z"),
            "imported_at": (
                self.imported_at.isoformat().replace("+00:00", "Z") if self.imported_at else None
            ),
            "runbooks": self.runbooks,
            "with_warnings": self.warned,
            "landing": self.landing,
            "overdue": self.overdue,
            "last_import": self.last_import,
            "path_exists": self.exists,
        }


_COLUMNS = "id, name, path, kind, origin, added_at, imported_at, last_import"


def list_sources(db: Database, *, today: date) -> list[Source]:
    """Every source by name, with its runbooks counted (overdue as of ``today``)."""
    with db.raw_reader() as raw:
        rows = raw.execute(f"SELECT {_COLUMNS} FROM runbook_sources ORDER BY name").fetchall()
        counts: dict[int, list[int]] = {}
        for source_id, reviewed, every, landing, warned in raw.execute(
            "SELECT source_id, last_reviewed, review_every_days, landing, warnings != '[]' "
            "FROM runbooks"
        ):
            count = counts.setdefault(source_id, [0, 0, 0, 0])
            count[0] += 1
            count[1] += bool(warned)
            count[2] += bool(landing)
            last = date.fromisoformat(reviewed) if reviewed else None
            count[3] += is_overdue(last, every, today, landing=bool(landing))
    return [_source(row, *counts.get(row[0], [0, 0, 0, 0])) for row in rows]


def _source(row: tuple[Any, ...], runbooks: int, warned: int, landing: int, overdue: int) -> Source:
    source_id, name, path, kind, origin, added, imported, last = row
    return Source(
        id=source_id,
        name=name,
        path=path,
        kind=kind,
        origin=origin,
        added_at=parse_utc(added),
        imported_at=parse_utc(imported) if imported else None,
        runbooks=runbooks,
        warned=warned,
        landing=landing,
        overdue=overdue,
        last_import=json.loads(last or "{}"),
    )


def find_source(db: Database, name_or_path: str, *, today: date) -> Source:
    """A source by its name or its path (as given or absolute). NotFoundError lists the
    names there are."""
    absolute = os.path.abspath(name_or_path)
    sources = list_sources(db, today=today)
    for source in sources:
        if name_or_path in (source.name, source.path) or absolute == source.path:
            return source
    names = ", ".join(s.name for s in sources) or "none yet"
    raise NotFoundError(
        f"no runbook source {name_or_path!r} (sources: {names}); "
        "'responder-console sources list' shows them with their paths"
    )


def remove_source(db: Database, source_id: int) -> int:
    """Remove a source and exactly its runbooks (their word-index rows go with them,
    through the table's triggers), in one transaction. Returns the runbooks removed."""
    with db.raw_writer() as raw:
        removed = raw.execute("DELETE FROM runbooks WHERE source_id = ?", (source_id,)).rowcount
        raw.execute("DELETE FROM runbook_sources WHERE id = ?", (source_id,))
    return int(removed)


def source_name(path: str, taken: Iterable[str]) -> str:
    """A new source's name: the folder's (a file's without its endings) as a slug; with
    its parent's in front when taken (``docs`` → ``ja-docs``), then ``-2``, ``-3`` …"""
    used = set(taken)
    trimmed = path.rstrip("/\\") or path
    base = os.path.basename(trimmed)
    if os.path.isfile(trimmed):
        base = formats.strip_suffix(base)
    name = slugify(base or "runbooks")
    if name not in used:
        return name
    parent = os.path.basename(os.path.dirname(trimmed))
    if parent:
        name = slugify(f"{parent}-{base}")
        if name not in used:
            return name
    number = 2
    while f"{name}-{number}" in used:
        number += 1
    return f"{name}-{number}"


def public_id(local_id: str, source: str, taken: dict[str, Any] | set[str]) -> str:
    """The library-wide id for a new runbook: its local id when no runbook has it,
    else prefixed with its source's name (``-2`` … if even that is taken)."""
    if local_id not in taken:
        return local_id
    prefixed = f"{source}{SEPARATOR}{local_id}"
    candidate, number = prefixed, 2
    while candidate in taken:
        candidate = f"{prefixed}-{number}"
        number += 1
    return candidate


def dominant_kind(raw: sqlite3.Connection, source_id: int) -> str:
    """The format most of a source's runbooks are in (``markdown`` when it has none)."""
    row = raw.execute(
        "SELECT format FROM runbooks WHERE source_id = ? GROUP BY format "
        "ORDER BY count(*) DESC, format LIMIT 1",
        (source_id,),
    ).fetchone()
    return str(row[0]) if row else formats.MARKDOWN
