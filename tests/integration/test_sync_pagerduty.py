"""The PagerDuty push against the loopback emulator: exactly once, in order,
whatever the network does; refusals shown, never dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.domain.incident import Severity, Status
from console.ops.outbox import Outbox
from console.ops.workspace import Workspace
from console.sync import Accounts, sync_status
from console.sync.outcomes import marker
from tests import shared
from tests.emulators.pagerduty import Fault, PagerDutyEmulator
from tests.integration.sync_support import (
    SERVICE,
    SPEC,
    connect,
    declare,
    drain,
    pusher,
    remote_notes,
    validating_session,
)


@pytest.fixture
def emulator() -> Iterator[PagerDutyEmulator]:
    server = PagerDutyEmulator().start()
    yield server
    server.stop()


def _remote(emulator: PagerDutyEmulator, ws: Workspace, incident_id: int) -> str:
    account = Accounts(ws.db).get("pagerduty")
    link = Outbox(ws.db).link(account.id, incident_id)
    assert link is not None
    return link.remote_id


@shared.needs(SPEC, what="the PagerDuty spec")
def test_every_operation_matches_the_spec_and_lands_once(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    problems: list[str] = []
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    ws.incidents.add_note(incident, "rolled back the deploy")
    ws.incidents.change_status(incident, Status.MITIGATING)
    ws.incidents.change_severity(incident, Severity.SEV1)  # still "high": nothing to send
    ws.incidents.change_severity(incident, Severity.SEV3)
    ws.incidents.add_note(incident, "error rate back to normal")
    ws.incidents.change_status(incident, Status.RESOLVED)
    session = validating_session(problems, emulator.base_url)
    # the reconciling reads too: the first note's outcome is made unknown by a dropped reply
    emulator.script(Fault.DROP_AFTER_APPLY)
    reports = drain(lambda: pusher(ws, tokens, http=session))
    assert problems == []
    assert sum(r.pushed for r in reports) == 7
    remote = emulator.incidents[_remote(emulator, ws, incident)]
    assert remote.title == "Checkout down"
    assert remote.service_id == SERVICE
    assert remote.status == "resolved"
    assert [c for c in remote.changes if c[0] != "note"] == [
        ("status", "acknowledged"),
        ("urgency", "low"),
        ("status", "resolved"),
    ]
    assert remote_notes(emulator, remote.id) == [
        "rolled back the deploy",
        "error rate back to normal",
    ]
    assert len(emulator.incidents) == 1
    assert Outbox(ws.db).counts() == {"done": 7}


def test_connection_refused_keeps_everything_queued(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    ws.incidents.add_note(incident, "first")
    with emulator.offline():
        report = pusher(ws, tokens).run_pass()
        assert report.pushed == 0
        assert report.deferred >= 1
        assert report.waiting == 2
        assert any("refused" in (op.last_error or "") for op in Outbox(ws.db).listing(("pending",)))
    drain(lambda: pusher(ws, tokens))
    assert remote_notes(emulator, _remote(emulator, ws, incident)) == ["first"]


def test_a_dropped_create_is_found_by_its_incident_key_not_created_twice(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    emulator.script(Fault.DROP_AFTER_APPLY, Fault.SLOW_BODY)
    drain(lambda: pusher(ws, tokens))
    assert len(emulator.incidents) == 1
    creates = [r for r in emulator.requests if r.method == "POST" and r.applied]
    assert len(creates) == 1
    assert _remote(emulator, ws, incident) in emulator.incidents


def test_401_stops_the_account_and_keeps_everything_queued(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, emulator, token="wrong-token")
    incident = declare(ws)
    ws.incidents.add_note(incident, "queued")
    report = pusher(ws, tokens).run_pass()
    assert report.stopped is not None
    assert "refused the token" in report.stopped
    assert "Authentication failed" in report.stopped
    assert Outbox(ws.db).counts() == {"pending": 2}
    again = pusher(ws, tokens).run_pass()  # a stopped account sends nothing
    assert again.requests == 0
    tokens.store("pagerduty", emulator.token)
    connect(ws, emulator)  # adding the account again clears the stop
    drain(lambda: pusher(ws, tokens))
    assert Outbox(ws.db).counts() == {"done": 2}


def test_another_4xx_fails_the_one_operation_with_the_vendor_message(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    Accounts(ws.db).add(
        "pagerduty",
        base_url=emulator.base_url,
        from_email="alice@example.com",
        default_service="XBROKEN",
    )
    incident = declare(ws)
    ws.incidents.add_note(incident, "waits behind its creation")
    report = pusher(ws, tokens).run_pass()
    assert report.failed == 1
    failed = Outbox(ws.db).listing(("failed",))
    assert [op.operation for op in failed] == ["incident.create"]
    assert failed[0].last_error == "HTTP 400: Invalid Input Provided; Service not found"
    assert Outbox(ws.db).counts() == {"failed": 1, "pending": 1}
    status = sync_status(ws.db, tokens)
    assert status["failed"][0]["error"] == failed[0].last_error
    # the user fixes the setting and retries: both go through, in order
    connect(ws, emulator)
    Outbox(ws.db).retry(failed[0].id)
    drain(lambda: pusher(ws, tokens))
    assert remote_notes(emulator, _remote(emulator, ws, incident)) == ["waits behind its creation"]


def test_remote_resolution_and_deletion_supersede_with_the_reason_on_the_timeline(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    first, second = declare(ws, "one"), declare(ws, "two")
    drain(lambda: pusher(ws, tokens))
    emulator.resolve(_remote(emulator, ws, first))
    emulator.delete(_remote(emulator, ws, second))
    ws.incidents.change_status(first, Status.MITIGATING)
    ws.incidents.add_note(second, "lost cause")
    report = pusher(ws, tokens).run_pass()
    assert report.superseded == 2
    assert Outbox(ws.db).counts() == {"done": 2, "superseded": 2}
    reasons = [e.text for e in ws.queries.timeline(first) if e.kind.value == "remote"]
    assert reasons == [
        f"Not sent: PagerDuty incident {_remote(emulator, ws, first)} was resolved (or merged "
        "into another) there meanwhile; the status change to mitigating was not sent"
    ]
    gone = [e.text for e in ws.queries.timeline(second) if e.kind.value == "remote"]
    assert len(gone) == 1
    assert "no longer exists" in gone[0]


def test_a_note_with_an_unknown_outcome_is_looked_for_before_it_is_sent_again(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    drain(lambda: pusher(ws, tokens))
    ws.incidents.add_note(incident, "exactly once")
    emulator.script(Fault.DROP_AFTER_APPLY)
    drain(lambda: pusher(ws, tokens))
    remote = _remote(emulator, ws, incident)
    assert remote_notes(emulator, remote) == ["exactly once"]
    op = Outbox(ws.db).listing(("done",))[-1]
    assert marker(op) in emulator.incidents[remote].notes[0]["content"]
    assert op.remote_id == emulator.incidents[remote].notes[0]["id"]


@shared.needs(SPEC, what="the PagerDuty spec")
def test_status_updates_are_posted_and_an_unknown_outcome_waits_for_a_person(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    drain(lambda: pusher(ws, tokens))
    ws.incidents.post_update(incident, "Investigating elevated 5xx", template="status-page")
    drain(lambda: pusher(ws, tokens))
    remote = _remote(emulator, ws, incident)
    assert [u["message"] for u in emulator.incidents[remote].status_updates] == [
        "Investigating elevated 5xx"
    ]
    # the reply is lost after PagerDuty applied it: no blind resend, a decision instead
    ws.incidents.post_update(incident, "Identified: a bad deploy", template="status-page")
    emulator.script(Fault.DROP_AFTER_APPLY)
    drain(lambda: pusher(ws, tokens))
    assert len(emulator.incidents[remote].status_updates) == 2
    [failed] = Outbox(ws.db).listing(("failed",))
    assert failed.operation == "incident.status_update"
    assert "cannot be read back" in (failed.last_error or "")
