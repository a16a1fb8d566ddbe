"""The pure half of the metrics: per-incident response times → summaries, counts
and monthly trends, and their JSON and text forms. No I/O.

Definitions (all measured from the incident's first recorded sign, see
``console.comms.response``):

* **time to detect**: first sign → declared (0 when nothing precedes the declaration);
* **time to acknowledge**: → first incident-commander assignment or move to
  triage/mitigating; an incident with neither is *not counted* (``missing``);
* **time to mitigate**: → first move to mitigating (or straight to resolved);
* **time to resolve**: → the last move to resolved that held; incidents still open
  (open, triage, mitigating) are counted as open and left out.

Summaries: mean, median (the middle value, or the mean of the two middle ones) and
p90 by nearest rank (the smallest value with at least 90 % of values at or below
it: ``sorted[ceil(0.9 n) - 1]``), in seconds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cached_property

from console.comms.response import ResponseTimes
from console.comms.updates import format_minutes
from console.domain.incident import Severity, Status
from console.storage.models import format_utc

MEASURES = ("detect", "acknowledge", "mitigate", "resolve")
LABELS = {
    "detect": "Time to detect",
    "acknowledge": "Time to acknowledge",
    "mitigate": "Time to mitigate",
    "resolve": "Time to resolve",
}
OPEN_STATUSES = frozenset({Status.OPEN, Status.TRIAGE, Status.MITIGATING})
#: where a month's median is taken: ``None`` when no incident of the month has it
Seconds = float | None


@dataclass(frozen=True)
class IncidentMetrics:
    id: int
    title: str
    severity: Severity
    status: Status
    services: tuple[str, ...]
    declared_at: datetime
    times: ResponseTimes

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @cached_property
    def _seconds(self) -> dict[str, Seconds]:
        times, started = self.times, self.times.started
        moments = (times.detected, times.acknowledged, times.mitigating,
                   None if self.open else times.resolved)  # fmt: skip
        return {
            measure: None if moment is None else (moment - started).total_seconds()
            for measure, moment in zip(MEASURES, moments, strict=True)
        }

    def seconds(self, measure: str) -> Seconds:
        return self._seconds[measure]


@dataclass(frozen=True)
class Summary:
    """One measure across incidents; ``missing`` incidents had no value."""

    count: int
    missing: int
    mean: Seconds
    median: Seconds
    p90: Seconds


@dataclass(frozen=True)
class ActionCounts:
    open: int = 0  # open or in progress
    overdue: int = 0  # open, due before today
    done: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM of the declaration, UTC
    incidents: int
    open: int
    medians: Mapping[str, Seconds]
    actions: ActionCounts


@dataclass(frozen=True)
class MetricsReport:
    since: date | None
    until: date | None
    severity: Severity | None
    service: str | None
    generated_at: datetime
    incidents: tuple[IncidentMetrics, ...]
    times: Mapping[str, Summary]
    by_severity: Mapping[str, int]
    by_service: Mapping[str, int]
    months: tuple[MonthRow, ...]
    actions: ActionCounts
    actions_not_linked: ActionCounts
    notes: tuple[str, ...]

    @property
    def open_count(self) -> int:
        return sum(1 for i in self.incidents if i.open)


def summarize(values: Sequence[Seconds]) -> Summary:
    present = sorted(v for v in values if v is not None)
    missing = len(values) - len(present)
    if not present:
        return Summary(0, missing, None, None, None)
    rank = math.ceil(0.9 * len(present)) - 1
    return Summary(
        len(present),
        missing,
        statistics.fmean(present),
        float(statistics.median(present)),
        present[rank],
    )


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def build_report(
    incidents: Sequence[IncidentMetrics],
    actions: Mapping[int | None, Sequence[tuple[str, date | None]]],
    *,
    today: date,
    generated_at: datetime,
    since: date | None = None,
    until: date | None = None,
    severity: Severity | None = None,
    service: str | None = None,
) -> MetricsReport:
    """``actions``: per incident id (``None``: not linked) the (status, due) of its items."""

    def count(items: Sequence[tuple[str, date | None]]) -> ActionCounts:
        tally = {"open": 0, "overdue": 0, "done": 0, "dropped": 0}
        for status, due in items:
            is_open = status in ("open", "in_progress")
            tally["open" if is_open else status] += 1
            tally["overdue"] += is_open and due is not None and due < today
        return ActionCounts(**tally)

    ordered = sorted(incidents, key=lambda i: (i.declared_at, i.id))
    times = {m: summarize([i.seconds(m) for i in ordered]) for m in MEASURES}
    by_severity = {s.value: 0 for s in Severity}
    by_service: dict[str, int] = {}
    for incident in ordered:
        by_severity[incident.severity.value] += 1
        for name in incident.services:
            by_service[name] = by_service.get(name, 0) + 1
    by_month: dict[str, list[IncidentMetrics]] = {}
    for incident in ordered:
        day = incident.declared_at
        by_month.setdefault(f"{day.year:04d}-{day.month:02d}", []).append(incident)
    months: list[MonthRow] = []
    if ordered:
        for month in _months(min(by_month), max(by_month)):
            inside = by_month.get(month, [])
            months.append(
                MonthRow(
                    month,
                    len(inside),
                    sum(1 for i in inside if i.open),
                    {m: summarize([i.seconds(m) for i in inside]).median for m in MEASURES},
                    count([item for i in inside for item in actions.get(i.id, ())]),
                )
            )
    notes = []
    open_count = sum(1 for i in ordered if i.open)
    if open_count:
        notes.append(f"{incidents_text(open_count)} still open: not in time to resolve.")
    if times["acknowledge"].missing:
        notes.append(
            f"{incidents_text(times['acknowledge'].missing)} without an acknowledgement "
            "(no commander assigned, never moved to triage or mitigating): "
            "not counted in time to acknowledge."
        )
    unmitigated = times["mitigate"].missing
    if unmitigated:
        notes.append(f"{incidents_text(unmitigated)} never mitigating: not in time to mitigate.")
    if not ordered:
        notes.append("No incident matches.")
    linked = [item for i in ordered for item in actions.get(i.id, ())]
    return MetricsReport(
        since=since,
        until=until,
        severity=severity,
        service=service,
        generated_at=generated_at,
        incidents=tuple(ordered),
        times=times,
        by_severity=by_severity,
        by_service=dict(sorted(by_service.items(), key=lambda kv: (-kv[1], kv[0]))),
        months=tuple(months),
        actions=count(linked),
        actions_not_linked=count(actions.get(None, ())),
        notes=tuple(notes),
    )


def incidents_text(n: int) -> str:
    """``1 incident``, ``2 incidents``."""
    return f"{n} incident{'s' if n != 1 else ''}"


def report_json(report: MetricsReport) -> dict[str, object]:
    """The stable ``metrics --json`` shape (README, "JSON shapes")."""

    def summary(s: Summary) -> dict[str, object]:
        return {
            "count": s.count,
            "missing": s.missing,
            "mean_s": s.mean,
            "median_s": s.median,
            "p90_s": s.p90,
        }

    return {
        "filter": {
            "since": report.since.isoformat() if report.since else None,
            "until": report.until.isoformat() if report.until else None,
            "severity": report.severity.value if report.severity else None,
            "service": report.service,
        },
        "generated_at": format_utc(report.generated_at),
        "incidents": {
            "total": len(report.incidents),
            "open": report.open_count,
        },
        "times": {m: summary(report.times[m]) for m in MEASURES},
        "by_severity": dict(report.by_severity),
        "by_service": dict(report.by_service),
        "by_month": [
            {
                "month": row.month,
                "incidents": row.incidents,
                "open": row.open,
                "median_s": dict(row.medians),
                "action_items": asdict(row.actions),
            }
            for row in report.months
        ],
        "action_items": {
            **asdict(report.actions),
            "not_linked": asdict(report.actions_not_linked),
        },
        "per_incident": [
            {
                "id": i.id,
                "title": i.title,
                "severity": i.severity.value,
                "status": i.status.value,
                "open": i.open,
                "services": list(i.services),
                "declared_at": format_utc(i.declared_at),
                "started_at": format_utc(i.times.started),
                "seconds": {m: i.seconds(m) for m in MEASURES},
            }
            for i in report.incidents
        ],
        "notes": list(report.notes),
    }


def format_span(seconds: Seconds) -> str:
    """``45 s``, ``12 min``, ``1 h 05 min``; ``—`` for no value."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return format_minutes(seconds / 60)


