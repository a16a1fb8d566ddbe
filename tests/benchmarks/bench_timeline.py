"""Timeline benchmarks: the durable write path and opening a 100k-entry incident."""

from __future__ import annotations

import gc
import importlib.util
import sqlite3
import tracemalloc
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.domain.incident import Severity
from console.ops.workspace import Workspace
from console.paths import database_path
from tests.benchmarks.fixtures import (
    BENCH_ACTOR,
    BenchResult,
    Target,
    build_large_incident,
    entry_text,
    format_ts,
    log,
    median,
    percentile,
    quick_mode,
    summary,
    temp_folder,
    time_ms,
)

# ------------------------------------------------------------ timeline_write_p99


class RawTimelineWriter:
    """The floor: one INSERT + COMMIT with plain ``sqlite3``, WAL and synchronous=FULL.

    The table is created from the app database's own DDL for
    ``timeline_entries`` (same columns, unique constraints and indexes), in a
    file beside the app's, and gets rows of the same size.
    """

    def __init__(self, path: Path, template_db: Path) -> None:
        source = sqlite3.connect(template_db)
        try:
            ddl = [
                sql
                for (sql,) in source.execute(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = 'timeline_entries' "
                    "AND sql IS NOT NULL ORDER BY type DESC"  # the table before its indexes
                )
            ]
        finally:
            source.close()
        self._connection = sqlite3.connect(path)
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA synchronous = FULL")
        for statement in ddl:
            self._connection.execute(statement)
        self._connection.commit()
        self._seq = 0

    def write(self, text: str) -> None:
        self._seq += 1
        now = format_ts(datetime.now(UTC))
        self._connection.execute(
            "INSERT INTO timeline_entries (uuid, incident_id, seq, kind, occurred_at, "
            "recorded_at, author, text, data, supersedes, source, remote_id) "
            "VALUES (?, 1, ?, 'note', ?, ?, ?, ?, '{}', NULL, 'local', NULL)",
            (uuid.uuid4().hex, self._seq, now, now, BENCH_ACTOR, text),
        )
        self._connection.commit()

    def close(self) -> None:
        self._connection.close()


def timeline_write_p99() -> BenchResult:
    """p99 of IncidentService.add_note vs p99 of a raw durable INSERT + COMMIT."""
    warmup, count = (5, 40) if quick_mode() else (50, 800)
    with temp_folder() as folder:
        workspace = Workspace.open(folder, actor=BENCH_ACTOR)
        floor_writer = RawTimelineWriter(folder / "floor.db", database_path(folder))
        try:
            declared = workspace.incidents.declare("Write benchmark", Severity.SEV3)
            assert declared.incident is not None
            incident_id = declared.incident.id
            service = workspace.incidents

            def app_write(text: str) -> float:
                return time_ms(lambda: service.add_note(incident_id, text))

            def floor_write(text: str) -> float:
                return time_ms(lambda: floor_writer.write(text))

            for i in range(warmup):
                app_write(entry_text(i))
                floor_write(entry_text(i))
            gc.collect()
            app: list[float] = []
            raw: list[float] = []
            log.info("timeline_write_p99: %d + %d durable writes", count, count)
            for i in range(count):
                text = entry_text(i)
                # Interleaved, alternating order: both see the same disk weather.
                if i % 2:
                    app.append(app_write(text))
                    raw.append(floor_write(text))
                else:
                    raw.append(floor_write(text))
                    app.append(app_write(text))
            entries = workspace.queries.timeline_count(incident_id)
        finally:
            floor_writer.close()
            workspace.close()
    return BenchResult(
        name="timeline_write_p99",
        value=percentile(app, 99),
        unit="ms",
        floor=percentile(raw, 99),
        target=Target("ratio", 2.0),
        samples=count,
        detail={
            "p50": round(percentile(app, 50), 4),
            "floor_p50": round(percentile(raw, 50), 4),
            "ratio_p50": round(percentile(app, 50) / percentile(raw, 50), 4),
            "app_ms": summary(app),
            "floor_ms": summary(raw),
            "warmup": warmup,
            "entries_written": entries,
            "sqlite": sqlite3.sqlite_version,
            "what": "IncidentService.add_note (UPDATE incidents RETURNING, INSERT entry, "
            "INSERT outbox, BEGIN IMMEDIATE..COMMIT) vs sqlite3 INSERT+COMMIT, "
            "WAL + synchronous=FULL, same folder",
        },
    )


