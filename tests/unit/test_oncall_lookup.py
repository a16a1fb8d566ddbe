"""Who is on call, from the cache, with a fixed clock: daylight saving in four zones,
overrides, gaps, the cache horizon, escalation chains, contacts and the iCalendar export."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.demo import ensure_demo
from console.domain.clock import ManualClock
from console.domain.oncall import Shift, TargetKind, coverage_gaps, on_duty
from console.importers.calendar import parse_calendar
from console.importers.oncall import import_people_and_schedules
from console.importers.schedules import ScheduleDraft, store_schedules
from console.oncall import OnCallDirectory, who_is_on_call
from console.oncall.export import answer_json, answer_text
from console.ops.workspace import Workspace
from console.storage.db import Database
from console.storage.models import format_utc
from tests.unit.support import FakeClock

CONTACTS = (
    "Name,Email,Mobile,Team\n"
    "Ana Lima,ana@x.example,+44 20 7946 0111,team-a\n"
    "Ben Okoro,ben@x.example,+44 20 7946 0222,team-a\n"
    "Cleo Park,,+1 415 555 0142,team-b\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def alternating_ics(zone: str, first_day: str, name: str = "Rota") -> str:
    """Ana and Ben hand over at 09:00 local every day, Ana first (two RRULEs)."""
    events = ""
    for offset, (person, email) in enumerate((("Ana Lima", "ana"), ("Ben Okoro", "ben"))):
        day = datetime.strptime(first_day, "%Y%m%d") + timedelta(days=offset)
        events += (
            f"BEGIN:VEVENT\nUID:{email}@rota\nDTSTART;TZID={zone}:{day:%Y%m%d}T090000\n"
            f"DTEND;TZID={zone}:{day + timedelta(days=1):%Y%m%d}T090000\n"
            f"RRULE:FREQ=DAILY;INTERVAL=2;COUNT=6\n"
            f"ATTENDEE;CN={person}:mailto:{email}@x.example\nEND:VEVENT\n"
        )
    head = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nX-WR-CALNAME:{name}\n"
    return f"{head}{events}END:VCALENDAR\n"


#: zone, first day of the rota, the day the clocks change, hours of the 09:00 shift holding it
DST_CASES = [
    ("Europe/London", "20260326", datetime(2026, 3, 29), 23),  # forward
    ("Europe/London", "20261022", datetime(2026, 10, 25), 25),  # back
    ("America/New_York", "20260305", datetime(2026, 3, 8), 23),  # forward
    ("America/New_York", "20261029", datetime(2026, 11, 1), 25),  # back
    ("Australia/Sydney", "20260402", datetime(2026, 4, 5), 25),  # back (southern autumn)
    ("Australia/Sydney", "20261001", datetime(2026, 10, 4), 23),  # forward
    ("Asia/Kolkata", "20260326", datetime(2026, 3, 29), 24),  # never changes
]


@pytest.mark.parametrize(("zone", "first", "change", "hours"), DST_CASES)
def test_handover_at_nine_local_across_dst(
    db: Database, tmp_path: Path, zone: str, first: str, change: datetime, hours: int
) -> None:
    tz = ZoneInfo(zone)
    clock = ManualClock(datetime.strptime(first, "%Y%m%d").replace(tzinfo=tz))
    import_people_and_schedules(
        db,
        [
            write(tmp_path, "c.csv", CONTACTS),
            write(tmp_path, "r.ics", alternating_ics(zone, first)),
        ],
        clock=clock,
    )
    # the rota alternates Ana, Ben, Ana, … from its first day: who holds the change night?
    days_in = (change.date() - datetime.strptime(first, "%Y%m%d").date()).days - 1
    before, after = ("Ana Lima", "Ben Okoro") if days_in % 2 == 0 else ("Ben Okoro", "Ana Lima")
    for local, expected in (
        (change.replace(hour=3, minute=30), before),  # after the change, before the hand-over
        (change.replace(hour=8, minute=59), before),
        (change.replace(hour=9, minute=1), after),
    ):
        at = local.replace(tzinfo=tz).astimezone(UTC)
        [status] = who_is_on_call(db, at).schedules
        assert [p.name for p in status.on_call] == [expected], (zone, local)
        assert status.gaps == ()  # no hole, no overlap at the change
    # the shift that holds the change lasts 23 or 25 hours (24 where clocks never change)
    at = change.replace(hour=8, tzinfo=tz).astimezone(UTC)
    [status] = who_is_on_call(db, at).schedules
    [person] = status.on_call
    assert person.shift_start is not None
    assert person.shift_end is not None
    assert person.shift_start.astimezone(tz).hour == person.shift_end.astimezone(tz).hour == 9
    assert (person.shift_end - person.shift_start) / timedelta(hours=1) == hours
    # the answer carries the reach methods the contacts know (matched by e-mail)
    assert person.reach[0].e164 in ("+442079460111", "+442079460222")


def test_london_repeated_hour_is_covered_both_times(db: Database, tmp_path: Path) -> None:
    text = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nX-WR-CALNAME:Nights\n"
        "BEGIN:VEVENT\nUID:n\nDTSTART;TZID=Europe/London:20261024T220000\n"
        "DTEND;TZID=Europe/London:20261025T060000\nSUMMARY:Cleo Park\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    clock = ManualClock(datetime(2026, 10, 24, tzinfo=UTC))
    import_people_and_schedules(db, [write(tmp_path, "n.ics", text)], clock=clock)
    london = ZoneInfo("Europe/London")
    for fold in (0, 1):  # 01:30 happens twice that night
        at = datetime(2026, 10, 25, 1, 30, tzinfo=london, fold=fold).astimezone(UTC)
        [status] = who_is_on_call(db, at).schedules
        [person] = status.on_call
        assert person.name == "Cleo Park"
        assert person.shift_end is not None
        assert person.shift_start is not None
        assert person.shift_end - person.shift_start == timedelta(hours=9)  # 22:00→06:00 + 1 h


def test_overrides_win_and_layers_rank(db: Database, tmp_path: Path) -> None:
    text = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nX-WR-CALNAME:Layered\n"
        "BEGIN:VEVENT\nUID:1\nDTSTART:20261102T000000Z\nDTEND:20261109T000000Z\n"
        "SUMMARY:Ana Lima\nX-RESPONDER-LAYER:Layer 1\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:2\nDTSTART:20261103T000000Z\nDTEND:20261104T000000Z\n"
        "SUMMARY:Ben Okoro\nX-RESPONDER-LAYER:Layer 2\nX-RESPONDER-PRIORITY:1\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:3\nDTSTART:20261103T100000Z\nDTEND:20261103T120000Z\n"
        "SUMMARY:Override: Cleo Park\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    clock = ManualClock(datetime(2026, 11, 2, tzinfo=UTC))
    import_people_and_schedules(
        db, [write(tmp_path, "c.csv", CONTACTS), write(tmp_path, "l.ics", text)], clock=clock
    )

    def who(hour: float) -> list[tuple[str, bool]]:
        at = datetime(2026, 11, 3, tzinfo=UTC) + timedelta(hours=hour)
        [status] = who_is_on_call(db, at).schedules
        return [(p.name, p.override) for p in status.on_call]

    assert who(-1) == [("Ana Lima", False)]
    assert who(1) == [("Ben Okoro", False)]  # the higher layer
    assert who(11) == [("Cleo Park", True)]  # the override, matched to the contact by name
    assert who(25) == [("Ana Lima", False)]


def test_gaps_and_horizon_warning(db: Database, tmp_path: Path) -> None:
    text = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nX-WR-CALNAME:Days\n"
        "BEGIN:VEVENT\nUID:d\nDTSTART:20261102T080000Z\nDTEND:20261102T200000Z\n"
        "RRULE:FREQ=DAILY;COUNT=2\nSUMMARY:Ana Lima\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    clock = ManualClock(datetime(2026, 11, 2, 12, tzinfo=UTC))
    import_people_and_schedules(db, [write(tmp_path, "d.ics", text)], clock=clock)
    answer = OnCallDirectory(db, clock=clock).who_is_on_call()
    [status] = answer.schedules
    assert [(g.start.hour, g.end.hour) for g in status.gaps] == [(20, 8)]
    assert status.covered_until == datetime(2026, 11, 3, 20, tzinfo=UTC)
    assert any("only 1 days" in w or "only 32 h" in w for w in status.warnings)
    night = OnCallDirectory(db, clock=clock).who_is_on_call(datetime(2026, 11, 2, 22, tzinfo=UTC))
    assert "nobody is on call at this time (a gap in coverage)" in night.schedules[0].warnings
    assert answer.schedules_cached_at == clock.now
    assert "Days: only 32 h of future shifts cached" in " ".join(answer.warnings)


def test_always_on_call_entries_are_found(db: Database, tmp_path: Path) -> None:
    document = {
        "oncalls": [
            {"user": {"id": "P1", "summary": "Ana Lima"}, "schedule": None,
             "escalation_policy": {"id": "EP1", "summary": "Main"}, "escalation_level": 3,
             "start": None, "end": None},
            {"user": {"id": "P2", "summary": "Ben Okoro"},
             "schedule": {"id": "S1", "summary": "Rota"},
             "escalation_policy": {"id": "EP1", "summary": "Main"}, "escalation_level": 1,
             "start": "2026-11-02T00:00:00Z", "end": "2026-11-03T00:00:00Z"},
        ]
    }  # fmt: skip
    clock = ManualClock(datetime(2026, 11, 2, 12, tzinfo=UTC))
    import_people_and_schedules(db, [write(tmp_path, "o.json", json.dumps(document))], clock=clock)
    answer = who_is_on_call(db, datetime(2027, 5, 1, tzinfo=UTC), now=clock.now)
    by_name = {s.name: s for s in answer.schedules}
    direct = by_name["Main — level 3 (direct)"]
    assert [p.name for p in direct.on_call] == ["Ana Lima"]
    assert direct.warnings == ()  # always on call: no horizon to run out
    assert by_name["Rota"].on_call == ()
    document_json = answer_json(answer, clock.now)
    direct_json = next(s for s in document_json["schedules"] if s["key"] == "pagerduty:EP1:level3")
    assert direct_json["on_call"][0]["shift_start"] is None  # open-ended


# ------------------------------------------------------------- escalation chain


def test_service_chain_through_schedules_people_and_teams(tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC))
    workspace = Workspace.open(tmp_path / "demo", actor="tester", clock=clock)
    try:
        assert ensure_demo(workspace)
        directory = OnCallDirectory(workspace.db, clock=clock)
        answer = directory.who_is_on_call(service="orders-api")
        assert answer.policy == "Orders and checkout"
        assert [(lv.level, lv.delay_minutes, lv.starts_after_minutes) for lv in answer.levels] == [
            (1, 10, 0),
            (2, 15, 10),
            (3, 30, 25),
        ]
        first = answer.levels[0].targets[0]
        assert first.kind is TargetKind.SCHEDULE
        assert first.name == "Orders primary"
        assert len(first.people) == 1
        assert first.people[0].reach
        person, team = answer.levels[2].targets
        assert (person.kind, person.name) == (TargetKind.PERSON, "Marcus Oyelaran")
        assert team.kind is TargetKind.TEAM
        assert [p.name for p in team.people] == ["Hanna Berg"]
        data = directory.who_is_on_call(service="postgres-main")
        assert any("Data primary: only" in w for w in data.warnings)
        platform = directory.who_is_on_call(
            at=clock.now.replace(hour=1, minute=0) + timedelta(days=1), service="api-gateway"
        )
        schedule_target = platform.levels[0].targets[0]
        assert schedule_target.schedule is not None
        assert schedule_target.schedule.gaps
        missing = directory.who_is_on_call(service="no-such-service")
        assert missing.policy is None
        assert "no escalation policy" in missing.warnings[0]
        text = answer_text(answer, now=clock.now, tz=ZoneInfo("Europe/London"))
        assert "Level 1 — paged first, wait 10 min" in text
        assert "orders-api → Orders and checkout" in text
        assert "orders-api" in directory.services()
        # a later start re-seeds the demo's shifts relative to the new moment
        clock.advance(days=2)
        assert not ensure_demo(workspace)
        assert directory.who_is_on_call().schedules_cached_at == clock.now
    finally:
        workspace.close()


def test_unknown_schedule_and_person_targets_say_so(db: Database, tmp_path: Path) -> None:
    policy = {
        "escalation_policy": {
            "id": "EP9", "name": "Thin", "services": [{"summary": "billing"}],
            "escalation_rules": [
                {"escalation_delay_in_minutes": 5,
                 "targets": [{"id": "SX", "type": "schedule_reference", "summary": "Gone"},
                             {"id": "UX", "type": "user_reference", "summary": "Nobody Known"}]}
            ],
        }
    }  # fmt: skip
    clock = FakeClock()
    import_people_and_schedules(db, [write(tmp_path, "p.json", json.dumps(policy))], clock=clock)
    answer = who_is_on_call(db, clock.now, "billing")
    schedule, person = answer.levels[0].targets
    assert schedule.problem == "schedule not cached: import it (import oncall)"
    assert person.problem == "not in the contacts: no numbers known"
    assert answer.warnings == (
        "nobody in 'Thin' can be reached from the cache at this time "
        "(no one on call with known numbers)",
    )


# --------------------------------------------------------------------- export


def test_export_ics_round_trips_through_the_importer(db: Database, tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 10, 23, 12, tzinfo=UTC))
    import_people_and_schedules(
        db,
        [
            write(tmp_path, "c.csv", CONTACTS),
            write(tmp_path, "r.ics", alternating_ics("Europe/London", "20261023")),
        ],
        clock=clock,
    )
    directory = OnCallDirectory(db, clock=clock)
    found, text = directory.export_ics("ana@x.example")
    assert found.name == "Ana Lima"
    assert text.startswith("BEGIN:VCALENDAR")
    assert "PRODID:-//Responder Console" in text
    back = parse_calendar(text, "ana.ics", now=clock.now)
    assert back.refused == []
    ours = sorted((s.start, s.end) for _, s in found.shifts)
    assert sorted((s.start, s.end) for s in back.schedules[0].shifts) == ours
    assert {s.person for s in back.schedules[0].shifts} == {"Ana Lima"}
    assert {s.email for s in back.schedules[0].shifts} == {"ana@x.example"}
    assert len(ours) == 6
    by_name, _ = directory.export_ics("ben okoro")
    assert len(by_name.shifts) == 6
    with pytest.raises(Exception, match="nobody called 'Zed'"):
        directory.export_ics("Zed")


def test_contacts_listing_searches_every_field(db: Database, tmp_path: Path) -> None:
    clock = FakeClock()
    import_people_and_schedules(db, [write(tmp_path, "c.csv", CONTACTS)], clock=clock)
    directory = OnCallDirectory(db, clock=clock)
    assert [c.name for c in directory.contacts()] == ["Ana Lima", "Ben Okoro", "Cleo Park"]
    assert [c.name for c in directory.contacts("team-b")] == ["Cleo Park"]
    assert [c.name for c in directory.contacts("0222")] == ["Ben Okoro"]
    assert [c.name for c in directory.contacts("ana lima")] == ["Ana Lima"]
    assert directory.contacts("50%_") == []


# ---------------------------------------------- the SQL lookup keeps the domain rule

BASE = datetime(2026, 11, 2, tzinfo=UTC)
_HOURS = st.integers(min_value=0, max_value=48)
_SHIFT = st.builds(
    lambda start, length, person, priority, override: Shift(
        BASE + timedelta(hours=start),
        BASE + timedelta(hours=start + length),
        person,
        priority=priority,
        override=override,
    ),
    _HOURS,
    st.integers(min_value=1, max_value=30),
    st.sampled_from(["Ana Lima", "Ben Okoro", "Cleo Park"]),
    st.integers(min_value=0, max_value=2),
    st.booleans(),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(_SHIFT, max_size=8), min_size=1, max_size=3),
    st.integers(min_value=0, max_value=80),
)
def test_lookup_agrees_with_on_duty_and_coverage_gaps(
    db: Database, schedules: list[list[Shift]], hour: int
) -> None:
    drafts = [ScheduleDraft(f"prop:{i}", f"S{i}", shifts=s) for i, s in enumerate(schedules)]
    with db.raw_writer() as raw:
        raw.execute("DELETE FROM schedules")
        store_schedules(raw, drafts, source="test", now=format_utc(BASE))
    at = BASE + timedelta(hours=hour, minutes=30)
    answer = who_is_on_call(db, at)
    got = {s.key: sorted((p.name, p.override) for p in s.on_call) for s in answer.schedules}
    # the store joins one person's overlapping shifts in a layer (two copies of a roster,
    # issue 15): the domain's answer with each (person, override) once
    expected = {
        d.key: sorted({(s.person, s.override) for s in on_duty(d.shifts, at)}) for d in drafts
    }
    assert {k: sorted(set(v)) for k, v in got.items()} == expected
    # and the gaps found in SQL are the domain's coverage_gaps up to the last cached end
    holes = {s.key: list(s.gaps) for s in answer.schedules}
    for draft in drafts:
        intervals = [(s.start, s.end) for s in draft.shifts]
        end = max((b for _, b in intervals), default=at)
        assert holes[draft.key] == (coverage_gaps(intervals, at, end) if end > at else [])


def test_kept_contacts_and_schedules_follow_every_write(db: Database, tmp_path: Path) -> None:
    """The lookup keeps its contact directory and schedule rows between answers; any
    write to people, reach methods or schedules — from this connection, another one,
    or plain SQL that no importer knows of — is seen by the next answer."""
    clock = ManualClock(datetime(2026, 10, 24, tzinfo=UTC))
    rota = write(tmp_path, "rota.ics", alternating_ics("Europe/London", "20261024"))
    import_people_and_schedules(db, [write(tmp_path, "c.csv", CONTACTS), rota], clock=clock)
    at = datetime(2026, 10, 24, 12, tzinfo=UTC)

    def first_person() -> tuple[str, str, tuple[str | None, ...]]:
        [status] = who_is_on_call(db, at).schedules
        [person] = status.on_call
        return status.name, person.name, tuple(r.e164 for r in person.reach if r.e164)

    assert first_person() == ("Rota", "Ana Lima", ("+442079460111",))
    assert first_person() == ("Rota", "Ana Lima", ("+442079460111",))  # kept, same answer
    with db.raw_writer() as raw:  # a reach method changed behind every importer's back
        raw.execute("UPDATE reach_methods SET e164 = '+442079460999' WHERE e164 = '+442079460111'")
    assert first_person()[2] == ("+442079460999",)
    other = sqlite3.connect(db.path)  # another connection, as another process would be
    try:
        with other:
            other.execute("UPDATE people SET name = 'Ana Lima-Souza' WHERE email = 'ana@x.example'")
        assert first_person()[1] == "Ana Lima-Souza"
        with other:
            other.execute("DELETE FROM people WHERE email = 'ana@x.example'")
        assert first_person()[1:] == ("Ana Lima", ())  # the shift's own name, no numbers
        with other:
            other.execute("UPDATE schedules SET name = 'Renamed rota'")
        assert first_person()[0] == "Renamed rota"
    finally:
        other.close()
