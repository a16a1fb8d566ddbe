"""``sync_panel_read_10k``: the Sync tab's read (``sync_status``: accounts, counts,
waiting operations per incident, failed and superseded with titles) with 10,000
operations waiting across 200 incidents and 50 failed. Floor: the status bar's
read (``Outbox.counts``, one GROUP BY state over the same index) in the same run.
The tab reads after every pass and every outbox change, on the reader lane, so
it never blocks the window; target: under 50 ms, so the tab is current within a
few frames of a pass even with a long outage's backlog. The per-incident grouping
reads only the ``(state, incident_id, id)`` index and fetches the 50 listed heads.

Incidents are declared through the writer path; their queued notes are
bulk-inserted with ``executemany`` in the storage format (as the timeline
fixture does), so building 10,000 rows does not take 10,000 fsyncs.
"""

from __future__ import annotations

import sqlite3
import statistics
import uuid
from datetime import UTC, datetime

from console.domain.incident import Severity
from console.ops.outbox import Outbox
from console.ops.workspace import Workspace
from console.paths import database_path
from console.sync import Tokens, sync_status
from tests.benchmarks.fixtures import (
    BENCH_ACTOR,
    BenchResult,
    Target,
    format_ts,
    log,
    quick_mode,
    temp_folder,
    time_ms,
)
from tests.emulators.keyrings import MemoryKeyring

OPERATIONS_FULL, OPERATIONS_QUICK = 10_000, 600
INCIDENTS_FULL, INCIDENTS_QUICK = 200, 20
FAILED = 50
SAMPLES = 15


def sync_panel_read_10k() -> BenchResult:
    operations = OPERATIONS_QUICK if quick_mode() else OPERATIONS_FULL
    incidents = INCIDENTS_QUICK if quick_mode() else INCIDENTS_FULL
    with temp_folder() as folder:
        data = folder / "data"
        workspace = Workspace.open(data, actor=BENCH_ACTOR, templates=[])
        try:
            ids = []
            for number in range(incidents):
                outcome = workspace.incidents.declare(f"Outage {number}", Severity.SEV2)
                assert outcome.incident is not None
                ids.append(outcome.incident.id)
            _queue(database_path(data), ids, operations)
            db, tokens = workspace.db, Tokens(MemoryKeyring(), environ={})
            outbox = Outbox(db)
            status = sync_status(db, tokens)  # warm the page cache for both
            counts = outbox.counts()
            log.info("sync_panel_read_10k: %s", counts)
            reads = [time_ms(lambda: sync_status(db, tokens)) for _ in range(SAMPLES)]
            floors = [time_ms(outbox.counts) for _ in range(SAMPLES)]
        finally:
            workspace.close()
    return BenchResult(
        name="sync_panel_read_10k",
        value=statistics.median(reads),
        unit="ms",
        floor=statistics.median(floors),
        target=Target("value", 50.0),
        samples=SAMPLES,
        detail={
            "operations": operations,
            "incidents": incidents,
            "waiting": counts.get("pending", 0),
            "failed": counts.get("failed", 0),
            "listed_queued": len(status["queued"]),
            "listed_failed": len(status["failed"]),
            "read_max_ms": round(max(reads), 2),
        },
    )


def _queue(path: object, incident_ids: list[int], operations: int) -> None:
    """``operations`` notes waiting, spread over the incidents; the first FAILED failed."""
    now = format_ts(datetime.now(UTC))
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO outbox (uuid, incident_id, entry_uuid, operation, payload, state, "
            "attempts, created_at, updated_at, next_attempt_at, last_error, remote_id) "
            "VALUES (?, ?, NULL, 'incident.note', ?, ?, ?, ?, ?, NULL, ?, NULL)",
            (
                (
                    uuid.uuid4().hex,
                    incident_ids[number % len(incident_ids)],
                    f'{{"text": "queued note {number}"}}',
                    "failed" if number < FAILED else "pending",
                    1 if number < FAILED else 0,
                    now,
                    now,
                    "HTTP 400: Invalid Input Provided" if number < FAILED else None,
                )
                for number in range(operations)
            ),
        )
        connection.execute("COMMIT")
    finally:
        connection.close()
