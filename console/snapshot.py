"""The incident reads in plain SQL on the stdlib ``sqlite3``: the one read path.

:class:`Snapshot` turns rows into the frozen views (incidents, timeline pages,
checklists). It is used two ways:

* at start-up, :meth:`Snapshot.open` reads the file read-only *before* SQLAlchemy
  is imported (its import alone takes longer than a bare Qt window takes to
  appear), so the window's first paint does not wait for it; any surprise (no
  file, another schema, a lock) returns ``None`` and the caller takes the
  normal path;
* afterwards, ``console.ops.queries.Queries`` delegates the same reads to a
  ``Snapshot`` over the open database's pooled connections — so there is one
  implementation of each read, and timeline pages skip ORM overhead.

Keep the column lists in step with ``storage/models.py``; the unit tests read rows
written through the ORM back through this module.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from uuid import UUID

from console.domain.errors import NotFoundError
from console.domain.incident import EntryKind, Role, Severity, Status
from console.domain.views import (
    AffectedService,
    ChecklistItem,
    IncidentSummary,
    RoleHolder,
    TimelineEntry,
)

_ACTIVE = tuple(s.value for s in Status if s.is_active)
_INCIDENT = (
    "SELECT id, uuid, title, severity, status, declared_at, updated_at, resolved_at, last_seq "
    "FROM incidents"
)
_ENTRY = (
    "SELECT id, uuid, incident_id, seq, kind, occurred_at, recorded_at, author, text, data, "
    "supersedes, source FROM timeline_entries"
)


_SERVICES = "SELECT incident_id, service_ref, service_name FROM incident_services"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the stored form ends in Z (UTC); 3.11+ reads it


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


Connect = Callable[[], AbstractContextManager[sqlite3.Connection]]


class Snapshot:
    """Frozen views read with plain SQL through ``connect`` (one transaction per call)."""

    def __init__(self, connect: Connect, *, owned: sqlite3.Connection | None = None) -> None:
        self._connect = connect
        self._owned = owned

    @classmethod
    def open(cls, path: Path) -> Snapshot | None:
        if not path.is_file():
            return None
        try:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2
            )
        except sqlite3.Error:
            return None
        snapshot = cls(lambda: nullcontext(connection), owned=connection)
        try:  # one cheap read of every shape used, so a different schema fails here
            connection.execute(f"{_INCIDENT} LIMIT 1").fetchall()
            connection.execute(f"{_ENTRY} LIMIT 1").fetchall()
            connection.execute("SELECT role, person, assigned_at FROM role_assignments LIMIT 1")
            connection.execute(f"{_SERVICES} LIMIT 1").fetchall()
            snapshot.checklist(0)
        except sqlite3.Error:
            connection.close()
            return None
        return snapshot

    def service_names(self) -> list[str]:
        """Every catalog service's label (``name``, or ``namespace/name`` outside the
        default namespace), once each, sorted case-insensitively: what the Declare
        dialog completes from, read before SQLAlchemy is imported (issue 16)."""
        from console.domain.catalog import DEFAULT_NAMESPACE  # ~12 ms: not before first paint

        with self._connect() as db:
            rows = db.execute("SELECT namespace, name FROM services").fetchall()
        labels = {
            str(name) if str(namespace).lower() == DEFAULT_NAMESPACE else f"{namespace}/{name}"
            for namespace, name in rows
        }
        return sorted(labels, key=str.casefold)

    def close(self) -> None:
        """Close the start-up connection (a pooled reader has nothing to close)."""
        if self._owned is not None:
            self._owned.close()

    # ---------------------------------------------------- the IncidentReader reads

    def incidents(self, *, active_only: bool = False) -> list[IncidentSummary]:
        where = f" WHERE status IN ({','.join('?' * len(_ACTIVE))})" if active_only else ""
        with self._connect() as db:
            rows = db.execute(
                f"{_INCIDENT}{where} ORDER BY declared_at DESC, id DESC",
                _ACTIVE if active_only else (),
            ).fetchall()
            holders: dict[int, list[RoleHolder]] = defaultdict(list)
            for incident_id, role, person, since in db.execute(
                "SELECT incident_id, role, person, assigned_at FROM role_assignments "
                "WHERE ended_at IS NULL ORDER BY id"
            ):
                holders[incident_id].append(RoleHolder(Role(role), person, _time(since)))
            services: dict[int, list[AffectedService]] = defaultdict(list)
            for incident_id, ref, name in db.execute(f"{_SERVICES} ORDER BY id"):
                services[incident_id].append(AffectedService(ref, name))
        return [self._incident(row, holders[row[0]], services[row[0]]) for row in rows]

    def incident(self, incident_id: int) -> IncidentSummary:
        with self._connect() as db:
            row = db.execute(f"{_INCIDENT} WHERE id = ?", (incident_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"there is no incident {incident_id}")
            holders = [
                RoleHolder(Role(role), person, _time(since))
                for role, person, since in db.execute(
                    "SELECT role, person, assigned_at FROM role_assignments "
                    "WHERE incident_id = ? AND ended_at IS NULL ORDER BY id",
                    (incident_id,),
                )
            ]
            services = [
                AffectedService(ref, name)
                for _, ref, name in db.execute(
                    f"{_SERVICES} WHERE incident_id = ? ORDER BY id", (incident_id,)
                )
            ]
        return self._incident(row, holders, services)

    def timeline_count(self, incident_id: int) -> int:
        with self._connect() as db:
            row = db.execute(
                "SELECT last_seq FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"there is no incident {incident_id}")
        return int(row[0])

    def runbook_steps_done(self, incident_id: int, runbook: str) -> frozenset[int]:
        """Step numbers of runbook ``runbook`` (its id/slug) logged done on the timeline.

        Filtered in SQL: reading a 100k-entry timeline into entries to pick these
        out took seconds."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT json_extract(data, '$.step') FROM timeline_entries "
                "WHERE incident_id = ? AND kind = ? AND json_extract(data, '$.runbook_id') = ? "
                "AND json_type(data, '$.step') = 'integer'",
                (incident_id, EntryKind.RUNBOOK_STEP.value, runbook),
            ).fetchall()
        return frozenset(int(row[0]) for row in rows)

    def timeline_page(self, incident_id: int, first_seq: int, last_seq: int) -> list[TimelineEntry]:
        superseded: dict[str, str] = {}
        with self._connect() as db:
            rows = db.execute(
                f"{_ENTRY} WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq",
                (incident_id, first_seq, last_seq),
            ).fetchall()
            uuids = [row[1] for row in rows]
            for start in range(0, len(uuids), 500):
                chunk = uuids[start : start + 500]
                superseded.update(
                    db.execute(
                        "SELECT supersedes, uuid FROM timeline_entries "
                        f"WHERE supersedes IN ({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                )
        return [
            TimelineEntry(
                id=row[0],
                uuid=UUID(row[1]),
                incident_id=row[2],
                seq=row[3],
                kind=EntryKind(row[4]),
                occurred_at=_time(row[5]),
                recorded_at=_time(row[6]),
                author=row[7],
                text=row[8],
                data=json.loads(row[9]) if row[9] else {},
                supersedes=UUID(row[10]) if row[10] else None,
                superseded_by=UUID(superseded[row[1]]) if row[1] in superseded else None,
                source=row[11],
            )
            for row in rows
        ]

    def checklist(self, incident_id: int) -> list[ChecklistItem]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, uuid, incident_id, template_id, role, title, position, every_minutes, "
                "due_at, done_at, done_by FROM checklist_items WHERE incident_id = ? "
                "ORDER BY position, id",
                (incident_id,),
            ).fetchall()
        return [
            ChecklistItem(
                id=row[0],
                uuid=UUID(row[1]),
                incident_id=row[2],
                template_id=row[3],
                role=Role(row[4]) if row[4] else None,
                title=row[5],
                position=row[6],
                every_minutes=row[7],
                due_at=_maybe_time(row[8]),
                done_at=_maybe_time(row[9]),
                done_by=row[10],
            )
            for row in rows
        ]

    @staticmethod
    def _incident(
        row: tuple[object, ...],
        holders: list[RoleHolder],
        services: list[AffectedService] | None = None,
    ) -> IncidentSummary:
        (incident_id, uuid, title, severity, status, declared, updated, resolved, last_seq) = row
        assert isinstance(incident_id, int)
        assert isinstance(last_seq, int)
        assert isinstance(declared, str)
        assert isinstance(updated, str)
        return IncidentSummary(
            id=incident_id,
            uuid=UUID(str(uuid)),
            title=str(title),
            severity=Severity(str(severity)),
            status=Status(str(status)),
            declared_at=_time(declared),
            updated_at=_time(updated),
            resolved_at=_maybe_time(resolved if isinstance(resolved, str) else None),
            entry_count=last_seq,
            roles=tuple(holders),
            services=tuple(services or ()),
        )
