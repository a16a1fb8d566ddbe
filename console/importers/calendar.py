"""On-call calendars (iCalendar, RFC 5545) → one schedule of concrete shifts.

Each VEVENT is a shift: whose it is comes from its first ATTENDEE (``CN`` and
``mailto:``), else its SUMMARY (``On call: Priya Raman`` → ``Priya Raman``).
Recurring events (RRULE, RDATE, EXDATE, moved instances with RECURRENCE-ID) are
expanded by ``recurring-ical-events`` over a window from a week ago to
``weeks`` ahead; times with a TZID are read through zoneinfo (daylight saving
included), floating times in the calendar's ``X-WR-TIMEZONE`` or, failing
that, the importing machine's zone (with a note). An event that cannot be
used — no DTSTART, a TZID nobody knows, a broken RRULE — is refused with its
line; the rest of the calendar imports.

Optional properties a team can set: ``CATEGORIES:override`` (or
``X-RESPONDER-OVERRIDE:TRUE``) marks an override; ``X-RESPONDER-LAYER`` and
``X-RESPONDER-PRIORITY`` name a layer and its rank (higher wins).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import recurring_ical_events
from icalendar import Calendar, Component

from console.domain.oncall import Refusal, Shift
from console.importers.reach import valid_email
from console.importers.schedules import ParsedFile, ScheduleDraft

#: how far back a calendar is expanded (answers about last night still work)
PAST = timedelta(days=7)
DEFAULT_WEEKS = 4
_PREFIX = re.compile(r"^\s*(on[\s-]?call|primary|secondary|override)\s*[:\-–—]\s*", re.IGNORECASE)
_TRUE = ("true", "yes", "1")


def parse_calendar(
    text: str,
    path: str,
    *,
    now: datetime,
    weeks: int = DEFAULT_WEEKS,
    local: tzinfo | None = None,
) -> ParsedFile:
    """The calendar's shifts in ``[now - PAST, now + weeks)``. ValueError if unreadable."""
    parsed = ParsedFile(kind="icalendar")
    try:
        calendar = Calendar.from_ical(text)
    except ValueError as error:
        raise ValueError(f"not a readable iCalendar file: {_first_line(error)}") from None
    name = _str(calendar.get("X-WR-CALNAME")) or Path(path).stem
    zone_name = _str(calendar.get("X-WR-TIMEZONE")) or None
    floating: tzinfo | None = local
    if zone_name:
        try:
            floating = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            parsed.refused.append(Refusal(path, f"X-WR-TIMEZONE {zone_name!r} is not a known zone"))
            zone_name = None
    draft = ScheduleDraft(key=f"ical:{name}", name=name, time_zone=zone_name)
    start, end = now - PAST, now + timedelta(weeks=weeks)
    draft.window = (start, end)
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "BEGIN:VEVENT"]
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    series: dict[str, list[tuple[int | None, Component]]] = defaultdict(list)
    for index, event in enumerate(events):
        line = lines[index] if index < len(lines) else None
        problem = _problem(event)
        if problem is not None:
            parsed.refused.append(Refusal(path, f"{problem}{_which(event)}", line))
            continue
        uid = _str(event.get("UID")) or f"#{index}"
        series[uid].append((line, event))
    used_floating = False
    for members in series.values():
        line, first = members[0]
        single = Calendar()
        for component in (*timezones, *(event for _, event in members)):
            single.add_component(component)
        try:
            occurrences = list(recurring_ical_events.of(single).between(start, end))
        except Exception as error:  # a malformed RRULE/RDATE: the library raises many kinds
            reason = f"cannot expand its repetition ({_first_line(error)})"
            parsed.refused.append(Refusal(path, f"{reason}{_which(first)}", line))
            continue
        zero_length = backwards = 0
        for occurrence in occurrences:
            if _str(occurrence.get("STATUS")).upper() == "CANCELLED":
                continue
            begin, was_floating = _instant(_when(occurrence, "DTSTART"), floating)
            finish, _ = _instant(_end_of(occurrence), floating)
            used_floating = used_floating or was_floating
            if finish == begin:
                zero_length += 1
                continue
            if finish < begin:
                backwards += 1
                continue
            draft.shifts.append(_shift(occurrence, begin, finish))
        if zero_length:
            # no time on call: nothing to keep, nothing wrong with the rest of the file
            bounds = (
                "its end equals its start"
                if first.get("DTEND") is not None or first.get("DURATION") is not None
                else "no DTEND or DURATION, so it ends when it starts"
            )
            times = f" ({zero_length} occurrences)" if zero_length > 1 else ""
            parsed.notes.append(
                Refusal(path, f"shift of no length skipped: {bounds}{times}{_which(first)}", line)
            )
        if backwards:
            parsed.refused.append(
                Refusal(path, f"shift ends before it starts{_which(first)}", line)
            )
    if used_floating:
        where = zone_name or (str(local) if local is not None else "this machine's time zone")
        parsed.notes.append(
            Refusal(path, f"times without a time zone were read in {where} (set X-WR-TIMEZONE)")
        )
    parsed.refused.sort(key=lambda r: r.line or 0)
    parsed.schedules.append(draft)
    return parsed


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


