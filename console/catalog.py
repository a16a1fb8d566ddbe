"""The service catalog: the one read/import API the window and the CLI use for services.

It sits beside :mod:`console.library` (above importers, search and ops in the
import-linter layers), so clients never open a session or name SQL:
``catalog_for(workspace)`` hands a ready object.

* :meth:`ServiceCatalog.graph` — every node and edge, for the dependency map.
* :meth:`ServiceCatalog.blast_radius` — dependents and suspects of a service with
  their depth, breadth-first over SQLite one indexed query per level (the same
  :func:`console.graph.reach` the map runs in memory).
* :meth:`ServiceCatalog.details` — owner, annotations, links, the runbooks that
  name the service and the open incidents that name it.
* :meth:`ServiceCatalog.freshness` — when and from where the catalog came.
* :meth:`ServiceCatalog.import_paths` — :func:`import_catalog`, unchanged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.catalog import (
    BlastRadius,
    CatalogGraph,
    IncidentMention,
    OwnerInfo,
    ReachedService,
    RunbookMention,
    ServiceDetails,
    ServiceNode,
)
from console.domain.clock import Clock, utc_now
from console.domain.errors import NotFoundError
from console.domain.freshness import Freshness
from console.domain.incident import Status
from console.graph.traversal import Reach, Step, reach
from console.importers.catalog import CACHE_SET, CatalogImportReport, import_catalog
from console.importers.runbooks import CancelToken, Progress
from console.ops.services import NODE_COLUMNS, find_service, node_from_row
from console.search.runbooks import filter_clauses
from console.storage.db import Database

if TYPE_CHECKING:
    from console.ops.workspace import Workspace

#: ids per ``IN (…)`` list: far below SQLite's variable limit on every build
CHUNK = 500
_ACTIVE = tuple(s.value for s in Status if s.is_active)


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def sql_step(raw: sqlite3.Connection, *, upward: bool) -> Step[int]:
    """One query per frontier chunk over ``service_dependencies``: upward = towards the
    dependents (blast radius, through the ``depends_on_id`` index), downward = towards
    the dependencies (suspects, through the unique (service_id, depends_on_id) index)."""
    near, far = ("depends_on_id", "service_id") if upward else ("service_id", "depends_on_id")

    def step(frontier: Sequence[int]) -> Iterator[tuple[int, int]]:
        for chunk in _chunks(frontier):
            yield from raw.execute(
                f"SELECT {near}, {far} FROM service_dependencies "
                f"WHERE {near} IN ({','.join('?' * len(chunk))}) ORDER BY {near}, {far}",
                chunk,
            )

    return step


def read_freshness(raw: sqlite3.Connection) -> Freshness | None:
    row = raw.execute(
        "SELECT fetched_at, source FROM cache_sets WHERE name = ?", (CACHE_SET,)
    ).fetchone()
    if row is None:
        return None
    return Freshness(CACHE_SET, datetime.fromisoformat(row[0]), row[1])


class ServiceCatalog:
    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    # ------------------------------------------------------------------ reads

    def graph(self) -> CatalogGraph:
        """Every service and edge (one snapshot), nodes in name order."""
        with self._db.raw_reader() as raw:
            nodes = tuple(
                node_from_row(row)
                for row in raw.execute(
                    f"SELECT {NODE_COLUMNS} FROM services s ORDER BY s.name COLLATE NOCASE, s.ref"
                )
            )
            edges = tuple(
                raw.execute(
                    "SELECT service_id, depends_on_id, kind FROM service_dependencies ORDER BY id"
                ).fetchall()
            )
            freshness = read_freshness(raw)
        return CatalogGraph(nodes=nodes, edges=edges, freshness=freshness)

    def freshness(self) -> Freshness | None:
        with self._db.raw_reader() as raw:
            return read_freshness(raw)

    def count(self) -> int:
        with self._db.raw_reader() as raw:
            return int(raw.execute("SELECT count(*) FROM services").fetchone()[0])

    def find(self, typed: str) -> ServiceNode:
        """A service by name, ``namespace/name`` or full ref (NotFoundError with close names)."""
        with self._db.raw_reader() as raw:
            return find_service(raw, typed)

    def dependents(self, service_id: int, *, max_depth: int | None = None) -> list[Reach[int]]:
        """Everything that depends on the service, transitively (ids, nearest first)."""
        with self._db.raw_reader() as raw:
            return reach(service_id, sql_step(raw, upward=True), max_depth=max_depth)

    def blast_radius(self, typed: str, *, max_depth: int | None = None) -> BlastRadius:
        """Dependents and suspects of the service ``typed`` names, in one snapshot."""
        with self._db.raw_reader() as raw:
            service = find_service(raw, typed)
            up = reach(service.id, sql_step(raw, upward=True), max_depth=max_depth)
            down = reach(service.id, sql_step(raw, upward=False), max_depth=max_depth)
            ids = [service.id, *(r.node for r in up), *(r.node for r in down)]
            nodes = self._nodes(raw, ids)
            freshness = read_freshness(raw)

        def reached(found: list[Reach[int]]) -> tuple[ReachedService, ...]:
            return tuple(ReachedService(nodes[r.node], r.depth, nodes[r.via]) for r in found)

        return BlastRadius(
            service=service, dependents=reached(up), suspects=reached(down), freshness=freshness
        )

    @staticmethod
    def _nodes(raw: sqlite3.Connection, ids: Sequence[int]) -> dict[int, ServiceNode]:
        found: dict[int, ServiceNode] = {}
        unique = list(dict.fromkeys(ids))
        for chunk in _chunks(unique):
            for row in raw.execute(
                f"SELECT {NODE_COLUMNS} FROM services s "
                f"WHERE s.id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                node = node_from_row(row)
                found[node.id] = node
        return found

    def details(self, service_id: int) -> ServiceDetails:
        """The side panel's facts about one service. NotFoundError if it is gone."""
        with self._db.raw_reader() as raw:
            row = raw.execute(
                f"SELECT {NODE_COLUMNS}, s.description, s.annotations, s.links, s.tags, "
                "s.source, s.source_file, s.imported_at, s.owner_ref "
                "FROM services s WHERE s.id = ?",
                (service_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"service {service_id} is no longer in the catalog")
            node = node_from_row(row[:11])
            description, annotations, links, tags, source, source_file, imported, owner_ref = row[
                11:
            ]
            owner = self._owner(raw, owner_ref, node.owner)
            runbooks = self._runbooks(raw, node.name)
            incidents = tuple(
                IncidentMention(i, title, severity, status)
                for i, title, severity, status in raw.execute(
                    "SELECT i.id, i.title, i.severity, i.status FROM incident_services x "
                    "JOIN incidents i ON i.id = x.incident_id WHERE x.service_ref = ? "
                    f"AND i.status IN ({','.join('?' * len(_ACTIVE))}) "
                    "ORDER BY i.declared_at DESC",
                    (node.ref, *_ACTIVE),
                )
            )
        return ServiceDetails(
            node=node,
            description=description or "",
            annotations=json.loads(annotations or "{}"),
            links=tuple(json.loads(links or "[]")),
            tags=tuple(json.loads(tags or "[]")),
            source=source,
            source_file=source_file,
            owner=owner,
            runbooks=runbooks,
            incidents=incidents,
            imported_at=datetime.fromisoformat(imported) if imported else None,
        )

    @staticmethod
    def _owner(
        raw: sqlite3.Connection, owner_ref: str | None, name: str | None
    ) -> OwnerInfo | None:
        if owner_ref is not None:
            row = raw.execute(
                "SELECT ref, name, title, email FROM catalog_owners WHERE ref = ?", (owner_ref,)
            ).fetchone()
            if row is not None:
                return OwnerInfo(*row)
        if name is None:
            return None
        return OwnerInfo(owner_ref or name, name)

    @staticmethod
    def _runbooks(raw: sqlite3.Connection, name: str) -> tuple[RunbookMention, ...]:
        where, params = filter_clauses(service=name, owner=None, stale=None)
        return tuple(
            RunbookMention(*row)
            for row in raw.execute(
                f"SELECT r.id, r.slug, r.title FROM runbooks r WHERE {' AND '.join(where)} "
                "ORDER BY r.title COLLATE NOCASE",
                params,
            )
        )

    def names(self) -> list[str]:
        """Every service label (for completion), sorted case-insensitively."""
        with self._db.raw_reader() as raw:
            rows = raw.execute(f"SELECT {NODE_COLUMNS} FROM services s").fetchall()
        return sorted({node_from_row(r).label for r in rows}, key=str.casefold)

    # ------------------------------------------------------------------ import

    def import_paths(
        self,
        paths: Sequence[Path | str],
        *,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
    ) -> CatalogImportReport:
        """Import catalogs (folders or files) in one transaction; bad input is listed."""
        return import_catalog(self._db, paths, progress=progress, cancel=cancel, clock=self._clock)


def catalog_for(workspace: Workspace) -> ServiceCatalog:
    """The catalog of an open workspace (same database, same clock)."""
    return ServiceCatalog(workspace.db, clock=workspace.clock)
