"""Schedules and policies from iCalendar and saved PagerDuty/Opsgenie responses: the corpus
payloads, our own fixtures that follow the published specs, and broken files."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.domain.oncall import TargetKind
from console.importers.calendar import parse_calendar
from console.importers.oncall import import_people_and_schedules
from console.importers.vendors import SNAPSHOT_VALIDITY, ShapeError, parse_vendor_json
from console.oncall import OnCallDirectory, who_is_on_call
from console.storage.db import Database
from tests import shared
from tests.unit.support import FakeClock, raw_rows, raw_scalar

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oncall"
CORPUS = shared.CORPUS
PYGERDUTY = CORPUS / "pygerduty-fixtures" / "tests" / "fixtures"
needs_corpus = shared.needs(PYGERDUTY, what="the PagerDuty payloads of the corpus")
SAVED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def calendar(*events: str, name: str = "Primary", extra: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    return (
        f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nX-WR-CALNAME:{name}\n{extra}"
        f"{body}END:VCALENDAR\n"
    )


# ------------------------------------------------------------------ PagerDuty


@needs_corpus
def test_pagerduty_corpus_payloads(db: Database, db_path: Path, clock: FakeClock) -> None:
    files = [
        PYGERDUTY / name
        for name in (
            "oncalls_list_v2.json",
            "oncalls_filtered_v2.json",
            "schedule_v2.json",
            "schedule_list_v2.json",
            "user_v2.json",
            "contacts_v2.json",
            "contacts_v1.json",
            "user_v1.json",
        )
    ]
    report = import_people_and_schedules(db, files, region="US", clock=clock)
    kinds = {Path(f.path).name: f.kind for f in report.files}
    assert kinds == {
        "oncalls_list_v2.json": "pagerduty-oncalls",
        "oncalls_filtered_v2.json": "pagerduty-oncalls",
        "schedule_v2.json": "pagerduty-schedule",
        "schedule_list_v2.json": "pagerduty-schedules",
        "user_v2.json": "pagerduty-users",
        "user_v1.json": "pagerduty-users",
        "contacts_v2.json": "pagerduty-contact-methods",
        "contacts_v1.json": "pagerduty-contact-methods",
    }
    assert report.refused == []
    # schedule_v2: final schedule entries (one day shift, 08:00-17:00 New York)
    assert raw_rows(
        db_path,
        "SELECT s.name, s.time_zone, sh.start_at, sh.end_at, sh.person_ref FROM shifts sh "
        "JOIN schedules s ON s.id = sh.schedule_id WHERE s.key = 'pagerduty:PI7DH85' "
        "AND sh.layer = 'final'",
    ) == [
        (
            "Daily Engineering Rotation",
            "America/New_York",
            "2015-11-10T13:00:00.000000Z",
            "2015-11-10T22:00:00.000000Z",
            "pagerduty:PXPGF42",
        )
    ]
    # the oncalls list: Tim Wright's shift in PI7DH85 (the same schedule), Tim Wrong in PI7DD43
    assert (
        raw_scalar(db_path, "SELECT count(*) FROM shifts WHERE person_ref = 'pagerduty:PT23IWX'")
        == 1
    )
    answer = who_is_on_call(db, datetime(2015, 3, 7, 12, tzinfo=UTC))
    on_call = {s.key: [p.name for p in s.on_call] for s in answer.schedules}
    assert on_call["pagerduty:PI7DH85"] == ["Tim Wright"]
    assert on_call["pagerduty:PI7DD43"] == ["Tim Wrong"]
    # user + contact methods: both PagerDuty versions, the numbers read in --region US
    earline = OnCallDirectory(db, clock=clock).contacts("Earline")[0]
    assert earline.email == "125.greenholt.earline@graham.name"
    assert earline.teams == ("Engineering",)
    assert {(m.kind.value, m.e164 or m.value) for m in earline.reach} >= {
        ("sms", "+17483784787"),
        ("phone", "+17483784787"),
        ("email", "betty@example.com"),
    }
    bart = OnCallDirectory(db, clock=clock).contacts("bart")[0]
    assert {m.e164 for m in bart.reach if m.kind.is_phone} == {"+19373249222"}


def test_pagerduty_escalation_policies_link_services(
    db: Database, db_path: Path, clock: FakeClock
) -> None:
    report = import_people_and_schedules(
        db, [FIXTURES / "pagerduty_escalation_policies.json"], clock=clock
    )
    assert report.policies == 1
    assert raw_rows(
        db_path,
        "SELECT p.name, p.repeat, l.level, l.delay_minutes, t.kind, t.ref, t.name "
        "FROM escalation_policies p JOIN escalation_levels l ON l.policy_id = p.id "
        "JOIN escalation_targets t ON t.level_id = l.id ORDER BY l.level",
    ) == [
        ("Engineering Escalation Policy", 2, 1, 30, "schedule", "pagerduty:PI7DH85",
         "Daily Engineering Rotation"),
        ("Engineering Escalation Policy", 2, 2, 15, "person", "pagerduty:PXPGF42",
         "Earline Greenholt"),
    ]  # fmt: skip
    assert raw_rows(db_path, "SELECT service_name FROM service_policies") == [("orders-api",)]
    assert raw_scalar(db_path, "SELECT source FROM cache_sets WHERE name = 'schedules'").startswith(
        "import: "
    )
    # importing the same policy again replaces its levels, it does not add to them
    import_people_and_schedules(db, [FIXTURES / "pagerduty_escalation_policies.json"], clock=clock)
    assert raw_scalar(db_path, "SELECT count(*) FROM escalation_levels") == 2


def test_pagerduty_users_with_contact_methods(db: Database, clock: FakeClock) -> None:
    report = import_people_and_schedules(db, [FIXTURES / "pagerduty_users.json"], clock=clock)
    assert report.contacts_new == 2
    tim = OnCallDirectory(db, clock=clock).contacts("tim.wright")[0]
    assert [(m.kind.value, m.e164 or m.value, m.label) for m in tim.reach] == [
        ("mobile", "+12125550199", "Mobile"),  # the label names the kind of a phone method
        ("sms", "+12125550199", "Mobile"),
        ("email", "tim.wright@example.com", ""),
    ]  # the push notification and the bare reference are no numbers


def test_contact_methods_of_an_unknown_user_are_refused(
    db: Database, db_path: Path, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "methods.json"
    path.write_text(
        json.dumps({"contact_methods": [{"type": "sms_contact_method", "address": "+1 212 555 0199",
                    "self": "https://api.pagerduty.com/users/PNOBODY/contact_methods/P1"}]}),
        encoding="utf-8",
    )  # fmt: skip
    report = import_people_and_schedules(db, [path], clock=clock)
    [refusal] = report.refused
    assert "pagerduty:PNOBODY, who is not known" in refusal.reason
    assert raw_scalar(db_path, "SELECT count(*) FROM people") == 0


# ------------------------------------------------------------------- Opsgenie


def test_opsgenie_timeline(db: Database, clock: FakeClock) -> None:
    report = import_people_and_schedules(
        db, [FIXTURES / "opsgenie_timeline.json", FIXTURES / "contacts_google.csv"], clock=clock
    )
    assert report.refused == []
    assert report.shifts == 4  # the "none" period is a gap, not a shift
    answer = who_is_on_call(db, datetime(2026, 11, 3, 12, tzinfo=UTC))
    [status] = answer.schedules
    assert status.name == "Payments_Schedule"
    assert [(p.name, p.layer) for p in status.on_call] == [
        ("lena.fischer@larkspur.example", "Weekdays · override")
    ]
    later = who_is_on_call(db, datetime(2026, 11, 3, 12, tzinfo=UTC) - timedelta(days=1))
    assert [p.email for p in later.schedules[0].on_call] == ["diego.alvarez@larkspur.example"]
    assert [(g.start, g.end) for g in status.gaps] == [
        (datetime(2026, 11, 4, 8, tzinfo=UTC), datetime(2026, 11, 5, 8, tzinfo=UTC))
    ]


def test_opsgenie_oncalls_are_a_snapshot_from_when_the_file_was_saved(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "oncalls.json"
    path.write_bytes((FIXTURES / "opsgenie_oncalls.json").read_bytes())
    os.utime(path, (SAVED.timestamp(), SAVED.timestamp()))
    report = import_people_and_schedules(db, [path], clock=clock)
    assert "carry no times" in report.notes[0].reason
    inside = who_is_on_call(db, SAVED + SNAPSHOT_VALIDITY / 2)
    assert [p.name for p in inside.schedules[0].on_call] == [
        "diego.alvarez@larkspur.example",
        "lena.fischer@larkspur.example",  # reached through the escalation participant
    ]
    assert who_is_on_call(db, SAVED + SNAPSHOT_VALIDITY).schedules[0].on_call == ()


# -------------------------------------------------------------- broken JSON


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"foo": 1, "bar": 2}, "unknown shape (top-level keys: bar, foo)"),
        ([1, 2], "a list at the top"),
        ({"oncalls": {"user": 1}}, "oncalls: expected a list, found a object"),
        ({"data": {"_parent": {}, "finalTimeline": {}}}, "the schedule has no id or name"),
    ],
)
def test_wrong_json_shapes_are_named(document: object, expected: str) -> None:
    with pytest.raises(ShapeError) as caught:
        parse_vendor_json(document, "x.json", saved_at=SAVED, region=None)
    assert expected.replace("a object", "a dict") in str(caught.value)


def test_bad_entries_are_refused_alone() -> None:
    document = {
        "oncalls": [
            {"user": {"id": "P1", "summary": "Ana"}, "schedule": {"id": "S1", "summary": "Main"},
             "start": "2026-11-02T08:00:00Z", "end": "2026-11-03T08:00:00Z"},
            {"user": {"id": "P2", "summary": "Ben"}, "schedule": {"id": "S1"},
             "start": "yesterday", "end": "2026-11-03T08:00:00Z"},
            {"user": {"id": "P3"}, "schedule": {"id": "S1"}, "start": "2026-11-02T08:00:00",
             "end": "2026-11-03T08:00:00Z"},
            {"user": "P4", "schedule": None, "start": None, "end": None},
        ]
    }  # fmt: skip
    parsed = parse_vendor_json(document, "x.json", saved_at=SAVED, region=None)
    assert [s.person for d in parsed.schedules for s in d.shifts] == ["Ana"]
    assert [r.reason for r in parsed.refused] == [
        "oncalls[1].start: 'yesterday' is not an ISO-8601 date-time",
        "oncalls[2].start: '2026-11-02T08:00:00' has no UTC offset",
        "oncalls[3].user: expected an object, found a string",
    ]


def test_invalid_and_unknown_json_files_change_nothing(
    db: Database, db_path: Path, tmp_path: Path, clock: FakeClock
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"oncalls": [\n  {"user": }\n]}', encoding="utf-8")
    odd = tmp_path / "odd.json"
    odd.write_text('{"incidents": []}', encoding="utf-8")
    report = import_people_and_schedules(db, [broken, odd], clock=clock)
    assert [(Path(r.path).name, r.line) for r in report.refused] == [
        ("broken.json", 2),
        ("odd.json", None),
    ]
    assert report.refused[0].reason.startswith("invalid JSON: Expecting value (column 12)")
    assert not report.read_any
    assert raw_scalar(db_path, "SELECT count(*) FROM schedules") == 0
    assert raw_scalar(db_path, "SELECT count(*) FROM cache_sets") == 0


# ----------------------------------------------------------------- iCalendar


def test_calendar_rrule_exdate_moved_instance_and_dst() -> None:
    text = calendar(
        """
