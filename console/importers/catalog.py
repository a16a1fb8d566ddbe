"""Import service catalogs: the one writer path for services, their edges and owners.

:func:`import_catalog` reads folders (walked for ``*.yaml``/``*.yml``) and files,
follows Backstage Locations to local files, turns every document into entities
with :mod:`console.importers.catalog_formats`, resolves references against the
whole catalog, and writes it all in **one transaction**:

* the entities of each import root (a path as given, made absolute: the
  *source*) replace what that root brought last time — updated in place when
  their ref is unchanged (ids stay, so the map keeps its selection), added,
  or removed when gone; entities of a file refused this time keep their last
  good version;
* the dependency edges of the whole catalog are rebuilt from every entity's
  declared relations, so a reference made before its target was imported
  (another root) resolves as soon as the target arrives;
* ``cache_sets`` row ``catalog`` records when and from where.

Nothing malformed stops an import: an unreadable or invalid file is refused
with its reason, a malformed entity alone is refused, and dangling, ambiguous
and self references, cycles, unknown kinds and missing owners are listed as
problems (the entity is imported).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import stat
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.domain.catalog import (
    CatalogEntity,
    CatalogOwner,
    CatalogProblem,
    CatalogRefusal,
    StoredEntity,
    describe_cycle,
    resolve,
)
from console.domain.clock import Clock, utc_now
from console.graph.traversal import find_cycles
from console.importers.catalog_formats import (
    Collected,
    Document,
    group_by_format,
    read_backstage,
    read_compose,
    read_kubernetes,
    read_responder,
)
from console.importers.runbooks import CancelToken, Progress, os_reason
from console.importers.yaml_support import LOAD_ERRORS, SAFE_LOADER, too_deep, yaml_error_reason
from console.storage.db import Database
from console.storage.models import format_utc

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml")
MAX_BYTES = 5 * 1024 * 1024
CACHE_SET = "catalog"


@dataclass
class CatalogImportReport:
    """What one import did. Counts are of this import's entities; ``dependencies`` is
    the whole catalog's edge count after it."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    owners: int = 0
    dependencies: int = 0
    files: int = 0
    refused: list[CatalogRefusal] = field(default_factory=list)
    problems: list[CatalogProblem] = field(default_factory=list)
    #: YAML files in a folder that hold no catalog document (OpenAPI specs, CI files …)
    skipped: list[CatalogRefusal] = field(default_factory=list)
    #: Kubernetes kinds that describe no service → how many documents were passed over
    ignored: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def services(self) -> int:
        return self.added + self.updated

    @property
    def read_any(self) -> bool:
        return bool(self.services or self.owners or self.removed)

    def as_json(self) -> dict[str, Any]:
        return {
            "services": self.services,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "owners": self.owners,
            "dependencies": self.dependencies,
            "files": self.files,
            "sources": self.sources,
            "refused": [r.as_json() for r in self.refused],
            "problems": [p.as_json() for p in self.problems],
            "skipped": [s.as_json() for s in self.skipped],
            "ignored": dict(sorted(self.ignored.items())),
            "cancelled": self.cancelled,
        }

    def summary(self) -> str:
        head = "Catalog import cancelled: nothing changed" if self.cancelled else "Catalog"
        if self.cancelled:
            return head + "."
        counts = (
            f"{self.services} services ({self.added} new, {self.updated} updated), "
            f"{self.removed} removed, {self.owners} owners, {self.dependencies} dependencies; "
            f"{len(self.refused)} refused, {len(self.problems)} problems"
        )
        return f"{head}: {counts}."


# ------------------------------------------------------------------ reading files


@dataclass(frozen=True)
class _File:
    path: str  # absolute, as given (symlinks not resolved)
    root: str
    named: bool  # named on the command line (not found by walking)


