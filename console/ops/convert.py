"""Rows → frozen views. The only place that knows both shapes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from console.domain.incident import EntryKind, Role, Severity, Status
from console.domain.views import ChecklistItem, IncidentSummary, RoleHolder, TimelineEntry
from console.storage.models import ChecklistItemRow, Incident, TimelineEntryRow


def incident_view(row: Incident, roles: Sequence[RoleHolder] = ()) -> IncidentSummary:
    return IncidentSummary(
        id=row.id,
        uuid=row.uuid,
        title=row.title,
        severity=Severity(row.severity),
        status=Status(row.status),
        declared_at=row.declared_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        entry_count=row.last_seq,
        roles=tuple(roles),
    )


def entry_view(row: TimelineEntryRow, superseded_by: uuid.UUID | None = None) -> TimelineEntry:
    return TimelineEntry(
        id=row.id,
        uuid=row.uuid,
        incident_id=row.incident_id,
        seq=row.seq,
        kind=EntryKind(row.kind),
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        author=row.author,
        text=row.text,
        data=dict(row.data or {}),
        supersedes=row.supersedes,
        superseded_by=superseded_by,
        source=row.source,
    )


def checklist_view(row: ChecklistItemRow) -> ChecklistItem:
    return ChecklistItem(
        id=row.id,
        uuid=row.uuid,
        incident_id=row.incident_id,
        template_id=row.template_id,
        role=Role(row.role) if row.role else None,
        title=row.title,
        position=row.position,
        every_minutes=row.every_minutes,
        due_at=row.due_at,
        done_at=row.done_at,
        done_by=row.done_by,
    )


def jsonable(value: Any) -> Any:
    """Enums → their values, for JSON payload columns."""
    if isinstance(value, Status | Severity | Role | EntryKind):
        return value.value
    return value