UID:daily
DTSTART;TZID=Europe/London:20261023T090000
DTEND;TZID=Europe/London:20261024T090000
RRULE:FREQ=DAILY;COUNT=5
EXDATE;TZID=Europe/London:20261025T090000
ATTENDEE;CN=Priya Raman:mailto:priya.raman@larkspur.example
""",
        """
UID:daily
RECURRENCE-ID;TZID=Europe/London:20261026T090000
DTSTART;TZID=Europe/London:20261026T120000
DTEND;TZID=Europe/London:20261027T090000
SUMMARY:On call: Hanna Berg
CATEGORIES:override
""",
    )
    parsed = parse_calendar(text, "p.ics", now=datetime(2026, 10, 24, tzinfo=UTC))
    assert parsed.refused == []
    shifts = [(s.start, s.end, s.person, s.override) for s in parsed.schedules[0].shifts]
    assert shifts == [
        (datetime(2026, 10, 23, 8, tzinfo=UTC), datetime(2026, 10, 24, 8, tzinfo=UTC),
         "Priya Raman", False),
        # the night the clocks go back: 09:00 BST to 09:00 GMT is 25 hours
        (datetime(2026, 10, 24, 8, tzinfo=UTC), datetime(2026, 10, 25, 9, tzinfo=UTC),
         "Priya Raman", False),
        (datetime(2026, 10, 26, 12, tzinfo=UTC), datetime(2026, 10, 27, 9, tzinfo=UTC),
         "Hanna Berg", True),
        (datetime(2026, 10, 27, 9, tzinfo=UTC), datetime(2026, 10, 28, 9, tzinfo=UTC),
         "Priya Raman", False),
    ]  # fmt: skip
    assert parsed.schedules[0].key == "ical:Primary"


def test_calendar_without_dtstart_unknown_tzid_and_broken_rule() -> None:
    text = calendar(
        "UID:ok\nDTSTART:20261102T080000Z\nDTEND:20261102T200000Z\nSUMMARY:Ana",
        "UID:nostart\nSUMMARY:Ben",
        "UID:mars\nDTSTART;TZID=Mars/Olympus:20261102T080000\n"
        "DTEND;TZID=Mars/Olympus:20261102T200000\nSUMMARY:Cleo",
        "UID:rule\nDTSTART:20261102T080000Z\nDTEND:20261102T200000Z\n"
        "RRULE:FREQ=SOMETIMES\nSUMMARY:Dan",
        "UID:noend\nDTSTART:20261103T080000Z\nSUMMARY:Eve",
        "UID:nobody\nDTSTART:20261103T080000Z\nDTEND:20261103T200000Z",
        "UID:zero\nDTSTART:20261104T080000Z\nDTEND:20261104T080000Z\nSUMMARY:Gus",
    )
    parsed = parse_calendar(text, "bad.ics", now=datetime(2026, 11, 1, tzinfo=UTC))
    assert [s.person for s in parsed.schedules[0].shifts] == ["Ana"]
    assert [(r.line, r.reason.split(" (")[0]) for r in parsed.refused] == [
        (11, "event without DTSTART"),
        (15, "unknown time zone 'Mars/Olympus' in DTSTART"),
        (21, "cannot expand its repetition"),
        (33, "no ATTENDEE and no SUMMARY: whose shift is it?"),
    ]
    # an event of no length is nothing on call: skipped with a note, not refused
    assert [(n.line, n.reason) for n in parsed.notes] == [
        (28, "shift of no length skipped: no DTEND or DURATION, so it ends when it starts "
             "(event 'Eve')"),
        (38, "shift of no length skipped: its end equals its start (event 'Gus')"),
    ]  # fmt: skip


def test_floating_times_use_x_wr_timezone_and_all_day_events() -> None:
    text = calendar(
        "UID:a\nDTSTART:20261102T090000\nDTEND:20261102T170000\nSUMMARY:Primary - Aiko",
        "UID:b\nDTSTART;VALUE=DATE:20261103\nSUMMARY:Noah",
        extra="X-WR-TIMEZONE:Asia/Tokyo\n",
    )
    parsed = parse_calendar(text, "f.ics", now=datetime(2026, 11, 1, tzinfo=UTC))
    tokyo = ZoneInfo("Asia/Tokyo")
    assert [(s.person, s.start, s.end) for s in parsed.schedules[0].shifts] == [
        ("Aiko", datetime(2026, 11, 2, 9, tzinfo=tokyo), datetime(2026, 11, 2, 17, tzinfo=tokyo)),
        ("Noah", datetime(2026, 11, 3, tzinfo=tokyo), datetime(2026, 11, 4, tzinfo=tokyo)),
    ]
    assert "read in Asia/Tokyo" in parsed.notes[0].reason
    assert parsed.schedules[0].time_zone == "Asia/Tokyo"


def test_unreadable_calendar_is_refused_whole(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "bad.ics"
    path.write_text("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\n", encoding="utf-8")
    report = import_people_and_schedules(db, [path], clock=clock)
    assert [r.reason.split(":")[0] for r in report.refused] == ["not a readable iCalendar file"]


def test_a_newer_import_replaces_only_the_window_it_covers(
    db: Database, db_path: Path, tmp_path: Path, clock: FakeClock
) -> None:
    base = datetime(2026, 11, 2, 8, tzinfo=UTC)

    def oncalls(person: str, days: range) -> dict[str, object]:
        return {
            "oncalls": [
                {"user": {"id": person, "summary": person},
                 "schedule": {"id": "S1", "summary": "Main"},
                 "start": (base + timedelta(days=d)).isoformat(),
                 "end": (base + timedelta(days=d + 1)).isoformat()}
                for d in days
            ]
        }  # fmt: skip

    first = tmp_path / "first.json"
    first.write_text(json.dumps(oncalls("Ana", range(6))), encoding="utf-8")
    second = tmp_path / "second.json"
    second.write_text(json.dumps(oncalls("Ben", range(2, 4))), encoding="utf-8")
    import_people_and_schedules(db, [first], clock=clock)
    import_people_and_schedules(db, [second], clock=clock)
    rows = raw_rows(db_path, "SELECT person_name FROM shifts ORDER BY start_at")
    assert [r[0] for r in rows] == [
        "Ana", "Ana", "Ben", "Ben", "Ana", "Ana",
    ]  # fmt: skip
    assert raw_rows(db_path, "SELECT longest_shift_s, covered_until FROM schedules") == [
        (86401, "2026-11-08T08:00:00.000000Z")
    ]


def test_policy_targets_keep_their_kinds() -> None:
    document = json.loads((FIXTURES / "pagerduty_escalation_policies.json").read_text())
    parsed = parse_vendor_json(document, "p.json", saved_at=SAVED, region=None)
    [policy] = parsed.policies
    assert [[t.kind for t in level.targets] for level in policy.levels] == [
        [TargetKind.SCHEDULE],
        [TargetKind.PERSON],
    ]
    document["escalation_policies"][0]["escalation_rules"][0]["targets"][0]["type"] = "robot"
    refused = parse_vendor_json(document, "p.json", saved_at=SAVED, region=None).refused
    assert "'robot' is not a user or schedule" in refused[0].reason


def test_opsgenie_users_contacts_and_teams_with_bad_entries_refused_alone() -> None:
    from console.importers.vendors import opsgenie_people

    users = [
        {"id": "u1", "username": "Alice@Example.com", "fullName": "Alice"},
        {"id": "u2", "fullName": "No username"},
        "not a user",
        {"id": "u3", "username": "bob@example.com"},
    ]
    contacts: dict[str, list[Any]] = {
        "u1": [
            {"method": "sms", "to": "+44 7700 900123", "status": {"enabled": True}},
            {"method": "voice", "to": "+44 20 7946 0123", "status": {"enabled": False}},
            {"method": "mobile", "to": "Alice's phone"},  # the app's push: no address
        ],
        "u3": ["broken"],
    }
    teams = [
        {"name": "Payments", "members": [{"user": {"id": "u1"}}, {"user": {"id": "u3"}}]},
        {"name": "Broken", "members": "everyone"},
    ]
    parsed = opsgenie_people(users, contacts, teams, "users.json", region=None)
    assert [(c.name, c.email, c.vendor_ref) for c in parsed.contacts] == [
        ("Alice", "alice@example.com", "opsgenie:u1")
    ]
    [alice] = parsed.contacts
    assert [(r.kind.value, r.e164) for r in alice.reach] == [
        ("email", None),
        ("sms", "+447700900123"),
    ]
    assert alice.teams == ["Payments"]
    reasons = [r.reason for r in parsed.refused]
    assert reasons == [
        "teams[1].members: expected a list, found a string",
        "users[1]: an Opsgenie user needs its id and username",
        "users[2]: expected an object, found a string",
        "users[3].contacts[0]: expected an object, found a string",
    ]


def test_opsgenie_escalations_become_levels_with_waits_between_them() -> None:
    from console.importers.vendors import opsgenie_policies

    def rule(amount: object, unit: str, recipient: dict[str, str]) -> dict[str, object]:
        return {"delay": {"timeAmount": amount, "timeUnit": unit}, "recipient": recipient}

    escalations = [
        {
            "id": "e1",
            "name": "Ops",
            "repeat": {"count": 3},
            "rules": [
                rule(0, "minutes", {"type": "user", "id": "u1", "username": "a@example.com"}),
                rule(0, "minutes", {"type": "schedule", "id": "s1", "name": "Primary"}),
                rule(1, "hours", {"type": "team", "id": "t1", "name": "Payments"}),
            ],
        },
        {"id": "e2", "rules": [rule(-5, "minutes", {"type": "user", "id": "u1"})]},
        {"id": "e3", "rules": [rule(5, "minutes", {"type": "escalation", "id": "e1"})]},
        {"name": "no id"},
    ]
    parsed = opsgenie_policies(escalations, "escalations.json")
    [policy] = parsed.policies
    assert (policy.key, policy.name, policy.repeat) == ("opsgenie:e1", "Ops", 3)
    assert [(level.delay_minutes, [t.ref for t in level.targets]) for level in policy.levels] == [
        (60, ["opsgenie:u1", "opsgenie:s1"]),
        (0, ["Payments"]),
    ]
    assert [r.reason for r in parsed.refused] == [
        "escalations[1].rules[0].delay: not a time amount in days/hours/minutes",
        "escalations[2].rules[0].recipient.type: 'escalation' is not a user, schedule or team",
        "escalations[3].id: an escalation needs its id",
    ]


# ------------------------------------------------- issue 15: the same lesson, other files


def test_two_saved_copies_of_the_same_roster_list_each_person_once(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    """An on-call snapshot saved at 12:00 and again at 12:20 (two files): each person
    is on call once, until the later copy's end; the summary counts one schedule."""
    first, second = tmp_path / "oncalls.json", tmp_path / "oncalls (1).json"
    for path, saved in ((first, SAVED), (second, SAVED + timedelta(minutes=20))):
        path.write_bytes((FIXTURES / "opsgenie_oncalls.json").read_bytes())
        os.utime(path, (saved.timestamp(), saved.timestamp()))
    copies = tmp_path / "contacts (1).csv"
    copies.write_bytes((FIXTURES / "contacts_google.csv").read_bytes())
    report = import_people_and_schedules(
        db, [first, second, FIXTURES / "contacts_google.csv", copies], clock=clock
    )
    assert (report.schedules, report.shifts) == (1, 2)
    answer = who_is_on_call(db, SAVED + timedelta(minutes=30))
    [status] = answer.schedules
    assert [(p.name, p.shift_end) for p in status.on_call] == [
        ("diego.alvarez@larkspur.example", SAVED + timedelta(minutes=80)),
        ("lena.fischer@larkspur.example", SAVED + timedelta(minutes=80)),
    ]
    assert report.contacts_new == report.contacts_unchanged  # the copy adds nobody


