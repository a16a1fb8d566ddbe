"""IncidentService (the one writer path), Queries and export on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from console.domain.checklist import ChecklistTemplate, TemplateItem, templates_for
from console.domain.errors import IllegalTransitionError, InvalidInputError, NotFoundError
from console.domain.incident import EntryKind, Role, Severity, Status
from console.ops.export import export_json, export_markdown
from console.ops.incidents import MAX_TEXT, MAX_TITLE, IncidentService
from console.ops.queries import Queries
from console.storage.db import Database
from tests.unit.support import ENTRY_KEYS, INCIDENT_KEYS, START, FakeClock, raw_rows, raw_scalar

#: entry kind → the outbox operation it must produce (kinds not listed produce none)
SYNCED = {
    "declared": "incident.create",
    "note": "incident.note",
    "status_change": "incident.status",
    "severity_change": "incident.severity",
    "role_change": "incident.note",
    "correction": "incident.note",
}


def declare(service: IncidentService, severity: Severity = Severity.SEV2, **kw: Any) -> int:
    outcome = service.declare("Checkout failing", severity, **kw)
    assert outcome.incident is not None
    return outcome.incident.id


def counts(path: Path) -> tuple[int, int, int]:
    """(entries, outbox rows, sum of last_seq) straight from the file."""
    return (
        raw_scalar(path, "SELECT count(*) FROM timeline_entries"),
        raw_scalar(path, "SELECT count(*) FROM outbox"),
        raw_scalar(path, "SELECT coalesce(sum(last_seq), 0) FROM incidents"),
    )


def assert_consistent(path: Path) -> None:
    """Outbox ↔ timeline, seq numbering and uniqueness, read with plain sqlite3."""
    entries = {
        row[0]: row[1:]
        for row in raw_rows(path, "SELECT uuid, kind, incident_id, seq FROM timeline_entries")
    }
    outbox = raw_rows(
        path, "SELECT entry_uuid, operation, incident_id, payload FROM outbox ORDER BY id"
    )
    # the outbox drains in id order per incident: that order is the timeline's order
    for incident_id in {row[2] for row in outbox}:
        order = [entries[row[0]][2] for row in outbox if row[2] == incident_id]
        assert order == sorted(order), f"outbox out of timeline order for {incident_id}"
    per_entry = Counter(row[0] for row in outbox)
    for entry_uuid, operation, incident_id, payload in outbox:
        assert entry_uuid in entries, f"outbox row points at a missing entry {entry_uuid}"
        kind, entry_incident, _seq = entries[entry_uuid]
        assert incident_id == entry_incident
        assert json.loads(payload)["entry_uuid"] == str(uuid.UUID(entry_uuid))
        if kind in SYNCED:
            assert operation == SYNCED[kind], (kind, operation)
    for entry_uuid, (kind, _incident, _seq) in entries.items():
        if kind in SYNCED:
            assert per_entry[entry_uuid] == 1, f"{kind} entry has {per_entry[entry_uuid]} rows"
        elif kind == "checklist_done":
            assert per_entry[entry_uuid] == 0
        else:
            assert per_entry[entry_uuid] <= 1
    for incident_id, last_seq in raw_rows(path, "SELECT id, last_seq FROM incidents"):
        seqs = sorted(s for (_k, i, s) in entries.values() if i == incident_id)
        assert seqs == list(range(1, last_seq + 1)), (incident_id, seqs, last_seq)
    for table in ("incidents", "timeline_entries", "outbox", "checklist_items", "role_assignments"):
        total, distinct = raw_rows(path, f"SELECT count(*), count(DISTINCT uuid) FROM {table}")[0]
        assert total == distinct, table


# ------------------------------------------------------------------- declare


@pytest.mark.parametrize("severity", list(Severity))
def test_declare_instantiates_the_checklist_for_its_severity(
    service: IncidentService,
    queries: Queries,
    templates: list[ChecklistTemplate],
    clock: FakeClock,
    severity: Severity,
) -> None:
    incident_id = declare(service, severity)
    items = queries.checklist(incident_id)
    expected = [i for t in templates_for(templates, severity, None) for i in t.items]
    assert [i.title for i in items] == [i.title for i in expected]
    assert [i.position for i in items] == list(range(1, len(expected) + 1))
    assert all(i.role is None and i.done_at is None for i in items)
    for item, template_item in zip(items, expected, strict=True):
        assert item.every_minutes == template_item.every_minutes
        if template_item.every_minutes:
            assert item.due_at == clock.now + timedelta(minutes=template_item.every_minutes)
        else:
            assert item.due_at is None
    recurring = {i.title for i in items if i.recurring}
    # every severity has a status-update cadence (SEV3 2 h, SEV4 daily); SEV1 also executives
    expected_recurring = {"Post a status update"}
    if severity is Severity.SEV1:
        expected_recurring.add("Update executives")
    assert recurring == expected_recurring


def test_declare_with_commander_in_one_transaction(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock
) -> None:
    outcome = service.declare(
        "  Login outage  ", Severity.SEV1, summary=" auth down ", commander="Bob"
    )
    view = outcome.incident
    assert view is not None
    assert view.title == "Login outage"
    assert view.status is Status.OPEN
    assert view.holder(Role.INCIDENT_COMMANDER) == "Bob"
    assert view.entry_count == 2
    assert view.declared_at == clock.now
    assert outcome.changes.roles == {view.id}
    assert outcome.changes.outbox

    timeline = queries.timeline(view.id)
    assert [e.kind for e in timeline] == [EntryKind.DECLARED, EntryKind.ROLE_CHANGE]
    assert timeline[0].text == "Declared SEV1: Login outage"
    assert timeline[0] == outcome.entry
    assert timeline[1].text == "Incident commander: Bob"

    # the IC's checklist came with the role
    assert {i.template_id for i in queries.checklist(view.id) if i.role is Role.INCIDENT_COMMANDER}
    history = queries.role_history(view.id)
    assert [(a.role, a.person, a.assigned_by, a.ended_at) for a in history] == [
        (Role.INCIDENT_COMMANDER, "Bob", "alice", None)
    ]

    rows = raw_rows(db_path, "SELECT operation, payload, entry_uuid, state FROM outbox ORDER BY id")
    assert [r[0] for r in rows] == ["incident.create", "incident.note"]
    create = json.loads(rows[0][1])
    assert create == {
        "incident_uuid": str(view.uuid),
        "title": "Login outage",
        "severity": "SEV1",
        "summary": "auth down",
        "entry_uuid": str(timeline[0].uuid),
        "at": clock.now.isoformat(),
    }
    assert uuid.UUID(rows[0][2]) == timeline[0].uuid
    assert {r[3] for r in rows} == {"pending"}
    assert_consistent(db_path)


def test_declare_backdated(service: IncidentService, queries: Queries, clock: FakeClock) -> None:
    earlier = clock.now - timedelta(minutes=40)
    incident_id = declare(service, Severity.SEV1, declared_at=earlier)
    summary = queries.incident(incident_id)
    assert summary.declared_at == earlier
    first = queries.timeline(incident_id)[0]
    assert first.occurred_at == earlier
    assert first.recorded_at == clock.now
    # cadences run from the declaration, so a backdated SEV1 is already overdue
    due = [r.title for r in queries.reminders(clock.now)]
    assert due == ["Post a status update"]


@pytest.mark.parametrize(
    ("title", "message"), [("", "title is empty"), ("   ", "title is empty"), ("x" * 301, "limit")]
)
def test_declare_refuses_bad_titles(
    service: IncidentService, db_path: Path, title: str, message: str
) -> None:
    assert MAX_TITLE == 300
    with pytest.raises(InvalidInputError, match=message):
        service.declare(title, Severity.SEV1)
    assert raw_scalar(db_path, "SELECT count(*) FROM incidents") == 0
    assert counts(db_path) == (0, 0, 0)


# --------------------------------------------------------------------- notes


def test_add_note(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock
) -> None:
    incident_id = declare(service)
    clock.advance(minutes=3)
    outcome = service.add_note(incident_id, "  db connections at 100%  ")
    entry = outcome.entry
    assert entry is not None
    assert (entry.seq, entry.kind, entry.text, entry.author) == (
        2,
        EntryKind.NOTE,
        "db connections at 100%",
        "alice",
    )
    assert entry.occurred_at == entry.recorded_at == clock.now
    assert outcome.changes.timeline == {incident_id}
    assert outcome.changes.outbox
    assert queries.timeline(incident_id)[-1] == entry
    assert queries.incident(incident_id).updated_at == clock.now
    payload = json.loads(
        raw_scalar(db_path, "SELECT payload FROM outbox WHERE operation='incident.note'")
    )
    assert payload == {
        "text": "db connections at 100%",
        "entry_uuid": str(entry.uuid),
        "at": clock.now.isoformat(),
    }
    assert_consistent(db_path)


def test_add_note_backdated_keeps_recorded_time(
    service: IncidentService, queries: Queries, clock: FakeClock
) -> None:
    incident_id = declare(service)
    when = clock.now - timedelta(minutes=5)
    entry = service.add_note(incident_id, "paged at 08:55", occurred_at=when).entry
    assert entry is not None
    assert (entry.occurred_at, entry.recorded_at) == (when, clock.now)
    stored = queries.timeline(incident_id)[-1]
    assert (stored.occurred_at, stored.recorded_at) == (when, clock.now)


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", InvalidInputError, "note is empty"),
        (" \n\t ", InvalidInputError, "note is empty"),
        ("x" * (MAX_TEXT + 1), InvalidInputError, "limit is 20000"),
    ],
)
def test_add_note_refuses_bad_text(
    service: IncidentService, db_path: Path, text: str, error: type[Exception], message: str
) -> None:
    incident_id = declare(service)
    before = counts(db_path)
    with pytest.raises(error, match=message):
        service.add_note(incident_id, text)
    assert counts(db_path) == before


def test_add_note_to_missing_incident_changes_nothing(
    service: IncidentService, db_path: Path
) -> None:
    declare(service)
    before = counts(db_path)
    with pytest.raises(NotFoundError, match="there is no incident 999"):
        service.add_note(999, "hello")
    assert counts(db_path) == before
    # the connection went back to the pool without an open transaction
    service.add_note(1, "still works")
    assert counts(db_path)[0] == before[0] + 1


def test_max_length_note_is_stored_intact(service: IncidentService, queries: Queries) -> None:
    incident_id = declare(service)
    text = "é|\n" * (MAX_TEXT // 3)
    service.add_note(incident_id, text)
    assert queries.timeline(incident_id)[-1].text == text.strip()


# ----------------------------------------------------------------------- log


@pytest.mark.parametrize(
    "kind",
    [
        EntryKind.DECLARED,
        EntryKind.NOTE,
        EntryKind.STATUS_CHANGE,
        EntryKind.SEVERITY_CHANGE,
        EntryKind.ROLE_CHANGE,
        EntryKind.CORRECTION,
    ],
)
def test_log_refuses_kinds_owned_by_other_operations(
    service: IncidentService, db_path: Path, kind: EntryKind
) -> None:
    incident_id = declare(service)
    before = counts(db_path)
    with pytest.raises(InvalidInputError, match="written by their own operation"):
        service.log(incident_id, kind, "sneaky")
    assert counts(db_path) == before


@pytest.mark.parametrize(
    "kind",
    [EntryKind.RUNBOOK_STEP, EntryKind.COMMAND_COPIED, EntryKind.COMMUNICATION],
)
def test_log_typed_entries(
    service: IncidentService, queries: Queries, db_path: Path, kind: EntryKind
) -> None:
    incident_id = declare(service)
    local = service.log(incident_id, kind, "kubectl rollout undo", {"runbook": "db-1", "step": 3})
    assert local.entry is not None
    assert not local.changes.outbox
    synced = service.log(incident_id, kind, "status page updated", sync_as_note=True)
    assert synced.entry is not None
    assert synced.changes.outbox
    stored = queries.timeline(incident_id)
    assert stored[-2].data == {"runbook": "db-1", "step": 3}
    assert stored[-2].kind is kind
    ops = raw_rows(
        db_path,
        "SELECT entry_uuid, operation, payload FROM outbox WHERE operation = 'incident.note'",
    )
    assert [uuid.UUID(r[0]) for r in ops] == [synced.entry.uuid]
    assert json.loads(ops[0][2])["text"] == "status page updated"
    assert_consistent(db_path)


# --------------------------------------------------------------- corrections


def test_correct_supersedes_and_keeps_the_original(
    service: IncidentService, queries: Queries, db_path: Path
) -> None:
    incident_id = declare(service)
    original = service.add_note(incident_id, "rolled back to v41").entry
    assert original is not None
    fixed = service.correct(incident_id, original.uuid, "rolled back to v40").entry
    assert fixed is not None
    assert fixed.kind is EntryKind.CORRECTION
    assert fixed.supersedes == original.uuid
    assert fixed.data == {"corrects_seq": original.seq, "previous_text": "rolled back to v41"}
    timeline = queries.timeline(incident_id)
    old = next(e for e in timeline if e.uuid == original.uuid)
    assert old.text == "rolled back to v41"  # append-only: the original stays
    assert old.superseded_by == fixed.uuid
    assert timeline[-1].superseded_by is None
    payload = json.loads(raw_scalar(db_path, "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1"))
    assert payload["text"] == f"Correction to entry #{original.seq}: rolled back to v40"

    before = counts(db_path)
    with pytest.raises(InvalidInputError, match=f"already corrected by entry #{fixed.seq}"):
        service.correct(incident_id, original.uuid, "third try")
    assert counts(db_path) == before
    # the correction itself can be corrected
    again = service.correct(incident_id, fixed.uuid, "rolled back to v39").entry
    assert again is not None
    assert again.supersedes == fixed.uuid
    assert_consistent(db_path)


def test_correct_refuses_unknown_or_foreign_entries(
    service: IncidentService, db_path: Path
) -> None:
    first = declare(service)
    second = declare(service)
    note = service.add_note(first, "in the first incident").entry
    assert note is not None
    before = counts(db_path)
    with pytest.raises(NotFoundError):
        service.correct(second, note.uuid, "wrong incident")
    with pytest.raises(NotFoundError):
        service.correct(first, uuid.uuid4(), "no such entry")
    with pytest.raises(InvalidInputError, match="correction is empty"):
        service.correct(first, note.uuid, "  ")
    assert counts(db_path) == before


def test_fix_corrects_only_the_actors_own_last_note(
    db: Database,
    service: IncidentService,
    queries: Queries,
    templates: list[ChecklistTemplate],
    clock: FakeClock,
) -> None:
    bob = IncidentService(db, actor="bob", templates=templates, clock=clock)
    incident_id = declare(service)
    with pytest.raises(InvalidInputError, match="no note in this incident"):
        service.correct_last(incident_id, "nothing to fix")
    mine = service.add_note(incident_id, "cache hit rate 20%").entry
    theirs = bob.add_note(incident_id, "bob's note").entry
    service.log(incident_id, EntryKind.COMMUNICATION, "not a note")
    assert mine is not None
    assert theirs is not None

    fixed = service.run_quick(incident_id, "/fix cache hit rate 2%").entry
    assert fixed is not None
    assert fixed.supersedes == mine.uuid
    assert fixed.author == "alice"
    # /fix again corrects the correction, never bob's note
    refixed = service.correct_last(incident_id, "cache hit rate 0.2%").entry
    assert refixed is not None
    assert refixed.supersedes == fixed.uuid
    untouched = next(e for e in queries.timeline(incident_id) if e.uuid == theirs.uuid)
    assert untouched.superseded_by is None

    carol = IncidentService(db, actor="carol", templates=templates, clock=clock)
    with pytest.raises(InvalidInputError, match="no note"):
        carol.correct_last(incident_id, "carol never wrote")


# ---------------------------------------------------------------------- roles


def test_role_hand_over_keeps_history(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock
) -> None:
    incident_id = declare(service, Severity.SEV2, commander="Ana")
    items_before = len(queries.checklist(incident_id))
    start = clock.now
    clock.advance(minutes=12)
    outcome = service.assign_role(incident_id, Role.INCIDENT_COMMANDER, " Ben ")
    entry = outcome.entry
    assert entry is not None
    assert entry.kind is EntryKind.ROLE_CHANGE
    assert entry.text == "Incident commander: Ana handed over to Ben"
    assert "handed over" in entry.text
    assert entry.data == {"role": "incident_commander", "person": "Ben", "previous": "Ana"}
    history = queries.role_history(incident_id)
    assert [(a.person, a.assigned_at, a.ended_at) for a in history] == [
        ("Ana", start, clock.now),
        ("Ben", clock.now, None),
    ]
    assert queries.incident(incident_id).holder(Role.INCIDENT_COMMANDER) == "Ben"
    # a hand-over does not duplicate the role's checklist
    assert len(queries.checklist(incident_id)) == items_before
    before = counts(db_path)
    with pytest.raises(InvalidInputError, match="Ben is already incident commander"):
        service.assign_role(incident_id, Role.INCIDENT_COMMANDER, "Ben")
    with pytest.raises(InvalidInputError, match="person is empty"):
        service.assign_role(incident_id, Role.SCRIBE, " ")
    with pytest.raises(NotFoundError):
        service.assign_role(4242, Role.SCRIBE, "Sam")
    assert counts(db_path) == before
    assert len(queries.role_history(incident_id)) == 2
    assert_consistent(db_path)


def test_assigning_a_role_adds_its_checklist_for_the_severity(
    service: IncidentService, queries: Queries
) -> None:
    incident_id = declare(service, Severity.SEV3)
    comms = service.assign_role(incident_id, Role.COMMUNICATIONS_LEAD, "Cleo")
    assert not comms.changes.checklist  # the comms template is SEV1/SEV2 only
    ops = service.assign_role(incident_id, Role.OPERATIONS_LEAD, "Omar")
    assert ops.changes.checklist == {incident_id}
    roles = {i.role for i in queries.checklist(incident_id)}
    assert roles == {None, Role.OPERATIONS_LEAD}
    summary = queries.incident(incident_id)
    assert [(h.role, h.person) for h in summary.roles] == [
        (Role.COMMUNICATIONS_LEAD, "Cleo"),
        (Role.OPERATIONS_LEAD, "Omar"),
    ]


# ------------------------------------------------------------------ severity


def _cadences(queries: Queries, incident_id: int) -> dict[str, datetime | None]:
    return {
        f"{i.template_id}:{i.title}": i.due_at
        for i in queries.checklist(incident_id)
        if i.recurring
    }


def test_severity_change_adds_templates_and_retires_cadences(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock
) -> None:
    incident_id = declare(service, Severity.SEV3)
    service.assign_role(incident_id, Role.COMMUNICATIONS_LEAD, "Cleo")
    t_declare = clock.now
    assert _cadences(queries, incident_id) == {
        "sev3-cadence:Post a status update": t_declare + timedelta(minutes=120)
    }
    titles_sev3 = {i.title for i in queries.checklist(incident_id)}

    clock.advance(minutes=10)
    raised = service.change_severity(incident_id, Severity.SEV1)
    assert raised.entry is not None
    assert raised.entry.text == "Severity raised SEV3 → SEV1"
    assert raised.entry.data == {"from": "SEV3", "to": "SEV1"}
    assert raised.changes.checklist == {incident_id}
    items = queries.checklist(incident_id)
    assert titles_sev3 < {i.title for i in items}
    # the comms lead held since SEV3 now gets the comms checklist
    assert any(i.role is Role.COMMUNICATIONS_LEAD for i in items)
    assert any(i.template_id == "declare-major" for i in items)
    assert [i.position for i in items] == list(range(1, len(items) + 1))
    t_raise = clock.now
    assert _cadences(queries, incident_id) == {
        "sev3-cadence:Post a status update": None,
        "sev1-cadence:Post a status update": t_raise + timedelta(minutes=30),
        "sev1-cadence:Update executives": t_raise + timedelta(minutes=60),
    }

    clock.advance(minutes=5)
    lowered = service.change_severity(incident_id, Severity.SEV2)
    assert lowered.entry is not None
    assert lowered.entry.text == "Severity lowered SEV1 → SEV2"
    t_lower = clock.now
    assert _cadences(queries, incident_id) == {
        "sev3-cadence:Post a status update": None,
        "sev1-cadence:Post a status update": None,
        "sev1-cadence:Update executives": None,
        "sev2-cadence:Post a status update": t_lower + timedelta(minutes=60),
    }
    # the retired SEV1 cadence raises no reminder, however late it gets
    later = clock.now + timedelta(hours=5)
    assert [r.title for r in queries.reminders(later)] == ["Post a status update"]
    assert {r.item_id for r in queries.reminders(later)} == {
        i.id for i in queries.checklist(incident_id) if i.template_id == "sev2-cadence"
    }

    # raised again: the SEV1 cadence restarts, SEV2's stops (no duplicate items)
    clock.advance(minutes=5)
    count = len(queries.checklist(incident_id))
    service.change_severity(incident_id, Severity.SEV1)
    assert len(queries.checklist(incident_id)) == count
    t_again = clock.now
    assert _cadences(queries, incident_id) == {
        "sev3-cadence:Post a status update": None,
        "sev1-cadence:Post a status update": t_again + timedelta(minutes=30),
        "sev1-cadence:Update executives": t_again + timedelta(minutes=60),
        "sev2-cadence:Post a status update": None,
    }
    assert_consistent(db_path)


def test_severity_change_refusals(service: IncidentService, db_path: Path) -> None:
    incident_id = declare(service, Severity.SEV2)
    before = counts(db_path)
    with pytest.raises(InvalidInputError, match="already SEV2"):
        service.change_severity(incident_id, Severity.SEV2)
    with pytest.raises(NotFoundError):
        service.change_severity(77, Severity.SEV1)
    assert counts(db_path) == before
    for status in (Status.RESOLVED, Status.CLOSED):
        service.change_status(incident_id, status)
    before = counts(db_path)
    with pytest.raises(InvalidInputError, match="closed incident's severity"):
        service.change_severity(incident_id, Severity.SEV1)
    assert counts(db_path) == before


# ----------------------------------------------------------------- checklist


def test_tick_one_off_item_once(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock
) -> None:
    incident_id = declare(service, Severity.SEV4)
    item = queries.checklist(incident_id)[0]
    clock.advance(minutes=2)
    outcome = service.tick_item(incident_id, item.id, note=" named Ana ")
    entry = outcome.entry
    assert entry is not None
    assert entry.kind is EntryKind.CHECKLIST_DONE
    assert entry.text == f"Done: {item.title} — named Ana"
    assert entry.data == {"item_id": item.id, "item_key": "declare.ic"}
    assert not outcome.changes.outbox
    ticked = queries.checklist(incident_id)[0]
    assert (ticked.done_at, ticked.done_by, ticked.done) == (clock.now, "alice", True)
    before = counts(db_path)
    clock.advance(minutes=1)
    with pytest.raises(InvalidInputError, match="already done"):
        service.tick_item(incident_id, item.id)
    assert counts(db_path) == before
    assert queries.checklist(incident_id)[0].done_at == ticked.done_at
    assert_consistent(db_path)


def test_tick_recurring_item_reschedules_from_completion(
    service: IncidentService, queries: Queries, clock: FakeClock
) -> None:
    incident_id = declare(service, Severity.SEV1)
    status_update = next(i for i in queries.checklist(incident_id) if i.every_minutes == 30)
    assert status_update.due_at == START + timedelta(minutes=30)
    clock.advance(minutes=45)  # 15 minutes late
    entry = service.tick_item(incident_id, status_update.id).entry
    assert entry is not None
    next_due = clock.now + timedelta(minutes=30)
    assert entry.data["next_due"] == next_due.isoformat()
    clock.advance(minutes=1)
    service.tick_item(incident_id, status_update.id)  # recurring: may be ticked again
    again = queries.checklist(incident_id)
    item = next(i for i in again if i.id == status_update.id)
    assert item.due_at == clock.now + timedelta(minutes=30)
    assert item.done_at == clock.now
    assert not item.done  # a recurring item is never "done"


def test_ticking_a_retired_cadence_does_not_restart_it(
    service: IncidentService, queries: Queries, clock: FakeClock
) -> None:
    incident_id = declare(service, Severity.SEV1)
    service.change_severity(incident_id, Severity.SEV3)
    executives = next(i for i in queries.checklist(incident_id) if i.every_minutes == 60)
    assert executives.due_at is None
    clock.advance(minutes=3)
    entry = service.tick_item(incident_id, executives.id).entry
    assert entry is not None
    assert "next_due" not in entry.data
    after = next(i for i in queries.checklist(incident_id) if i.id == executives.id)
    assert after.due_at is None
    assert after.done_at == clock.now
    # only the SEV3 cadence (from the change) reminds, never the retired SEV1 one
    due = queries.reminders(clock.now + timedelta(days=1))
    sev3 = {i.id for i in queries.checklist(incident_id) if i.template_id == "sev3-cadence"}
    assert {r.item_id for r in due} == sev3


def test_tick_refuses_items_of_other_incidents(
    service: IncidentService, queries: Queries, db_path: Path
) -> None:
    first = declare(service)
    second = declare(service)
    foreign = queries.checklist(second)[0]
    before = counts(db_path)
    with pytest.raises(NotFoundError, match=f"no checklist item {foreign.id} in incident {first}"):
        service.tick_item(first, foreign.id)
    with pytest.raises(NotFoundError):
        service.tick_item(first, 10_000)
    assert counts(db_path) == before
    assert queries.checklist(second)[0].done_at is None


def test_tick_position_bounds(service: IncidentService, queries: Queries, db_path: Path) -> None:
    incident_id = declare(service, Severity.SEV4)
    items = queries.checklist(incident_id)
    before = counts(db_path)
    for number in (0, -1, len(items) + 1):
        with pytest.raises(InvalidInputError, match=f"the checklist has {len(items)} items"):
            service.tick_position(incident_id, number)
    with pytest.raises(InvalidInputError, match="has 0 items"):
        service.tick_position(999, 1)
    assert counts(db_path) == before
    service.run_quick(incident_id, f"/done {len(items)}")
    done = [i.position for i in queries.checklist(incident_id) if i.done_at]
    assert done == [len(items)]
    service.tick_position(incident_id, 1)
    assert [i.position for i in queries.checklist(incident_id) if i.done_at] == [1, len(items)]


# ----------------------------------------------------------- closed incidents


def test_closed_incident_refuses_notes_and_keeps_its_timeline(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock
) -> None:
    incident_id = declare(service)
    service.add_note(incident_id, "last words")
    service.change_status(incident_id, Status.RESOLVED)
    service.change_status(incident_id, Status.CLOSED)
    closed = queries.incident(incident_id)
    before = counts(db_path)
    clock.advance(minutes=5)
    with pytest.raises(InvalidInputError, match="is closed; its timeline takes no more entries"):
        service.add_note(incident_id, "too late")
    with pytest.raises(InvalidInputError, match="is closed"):
        service.run_quick(incident_id, "/fix too late")
    item = queries.checklist(incident_id)[0]
    with pytest.raises(InvalidInputError, match="is closed"):
        service.tick_item(incident_id, item.id)
    assert queries.checklist(incident_id)[0].done_at is None  # rolled back with the entry
    assert counts(db_path) == before
    assert queries.incident(incident_id).updated_at == closed.updated_at
    with pytest.raises(IllegalTransitionError, match="closed incident cannot change state"):
        service.change_status(incident_id, Status.MITIGATING)


def test_resolved_at_set_and_cleared(
    service: IncidentService, queries: Queries, clock: FakeClock, db_path: Path
) -> None:
    incident_id = declare(service)
    clock.advance(minutes=30)
    service.change_status(incident_id, Status.RESOLVED)
    first_resolution = clock.now
    assert queries.incident(incident_id).resolved_at == first_resolution
    clock.advance(minutes=10)
    service.change_status(incident_id, Status.MITIGATING)  # the fix did not hold
    assert queries.incident(incident_id).resolved_at is None
    clock.advance(minutes=10)
    service.change_status(incident_id, Status.RESOLVED)
    assert queries.incident(incident_id).resolved_at == clock.now
    resolved = clock.now
    clock.advance(days=2)
    service.change_status(incident_id, Status.POST_INCIDENT)
    service.change_status(incident_id, Status.CLOSED)
    assert queries.incident(incident_id).resolved_at == resolved
    assert raw_scalar(db_path, "SELECT closed_at FROM incidents") == clock.now.strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )


# ------------------------------------------------------------------ reminders


def test_reminders_on_a_fixed_clock(
    service: IncidentService, queries: Queries, clock: FakeClock
) -> None:
    live = declare(service, Severity.SEV1, commander="Ana")
    calm = declare(service, Severity.SEV4, commander="Bo")
    done = declare(service, Severity.SEV1)
    service.change_status(done, Status.RESOLVED)
    t0 = clock.now
    checkin_calm = next(i for i in queries.checklist(calm) if i.every_minutes == 20)

    assert queries.reminders(t0 + timedelta(minutes=19)) == []
    soon = queries.reminders(t0 + timedelta(minutes=19), lead=timedelta(minutes=1))
    assert sorted((r.incident_id, r.title, r.overdue) for r in soon) == [
        (live, "Check in with responders (progress, blockers, need help?)", False),
        (calm, "Check in with responders (progress, blockers, need help?)", False),
    ]
    at_30 = queries.reminders(t0 + timedelta(minutes=30))
    assert [r.due_at for r in at_30] == sorted(r.due_at for r in at_30)
    assert all(r.overdue for r in at_30)
    assert {r.incident_id for r in at_30} == {live, calm}  # the resolved one is quiet
    assert {r.title for r in at_30 if r.incident_id == live} == {
        "Check in with responders (progress, blockers, need help?)",
        "Post a status update",
    }
    assert all(r.incident_title == "Checkout failing" for r in at_30)

    clock.advance(minutes=25)
    service.tick_item(calm, checkin_calm.id)
    at_30_again = queries.reminders(t0 + timedelta(minutes=30))
    assert checkin_calm.id not in {r.item_id for r in at_30_again}
    assert queries.reminders(t0 + timedelta(minutes=45))[-1].item_id == checkin_calm.id

    service.change_status(live, Status.MITIGATING)
    assert {r.incident_id for r in queries.reminders(t0 + timedelta(minutes=30))} == {live}
    service.change_status(live, Status.RESOLVED)
    service.change_status(calm, Status.RESOLVED)
    assert queries.reminders(t0 + timedelta(days=3)) == []


# -------------------------------------------------------------- quick entry


def test_run_quick_dispatches_every_command(
    service: IncidentService, queries: Queries, db_path: Path
) -> None:
    incident_id = declare(service, Severity.SEV3)
    kinds = []
    for line in [
        "first look: error rate 12%",
        "//etc/hosts was edited",
        "/sev 2",
        "/status triage",
        "/ic Ana",
        "/comms Cleo",
        "/ops Omar",
        "/scribe Sam",
        "/role ops Olga",
        "/done 2",  # item 1, "Name an IC", was ticked by /ic Ana
        "/fix first look: error rate 21%",
        "/resolve",
    ]:
        outcome = service.run_quick(incident_id, line)
        assert outcome.entry is not None
        kinds.append(outcome.entry.kind)
    assert kinds == [
        EntryKind.NOTE,
        EntryKind.NOTE,
        EntryKind.SEVERITY_CHANGE,
        EntryKind.STATUS_CHANGE,
        EntryKind.ROLE_CHANGE,
        EntryKind.ROLE_CHANGE,
        EntryKind.ROLE_CHANGE,
        EntryKind.ROLE_CHANGE,
        EntryKind.ROLE_CHANGE,
        EntryKind.CHECKLIST_DONE,
        EntryKind.CORRECTION,
        EntryKind.STATUS_CHANGE,
    ]
    timeline = queries.timeline(incident_id)
    assert timeline[2].text == "/etc/hosts was edited"
    assert timeline[-2].supersedes == timeline[2].uuid  # /fix: alice's last note
    summary = queries.incident(incident_id)
    assert summary.status is Status.RESOLVED
    assert summary.severity is Severity.SEV2
    assert summary.holder(Role.OPERATIONS_LEAD) == "Olga"
    before = counts(db_path)
    with pytest.raises(InvalidInputError, match="unknown command"):
        service.run_quick(incident_id, "/nope")
    with pytest.raises(IllegalTransitionError):
        service.run_quick(incident_id, "/status triage")
    assert counts(db_path) == before
    assert_consistent(db_path)


# ------------------------------------------------------------------ atomicity


def _install_trigger(path: Path, table: str, name: str = "boom") -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            f"CREATE TRIGGER {name} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
        connection.commit()
    finally:
        connection.close()


def _drop_trigger(path: Path, name: str = "boom") -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute(f"DROP TRIGGER {name}")
        connection.commit()
    finally:
        connection.close()


def _snapshot(path: Path) -> list[list[tuple[Any, ...]]]:
    return [
        raw_rows(path, "SELECT * FROM incidents ORDER BY id"),
        raw_rows(path, "SELECT * FROM timeline_entries ORDER BY id"),
        raw_rows(path, "SELECT * FROM outbox ORDER BY id"),
        raw_rows(path, "SELECT * FROM checklist_items ORDER BY id"),
        raw_rows(path, "SELECT * FROM role_assignments ORDER BY id"),
    ]


Operation = Callable[[IncidentService, int], object]

OPERATIONS: dict[str, Operation] = {
    "note": lambda s, i: s.add_note(i, "will fail"),
    "status": lambda s, i: s.change_status(i, Status.MITIGATING),
    "severity": lambda s, i: s.change_severity(i, Severity.SEV1),
    "role": lambda s, i: s.assign_role(i, Role.INCIDENT_COMMANDER, "Zed"),
    "correct": lambda s, i: s.correct_last(i, "corrected"),
    "log": lambda s, i: s.log(i, EntryKind.COMMUNICATION, "sent", sync_as_note=True),
    "declare": lambda s, i: s.declare("second incident", Severity.SEV1, commander="Yan"),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_outbox_failure_rolls_back_the_whole_operation(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock, name: str
) -> None:
    incident_id = declare(service, Severity.SEV3, commander="Ana")
    service.add_note(incident_id, "a note to correct")
    before = _snapshot(db_path)
    _install_trigger(db_path, "outbox")
    clock.advance(minutes=1)
    with pytest.raises((sqlite3.IntegrityError, DBAPIError), match="boom"):
        OPERATIONS[name](service, incident_id)
    assert _snapshot(db_path) == before, "neither entry, outbox row nor last_seq bump persisted"
    _drop_trigger(db_path)
    # the next write continues the numbering without a gap
    OPERATIONS[name](service, incident_id)
    assert_consistent(db_path)
    assert queries.timeline_count(incident_id) == len(queries.timeline(incident_id))


def test_timeline_failure_rolls_back_the_checklist_tick(
    service: IncidentService, queries: Queries, db_path: Path
) -> None:
    incident_id = declare(service, Severity.SEV4)
    item = queries.checklist(incident_id)[0]
    before = _snapshot(db_path)
    _install_trigger(db_path, "timeline_entries")
    with pytest.raises((sqlite3.IntegrityError, DBAPIError), match="boom"):
        service.tick_item(incident_id, item.id)
    assert _snapshot(db_path) == before
    assert queries.checklist(incident_id)[0].done_at is None


def test_failure_inside_declare_leaves_no_incident(
    service: IncidentService, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("checklist exploded after the timeline insert")

    monkeypatch.setattr(IncidentService, "_instantiate", explode)
    with pytest.raises(RuntimeError, match="exploded"):
        service.declare("never saved", Severity.SEV1)
    assert _snapshot(db_path) == [[], [], [], [], []]


def test_failure_after_role_insert_rolls_back_the_hand_over(
    service: IncidentService, queries: Queries, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = declare(service, Severity.SEV2, commander="Ana")
    before = _snapshot(db_path)

    def explode(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("boom after the hand-over")

    monkeypatch.setattr(IncidentService, "_instantiate", explode)
    with pytest.raises(RuntimeError):
        service.assign_role(incident_id, Role.INCIDENT_COMMANDER, "Ben")
    assert _snapshot(db_path) == before
    assert [a.ended_at for a in queries.role_history(incident_id)] == [None]


# ------------------------------------------------------- identity and time


def test_uuids_unique_and_timestamps_utc(
    service: IncidentService, queries: Queries, db_path: Path, clock: FakeClock
) -> None:
    ids = [declare(service, severity, commander="Ana") for severity in Severity]
    for incident_id in ids:
        clock.advance(seconds=1.5)
        service.add_note(incident_id, "note")
        service.change_status(incident_id, Status.TRIAGE)
    entries = [e for i in ids for e in queries.timeline(i)]
    incidents = queries.incidents()
    items = [item for i in ids for item in queries.checklist(i)]
    all_uuids = [e.uuid for e in entries] + [i.uuid for i in incidents] + [it.uuid for it in items]
    assert len(all_uuids) == len(set(all_uuids))
    assert all(u.version == 4 for u in all_uuids)
    stamps: list[datetime] = []
    for entry in entries:
        stamps += [entry.occurred_at, entry.recorded_at]
    for incident in incidents:
        stamps += [incident.declared_at, incident.updated_at]
        stamps += [held.since for held in incident.roles]
    stamps += [it.due_at for it in items if it.due_at is not None]
    assert stamps
    for stamp in stamps:
        assert stamp.tzinfo is not None
        assert stamp.utcoffset() == timedelta(0)
    # stored as fixed-width UTC text (sortable, readable)
    for (text,) in raw_rows(db_path, "SELECT recorded_at FROM timeline_entries"):
        assert len(text) == 27
        assert text.endswith("Z")
        assert datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) in stamps
    assert_consistent(db_path)


def test_queries_find_incident_by_number_or_uuid_prefix(
    service: IncidentService, queries: Queries
) -> None:
    first = declare(service)
    second = declare(service)
    view = queries.incident(first)
    assert queries.find_incident(str(first)).id == first
    assert queries.find_incident(f" {view.uuid} ").id == first
    assert queries.find_incident(view.uuid.hex[:12].upper()).id == first
    with pytest.raises(NotFoundError, match="there is no incident 99"):
        queries.find_incident("99")
    with pytest.raises(NotFoundError, match="there is no incident 'zzz'"):
        queries.find_incident("zzz")
    with pytest.raises(NotFoundError, match="there is no incident '  '"):
        queries.find_incident("  ")
    assert [i.id for i in queries.incidents()] == [second, first]
    service.change_status(first, Status.RESOLVED)
    assert [i.id for i in queries.incidents(active_only=True)] == [second]
    assert queries.outbox_counts() == {"pending": 3}
    with pytest.raises(NotFoundError):
        queries.timeline_count(12345)
    with pytest.raises(NotFoundError):
        queries.incident(12345)
    assert queries.cached_at("catalog") is None


def test_find_incident_by_an_all_digit_uuid_prefix(
    service: IncidentService, queries: Queries, db_path: Path
) -> None:
    first = declare(service)
    second = declare(service)
    connection = sqlite3.connect(db_path)
    connection.execute(
        "UPDATE incidents SET uuid = '10557897' || substr(uuid, 9) WHERE id = ?", (second,)
    )
    connection.commit()
    connection.close()
    assert queries.find_incident(str(first)).id == first  # a number still wins
    assert queries.find_incident("10557897").id == second
    assert queries.find_incident("1055").id == second
    with pytest.raises(NotFoundError, match=r"there is no incident 105$"):
        queries.find_incident("105")  # short numbers are incident numbers only
    with pytest.raises(NotFoundError, match="there is no incident '99999999'"):
        queries.find_incident("99999999")
    connection = sqlite3.connect(db_path)
    connection.execute("UPDATE incidents SET uuid = 'abcdef' || substr(uuid, 7)")
    connection.commit()
    connection.close()
    with pytest.raises(NotFoundError, match="'ABC-DEF' matches 2 incidents; give more of the id"):
        queries.find_incident("ABC-DEF")


# --------------------------------------------------------------------- export


def _busy_incident(service: IncidentService, clock: FakeClock) -> int:
    incident_id = declare(service, Severity.SEV1, commander="Ana")
    clock.advance(minutes=4)
    note = service.add_note(incident_id, "error | rate\nclimbing").entry
    assert note is not None
    service.correct(incident_id, note.uuid, "error rate falling")
    service.assign_role(incident_id, Role.INCIDENT_COMMANDER, "Ben")
    service.tick_position(incident_id, 2)  # 1 ("Name an IC") is ticked by naming one
    clock.advance(minutes=81)
    service.change_status(incident_id, Status.RESOLVED)
    return incident_id


def test_export_json_shape(service: IncidentService, queries: Queries, clock: FakeClock) -> None:
    incident_id = _busy_incident(service, clock)
    document = json.loads(export_json(queries, incident_id))
    assert set(document) == {
        "format",
        "version",
        "exported_by",
        "incident",
        "role_history",
        "checklist",
        "timeline",
    }
    assert document["format"] == "responder-console/incident"
    assert document["version"] == 1
    assert document["exported_by"].startswith("responder-console ")
    incident = document["incident"]
    assert set(incident) == INCIDENT_KEYS
    assert incident["status"] == "resolved"
    assert incident["roles"] == {"incident_commander": "Ben"}
    assert incident["resolved_at"] == clock.now.isoformat()
    assert incident["entries"] == len(document["timeline"]) == 7
    assert [r["person"] for r in document["role_history"]] == ["Ana", "Ben"]
    assert document["role_history"][0]["ended_at"] is not None
    assert document["role_history"][1]["ended_at"] is None
    assert set(document["role_history"][0]) == {
        "role",
        "person",
        "assigned_at",
        "assigned_by",
        "ended_at",
    }
    for item in document["checklist"]:
        assert set(item) == {
            "uuid",
            "title",
            "role",
            "every_minutes",
            "due_at",
            "done_at",
            "done_by",
        }
    assert (
        sum(1 for i in document["checklist"] if i["done_at"]) == 2
    )  # /done 2, and "Name an IC" by naming Ana
    timeline = document["timeline"]
    assert [e["seq"] for e in timeline] == list(range(1, 8))
    for entry in timeline:
        assert set(entry) == ENTRY_KEYS
        assert entry["occurred_at"].endswith("+00:00")
    note, correction = timeline[2], timeline[3]
    assert note["superseded_by"] == correction["uuid"]
    assert correction["supersedes"] == note["uuid"]
    assert note["text"] == "error | rate\nclimbing"


def test_export_markdown(service: IncidentService, queries: Queries, clock: FakeClock) -> None:
    incident_id = _busy_incident(service, clock)
    markdown = export_markdown(queries, incident_id)
    lines = markdown.splitlines()
    assert lines[0] == "# Checkout failing"
    assert f"- **Severity:** SEV1 — {Severity.SEV1.definition}" in lines
    assert "- **Status:** resolved" in lines
    assert "- **Declared:** 2026-03-01 09:00:00 UTC" in lines
    assert "- **Resolved:** 2026-03-01 10:25:00 UTC (after 1 h 25 min)" in lines
    assert "- **Incident commander:** Ben" in lines
    assert "| # | Time | Who | Kind | Entry |" in lines
    rows = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 7
    assert rows[2] == (
        "| 3 | 09:04:00 | alice | note | ~~error \\| rate<br>climbing~~ (corrected below) |"
    )
    assert rows[3] == "| 4 | 09:04:00 | alice | correction | error rate falling |"
    assert "## Checklist" in lines
    assert "- [x] Name an incident commander (/ic NAME)" in lines
    assert "- [ ] Post a status update (every 30 min)" in lines
    assert markdown.endswith("\n")


def test_export_unknown_incident(queries: Queries) -> None:
    with pytest.raises(NotFoundError):
        export_json(queries, 5)
    with pytest.raises(NotFoundError):
        export_markdown(queries, 5)


def test_custom_templates_positions_continue_after_existing(
    db: Database, queries: Queries, clock: FakeClock
) -> None:
    templates = [
        ChecklistTemplate("a", "A", frozenset(Severity), None, (TemplateItem("a.1", "one"),)),
        ChecklistTemplate(
            "s",
            "S",
            frozenset({Severity.SEV1}),
            None,
            (TemplateItem("s.1", "two"), TemplateItem("s.2", "three", every_minutes=5)),
        ),
    ]
    service = IncidentService(db, actor="x", templates=templates, clock=clock)
    incident_id = declare(service, Severity.SEV2)
    assert [(i.title, i.position) for i in queries.checklist(incident_id)] == [("one", 1)]
    service.change_severity(incident_id, Severity.SEV1)
    assert [(i.title, i.position) for i in queries.checklist(incident_id)] == [
        ("one", 1),
        ("two", 2),
        ("three", 3),
    ]


def test_runbook_steps_done_reads_only_that_runbooks_step_entries(
    service: IncidentService, queries: Queries
) -> None:
    incident = declare(service)
    other = declare(service)
    for number, runbook in ((1, "db-pool"), (3, "db-pool"), (2, "dns")):
        service.log(
            incident,
            EntryKind.RUNBOOK_STEP,
            f"step {number}",
            {
                "runbook_id": runbook,
                "step": number,
            },
        )
    service.log(other, EntryKind.RUNBOOK_STEP, "elsewhere", {"runbook_id": "db-pool", "step": 2})
    service.log(incident, EntryKind.RUNBOOK_STEP, "odd", {"runbook_id": "db-pool", "step": "4"})
    service.log(incident, EntryKind.RUNBOOK_STEP, "odd", {"runbook_id": "db-pool", "step": True})
    service.add_note(incident, "a note that mentions db-pool step 5")
    assert queries.runbook_steps_done(incident, "db-pool") == frozenset({1, 3})
    assert queries.runbook_steps_done(incident, "dns") == frozenset({2})
    assert queries.runbook_steps_done(other, "db-pool") == frozenset({2})
    assert queries.runbook_steps_done(incident, "none") == frozenset()
