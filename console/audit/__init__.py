"""The readiness audit: where the team is exposed before the next incident.

``Auditor.run()`` reads services, runbooks, people, schedules, escalation
policies, postmortems, action items and the cache stamps in one snapshot
(:mod:`console.audit.checks`), scores the five areas
(:func:`console.domain.audit.score_areas`), and stores the scores in
``audit_runs`` so the next audit shows the trend. Exports are in
:mod:`console.audit.export`.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import TYPE_CHECKING

from console.audit.checks import run_checks
from console.domain.audit import AuditReport, PastRun, score_areas, sort_findings
from console.domain.clock import Clock, utc_now
from console.storage.db import Database
from console.storage.models import format_utc, parse_utc

if TYPE_CHECKING:
    from console.ops.workspace import Workspace

__all__ = ["Auditor", "audit_for"]

#: how many earlier audits a report carries for the trend
HISTORY = 12


class Auditor:
    def __init__(self, db: Database, *, actor: str, clock: Clock = utc_now) -> None:
        self._db = db
        self._actor = actor
        self._clock = clock

    def run(self, *, save: bool = True) -> AuditReport:
        """Audit now; with ``save`` the scores are stored for the next audit's trend."""
        now = self._clock()
        with self._db.raw_reader() as raw:
            found = run_checks(raw, now)
            history = _history(raw)
        previous = history[0].scores if history else None
        report = AuditReport(
            ran_at=now,
            findings=sort_findings(found.findings),
            scores=score_areas(found.findings, found.checked, previous),
            history=history,
        )
        if save:
            self._save(report)
        return report

    def history(self) -> tuple[PastRun, ...]:
        with self._db.raw_reader() as raw:
            return _history(raw)

    def _save(self, report: AuditReport) -> None:
        with self._db.raw_writer() as raw:
            raw.execute(
                "INSERT INTO audit_runs (uuid, ran_at, ran_by, scores, counts, findings) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().hex,
                    format_utc(report.ran_at),
                    self._actor,
                    json.dumps(report.score_map()),
                    json.dumps(report.counts()),
                    len(report.findings),
                ),
            )


def _history(raw: sqlite3.Connection) -> tuple[PastRun, ...]:
    rows = raw.execute(
        "SELECT ran_at, scores, findings FROM audit_runs ORDER BY ran_at DESC, id DESC LIMIT ?",
        (HISTORY,),
    ).fetchall()
    return tuple(
        PastRun(parse_utc(ran_at), json.loads(scores), int(n)) for ran_at, scores, n in rows
    )


def audit_for(workspace: Workspace) -> Auditor:
    """The auditor of an open workspace (same database, actor and clock)."""
    return Auditor(workspace.db, actor=workspace.incidents.actor, clock=workspace.clock)
