"""The incident workspace: durable quick entry, slash commands, checklist ticks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from console.domain.incident import Severity, Status
from tests.ui.conftest import OFFSCREEN_NOTICE
from ui.context import UiContext
from ui.incident_view import IncidentView

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)


def _view(qtbot: QtBot, context: UiContext, *, severity: Severity = Severity.SEV2) -> IncidentView:
    outcome = context.workspace.incidents.declare("Checkout failing", severity, commander="Ana")
    assert outcome.incident is not None
    view = IncidentView(context.workspace.queries, context.events, context.clock)
    qtbot.addWidget(view)
    view.attach(context)
    view.set_incident(outcome.incident.id)
    view.resize(1000, 600)
    view.show()
    return view


def _texts(view: IncidentView) -> list[str]:
    model = view.timeline_model
    return [model.index(row, 4).data() for row in range(model.rowCount())]


def test_header_shows_incident(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context, severity=Severity.SEV1)
    assert view.title_label.text() == "Checkout failing"
    assert view.severity_badge.text() == "SEV1"
    assert view.status_badge.text() == "OPEN"
    assert view.roles_label.text().startswith("IC: Ana")
    assert view.elapsed_label.text().startswith("Elapsed ")


def test_note_appears_only_after_commit(qtbot: QtBot, pool_context: UiContext) -> None:
    view = _view(qtbot, pool_context)
    before = view.timeline_model.rowCount()
    QTest.keyClicks(view.quick_entry.line, "Rolled back deploy 4711")
    QTest.keyClick(view.quick_entry.line, Qt.Key.Key_Return)
    # submitted to the writer thread: the line is free again, nothing shown as saved yet
    assert view.quick_entry.line.text() == ""
    assert view.timeline_model.rowCount() == before
    assert view.quick_entry.in_flight == 1
    assert view.quick_entry.saving_label.text() == "Saving… (1)"

    def committed() -> None:
        assert view.timeline_model.rowCount() == before + 1

    qtbot.waitUntil(committed)
    assert _texts(view)[-1] == "Rolled back deploy 4711"
    assert view.quick_entry.in_flight == 0
    assert view.quick_entry.saving_label.isHidden()
    incident_id = view.incident_id
    assert incident_id is not None
    assert (
        pool_context.workspace.queries.timeline(incident_id)[-1].text == "Rolled back deploy 4711"
    )


def test_own_write_is_appended_without_requery(
    qtbot: QtBot, context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = _view(qtbot, context)
    _texts(view)  # the page on screen is loaded
    loads = view.timeline_model.page_loads

    def no_tail() -> None:
        raise AssertionError("own writes must not re-read the tail")

    monkeypatch.setattr(view.timeline_model, "refresh_tail", no_tail)
    with qtbot.waitSignal(context.events.changes_applied):
        QTest.keyClicks(view.quick_entry.line, "a note")
        QTest.keyClick(view.quick_entry.line, Qt.Key.Key_Return)
    assert _texts(view)[-1] == "a note"
    assert view.timeline_model.page_loads == loads


def test_failed_write_shows_at_the_input_and_keeps_text(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context)
    incident_id = view.incident_id
    assert incident_id is not None
    service = context.workspace.incidents
    service.change_status(incident_id, Status.RESOLVED)
    service.change_status(incident_id, Status.CLOSED)
    rows = view.timeline_model.rowCount()
    QTest.keyClicks(view.quick_entry.line, "too late")
    QTest.keyClick(view.quick_entry.line, Qt.Key.Key_Return)
    assert "closed" in view.quick_entry.error  # under the input, not in the far banner
    assert view.quick_entry.line.text() == "too late"  # put back: never lost
    assert view.timeline_model.rowCount() == rows  # nothing new shown


def test_failed_write_while_typing_goes_to_the_unsaved_indicator(
    qtbot: QtBot, pool_context: UiContext
) -> None:
    view = _view(qtbot, pool_context)
    incident_id = view.incident_id
    assert incident_id is not None
    service = pool_context.workspace.incidents
    service.change_status(incident_id, Status.RESOLVED)
    service.change_status(incident_id, Status.CLOSED)
    QTest.keyClicks(view.quick_entry.line, "first line")
    QTest.keyClick(view.quick_entry.line, Qt.Key.Key_Return)
    QTest.keyClicks(view.quick_entry.line, "still typing")  # before the failure comes back

    def failed() -> None:
        assert view.quick_entry.unsaved

    qtbot.waitUntil(failed)
    assert "first line" in view.quick_entry.error
    assert view.quick_entry.line.text() == "still typing"
    assert view.quick_entry.unsaved[0].text == "first line"
    assert "first line" in view.quick_entry.unsaved_label.text()
    assert view.quick_entry.retry_button.isVisibleTo(view)


def test_retry_saves_the_unsaved_line(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context)
    incident_id = view.incident_id
    assert incident_id is not None
    entry = view.quick_entry
    entry.line.setText("draft")
    entry._failed(incident_id, "lost in transit", RuntimeError("boom"))  # a bug: still kept
    assert [u.text for u in entry.unsaved] == ["lost in transit"]
    entry.retry()
    assert entry.unsaved == ()
    assert _texts(view)[-1] == "lost in transit"


@pytest.mark.parametrize(
    ("line", "check"),
    [
        ("/sev 1", lambda v: v.severity_badge.text() == "SEV1"),
        ("/status mitigating", lambda v: v.status_badge.text() == "MITIGATING"),
        ("/ic Bea Quinn", lambda v: v.roles_label.text().startswith("IC: Bea Quinn")),
        ("/comms Sam", lambda v: "Comms: Sam" in v.roles_label.text()),
    ],
)
def test_slash_commands_update_the_header(
    qtbot: QtBot, context: UiContext, line: str, check: object
) -> None:
    view = _view(qtbot, context)
    QTest.keyClicks(view.quick_entry.line, line)
    QTest.keyClick(view.quick_entry.line, Qt.Key.Key_Return)
    assert callable(check)
    assert check(view)
    assert view.quick_entry.line.text() == ""


def test_history_recall_with_up_and_down(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context)
    line = view.quick_entry.line
    for text in ("one", "two"):
        QTest.keyClicks(line, text)
        QTest.keyClick(line, Qt.Key.Key_Return)
    QTest.keyClicks(line, "draft")
    QTest.keyClick(line, Qt.Key.Key_Up)
    assert line.text() == "two"
    QTest.keyClick(line, Qt.Key.Key_Up)
    assert line.text() == "one"
    QTest.keyClick(line, Qt.Key.Key_Down)
    QTest.keyClick(line, Qt.Key.Key_Down)
    assert line.text() == "draft"


def test_ticking_a_checklist_item_logs_an_entry(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context, severity=Severity.SEV1)
    model = view.checklist_model
    row = next(  # the first open one ("Name an IC" is done: Ana was named)
        r for r, item in enumerate(model.items()) if not item.recurring and item.done_at is None
    )
    title = model.items()[row].title
    index = model.index(row, 0)
    # what a click on the checkbox does: the view asks the model to check it
    model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.index(row, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert _texts(view)[-1] == f"Done: {title}"


def test_slash_done_ticks_the_numbered_item(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context, severity=Severity.SEV1)
    model = view.checklist_model
    row = next(  # the first open one ("Name an IC" is done: Ana was named)
        r for r, item in enumerate(model.items()) if not item.recurring and item.done_at is None
    )
    QTest.keyClicks(view.quick_entry.line, f"/done {row + 1}")
    QTest.keyClick(view.quick_entry.line, Qt.Key.Key_Return)
    assert model.index(row, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def test_changes_from_elsewhere_read_only_the_tail(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context)
    incident_id = view.incident_id
    assert incident_id is not None
    outcome = context.workspace.incidents.add_note(incident_id, "from the compact window")
    context.events.changes_applied.emit(outcome.changes)
    assert _texts(view)[-1] == "from the compact window"


def test_timeline_follows_the_bottom(qtbot: QtBot, context: UiContext) -> None:
    view = _view(qtbot, context)
    incident_id = view.incident_id
    assert incident_id is not None
    for number in range(60):
        context.workspace.incidents.add_note(incident_id, f"note {number}")
    view.timeline_model.refresh_tail()
    bar = view.timeline.verticalScrollBar()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()
    bar.setValue(0)  # the user scrolled up to read: new entries must not yank them down
    outcome = context.workspace.incidents.add_note(incident_id, "newest")
    context.events.changes_applied.emit(outcome.changes)
    assert bar.value() == 0
    rows = view.timeline.verticalHeader()
    assert rows.sectionResizeMode(0).name == "Fixed"