def test_the_summary_counts_schedules_not_files(db: Database, clock: FakeClock) -> None:
    report = import_people_and_schedules(
        db,
        [
            FIXTURES / "opsgenie_timeline.json",
            FIXTURES / "opsgenie_timeline.vcr.yaml",  # the same schedule, recorded
            FIXTURES / "pagerduty_escalation_policies.json",
            FIXTURES / "pagerduty_escalation_policies.json",
        ],
        clock=clock,
    )
    assert report.refused == []
    assert (report.schedules, report.policies, len(report.files)) == (1, 1, 4)


def test_a_recorded_http_session_of_opsgenie_is_read_as_the_saved_responses(
    db: Database, db_path: Path, clock: FakeClock
) -> None:
    report = import_people_and_schedules(db, [FIXTURES / "opsgenie_timeline.vcr.yaml"], clock=clock)
    assert report.refused == []
    assert [f.kind for f in report.files] == ["recorded-http"]
    assert (report.schedules, report.shifts) == (1, 4)
    # what is not an on-call response is passed over, and says so
    assert [n.reason.split(":")[0] for n in report.notes] == [
        "passed over",
        "passed over",
    ]
    assert "(POST https://api.opsgenie.com/v2/alerts)" in report.notes[0].reason
    assert report.notes[1].reason.endswith("HTTP 404")
    answer = who_is_on_call(db, datetime(2026, 11, 3, 12, tzinfo=UTC))
    assert [p.name for p in answer.schedules[0].on_call] == ["lena.fischer@larkspur.example"]
    assert raw_scalar(db_path, "SELECT source FROM schedules").endswith(
        "opsgenie_timeline.vcr.yaml"
    )


