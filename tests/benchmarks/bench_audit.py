"""Readiness audit benchmark: every check over 2,000 services, 10,000 runbooks, 500 people.

The workspace is written with plain sqlite3 into a migrated database (the importers
have benchmarks of their own; this one measures the audit's reads). Roughly one
service in five lacks an owner, a policy or a runbook, a third of the runbooks are
overdue, a fifth of the people have one reach method, a tenth of the schedules have
holes, and there are incidents with alert notes, postmortems and action items.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from console.audit import Auditor
from console.ops.workspace import Workspace
from console.paths import database_path
from console.storage.models import format_utc
from tests.benchmarks.fixtures import (
    BENCH_ACTOR,
    BenchResult,
    Target,
    log,
    median,
    quick_mode,
    summary,
    temp_folder,
    time_ms,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def audit_full() -> BenchResult:
    """Auditor.run (all checks, scores, no save) vs the raw SQL counts the checks need."""
    quick = quick_mode()
    services, runbooks, people = (200, 500, 50) if quick else (2_000, 10_000, 500)
    repeats = 3 if quick else 9
    with temp_folder() as folder:
        Workspace.open(folder, actor=BENCH_ACTOR).close()  # migrate
        path = database_path(folder)
        build_audit_world(path, services=services, runbooks=runbooks, people=people)
        workspace = Workspace.open(folder, actor=BENCH_ACTOR, clock=lambda: NOW)
        try:
            auditor = Auditor(workspace.db, actor=BENCH_ACTOR, clock=lambda: NOW)
            report = auditor.run(save=False)  # warm
            log.info("audit_full: %d findings", len(report.findings))
            app: list[float] = []
            floor: list[float] = []
            for i in range(repeats):  # interleaved: both see the same machine load
                if i % 2:
                    app.append(time_ms(lambda: auditor.run(save=False)))
                    floor.append(_raw_counts_ms(path))
                else:
                    floor.append(_raw_counts_ms(path))
                    app.append(time_ms(lambda: auditor.run(save=False)))
        finally:
            workspace.close()
    detail: dict[str, Any] = {
        "services": services,
        "runbooks": runbooks,
        "people": people,
        "findings": len(report.findings),
        "by_check": _by_check(report.findings),
        "audit_ms": summary(app),
        "floor_counts_ms": summary(floor),
    }
    return BenchResult(
        name="audit_full",
        value=median(app),
        unit="ms",
        floor=median(floor),
        target=Target("value", 2000.0),
        samples=len(app),
        detail=detail,
    )


def _by_check(findings: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in findings:
        counts[item.check] = counts.get(item.check, 0) + 1
    return counts


#: the floor: what each check must at least read, as bare counts in SQL
FLOOR_SQL = (
    "SELECT count(*) FROM services s WHERE s.kind IN ('component', 'resource') AND "
    "(s.owner IS NULL OR NOT EXISTS (SELECT 1 FROM service_policies p "
    "WHERE p.service_name = s.name) OR lower(s.name) NOT IN (SELECT lower(j.value) "
    "FROM runbooks r, json_each(r.services) j))",
    "SELECT count(*) FROM runbooks r WHERE r.last_reviewed IS NULL OR "
    "date(r.last_reviewed, '+' || r.review_every_days || ' days') < '2026-11-23'",
    "SELECT count(DISTINCT lower(j.value)) FROM runbooks r, json_each(r.alerts) j",
    "SELECT count(*) FROM timeline_entries WHERE text LIKE '%alert%'",
    "SELECT count(*) FROM escalation_policies p WHERE (SELECT count(*) FROM "
    "escalation_levels l WHERE l.policy_id = p.id) < 2",
    "SELECT count(*) FROM shifts WHERE end_at > '2026-11-23' AND start_at < '2026-12-07'",
    "SELECT count(*) FROM people p WHERE (SELECT count(*) FROM reach_methods r "
    "WHERE r.person_id = p.id) < 2",
    "SELECT count(*) FROM incidents i LEFT JOIN postmortems pm ON pm.incident_id = i.id "
    "WHERE pm.id IS NULL AND i.severity IN ('SEV1', 'SEV2')",
    "SELECT count(*) FROM action_items WHERE status IN ('open', 'in_progress') "
    "AND due_on < '2026-11-23'",
)


def _raw_counts_ms(path: Path) -> float:
    connection = sqlite3.connect(path)
    try:

        def read() -> None:
            for sql in FLOOR_SQL:
                connection.execute(sql).fetchall()

        return time_ms(read)
    finally:
        connection.close()


def build_audit_world(path: Path, *, services: int, runbooks: int, people: int) -> None:
    rng = random.Random(6)
    stamp = format_utc(NOW)
    today = NOW.date()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        names = [f"svc-{i:04d}" for i in range(services)]
        connection.executemany(
            "INSERT INTO services (uuid, ref, name, namespace, kind, owner, tier, description, "
            "tags, annotations, links, relations, source, imported_at) "
            "VALUES (?, ?, ?, 'default', ?, ?, ?, '', '[]', ?, '[]', '{}', 'bench', ?)",
            [
                (
                    uuid.uuid4().hex,
                    f"component:default/{name}",
                    name,
                    "resource" if i % 7 == 0 else "component",
                    None if i % 11 == 0 else f"team-{i % 40}",
                    "tier-1" if i % 5 == 0 else "tier-2",
                    json.dumps({"prometheus.io/alerts": f"Svc{i}Down, Svc{i}LatencyHigh"})
                    if i % 10 == 0
                    else "{}",
                    stamp,
                )
                for i, name in enumerate(names)
            ],
        )
        connection.executemany(
            "INSERT INTO runbooks (uuid, slug, title, path, source_root, content_hash, "
            "mtime_ns, size, body, services, symptoms, alerts, owner, last_reviewed, "
            "review_every_days, imported_at, extra) VALUES "
            "(?, ?, ?, ?, '/bench', '', 0, 100, ?, ?, '[]', ?, ?, ?, ?, ?, '{}')",
            [
                (
                    uuid.uuid4().hex,
                    f"rb-{i:05d}",
                    f"Runbook {i}",
                    f"/bench/rb-{i:05d}.md",
                    f"Steps for runbook {i}.",
                    json.dumps([names[(i * 7) % (services * 9 // 10)]] if i % 6 else []),
                    json.dumps([f"Svc{(i * 7) % services}Down"]),
                    f"team-{i % 40}",
                    None
                    if i % 13 == 0
                    else (today - timedelta(days=rng.randrange(0, 240))).isoformat(),
                    90,
                    stamp,
                )
                for i in range(runbooks)
            ],
        )
        _people(connection, rng, people, stamp)
        schedule_keys = _schedules(connection, rng, max(people // 5, 4), stamp)
        _policies(connection, names, schedule_keys, stamp)
        _incidents(connection, names, stamp, today)
        connection.execute("COMMIT")
    finally:
        connection.close()


def _people(connection: sqlite3.Connection, rng: random.Random, count: int, stamp: str) -> None:
    for i in range(count):
        cursor = connection.execute(
            "INSERT INTO people (uuid, name, name_key, email, source, updated_at) "
            "VALUES (?, ?, ?, ?, 'bench', ?)",
            (uuid.uuid4().hex, f"Person {i}", f"person {i}", f"p{i}@example.com", stamp),
        )
        methods = 0 if i % 5 == 0 else rng.randrange(1, 4)
        connection.executemany(
            "INSERT INTO reach_methods (person_id, position, kind, value, e164, label) "
            "VALUES (?, ?, ?, ?, ?, '')",
            [
                (cursor.lastrowid, n, "mobile", f"+4477009{i:03d}{n}", f"+4477009{i:03d}{n}")
                for n in range(methods)
            ],
        )
    for name in ("people", "schedules", "catalog"):
        connection.execute(
            "INSERT OR REPLACE INTO cache_sets (name, fetched_at, source) VALUES (?, ?, 'bench')",
            (name, stamp),
        )


def _schedules(
    connection: sqlite3.Connection, rng: random.Random, count: int, stamp: str
) -> list[str]:
    keys = []
    start = NOW - timedelta(days=2)
    for s in range(count):
        key = f"bench:schedule-{s}"
        keys.append(key)
        until = start + timedelta(days=21 if s % 10 else 6)
        cursor = connection.execute(
            "INSERT INTO schedules (uuid, key, name, time_zone, source, imported_at, "
            "longest_shift_s, has_permanent, covered_until) "
            "VALUES (?, ?, ?, 'UTC', 'bench', ?, 43200, 0, ?)",
            (uuid.uuid4().hex, key, f"Schedule {s}", stamp, format_utc(until)),
        )
        rows = []
        at, turn = start, 0
        while at < until:
            if not (s % 10 == 3 and turn == 9):  # a hole
                who = f"Person {(s * 3 + turn) % 50}"
                rows.append(
                    (cursor.lastrowid, format_utc(at), format_utc(at + timedelta(hours=12)),
                     who, who.lower())
                )  # fmt: skip
            at, turn = at + timedelta(hours=12), turn + 1
        connection.executemany(
            "INSERT INTO shifts (schedule_id, start_at, end_at, person_name, person_key, "
            "layer, priority, override) VALUES (?, ?, ?, ?, ?, '', 0, 0)",
            rows,
        )
    return keys


def _policies(
    connection: sqlite3.Connection, names: list[str], schedules: list[str], stamp: str
) -> None:
    for p in range(len(names) // 8):
        cursor = connection.execute(
            "INSERT INTO escalation_policies (uuid, key, name, repeat, source, imported_at) "
            "VALUES (?, ?, ?, 0, 'bench', ?)",
            (uuid.uuid4().hex, f"bench:policy-{p}", f"Policy {p}", stamp),
        )
        policy_id = cursor.lastrowid
        for level in range(1 if p % 9 == 0 else 2):
            level_id = connection.execute(
                "INSERT INTO escalation_levels (policy_id, level, delay_minutes) VALUES (?, ?, 15)",
                (policy_id, level + 1),
            ).lastrowid
            kind, ref = (
                ("person", f"p{p % 50}@example.com")
                if p % 9 == 4
                else ("schedule", schedules[(p + level) % len(schedules)])
            )
            connection.execute(
                "INSERT INTO escalation_targets (level_id, position, kind, ref, name) "
                "VALUES (?, 0, ?, ?, ?)",
                (level_id, kind, ref, ref),
            )
        # six in seven services have a policy
        connection.executemany(
            "INSERT INTO service_policies (service_name, policy_id) VALUES (?, ?)",
            [(name, policy_id) for name in names[p * 8 : p * 8 + 7]],
        )


def _incidents(connection: sqlite3.Connection, names: list[str], stamp: str, today: date) -> None:
    for i in range(200):
        severity = ("SEV1", "SEV2", "SEV3", "SEV4")[i % 4]
        cursor = connection.execute(
            "INSERT INTO incidents (uuid, title, severity, status, declared_at, declared_by, "
            "updated_at, last_seq, summary) VALUES (?, ?, ?, ?, ?, 'bench', ?, 3, '')",
            (uuid.uuid4().hex, f"Incident {i}", severity,
             "closed" if i % 3 else "resolved", stamp, stamp),
        )  # fmt: skip
        incident_id = cursor.lastrowid
        connection.executemany(
            "INSERT INTO timeline_entries (uuid, incident_id, seq, kind, occurred_at, "
            "recorded_at, author, text, data, source) VALUES (?, ?, ?, 'note', ?, ?, 'bench', "
            "?, '{}', 'local')",
            [
                (uuid.uuid4().hex, incident_id, seq, stamp, stamp, text)
                for seq, text in enumerate(
                    (f"Alert Svc{i * 3}Down fired", "Rolled back", f"alert: Bench{i}Saturated"),
                    start=1,
                )
            ],
        )
        if i % 2:
            connection.execute(
                "INSERT INTO postmortems (uuid, incident_id, markdown, drafted_at, updated_at, "
                "updated_by) VALUES (?, ?, '# Postmortem', ?, ?, 'bench')",
                (uuid.uuid4().hex, incident_id, stamp, stamp),
            )
        for a in range(3 if i % 4 == 1 else 0):
            connection.execute(
                "INSERT INTO action_items (uuid, incident_id, title, owner, due_on, priority, "
                "kind, status, created_at, created_by) "
                "VALUES (?, ?, ?, 'Person 1', ?, 'P2', 'prevent', ?, ?, 'bench')",
                (uuid.uuid4().hex, incident_id, f"Action {i}.{a}",
                 (today + timedelta(days=a * 20 - 25)).isoformat(),
                 "done" if a == 2 else "open", stamp),
            )  # fmt: skip
