"""Who is on call, from the cache: schedules, a service's escalation chain, contacts.

Every read is one ``raw_reader`` transaction (one consistent snapshot) of fixed
SQL on stdlib sqlite3, like :mod:`console.snapshot`. The interval lookup uses
the ``shifts.start_at`` index over a bounded range: a shift covering ``at``
started after ``at - longest shift`` (each schedule keeps its longest finite
shift), so the scan reads the few shifts that started in that window, not the
whole cache. Shifts that never end are looked up on their own. The contact
directory and the schedule rows are kept between answers while the database's
change tokens for them (migration 0009, renewed by triggers) stay the same.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from console.domain.oncall import (
    FOREVER_END,
    REACH_ORDER,
    Contact,
    Gap,
    LevelStatus,
    OnCallAnswer,
    OnCallPerson,
    ReachKind,
    ReachMethod,
    ScheduleStatus,
    Shift,
    TargetKind,
    TargetStatus,
    horizon_warning,
    level_offsets,
    name_key,
    uncovered,
)
from console.storage.db import Database
from console.storage.models import format_utc, parse_utc

PEOPLE_SET, SCHEDULES_SET = "people", "schedules"
_FOREVER = format_utc(FOREVER_END)
T = TypeVar("T")


class _ScheduleRow(NamedTuple):
    id: int
    key: str
    name: str
    time_zone: str | None
    longest_s: int
    has_permanent: bool
    covered_until: datetime | None


def who_is_on_call(
    db: Database,
    at: datetime,
    service: str | None = None,
    *,
    now: datetime | None = None,
    gaps: bool = True,
) -> OnCallAnswer:
    """Who is on call at ``at``: every schedule, or ``service``'s escalation chain.

    ``now`` (default ``at``) is what the "fewer than 3 days of shifts cached"
    warning counts from. ``gaps=False`` skips the per-schedule gap scan (the
    plain lookup the benchmark measures)."""
    with db.raw_reader() as raw:
        return answer(raw, at, service, now=now or at, gaps=gaps)


def answer(
    raw: sqlite3.Connection,
    at: datetime,
    service: str | None,
    *,
    now: datetime,
    gaps: bool = True,
) -> OnCallAnswer:
    cached = {
        name: (parse_utc(when), source)
        for name, when, source in raw.execute(
            "SELECT name, fetched_at, source FROM cache_sets WHERE name IN (?, ?)",
            (PEOPLE_SET, SCHEDULES_SET),
        )
    }
    people_at, people_source = cached.get(PEOPLE_SET, (None, None))
    schedules_at, schedules_source = cached.get(SCHEDULES_SET, (None, None))
    warnings: list[str] = []
    policy_name: str | None = None
    levels: tuple[LevelStatus, ...] = ()
    if service is None:
        schedules = schedule_statuses(raw, at, now=now, gaps=gaps)
    else:
        policy = raw.execute(
            "SELECT p.id, p.name FROM service_policies sp "
            "JOIN escalation_policies p ON p.id = sp.policy_id WHERE sp.service_name = ?",
            (service,),
        ).fetchone()
        if policy is None:
            warnings.append(
                f"no escalation policy is linked to {service!r}: import the policies "
                "(responder-console import oncall) or pick another service"
            )
            schedules = ()
        else:
            policy_name = policy[1]
            levels, schedules = _chain(raw, int(policy[0]), at, now=now, gaps=gaps)
            if not any(
                p.contact_id is not None
                for level in levels
                for target in level.targets
                for p in target.people
            ):
                warnings.append(
                    f"nobody in {policy_name!r} can be reached from the cache at this time "
                    "(no one on call with known numbers)"
                )
    for status in schedules:
        warnings.extend(f"{status.name}: {w}" for w in status.warnings)
    return OnCallAnswer(
        at=at,
        service=service,
        policy=policy_name,
        levels=levels,
        schedules=tuple(schedules),
        people_cached_at=people_at,
        people_source=people_source,
        schedules_cached_at=schedules_at,
        schedules_source=schedules_source,
        warnings=tuple(warnings),
    )


# ----------------------------------------------------------------- schedules


def _schedule_rows(raw: sqlite3.Connection, ids: Sequence[int] | None) -> tuple[_ScheduleRow, ...]:
    """The schedules (all, or ``ids``) by name; kept while the schedules do not change."""
    what = None if ids is None else tuple(ids)
    return _kept(raw, "schedules", ("rows", what), lambda: _read_schedule_rows(raw, ids))


def _read_schedule_rows(
    raw: sqlite3.Connection, ids: Sequence[int] | None
) -> tuple[_ScheduleRow, ...]:
    sql = (
        "SELECT id, key, name, time_zone, longest_shift_s, has_permanent, covered_until "
        "FROM schedules"
    )
    params: tuple[object, ...] = ()
    if ids is not None:
        sql += f" WHERE id IN ({','.join('?' * len(ids))})"
        params = tuple(ids)
    rows = raw.execute(sql + " ORDER BY name COLLATE NOCASE, id", params).fetchall()
    return tuple(
        _ScheduleRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), parse_utc(r[6]) if r[6] else None)
        for r in rows
    )


#: REACH_ORDER as SQL: calls first, then texts, chat and e-mail; flagged after good ones
_REACH_RANK = (
    "CASE kind "
    + " ".join(f"WHEN '{kind.value}' THEN {rank}" for rank, kind in enumerate(REACH_ORDER))
    + f" ELSE {len(REACH_ORDER)} END"
)
_KINDS = {kind.value: kind for kind in ReachKind}


#: The shifts covering :at: an index range on start_at bounded by the longest shift, plus
#: the rare shifts that never end. on_call_at keeps, per schedule, the shifts of the best
#: (override, priority) — the rule of console.domain.oncall.on_duty, which a test holds
#: this to — and finds each person in the contact directory. (Matching contacts and
#: joining reach methods in this statement, with three correlated subqueries per shift,
#: cost about 1.5 ms per answer in oncall_lookup; the directory costs a token read.)
_COVERING_SQL = """
SELECT schedule_id, id, start_at, end_at, person_name, person_email, person_ref, person_key,
       layer, override, priority
