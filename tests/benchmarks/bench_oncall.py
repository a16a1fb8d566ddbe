"""``oncall_lookup``: who is on call at time T across 200 schedules and 50,000 cached shifts."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from console.domain.oncall import ReachKind, Shift, TargetKind, rotation
from console.importers.contacts import ContactDraft, store_contacts
from console.importers.reach import method
from console.importers.schedules import (
    LevelDraft,
    PolicyDraft,
    ScheduleDraft,
    TargetDraft,
    store_policies,
    store_schedules,
)
from console.oncall import who_is_on_call
from console.storage.db import Database, open_database
from console.storage.models import format_utc
from tests.benchmarks.fixtures import (
    BenchResult,
    Target,
    log,
    median,
    percentile,
    quick_mode,
    summary,
    temp_folder,
    time_ms,
)

SCHEDULES_FULL, SCHEDULES_QUICK = 200, 10
SHIFTS_PER_SCHEDULE = 250  # 240 rotation shifts + 10 overrides: 50,000 in all
LOOKUPS_FULL, LOOKUPS_QUICK = 300, 20
ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
START = datetime(2026, 10, 1, tzinfo=UTC)
SEED = 20261128


def build_cache(db: Database, schedules: int) -> tuple[datetime, datetime]:
    """``schedules`` schedules of 12-hour shifts handing over at 08:00/20:00 local in four
    zones (across both 2026 daylight-saving changes), 10 overrides each, 2 people per
    schedule with a mobile and an e-mail, and one policy per 10 schedules. Returns the
    span the shifts cover."""
    rng = random.Random(SEED)
    people: list[ContactDraft] = []
    drafts: list[ScheduleDraft] = []
    rotation_shifts = SHIFTS_PER_SCHEDULE - 10
    end = START + timedelta(hours=12 * rotation_shifts)
    for index in range(schedules):
        names = [f"Person {index:03d}-{n}" for n in range(2)]
        emails = [f"p{index:03d}.{n}@bench.example" for n in range(2)]
        for name, email in zip(names, emails, strict=True):
            draft = ContactDraft(name=name, email=email)
            number = f"+1 415 555 {index % 100:02d}{len(people) % 100:02d}"
            draft.add(method(ReachKind.MOBILE, number, region=None))
            draft.add(method(ReachKind.EMAIL, email, region=None))
            people.append(draft)
        shifts = rotation(
            names,
            zone=ZoneInfo(ZONES[index % len(ZONES)]),
            handoff=time(8),
            every=timedelta(hours=12),
            start=START,
            end=end,
            layer="rotation",
            emails=emails,
        )[:rotation_shifts]
        for _ in range(SHIFTS_PER_SCHEDULE - len(shifts)):
            begin = START + timedelta(hours=rng.randrange(0, 12 * rotation_shifts - 6))
            shifts.append(Shift(begin, begin + timedelta(hours=4), names[1], email=emails[1],
                                layer="override", override=True))  # fmt: skip
        zone_name = ZONES[index % len(ZONES)]
        drafts.append(ScheduleDraft(f"bench:{index}", f"Schedule {index:03d}", zone_name, shifts))
    policies = [
        PolicyDraft(
            key=f"bench:policy:{p}",
            name=f"Policy {p}",
            services=[f"service-{p:02d}"],
            levels=[
                LevelDraft(10, [TargetDraft(TargetKind.SCHEDULE, f"bench:{s}", f"Schedule {s}")])
                for s in range(p * 10, min(p * 10 + 10, schedules))
            ],
        )
        for p in range(max(schedules // 10, 1))
    ]
    now = format_utc(START)
    with db.raw_writer() as raw:
        store_contacts(raw, people, source="bench", now=now)
        store_schedules(raw, drafts, source="bench", now=now)
        store_policies(raw, policies, source="bench", now=now)
    return START, end


def _floor(
    connection: sqlite3.Connection, at: datetime, longest_s: int
) -> list[tuple[object, ...]]:
    """The same covering shifts by a bare indexed interval query (no precedence, no contacts)."""
    return connection.execute(
        "SELECT schedule_id, person_name, person_email, override, priority FROM shifts "
        "WHERE start_at <= ? AND start_at > ? AND end_at > ?",
        (format_utc(at), format_utc(at - timedelta(seconds=longest_s)), format_utc(at)),
    ).fetchall()


def oncall_lookup() -> BenchResult:
    quick = quick_mode()
    schedules = SCHEDULES_QUICK if quick else SCHEDULES_FULL
    lookups = LOOKUPS_QUICK if quick else LOOKUPS_FULL
    with temp_folder("rc-bench-oncall-") as folder:
        path = folder / "console.db"
        db = open_database(path)
        try:
            start, end = build_cache(db, schedules)
            shifts = db.engine.raw_connection()
            try:
                total = shifts.execute("SELECT count(*) FROM shifts").fetchone()[0]
                longest = shifts.execute("SELECT max(longest_shift_s) FROM schedules").fetchone()[0]
            finally:
                shifts.close()
            log.info("oncall_lookup: %d schedules, %d shifts", schedules, total)
            rng = random.Random(SEED)
            span = int((end - start).total_seconds())
            moments = [start + timedelta(seconds=rng.randrange(span)) for _ in range(lookups)]
            floor_connection = sqlite3.connect(path)
            for at in moments[:10]:  # warm-up: page cache, statement cache, imports
                who_is_on_call(db, at, gaps=False)
                _floor(floor_connection, at, longest)
            values: list[float] = []
            floors: list[float] = []
            on_call = 0
            for index, at in enumerate(moments):

                def value(at: datetime = at) -> object:
                    return who_is_on_call(db, at, gaps=False)

                def floor(at: datetime = at) -> object:
                    return _floor(floor_connection, at, longest)

                if index % 2 == 0:  # interleaved, alternating which goes first
                    values.append(time_ms(value))
                    floors.append(time_ms(floor))
                else:
                    floors.append(time_ms(floor))
                    values.append(time_ms(value))
            answer = who_is_on_call(db, moments[0], gaps=False)
            on_call = sum(len(s.on_call) for s in answer.schedules)
            with_gaps = [time_ms(partial(who_is_on_call, db, at)) for at in moments[:20]]
            service = [
                time_ms(partial(who_is_on_call, db, at, "service-00")) for at in moments[:50]
            ]
            floor_connection.close()
        finally:
            db.close()
    return BenchResult(
        name="oncall_lookup",
        value=median(values),
        unit="ms",
        floor=median(floors),
        target=Target("value", 5.0),
        samples=len(values),
        detail={
            "schedules": schedules,
            "shifts": total,
            "on_call_people_in_an_answer": on_call,
            "value_ms": summary(values),
            "value_p95_ms": round(percentile(values, 95), 4),
            "floor_ms": summary(floors),
            "floor_is": "indexed interval SELECT of the covering shifts on a warm sqlite3 "
            "connection (start_at range bounded by the longest shift), no precedence, "
            "no contacts",
            "value_is": "who_is_on_call(db, T, gaps=False): covering shifts, overrides/layers, "
            "contacts matched by ref/e-mail/name with their reach methods, cache ages",
            "with_gaps_and_horizon_median_ms": round(median(with_gaps), 3),
            "service_chain_10_schedules_median_ms": round(median(service), 3),
        },
    )
