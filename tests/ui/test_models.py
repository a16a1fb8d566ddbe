"""The item models: qtmodeltester on each, bounded paging, selective refresh."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from console.domain.errors import StorageError
from console.domain.incident import EntryKind, Severity, Status
from console.domain.views import ChecklistItem, IncidentSummary, TimelineEntry
from console.ops.workspace import Workspace
from tests.ui.conftest import check_model
from ui.models.checklist import ChecklistModel
from ui.models.incidents import IncidentListModel, format_duration
from ui.models.roles import ItemRole
from ui.models.timeline import MAX_PAGES, PAGE_SIZE, TimelineModel

T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


class FakeTimeline:
    """An in-memory reader with ``count`` synthetic entries for incident 1."""

    def __init__(self, count: int, *, failing_pages: set[int] | None = None) -> None:
        self.count = count
        self.failing_pages = failing_pages or set()
        self.page_calls: list[tuple[int, int]] = []

    def make(self, seq: int) -> TimelineEntry:
        return TimelineEntry(
            id=seq,
            uuid=uuid.UUID(int=seq),
            incident_id=1,
            seq=seq,
            kind=EntryKind.NOTE,
            occurred_at=T0 + timedelta(seconds=seq),
            recorded_at=T0 + timedelta(seconds=seq),
            author="tester",
            text=f"entry {seq}",
        )

    def incidents(self, *, active_only: bool = False) -> list[IncidentSummary]:
        return []

    def incident(self, incident_id: int) -> IncidentSummary:
        raise AssertionError("not used")

    def timeline_count(self, incident_id: int) -> int:
        return self.count

    def timeline_page(self, incident_id: int, first_seq: int, last_seq: int) -> list[TimelineEntry]:
        self.page_calls.append((first_seq, last_seq))
        if (first_seq - 1) // PAGE_SIZE in self.failing_pages:
            raise StorageError("the database is locked")
        return [self.make(s) for s in range(first_seq, min(last_seq, self.count) + 1)]

    def checklist(self, incident_id: int) -> list[ChecklistItem]:
        return []


def _declare(workspace: Workspace, title: str, severity: Severity = Severity.SEV2) -> int:
    outcome = workspace.incidents.declare(title, severity, commander="Ana")
    assert outcome.incident is not None
    return outcome.incident.id


# ------------------------------------------------------------------ incident list


def test_incident_list_passes_model_tester(
    qtmodeltester: ModelTester, workspace: Workspace
) -> None:
    first = _declare(workspace, "Old and resolved", Severity.SEV3)
    workspace.incidents.change_status(first, Status.RESOLVED)
    _declare(workspace, "Checkout failing", Severity.SEV1)
    _declare(workspace, "Search slow", Severity.SEV2)
    model = IncidentListModel(workspace.queries)
    model.reload()
    check_model(qtmodeltester, model)
    titles = [i.title for i in model.incidents()]
    assert titles == ["Search slow", "Checkout failing", "Old and resolved"]  # active first
    assert model.data(model.index(2, 0), ItemRole.ACTIVE) is False
    assert model.data(model.index(0, 0), ItemRole.SEVERITY) is Severity.SEV2
    assert "IC: Ana" in str(model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole))


def test_incident_list_filter_and_default(workspace: Workspace) -> None:
    resolved = _declare(workspace, "Resolved one")
    active = _declare(workspace, "Still burning")
    newest = _declare(workspace, "Newest but resolved")
    for incident_id in (resolved, newest):
        workspace.incidents.change_status(incident_id, Status.RESOLVED)
    model = IncidentListModel(workspace.queries)
    model.reload()
    assert model.default_incident() == active  # most recent ACTIVE, not the newest
    model.set_active_only(True)
    assert [i.id for i in model.incidents()] == [active]


def test_incident_list_refresh_keeps_selection_without_reset(
    qtbot: QtBot, workspace: Workspace
) -> None:
    a = _declare(workspace, "A")
    b = _declare(workspace, "B")
    model = IncidentListModel(workspace.queries)
    model.reload()
    persistent = [model.index(model.row_of(a) or 0, 0)]
    from PySide6.QtCore import QPersistentModelIndex

    keep = QPersistentModelIndex(persistent[0])
    workspace.incidents.change_status(b, Status.RESOLVED)  # B drops below A
    with qtbot.assertNotEmitted(model.modelReset):
        model.refresh({b})
    assert keep.data(ItemRole.ID) == a
    assert [i.id for i in model.incidents()] == [a, b]


def test_format_duration() -> None:
    assert format_duration(-5) == "0s"
    assert format_duration(59) == "59s"
    assert format_duration(61) == "1m 01s"
    assert format_duration(2 * 3600 + 5 * 60) == "2h 05m"
    assert format_duration(3 * 86400 + 4 * 3600) == "3d 4h"


# ---------------------------------------------------------------------- timeline


def test_timeline_passes_model_tester_with_real_data(
    qtmodeltester: ModelTester, workspace: Workspace
) -> None:
    incident_id = _declare(workspace, "Pool exhausted")
    workspace.incidents.add_note(incident_id, "first guess")
    workspace.incidents.correct_last(incident_id, "better guess")
    model = TimelineModel(workspace.queries)
    model.set_incident(incident_id)
    check_model(qtmodeltester, model)
    assert model.rowCount() == workspace.queries.timeline_count(incident_id)
    note_row = next(r for r in range(model.rowCount()) if model.index(r, 4).data() == "first guess")
    assert model.index(note_row, 0).data(ItemRole.SUPERSEDED) is True
    assert model.index(note_row, 4).data(Qt.ItemDataRole.FontRole).strikeOut()
    tip = model.index(note_row, 4).data(Qt.ItemDataRole.ToolTipRole)
    assert f"entry #{model.rowCount()}" in tip
    assert model.index(model.rowCount() - 1, 4).data().startswith("Correction to #")
    assert "UTC" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)


def test_timeline_passes_model_tester_with_5k_entries(qtmodeltester: ModelTester) -> None:
    model = TimelineModel(FakeTimeline(5_000))
    model.set_incident(1)
    check_model(qtmodeltester, model)
    assert model.rowCount() == 5_000
    assert model.index(4_999, 4).data() == "entry 5000"


def test_timeline_cache_stays_bounded_while_scrolling_100k() -> None:
    reader = FakeTimeline(100_000)
    model = TimelineModel(reader)
    started = time.perf_counter()
    model.set_incident(1)
    last = model.index(model.rowCount() - 1, 4).data()  # what the view shows first
    assert time.perf_counter() - started < 0.1
    assert last == "entry 100000"
    assert len(reader.page_calls) == 1
    for row in range(0, model.rowCount(), 97):  # scroll through every page
        assert model.index(row, 0).data() == str(row + 1)
        assert model.cached_pages <= MAX_PAGES
    assert model.cached_pages == MAX_PAGES
    assert all(last - first < PAGE_SIZE for first, last in reader.page_calls)


def test_a_page_that_fails_shows_error_rows() -> None:
    model = TimelineModel(FakeTimeline(450, failing_pages={1}))
    model.set_incident(1)
    assert model.index(0, 4).data() == "entry 1"
    error_index = model.index(PAGE_SIZE + 3, 4)
    assert error_index.data(ItemRole.LOAD_ERROR) is True
    assert "could not load" in error_index.data()
    assert model.index(PAGE_SIZE + 3, 0).data() == str(PAGE_SIZE + 4)
    assert model.index(2 * PAGE_SIZE, 4).data() == f"entry {2 * PAGE_SIZE + 1}"


def test_append_entries_inserts_one_batch_without_requery(qtbot: QtBot) -> None:
    reader = FakeTimeline(10)
    model = TimelineModel(reader)
    model.set_incident(1)
    model.index(9, 0).data()
    calls = len(reader.page_calls)
    reader.count = 13
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.append_entries([reader.make(11), reader.make(12), reader.make(13)])
    assert inserted == [(10, 12)]
    assert model.rowCount() == 13
    assert model.index(12, 4).data() == "entry 13"
    assert len(reader.page_calls) == calls  # served from the page it extended
    model.append_entries([reader.make(12)])  # already shown: ignored
    assert model.rowCount() == 13


def test_refresh_tail_reads_only_new_entries() -> None:
    reader = FakeTimeline(250)
    model = TimelineModel(reader)
    model.set_incident(1)
    reader.count = 260
    model.refresh_tail()
    assert model.rowCount() == 260
    assert reader.page_calls[-1] == (251, 260)
    assert model.index(259, 4).data() == "entry 260"


def test_a_gap_in_appended_entries_rereads_the_tail() -> None:
    reader = FakeTimeline(5)
    model = TimelineModel(reader)
    model.set_incident(1)
    reader.count = 8  # someone else wrote 6 and 7
    model.append_entries([reader.make(8)])
    assert model.rowCount() == 8
    assert [model.index(r, 4).data() for r in (5, 6, 7)] == ["entry 6", "entry 7", "entry 8"]


def test_timeline_without_incident_is_empty(qtmodeltester: ModelTester) -> None:
    model = TimelineModel(FakeTimeline(3))
    model.set_incident(None)
    check_model(qtmodeltester, model)
    assert model.rowCount() == 0
    assert model.data(QModelIndex()) is None


# --------------------------------------------------------------------- checklist


def test_checklist_passes_model_tester(qtmodeltester: ModelTester, workspace: Workspace) -> None:
    incident_id = _declare(workspace, "Checkout failing", Severity.SEV1)
    model = ChecklistModel(workspace.queries)
    model.set_incident(incident_id)
    check_model(qtmodeltester, model)
    items = workspace.queries.checklist(incident_id)
    assert model.rowCount() == len(items) > 0
    assert model.index(0, 0).data().startswith(f"1. {items[0].title}")
    assert model.index(0, 0).data(ItemRole.NUMBER) == 1


def test_checklist_recurring_items_show_cadence_and_overdue(workspace: Workspace) -> None:
    incident_id = _declare(workspace, "Checkout failing", Severity.SEV1)
    items = workspace.queries.checklist(incident_id)
    recurring = [i for i, item in enumerate(items) if item.recurring]
    if not recurring:
        pytest.skip("the shipped SEV1 template has no recurring item")
    row = recurring[0]
    item = items[row]
    assert item.due_at is not None
    late = item.due_at + timedelta(minutes=1)
    model = ChecklistModel(workspace.queries, clock=lambda: late)
    model.set_incident(incident_id)
    text = model.index(row, 0).data()
    assert f"every {item.every_minutes} min" in text
    assert f"due {item.due_at.astimezone():%H:%M}" in text
    assert model.index(row, 0).data(ItemRole.OVERDUE) is True
    assert model.index(row, 0).data(Qt.ItemDataRole.ForegroundRole).name() == "#c62828"


def test_checklist_click_requests_a_tick_but_does_not_check_locally(
    qtbot: QtBot, workspace: Workspace
) -> None:
    incident_id = _declare(workspace, "Checkout failing", Severity.SEV1)
    model = ChecklistModel(workspace.queries)
    model.set_incident(incident_id)
    index = model.index(1, 0)  # item 0, "Name an IC", is done: Ana was named
    with qtbot.waitSignal(model.tick_requested) as blocker:
        changed = model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert changed is False
    assert blocker.args == [model.data(index, ItemRole.ID)]
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    model.read_only = True
    assert not model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
