"""Incident operations: the one writer path for incidents.

Each public method runs one write transaction that changes the domain rows,
appends the timeline entry that records the change, and — where the change
must reach PagerDuty/Opsgenie — writes the outbox row, all or nothing. It
returns frozen views plus a :class:`Changes` value, never ORM objects.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.domain import commands
from console.domain.checklist import (
    ROLE_ITEMS,
    STATUS_UPDATE_ITEM,
    ChecklistTemplate,
    templates_for,
)
from console.domain.clock import Clock, ensure_utc, utc_now
from console.domain.errors import InvalidInputError, NotFoundError
from console.domain.incident import (
    EntryKind,
    Role,
    Severity,
    Status,
    check_role_change,
    check_severity_change,
    check_transition,
)
from console.domain.views import Changes, IncidentSummary, RoleHolder, TimelineEntry
from console.ops.services import find_services
from console.snapshot import Snapshot
from console.storage.db import Database
from console.storage.models import (
    ChecklistItemRow,
    Incident,
    RoleAssignmentRow,
    TimelineEntryRow,
    format_utc,
)

MAX_TITLE = 300
MAX_TEXT = 20_000


@dataclass(frozen=True)
class ImportedEvent:
    """One event read from a log or alert export (console.comms.timeline_import)."""

    occurred_at: datetime
    source: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def key(self, incident_uuid: str) -> str:
        """The dedupe key: the same event in the same incident is the same key."""
        stamp = format_utc(self.occurred_at)
        digest = hashlib.sha256(
            "\x1f".join((incident_uuid, self.source, stamp, self.message)).encode()
        )
        return digest.hexdigest()[:40]


@dataclass(frozen=True)
class RemoteEntry:
    """One entry of a vendor's incident log (or an export's event), keyed for dedup."""

    key: str
    occurred_at: datetime
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)
    #: who did it there (None: the service's actor)
    author: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one operation did: the entry it appended (if any) and what changed."""

    changes: Changes
    entry: TimelineEntry | None = None
    incident: IncidentSummary | None = None


@dataclass(frozen=True)
class _Remote:
    operation: str
    payload: Mapping[str, Any]


