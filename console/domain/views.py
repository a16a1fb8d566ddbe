"""Frozen values the core hands to its clients (UI, CLI). Never ORM objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from console.domain.incident import EntryKind, Role, Severity, Status


@dataclass(frozen=True)
class RoleHolder:
    role: Role
    person: str
    since: datetime


@dataclass(frozen=True)
class AffectedService:
    """A service an incident names: its catalog ref (key) and the name shown."""

    ref: str
    name: str


@dataclass(frozen=True)
class IncidentSummary:
    id: int
    uuid: UUID
    title: str
    severity: Severity
    status: Status
    declared_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    entry_count: int
    roles: tuple[RoleHolder, ...] = ()
    services: tuple[AffectedService, ...] = ()

    def holder(self, role: Role) -> str | None:
        for held in self.roles:
            if held.role is role:
                return held.person
        return None


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    uuid: UUID
    incident_id: int
    seq: int
    kind: EntryKind
    occurred_at: datetime
    recorded_at: datetime
    author: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)
    supersedes: UUID | None = None
    superseded_by: UUID | None = None
    source: str = "local"


@dataclass(frozen=True)
class ChecklistItem:
    id: int
    uuid: UUID
    incident_id: int
    template_id: str
    role: Role | None
    title: str
    position: int
    every_minutes: int | None
    due_at: datetime | None
    done_at: datetime | None
    done_by: str | None

    @property
    def recurring(self) -> bool:
        return self.every_minutes is not None

    @property
    def done(self) -> bool:
        return self.done_at is not None and not self.recurring


@dataclass(frozen=True)
class RoleAssignment:
    role: Role
    person: str
    assigned_at: datetime
    assigned_by: str
    ended_at: datetime | None


@dataclass(frozen=True)
class Reminder:
    incident_id: int
    incident_title: str
    item_id: int
    title: str
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class Changes:
    """What an operation changed, so views refresh selectively (Anki's OpChanges)."""

    incidents: frozenset[int] = frozenset()
    timeline: frozenset[int] = frozenset()  # incident ids whose timeline grew
    checklist: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    outbox: bool = False
    catalog: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            incidents=self.incidents | other.incidents,
            timeline=self.timeline | other.timeline,
            checklist=self.checklist | other.checklist,
            roles=self.roles | other.roles,
            outbox=self.outbox or other.outbox,
            catalog=self.catalog or other.catalog,
        )
