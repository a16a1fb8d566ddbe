"""Helpers shared by the core unit tests (no Qt, no real clock)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """An injected clock: returns the same instant until a test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


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
