"""Custom item-data roles of every model in ``ui/models`` — named in one place.

Views, delegates and tests ask models for these instead of parsing display text.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt

_BASE = int(Qt.ItemDataRole.UserRole)


class ItemRole(enum.IntEnum):
    #: int — the row's database id (incident id, timeline entry id, checklist item id)
    ID = _BASE + 1
    #: the frozen core view behind the row (IncidentSummary, TimelineEntry, ChecklistItem)
    VIEW = _BASE + 2
    #: console.domain.incident.Severity — incidents
    SEVERITY = _BASE + 3
    #: console.domain.incident.Status — incidents
    STATUS = _BASE + 4
    #: int — timeline sequence number (1..N)
    SEQ = _BASE + 5
    #: bool — a later correction supersedes this timeline entry
    SUPERSEDED = _BASE + 6
    #: bool — the row could not be loaded (its page failed); display shows the error
    LOAD_ERROR = _BASE + 7
    #: bool — a recurring checklist item is past its due time
    OVERDUE = _BASE + 8
    #: int — the checklist item's 1-based number, as ``/done N`` takes it
    NUMBER = _BASE + 9
    #: bool — the incident is still being fought (open, triage, mitigating)
    ACTIVE = _BASE + 10


def is_checked(value: object) -> bool:
    """A check-state value from ``setData`` (views pass the enum or its int) is Checked."""
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    return value == Qt.CheckState.Checked.value
