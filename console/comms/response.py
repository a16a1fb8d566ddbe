"""Response times of one incident: the one definition the postmortem and the
metrics share.

All four are measured from the first recorded sign (``started``: the earliest
timeline entry, so an imported alert that precedes the declaration counts):

* detected = the declaration;
* acknowledged = the first incident-commander assignment or move to triage or
  mitigating;
* mitigating = the first move to mitigating (or to resolved, if it skipped it);
* resolved = the last move to resolved, cleared if the incident went back to
  mitigating afterwards (the fix did not hold).

A moment that was never reached is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from console.domain.incident import EntryKind, Role, Status

#: the only entry kinds that move a response time (besides the earliest entry)
LIFECYCLE_KINDS = (EntryKind.STATUS_CHANGE, EntryKind.ROLE_CHANGE)


class Moment(Protocol):
    """What the rule reads of a timeline entry (``TimelineEntry`` has it)."""

    @property
    def occurred_at(self) -> datetime: ...

    @property
    def kind(self) -> EntryKind: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class ResponseTimes:
    started: datetime
    detected: datetime
    acknowledged: datetime | None
    mitigating: datetime | None
    resolved: datetime | None

    def spans(self) -> list[tuple[str, datetime | None, timedelta | None]]:
        def since_start(moment: datetime | None) -> timedelta | None:
            return None if moment is None else moment - self.started

        return [
            ("Time to detect", self.detected, since_start(self.detected)),
            ("Time to acknowledge", self.acknowledged, since_start(self.acknowledged)),
            ("Time to mitigate", self.mitigating, since_start(self.mitigating)),
            ("Time to resolve", self.resolved, since_start(self.resolved)),
        ]


def response_times(
    declared_at: datetime, entries: Iterable[Moment], *, earliest: datetime | None = None
) -> ResponseTimes:
    """The lifecycle instants from the entries in timeline (seq) order.

    ``earliest`` is the earliest entry's time when the caller read it already; the
    entries then need only be the :data:`LIFECYCLE_KINDS` (the metrics read so).
    """
    started = declared_at if earliest is None else min(declared_at, earliest)
    acknowledged = mitigating = resolved = None
    for entry in entries:
        started = min(started, entry.occurred_at)
        kind = entry.kind
        if kind is EntryKind.ROLE_CHANGE and entry.data.get("role") == Role.INCIDENT_COMMANDER:
            acknowledged = acknowledged or entry.occurred_at
        elif kind is EntryKind.STATUS_CHANGE:
            target = entry.data.get("to")
            if target in (Status.TRIAGE, Status.MITIGATING):
                acknowledged = acknowledged or entry.occurred_at
            if target == Status.MITIGATING:
                mitigating = mitigating or entry.occurred_at
            if target == Status.RESOLVED:
                resolved = entry.occurred_at
                mitigating = mitigating or entry.occurred_at
            elif resolved is not None and target == Status.MITIGATING:
                resolved = None  # the fix did not hold
    return ResponseTimes(started, declared_at, acknowledged, mitigating, resolved)
