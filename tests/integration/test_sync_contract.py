"""What the console sends is what the vendors' specs say (every request the
emulators receive is checked: tests/conftest.py), and what a vendor's 404 means."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from console.domain.clock import utc_now
from console.domain.incident import EntryKind, Severity, Status
from console.ops.outbox import Outbox
from console.ops.workspace import Workspace
from console.sync import Accounts, Pusher, Tokens
from console.sync.pull import Puller
from tests import shared
from tests.emulators.loopback import Fault, LoopbackEmulator
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import (
    FAST,
    SPEC,
    connect,
    declare,
    drain,
    pusher,
    remote_notes,
    remote_severity,
    severity_there,
)

needs_spec = shared.needs(SPEC, what="the PagerDuty spec")


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyEmulator]:
    server = PagerDutyEmulator().start()
    yield server
    server.stop()


@needs_spec
def test_an_incident_body_is_the_object_the_spec_describes(
    ws: Workspace, pagerduty: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, pagerduty)
    incident = declare(ws)  # with a summary: the creation carries a body
    drain(lambda: pusher(ws, tokens))
    assert Outbox(ws.db).counts() == {"done": 1}
    link = Outbox(ws.db).link(Accounts(ws.db).get("pagerduty").id, incident)
    assert link is not None
    # IncidentBody.details is an object (the spec's example sends a string)
    assert pagerduty.incidents[link.remote_id].details == {"summary": "500s on /pay"}
    assert pagerduty.violations() == []


@needs_spec
def test_the_emulator_checks_requests_a_fault_drops_before_any_reply(
    pagerduty: PagerDutyEmulator,
) -> None:
    """The check sits where requests arrive, so a request whose reply is lost (no
    client-side hook ever sees it) is checked too."""
    pagerduty.script(Fault.DROP_AFTER_APPLY)
    body = {"incident": {"type": "incident", "title": "t", "service": {"id": "PX"}}}
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{pagerduty.base_url}/incidents",
            json={**body, "incident": {**body["incident"], "body": {"details": "a string"}}},
            headers={"Authorization": f"Token token={pagerduty.token}", "From": "a@example.com"},
            timeout=5,
        )
    problems = pagerduty.violations()
    assert problems, "a request the spec refuses went unnoticed"
    assert all(p.startswith("POST /incidents: ") for p in problems)
    assert any("details: 'a string' is not of type 'object'" in p for p in problems)
    pagerduty.received.clear()  # the violation was the point: the guard lets this test pass


# --------------------------------------------------------------- a 404 is checked

#: (vendor, Opsgenie mode) of every driver
DRIVERS = [("pagerduty", "alert"), ("opsgenie", "alert"), ("opsgenie", "incident")]
#: the write each kind of operation ends in, per driver: (method, path pattern)
WRITES = {
    ("pagerduty", "alert"): {
        "note": ("POST", r"/incidents/[^/]+/notes"),
        "status": ("PUT", r"/incidents/[^/]+"),
        "severity": ("PUT", r"/incidents/[^/]+"),
    },
    ("opsgenie", "alert"): {
        "note": ("POST", r"/v2/alerts/[^/]+/notes"),
        "status": ("POST", r"/v2/alerts/[^/]+/close"),
        "severity": ("PUT", r"/v2/alerts/[^/]+/priority"),
    },
    ("opsgenie", "incident"): {
        "note": ("POST", r"/v1/incidents/[^/]+/notes"),
        "status": ("POST", r"/v1/incidents/[^/]+/resolve"),
        "severity": ("PUT", r"/v1/incidents/[^/]+/priority"),
    },
}
READ_BACK = {
    ("pagerduty", "alert"): r"/incidents/[^/]+",
    ("opsgenie", "alert"): r"/v2/alerts/[^/]+",
    ("opsgenie", "incident"): r"/v1/incidents/[^/]+",
}


Driver = tuple[str, str]


@pytest.fixture
def vendor(request: pytest.FixtureRequest) -> Iterator[tuple[LoopbackEmulator, Driver]]:
    """The emulator of a driver (vendor, Opsgenie mode), started."""
    driver: Driver = request.param
    server = (PagerDutyEmulator() if driver[0] == "pagerduty" else OpsgenieEmulator()).start()
    yield server, driver
    server.stop()


def _pushed_incident(
    ws: Workspace, emulator: LoopbackEmulator, mode: str
) -> tuple[Tokens, int, str]:
    """The account's tokens, an incident whose creation reached the vendor, its remote id."""
    tokens, _ = connect(ws, emulator, mode=mode)
    incident = declare(ws)
    drain(lambda: pusher(ws, tokens))
    vendor = "pagerduty" if isinstance(emulator, PagerDutyEmulator) else "opsgenie"
    link = Outbox(ws.db).link(Accounts(ws.db).get(vendor).id, incident)
    assert link is not None
    return tokens, incident, link.remote_id