# ------------------------------------------------------------ timeline_open_100k

PAGE_ROWS = 200
FLOOR_SQL = (
    "SELECT id, uuid, incident_id, seq, kind, occurred_at, recorded_at, author, text, data, "
    "supersedes, source, remote_id FROM timeline_entries "
    "WHERE incident_id = ? AND seq BETWEEN ? AND ? ORDER BY seq"
)


@dataclass
class OpenMeasurement:
    """Open times (first one cold), the page size used, and memory evidence."""

    samples: list[float]
    page_rows: int
    detail: dict[str, Any] = field(default_factory=dict)


def timeline_model_available() -> bool:
    try:
        return importlib.util.find_spec("ui.models.timeline") is not None
    except ModuleNotFoundError:  # ui.models itself is missing
        return False


def _raw_page_ms(path: Path, incident_id: int, rows: int, repeats: int) -> list[float]:
    connection = sqlite3.connect(path)
    try:
        connection.execute(FLOOR_SQL, (incident_id, 1, rows)).fetchall()  # warm
        samples = [
            time_ms(lambda: connection.execute(FLOOR_SQL, (incident_id, 1, rows)).fetchall())
            for _ in range(repeats)
        ]
    finally:
        connection.close()
    return samples


def timeline_open_100k() -> BenchResult:
    """Open a 100k-entry incident until its first page is shown (UI model when present)."""
    quick = quick_mode()
    n = 1_000 if quick else 100_000
    repeats = 3 if quick else 9
    with temp_folder() as folder:
        log.info("timeline_open_100k: building an incident with %d entries", n)
        large = build_large_incident(folder, n)
        workspace = Workspace.open(folder, actor=BENCH_ACTOR)
        try:
            other = workspace.incidents.declare("Small incident", Severity.SEV4)
            assert other.incident is not None
            if timeline_model_available():
                from tests.benchmarks.ui_timeline import measure_ui_open

                measured = measure_ui_open(workspace, large.incident_id, other.incident.id, repeats)
                mode = "ui"
            else:
                measured = _measure_core_open(workspace, large.incident_id, repeats)
                mode = "core"
            floor = _raw_page_ms(
                database_path(folder), large.incident_id, measured.page_rows, repeats
            )
        finally:
            workspace.close()
    detail: dict[str, Any] = {
        "mode": mode,
        "entries": n,
        "first_open_ms": round(measured.samples[0], 4),
        "open_ms": summary(measured.samples),
        "floor_sql_ms": summary(floor),
        "page_rows": measured.page_rows,
        **measured.detail,
    }
    if mode == "core":
        detail["note"] = (
            "ui/models/timeline.py does not exist yet: value is the core part only "
            "(Queries.timeline_count + timeline_page(1, 200)), not the UI open"
        )
    return BenchResult(
        name="timeline_open_100k",
        value=median(measured.samples),
        unit="ms",
        floor=median(floor),
        target=Target("value", 100.0),
        samples=len(measured.samples),
        detail=detail,
    )


def _measure_core_open(workspace: Workspace, incident_id: int, repeats: int) -> OpenMeasurement:
    queries = workspace.queries

    def open_first_page() -> None:
        count = queries.timeline_count(incident_id)
        queries.timeline_page(incident_id, 1, min(count, PAGE_ROWS))

    samples = [time_ms(open_first_page) for _ in range(repeats)]
    tracemalloc.start()
    try:
        count = queries.timeline_count(incident_id)
        queries.timeline_page(incident_id, 1, min(count, PAGE_ROWS))
        queries.timeline_page(incident_id, max(1, count - PAGE_ROWS + 1), count)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return OpenMeasurement(
        samples,
        PAGE_ROWS,
        {
            "tracemalloc_peak_kib": round(peak / 1024, 1),
            "rows_fetched_total": 2 * min(count, PAGE_ROWS),
            "memory_note": "first and last page only, through Queries",
        },
    )
