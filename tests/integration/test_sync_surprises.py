"""Vendor surprises against the loopback emulators (real HTTP): replies the console
does not expect, creations refused, supersede reasons that say what happened.

Issue 14, items 12, 14 and 16. Each test drives the real pusher (or puller) through
the real failing path; none would pass on the code before the fixes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from console.domain.errors import InvalidInputError
from console.domain.incident import Severity, Status
from console.ops.outbox import DependantsError, Outbox
from console.ops.workspace import Workspace
from console.storage.models import OutboxRow
from console.sync import Accounts, Tokens, sync_status
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


# ------------------------------------------- item 12: blocked, with a reason to act on

REFUSED = "HTTP 400: Invalid Input Provided; Service not found"


def _refusing_account(ws: Workspace, pagerduty: PagerDutyEmulator) -> Tokens:
    tokens, _ = connect(ws, pagerduty)
    Accounts(ws.db).add(
        "pagerduty",
        base_url=pagerduty.base_url,
        from_email="alice@example.com",
        default_service="XBROKEN",
    )
    return tokens


def test_a_refused_creation_blocks_its_dependants_with_the_reason_until_retried(
    ws: Workspace, pagerduty: PagerDutyEmulator
) -> None:
    tokens = _refusing_account(ws, pagerduty)
    incident = declare(ws)
    ws.incidents.add_note(incident, "first")
    ws.incidents.change_status(incident, Status.MITIGATING)
    ws.incidents.add_note(incident, "second")
    report = pusher(ws, tokens).run_pass()
    # before: 3 "waiting" and a next pass every few seconds, forever, with no reason
    assert (report.failed, report.blocked, report.waiting) == (1, 3, 0)
    assert report.next_run_in is None
    [create] = Outbox(ws.db).listing(("failed",))
    status = sync_status(ws.db, tokens)
    reason = (
        f"waiting on the incident's creation (operation {create.id}), which PagerDuty "
        f"refused: {REFUSED}"
    )
    assert [(b["operation"], b["reason"], b["cause"]) for b in status["blocked"]] == [
        ("incident.note", reason, create.id),
        ("incident.status", reason, create.id),
        ("incident.note", reason, create.id),
    ]
    assert status["outbox"]["blocked"] == 3
    [queued] = status["queued"]
    assert queued["blocked"] == reason
    # discarding the creation alone would strand them: refused, and they are named
    dependants = [b["id"] for b in status["blocked"]]
    with pytest.raises(DependantsError) as refused:
        Outbox(ws.db).discard(create.id)
    assert [d.id for d in refused.value.dependants] == dependants
    assert "--with-dependants" in str(refused.value)
    assert Outbox(ws.db).counts() == {"failed": 1, "pending": 3}
    # one blocked operation can be given up on its own (before: "pending, not failed")
    given_up = Outbox(ws.db).discard(dependants[1])
    assert given_up.state == "superseded"
    assert given_up.last_error == f"discarded by the user: {reason}"
    # retrying one of the blocked points at the creation
    with pytest.raises(InvalidInputError, match=f"Retry operation {create.id}"):
        Outbox(ws.db).retry(dependants[0])
    # fixing the setting and retrying the creation releases them: in order
    connect(ws, pagerduty)
    Outbox(ws.db).retry(create.id)
    assert sync_status(ws.db, tokens)["blocked"] == []
    drain(lambda: pusher(ws, tokens))
    assert remote_notes(pagerduty, _remote_id(ws, "pagerduty", incident)) == ["first", "second"]
    assert Outbox(ws.db).counts() == {"done": 3, "superseded": 1}


def test_discarding_a_refused_creation_with_its_dependants_leaves_nothing_pending(
    ws: Workspace, pagerduty: PagerDutyEmulator
) -> None:
    tokens = _refusing_account(ws, pagerduty)
    incident = declare(ws)
    ws.incidents.add_note(incident, "never sent")
    other = declare(ws, "Other")  # refused too, no dependants: discarded alone
    pusher(ws, tokens).run_pass()
    creates = {op.incident_id: op for op in Outbox(ws.db).listing(("failed",))}
    Outbox(ws.db).discard(creates[other].id)
    Outbox(ws.db).discard(creates[incident].id, with_dependants=True)
    assert Outbox(ws.db).counts() == {"superseded": 3}
    [note] = [
        op for op in Outbox(ws.db).listing(("superseded",)) if op.operation == "incident.note"
    ]
    assert note.last_error == (
        f"discarded by the user with the incident's creation (operation {creates[incident].id})"
    )
    report = pusher(ws, tokens).run_pass()
    assert (report.waiting, report.blocked, report.next_run_in) == (0, 0, None)


def test_a_creation_discarded_before_this_fix_is_shown_and_can_be_retried(
    ws: Workspace, pagerduty: PagerDutyEmulator
) -> None:
    tokens = _refusing_account(ws, pagerduty)
    incident = declare(ws)
    ws.incidents.add_note(incident, "kept")
    pusher(ws, tokens).run_pass()
    [create] = Outbox(ws.db).listing(("failed",))
    # the state the old `sync discard` left: the creation given up, its note pending
    with ws.db.writer() as session:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == create.id)
            .values(state="superseded", last_error=f"discarded by the user: {REFUSED}")
        )
    [blocked] = sync_status(ws.db, tokens)["blocked"]
    assert blocked["reason"] == (
        f"waiting on the incident's creation (operation {create.id}), which was given up "
        f"(discarded by the user: {REFUSED})"
    )
    assert blocked["cause_state"] == "superseded"
    connect(ws, pagerduty)
    assert Outbox(ws.db).retry(create.id).state == "pending"
    drain(lambda: pusher(ws, tokens))
    assert remote_notes(pagerduty, _remote_id(ws, "pagerduty", incident)) == ["kept"]


def test_an_incident_created_through_a_removed_account_is_blocked_then_found_again(
    ws: Workspace, opsgenie: OpsgenieEmulator
) -> None:
    tokens, _ = connect(ws, opsgenie)
    incident = declare(ws)
    drain(lambda: pusher(ws, tokens))
    alert = _remote_id(ws, "opsgenie", incident)
    Accounts(ws.db).remove("opsgenie")  # its remote ids go with it
    connect(ws, opsgenie)
    ws.incidents.add_note(incident, "after the account came back")
    report = pusher(ws, tokens).run_pass()
    assert (report.blocked, report.waiting, report.pushed) == (1, 0, 0)
    [create] = Outbox(ws.db).listing(("done",))
    [blocked] = sync_status(ws.db, tokens)["blocked"]
    assert blocked["reason"] == (
        f"the incident's creation (operation {create.id}) went through, but Opsgenie's id "
        "for it is not known here (was the account it went through removed?)"
    )
    # retrying the creation looks the alert up by its alias: linked again, not made twice
    assert Outbox(ws.db).retry(create.id).state == "sent"
    drain(lambda: pusher(ws, tokens))
    assert _remote_id(ws, "opsgenie", incident) == alert
    assert len(opsgenie.alerts) == 1
    assert remote_notes(opsgenie, alert) == ["after the account came back"]


def test_the_cli_shows_blocked_operations_and_discards_them_only_when_told(
    data_dir: Path,
) -> None:
    from tests.integration.test_sync_cli import TOKEN, _cli

    server = PagerDutyEmulator(token=TOKEN).start()
    try:
        env = {"RESPONDER_CONSOLE_PAGERDUTY_TOKEN": TOKEN}
        added = _cli(
            data_dir,
            "account", "add", "pagerduty", "--base-url", server.base_url,
            "--from", "alice@example.com", "--default-service", "XBROKEN",
            env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        declared = _cli(
            data_dir, "incident", "declare", "--title", "Checkout down", "--severity", "SEV2"
        )
        assert declared.returncode == 0, declared.stderr
        assert _cli(data_dir, "incident", "note", "1", "rolled back").returncode == 0
        assert _cli(data_dir, "incident", "note", "1", "still down").returncode == 0
        once = _cli(data_dir, "sync", "once", "--json", env=env)
        report = json.loads(once.stdout)
        assert (report["failed"], report["blocked"], report["waiting"]) == (1, 2, 0)
        status = _cli(data_dir, "sync", "status", env=env)
        assert status.returncode == 0, status.stderr
        reason = (
            "waiting on the incident's creation (operation 1), which PagerDuty refused: "
            f"{REFUSED}. Fix the cause and retry the creation (sync retry 1), or discard it "
            "with these (sync discard 1 --with-dependants)"
        )
        assert "Outbox: 0 waiting, 2 blocked, 1 failed, 0 superseded, 0 done." in status.stdout
        assert f"blocked 2 (incident.note): {reason}" in status.stdout
        assert f"blocked 3 (incident.note): {reason}" in status.stdout
        # discarding the creation alone is refused, naming what it would strand
        alone = _cli(data_dir, "sync", "discard", "1", env=env)
        assert alone.returncode != 0
        assert "Traceback" not in alone.stderr
        assert "its 2 later operation(s) 2 (incident.note), 3 (incident.note)" in alone.stderr
        assert "--with-dependants" in alone.stderr
        still = json.loads(_cli(data_dir, "sync", "status", "--json", env=env).stdout)
        assert (still["outbox"]["failed"], still["outbox"]["blocked"]) == (1, 2)
        both = _cli(data_dir, "sync", "discard", "1", "--with-dependants", env=env)
        assert both.returncode == 0, both.stderr
        assert both.stdout.splitlines() == [
            "operation 1: superseded",
            "operation 2 (incident.note): discarded with it",
            "operation 3 (incident.note): discarded with it",
        ]
        after = json.loads(_cli(data_dir, "sync", "status", "--json", env=env).stdout)
        assert after["outbox"] | {"superseded": 0} == {
            "pending": 0, "sent": 0, "done": 0, "failed": 0, "superseded": 0, "blocked": 0
        }  # fmt: skip
        assert after["outbox"]["superseded"] == 3
    finally:
        server.stop()
