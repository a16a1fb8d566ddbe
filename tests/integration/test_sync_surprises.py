"""Vendor surprises against the loopback emulators (real HTTP): replies the console
does not expect, creations refused, supersede reasons that say what happened.

Issue 14, items 12, 14 and 16. Each test drives the real pusher (or puller) through
the real failing path; none would pass on the code before the fixes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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
