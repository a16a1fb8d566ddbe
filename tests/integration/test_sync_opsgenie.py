"""The Opsgenie push (alerts, and incidents in incident mode) against the loopback
emulator: exactly once, in order, whatever the network does; refusals shown."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from console.domain.clock import utc_now
from console.domain.incident import Severity, Status
from console.ops.outbox import Outbox
from console.ops.workspace import Workspace
from console.sync import Accounts, Pusher
from console.sync.opsgenie import NOTES_PAGE
from console.sync.outcomes import marker
from tests import shared
from tests.emulators.opsgenie import Fault, OpsgenieEmulator, Remote
from tests.integration.sync_support import (
    FAST,
    OPSGENIE_SERVICE,
    OPSGENIE_SPEC,
    connect,
    declare,
    drain,
    pusher,
    validating_session,
)

needs_spec = shared.needs(OPSGENIE_SPEC, what="the Opsgenie spec")
#: Incident API calls the spec lacks (notes, resolve, priority): from Opsgenie's public docs
_UNSPECIFIED = re.compile(r"^/v1/incidents/[^/]+/(notes|resolve|priority)$")


@pytest.fixture
def emulator() -> Iterator[OpsgenieEmulator]:
    server = OpsgenieEmulator().start()
    yield server
    server.stop()


def _remote(emulator: OpsgenieEmulator, ws: Workspace, incident_id: int) -> Remote:
    account = Accounts(ws.db).get("opsgenie")
    link = Outbox(ws.db).link(account.id, incident_id)
    assert link is not None
    return emulator.alerts.get(link.remote_id) or emulator.incidents[link.remote_id]


def _notes(remote: Remote) -> list[str]:
    """The notes' texts as Opsgenie holds them, marker stripped, in order."""
    return [n["note"].rsplit("\n\n[rc:", 1)[0] for n in remote.notes]


def _story(ws: Workspace, incident: int) -> None:
    ws.incidents.add_note(incident, "rolled back the deploy")
    ws.incidents.change_status(incident, Status.MITIGATING)
    ws.incidents.change_severity(incident, Severity.SEV1)
    ws.incidents.post_update(incident, "Identified: a bad deploy", template="status-page")
    ws.incidents.add_note(incident, "error rate back to normal")
    ws.incidents.change_status(incident, Status.RESOLVED)


