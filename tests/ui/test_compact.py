"""The compact, always-on-top checklist window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from console.domain.errors import DatabaseLockedError
from console.domain.incident import EntryKind, Severity
from tests.ui.helpers_secondary import (
    OFFSCREEN_NOTICES,
    Setup,
    check_model,
    key_click,
    key_clicks,
    make_setup,
)
from ui.compact import ChecklistModel, CompactChecklistWindow, format_elapsed
from ui.theme import alert_color, is_dark

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = make_setup(tmp_path)
    yield made
    made.workspace.close()


@pytest.fixture
def window(qtbot: QtBot, setup: Setup) -> CompactChecklistWindow:
    compact = CompactChecklistWindow(setup.context)
    qtbot.addWidget(compact)
    compact.set_incident(setup.incident_id)
    compact.show()
    return compact


def rows(window: CompactChecklistWindow) -> list[str]:
    model = window.model
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def check_row(window: CompactChecklistWindow, number: int) -> bool:
    index = window.model.index(number - 1, 0)
    return window.model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)


def test_is_an_always_on_top_tool_window(window: CompactChecklistWindow) -> None:
    flags = window.windowFlags()
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.Tool == Qt.WindowType.Tool
    assert window.width() <= 480


def test_stays_shown_when_the_app_loses_focus_on_macos(window: CompactChecklistWindow) -> None:
    # Without the attribute macOS hides a Tool window when the app is deactivated.
    assert window.testAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)
    assert window.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    window.hide()
    window.show()  # re-shown (e.g. toggled off and on) keeps both
    assert window.testAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)
    assert window.windowHandle() is not None
    assert window.windowHandle().flags() & Qt.WindowType.WindowStaysOnTopHint


def test_shows_incident_and_numbered_checklist(
    window: CompactChecklistWindow, setup: Setup
) -> None:
    assert window.title_label.text() == "Checkout failing for EU"
    assert window.severity_badge.text() == "SEV1"
    assert window.state_label.text() == "State: Open"
    assert window.elapsed_label.text() == "Elapsed 0:00:00"
    listed = rows(window)
    assert listed[0] == "1. Name an incident commander (/ic NAME)"
    assert any("Post a status update  ↻ due in 30 min" in row for row in listed)
    assert window.reminder_label.text() == "Next: Post a status update — due in 30 min"
    assert len(listed) == len(setup.workspace.queries.checklist(setup.incident_id))


def test_elapsed_ticks_and_overdue_reminder_turns_red(
    window: CompactChecklistWindow, setup: Setup
) -> None:
    setup.clock.advance(minutes=32, seconds=5)
    window._tick_clock()  # the 1 s timer's slot
    assert window.elapsed_label.text() == "Elapsed 0:32:05"
    assert window.reminder_label.text() == "Next: Post a status update — overdue 2 min"
    assert alert_color(is_dark()).name() in window.reminder_label.styleSheet()


def test_ticking_an_item_writes_a_timeline_entry(
    qtbot: QtBot, window: CompactChecklistWindow, setup: Setup
) -> None:
    with qtbot.waitSignal(setup.context.events.changes_applied) as blocker:
        assert check_row(window, 2)
    assert setup.incident_id in blocker.args[0].checklist
    last = setup.workspace.queries.timeline(setup.incident_id)[-1]
    assert last.kind is EntryKind.CHECKLIST_DONE
    assert last.text == "Done: Write down the customer impact in one sentence"
    index = window.model.index(1, 0)
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert not window.model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable  # append-only


def test_ticking_failure_is_shown_and_item_stays_unticked(
    qtbot: QtBot, window: CompactChecklistWindow, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*args: object, **kwargs: object) -> None:
        raise DatabaseLockedError("console.db is locked by another program")

    monkeypatch.setattr(setup.workspace.incidents, "tick_item", locked)
    with qtbot.assertNotEmitted(setup.context.events.changes_applied):
        check_row(window, 1)
    index = window.model.index(0, 0)
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert "(saving…)" not in str(index.data())
    assert "locked" in window.feedback()


def test_quick_entry_logs_a_note(
    qtbot: QtBot, window: CompactChecklistWindow, setup: Setup
) -> None:
    key_clicks(qtbot, window.entry, "Rolled back deploy 4411")
    with qtbot.waitSignal(setup.context.events.changes_applied):
        key_click(qtbot, window.entry, Qt.Key.Key_Return)
    assert window.entry.text() == ""
    last = setup.workspace.queries.timeline(setup.incident_id)[-1]
    assert (last.kind, last.text) == (EntryKind.NOTE, "Rolled back deploy 4411")
    assert window.feedback().startswith(f"Logged #{last.seq}")


def test_quick_entry_command_refreshes_the_window(
    qtbot: QtBot, window: CompactChecklistWindow, setup: Setup
) -> None:
    key_clicks(qtbot, window.entry, "/sev 2")
    key_click(qtbot, window.entry, Qt.Key.Key_Return)
    assert setup.workspace.queries.incident(setup.incident_id).severity is Severity.SEV2
    assert window.severity_badge.text() == "SEV2"


def test_quick_entry_failure_puts_the_text_back(
    qtbot: QtBot, window: CompactChecklistWindow, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_while_saving: list[str] = []

    def locked(incident_id: int, line: str) -> None:
        seen_while_saving.append(window.entry.text())
        raise DatabaseLockedError("console.db is locked by another program")

    monkeypatch.setattr(setup.workspace.incidents, "run_quick", locked)
    before = setup.workspace.queries.timeline_count(setup.incident_id)
    key_clicks(qtbot, window.entry, "Paged the DBA")
    with qtbot.assertNotEmitted(setup.context.events.changes_applied):
        key_click(qtbot, window.entry, Qt.Key.Key_Return)
    assert seen_while_saving == [""]  # cleared at once, while the write ran
    assert window.entry.text() == "Paged the DBA"
    assert "Not saved" in window.feedback()
    assert "locked" in window.feedback()
    assert setup.workspace.queries.timeline_count(setup.incident_id) == before


def test_invalid_command_keeps_text_with_the_reason(
    qtbot: QtBot, window: CompactChecklistWindow
) -> None:
    key_clicks(qtbot, window.entry, "/sev 9")
    key_click(qtbot, window.entry, Qt.Key.Key_Return)
    assert window.entry.text() == "/sev 9"
    assert window.feedback().startswith("Not saved")


def test_refreshes_on_changes_for_its_incident_only(
    qtbot: QtBot, window: CompactChecklistWindow, setup: Setup
) -> None:
    other = setup.workspace.incidents.declare("Search slow", Severity.SEV3)
    assert other.incident is not None
    setup.context.events.changes_applied.emit(other.changes)
    assert window.title_label.text() == "Checkout failing for EU"
    outcome = setup.workspace.incidents.tick_position(setup.incident_id, 1)
    setup.context.events.changes_applied.emit(outcome.changes)
    assert window.model.index(0, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    window.set_incident(other.incident.id)
    assert window.title_label.text() == "Search slow"
    assert window.severity_badge.text() == "SEV3"


def test_no_incident_disables_input(window: CompactChecklistWindow) -> None:
    window.set_incident(None)
    assert window.title_label.text() == "No incident selected"
    assert window.model.rowCount() == 0
    assert not window.entry.isEnabled()


def test_escape_hides_and_ctrl_l_focuses_entry(
    qtbot: QtBot, window: CompactChecklistWindow
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.list_view.setFocus()
    key_click(qtbot, window.list_view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.entry.hasFocus)
    key_click(qtbot, window.entry, Qt.Key.Key_Escape)
    assert window.isHidden()


def test_geometry_is_remembered(qtbot: QtBot, setup: Setup) -> None:
    first = CompactChecklistWindow(setup.context)
    qtbot.addWidget(first)
    first.show()
    first.resize(333, 444)
    first.close()
    second = CompactChecklistWindow(setup.context)
    qtbot.addWidget(second)
    assert second.size().toTuple() == (333, 444)


def test_checklist_model_passes_the_model_tester(
    qtmodeltester: ModelTester, window: CompactChecklistWindow
) -> None:
    check_model(qtmodeltester, window.model)
    empty = ChecklistModel()
    check_model(qtmodeltester, empty)
    assert empty.index(0, 0, QModelIndex()).isValid() is False


def test_format_elapsed() -> None:
    from datetime import timedelta

    from tests.ui.helpers_secondary import START

    assert format_elapsed(START, START + timedelta(hours=1, minutes=2, seconds=3)) == "1:02:03"
    assert format_elapsed(START, START + timedelta(days=1, hours=2)) == "1 d 2:00:00"
    assert format_elapsed(START, START - timedelta(seconds=5)) == "0:00:00"


def test_parent_widget_does_not_embed_it(qtbot: QtBot, setup: Setup) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    compact = CompactChecklistWindow(setup.context, parent)
    assert compact.isWindow()
