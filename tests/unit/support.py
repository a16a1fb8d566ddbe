"""Helpers shared by the core unit tests (no Qt, no real clock)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.domain.clock import ManualClock

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class FakeClock(ManualClock):
    """An injected clock starting at START unless told otherwise."""

    def __init__(self, start: datetime = START) -> None:
        super().__init__(start)


def raw_rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read straight from the file with plain sqlite3, bypassing the ORM."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.execute(sql, params))
    finally:
        connection.close()


def raw_scalar(path: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    rows = raw_rows(path, sql, params)
    assert len(rows) == 1, rows
    return rows[0][0]


#: The stable JSON shape of a timeline entry (README, "JSON shapes").
ENTRY_KEYS = frozenset(
    {
        "uuid",
        "seq",
        "kind",
        "occurred_at",
        "recorded_at",
        "author",
        "text",
        "data",
        "supersedes",
        "superseded_by",
        "source",
    }
)

#: The stable JSON shape of an incident (README, "JSON shapes").
INCIDENT_KEYS = frozenset(
    {
        "id",
        "uuid",
        "title",
        "severity",
        "status",
        "declared_at",
        "updated_at",
        "resolved_at",
        "entries",
        "roles",
        "services",
    }
)