def _queue(ws: Workspace, incident: int, kind: str) -> None:
    if kind == "note":
        ws.incidents.add_note(incident, "rolled back the deploy")
    elif kind == "status":
        ws.incidents.change_status(incident, Status.RESOLVED)
    else:
        ws.incidents.change_severity(incident, Severity.SEV4)


def _landed(emulator: LoopbackEmulator, remote_id: str, kind: str) -> bool:
    if kind == "note":
        return remote_notes(emulator, remote_id) == ["rolled back the deploy"]
    if kind == "severity":
        return remote_severity(emulator, remote_id) == severity_there(emulator, Severity.SEV4)
    if isinstance(emulator, PagerDutyEmulator):
        return emulator.incidents[remote_id].status == "resolved"
    assert isinstance(emulator, OpsgenieEmulator)
    remote = emulator.alerts.get(remote_id) or emulator.incidents[remote_id]
    return remote.status in ("closed", "resolved")


@pytest.mark.parametrize("kind", ["note", "status", "severity"])
@pytest.mark.parametrize("vendor", DRIVERS, indirect=True, ids="-".join)
def test_a_404_while_the_incident_is_there_fails_the_operation_and_a_retry_delivers_it(
    ws: Workspace, vendor: tuple[LoopbackEmulator, Driver], kind: str
) -> None:
    emulator, driver = vendor
    tokens, incident, remote_id = _pushed_incident(ws, emulator, driver[1])
    _queue(ws, incident, kind)
    method, path = WRITES[driver][kind]
    emulator.script_on(method, path, Fault.E404)
    report = pusher(ws, tokens).run_pass()
    assert (report.superseded, report.failed) == (0, 1)
    [failed] = Outbox(ws.db).listing(("failed",))
    assert failed.last_error is not None
    assert "404" in failed.last_error
    assert f"{remote_id} is there (read back just now), so it was not deleted" in failed.last_error
    assert not [e for e in ws.queries.timeline(incident) if e.text.startswith("Not sent")]
    assert not _landed(emulator, remote_id, kind)
    Outbox(ws.db).retry(failed.id)  # the person's decision, as `sync retry`
    drain(lambda: pusher(ws, tokens))
    assert _landed(emulator, remote_id, kind)
    assert Outbox(ws.db).counts() == {"done": 2}


@pytest.mark.parametrize("fault", [Fault.E503, Fault.TIMEOUT])
@pytest.mark.parametrize("vendor", DRIVERS, indirect=True, ids="-".join)
def test_a_404_whose_read_back_fails_keeps_the_operation_and_tries_again(
    ws: Workspace, vendor: tuple[LoopbackEmulator, Driver], fault: Fault
) -> None:
    emulator, driver = vendor
    tokens, incident, remote_id = _pushed_incident(ws, emulator, driver[1])
    _queue(ws, incident, "note")
    emulator.script_on(*WRITES[driver]["note"], Fault.E404)
    emulator.script_on("GET", READ_BACK[driver], fault)
    # a back-off that outlasts the pass (on a clock an hour behind, so the retry
    # below is due at once): the reason can be read while the note waits
    slow = replace(FAST, backoff_base=100.0, backoff_cap=100.0)
    report = Pusher(
        ws.db, tokens, policy=slow, clock=lambda: utc_now() - timedelta(hours=1)
    ).run_pass()
    assert (report.superseded, report.failed, report.deferred) == (0, 0, 1)
    [kept] = Outbox(ws.db).listing(("pending", "sent"))
    assert kept.last_error is not None
    assert "to see whether it was deleted failed" in kept.last_error
    drain(lambda: pusher(ws, tokens))
    assert remote_notes(emulator, remote_id) == ["rolled back the deploy"]
    assert Outbox(ws.db).counts() == {"done": 2}


