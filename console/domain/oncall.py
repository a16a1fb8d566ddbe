"""People, reach methods, shifts and on-call answers as values, and the rules that decide
who is on call: overrides win over layers, the higher layer wins over the lower, and
the time nobody covers is a gap.

Pure: parsing files lives in :mod:`console.importers`, reading the cache in
:mod:`console.oncall`. Every time here is an aware UTC datetime.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.domain.errors import InvalidInputError


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=_Ordered)

#: fewer days of future shifts than this and an answer warns that the cache runs out
HORIZON_WARNING = timedelta(days=3)
#: a vendor "always on call" (no start or no end) is stored between these instants
FOREVER_START = datetime(1970, 1, 1, tzinfo=UTC)
FOREVER_END = datetime(9999, 12, 31, tzinfo=UTC)


class ReachKind(enum.StrEnum):
    MOBILE = "mobile"
    OFFICE = "office"
    HOME = "home"
    BACKUP = "backup"
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    CHAT = "chat"

    @property
    def label(self) -> str:
        return _REACH_LABELS[self]

    @property
    def is_phone(self) -> bool:
        return self not in (ReachKind.EMAIL, ReachKind.CHAT)


_REACH_LABELS = {
    ReachKind.MOBILE: "Mobile",
    ReachKind.OFFICE: "Office",
    ReachKind.HOME: "Home",
    ReachKind.BACKUP: "Backup",
    ReachKind.PHONE: "Phone",
    ReachKind.SMS: "SMS",
    ReachKind.EMAIL: "E-mail",
    ReachKind.CHAT: "Chat",
}

#: the order a person under stress wants them: call first, then text, then the rest
REACH_ORDER = (
    ReachKind.MOBILE,
    ReachKind.PHONE,
    ReachKind.SMS,
    ReachKind.OFFICE,
    ReachKind.BACKUP,
    ReachKind.HOME,
    ReachKind.CHAT,
    ReachKind.EMAIL,
)


class ReachMethod(NamedTuple):
    """One way to reach someone. ``value`` is as written; ``e164`` the normalised number
    (phones only, when it parsed); ``problem`` says why a number is flagged.

    A named tuple rather than a frozen dataclass: an on-call answer builds hundreds of
    these, and a tuple is made in a fifth of the time (measured by ``oncall_lookup``)."""

    kind: ReachKind
    value: str
    e164: str | None = None
    label: str = ""
    problem: str | None = None
    #: the number grouped for reading (``+44 20 7946 0123``), when it parsed
    formatted: str | None = None

    @property
    def display(self) -> str:
        """What to show: the grouped international number, else the value as written."""
        return self.formatted or self.e164 or self.value

    @property
    def copy_text(self) -> str:
        """What to copy: E.164 (any phone or dialler takes it), else the value as written."""
        return self.e164 or self.value

    @property
    def url(self) -> str | None:
        """``tel:``/``sms:``/``mailto:`` for a one-click action, None when there is none."""
        if self.kind is ReachKind.EMAIL:
            return f"mailto:{self.value}"
        if not self.kind.is_phone:
            return None
        number = self.e164 or _dialable(self.value)
        if not number:
            return None
        return f"{'sms' if self.kind is ReachKind.SMS else 'tel'}:{number}"


def _dialable(value: str) -> str:
    kept = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    return kept if sum(ch.isdigit() for ch in kept) >= 3 else ""


@dataclass(frozen=True)
class Contact:
    id: int
    name: str
    email: str | None
    teams: tuple[str, ...]
    reach: tuple[ReachMethod, ...]
    source: str


def name_key(name: str) -> str:
    """How names are compared: white space collapsed, casefolded."""
    return " ".join(name.split()).casefold()


# --------------------------------------------------------------------- shifts


@dataclass(frozen=True)
class Shift:
    """Someone on call in one schedule over ``[start, end)``."""

    start: datetime
    end: datetime
    person: str
    email: str | None = None
    ref: str | None = None
    layer: str = ""
    priority: int = 0
    override: bool = False

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


def on_duty(shifts: Iterable[Shift], at: datetime) -> list[Shift]:
    """The shifts that decide who is on call at ``at`` in one schedule.

    Overrides win over layers; among layers the highest ``priority`` wins. Several
    shifts of the winning precedence (two people on the same layer) are all on call.
    """
    covering = [s for s in shifts if s.covers(at)]
    if not covering:
        return []
    best = max((s.override, s.priority) for s in covering)
    winners = [s for s in covering if (s.override, s.priority) == best]
    return sorted(winners, key=lambda s: (s.start, s.person))


def rotation(
    people: Sequence[str],
    *,
    zone: tzinfo,
    handoff: time,
    every: timedelta,
    start: datetime,
    end: datetime,
    length: timedelta | None = None,
    layer: str = "",
    priority: int = 0,
    emails: Sequence[str | None] = (),
) -> list[Shift]:
    """A rotation as concrete shifts over ``[start, end)``: ``people`` in turn, handing
    over at ``handoff`` local time in ``zone``. Whole-day steps follow the wall clock
    (a 09:00 hand-over stays at 09:00 across daylight-saving changes, so that shift is
    23 or 25 hours long); other steps are fixed lengths. ``length`` shorter than the
    step leaves gaps (business hours)."""
    if not people:
        return []
    if every <= timedelta(0):
        raise ValueError("a rotation step must be positive")
    whole_days = every % timedelta(days=1) == timedelta(0)
    local = start.astimezone(zone)
    first = datetime.combine(local.date(), handoff, tzinfo=zone)
    while first.astimezone(UTC) > start:
        first -= timedelta(days=1)

    def handover(step: int) -> datetime:
        if whole_days:
            day = first.date() + step * timedelta(days=every.days)
            return datetime.combine(day, handoff, tzinfo=zone).astimezone(UTC)
        return first.astimezone(UTC) + step * every

    shifts: list[Shift] = []
    step = 0
    while (begin := handover(step)) < end:
        finish = min(handover(step + 1), end)
        if length is not None:
            finish = min(finish, begin + length)
        who = step % len(people)
        email = emails[who] if who < len(emails) else None
        shifts.append(
            Shift(begin, finish, people[who], email=email, layer=layer, priority=priority)
        )
        step += 1
    return shifts


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def coverage_gaps(
    intervals: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[Gap]:
    """The parts of ``[start, end)`` that no interval covers, in order."""
    return [Gap(a, b) for a, b in uncovered(sorted(intervals), start, end)]


def uncovered(intervals: Iterable[tuple[T, T]], start: T, end: T) -> list[tuple[T, T]]:
    """:func:`coverage_gaps` over any ordered values: ``intervals`` sorted by start.

    The lookup runs it on the stored ISO-8601 text itself (which sorts as the
    instants do) and parses only the gaps it finds."""
    gaps: list[tuple[T, T]] = []
    cursor = start
    for first, last in intervals:
        if last <= cursor:
            continue
        if first >= end:
            break
        if first > cursor:
            gaps.append((cursor, first))
        cursor = max(cursor, last)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


# -------------------------------------------------------------------- answers


class TargetKind(enum.StrEnum):
    PERSON = "person"
    SCHEDULE = "schedule"
    TEAM = "team"


class OnCallPerson(NamedTuple):
    """Someone on call (or named by a level), with what the contacts know about them.

    A named tuple for the same reason as :class:`ReachMethod`: one per schedule in every
    answer."""

    name: str
    email: str | None
    reach: tuple[ReachMethod, ...] = ()
    #: the contact this was matched to (by vendor id, e-mail, then name); None: unknown
    contact_id: int | None = None
    shift_start: datetime | None = None
    shift_end: datetime | None = None
    override: bool = False
    layer: str = ""


@dataclass(frozen=True)
class ScheduleStatus:
    """Who is on call in one schedule at the answer's moment, and how far the cache reaches."""

    key: str
    name: str
    time_zone: str | None
    on_call: tuple[OnCallPerson, ...]
    #: the last cached shift's end (None: no shift cached at all)
    covered_until: datetime | None
    gaps: tuple[Gap, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetStatus:
    kind: TargetKind
    name: str
    ref: str
    people: tuple[OnCallPerson, ...]
    schedule: ScheduleStatus | None = None
    #: why nobody can be named (unknown schedule, nobody on call, empty team)
    problem: str | None = None


@dataclass(frozen=True)
class LevelStatus:
    level: int
    #: minutes to wait at this level before the next one is paged
    delay_minutes: int
    #: minutes since the first page when this level is paged
    starts_after_minutes: int
    targets: tuple[TargetStatus, ...]


@dataclass(frozen=True)
class OnCallAnswer:
    at: datetime
    service: str | None
    policy: str | None
    levels: tuple[LevelStatus, ...]
    schedules: tuple[ScheduleStatus, ...]
    people_cached_at: datetime | None
    people_source: str | None
    schedules_cached_at: datetime | None
    schedules_source: str | None
    warnings: tuple[str, ...] = field(default=())


def level_offsets(delays: Sequence[int]) -> list[int]:
    """Minutes after the first page when each level is paged (level 1 at 0)."""
    offsets, total = [], 0
    for delay in delays:
        offsets.append(total)
        total += max(delay, 0)
    return offsets


def horizon_warning(covered_until: datetime | None, now: datetime) -> str | None:
    """A warning when fewer than :data:`HORIZON_WARNING` of future shifts are cached."""
    if covered_until is None:
        return "no shifts cached: import this schedule (responder-console import oncall)"
    left = covered_until - now
    if left >= HORIZON_WARNING:
        return None
    if left <= timedelta(0):
        return f"cached shifts ended {_span(-left)} ago: import a fresh schedule"
    return f"only {_span(left)} of future shifts cached: import a fresh schedule"


def _span(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return f"{max(int(delta.total_seconds() // 60), 0)} min"
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


# ----------------------------------------------------------------------- time


def zone(name: str) -> ZoneInfo:
    """An IANA zone by name. InvalidInputError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        ) from None


def parse_at(text: str, *, now: datetime, tz: tzinfo | None = None) -> datetime:
    """``now``, ISO-8601 with an offset, or a local time → aware UTC.

    A time without an offset is read in ``tz``, or in the machine's own zone (with
    its daylight-saving rules) when ``tz`` is None. A local time that does not exist
    (the clocks go forward over it) is refused; one that happens twice (the clocks
    go back) means its first occurrence.
    """
    cleaned = text.strip()
    if cleaned.lower() in ("", "now"):
        return now.astimezone(UTC)
    try:
        value = datetime.fromisoformat(cleaned.replace(" ", "T", 1))
    except ValueError:
        raise InvalidInputError(
            f"{text!r} is not a time: write e.g. 2026-11-28T02:00 (local), "
            "2026-11-28T02:00+01:00, or now"
        ) from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    if tz is None:
        utc = value.astimezone(UTC)  # naive → the C library's local rules, DST included
        back = utc.astimezone().replace(tzinfo=None)
    else:
        utc = value.replace(tzinfo=tz).astimezone(UTC)
        back = utc.astimezone(tz).replace(tzinfo=None)
    if back != value:
        where = f"in {tz}" if tz is not None else "here"
        raise InvalidInputError(
            f"{cleaned} does not exist {where} (the clocks go forward over it); "
            "give a time with an offset"
        )
    return utc


# --------------------------------------------------------------------- imports


@dataclass(frozen=True)
class Refusal:
    """Part of an import that was not taken: a file, or a row/card/event in it (``line``)."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.reason}"
            if self.line
            else f"{self.path}: {self.reason}"
        )