FROM shifts WHERE start_at <= :at AND start_at > :low AND end_at > :at
  AND (:only IS NULL OR schedule_id IN (SELECT value FROM json_each(:only)))
UNION ALL
SELECT schedule_id, id, start_at, end_at, person_name, person_email, person_ref, person_key,
       layer, override, priority
FROM shifts
WHERE schedule_id IN (SELECT id FROM schedules WHERE has_permanent)
  AND end_at >= :forever AND start_at <= :low
  AND (:only IS NULL OR schedule_id IN (SELECT value FROM json_each(:only)))
ORDER BY 1, 3, 5, 2
"""

#: stored instants come back in every answer (a shift covers many lookups): parse once
_instant = functools.lru_cache(maxsize=65536)(parse_utc)


def on_call_at(
    raw: sqlite3.Connection, at: datetime, longest_s: int, ids: Sequence[int] | None = None
) -> dict[int, list[OnCallPerson]]:
    """Who is on call at ``at`` in every schedule (or those in ``ids``) that has someone."""
    rows = raw.execute(
        _COVERING_SQL,
        {
            "at": format_utc(at),
            "low": format_utc(at - timedelta(seconds=longest_s)),
            "forever": _FOREVER,
            "only": None if ids is None else json.dumps(list(ids)),
        },
    ).fetchall()
    people = directory(raw)
    found: dict[int, list[OnCallPerson]] = {}
    for schedule_id, group in groupby(rows, key=itemgetter(0)):
        shifts = list(group)
        best = max((row[9], row[10]) for row in shifts)  # overrides, then the higher layer
        found[schedule_id] = [
            _on_call_person(people, row) for row in shifts if (row[9], row[10]) == best
        ]
    return found


def _on_call_person(people: _Matches, row: Sequence[Any]) -> OnCallPerson:
    """One covering shift's row as a person, with what the contacts know of them."""
    _sid, _id, start, end, name, email, ref, key, layer, override, _priority = row
    known = people.lookup(ref, email, key)
    return OnCallPerson(
        name=known.name if known else name,
        email=(known.email if known else None) or email,
        reach=known.reach if known else (),
        contact_id=known.id if known else None,
        shift_start=_instant(start),
        shift_end=_instant(end),
        override=bool(override),
        layer=layer or "",
    )


