"""Vendor surprises against the loopback emulators (real HTTP): replies the console
does not expect, creations refused, supersede reasons that say what happened.

Issue 14, items 12, 14 and 16. Each test drives the real pusher (or puller) through
the real failing path; none would pass on the code before the fixes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest

from console.domain.incident import Severity, Status
from console.ops.outbox import Outbox
from console.ops.workspace import Workspace
from console.sync import Accounts
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import connect, declare, drain, pusher, remote_notes


@pytest.fixture
def opsgenie() -> Iterator[OpsgenieEmulator]:
    server = OpsgenieEmulator().start()
    yield server
    server.stop()


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyEmulator]:
    server = PagerDutyEmulator().start()
    yield server
    server.stop()


def _remote_id(ws: Workspace, vendor: str, incident_id: int) -> str:
    link = Outbox(ws.db).link(Accounts(ws.db).get(vendor).id, incident_id)
    assert link is not None
    return link.remote_id


# ------------------------------------------------------- item 14: unexpected data


def test_an_opsgenie_reply_naming_an_alert_linked_elsewhere_fails_that_one_operation(
    ws: Workspace, opsgenie: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, opsgenie)
    first = declare(ws, "Checkout down")
    drain(lambda: pusher(ws, tokens))
    taken = _remote_id(ws, "opsgenie", first)
    # Opsgenie's request status for the next creation names the first incident's alert
    state = {"tampered": 0}

    def same_alert(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and "/requests/" in path and state["tampered"] == 0:
            state["tampered"] += 1
            body["data"]["alertId"] = taken
        return status, body

    opsgenie.tamper = same_alert
    second = declare(ws, "Search slow")
    ws.incidents.add_note(second, "held back by its creation")
    third = declare(ws, "Login errors")
    ws.incidents.add_note(third, "arrives all the same")
    report = pusher(ws, tokens).run_pass()  # before the fix: IntegrityError out of the pass
    assert report.failed == 1
    [failed] = Outbox(ws.db).listing(("failed",))
    assert failed.incident_id == second
    assert failed.operation == "incident.create"
    assert failed.last_error is not None
    assert f"{taken} is already linked here to incident #{first} 'Checkout down'" in (
        failed.last_error
    )
    assert "then retry or discard" in failed.last_error
    # the rest of the queue drained: the third incident and its note are there
    assert remote_notes(opsgenie, _remote_id(ws, "opsgenie", third)) == ["arrives all the same"]
    assert Outbox(ws.db).link(Accounts(ws.db).get("opsgenie").id, second) is None
    # a retry (the vendor answering right this time) links it and releases its note
    Outbox(ws.db).retry(failed.id)
    drain(lambda: pusher(ws, tokens))
    assert remote_notes(opsgenie, _remote_id(ws, "opsgenie", second)) == [
        "held back by its creation"
    ]


@pytest.mark.parametrize(
    ("path_end", "reply"),
    [
        ("/incidents", {"incident": "P123"}),  # a string where an object belongs
        ("/incidents", {"incidents": []}),  # the field missing
        ("/notes", {"note": None}),
    ],
)
def test_a_pagerduty_reply_of_the_wrong_shape_fails_that_operation_not_the_pass(
    ws: Workspace, pagerduty: PagerDutyEmulator, path_end: str, reply: dict[str, Any]
) -> None:
    tokens, _ = connect(ws, pagerduty)
    odd = declare(ws, "Odd reply")
    ws.incidents.add_note(odd, "a note")
    fine = declare(ws, "Fine")
    ws.incidents.add_note(fine, "arrives")
    state = {"done": False}

    def reshape(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if method == "POST" and path.endswith(path_end) and not state["done"]:
            state["done"] = True
            return status, reply
        return status, body

    pagerduty.tamper = reshape
    report = pusher(ws, tokens).run_pass()
    assert report.failed == 1
    [failed] = Outbox(ws.db).listing(("failed",))
    assert failed.incident_id == odd
    assert failed.last_error is not None
    assert failed.last_error.startswith("PagerDuty's reply to POST /incidents")
    assert "is not what the console expects" in failed.last_error
    assert "check the incident in PagerDuty, then retry or discard" in failed.last_error
    assert remote_notes(pagerduty, _remote_id(ws, "pagerduty", fine)) == ["arrives"]


def test_an_opsgenie_log_page_of_the_wrong_shape_refuses_that_set_not_the_pull(
    ws: Workspace, opsgenie: OpsgenieEmulator
) -> None:
    from console.sync.pull import Puller

    tokens, _ = connect(ws, opsgenie)
    incident = declare(ws)
    drain(lambda: pusher(ws, tokens))
    opsgenie.add_note(_remote_id(ws, "opsgenie", incident), "from a colleague")
    opsgenie.add_user("u1", "bob@example.com", "Bob", sms="+441632960001")

    def reshape(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and path.endswith("/logs"):
            return status, {"data": ["not a log entry"], "took": 0.01}
        return status, body

    opsgenie.tamper = reshape
    [report] = Puller(ws.db, tokens).run()  # before the fix: AttributeError out of the pull
    assert "incidents" in report.failed
    assert "is not what the console expects" in report.failed["incidents"]
    assert report.sets["people"]  # the other sets went on


# ------------------------------------------------ item 16: who resolved it, and when


def _ended_at(ws: Workspace, incident_id: int) -> str:
    entry = next(
        e
        for e in ws.queries.timeline(incident_id)
        if e.kind.value == "status_change" and e.data.get("to") == "resolved"
    )
    assert entry.author == "alice"
    return f"{entry.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def test_a_severity_change_after_resolving_here_says_it_was_resolved_here(
    ws: Workspace, pagerduty: PagerDutyEmulator
) -> None:
    tokens, _ = connect(ws, pagerduty)
    incident = declare(ws)
    ws.incidents.change_status(incident, Status.RESOLVED)
    drain(lambda: pusher(ws, tokens))
    remote = _remote_id(ws, "pagerduty", incident)
    assert pagerduty.incidents[remote].status == "resolved"
    ws.incidents.change_severity(incident, Severity.SEV1)
    report = pusher(ws, tokens).run_pass()
    assert report.superseded == 1
    [op] = Outbox(ws.db).listing(("superseded",))
    expected = (
        f"PagerDuty incident {remote} was resolved here at {_ended_at(ws, incident)} by "
        "alice; the severity change to SEV1 was not sent"
    )
    assert op.last_error == expected  # before: "resolved (or merged into another) there"
    notes = [e.text for e in ws.queries.timeline(incident) if e.kind.value == "remote"]
    assert notes == [f"Not sent: {expected}"]


def test_a_resolution_there_still_says_there(ws: Workspace, pagerduty: PagerDutyEmulator) -> None:
    tokens, _ = connect(ws, pagerduty)
    incident = declare(ws)
    ws.incidents.change_status(incident, Status.RESOLVED)
    ws.incidents.change_status(incident, Status.MITIGATING)  # reopened here, sent
    drain(lambda: pusher(ws, tokens))
    remote = _remote_id(ws, "pagerduty", incident)
    pagerduty.incidents[remote].status = "resolved"  # a colleague resolved it there
    ws.incidents.change_severity(incident, Severity.SEV1)
    pusher(ws, tokens).run_pass()
    [op] = Outbox(ws.db).listing(("superseded",))
    assert op.last_error == (
        f"PagerDuty incident {remote} was resolved (or merged into another) there "
        "meanwhile; the severity change to SEV1 was not sent"
    )


@pytest.mark.parametrize("mode", ["alert", "incident"])
def test_opsgenie_changes_after_resolving_here_say_it_was_resolved_here(
    ws: Workspace, opsgenie: OpsgenieEmulator, mode: str
) -> None:
    tokens, _ = connect(ws, opsgenie, mode=mode)
    incident = declare(ws)
    ws.incidents.change_status(incident, Status.RESOLVED)
    drain(lambda: pusher(ws, tokens))
    remote = _remote_id(ws, "opsgenie", incident)
    ws.incidents.change_severity(incident, Severity.SEV1)
    ws.incidents.change_status(incident, Status.MITIGATING)
    drain(lambda: pusher(ws, tokens))
    reasons = [op.last_error for op in Outbox(ws.db).listing(("superseded",))]
    when = _ended_at(ws, incident)
    kind = "alert" if mode == "alert" else "incident"
    expected = [
        f"Opsgenie {kind} {remote} was resolved here at {when} by alice; the severity "
        "change to SEV1 was not sent"
    ]
    if mode == "alert":  # an Opsgenie incident takes a local reopening as nothing to send
        expected.append(
            f"Opsgenie alert {remote} was resolved here at {when} by alice and Opsgenie "
            "cannot reopen it; the status change to mitigating was not sent"
        )
    assert reasons == expected