def _which(event: Component) -> str:
    summary = _str(event.get("SUMMARY"))
    return f" (event {summary!r})" if summary else ""


def _problem(event: Component) -> str | None:
    """Why an event cannot be a shift, or None."""
    if event.get("DTSTART") is None:
        return "event without DTSTART"
    for key in ("DTSTART", "DTEND"):
        prop = event.get(key)
        if prop is None:
            continue
        tzid = prop.params.get("TZID")
        value = getattr(prop, "dt", None)
        if tzid and isinstance(value, datetime) and value.tzinfo is None:
            return f"unknown time zone {tzid!r} in {key} (use an IANA name or add a VTIMEZONE)"
    if not _person(event)[0]:
        return "no ATTENDEE and no SUMMARY: whose shift is it?"
    return None


def _when(component: Component, key: str) -> date | datetime:
    value = getattr(component.get(key), "dt", None)
    if not isinstance(value, date):  # datetime is a date too
        raise ValueError(f"{key} is not a date or a date-time")
    return value


def _end_of(occurrence: Component) -> date | datetime:
    if occurrence.get("DTEND") is not None:
        return _when(occurrence, "DTEND")
    begin = _when(occurrence, "DTSTART")
    duration = getattr(occurrence.get("DURATION"), "dt", None)
    if isinstance(duration, timedelta):
        return begin + duration
    # RFC 5545: a DATE start without an end lasts one day; a DATE-TIME one has no length
    return begin + timedelta(days=1) if not isinstance(begin, datetime) else begin


def _instant(value: date | datetime, floating: tzinfo | None) -> tuple[datetime, bool]:
    """An aware UTC instant; ``True`` when a floating time (or a date) had to be placed."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is not None:
        return value.astimezone(UTC), False
    if floating is None:
        return value.astimezone(UTC), True  # the C library's local rules, DST included
    return value.replace(tzinfo=floating).astimezone(UTC), True


def _person(event: Component) -> tuple[str, str | None]:
    attendees = event.get("ATTENDEE")
    if attendees is not None:
        first = attendees[0] if isinstance(attendees, list) else attendees
        email = valid_email(_str(first))
        cn = _str(getattr(first, "params", {}).get("CN"))
        if cn or email:
            return cn or email or "", email
    summary = _PREFIX.sub("", _str(event.get("SUMMARY")))
    return summary.strip(), valid_email(summary)


def _categories(event: Component) -> set[str]:
    found: set[str] = set()
    raw = event.get("CATEGORIES")
    for item in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        cats = getattr(item, "cats", None)
        for cat in cats if cats is not None else [item]:
            found.update(part.strip().lower() for part in _str(cat).split(","))
    return found


def _shift(event: Component, start: datetime, end: datetime) -> Shift:
    person, email = _person(event)
    override = (
        "override" in _categories(event)
        or _str(event.get("X-RESPONDER-OVERRIDE")).lower() in _TRUE
        or _str(event.get("SUMMARY")).lower().startswith("override")
    )
    try:
        priority = int(_str(event.get("X-RESPONDER-PRIORITY")) or 0)
    except ValueError:
        priority = 0
    return Shift(
        start,
        end,
        person,
        email=email,
        layer=_str(event.get("X-RESPONDER-LAYER")),
        priority=priority,
        override=override,
    )