def schedule_statuses(
    raw: sqlite3.Connection,
    at: datetime,
    *,
    now: datetime,
    ids: Sequence[int] | None = None,
    gaps: bool = True,
) -> tuple[ScheduleStatus, ...]:
    """Who is on call at ``at`` in each schedule (all, or ``ids``), with gaps and warnings."""
    rows = _schedule_rows(raw, ids)
    longest = max((row.longest_s for row in rows), default=0)
    people = on_call_at(raw, at, longest, ids) if rows else {}
    holes = gaps_after(raw, at, [row.id for row in rows]) if gaps else {}
    statuses: list[ScheduleStatus] = []
    for row in rows:
        on_call = tuple(people.get(row.id, ()))
        found_gaps = tuple(holes.get(row.id, ()))
        warnings: list[str] = []
        if not on_call:
            warnings.append("nobody is on call at this time (a gap in coverage)")
        horizon = None if row.has_permanent else horizon_warning(row.covered_until, now)
        if horizon:
            warnings.append(horizon)
        statuses.append(
            ScheduleStatus(
                key=row.key,
                name=row.name,
                time_zone=row.time_zone,
                on_call=on_call,
                covered_until=row.covered_until,
                gaps=found_gaps,
                warnings=tuple(warnings),
            )
        )
    return tuple(statuses)


def gaps_after(
    raw: sqlite3.Connection, at: datetime, ids: Sequence[int], *, until: datetime | None = None
) -> dict[int, list[Gap]]:
    """Each schedule's coverage gaps from ``at`` to the end of its cached shifts, or
    to ``until`` (the readiness audit's 14 days: then an uncovered tail is a gap too,
    and a schedule with no shift in the window is one gap from ``at`` to ``until``).

    One index-ordered read of the shifts still running after ``at``; the sweep
    (:func:`console.domain.oncall.uncovered`, the rule behind ``coverage_gaps``) runs on
    the stored text, which sorts as the instants do, and only the gaps are parsed.
    (Measured for 200 schedules and 50,000 shifts: parsing every shift ~90 ms, a
    ``max(end_at) OVER`` window in SQL 120-170 ms, this ~25 ms.)"""
    found: dict[int, list[Gap]] = {}
    if not ids:
        return found
    when = format_utc(at)
    end = None if until is None else format_utc(until)
    rows = raw.execute(
        "SELECT schedule_id, start_at, end_at FROM shifts "
        f"WHERE schedule_id IN ({','.join('?' * len(ids))}) AND end_at > ? "
        + ("" if end is None else "AND start_at < ? ")
        + "ORDER BY schedule_id, start_at",
        (*ids, when) if end is None else (*ids, when, end),
    )
    for schedule_id, group in groupby(rows, key=itemgetter(0)):
        spans = [(first, last) for _sid, first, last in group]
        last_end = end or max(last for _first, last in spans)
        found[schedule_id] = [
            Gap(parse_utc(a), parse_utc(b)) for a, b in uncovered(spans, when, last_end)
        ]
    if until is not None:
        for schedule_id in ids:
            found.setdefault(schedule_id, [Gap(at, until)])
    return found


# ---------------------------------------------------------------- the chain


def _chain(
    raw: sqlite3.Connection, policy_id: int, at: datetime, *, now: datetime, gaps: bool
) -> tuple[tuple[LevelStatus, ...], tuple[ScheduleStatus, ...]]:
    levels = raw.execute(
        "SELECT id, level, delay_minutes FROM escalation_levels WHERE policy_id = ? ORDER BY level",
        (policy_id,),
    ).fetchall()
    targets: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for level_id, kind, ref, name in raw.execute(
        "SELECT t.level_id, t.kind, t.ref, t.name FROM escalation_targets t "
        "JOIN escalation_levels l ON l.id = t.level_id WHERE l.policy_id = ? "
        "ORDER BY t.level_id, t.position",
        (policy_id,),
    ):
        targets[level_id].append((kind, ref, name))
    schedule_keys = sorted(
        {ref for items in targets.values() for kind, ref, _ in items if kind == "schedule"}
    )
    ids = [
        row[0]
        for row in raw.execute(
            f"SELECT id FROM schedules WHERE key IN ({','.join('?' * len(schedule_keys))})",
            schedule_keys,
        )
    ]
    statuses = schedule_statuses(raw, at, now=now, ids=ids, gaps=gaps) if ids else ()
    by_key = {s.key: s for s in statuses}
    offsets = level_offsets([row[2] for row in levels])
    result: list[LevelStatus] = []
    for (level_id, number, delay), offset in zip(levels, offsets, strict=True):
        statuses_here: list[TargetStatus] = []
        for kind, ref, name in targets[level_id]:
            statuses_here.append(_target(raw, TargetKind(kind), ref, name, by_key))
        result.append(LevelStatus(number, delay, offset, tuple(statuses_here)))
    return tuple(result), statuses


