"""The incident lifecycle: the pure rule, and the same rule through the one writer path.

The pure tests run thousands of random walks in milliseconds; the stateful test
drives ``IncidentService`` on a real SQLite file (a migrated template copied per
example) and checks the database against a tiny model after every step.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from console.domain.errors import IllegalTransitionError, InvalidInputError
from console.domain.incident import (
    TRANSITIONS,
    EntryKind,
    Role,
    Severity,
    Status,
    check_transition,
)
from console.ops.incidents import IncidentService
from console.ops.queries import Queries
from console.storage.db import Database, open_database
from console.storage.models import Incident, OutboxRow, TimelineEntryRow
from tests.unit.support import FakeClock

S = Status

#: The lifecycle as DESIGN.md writes it, with the documented steps back. Written
#: out here so a change to TRANSITIONS is a deliberate, reviewed change.
EXPECTED_EDGES = {
    (S.OPEN, S.TRIAGE),
    (S.OPEN, S.MITIGATING),
    (S.OPEN, S.RESOLVED),
    (S.TRIAGE, S.MITIGATING),
    (S.TRIAGE, S.RESOLVED),
    (S.MITIGATING, S.TRIAGE),
    (S.MITIGATING, S.RESOLVED),
    (S.RESOLVED, S.MITIGATING),
    (S.RESOLVED, S.POST_INCIDENT),
    (S.RESOLVED, S.CLOSED),
    (S.POST_INCIDENT, S.CLOSED),
}

FAST = settings(max_examples=300, derandomize=True, database=None, deadline=None)


def _legal(current: Status, target: Status) -> bool:
    return (current, target) in EXPECTED_EDGES


# ------------------------------------------------------------------ pure rule


def test_transition_table_matches_the_design() -> None:
    assert set(TRANSITIONS) == set(Status)
    edges = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert edges == EXPECTED_EDGES


def test_main_path_is_legal_and_everything_reaches_closed() -> None:
    path = [S.OPEN, S.TRIAGE, S.MITIGATING, S.RESOLVED, S.POST_INCIDENT, S.CLOSED]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)
    # no dead ends: from every state some path leads to closed
    for start in Status:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert S.CLOSED in seen, start
    # and every state is reachable from open
    reachable, frontier = {S.OPEN}, [S.OPEN]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(Status)


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_every_pair_is_decided_with_a_clear_message(current: Status, target: Status) -> None:
    if _legal(current, target):
        check_transition(current, target)
        return
    with pytest.raises(IllegalTransitionError) as caught:
        check_transition(current, target)
    message = str(caught.value)
    assert caught.value.exit_code == 1
    if current is target:
        assert message == f"the incident is already {current.value}"
    elif current is S.CLOSED:
        assert "a closed incident cannot change state" in message
    else:
        assert f"cannot move from {current.value} to {target.value}" in message
        for option in TRANSITIONS[current]:
            assert option.value in message


@FAST
@given(st.lists(st.sampled_from(list(Status)), max_size=40))
def test_random_walks_follow_the_table(targets: list[Status]) -> None:
    current = S.OPEN
    history = [current]
    for target in targets:
        was_closed = current is S.CLOSED
        try:
            check_transition(current, target)
        except IllegalTransitionError:
            assert not _legal(current, target)
            continue
        assert _legal(current, target)
        assert not was_closed, "closed is terminal"
        current = target
        history.append(current)
    # a closed incident only ever appears as the last state
    assert S.CLOSED not in history[:-1]
    # post-incident is entered only from resolved
    for before, after in itertools.pairwise(history):
        if after is S.POST_INCIDENT:
            assert before is S.RESOLVED


# ------------------------------------------------------- through the service


class IncidentLifecycle(RuleBasedStateMachine):
    """Drive one incident through IncidentService; a plain model predicts the DB."""

    template: Path  # set by the test before the run
    statuses_seen: set[Status]  # across all examples: proves the walk got everywhere

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="lifecycle-"))
        folder = self.tmp / "data"
        folder.mkdir(mode=0o700)
        shutil.copyfile(self.template, folder / "console.db")
        self.clock = FakeClock()
        self.db: Database = open_database(folder / "console.db", clock=self.clock)
        self.service = IncidentService(self.db, actor="ic-alice", clock=self.clock)
        self.queries = Queries(self.db)
        # the model
        self.status = S.OPEN
        self.entries = 0
        self.outbox = 0
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.incident_id = 0

    @initialize(severity=st.sampled_from(list(Severity)))
    def declare(self, severity: Severity) -> None:
        outcome = self.service.declare("Checkout 5xx", severity)
        assert outcome.incident is not None
        self.incident_id = outcome.incident.id
        self.entries = 1
        self.outbox = 1

    def _row(self) -> Incident:
        with self.db.reader() as session:
            row = session.get(Incident, self.incident_id)
            assert row is not None
            return row

    @rule(minutes=st.integers(min_value=1, max_value=90))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule(wanted=st.sampled_from(list(Status)))
    def move(self, wanted: Status) -> None:
        target = wanted
        before = self._row()
        if not _legal(self.status, target):
            with pytest.raises(IllegalTransitionError):
                self.service.change_status(self.incident_id, target)
            after = self._row()
            assert (after.status, after.last_seq, after.updated_at) == (
                before.status,
                before.last_seq,
                before.updated_at,
            )
            assert (after.resolved_at, after.closed_at) == (before.resolved_at, before.closed_at)
            return
        outcome = self.service.change_status(self.incident_id, target)
        entry = outcome.entry
        assert entry is not None
        assert entry.kind is EntryKind.STATUS_CHANGE
        assert entry.seq == self.entries + 1
        assert dict(entry.data) == {"from": self.status.value, "to": target.value}
        assert entry.recorded_at == self.clock.now
        assert self.incident_id in outcome.changes.incidents
        if target is S.RESOLVED:
            self.resolved_at = self.clock.now
        elif target is S.MITIGATING and self.status is S.RESOLVED:
            self.resolved_at = None
        if target is S.CLOSED:
            self.closed_at = self.clock.now
        self.status = target
        self.statuses_seen.add(target)
        self.entries += 1
        self.outbox += 1

    @rule(text=st.text(min_size=1, max_size=30).filter(lambda t: t.strip() != ""))
    def note(self, text: str) -> None:
        if self.status is S.CLOSED:
            with pytest.raises(InvalidInputError, match="closed"):
                self.service.add_note(self.incident_id, text)
            return
        outcome = self.service.add_note(self.incident_id, text)
        assert outcome.entry is not None
        assert outcome.entry.seq == self.entries + 1
        assert outcome.entry.text == text.strip()
        self.entries += 1
        self.outbox += 1

    @precondition(lambda self: self.status is S.CLOSED)
    @rule()
    def closed_refuses_everything(self) -> None:
        with pytest.raises(InvalidInputError):
            self.service.change_severity(self.incident_id, Severity.SEV1)
        with pytest.raises(InvalidInputError):
            self.service.change_severity(self.incident_id, Severity.SEV4)
        with pytest.raises(InvalidInputError):
            self.service.assign_role(self.incident_id, Role.SCRIBE, "Sam")
        with pytest.raises(InvalidInputError):
            self.service.log(self.incident_id, EntryKind.COMMUNICATION, "update sent")
        for target in Status:
            with pytest.raises(IllegalTransitionError):
                self.service.change_status(self.incident_id, target)

    @invariant()
    def database_matches_model(self) -> None:
        if not self.incident_id:
            return
        row = self._row()
        assert Status(row.status) is self.status
        assert row.last_seq == self.entries
        assert row.resolved_at == self.resolved_at
        assert row.closed_at == self.closed_at
        with self.db.reader() as session:
            seqs = session.scalars(
                select(TimelineEntryRow.seq)
                .where(TimelineEntryRow.incident_id == self.incident_id)
                .order_by(TimelineEntryRow.seq)
            ).all()
            outbox = session.scalar(select(func.count()).select_from(OutboxRow))
        assert list(seqs) == list(range(1, self.entries + 1))
        assert outbox == self.outbox
        summary = self.queries.incident(self.incident_id)
        assert summary.status is self.status
        assert summary.resolved_at == self.resolved_at
        assert summary.entry_count == self.entries

    @invariant()
    def status_entries_replay_to_the_current_status(self) -> None:
        if not self.incident_id:
            return
        replayed = S.OPEN
        for entry in self.queries.timeline(self.incident_id):
            if entry.kind is EntryKind.STATUS_CHANGE:
                assert entry.data["from"] == replayed.value
                check_transition(replayed, Status(entry.data["to"]))
                replayed = Status(entry.data["to"])
        assert replayed is self.status

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def test_lifecycle_through_the_service(migrated_template: Path) -> None:
    IncidentLifecycle.template = migrated_template
    IncidentLifecycle.statuses_seen = set()
    run_state_machine_as_test(
        IncidentLifecycle,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            derandomize=True,
            database=None,
            deadline=None,
        ),
    )
    # The random walk must really move through the lifecycle; which states it
    # reaches depends on hypothesis's generation (it varies with the suite's
    # order), and full reachability is proven deterministically above.
    assert len(IncidentLifecycle.statuses_seen) >= 4, IncidentLifecycle.statuses_seen
