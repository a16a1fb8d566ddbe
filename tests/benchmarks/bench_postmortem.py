"""Postmortem benchmark: drafting from an incident with 10,000 timeline entries."""

from __future__ import annotations

import sqlite3
from typing import Any

from console.comms.postmortem import Postmortems
from console.ops.workspace import Workspace
from console.paths import database_path
from tests.benchmarks.fixtures import (
    BENCH_ACTOR,
    BenchResult,
    Target,
    build_large_incident,
    log,
    median,
    quick_mode,
    summary,
    temp_folder,
    time_ms,
)


def postmortem_draft_10k() -> BenchResult:
    """Postmortems.draft (timeline read, response times, pinned/folded timeline, template)
    vs reading the same entries with one raw sqlite3 SELECT."""
    quick = quick_mode()
    n = 500 if quick else 10_000
    repeats = 3 if quick else 9
    with temp_folder() as folder:
        large = build_large_incident(folder, n, title="Benchmark: postmortem")
        path = database_path(folder)
        _mix_kinds(path, large.incident_id)
        workspace = Workspace.open(folder, actor=BENCH_ACTOR)
        try:
            postmortems = Postmortems(workspace.db, actor=BENCH_ACTOR, folder=folder)
            draft = postmortems.draft(large.incident_id)  # warm: template read, imports
            log.info("postmortem_draft_10k: %d entries, draft %d chars", n, len(draft))
            app: list[float] = []
            floor: list[float] = []
            for i in range(repeats):  # interleaved: both see the same machine load
                if i % 2:
                    app.append(time_ms(lambda: postmortems.draft(large.incident_id)))
                    floor.append(_raw_select_ms(path, large.incident_id))
                else:
                    floor.append(_raw_select_ms(path, large.incident_id))
                    app.append(time_ms(lambda: postmortems.draft(large.incident_id)))
        finally:
            workspace.close()
    detail: dict[str, Any] = {
        "entries": n,
        "draft_ms": summary(app),
        "floor_select_ms": summary(floor),
        "draft_chars": len(draft),
        "timeline_rows": draft.count("\n| "),
    }
    return BenchResult(
        name="postmortem_draft_10k",
        value=median(app),
        unit="ms",
        floor=median(floor),
        target=Target("value", 500.0),
        samples=len(app),
        detail=detail,
    )


def _mix_kinds(path: Any, incident_id: int) -> None:
    """Make the timeline look like an incident's: every 25th entry a runbook step,
    every 100th a status update, the rest notes (folded in runs of 24)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(
            "UPDATE timeline_entries SET kind = CASE WHEN seq % 100 = 0 THEN 'status_update' "
            "ELSE 'runbook_step' END, data = '{\"template\": \"status-investigating\"}' "
            "WHERE incident_id = ? AND seq > 1 AND seq % 25 = 0",
            (incident_id,),
        )
    finally:
        connection.close()


def _raw_select_ms(path: Any, incident_id: int) -> float:
    connection = sqlite3.connect(path)
    try:

        def read() -> None:
            connection.execute(
                "SELECT id, uuid, incident_id, seq, kind, occurred_at, recorded_at, author, "
                "text, data, supersedes, source FROM timeline_entries WHERE incident_id = ? "
                "ORDER BY seq",
                (incident_id,),
            ).fetchall()

        return time_ms(read)
    finally:
        connection.close()
