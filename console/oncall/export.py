"""On-call answers and contacts as JSON (the CLI contract), and a person's shifts as iCalendar."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from console.domain.errors import NotFoundError
from console.domain.freshness import describe_age
from console.domain.oncall import (
    FOREVER_END,
    FOREVER_START,
    Contact,
    Gap,
    LevelStatus,
    OnCallAnswer,
    OnCallPerson,
    ReachMethod,
    ScheduleStatus,
    Shift,
    TargetStatus,
    name_key,
)
from console.domain.times import DisplayZone, Zone, format_time
from console.storage.models import format_utc, parse_utc

PRODID = "-//Responder Console//On-call export//EN"


def _iso(value: datetime | None) -> str | None:
    if value is None or value in (FOREVER_START, FOREVER_END):
        return None
    return value.isoformat()


def reach_json(method: ReachMethod) -> dict[str, Any]:
    return {
        "kind": method.kind.value,
        "value": method.value,
        "e164": method.e164,
        "formatted": method.formatted,
        "label": method.label,
        "problem": method.problem,
        "url": method.url,
    }


def person_json(person: OnCallPerson) -> dict[str, Any]:
    return {
        "name": person.name,
        "email": person.email,
        "known": person.contact_id is not None,
        "shift_start": _iso(person.shift_start),
        "shift_end": _iso(person.shift_end),
        "override": person.override,
        "layer": person.layer,
        "reach": [reach_json(m) for m in person.reach],
    }


def gap_json(gap: Gap) -> dict[str, Any]:
    return {"start": gap.start.isoformat(), "end": gap.end.isoformat()}


def schedule_json(status: ScheduleStatus) -> dict[str, Any]:
    return {
        "key": status.key,
        "name": status.name,
        "time_zone": status.time_zone,
        "on_call": [person_json(p) for p in status.on_call],
        "covered_until": _iso(status.covered_until),
        "gaps": [gap_json(g) for g in status.gaps],
        "warnings": list(status.warnings),
    }


def target_json(target: TargetStatus) -> dict[str, Any]:
    return {
        "kind": target.kind.value,
        "name": target.name,
        "ref": target.ref,
        "schedule": target.schedule.key if target.schedule else None,
        "people": [person_json(p) for p in target.people],
        "problem": target.problem,
    }


def level_json(level: LevelStatus) -> dict[str, Any]:
    return {
        "level": level.level,
        "delay_minutes": level.delay_minutes,
        "starts_after_minutes": level.starts_after_minutes,
        "targets": [target_json(t) for t in level.targets],
    }


def answer_json(answer: OnCallAnswer, now: datetime) -> dict[str, Any]:
    """The ``oncall --json`` document (README, "JSON shapes")."""

    def cached(when: datetime | None, source: str | None) -> dict[str, Any]:
        age = None if when is None else max(int((now - when).total_seconds()), 0)
        return {"fetched_at": _iso(when), "age_seconds": age, "source": source}

    return {
        "at": answer.at.isoformat(),
        "service": answer.service,
        "policy": answer.policy,
        "levels": [level_json(level) for level in answer.levels],
        "schedules": [schedule_json(s) for s in answer.schedules],
        "cache": {
            "people": cached(answer.people_cached_at, answer.people_source),
            "schedules": cached(answer.schedules_cached_at, answer.schedules_source),
        },
        "warnings": list(answer.warnings),
    }


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "teams": list(contact.teams),
        "reach": [reach_json(m) for m in contact.reach],
        "source": contact.source,
    }


# ------------------------------------------------------------------ iCalendar


@dataclass(frozen=True)
class PersonShifts:
    name: str
    email: str | None
    #: (schedule name, shift), oldest first
    shifts: tuple[tuple[str, Shift], ...]


def person_shifts(raw: sqlite3.Connection, who: str, *, since: datetime) -> PersonShifts:
    """The cached shifts of one person (by e-mail or name; a contact or a name in the shifts)
    ending after ``since``. NotFoundError naming what was looked for."""
    wanted = who.strip()
    key = name_key(wanted)
    row = raw.execute(
        "SELECT name, email, vendor_ref FROM people WHERE email = ? OR name_key = ? "
        "ORDER BY email = ? DESC, id LIMIT 1",
        (wanted.lower(), key, wanted.lower()),
    ).fetchone()
    if row is None:
        matches = raw.execute(
            "SELECT DISTINCT name, email, vendor_ref FROM people WHERE name_key LIKE ? "
            "ORDER BY name LIMIT 3",
            (f"%{key}%",),
        ).fetchall()
        if len(matches) == 1:
            row = matches[0]
        elif len(matches) > 1:
            names = ", ".join(m[0] for m in matches)
            raise NotFoundError(f"{who!r} matches several contacts ({names}); give the e-mail")
    if row is not None:
        name, email, ref = row
    else:  # only in the shifts: an e-mail address or a name as the calendars wrote it
        name, email, ref = wanted, wanted.lower() if "@" in wanted else None, None
    rows = raw.execute(
        "SELECT s.name, sh.start_at, sh.end_at, sh.person_name, sh.person_email, sh.person_ref, "
        "sh.layer, sh.priority, sh.override FROM shifts sh JOIN schedules s "
        "ON s.id = sh.schedule_id WHERE sh.end_at > ? AND (sh.person_ref = ? OR "
        "lower(sh.person_email) = ? OR sh.person_name = ? COLLATE NOCASE) "
        "ORDER BY sh.start_at, s.name",
        (format_utc(since), ref or "", (email or "").lower(), name),
    ).fetchall()
    if row is None and not rows:
        raise NotFoundError(f"nobody called {who!r} in the contacts or the cached shifts")
    shifts = tuple(
        (
            schedule,
            Shift(
                parse_utc(start),
                parse_utc(end),
                person,
                email=mail,
                ref=person_ref,
                layer=layer or "",
                priority=int(priority),
                override=bool(override),
            ),
        )
        for schedule, start, end, person, mail, person_ref, layer, priority, override in rows
    )
    return PersonShifts(name, email, shifts)


def shifts_ics(person: PersonShifts, *, now: datetime) -> str:
    """An RFC 5545 calendar of ``person``'s shifts (UTC times, stable UIDs)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"On call: {person.name}")
    for schedule, shift in person.shifts:
        event = Event()
        digest = hashlib.sha256(
            f"{schedule}|{shift.start.isoformat()}|{shift.end.isoformat()}|{person.name}".encode()
        ).hexdigest()[:32]
        event.add("uid", f"{digest}@responder-console")
        event.add("dtstamp", now)
        event.add("dtstart", max(shift.start, FOREVER_START))
        event.add("dtend", shift.end)
        event.add("summary", f"On call: {schedule}" + (" (override)" if shift.override else ""))
        if shift.layer:
            event.add("x-responder-layer", vText(shift.layer))
        if shift.override:
            event.add("categories", ["override"])
        if person.email:
            attendee = vCalAddress(f"mailto:{person.email}")
            attendee.params["cn"] = vText(person.name)
            event.add("attendee", attendee, encode=False)
        calendar.add_component(event)
    text: bytes = calendar.to_ical()
    return text.decode("utf-8")


