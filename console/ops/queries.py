"""Read-side queries. Each opens its own short read transaction and returns views."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from console.domain.errors import NotFoundError
from console.domain.incident import Role, Status
from console.domain.views import (
    ChecklistItem,
    IncidentSummary,
    Reminder,
    RoleAssignment,
    TimelineEntry,
)
from console.snapshot import Snapshot
from console.storage.db import Database
from console.storage.models import (
    CacheSet,
    ChecklistItemRow,
    Incident,
    OutboxRow,
    RoleAssignmentRow,
)

ACTIVE = [s.value for s in Status if s.is_active]


class Queries:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._sql = Snapshot(db.raw_reader)

    # ------------------------------------------- incident reads (plain SQL, one path)

    def incidents(self, *, active_only: bool = False) -> list[IncidentSummary]:
        return self._sql.incidents(active_only=active_only)

    def incident(self, incident_id: int) -> IncidentSummary:
        return self._sql.incident(incident_id)

    def timeline_count(self, incident_id: int) -> int:
        """Entries are numbered 1..N without gaps, so the count is the incident's last seq."""
        return self._sql.timeline_count(incident_id)

    def timeline_page(self, incident_id: int, first_seq: int, last_seq: int) -> list[TimelineEntry]:
        """Entries with ``first_seq <= seq <= last_seq``, oldest first (an index range scan)."""
        return self._sql.timeline_page(incident_id, first_seq, last_seq)

    def checklist(self, incident_id: int) -> list[ChecklistItem]:
        return self._sql.checklist(incident_id)

    def service_names(self) -> list[str]:
        """The catalog's service labels, for the Declare dialog to complete from."""
        return self._sql.service_names()

    def find_incident(self, reference: str) -> IncidentSummary:
        """An incident by number or (prefix of) UUID, for the CLI."""
        text = reference.strip()
        if text.isdigit():
            try:
                return self.incident(int(text))
            except NotFoundError:
                if len(text) < 4:  # too short to be meant as a UUID prefix
                    raise
            # a UUID prefix can be all digits ("10557897…"): look it up as one
        wanted = text.lower().replace("-", "")
        with self._db.reader() as session:
            pairs = session.execute(select(Incident.id, Incident.uuid)).all()
        ids = [i for i, u in pairs if wanted and u.hex.startswith(wanted)]
        if len(ids) == 1:
            return self.incident(ids[0])
        if not ids:
            raise NotFoundError(f"there is no incident {reference!r}")
        raise NotFoundError(f"{reference!r} matches {len(ids)} incidents; give more of the id")

    def role_history(self, incident_id: int) -> list[RoleAssignment]:
        with self._db.reader() as session:
            return [
                RoleAssignment(Role(r.role), r.person, r.assigned_at, r.assigned_by, r.ended_at)
                for r in session.scalars(
                    select(RoleAssignmentRow)
                    .where(RoleAssignmentRow.incident_id == incident_id)
                    .order_by(RoleAssignmentRow.id)
                )
            ]

    def runbook_steps_done(self, incident_id: int, runbook: str) -> frozenset[int]:
        return self._sql.runbook_steps_done(incident_id, runbook)

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        return self.timeline_page(incident_id, 1, self.timeline_count(incident_id))

    def reminders(self, now: datetime, *, lead: timedelta = timedelta(0)) -> list[Reminder]:
        """Recurring items of live incidents that are due by ``now + lead``."""
        with self._db.reader() as session:
            rows = session.execute(
                select(ChecklistItemRow, Incident.title)
                .join(Incident, Incident.id == ChecklistItemRow.incident_id)
                .where(
                    ChecklistItemRow.due_at.is_not(None),
                    ChecklistItemRow.due_at <= now + lead,
                    Incident.status.in_(ACTIVE),
                )
                .order_by(ChecklistItemRow.due_at)
            ).all()
            return [
                Reminder(
                    incident_id=item.incident_id,
                    incident_title=title,
                    item_id=item.id,
                    title=item.title,
                    due_at=item.due_at,
                    overdue=item.due_at <= now,
                )
                for item, title in rows
                if item.due_at is not None
            ]

    # ----------------------------------------------------------------- outbox

    def outbox_counts(self) -> dict[str, int]:
        with self._db.reader() as session:
            return {
                state: count
                for state, count in session.execute(
                    select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
                )
            }

    def cached_at(self, name: str) -> datetime | None:
        with self._db.reader() as session:
            return session.scalar(select(CacheSet.fetched_at).where(CacheSet.name == name))
