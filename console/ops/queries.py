"""Read-side queries. Each opens its own short read transaction and returns views."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.domain.errors import NotFoundError
from console.domain.incident import Role, Status
from console.domain.views import (
    ChecklistItem,
    IncidentSummary,
    Reminder,
    RoleAssignment,
    RoleHolder,
    TimelineEntry,
)
from console.ops.convert import checklist_view, entry_view, incident_view
from console.storage.db import Database
from console.storage.models import (
    CacheSet,
    ChecklistItemRow,
    Incident,
    OutboxRow,
    RoleAssignmentRow,
    TimelineEntryRow,
)

ACTIVE = [s.value for s in Status if s.is_active]


class Queries:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --------------------------------------------------------------- incidents

    def incidents(self, *, active_only: bool = False) -> list[IncidentSummary]:
        with self._db.reader() as session:
            statement = select(Incident).order_by(Incident.declared_at.desc(), Incident.id.desc())
            if active_only:
                statement = statement.where(Incident.status.in_(ACTIVE))
            rows = session.scalars(statement).all()
            holders: dict[int, list[RoleHolder]] = defaultdict(list)
            if rows:
                for assignment in session.scalars(
                    select(RoleAssignmentRow)
                    .where(
                        RoleAssignmentRow.ended_at.is_(None),
                        RoleAssignmentRow.incident_id.in_([r.id for r in rows]),
                    )
                    .order_by(RoleAssignmentRow.id)
                ):
                    holders[assignment.incident_id].append(
                        RoleHolder(Role(assignment.role), assignment.person, assignment.assigned_at)
                    )
            return [incident_view(r, holders[r.id]) for r in rows]

    def incident(self, incident_id: int) -> IncidentSummary:
        with self._db.reader() as session:
            row = session.get(Incident, incident_id)
            if row is None:
                raise NotFoundError(f"there is no incident {incident_id}")
            holders = [
                RoleHolder(Role(a.role), a.person, a.assigned_at)
                for a in session.scalars(
                    select(RoleAssignmentRow)
                    .where(
                        RoleAssignmentRow.incident_id == incident_id,
                        RoleAssignmentRow.ended_at.is_(None),
                    )
                    .order_by(RoleAssignmentRow.id)
                )
            ]
            return incident_view(row, holders)

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

    # ---------------------------------------------------------------- timeline

    def timeline_count(self, incident_id: int) -> int:
        """Entries are numbered 1..N without gaps, so the count is the incident's last seq."""
        with self._db.reader() as session:
            count = session.scalar(select(Incident.last_seq).where(Incident.id == incident_id))
        if count is None:
            raise NotFoundError(f"there is no incident {incident_id}")
        return count

    def timeline_page(self, incident_id: int, first_seq: int, last_seq: int) -> list[TimelineEntry]:
        """Entries with ``first_seq <= seq <= last_seq``, oldest first (an index range scan)."""
        with self._db.reader() as session:
            rows = session.scalars(
                select(TimelineEntryRow)
                .where(
                    TimelineEntryRow.incident_id == incident_id,
                    TimelineEntryRow.seq >= first_seq,
                    TimelineEntryRow.seq <= last_seq,
                )
                .order_by(TimelineEntryRow.seq)
            ).all()
            superseded = self._superseded_by(session, [r.uuid for r in rows])
            return [entry_view(r, superseded.get(r.uuid)) for r in rows]

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        return self.timeline_page(incident_id, 1, self.timeline_count(incident_id))

    @staticmethod
    def _superseded_by(session: Session, uuids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        if not uuids:
            return {}
        pairs = session.execute(
            select(TimelineEntryRow.supersedes, TimelineEntryRow.uuid).where(
                TimelineEntryRow.supersedes.in_(uuids)
            )
        ).all()
        return {old: new for old, new in pairs if old is not None}

    # --------------------------------------------------------------- checklist

    def checklist(self, incident_id: int) -> list[ChecklistItem]:
        with self._db.reader() as session:
            return [
                checklist_view(r)
                for r in session.scalars(
                    select(ChecklistItemRow)
                    .where(ChecklistItemRow.incident_id == incident_id)
                    .order_by(ChecklistItemRow.position, ChecklistItemRow.id)
                )
            ]

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
