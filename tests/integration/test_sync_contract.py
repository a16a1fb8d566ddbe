"""What the console sends is what the vendors' specs say (every request the
emulators receive is checked: tests/conftest.py), and what a vendor's 404 means."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from console.ops.outbox import Outbox
from console.ops.workspace import Workspace
from console.sync import Accounts
from tests.emulators.loopback import Fault
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import SPEC, connect, declare, drain, pusher

needs_spec = pytest.mark.skipif(not SPEC.exists(), reason=f"the PagerDuty spec is not at {SPEC}")


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