@pytest.mark.parametrize("vendor", DRIVERS, indirect=True, ids="-".join)
def test_a_404_not_in_the_vendors_words_is_no_confirmation(
    ws: Workspace, vendor: tuple[LoopbackEmulator, Driver]
) -> None:
    """A bare 404 on the read-back (a proxy's, a wrong base URL) does not confirm a
    deletion: the operation fails with both answers for a person to look at."""
    emulator, driver = vendor
    tokens, incident, _ = _pushed_incident(ws, emulator, driver[1])
    _queue(ws, incident, "note")
    emulator.script_on(*WRITES[driver]["note"], Fault.E404)
    emulator.script_on("GET", READ_BACK[driver], Fault.E404_FOREIGN)
    report = pusher(ws, tokens).run_pass()
    assert (report.superseded, report.failed) == (0, 1)
    [failed] = Outbox(ws.db).listing(("failed",))
    assert failed.last_error is not None
    assert "back answered HTTP 404" in failed.last_error


@pytest.mark.parametrize("kind", ["note", "status", "severity"])
@pytest.mark.parametrize("vendor", DRIVERS, indirect=True, ids="-".join)
def test_a_deletion_the_read_back_confirms_supersedes(
    ws: Workspace, vendor: tuple[LoopbackEmulator, Driver], kind: str
) -> None:
    emulator, driver = vendor
    tokens, incident, remote_id = _pushed_incident(ws, emulator, driver[1])
    _queue(ws, incident, kind)
    assert isinstance(emulator, (PagerDutyEmulator, OpsgenieEmulator))
    emulator.delete(remote_id)
    report = pusher(ws, tokens).run_pass()
    assert (report.superseded, report.failed) == (1, 0)
    [entry] = [e.text for e in ws.queries.timeline(incident) if e.text.startswith("Not sent")]
    assert (
        f"{remote_id} no longer exists (deleted there: reading it back answered not found)" in entry
    )


def test_a_404_on_an_incidents_notes_in_the_pull_skips_no_note(
    ws: Workspace, pagerduty: PagerDutyEmulator
) -> None:
    """The pull took a 404 on an incident's notes as "deleted there" and marked the
    set read: the colleague's note never arrived. Unconfirmed, the set fails and the
    next pull reads it again."""
    pagerduty.populate(users=2)
    pagerduty.users[0]["email"] = "alice@example.com"  # the account's From user: us
    tokens, incident, remote_id = _pushed_incident(ws, pagerduty, "alert")
    pagerduty.remote_note(remote_id, "restarted the pods", pagerduty.users[1])
    pagerduty.script_on("GET", r"/incidents/[^/]+/notes", Fault.E404)
    [first] = Puller(ws.db, tokens).run()
    assert "not a deletion" in first.failed["incidents"]
    remote = [e.text for e in ws.queries.timeline(incident) if e.kind is EntryKind.REMOTE]
    assert "restarted the pods" not in remote
    [second] = Puller(ws.db, tokens).run()
    assert "incidents" not in second.failed
    remote = [e.text for e in ws.queries.timeline(incident) if e.kind is EntryKind.REMOTE]
    assert remote.count("restarted the pods") == 1


# ------------------------------------------------------- a vendor echoes the token


@pytest.mark.parametrize("vendor", DRIVERS, indirect=True, ids="-".join)
def test_an_echoed_authorization_header_is_stored_nowhere(
    ws: Workspace, data_dir: Path, vendor: tuple[LoopbackEmulator, Driver]
) -> None:
    """Both vendors: a refusal (400) and a server error (500) that repeat the
    request's Authorization header leave the token in no stored text nor file."""
    emulator, driver = vendor
    tokens, incident, _ = _pushed_incident(ws, emulator, driver[1])
    ws.incidents.add_note(incident, "refused")
    ws.incidents.add_note(incident, "retried")
    note = WRITES[driver]["note"]
    emulator.script_on(*note, Fault.ECHO_400, *[Fault.ECHO_500] * 8)
    slow = replace(FAST, backoff_base=100.0, backoff_cap=100.0)  # the 500 waits, seen
    report = Pusher(ws.db, tokens, policy=slow).run_pass()
    assert (report.failed, report.deferred) == (1, 1)
    [failed] = Outbox(ws.db).listing(("failed",))
    [waiting] = Outbox(ws.db).listing(("pending", "sent"))
    account = Accounts(ws.db).get(driver[0])
    stored = [failed.last_error, waiting.last_error, account.last_error, *report.errors]
    assert all(text and "Authorization: " in text for text in stored[:3])
    secret = tokens.get(driver[0])
    assert secret is not None
    for text in stored:
        assert secret not in (text or "")
    for path in (p for p in data_dir.rglob("*") if p.is_file()):  # database, WAL, logs
        assert secret.encode() not in path.read_bytes(), path