# ------------------------------------------------------------------- text


def _local(value: datetime | None, tz: Zone) -> str:
    if value is None or value in (FOREVER_START, FOREVER_END):
        return "open-ended"
    return format_time(value, tz, "day")


def _reach_text(person: OnCallPerson) -> list[str]:
    lines = []
    for found in person.reach:
        flag = f"  (! {found.problem})" if found.problem else ""
        lines.append(f"      {found.kind.label:<7} {found.display}{flag}")
    if not person.reach:
        lines.append("      (no numbers known: not in the contacts)")
    return lines


def _person_text(person: OnCallPerson, tz: Zone) -> list[str]:
    until = f"  until {_local(person.shift_end, tz)}" if person.shift_end else ""
    tag = "  [override]" if person.override else ""
    return [f"    {person.name}{tag}{until}", *_reach_text(person)]


def local_time(value: datetime | None, tz: Zone = None) -> str:
    """``Tue 24 Nov 09:00 GMT`` in ``tz`` (None: this machine's zone); open-ended ends say so."""
    return _local(value, tz)


def gap_notices(status: ScheduleStatus, tz: Zone) -> list[str]:
    """The coverage gaps of one schedule, for people: a count and the next one."""
    if not status.gaps:
        return []
    first = status.gaps[0]
    count = len(status.gaps)
    return [
        f"{count} gap{'s' if count != 1 else ''} in coverage; the next "
        f"{_local(first.start, tz)} – {_local(first.end, tz)}"
    ]


def answer_text(answer: OnCallAnswer, *, now: datetime, tz: Zone) -> str:
    """The ``oncall`` answer for a terminal: local times, the caches' ages, warnings last."""
    lines = [
        f"On call at {_local(answer.at, tz)} "
        f"({format_time(answer.at, DisplayZone.UTC, 'datetime')}). "
        f"Schedules cached {describe_age(answer.schedules_cached_at, now)}, "
        f"contacts cached {describe_age(answer.people_cached_at, now)}.",
        "",
    ]
    if answer.service is not None:
        lines.append(f"{answer.service} → {answer.policy or 'no escalation policy'}")
        for level in answer.levels:
            when = (
                "paged first"
                if level.starts_after_minutes == 0
                else f"after {level.starts_after_minutes} min"
            )
            lines.append(f"  Level {level.level} — {when}, wait {level.delay_minutes} min")
            for target in level.targets:
                lines.append(f"   {target.kind.value} {target.name}:")
                for person in target.people:
                    lines.extend(_person_text(person, tz))
                if target.problem:
                    lines.append(f"    ! {target.problem}")
    else:
        for status in answer.schedules:
            lines.append(f"  {status.name}:")
            for person in status.on_call:
                lines.extend(_person_text(person, tz))
            lines.extend(f"    {notice}" for notice in gap_notices(status, tz))
        if not answer.schedules:
            lines.append("  No schedules cached: responder-console import oncall FILE…")
    if answer.warnings:
        lines += ["", "Warnings:", *(f"  ! {w}" for w in answer.warnings)]
    return "\n".join(lines)


def cache_ages(answer: OnCallAnswer, now: datetime) -> str:
    """How old the cached schedules and contacts behind ``answer`` are, in one sentence."""
    return (
        f"Schedules cached {describe_age(answer.schedules_cached_at, now)} "
        f"({answer.schedules_source or 'never imported'}); contacts cached "
        f"{describe_age(answer.people_cached_at, now)}."
    )
