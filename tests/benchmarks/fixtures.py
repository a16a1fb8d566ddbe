"""Shared benchmark helpers: results, timing, statistics and fixture builders.

Everything here is Qt-free so the core benchmarks (and later benchmarks that
reuse :func:`build_large_incident`) never pay for importing PySide6.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.domain.incident import EntryKind, Severity
from console.ops.workspace import Workspace
from console.paths import database_path
from console.storage.models import TIMESTAMP_FORMAT

log = logging.getLogger("tests.benchmarks")

#: RESPONDER_CONSOLE_BENCH_QUICK=1 shrinks every benchmark (smoke test, CI).
QUICK_ENV = "RESPONDER_CONSOLE_BENCH_QUICK"
BENCH_ACTOR = "bench"


def quick_mode() -> bool:
    return os.environ.get(QUICK_ENV, "").strip() not in ("", "0")


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Target:
    """What "good enough" means: ``metric`` (``"ratio"`` or ``"value"``) must be ≤ ``max``."""

    metric: str
    max: float

    def met_by(self, value: float | None, ratio: float | None) -> bool:
        measured = ratio if self.metric == "ratio" else value
        return measured is not None and measured <= self.max

    def as_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "max": self.max}


@dataclass(frozen=True)
class BenchResult:
    """One JSON line: name, value, unit, floor, ratio (+ target, samples, detail)."""

    name: str
    value: float | None
    unit: str
    floor: float | None
    target: Target | None = None
    samples: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.floor is None or self.floor <= 0:
            return None
        return self.value / self.floor

    def as_json(self) -> dict[str, Any]:
        ratio = self.ratio
        line: dict[str, Any] = {
            "name": self.name,
            "value": _round(self.value),
            "unit": self.unit,
            "floor": _round(self.floor),
            "ratio": _round(ratio),
        }
        if self.target is not None:
            line["target"] = self.target.as_json()
            line["meets_target"] = self.target.met_by(self.value, ratio)
        if self.samples is not None:
            line["samples"] = self.samples
        if self.detail:
            line["detail"] = self.detail
        return line


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------ timing, stats


def now_ms() -> float:
    """A monotonic clock in milliseconds (perf_counter)."""
    return time.perf_counter_ns() / 1e6


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed: ...`` then ``elapsed[0]`` is the time in ms."""
    elapsed: list[float] = []
    start = time.perf_counter_ns()
    try:
        yield elapsed
    finally:
        elapsed.append((time.perf_counter_ns() - start) / 1e6)


def time_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e6


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear interpolation between ranks (numpy's default)."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0..100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: Sequence[float]) -> float:
    return percentile(samples, 50)


def summary(samples: Sequence[float]) -> dict[str, float]:
    """min / p50 / p90 / p99 / max of ``samples``, rounded for the JSON detail."""
    return {
        "min": round(min(samples), 4),
        "p50": round(percentile(samples, 50), 4),
        "p90": round(percentile(samples, 90), 4),
        "p99": round(percentile(samples, 99), 4),
        "max": round(max(samples), 4),
    }


# -------------------------------------------------------------- temp folders


@contextlib.contextmanager
def temp_folder(prefix: str = "rc-bench-") -> Iterator[Path]:
    """A private temp folder, removed afterwards (set RESPONDER_CONSOLE_BENCH_KEEP=1 to keep)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        if os.environ.get("RESPONDER_CONSOLE_BENCH_KEEP"):
            log.info("kept %s", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------- fixture builders


@dataclass(frozen=True)
class LargeIncident:
    folder: Path
    incident_id: int
    entries: int


def entry_text(seq: int) -> str:
    """A realistic note of 80-200 characters (deterministic per seq)."""
    base = (
        f"#{seq}: checked payments-gateway p99 latency and error budget; "
        "PSP status page green, retry storm from checkout-api suspected"
    )
    return base + " ." * (seq % 30)


def format_ts(value: datetime) -> str:
    """Exactly what ``UTCDateTime`` stores: fixed-width ISO-8601 UTC text."""
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def build_large_incident(
    folder: Path,
    n: int,
    *,
    title: str = "Benchmark: 100k-entry incident",
    declared_ago: timedelta = timedelta(minutes=30),
    batch: int = 20_000,
) -> LargeIncident:
    """Add an ACTIVE incident with ``n`` timeline entries (seq 1..n) to the workspace in ``folder``.

    The folder may be empty (the database is created and migrated) or hold a
    workspace already (e.g. the demo one). The incident is declared through
    :class:`~console.ops.incidents.IncidentService` (so it has its declared
    entry as seq 1, its outbox row and checklist exactly as the app writes
    them), then entries 2..n are bulk-inserted with raw ``sqlite3``
    ``executemany`` in the storage format SQLAlchemy uses (UUIDs as 32 hex
    characters, timestamps as ``TIMESTAMP_FORMAT`` text, ``data`` as JSON),
    and ``last_seq`` is set to ``n``. With the default ``declared_ago`` (30
    minutes) it is the most recently declared incident of the demo workspace.
    """
    if n < 1:
        raise ValueError("an incident has at least its declared entry")
    declared_at = datetime.now(UTC) - declared_ago
    workspace = Workspace.open(folder, actor=BENCH_ACTOR)
    try:
        outcome = workspace.incidents.declare(title, Severity.SEV2, declared_at=declared_at)
        assert outcome.incident is not None
        incident_id = outcome.incident.id
    finally:
        workspace.close()
    # Spread the entries evenly between the declaration and now: all in the past.
    step = declared_ago / max(n, 1)
    recorded = format_ts(declared_at)
    connection = sqlite3.connect(database_path(folder), isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # a fixture, not the app
        connection.execute("BEGIN IMMEDIATE")
        sql = (
            "INSERT INTO timeline_entries (uuid, incident_id, seq, kind, occurred_at, "
            "recorded_at, author, text, data, supersedes, source, remote_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', NULL, 'local', NULL)"
        )
        note = EntryKind.NOTE.value
        for start in range(2, n + 1, batch):
            stop = min(start + batch, n + 1)
            connection.executemany(
                sql,
                (
                    (
                        uuid.uuid4().hex,
                        incident_id,
                        seq,
                        note,
                        format_ts(declared_at + step * seq),
                        recorded,
                        BENCH_ACTOR,
                        entry_text(seq),
                    )
                    for seq in range(start, stop)
                ),
            )
        connection.execute("UPDATE incidents SET last_seq = ? WHERE id = ?", (n, incident_id))
        connection.execute("COMMIT")
        # No ANALYZE: the app never runs it, so the planner must do without statistics.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    log.info("built incident %d with %d entries in %s", incident_id, n, folder)
    return LargeIncident(folder=folder, incident_id=incident_id, entries=n)


def build_demo_with_large_incident(folder: Path, n: int) -> LargeIncident:
    """The demo workspace plus an ``n``-entry incident, the most recently declared active one."""
    from console.demo import ensure_demo

    workspace = Workspace.open(folder, actor=BENCH_ACTOR)
    try:
        ensure_demo(workspace)
    finally:
        workspace.close()
    large = build_large_incident(folder, n)
    workspace = Workspace.open(folder, actor=BENCH_ACTOR)
    try:
        newest = workspace.queries.incidents(active_only=True)[0]
    finally:
        workspace.close()
    if newest.id != large.incident_id:
        raise RuntimeError(
            f"incident {newest.id}, not the large one ({large.incident_id}), is the most "
            "recently declared active incident: the window would not show it"
        )
    return large