def scope_text(report: MetricsReport) -> str:
    parts = []
    if report.since or report.until:
        since = report.since.isoformat() if report.since else "…"
        until = report.until.isoformat() if report.until else "…"
        parts.append(f"{since} to {until}")
    if report.severity:
        parts.append(report.severity.value)
    if report.service:
        parts.append(f"service {report.service}")
    return ", ".join(parts) or "all incidents"


def report_text(report: MetricsReport) -> str:
    lines = [
        f"Incidents ({scope_text(report)}): {len(report.incidents)}, {report.open_count} open",
        "",
        f"{'':<20} {'n':>4} {'missing':>8} {'mean':>12} {'median':>12} {'p90':>12}",
    ]
    for m in MEASURES:
        s = report.times[m]
        lines.append(
            f"{LABELS[m]:<20} {s.count:>4} {s.missing:>8} {format_span(s.mean):>12} "
            f"{format_span(s.median):>12} {format_span(s.p90):>12}"
        )
    lines += [
        "",
        "By severity: " + " · ".join(f"{k} {v}" for k, v in report.by_severity.items()),
        "By service: "
        + (" · ".join(f"{k} {v}" for k, v in report.by_service.items()) or "none named"),
    ]
    if report.months:
        lines += ["", "By month (medians):"]
        for row in report.months:
            lines.append(
                f"  {row.month}  {incidents_text(row.incidents):>13} ({row.open} open)  "
                f"acknowledge {format_span(row.medians['acknowledge'])}, "
                f"resolve {format_span(row.medians['resolve'])}; "
                f"actions {row.actions.open} open, {row.actions.overdue} overdue"
            )
    a, n = report.actions, report.actions_not_linked
    lines += [
        "",
        f"Action items: {a.open} open, {a.overdue} overdue, {a.done} done, {a.dropped} dropped"
        f" (not linked to an incident: {n.open} open, {n.overdue} overdue)",
    ]
    if report.notes:
        lines += ["", *report.notes]
    return "\n".join(lines)
