"""Time is passed in, never read from a global, so tests run on a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes at the boundary instead of guessing their zone."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC is stored)")
    return value.astimezone(UTC)


class ManualClock:
    """A clock that stays where it is put: replaying scripted events (the demo)
    and tests (no sleeps, no real time)."""

    def __init__(self, start: datetime) -> None:
        self.now = ensure_utc(start)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
