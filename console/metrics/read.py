"""The reading half of the metrics: four SQL statements in one read transaction.

1. the incidents that match the filter (declared in the date range, severity,
   naming the service);
2. their services;
3. the earliest entry of each (``MIN(occurred_at)``: the first sign, which may be an
   imported alert earlier than the declaration);
4. their status and role changes, in seq order (the only kinds that move a
   response time) — not the whole timeline;
5. the action items' status and due date.

Stored times are fixed-width UTC ISO text, so ranges compare as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from console.comms.response import LIFECYCLE_KINDS, response_times
from console.domain.errors import InvalidInputError
from console.domain.incident import EntryKind, Severity, Status
from console.metrics.report import IncidentMetrics, MetricsReport, build_report
from console.storage.db import Database
from console.storage.models import format_utc


@dataclass(frozen=True)
class MetricsFilter:
    """Incidents declared from ``since`` to ``until`` (UTC days, both included),
    of one severity, naming one service (its name or ref, any case)."""

    since: date | None = None
    until: date | None = None
    severity: Severity | None = None
    service: str | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise InvalidInputError(
                f"--since {self.since.isoformat()} is after --until {self.until.isoformat()}"
            )
        if self.service is not None and not self.service.strip():
            raise InvalidInputError("the service to filter by is empty")


_KINDS = {kind.value: kind for kind in LIFECYCLE_KINDS}


class _Change(NamedTuple):
    occurred_at: datetime
    kind: EntryKind
    data: dict[str, Any]


def _where(chosen: MetricsFilter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if chosen.since:
        clauses.append("declared_at >= ?")
        params.append(format_utc(datetime.combine(chosen.since, time(), UTC)))
    if chosen.until:
        clauses.append("declared_at < ?")
        params.append(format_utc(datetime.combine(chosen.until + timedelta(days=1), time(), UTC)))
    if chosen.severity:
        clauses.append("severity = ?")
        params.append(chosen.severity.value)
    if chosen.service:
        name = chosen.service.strip().casefold()
        clauses.append(
            "id IN (SELECT incident_id FROM incident_services "
            "WHERE lower(service_name) = ? OR lower(service_ref) = ?)"
        )
        params += [name, name]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def read_metrics(db: Database, chosen: MetricsFilter, *, now: datetime) -> MetricsReport:
    where, params = _where(chosen)
    selected = f"SELECT id FROM incidents{where}"
    with db.raw_reader() as raw:
        rows = raw.execute(
            f"SELECT id, title, severity, status, declared_at FROM incidents{where}", params
        ).fetchall()
        services: dict[int, list[str]] = {}
        for incident_id, name in raw.execute(
            "SELECT incident_id, service_name FROM incident_services "
            f"WHERE incident_id IN ({selected}) ORDER BY incident_id, service_name",
            params,
        ):
            services.setdefault(incident_id, []).append(name)
        earliest = dict(
            raw.execute(
                "SELECT incident_id, MIN(occurred_at) FROM timeline_entries "
                f"WHERE incident_id IN ({selected}) GROUP BY incident_id",
                params,
            ).fetchall()
        )
        kinds = ",".join(f"'{k.value}'" for k in LIFECYCLE_KINDS)
        changes: dict[int, list[_Change]] = {}
        # the two fields the rule reads, extracted by SQLite (a damaged data column
        # reads as NULL and moves no response time)
        for incident_id, occurred_at, kind, target, role in raw.execute(
            "SELECT incident_id, occurred_at, kind, "
            "CASE WHEN json_valid(data) THEN json_extract(data, '$.to') END, "
            "CASE WHEN json_valid(data) THEN json_extract(data, '$.role') END "
            f"FROM timeline_entries WHERE kind IN ({kinds}) AND incident_id IN ({selected}) "
            "ORDER BY incident_id, seq",
            params,
        ):
            changes.setdefault(incident_id, []).append(
                _Change(
                    datetime.fromisoformat(occurred_at),
                    _KINDS[kind],
                    {"to": target} if kind == "status_change" else {"role": role},
                )
            )
        actions: dict[int | None, list[tuple[str, date | None]]] = {}
        for incident_id, status, due_on in raw.execute(
            "SELECT incident_id, status, due_on FROM action_items "
            f"WHERE incident_id IS NULL OR incident_id IN ({selected})",
            params,
        ):
            actions.setdefault(incident_id, []).append(
                (status, date.fromisoformat(due_on) if due_on else None)
            )
    incidents = []
    for incident_id, title, severity, status, declared in rows:
        declared_at = datetime.fromisoformat(declared)
        first = earliest.get(incident_id)
        incidents.append(
            IncidentMetrics(
                id=incident_id,
                title=title,
                severity=Severity(severity),
                status=Status(status),
                services=tuple(services.get(incident_id, ())),
                declared_at=declared_at,
                times=response_times(
                    declared_at,
                    changes.get(incident_id, ()),
                    earliest=datetime.fromisoformat(first) if first else None,
                ),
            )
        )
    return build_report(
        incidents,
        actions,
        today=now.date(),
        generated_at=now,
        since=chosen.since,
        until=chosen.until,
        severity=chosen.severity,
        service=chosen.service.strip() if chosen.service else None,
    )