@needs_spec
def test_alerts_match_the_spec_and_every_operation_lands_once(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    problems: list[str] = []
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    _story(ws, incident)
    session = validating_session(problems, emulator.base_url, OPSGENIE_SPEC)
    # the reconciling reads too: the creation's and the first note's replies are lost
    emulator.script(Fault.DROP_AFTER_APPLY, Fault.DROP_AFTER_APPLY)
    reports = drain(lambda: pusher(ws, tokens, http=session))
    assert problems == []
    assert sum(r.pushed for r in reports) == 7
    assert len(emulator.alerts) == 1
    alert = _remote(emulator, ws, incident)
    assert alert.alias == str(ws.queries.incident(incident).uuid)
    assert alert.message == "Checkout down"
    assert alert.description == "500s on /pay"
    assert [c for c in alert.changes if c[0] != "note"] == [
        ("status", "acknowledged"),
        ("priority", "P1"),
        ("status", "closed"),
    ]
    assert _notes(alert) == [
        "rolled back the deploy",
        "Status update: Identified: a bad deploy",
        "error rate back to normal",
    ]
    assert Outbox(ws.db).counts() == {"done": 7}


@needs_spec
def test_incident_mode_matches_the_spec_and_every_operation_lands_once(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    problems: list[str] = []
    tokens, _ = connect(ws, emulator, mode="incident")
    incident = declare(ws)
    _story(ws, incident)
    ws.incidents.change_status(incident, Status.POST_INCIDENT)
    ws.incidents.change_status(incident, Status.CLOSED)
    session = validating_session(
        problems,
        emulator.base_url,
        OPSGENIE_SPEC,
        unspecified=lambda method, path: bool(_UNSPECIFIED.match(path)),
    )
    emulator.script(Fault.DROP_AFTER_APPLY)  # the creation's reply is lost: found by its tag
    drain(lambda: pusher(ws, tokens, http=session))
    assert problems == []
    assert emulator.alerts == {}
    assert len(emulator.incidents) == 1
    remote = _remote(emulator, ws, incident)
    assert remote.service_id == OPSGENIE_SERVICE
    assert remote.priority == "P1"
    assert [c for c in remote.changes if c[0] != "note"] == [
        ("priority", "P1"),
        ("status", "resolved"),
        ("status", "closed"),
    ]
    assert _notes(remote) == [
        "rolled back the deploy",
        "Status update: Identified: a bad deploy",
        "error rate back to normal",
    ]
    assert Outbox(ws.db).counts() == {"done": 9}


def test_a_create_not_yet_processed_is_found_by_its_alias_not_sent_twice(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    emulator.lag = 3  # the request status stays 404 for three lookups
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    ws.incidents.add_note(incident, "after the creation")
    drain(lambda: pusher(ws, tokens))
    creates = [r for r in emulator.requests if r.method == "POST" and r.path == "/v2/alerts"]
    assert len(creates) == 1
    assert len(emulator.alerts) == 1
    assert _notes(_remote(emulator, ws, incident)) == ["after the creation"]


def test_an_incident_creation_with_a_lost_reply_is_found_by_its_tag(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator, mode="incident")
    incident = declare(ws)
    emulator.script(Fault.SLOW_BODY)
    drain(lambda: pusher(ws, tokens))
    assert len(emulator.incidents) == 1
    posts = [r for r in emulator.requests if r.path == "/v1/incidents/create"]
    assert [r.applied for r in posts] == [True]
    searches = [r for r in emulator.requests if r.path == "/v1/incidents/"]
    assert len(searches) == 1
    assert _remote(emulator, ws, incident).tags[0].startswith("rc-")


def test_a_note_with_an_unknown_outcome_is_looked_for_across_pages(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    drain(lambda: pusher(ws, tokens))
    alert = _remote(emulator, ws, incident)
    ws.incidents.add_note(incident, "exactly once")
    emulator.script(Fault.DROP_AFTER_APPLY)
    # a pass whose back-off outlasts it (on a clock an hour behind, so the retry below
    # is due at once): the note's outcome stays unknown
    slow = replace(FAST, backoff_base=100.0, backoff_cap=100.0)
    Pusher(ws.db, tokens, policy=slow, clock=lambda: utc_now() - timedelta(hours=1)).run_pass()
    assert Outbox(ws.db).counts() == {"done": 1, "sent": 1}
    # other responders add more than a page of notes before the retry reads back
    for n in range(NOTES_PAGE + 20):
        emulator.add_note(alert.id, f"from a colleague {n}")
    drain(lambda: pusher(ws, tokens))
    assert _notes(alert).count("exactly once") == 1
    assert _notes(alert)[0] == "exactly once"
    reads = [r for r in emulator.requests if r.method == "GET" and r.path.endswith("/notes")]
    assert len(reads) == 2  # newest first: our note was on the second page
    op = Outbox(ws.db).listing(("done",))[-1]
    assert marker(op) in alert.notes[0]["note"]


def test_closed_and_deleted_remotely_supersede_with_the_reason_on_the_timeline(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator)
    first, second = declare(ws, "one"), declare(ws, "two")
    drain(lambda: pusher(ws, tokens))
    closed = _remote(emulator, ws, first)
    emulator.close_alert(closed.id)
    emulator.delete(_remote(emulator, ws, second).id)
    ws.incidents.change_status(first, Status.MITIGATING)
    ws.incidents.change_severity(first, Severity.SEV1)
    ws.incidents.add_note(second, "lost cause")
    report = pusher(ws, tokens).run_pass()
    assert report.superseded == 3
    assert Outbox(ws.db).counts() == {"done": 2, "superseded": 3}
    reasons = [e.text for e in ws.queries.timeline(first) if e.kind.value == "remote"]
    assert reasons == [
        f"Not sent: Opsgenie alert {closed.id} was closed there meanwhile; the status "
        "change to mitigating was not sent",
        f"Not sent: Opsgenie alert {closed.id} was closed there meanwhile; the severity "
        "change to SEV1 was not sent",
    ]
    gone = [e.text for e in ws.queries.timeline(second) if e.kind.value == "remote"]
    assert len(gone) == 1
    assert "no longer exists" in gone[0]


def test_a_remote_resolution_of_an_incident_supersedes_a_local_change(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator, mode="incident")
    incident = declare(ws)
    drain(lambda: pusher(ws, tokens))
    remote = _remote(emulator, ws, incident)
    emulator.resolve_incident(remote.id)
    ws.incidents.change_status(incident, Status.MITIGATING)
    ws.incidents.add_note(incident, "still arrives")
    drain(lambda: pusher(ws, tokens))
    assert Outbox(ws.db).counts() == {"done": 2, "superseded": 1}
    assert _notes(remote) == ["still arrives"]


def test_401_stops_the_account_and_keeps_everything_queued(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator, token="wrong-key")
    incident = declare(ws)
    ws.incidents.add_note(incident, "queued")
    report = pusher(ws, tokens).run_pass()
    assert report.stopped is not None
    assert "opsgenie refused the token: HTTP 401: Could not authenticate" in report.stopped
    assert Outbox(ws.db).counts() == {"pending": 2}
    tokens.store("opsgenie", emulator.token)
    connect(ws, emulator)
    drain(lambda: pusher(ws, tokens))
    assert Outbox(ws.db).counts() == {"done": 2}


def test_a_422_fails_the_one_operation_with_opsgenies_message(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, emulator, mode="incident")
    Accounts(ws.db).add(
        "opsgenie", base_url=emulator.base_url, default_service="nope", mode="incident"
    )
    incident = declare(ws)
    ws.incidents.add_note(incident, "waits behind its creation")
    report = pusher(ws, tokens).run_pass()
    assert report.failed == 1
    [failed] = Outbox(ws.db).listing(("failed",))
    assert failed.operation == "incident.create"
    assert failed.last_error == "HTTP 422: Service with id [nope] does not exist"
    assert Outbox(ws.db).counts() == {"failed": 1, "pending": 1}
    connect(ws, emulator, mode="incident")
    Outbox(ws.db).retry(failed.id)
    drain(lambda: pusher(ws, tokens))
    assert _notes(_remote(emulator, ws, incident)) == ["waits behind its creation"]


def test_the_rate_limit_is_waited_out_and_nothing_is_lost(
    ws: Workspace, emulator: OpsgenieEmulator
) -> None:
    emulator.limit, emulator.window = 15, 1.0
    tokens, _ = connect(ws, emulator)
    incident = declare(ws)
    for n in range(40):
        ws.incidents.add_note(incident, f"note {n}")
    drain(lambda: pusher(ws, tokens))
    assert emulator.rate_limited  # the limit was met
    assert _notes(_remote(emulator, ws, incident)) == [f"note {n}" for n in range(40)]