class IncidentService:
    def __init__(
        self,
        db: Database,
        *,
        actor: str,
        templates: Sequence[ChecklistTemplate] = (),
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._actor = actor
        self._templates = tuple(templates)
        self._clock = clock

    @property
    def actor(self) -> str:
        return self._actor

    # ----------------------------------------------------------------- declare

    def declare(
        self,
        title: str,
        severity: Severity,
        *,
        summary: str = "",
        commander: str | None = None,
        declared_at: datetime | None = None,
        services: Sequence[str] = (),
    ) -> Outcome:
        """Declare an incident. ``services`` names the affected catalog services (name or
        ref, see console.ops.services); an unknown one refuses the whole declaration."""
        title = _clean(title, "title", MAX_TITLE)
        now = self._clock()
        when = ensure_utc(declared_at) if declared_at else now
        incident_uuid = uuid.uuid4()
        with self._db.writer() as session:
            affected = _affected_services(_raw(session), services)
            incident = Incident(
                uuid=incident_uuid,
                title=title,
                severity=severity.value,
                status=Status.OPEN.value,
                declared_at=when,
                declared_by=self._actor,
                updated_at=now,
                last_seq=0,
                summary=summary.strip(),
            )
            session.add(incident)
            session.flush()
            if affected:
                _link_services(_raw(session), incident.id, affected)
            declared: dict[str, Any] = {"severity": severity.value, "title": title}
            create: dict[str, Any] = {
                "incident_uuid": str(incident_uuid),
                "title": title,
                "severity": severity.value,
                "summary": summary.strip(),
            }
            if affected:
                declared["services"] = [a["name"] for a in affected]
                create["services"] = affected
            entry = self._append(
                session,
                incident.id,
                EntryKind.DECLARED,
                f"Declared {severity.value}: {title}",
                declared,
                occurred_at=when,
                remote=_Remote("incident.create", create),
            )
            self._instantiate(session, incident.id, severity, None, when)
            if commander:
                self._assign(session, incident.id, Role.INCIDENT_COMMANDER, commander, severity)
            session.flush()
            # the one row → view conversion, on this transaction's own connection
            raw = _raw(session)
            view = Snapshot(lambda: nullcontext(raw)).incident(incident.id)
        return Outcome(
            changes=Changes(
                incidents=frozenset({view.id}),
                timeline=frozenset({view.id}),
                checklist=frozenset({view.id}),
                roles=frozenset({view.id}) if commander else frozenset(),
                outbox=True,
            ),
            entry=entry,
            incident=view,
        )

    # ------------------------------------------------------------------ entries

    def add_note(
        self, incident_id: int, text: str, *, occurred_at: datetime | None = None
    ) -> Outcome:
        """The hot path (every Enter in the quick-entry line): one lean transaction."""
        text = _clean(text, "note", MAX_TEXT)
        with self._db.raw_writer() as raw:
            entry = _append_raw(
                raw,
                self._clock(),
                self._actor,
                incident_id,
                EntryKind.NOTE,
                text,
                {},
                occurred_at=occurred_at,
                remote=_Remote("incident.note", {"text": text}),
            )
        return _entry_outcome(entry, outbox=True)

    def log(
        self,
        incident_id: int,
        kind: EntryKind,
        text: str,
        data: Mapping[str, Any] | None = None,
        *,
        sync_as_note: bool = False,
    ) -> Outcome:
        """Record a typed entry (runbook step, command copied, communication sent)."""
        if kind in (
            EntryKind.DECLARED,
            EntryKind.NOTE,  # add_note: a note always gets its outbox row
            EntryKind.STATUS_CHANGE,
            EntryKind.SEVERITY_CHANGE,
            EntryKind.ROLE_CHANGE,
            EntryKind.CORRECTION,
            EntryKind.REMOTE,  # pulled entries come from the sync, with their remote id
            EntryKind.STATUS_UPDATE,  # post_update: restarts the cadence
            EntryKind.IMPORTED,  # import_entries: deduplicated by hash
        ):
            raise InvalidInputError(f"{kind.label} entries are written by their own operation")
        text = _clean(text, "entry", MAX_TEXT)
        remote = _Remote("incident.note", {"text": text}) if sync_as_note else None
        with self._db.writer() as session:
            entry = self._append(session, incident_id, kind, text, dict(data or {}), remote=remote)
        return _entry_outcome(entry, outbox=remote is not None)

    def correct(self, incident_id: int, entry_uuid: uuid.UUID, text: str) -> Outcome:
        """Supersede an earlier entry with a corrected text (the original stays)."""
        text = _clean(text, "correction", MAX_TEXT)
        with self._db.writer() as session:
            original = session.scalars(
                select(TimelineEntryRow).where(
                    TimelineEntryRow.uuid == entry_uuid,
                    TimelineEntryRow.incident_id == incident_id,
                )
            ).first()
            if original is None:
                raise NotFoundError(f"no timeline entry {entry_uuid} in incident {incident_id}")
            later = session.scalars(
                select(TimelineEntryRow.seq).where(TimelineEntryRow.supersedes == entry_uuid)
            ).first()
            if later is not None:
                raise InvalidInputError(
                    f"entry #{original.seq} was already corrected by entry #{later}; "
                    "correct that one instead"
                )
            entry = self._append(
                session,
                incident_id,
                EntryKind.CORRECTION,
                text,
                {"corrects_seq": original.seq, "previous_text": original.text},
                supersedes=entry_uuid,
                remote=_Remote(
                    "incident.note", {"text": f"Correction to entry #{original.seq}: {text}"}
                ),
            )
        return _entry_outcome(entry, outbox=True)

    def correct_last(self, incident_id: int, text: str) -> Outcome:
        """``/fix``: correct the newest note, correction or ticked runbook step written by
        this actor (follow mode logs a tick at once; /fix is how it is undone)."""
        with self._db.reader() as session:
            superseded = select(TimelineEntryRow.supersedes).where(
                TimelineEntryRow.incident_id == incident_id,
                TimelineEntryRow.supersedes.is_not(None),
            )
            target = session.scalars(
                select(TimelineEntryRow.uuid)
                .where(
                    TimelineEntryRow.incident_id == incident_id,
                    TimelineEntryRow.author == self._actor,
                    TimelineEntryRow.kind.in_(
                        [
                            EntryKind.NOTE.value,
                            EntryKind.CORRECTION.value,
                            EntryKind.RUNBOOK_STEP.value,  # a tick logged by mistake
                        ]
                    ),
                    TimelineEntryRow.uuid.not_in(superseded),
                )
                .order_by(TimelineEntryRow.seq.desc())
                .limit(1)
            ).first()
        if target is None:
            raise InvalidInputError("you have no note in this incident to correct")
        return self.correct(incident_id, target, text)

    def post_update(
        self, incident_id: int, text: str, *, template: str, audience: str = ""
    ) -> Outcome:
        """Log a communication as sent: a ``status_update`` entry, its outbox row
        (``incident.status_update``), and the status-update cadence restarted from now
        (the checklist's recurring ``*.status-update`` items, so the reminder moves)."""
        text = _clean(text, "update", MAX_TEXT)
        now = self._clock()
        with self._db.writer() as session:
            incident = _get(session, incident_id)
            cadence = session.scalars(
                select(ChecklistItemRow).where(
                    ChecklistItemRow.incident_id == incident_id,
                    ChecklistItemRow.item_key.like(f"%.{STATUS_UPDATE_ITEM}"),
                    ChecklistItemRow.due_at.is_not(None),
                    ChecklistItemRow.every_minutes.is_not(None),
                )
            ).all()
            next_due: datetime | None = None
            for item in cadence:
                assert item.every_minutes is not None
                item.done_at, item.done_by = now, self._actor
                item.due_at = now + timedelta(minutes=item.every_minutes)
                next_due = min(next_due, item.due_at) if next_due else item.due_at
            data: dict[str, Any] = {
                "template": template,
                "audience": audience,
                "status": incident.status,
            }
            if next_due is not None:
                data["next_due"] = next_due.isoformat()
            entry = self._append(
                session,
                incident_id,
                EntryKind.STATUS_UPDATE,
                text,
                data,
                remote=_Remote(
                    "incident.status_update",
                    {"text": text, "template": template, "status": incident.status},
                ),
            )
        return Outcome(
            changes=Changes(
                timeline=frozenset({incident_id}),
                checklist=frozenset({incident_id}) if cadence else frozenset(),
                outbox=True,
            ),
            entry=entry,
        )

    def import_entries(
        self, incident_id: int, events: Sequence[ImportedEvent]
    ) -> tuple[list[TimelineEntry], int]:
        """Merge events from a log or alert export as backdated ``imported`` entries,
        in time order, in one transaction. Each is keyed by a hash of (incident,
        source, time, message) in ``remote_id`` (source ``imported``), so importing
        the same file again adds nothing. Returns the entries added and how many
        were already there. No outbox row: the events came from elsewhere."""

        def keyed(incident_uuid: str) -> list[RemoteEntry]:
            return [
                RemoteEntry(
                    event.key(incident_uuid),
                    event.occurred_at,
                    event.message,
                    {"source": event.source, **event.fields},
                )
                for event in events
            ]

        return self._merge(incident_id, "imported", EntryKind.IMPORTED, keyed)

    def merge_remote(
        self, incident_id: int, source: str, entries: Sequence[RemoteEntry]
    ) -> tuple[list[TimelineEntry], int]:
        """Merge what a vendor's log says happened (notes, acknowledgements by other
        responders) as backdated ``remote`` entries with ``source`` = the vendor and
        ``remote_id`` = the vendor's id, so a second pull adds nothing. Returns the
        entries added and how many were already there. No outbox row."""
        return self._merge(incident_id, source, EntryKind.REMOTE, lambda _uuid: list(entries))

    def _merge(
        self,
        incident_id: int,
        source: str,
        kind: EntryKind,
        make: Callable[[str], list[RemoteEntry]],
    ) -> tuple[list[TimelineEntry], int]:
        with self._db.raw_writer() as raw:
            found = raw.execute(
                "SELECT uuid FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
            if found is None:
                raise NotFoundError(f"there is no incident {incident_id}")
            given = make(found[0])
            keyed: dict[str, RemoteEntry] = {}
            for entry in sorted(given, key=lambda e: e.occurred_at):
                keyed.setdefault(entry.key, entry)
            present: set[str] = set()
            keys = list(keyed)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                present.update(
                    k
                    for (k,) in raw.execute(
                        "SELECT remote_id FROM timeline_entries WHERE source = ? "
                        f"AND remote_id IN ({','.join('?' * len(chunk))})",
                        [source, *chunk],
                    )
                )
            now = self._clock()
            added = [
                _append_raw(
                    raw,
                    now,
                    entry.author or self._actor,
                    incident_id,
                    kind,
                    entry.text,
                    entry.data,
                    occurred_at=entry.occurred_at,
                    origin=(source, key),
                )
                for key, entry in keyed.items()
                if key not in present
            ]
        return added, len(given) - len(added)

    # ---------------------------------------------------- status, severity, roles

    def change_status(self, incident_id: int, target: Status) -> Outcome:
        now = self._clock()
        with self._db.writer() as session:
            incident = _get(session, incident_id)
            current = Status(incident.status)
            check_transition(current, target)
            incident.status = target.value
            if target is Status.RESOLVED:
                incident.resolved_at = now
            elif target is Status.MITIGATING and current is Status.RESOLVED:
                incident.resolved_at = None  # the fix did not hold
            if target is Status.CLOSED:
                incident.closed_at = now
            session.flush()
            entry = self._append(
                session,
                incident_id,
                EntryKind.STATUS_CHANGE,
                f"Status {current.value} → {target.value}",
                {"from": current.value, "to": target.value},
                remote=_Remote("incident.status", {"from": current.value, "to": target.value}),
            )
        return Outcome(
            changes=Changes(
                incidents=frozenset({incident_id}), timeline=frozenset({incident_id}), outbox=True
            ),
            entry=entry,
        )

    def change_severity(self, incident_id: int, target: Severity) -> Outcome:
        with self._db.writer() as session:
            incident = _get(session, incident_id)
            current = Severity(incident.severity)
            check_severity_change(current, Status(incident.status), target)
            incident.severity = target.value
            session.flush()
            direction = "raised" if target.rank < current.rank else "lowered"
            entry = self._append(
                session,
                incident_id,
                EntryKind.SEVERITY_CHANGE,
                f"Severity {direction} {current.value} → {target.value}",
                {"from": current.value, "to": target.value},
                remote=_Remote("incident.severity", {"from": current.value, "to": target.value}),
            )
            added = self._instantiate(session, incident_id, target, None, self._clock())
            for held in _current_roles(session, incident_id):
                added += self._instantiate(session, incident_id, target, held.role, self._clock())
            added += self._retire_cadences(session, incident_id, target, self._clock())
        return Outcome(
            changes=Changes(
                incidents=frozenset({incident_id}),
                timeline=frozenset({incident_id}),
                checklist=frozenset({incident_id}) if added else frozenset(),
                outbox=True,
            ),
            entry=entry,
        )

    def assign_role(self, incident_id: int, role: Role, person: str) -> Outcome:
        person = _clean(person, "person", 200)
        with self._db.writer() as session:
            incident = _get(session, incident_id)
            # the rule the quick entry checks first; who holds the role is checked in _assign
            check_role_change(Status(incident.status), role, None, person)
            entry, added = self._assign(
                session, incident_id, role, person, Severity(incident.severity)
            )
        return Outcome(
            changes=Changes(
                incidents=frozenset({incident_id}),
                timeline=frozenset({incident_id}),
                roles=frozenset({incident_id}),
                checklist=frozenset({incident_id}) if added else frozenset(),
                outbox=True,
            ),
            entry=entry,
        )

    # ---------------------------------------------------------------- checklist

    def tick_item(self, incident_id: int, item_id: int, *, note: str = "") -> Outcome:
        now = self._clock()
        with self._db.writer() as session:
            item = session.get(ChecklistItemRow, item_id)
            if item is None or item.incident_id != incident_id:
                raise NotFoundError(f"no checklist item {item_id} in incident {incident_id}")
            if item.every_minutes is None and item.done_at is not None:
                raise InvalidInputError(f"“{item.title}” is already done")
            item.done_at = now
            item.done_by = self._actor
            if item.every_minutes is not None and item.due_at is not None:
                # a retired cadence (due_at None) stays retired when ticked
                item.due_at = now + timedelta(minutes=item.every_minutes)
            session.flush()
            text = f"Done: {item.title}" + (f" — {note.strip()}" if note.strip() else "")
            data: dict[str, Any] = {"item_id": item.id, "item_key": item.item_key}
            if item.due_at is not None and item.every_minutes is not None:
                data["next_due"] = item.due_at.isoformat()
            entry = self._append(session, incident_id, EntryKind.CHECKLIST_DONE, text, data)
        return Outcome(
            changes=Changes(timeline=frozenset({incident_id}), checklist=frozenset({incident_id})),
            entry=entry,
        )

    def tick_position(self, incident_id: int, number: int) -> Outcome:
        """``/done N``: the N-th item as the checklist pane lists it."""
        with self._db.reader() as session:
            ids = session.scalars(
                select(ChecklistItemRow.id)
                .where(ChecklistItemRow.incident_id == incident_id)
                .order_by(ChecklistItemRow.position, ChecklistItemRow.id)
            ).all()
        if not 1 <= number <= len(ids):
            raise InvalidInputError(
                f"there is no checklist item {number}; the checklist has {len(ids)} items"
            )
        return self.tick_item(incident_id, ids[number - 1])

    # -------------------------------------------------------------- quick entry

    def run_quick(self, incident_id: int, line: str) -> Outcome:
        """The quick-entry line: a note, or a slash command."""
        command = commands.parse_quick_entry(line)
        match command:
            case commands.AddNote(text=text):
                return self.add_note(incident_id, text)
            case commands.SetSeverity(severity=severity):
                return self.change_severity(incident_id, severity)
            case commands.SetStatus(status=status):
                return self.change_status(incident_id, status)
            case commands.AssignRole(role=role, person=person):
                return self.assign_role(incident_id, role, person)
            case commands.TickItem(number=number):
                return self.tick_position(incident_id, number)
            case commands.CorrectLast(text=text):
                return self.correct_last(incident_id, text)

    # ----------------------------------------------------------------- internals

    def _append(
        self,
        session: Session,
        incident_id: int,
        kind: EntryKind,
        text: str,
        data: Mapping[str, Any],
        *,
        occurred_at: datetime | None = None,
        supersedes: uuid.UUID | None = None,
        remote: _Remote | None = None,
    ) -> TimelineEntry:
        """Append one entry (and its outbox row) inside the session's transaction."""
        session.flush()  # ORM changes first: the raw statements below see them
        return _append_raw(
            _raw(session),
            self._clock(),
            self._actor,
            incident_id,
            kind,
            text,
            data,
            occurred_at=occurred_at,
            supersedes=supersedes,
            remote=remote,
        )

    def _assign(
        self, session: Session, incident_id: int, role: Role, person: str, severity: Severity
    ) -> tuple[TimelineEntry, int]:
        now = self._clock()
        previous = session.scalars(
            select(RoleAssignmentRow).where(
                RoleAssignmentRow.incident_id == incident_id,
                RoleAssignmentRow.role == role.value,
                RoleAssignmentRow.ended_at.is_(None),
            )
        ).first()
        if previous is not None:
            if previous.person == person:
                raise InvalidInputError(f"{person} is already {role.label.lower()}")
            previous.ended_at = now
        session.add(
            RoleAssignmentRow(
                uuid=uuid.uuid4(),
                incident_id=incident_id,
                role=role.value,
                person=person,
                assigned_at=now,
                assigned_by=self._actor,
                ended_at=None,
            )
        )
        session.flush()
        if previous is not None:
            text = f"{role.label}: {previous.person} handed over to {person}"
        else:
            text = f"{role.label}: {person}"
        entry = self._append(
            session,
            incident_id,
            EntryKind.ROLE_CHANGE,
            text,
            {
                "role": role.value,
                "person": person,
                "previous": previous.person if previous else None,
            },
            remote=_Remote("incident.note", {"text": text}),
        )
        added = self._instantiate(session, incident_id, severity, role, now)
        return entry, added + self._tick_role_item(session, incident_id, role, now)

    def _tick_role_item(self, session: Session, incident_id: int, role: Role, now: datetime) -> int:
        """``/ic Ana`` fulfils "Name an incident commander": tick it (no extra entry: the
        role change just logged is its record). Returns how many items it ticked."""
        key = ROLE_ITEMS.get(role)
        if key is None:
            return 0
        items = session.scalars(
            select(ChecklistItemRow).where(
                ChecklistItemRow.incident_id == incident_id,
                ChecklistItemRow.item_key == key,
                ChecklistItemRow.done_at.is_(None),
            )
        ).all()
        for item in items:
            item.done_at = now
            item.done_by = self._actor
        return len(items)

    def _instantiate(
        self,
        session: Session,
        incident_id: int,
        severity: Severity,
        role: Role | None,
        now: datetime,
    ) -> int:
        """Add the items of every template for (severity, role) not already present."""
        chosen = templates_for(self._templates, severity, role)
        if not chosen:
            return 0
        existing = set(
            session.scalars(
                select(ChecklistItemRow.item_key).where(ChecklistItemRow.incident_id == incident_id)
            )
        )
        position = len(existing)
        added = 0
        for template in chosen:
            for item in template.items:
                if item.key in existing:
                    continue
                existing.add(item.key)
                position += 1
                added += 1
                session.add(
                    ChecklistItemRow(
                        uuid=uuid.uuid4(),
                        incident_id=incident_id,
                        template_id=template.id,
                        item_key=item.key,
                        role=role.value if role else None,
                        title=item.title,
                        position=position,
                        every_minutes=item.every_minutes,
                        due_at=(now + timedelta(minutes=item.every_minutes))
                        if item.every_minutes
                        else None,
                        done_at=None,
                        done_by=None,
                    )
                )
        session.flush()
        return added

    def _retire_cadences(
        self, session: Session, incident_id: int, severity: Severity, now: datetime
    ) -> int:
        """Stop the reminders of recurring items whose template no longer applies
        (a SEV1 lowered to SEV2 keeps SEV2's cadence, not SEV1's), and restart the
        ones retired earlier whose template applies again (SEV2 raised back to SEV1:
        the items exist already, so instantiating adds nothing)."""
        applicable = {t.id for t in self._templates if severity in t.severities}
        changed = 0
        for item in session.scalars(
            select(ChecklistItemRow).where(
                ChecklistItemRow.incident_id == incident_id,
                ChecklistItemRow.every_minutes.is_not(None),
            )
        ):
            if item.due_at is not None and item.template_id not in applicable:
                item.due_at = None
                changed += 1
            elif item.due_at is None and item.every_minutes and item.template_id in applicable:
                item.due_at = now + timedelta(minutes=item.every_minutes)
                changed += 1
        session.flush()
        return changed


_BUMP_SQL = (
    "UPDATE incidents SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? "
    "RETURNING last_seq, status"
)
_ENTRY_SQL = (
    "INSERT INTO timeline_entries (uuid, incident_id, seq, kind, occurred_at, recorded_at, "
    "author, text, data, supersedes, source, remote_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OUTBOX_SQL = (
    "INSERT INTO outbox (uuid, incident_id, entry_uuid, operation, payload, state, attempts, "
    "created_at, updated_at, next_attempt_at, last_error) "
    "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, NULL, NULL)"
)


def _append_raw(
    raw: sqlite3.Connection,
    now: datetime,
    actor: str,
    incident_id: int,
    kind: EntryKind,
    text: str,
    data: Mapping[str, Any],
    *,
    occurred_at: datetime | None = None,
    supersedes: uuid.UUID | None = None,
    remote: _Remote | None = None,
    origin: tuple[str, str | None] = ("local", None),
) -> TimelineEntry:
    """The timeline append in plain SQL on the transaction's own connection.

    Statement building in the ORM cost ~2 ms per entry against a ~0.3 ms
    durable commit; these fixed statements keep the write near the floor. The
    column formats are the models' (UUID as 32 hex, UTC text, JSON text), which
    tests/unit check by reading the rows back through the ORM.
    """
    when = ensure_utc(occurred_at) if occurred_at else now
    stamp_now = format_utc(now)
    bumped = raw.execute(_BUMP_SQL, (stamp_now, incident_id)).fetchone()
    if bumped is None:
        raise NotFoundError(f"there is no incident {incident_id}")
    seq, status = bumped
    if Status(status) is Status.CLOSED and kind is not EntryKind.STATUS_CHANGE:
        raise InvalidInputError(
            f"incident {incident_id} is closed; its timeline takes no more entries"
        )
    entry_uuid = uuid.uuid4()
    payload = dict(data)
    cursor = raw.execute(
        _ENTRY_SQL,
        (
            entry_uuid.hex,
            incident_id,
            seq,
            kind.value,
            format_utc(when),
            stamp_now,
            actor,
            text,
            json.dumps(payload),
            supersedes.hex if supersedes else None,
            *origin,
        ),
    )
    entry_id = cursor.lastrowid
    assert entry_id is not None
    if remote is not None:
        remote_payload = {**remote.payload, "entry_uuid": str(entry_uuid), "at": when.isoformat()}
        raw.execute(
            _OUTBOX_SQL,
            (
                uuid.uuid4().hex,
                incident_id,
                entry_uuid.hex,
                remote.operation,
                json.dumps(remote_payload),
                stamp_now,
                stamp_now,
            ),
        )
    return TimelineEntry(
        id=entry_id,
        uuid=entry_uuid,
        incident_id=incident_id,
        seq=seq,
        kind=kind,
        occurred_at=when,
        recorded_at=now,
        author=actor,
        text=text,
        data=payload,
        supersedes=supersedes,
        source=origin[0],
    )


def _affected_services(raw: sqlite3.Connection, typed: Sequence[str]) -> list[dict[str, Any]]:
    """The catalog services ``typed`` names, with what the vendor sync needs: the ref,
    the name shown, and the PagerDuty service id when the catalog annotates one."""
    names = [t for t in (name.strip() for name in typed) if t]
    if not names:
        return []
    try:
        nodes = find_services(raw, names)
    except NotFoundError as error:
        raise InvalidInputError(str(error)) from None
    annotated = dict(
        raw.execute(
            "SELECT ref, json_extract(annotations, '$.\"pagerduty.com/service-id\"') "
            f"FROM services WHERE ref IN ({','.join('?' * len(nodes))})",
            [n.ref for n in nodes],
        ).fetchall()
    )
    return [
        {"ref": n.ref, "name": n.label, "pagerduty_service_id": annotated.get(n.ref)} for n in nodes
    ]


def _link_services(raw: sqlite3.Connection, incident_id: int, affected: Sequence[Any]) -> None:
    raw.executemany(
        "INSERT INTO incident_services (uuid, incident_id, service_ref, service_name) "
        "VALUES (?, ?, ?, ?)",
        [(uuid.uuid4().hex, incident_id, a["ref"], a["name"]) for a in affected],
    )


def _raw(session: Session) -> sqlite3.Connection:
    """The DBAPI connection the session's transaction runs on."""
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _get(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError(f"there is no incident {incident_id}")
    return incident


def _current_roles(session: Session, incident_id: int) -> list[RoleHolder]:
    rows = session.scalars(
        select(RoleAssignmentRow)
        .where(RoleAssignmentRow.incident_id == incident_id, RoleAssignmentRow.ended_at.is_(None))
        .order_by(RoleAssignmentRow.id)
    ).all()
    return [RoleHolder(Role(r.role), r.person, r.assigned_at) for r in rows]


def _clean(value: str, what: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInputError(f"the {what} is empty")
    if len(cleaned) > limit:
        raise InvalidInputError(f"the {what} is {len(cleaned)} characters; the limit is {limit}")
    return cleaned


def _entry_outcome(entry: TimelineEntry, *, outbox: bool) -> Outcome:
    return Outcome(
        changes=Changes(timeline=frozenset({entry.incident_id}), outbox=outbox), entry=entry
    )