def _target(
    raw: sqlite3.Connection,
    kind: TargetKind,
    ref: str,
    name: str,
    schedules: dict[str, ScheduleStatus],
) -> TargetStatus:
    if kind is TargetKind.SCHEDULE:
        status = schedules.get(ref)
        if status is None:
            return TargetStatus(
                kind, name, ref, (), problem="schedule not cached: import it (import oncall)"
            )
        problem = None if status.on_call else "nobody on call in this schedule now"
        return TargetStatus(kind, status.name or name, ref, status.on_call, status, problem)
    if kind is TargetKind.TEAM:
        members = raw.execute(
            "SELECT p.name, p.email, p.vendor_ref FROM team_members m "
            "JOIN teams t ON t.id = m.team_id JOIN people p ON p.id = m.person_id "
            "WHERE t.name = ? ORDER BY p.name COLLATE NOCASE",
            (ref,),
        ).fetchall()
        shifts = [Shift(FOREVER_END, FOREVER_END, n, email=e, ref=r) for n, e, r in members]
        known = directory(raw)
        people = tuple(_person(known, s, in_shift=False) for s in shifts)
        return TargetStatus(
            kind, name, ref, people, problem=None if people else "no contacts in this team"
        )
    email = ref if "@" in ref else None
    stand_in = Shift(FOREVER_END, FOREVER_END, name, email=email, ref=None if email else ref)
    known = directory(raw)
    person = _person(known, stand_in, in_shift=False)
    problem = None if person.contact_id is not None else "not in the contacts: no numbers known"
    return TargetStatus(kind, person.name, ref, (person,), problem=problem)


# ------------------------------------------------------------------- people


@dataclass(frozen=True)
class _Known:
    id: int
    name: str
    email: str | None
    reach: tuple[ReachMethod, ...]


@dataclass(frozen=True)
class _Matches:
    by_ref: dict[str, _Known]
    by_email: dict[str, _Known]
    by_name: dict[str, _Known]

    def find(self, shift: Shift) -> _Known | None:
        return self.lookup(shift.ref, shift.email, name_key(shift.person))

    def lookup(self, ref: str | None, email: str | None, key: str | None) -> _Known | None:
        """By vendor id, then e-mail (any case), then name key."""
        if ref and ref in self.by_ref:
            return self.by_ref[ref]
        if email and email.lower() in self.by_email:
            return self.by_email[email.lower()]
        return self.by_name.get(key) if key else None


#: (database file, set, what) → (the set's change token, what was built under it)
_KEPT: dict[tuple[str, str, object], tuple[bytes, Any]] = {}
_KEPT_MOST = 16


def _kept(raw: sqlite3.Connection, watched: str, what: object, build: Callable[[], T]) -> T:
    """``build()``, reused while the database's change token for ``watched`` (renewed
    by triggers on every write to the set's tables, migration 0009) stays the same."""
    path = raw.execute("PRAGMA database_list").fetchone()[2]
    token = raw.execute("SELECT token FROM change_tokens WHERE name = ?", (watched,)).fetchone()[0]
    key = (path, watched, what)
    kept = _KEPT.get(key) if path else None
    if kept is not None and kept[0] == token:
        value: T = kept[1]
        return value
    value = build()
    if path:
        while len(_KEPT) >= _KEPT_MOST:
            del _KEPT[next(iter(_KEPT))]
        _KEPT[key] = (token, value)
    return value


def directory(raw: sqlite3.Connection) -> _Matches:
    """Every contact by vendor id, e-mail and name, with reach methods in REACH_ORDER.

    Kept while the contacts do not change: every on-call answer matches its shifts
    here instead of in SQL."""
    return _kept(raw, "people", "directory", lambda: _build_directory(raw))