def test_a_ruby_vcr_cassette_in_json_with_a_base64_body(db: Database, clock: FakeClock) -> None:
    report = import_people_and_schedules(
        db, [FIXTURES / "opsgenie_oncalls.cassette.json"], clock=clock
    )
    assert report.refused == []
    recorded = datetime(2026, 11, 2, 9, tzinfo=UTC)  # its recorded_at, not the file's time
    answer = who_is_on_call(db, recorded + timedelta(minutes=5))
    assert [p.name for p in answer.schedules[0].on_call] == [
        "diego.alvarez@larkspur.example",
        "lena.fischer@larkspur.example",
    ]


def test_recorded_http_without_an_oncall_response_is_refused_as_such(
    db: Database, db_path: Path, tmp_path: Path, clock: FakeClock
) -> None:
    hostile = tmp_path / "deep.vcr.yaml"
    hostile.write_text("interactions: " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    report = import_people_and_schedules(
        db, [FIXTURES / "opsgenie_alerts_only.vcr.yml", hostile], clock=clock
    )
    reasons = [r.reason for r in report.refused]
    assert reasons[0].startswith(
        "recorded HTTP, not CSV: none of its 2 recorded responses is an Opsgenie or "
        "PagerDuty on-call, schedule, user or policy response (interaction 1 (POST "
    )
    assert reasons[1].startswith("recorded HTTP, not CSV: invalid YAML: nested too deeply")
    assert not any("CSV header" in r or "column" in r for r in reasons)
    assert raw_scalar(db_path, "SELECT count(*) FROM schedules") == 0


def test_a_folder_reads_cassettes_but_not_other_yaml(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "timeline.yaml").write_bytes((FIXTURES / "opsgenie_timeline.vcr.yaml").read_bytes())
    (folder / "docker-compose.yml").write_text("services:\n  web: {image: nginx}\n")
    report = import_people_and_schedules(db, [folder], clock=clock)
    assert [Path(f.path).name for f in report.files] == ["timeline.yaml"]
    assert report.refused == []


def test_a_shift_of_no_length_is_skipped_with_a_note(db: Database, clock: FakeClock) -> None:
    report = import_people_and_schedules(
        db, [FIXTURES / "pagerduty_schedule_zero_length.json"], clock=clock
    )
    assert report.refused == []  # never "ends before it starts"
    assert [n.reason for n in report.notes] == [
        "schedule.final_schedule.rendered_schedule_entries[1]: shift of no length skipped "
        "(its end equals its start, 2026-11-03T08:00:00+00:00)"
    ]
    assert (report.schedules, report.shifts) == (1, 2)
    answer = who_is_on_call(db, datetime(2026, 11, 3, 8, tzinfo=UTC))
    assert [p.name for p in answer.schedules[0].on_call] == ["Cleo Park"]


@pytest.mark.parametrize(
    ("start", "end", "outcome"),
    [
        ("2026-11-02T08:00:00Z", "2026-11-02T08:00:00Z", "note"),
        ("2026-11-02T09:00:00Z", "2026-11-02T08:00:00Z", "refused"),
    ],
)
def test_pagerduty_oncalls_and_opsgenie_periods_of_no_length(
    start: str, end: str, outcome: str
) -> None:
    documents = [
        {"oncalls": [{"user": {"id": "P1", "summary": "Ana"}, "schedule": {"id": "S1"},
                      "start": start, "end": end}]},
        {"data": {"_parent": {"id": "s1", "name": "S"}, "finalTimeline": {"rotations": [
            {"name": "R", "periods": [{"startDate": start, "endDate": end, "type": "default",
                                       "recipient": {"type": "user", "name": "ana@x.example"}}]}
        ]}}},
    ]  # fmt: skip
    for document in documents:
        parsed = parse_vendor_json(document, "x.json", saved_at=SAVED, region=None)
        found = parsed.notes if outcome == "note" else parsed.refused
        assert len(found) == 1, (document, parsed)
        words = "shift of no length skipped" if outcome == "note" else "ends before it starts"
        assert words in found[0].reason


def test_a_cassette_body_made_of_yaml_aliases_is_not_written_out(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    levels = ["a0: &a0 [x, x]"] + [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}]" for n in range(1, 40)]
    cassette = tmp_path / "laughs.yaml"
    cassette.write_text(
        "anchors:\n"
        + "".join(f"  {line}\n" for line in levels)
        + "interactions:\n- request: {method: GET, uri: https://api.opsgenie.com/v2/x}\n"
        "  response:\n    status: {code: 200}\n    body: {string: *a39}\n",
        encoding="utf-8",
    )
    report = import_people_and_schedules(db, [cassette], clock=clock)
    [refusal] = report.refused
    assert "recorded HTTP, not CSV" in refusal.reason
    # the safe loader refuses the alias bomb itself, by line, before any body is built
    assert "alias bomb" in refusal.reason
    assert refusal.line is not None
