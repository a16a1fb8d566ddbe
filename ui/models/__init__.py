"""Item models over the core's read side (STYLE §3).

Models read through :class:`IncidentReader` — the subset of
``console.ops.queries.Queries`` they need — so that they never touch storage
and can be fed by any object with the same methods. Importing this package
stays cheap: it never imports ``console.ops`` (and so never SQLAlchemy).
"""

from __future__ import annotations

from typing import Protocol

from console.domain.views import ChecklistItem, IncidentSummary, TimelineEntry


class IncidentReader(Protocol):
    """What the models read. ``console.ops.queries.Queries`` satisfies it."""

    def incidents(self, *, active_only: bool = False) -> list[IncidentSummary]: ...

    def incident(self, incident_id: int) -> IncidentSummary: ...

    def timeline_count(self, incident_id: int) -> int: ...

    def timeline_page(
        self, incident_id: int, first_seq: int, last_seq: int
    ) -> list[TimelineEntry]: ...

    def checklist(self, incident_id: int) -> list[ChecklistItem]: ...


__all__ = ["IncidentReader"]
