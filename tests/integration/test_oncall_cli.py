"""``import contacts``, ``import oncall``, ``oncall``, ``oncall export-ics`` and ``people``
through the real command line, as a subprocess: exit codes, stderr lines, JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.integration.test_cli import as_json, ok, run
from tests.unit.test_oncall_import import FIXTURES, PYGERDUTY

#: The stable JSON shapes (README, "JSON shapes").
IMPORT_KEYS = {"files", "contacts", "schedules", "shifts", "policies", "refused", "notes"}
ANSWER_KEYS = {"at", "service", "policy", "levels", "schedules", "cache", "warnings"}
SCHEDULE_KEYS = {"key", "name", "time_zone", "on_call", "covered_until", "gaps", "warnings"}
PERSON_KEYS = {"name", "email", "known", "shift_start", "shift_end", "override", "layer", "reach"}
REACH_KEYS = {"kind", "value", "e164", "formatted", "label", "problem", "url"}
LEVEL_KEYS = {"level", "delay_minutes", "starts_after_minutes", "targets"}
TARGET_KEYS = {"kind", "name", "ref", "schedule", "people", "problem"}
CONTACT_KEYS = {"id", "name", "email", "teams", "reach", "source"}


def test_import_contacts_lists_bad_rows_and_exits_three(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run(
        "import",
        "contacts",
        str(FIXTURES / "contacts_outlook.csv"),
        str(FIXTURES / "contacts.vcf"),
        "--region",
        "GB",
        "--json",
        data_dir=data,
    )
    assert result.returncode == 3, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == IMPORT_KEYS
    assert document["contacts"] == {"new": 4, "updated": 0, "unchanged": 0}
    outlook = str(FIXTURES / "contacts_outlook.csv")
    assert f"{outlook}:3: 'not-an-address' is not an e-mail address" in result.stderr.splitlines()
    assert f"{FIXTURES / 'contacts.vcf'}:36: card never closed with END:VCARD" in result.stderr
    assert {"path": outlook, "line": 3, "reason": "'not-an-address' is not an e-mail address"} in (
        document["refused"]
    )
    people = as_json(run("people", "--json", data_dir=data))
    assert set(people) == {"people"}
    assert [p["name"] for p in people["people"]] == [
        "Aiko Tanaka",
        "Diego Alvarez",
        "Noah Kim",
        "Sam Whitfield",
    ]
    assert set(people["people"][0]) == CONTACT_KEYS
    assert set(people["people"][0]["reach"][0]) == REACH_KEYS
    text = ok(run("people", "noah", data_dir=data))
    assert "Noah Kim" in text
    assert "+1 415-555-0187" in text


def test_import_with_nothing_usable_exits_one_and_bad_options_two(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"oncalls": [}', encoding="utf-8")
    result = run("import", "oncall", str(bad), data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{bad}:1: invalid JSON")
    region = run("import", "contacts", str(bad), "--region", "Narnia", data_dir=tmp_path / "d2")
    assert region.returncode == 2
    assert "not a region phonenumbers knows" in region.stderr


@pytest.mark.skipif(not PYGERDUTY.is_dir(), reason=f"the corpus is not at {PYGERDUTY}")
def test_pagerduty_payloads_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    imported = as_json(
        run(
            "import",
            "oncall",
            str(PYGERDUTY / "schedule_v2.json"),
            str(PYGERDUTY / "user_v2.json"),
            str(PYGERDUTY / "contacts_v2.json"),
            str(FIXTURES / "pagerduty_escalation_policies.json"),
            "--region",
            "US",
            "--json",
            data_dir=data,
        )
    )
    assert (imported["schedules"], imported["shifts"], imported["policies"]) == (1, 1, 1)
    answer = as_json(
        run(
            "oncall",
            "--service",
            "orders-api",
            "--at",
            "2015-11-10T10:00",
            "--tz",
            "America/New_York",
            "--json",
            data_dir=data,
        )
    )
    assert set(answer) == ANSWER_KEYS
    assert answer["at"] == "2015-11-10T15:00:00+00:00"
    assert answer["policy"] == "Engineering Escalation Policy"
    first, second = answer["levels"]
    assert set(first) == LEVEL_KEYS
    assert set(first["targets"][0]) == TARGET_KEYS
    [person] = first["targets"][0]["people"]
    assert set(person) == PERSON_KEYS
    assert person["name"] == "Earline Greenholt"  # the schedule's user id, matched to the contact
    assert {m["url"] for m in person["reach"]} >= {"sms:+17483784787", "tel:+17483784787"}
    assert second["starts_after_minutes"] == 30
    assert set(answer["schedules"][0]) == SCHEDULE_KEYS
    assert answer["cache"]["schedules"]["source"].startswith("import: ")
    assert isinstance(answer["cache"]["schedules"]["age_seconds"], int)
    assert any("cached shifts ended" in w for w in answer["warnings"])


def test_demo_answers_now_and_exports_a_calendar(tmp_path: Path) -> None:
    data = tmp_path / "data"
    answer = as_json(
        run("--demo", "oncall", "--service", "payments-gateway", "--json", data_dir=data)
    )
    assert answer["policy"] == "Payments"
    names = [p["name"] for t in answer["levels"][0]["targets"] for p in t["people"]]
    assert names
    assert names[0] in ("Diego Alvarez", "Lena Fischer")
    assert answer["cache"]["people"]["source"] == "demo workspace"
    text = ok(run("--demo", "oncall", "--tz", "Europe/London", data_dir=data))
    assert "Orders primary:" in text
    assert "Warnings:" in text
    out = tmp_path / "priya.ics"
    result = run(
        "--demo", "oncall", "export-ics", "priya.raman@larkspur.example", "--out", str(out),
        data_dir=data,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "shifts of Priya Raman" in result.stderr
    calendar = Calendar.from_ical(out.read_text(encoding="utf-8"))
    events = calendar.walk("VEVENT")
    assert events
    assert all(str(e["ATTENDEE"]) == "mailto:priya.raman@larkspur.example" for e in events)
    missing = run("--demo", "oncall", "export-ics", "Nobody", "Here", data_dir=data)
    assert missing.returncode == 1
    assert "nobody called 'Nobody Here'" in missing.stderr


def test_oncall_errors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad_time = run("oncall", "--at", "Saturday 2am", data_dir=data)
    assert bad_time.returncode == 2
    assert "is not a time" in bad_time.stderr
    gap = run("oncall", "--at", "2026-03-29T01:30", "--tz", "Europe/London", data_dir=data)
    assert gap.returncode == 2
    assert "does not exist" in gap.stderr
    unknown = run("oncall", "--service", "nothing-here", "--json", data_dir=data)
    assert unknown.returncode == 1
    assert "no escalation policy" in json.loads(unknown.stdout)["warnings"][0]
    empty = ok(run("oncall", data_dir=data))
    assert "No schedules cached" in empty
