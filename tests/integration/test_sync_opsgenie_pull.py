"""Pull from Opsgenie against the loopback emulator: people with contacts and teams,
schedules' coming weeks, escalations, and what other responders did on our alerts
(once, however often it is pulled); every request and reply checked against the spec."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from console.domain.clock import utc_now
from console.domain.incident import Severity
from console.ops.workspace import Workspace
from console.sync.pull import Puller, PullPolicy
from tests import shared
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.integration.sync_support import (
    OPSGENIE_SPEC,
    connect,
    drain,
    pusher,
    validating_session,
)


@pytest.fixture
def emulator() -> Iterator[OpsgenieEmulator]:
    server = OpsgenieEmulator().start()
    now = utc_now()
    server.add_user("u1", "alice@example.com", "Alice Example", sms="+44 7700 900123")
    server.add_user("u2", "bob@example.com", "Bob Jones", voice="+1 415 555 0100")
    server.add_user("u3", "not-an-address", "Carol")
    server.add_team("t1", "Payments", "u1", "u2")
    server.add_schedule(
        "s1",
        "Payments primary",
        [
            ("Weekly", now - timedelta(days=1), now + timedelta(days=1), "u1"),
            ("Weekly", now + timedelta(days=1), now + timedelta(days=8), "u2"),
            ("Weekly", now + timedelta(days=60), now + timedelta(days=67), "u1"),  # too far
        ],
    )
    server.escalations.append(
        {
            "id": "e1",
            "name": "Payments escalation",
            "rules": [
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 0, "timeUnit": "minutes"},
                    "recipient": {"type": "schedule", "id": "s1", "name": "Payments primary"},
                },
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 15, "timeUnit": "minutes"},
                    "recipient": {"type": "user", "id": "u2", "username": "bob@example.com"},
                },
                {
                    "condition": "if-not-acked",
                    "notifyType": "default",
                    "delay": {"timeAmount": 1, "timeUnit": "hours"},
                    "recipient": {"type": "team", "id": "t1", "name": "Payments"},
                },
            ],
            "repeat": {"waitInterval": 0, "count": 2},
        }
    )
    yield server
    server.stop()


@shared.needs(OPSGENIE_SPEC, what="the Opsgenie spec")
def test_pull_fills_the_cache_and_merges_remote_activity_once(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    outcome = ws.incidents.declare("Checkout down", Severity.SEV2)
    assert outcome.incident is not None
    incident = outcome.incident.id
    ws.incidents.add_note(incident, "our own note")
    drain(lambda: pusher(ws, tokens))
    [alert] = emulator.alerts.values()
    emulator.add_note(alert.id, "Bob: looking at the payment gateway")
    emulator.acknowledge_by(alert.id, "bob@example.com")

    problems: list[str] = []
    session = validating_session(problems, emulator.base_url, OPSGENIE_SPEC)
    [report] = Puller(ws.db, tokens, vendors=["opsgenie"], http=session).run()
    assert problems == []
    assert report.errors == []
    assert report.failed == {}
    assert report.sets["people"]["fetched"] == 3
    assert report.sets["incidents"]["added"] == 2

    with ws.db.raw_reader() as raw:
        people = raw.execute(
            "SELECT name, email, vendor_ref FROM people ORDER BY vendor_ref"
        ).fetchall()
        reach = raw.execute(
            "SELECT p.vendor_ref, r.kind, r.e164 FROM reach_methods r "
            "JOIN people p ON p.id = r.person_id WHERE r.kind != 'email' ORDER BY 1"
        ).fetchall()
        teams = raw.execute(
            "SELECT t.name, count(*) FROM teams t JOIN team_members m ON m.team_id = t.id "
            "GROUP BY t.name"
        ).fetchall()
        shifts = raw.execute(
            "SELECT s.key, h.person_email FROM shifts h JOIN schedules s ON s.id = h.schedule_id "
            "ORDER BY h.start_at"
        ).fetchall()
        levels = raw.execute(
            "SELECT l.level, l.delay_minutes, t.kind, t.ref FROM escalation_levels l "
            "JOIN escalation_policies p ON p.id = l.policy_id "
            "JOIN escalation_targets t ON t.level_id = l.id WHERE p.key = 'opsgenie:e1' "
            "ORDER BY l.level"
        ).fetchall()
    assert ("Alice Example", "alice@example.com", "opsgenie:u1") in people
    assert ("Bob Jones", "bob@example.com", "opsgenie:u2") in people
    assert reach == [
        ("opsgenie:u1", "sms", "+447700900123"),
        ("opsgenie:u2", "phone", "+14155550100"),
    ]
    assert teams == [("Payments", 2)]
    assert shifts == [
        ("opsgenie:s1", "alice@example.com"),
        ("opsgenie:s1", "bob@example.com"),
    ]
    assert [(level, delay, kind) for level, delay, kind, _ in levels] == [
        (1, 15, "schedule"),
        (2, 45, "person"),
        (3, 0, "team"),
    ]

    remote = [e.text for e in ws.queries.timeline(incident) if e.kind.value == "remote"]
    assert remote == [
        "Note: Bob: looking at the payment gateway",
        "Alert acknowledged by bob@example.com",
    ]
    # a second pull adds nothing to the timeline
    [again] = Puller(ws.db, tokens, vendors=["opsgenie"]).run()
    assert again.sets["incidents"].get("added", 0) == 0
    assert [e.text for e in ws.queries.timeline(incident) if e.kind.value == "remote"] == remote


def test_a_set_that_cannot_be_fetched_is_refused_whole_and_the_rest_goes_on(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator, mode="incident")
    emulator.broken.add("/v2/escalations")
    policy = PullPolicy(backoff_base=0.01, backoff_cap=0.02, attempts=2)
    [report] = Puller(ws.db, tokens, vendors=["opsgenie"], policy=policy).run()
    assert list(report.failed) == ["escalations"]
    assert "gave up after retries" in report.failed["escalations"]
    assert "HTTP 503: Service Unavailable" in report.failed["escalations"]
    with ws.db.raw_reader() as raw:
        assert raw.execute("SELECT count(*) FROM escalation_policies").fetchone() == (0,)
        assert raw.execute("SELECT count(*) FROM shifts").fetchone() == (2,)
        assert raw.execute("SELECT count(*) FROM people").fetchone() == (3,)
        fetched = {name for (name,) in raw.execute("SELECT name FROM cache_sets")}
    assert {"opsgenie.people", "opsgenie.schedules", "opsgenie.incidents"} <= fetched
    assert "opsgenie.escalations" not in fetched
    emulator.broken.clear()
    [again] = Puller(ws.db, tokens, vendors=["opsgenie"], policy=policy).run()
    assert again.failed == {}
    assert again.sets["escalations"]["policies"] == 1


def test_incident_mode_pulls_notes_other_responders_wrote(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator, mode="incident")
    outcome = ws.incidents.declare("Checkout down", Severity.SEV1)
    assert outcome.incident is not None
    ws.incidents.add_note(outcome.incident.id, "ours")
    drain(lambda: pusher(ws, tokens))
    [remote] = emulator.incidents.values()
    emulator.add_note(remote.id, "Carol: status page updated")
    for _ in range(2):
        Puller(ws.db, tokens, vendors=["opsgenie"]).run()
    texts = [e.text for e in ws.queries.timeline(outcome.incident.id) if e.kind.value == "remote"]
    assert texts == ["Note: Carol: status page updated"]