def _build_directory(raw: sqlite3.Connection) -> _Matches:
    reach = reach_of(raw, None)
    by_ref: dict[str, _Known] = {}
    by_email: dict[str, _Known] = {}
    by_name: dict[str, _Known] = {}
    for person_id, name, email, ref, key in raw.execute(
        "SELECT id, name, email, vendor_ref, name_key FROM people ORDER BY id"
    ):
        known = _Known(person_id, name, email, reach.get(person_id, ()))
        if ref:
            by_ref[ref] = known
        if email:
            by_email[email] = known
        by_name.setdefault(key, known)
    return _Matches(by_ref, by_email, by_name)


def reach_of(
    raw: sqlite3.Connection, ids: Sequence[int] | None
) -> dict[int, tuple[ReachMethod, ...]]:
    """Each person's (those in ``ids``, or everyone's) reach methods in :data:`REACH_ORDER`
    (stored order within a kind)."""
    found: dict[int, list[ReachMethod]] = defaultdict(list)
    if ids is not None and not ids:
        return {}
    where = "" if ids is None else f"WHERE person_id IN ({','.join('?' * len(ids))}) "
    for person_id, kind, value, e164, label, problem, formatted in raw.execute(
        "SELECT person_id, kind, value, e164, label, problem, formatted FROM reach_methods "
        f"{where}ORDER BY person_id, {_REACH_RANK}, problem IS NOT NULL, position",
        list(ids or ()),
    ):
        found[person_id].append(
            ReachMethod(
                _KINDS.get(kind, ReachKind.PHONE), value, e164, label or "", problem, formatted
            )
        )
    return {person_id: tuple(methods) for person_id, methods in found.items()}


def _person(matches: _Matches, shift: Shift, *, in_shift: bool = True) -> OnCallPerson:
    known = matches.find(shift)
    return OnCallPerson(
        name=known.name if known else shift.person,
        email=(known.email if known else None) or shift.email,
        reach=known.reach if known else (),
        contact_id=known.id if known else None,
        shift_start=shift.start if in_shift else None,
        shift_end=shift.end if in_shift else None,
        override=shift.override,
        layer=shift.layer,
    )


# ----------------------------------------------------------------- listings


def contacts(raw: sqlite3.Connection, query: str = "", *, limit: int = 1000) -> list[Contact]:
    """Contacts by name; ``query`` matches name, e-mail, team or any reach value."""
    sql = "SELECT p.id, p.name, p.email, p.source FROM people p"
    params: list[object] = []
    words = query.split()
    if words:
        clauses = []
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = f"%{escaped}%"
            clauses.append(
                "(p.name LIKE ? ESCAPE '\\' OR p.email LIKE ? ESCAPE '\\' OR EXISTS "
                "(SELECT 1 FROM reach_methods r WHERE r.person_id = p.id AND "
                "(r.value LIKE ? ESCAPE '\\' OR r.e164 LIKE ? ESCAPE '\\')) OR EXISTS "
                "(SELECT 1 FROM team_members m JOIN teams t ON t.id = m.team_id "
                "WHERE m.person_id = p.id AND t.name LIKE ? ESCAPE '\\'))"
            )
            params += [like] * 5
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY p.name COLLATE NOCASE, p.id LIMIT ?"
    params.append(limit)
    rows = raw.execute(sql, params).fetchall()
    ids = [row[0] for row in rows]
    reach = reach_of(raw, ids)
    teams: dict[int, list[str]] = defaultdict(list)
    if ids:
        for person_id, team in raw.execute(
            "SELECT m.person_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id "
            f"WHERE m.person_id IN ({','.join('?' * len(ids))}) ORDER BY t.name",
            ids,
        ):
            teams[person_id].append(team)
    return [
        Contact(pid, name, email, tuple(teams.get(pid, ())), reach.get(pid, ()), source)
        for pid, name, email, source in rows
    ]


def services_with_policies(raw: sqlite3.Connection) -> list[str]:
    """Every service that has an escalation policy, plus the catalog's services."""
    names = {row[0] for row in raw.execute("SELECT service_name FROM service_policies")}
    names |= {row[0] for row in raw.execute("SELECT name FROM services")}
    return sorted(names, key=str.casefold)