def _walk(
    given: Iterable[Path | str], report: CatalogImportReport
) -> tuple[list[_File], list[str]]:
    files: list[_File] = []
    roots: list[str] = []
    for item in given:
        absolute = os.path.abspath(os.fspath(item))
        try:
            info = os.stat(absolute)
        except OSError as error:
            report.refused.append(CatalogRefusal(absolute, os_reason(error)))
            continue
        roots.append(absolute)
        if stat.S_ISDIR(info.st_mode):
            for folder, dirs, names in os.walk(absolute, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.lower().endswith(SUFFIXES):
                        files.append(_File(os.path.join(folder, name), absolute, named=False))
        else:
            files.append(_File(absolute, absolute, named=True))
    return files, roots


def load_documents(data: bytes, path: str) -> list[tuple[int, Any]]:
    """(line, data) of every YAML document in ``data``; :class:`CatalogRefusal`-worthy
    problems raise ``ValueError`` with the reason."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"too large ({len(data) / 1024 / 1024:.1f} MB; the limit is 5 MB)")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ValueError(f"binary file (NUL byte at byte offset {nul}), not YAML")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"not UTF-8: byte 0x{data[error.start]:02x} at byte offset {error.start}"
        ) from None
    deep = too_deep(text)
    if deep is not None:
        raise ValueError(f"invalid YAML: {deep}")
    documents: list[tuple[int, Any]] = []
    loader = SAFE_LOADER(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node is not None else 0
            documents.append((line, loader.construct_document(node)))
    except LOAD_ERRORS:
        raise ValueError(f"invalid YAML{yaml_error_reason(text, single=False)}") from None
    finally:
        loader.dispose()
    return documents


def _read(
    files: list[_File],
    report: CatalogImportReport,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> tuple[Collected, set[str]]:
    """Read every file (and the local files Locations point to) into entities.
    Returns what was collected and the files refused (their entities are kept)."""
    collected = Collected()
    refused_files: set[str] = set()
    seen: set[tuple[int, int]] = set()
    queue = list(files)
    documents: list[Document] = []
    done = 0
    while queue:
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
            break
        item = queue.pop(0)
        try:
            info = os.stat(item.path)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            with open(item.path, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
            loaded = load_documents(data, item.path)
        except OSError as error:
            report.refused.append(CatalogRefusal(item.path, os_reason(error)))
            refused_files.add(item.path)
            loaded = None
        except ValueError as error:
            report.refused.append(CatalogRefusal(item.path, str(error)))
            refused_files.add(item.path)
            loaded = None
        done += 1
        if progress is not None:
            progress(done, done + len(queue))
        if loaded is None:
            continue
        report.files += 1
        found = [
            Document(item.path, item.root, number, line, data)
            for number, (line, data) in enumerate(loaded, start=1)
        ]
        recognised = group_by_format(found)
        if not recognised:
            reason = (
                "empty file"
                if not any(d.data is not None for d in found)
                else "no catalog entity in it (no Backstage apiVersion/kind, no 'catalog: 1', "
                "no Compose 'services:', no Kubernetes workload)"
            )
            if item.named:
                report.refused.append(CatalogRefusal(item.path, reason))
                refused_files.add(item.path)
            else:
                report.skipped.append(CatalogRefusal(item.path, reason))
            continue
        for fmt, docs in recognised.items():
            if fmt == "responder":
                if not all(read_responder(doc, collected) for doc in docs):
                    refused_files.add(item.path)
            elif fmt == "backstage":
                for doc in docs:
                    read_backstage(doc, collected)
            elif fmt == "compose":
                for doc in docs:
                    read_compose(doc, collected)
            else:
                documents.extend(docs)  # Kubernetes: read together (Services select workloads)
        for location, targets in collected.locations:
            queue.extend(_location_files(location, targets, collected))
        collected.locations.clear()
    read_kubernetes(documents, collected)
    report.refused.extend(collected.refused)
    collected.refused.clear()
    return collected, refused_files


def _location_files(location: Document, targets: list[str], collected: Collected) -> list[_File]:
    folder = os.path.dirname(location.path)
    found: list[_File] = []
    for target in targets:
        if "://" in target:
            collected.warn(
                location,
                "location",
                f"target {target} is a URL; only local files are read (offline import)",
            )
            continue
        pattern = target if os.path.isabs(target) else os.path.join(folder, target)
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else []
        if not matches and os.path.isfile(pattern):
            matches = [pattern]
        if not matches:
            collected.warn(location, "location", f"target {target} was not found")
        found.extend(_File(os.path.normpath(m), location.root, named=True) for m in matches)
    return found


# ------------------------------------------------------------------ import


@dataclass(frozen=True)
class _StoredRow:
    id: int
    ref: str
    source: str
    source_file: str | None
    relations: dict[str, list[str]]


def import_catalog(
    db: Database,
    paths: Sequence[Path | str],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    clock: Clock = utc_now,
) -> CatalogImportReport:
    """Import the catalogs in ``paths`` (folders or files); one transaction."""
    report = CatalogImportReport()
    files, roots = _walk(paths, report)
    report.sources = roots
    collected, refused_files = _read(files, report, progress, cancel)
    report.ignored = dict(Counter(collected.ignored))
    if report.cancelled:
        return report
    _store(db, collected, refused_files, roots, _source_of(files, roots), report, clock)
    log.info("%s", report.summary())
    return report


def store_documents(
    db: Database,
    documents: Sequence[tuple[str, dict[str, Any]]],
    *,
    root: str,
    clock: Clock = utc_now,
) -> CatalogImportReport:
    """Store catalog documents fetched from elsewhere (a vendor's services, as
    Backstage entities) as the set of ``root``: like a re-import of that root,
    in one transaction. ``documents``: (where it came from, the document)."""
    report = CatalogImportReport(sources=[root])
    collected = Collected()
    for number, (where, data) in enumerate(documents, start=1):
        read_backstage(Document(where, root, number, 1, data), collected)
    report.files = len(documents)
    report.refused.extend(collected.refused)
    _store(db, collected, set(), [root], lambda _path: root, report, clock)
    return report


def _store(
    db: Database,
    collected: Collected,
    refused_files: set[str],
    roots: list[str],
    source_of: Callable[[str], str],
    report: CatalogImportReport,
    clock: Clock,
) -> None:
    entities = _first_of_each(collected.entities, report, key=lambda e: e.ref.key)
    owners = _first_of_each(collected.owners, report, key=lambda o: o.ref.key)
    now = format_utc(clock())
    with db.raw_writer() as raw:
        stored = [
            _StoredRow(row[0], row[1], row[2], row[3], json.loads(row[4] or "{}"))
            for row in raw.execute(
                "SELECT id, ref, source, source_file, relations FROM services ORDER BY id"
            )
        ]
        mine = set(roots)
        elsewhere = {row.ref: row for row in stored if row.source not in mine}
        entities = _not_elsewhere(entities, elsewhere, report)
        owner_sources = dict(raw.execute("SELECT ref, source FROM catalog_owners").fetchall())
        owners = [o for o in owners if _owner_free(o, owner_sources, mine, report)]
        new_keys = {e.ref.key for e in entities}
        # this import's roots keep the entities of files refused this time
        kept = [
            row
            for row in stored
            if row.source in mine and row.source_file in refused_files and row.ref not in new_keys
        ]
        kept_ids = {row.id for row in kept}
        gone = [
            row
            for row in stored
            if row.source in mine and row.ref not in new_keys and row.id not in kept_ids
        ]
        others = [r for r in stored if r.source not in mine and r.ref not in new_keys] + kept
        known_owners = {k for k, s in owner_sources.items() if s not in mine} | {
            o.ref.key for o in owners
        }
        resolution = resolve(
            entities,
            [StoredEntity(row.ref, row.relations) for row in others],
            owners=known_owners,
        )
        report.problems.extend(collected.problems)
        report.problems.extend(resolution.problems)
        _report_cycles(resolution.edges, entities, report)
        ids = _write_services(raw, entities, stored, gone, source_of, now, report)
        report.dependencies = _write_edges(raw, resolution.edges, ids)
        report.owners = _write_owners(raw, owners, mine, refused_files, source_of, now)
        raw.execute(
            "INSERT INTO cache_sets (name, fetched_at, source) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET fetched_at = excluded.fetched_at, "
            "source = excluded.source",
            (CACHE_SET, now, "; ".join(roots) or "(nothing)"),
        )


def _first_of_each(
    items: list[Any], report: CatalogImportReport, *, key: Callable[[Any], str]
) -> list[Any]:
    """Keep the first entity of each ref; refuse the later ones, naming the first."""
    first: dict[str, Any] = {}
    kept: list[Any] = []
    for item in items:
        held = first.get(key(item))
        if held is None:
            first[key(item)] = item
            kept.append(item)
        else:
            report.refused.append(
                CatalogRefusal(
                    item.source_file,
                    f"{item.ref} (line {item.line}): duplicate — already defined in "
                    f"{held.source_file} line {held.line}",
                )
            )
    return kept


def _not_elsewhere(
    entities: list[CatalogEntity], elsewhere: dict[str, _StoredRow], report: CatalogImportReport
) -> list[CatalogEntity]:
    """Refuse entities another source holds — unless it is the same file reached by
    another path (a folder now, the file alone before): the entity moves over."""
    kept: list[CatalogEntity] = []
    for entity in entities:
        holder = elsewhere.get(entity.ref.key)
        if holder is None or holder.source_file == entity.source_file:
            kept.append(entity)
            continue
        report.refused.append(
            CatalogRefusal(
                entity.source_file,
                f"{entity.ref} (line {entity.line}): duplicate — already imported from "
                f"{holder.source_file or holder.source}; import both together or remove one",
            )
        )
    return kept


def _owner_free(
    owner: CatalogOwner, sources: dict[str, str], mine: set[str], report: CatalogImportReport
) -> bool:
    held = sources.get(owner.ref.key)
    if held is None or held in mine:
        return True
    report.refused.append(
        CatalogRefusal(
            owner.source_file,
            f"{owner.ref} (line {owner.line}): duplicate — already imported from {held}",
        )
    )
    return False


def _source_of(files: list[_File], roots: list[str]) -> Callable[[str], str]:
    """The root an entity's file belongs to (a Location may reach outside its root)."""
    by_file = {f.path: f.root for f in files}

    def source(path: str) -> str:
        if path in by_file:
            return by_file[path]
        for root in roots:
            if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
                return root
        return roots[0] if roots else path

    return source


def _report_cycles(
    edges: list[Any], entities: list[CatalogEntity], report: CatalogImportReport
) -> None:
    successors: dict[str, list[str]] = {}
    for edge in edges:
        if edge.kind != "part":
            successors.setdefault(edge.dependent, []).append(edge.dependency)
    mine = {e.ref.key: e for e in entities}
    nodes = sorted(successors)
    for cycle in find_cycles(nodes, successors):
        first = next((mine[k] for k in cycle if k in mine), None)
        if first is None:
            continue  # a cycle among other sources' entities: reported when they were imported
        report.problems.append(
            CatalogProblem(
                first.source_file,
                "cycle",
                f"dependency cycle: {describe_cycle(cycle)} (kept; blast radius and the map "
                "handle it)",
                str(first.ref),
                first.line,
            )
        )


_SERVICE_COLUMNS = (
    "ref",
    "name",
    "namespace",
    "kind",
    "title",
    "spec_type",
    "lifecycle",
    "owner",
    "owner_ref",
    "system",
    "tier",
    "description",
    "tags",
    "annotations",
    "links",
    "relations",
    "source",
    "source_file",
    "imported_at",
)


def _service_values(entity: CatalogEntity, source: str, now: str) -> tuple[Any, ...]:
    owner = entity.owner_ref
    system = entity.system_ref
    return (
        entity.ref.key,
        entity.ref.name,
        entity.ref.namespace,
        entity.ref.kind,
        entity.title,
        entity.spec_type,
        entity.lifecycle,
        owner.name if owner is not None else entity.owner,
        owner.key if owner is not None else None,
        system.key if system is not None else None,
        entity.tier,
        entity.description,
        json.dumps(list(entity.tags), ensure_ascii=False),
        json.dumps(dict(entity.annotations), ensure_ascii=False),
        json.dumps([dict(link) for link in entity.links], ensure_ascii=False),
        json.dumps(entity.relations_json(), ensure_ascii=False),
        source,
        entity.source_file,
        now,
    )


def _write_services(
    raw: Any,
    entities: list[CatalogEntity],
    stored: list[_StoredRow],
    gone: list[_StoredRow],
    source_of: Callable[[str], str],
    now: str,
    report: CatalogImportReport,
) -> dict[str, int]:
    """Upsert this import's entities, delete the gone ones; returns ref → id for all."""
    ids = {row.ref: row.id for row in stored}
    raw.executemany("DELETE FROM services WHERE id = ?", [(row.id,) for row in gone])
    report.removed = len(gone)
    for row in gone:
        del ids[row.ref]
    assignments = ", ".join(f"{c} = ?" for c in _SERVICE_COLUMNS)
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for entity in entities:
        values = _service_values(entity, source_of(entity.source_file), now)
        if entity.ref.key in ids:
            updates.append((*values, ids[entity.ref.key]))
        else:
            inserts.append((uuid.uuid4().hex, *values))
    raw.executemany(f"UPDATE services SET {assignments} WHERE id = ?", updates)
    raw.executemany(
        f"INSERT INTO services (uuid, {', '.join(_SERVICE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * (len(_SERVICE_COLUMNS) + 1))})",
        inserts,
    )
    report.added, report.updated = len(inserts), len(updates)
    if inserts:
        ids = dict(raw.execute("SELECT ref, id FROM services").fetchall())
    return ids


def _write_edges(raw: Any, edges: list[Any], ids: dict[str, int]) -> int:
    raw.execute("DELETE FROM service_dependencies")
    rows = [
        (ids[edge.dependent], ids[edge.dependency], edge.kind)
        for edge in edges
        if edge.dependent in ids and edge.dependency in ids
    ]
    raw.executemany(
        "INSERT OR IGNORE INTO service_dependencies (service_id, depends_on_id, kind) "
        "VALUES (?, ?, ?)",
        rows,
    )
    return len(rows)


def _write_owners(
    raw: Any,
    owners: list[CatalogOwner],
    mine: set[str],
    refused_files: set[str],
    source_of: Callable[[str], str],
    now: str,
) -> int:
    new_keys = {o.ref.key for o in owners}
    for row_id, ref, source, source_file in raw.execute(
        "SELECT id, ref, source, source_file FROM catalog_owners"
    ).fetchall():
        if source in mine and ref not in new_keys and source_file not in refused_files:
            raw.execute("DELETE FROM catalog_owners WHERE id = ?", (row_id,))
    for owner in owners:
        values = (
            owner.ref.kind,
            owner.ref.namespace,
            owner.ref.name,
            owner.title,
            owner.email,
            owner.parent,
            json.dumps(list(owner.members)),
            source_of(owner.source_file),
            owner.source_file,
            now,
        )
        raw.execute(
            "INSERT INTO catalog_owners (uuid, ref, kind, namespace, name, title, email, parent, "
            "members, source, source_file, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(ref) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace, "
            "name = excluded.name, title = excluded.title, email = excluded.email, "
            "parent = excluded.parent, members = excluded.members, source = excluded.source, "
            "source_file = excluded.source_file, imported_at = excluded.imported_at",
            (uuid.uuid4().hex, owner.ref.key, *values),
        )
    return len(owners)
