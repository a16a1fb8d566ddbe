"""The readiness audit's values and its scoring rule (pure; the checks are in console.audit).

A *finding* names one thing that leaves the team exposed (a service nobody is
paged for, a schedule with a hole next Tuesday), the objects it is about, and
the fix as one sentence a person can act on. Each check belongs to an *area*;
an area's score is the share of the objects it checked that have no finding in
that area::

    score(area) = 100 × (checked − flagged) / checked      (None when checked = 0)

so a score moves only when things get fixed or new gaps appear, and the trend
between two audits (stored in ``audit_runs``) is the difference of two scores.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime


class Area(enum.StrEnum):
    OWNED = "owned"
    REACHABLE = "reachable"
    RUNBOOKED = "runbooked"
    LEARNING = "learning"
    IMPROVING = "improving"

    @property
    def definition(self) -> str:
        return AREA_DEFINITIONS[self]


#: what each area's score measures (README and the Readiness view show these)
AREA_DEFINITIONS: dict[Area, str] = {
    Area.OWNED: "services (components and resources) with an owner and an escalation "
    "policy; a fresh catalog",
    Area.REACHABLE: "escalation policies with two or more levels and more than one person, "
    "schedules without a gap in the next 14 days, contacts with two or more reach "
    "methods; fresh people and schedule caches",
    Area.RUNBOOKED: "services with a runbook, runbooks within their review interval, known "
    "alerts that a runbook names",
    Area.LEARNING: "resolved SEV1/SEV2 incidents with a postmortem, postmortems with action items",
    Area.IMPROVING: "action items (not dropped) that are done or not yet due",
}


class Severity(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return SEVERITY_ORDER.index(self)


SEVERITY_ORDER = (Severity.HIGH, Severity.MEDIUM, Severity.LOW)


class ObjectKind(enum.StrEnum):
    SERVICE = "service"
    RUNBOOK = "runbook"
    ALERT = "alert"
    POLICY = "policy"
    SCHEDULE = "schedule"
    PERSON = "person"
    INCIDENT = "incident"
    ACTION_ITEM = "action_item"
    CACHE = "cache"


@dataclass(frozen=True)
class AuditObject:
    """A thing a finding names: ``key`` is what opens it (a service ref, a runbook id,
    a contact id, an incident id, a schedule or policy key, a cache set name)."""

    kind: ObjectKind
    key: str
    label: str

    @functools.cached_property
    def ident(self) -> str:
        """``kind:key``: what the scores count (computed once: an audit of 10,000
        runbooks asks for it ~30,000 times)."""
        return f"{self.kind}:{self.key}"  # a StrEnum formats as its value


@dataclass(frozen=True)
class Finding:
    #: ``<check>:<first object's kind:key>``: stable between audits
    id: str
    check: str
    area: Area
    severity: Severity
    title: str
    objects: tuple[AuditObject, ...]
    fix: str


def finding(
    check: str,
    area: Area,
    severity: Severity,
    title: str,
    objects: Iterable[AuditObject],
    fix: str,
) -> Finding:
    named = tuple(objects)
    anchor = named[0].ident if named else "workspace"
    return Finding(f"{check}:{anchor}", check, area, severity, title, named, fix)


@dataclass(frozen=True)
class AreaScore:
    area: Area
    checked: int
    flagged: int
    #: the same area's score in the previous stored audit (None: no earlier audit)
    previous: float | None = None

    @property
    def score(self) -> float | None:
        if self.checked == 0:
            return None
        return round(100.0 * (self.checked - self.flagged) / self.checked, 1)

    @property
    def change(self) -> float | None:
        score = self.score
        if score is None or self.previous is None:
            return None
        return round(score - self.previous, 1)


@dataclass(frozen=True)
class PastRun:
    ran_at: datetime
    scores: Mapping[str, float | None]
    findings: int


@dataclass(frozen=True)
class AuditReport:
    ran_at: datetime
    findings: tuple[Finding, ...]
    scores: tuple[AreaScore, ...]
    #: earlier stored audits, newest first (the trend)
    history: tuple[PastRun, ...] = field(default=())

    def counts(self) -> dict[str, dict[str, int]]:
        by_severity = {s.value: 0 for s in SEVERITY_ORDER}
        by_area = {a.value: 0 for a in Area}
        for item in self.findings:
            by_severity[item.severity.value] += 1
            by_area[item.area.value] += 1
        return {"severity": by_severity, "area": by_area}

    def score_map(self) -> dict[str, float | None]:
        return {s.area.value: s.score for s in self.scores}

    def in_area(self, area: Area) -> list[Finding]:
        return [f for f in self.findings if f.area is area]


def score_areas(
    findings: Iterable[Finding],
    checked: Mapping[Area, set[str]],
    previous: Mapping[str, float | None] | None = None,
) -> tuple[AreaScore, ...]:
    """Each area's checked and flagged object counts (flagged: checked objects that some
    finding of that area names), with the previous audit's score beside it."""
    flagged: dict[Area, set[str]] = {area: set() for area in Area}
    for item in findings:
        flagged[item.area].update(obj.ident for obj in item.objects)
    scores = []
    for area in Area:
        seen = checked.get(area, set())
        before = None if previous is None else previous.get(area.value)
        scores.append(AreaScore(area, len(seen), len(flagged[area] & seen), before))
    return tuple(scores)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """By area (in :class:`Area` order), severity, check, then the finding id."""
    areas = list(Area)
    return tuple(
        sorted(findings, key=lambda f: (areas.index(f.area), f.severity.rank, f.check, f.id))
    )
