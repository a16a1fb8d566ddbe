"""The incident commander's window at 03:00 (issue 16): driven with the keyboard and mouse
as a tired IC would, on a real workspace with a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from console.domain.incident import Role, Severity, Status
from console.domain.views import ChecklistItem
from console.importers.catalog import import_catalog
from console.resources import resources_dir
from tests.ui.helpers_secondary import OFFSCREEN_NOTICES, Setup, key_click, key_clicks, make_setup
from ui.context import UiContext
from ui.declare_dialog import Declaration, DeclareDialog
from ui.events import AppEvents
from ui.incident_view import IncidentView
from ui.main_window import MainWindow, list_detail
from ui.models.timeline import COL_TEXT
from ui.reminders import ReminderCenter
from ui.tasks import TaskRunner

#: ... and a popup menu asks to grab the keyboard, which offscreen cannot either
pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES, "This plugin does not support grabbing"),
]


@pytest.fixture
def night(tmp_path: Path) -> Iterator[Setup]:
    """A SEV2 declared at 03:00 whose hourly status update is overdue at 04:10."""
    made = make_setup(tmp_path, severity=Severity.SEV2, title="Search is slow")
    made.clock.advance(minutes=70)
    yield made
    made.workspace.close()


def _focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def _click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt is unannotated


def _window(qtbot: QtBot, setup: Setup) -> MainWindow:
    window = MainWindow.for_context(setup.context)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def _on_modal(qtbot: QtBot, act: Callable[[QWidget], None]) -> None:
    """Run ``act`` on the next modal dialog once it is up (``exec`` blocks the test)."""

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or dialog.focusWidget() is None:
            QTimer.singleShot(20, attempt)
            return
        act(dialog)

    QTimer.singleShot(0, attempt)


def _declare_with_keyboard(qtbot: QtBot, window: MainWindow, title: str, sev: int) -> None:
    def fill(dialog: QWidget) -> None:
        key_clicks(qtbot, dialog.focusWidget(), title)  # the title has the focus
        key_click(qtbot, dialog.focusWidget(), Qt.Key.Key_Tab)  # → severity
        combo = dialog.focusWidget()
        key_click(qtbot, combo, Qt.Key.Key_Home)
        for _ in range(sev - 1):
            key_click(qtbot, combo, Qt.Key.Key_Down)
        key_click(qtbot, dialog.focusWidget(), Qt.Key.Key_Return)  # Enter declares

    _on_modal(qtbot, fill)
    key_click(qtbot, _focused(), Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)


# ---------------------------------------------------------------- 1. reminder banner


def test_banner_follows_the_selected_incident_and_done_ticks_the_item_shown(
    qtbot: QtBot, night: Setup
) -> None:
    window = _window(qtbot, night)
    center = ReminderCenter(night.context)
    center.check_now()
    banner = window.reminder_banner
    sev2 = night.incident_id
    assert banner.label.text().startswith("Due: Post a status update — overdue 10 min (#1")

    _declare_with_keyboard(qtbot, window, "Checkout down", 1)
    sev1 = window.current_incident_id
    assert sev1 is not None
    assert sev1 != sev2
    night.clock.advance(minutes=31)  # the SEV1's 30-minute update is now due too
    center.check_now()
    # the banner speaks about the incident on screen, and names it
    shown = banner.current()
    assert shown is not None
    assert shown.incident_id == sev1
    assert banner.label.text().startswith(f"Due: {shown.title} — overdue")
    assert banner.label.text().endswith(f"(#{sev1} Checkout down)")
    due = banner.reminders()
    assert len(due) >= 3  # the SEV1's check-in and update, the SEV2's update
    assert banner.more.text() == f"+{len(due) - 1} more"
    assert banner.more.isEnabled()

    # "+1 more" opens the list of every due item, each naming its incident
    listed: list[str] = []

    def read_menu() -> None:
        if not banner.more_menu.isVisible():
            QTimer.singleShot(20, read_menu)
            return
        listed.extend(a.text() for a in banner.more_menu.actions())
        banner.more_menu.close()

    QTimer.singleShot(0, read_menu)
    _click(qtbot, banner.more)
    qtbot.waitUntil(lambda: bool(listed))
    assert len(listed) == len(due)
    assert all(f"(#{sev1} Checkout down)" in text for text in listed[:-1])
    assert listed[-1] == f"Post a status update — overdue 41 min (#{sev2} Search is slow)"

    # Done ticks the SEV1's item — the one shown — not the SEV2's
    _click(qtbot, banner.done_button)
    assert _done_items(night, sev2) == []
    assert [i.title for i in _done_items(night, sev1)] == [shown.title]

    # picking an item from the list shows it (and Done would tick that one)
    banner._fill_menu()
    banner.more_menu.actions()[-1].trigger()
    assert banner.label.text().endswith(f"(#{sev2} Search is slow)")

    # selecting the other incident in the list brings its items first
    window.select_incident(sev1)
    window.select_incident(sev2)
    first = banner.current()
    assert first is not None
    assert first.incident_id == sev2


def _done_items(setup: Setup, incident_id: int) -> list[ChecklistItem]:
    return [
        i
        for i in setup.workspace.queries.checklist(incident_id)
        if i.done_at is not None and i.every_minutes is not None
    ]


# ---------------------------------------------------------------- 4. declare dialog


@pytest.fixture
def dialog(qtbot: QtBot) -> Iterator[DeclareDialog]:
    made = DeclareDialog(commander="tester", services=["orders-api", "payments-gateway"])
    made.show()
    made.activateWindow()
    qtbot.waitUntil(made.isActiveWindow)
    assert QApplication.focusWidget() is made.title_edit
    yield made
    # not qtbot.addWidget: its close() at teardown would (rightly) ask about the typed text
    made.done(QDialog.DialogCode.Rejected)
    made.deleteLater()


def test_declare_tab_follows_the_form_top_to_bottom(qtbot: QtBot, dialog: DeclareDialog) -> None:
    key_clicks(qtbot, dialog.title_edit, "Checkout down")
    visited = [QApplication.focusWidget()]
    for _ in range(11):
        key_click(qtbot, _focused(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert visited == [
        dialog.title_edit,
        dialog.severity_combo,
        dialog.summary_edit,  # Tab leaves the summary; it does not type a tab into it
        dialog.commander_edit,
        dialog.services_edit,
        dialog.users_combo,  # the triage helper comes after the fields above it
        dialog.revenue_check,
        dialog.data_check,
        dialog.workaround_check,
        dialog.use_button,
        ok,
        cancel,
    ]
    assert dialog.summary_edit.toPlainText() == ""


def test_declare_enter_declares_from_a_field(qtbot: QtBot, dialog: DeclareDialog) -> None:
    key_clicks(qtbot, dialog.title_edit, "Checkout down")
    key_click(qtbot, dialog.title_edit, Qt.Key.Key_Tab)
    key_click(qtbot, dialog.severity_combo, Qt.Key.Key_Up)  # SEV2 → SEV1
    for _ in range(2):  # to the IC, past the summary
        key_click(qtbot, _focused(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.commander_edit
    dialog.commander_edit.selectAll()
    key_clicks(qtbot, dialog.commander_edit, "Bea")
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        key_click(qtbot, dialog.commander_edit, Qt.Key.Key_Return)
    assert dialog.declaration() == Declaration("Checkout down", Severity.SEV1, "", "Bea")


def _answer_box(qtbot: QtBot, answer: str, asked: list[str]) -> None:
    def act(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        (button,) = [b for b in box.buttons() if b.text() == answer]
        _click(qtbot, button)

    _on_modal_box(act)


def _on_modal_box(act: Callable[[QWidget], None]) -> None:
    def attempt() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, attempt)
            return
        act(box)

    QTimer.singleShot(0, attempt)


def test_declare_cancel_and_esc_on_a_filled_dialog_ask_first(
    qtbot: QtBot, dialog: DeclareDialog
) -> None:
    key_clicks(qtbot, dialog.title_edit, "Checkout down")
    for _ in range(4):
        key_click(qtbot, _focused(), Qt.Key.Key_Tab)
    key_clicks(qtbot, dialog.services_edit, "orders-api")
    # the steps: from Services, Tab lands on the triage helper, not on Cancel …
    asked: list[str] = []
    _answer_box(qtbot, "Keep editing", asked)
    key_click(qtbot, _focused(), Qt.Key.Key_Escape)  # Esc asks too
    assert asked == ["This incident has not been declared yet. Discard what you typed?"]
    assert dialog.isVisible()
    assert dialog.title_edit.text() == "Checkout down"
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    _answer_box(qtbot, "Keep editing", asked)
    _click(qtbot, cancel)
    assert len(asked) == 2
    assert dialog.isVisible()
    _answer_box(qtbot, "Discard", asked)
    with qtbot.waitSignal(dialog.rejected):
        _click(qtbot, cancel)
    assert len(asked) == 3


def test_declare_esc_on_an_untouched_dialog_closes_without_a_question(
    qtbot: QtBot, dialog: DeclareDialog
) -> None:
    with qtbot.waitSignal(dialog.rejected):
        key_click(qtbot, dialog.title_edit, Qt.Key.Key_Escape)
    assert QApplication.activeModalWidget() is None


# ---------------------------------------------------------------- 3. quick-entry errors


@pytest.fixture
def sev1_view(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[IncidentView, Setup]]:
    """A SEV1 in the incident view, writes on the real writer thread (callbacks come later)."""
    made = make_setup(tmp_path)
    made.workspace.incidents.assign_role(made.incident_id, Role.INCIDENT_COMMANDER, "Ana")
    pooled = UiContext(made.workspace, TaskRunner(), AppEvents(), made.clock)
    view = IncidentView(made.workspace.queries, pooled.events, made.clock)
    qtbot.addWidget(view)
    view.attach(pooled)
    view.set_incident(made.incident_id)
    view.resize(1280, 600)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    yield view, Setup(pooled, made.clock, made.incident_id)
    pooled.runner.shutdown()
    made.workspace.close()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("/sev 1", "the incident is already SEV1"),
        ("/frobnicate now", "unknown command /frobnicate"),
        ("/done 99", "there is no checklist item 99"),
        ("/done two", "/done takes a checklist item number"),
        ("/status closed", "cannot move from open to closed"),
        ("/ic Ana", "Ana is already incident commander"),
    ],
)
def test_a_bad_command_is_refused_at_the_input_before_the_line_clears(
    qtbot: QtBot, sev1_view: tuple[IncidentView, Setup], line: str, reason: str
) -> None:
    view, setup = sev1_view
    entry = view.quick_entry
    rows = view.timeline_model.rowCount()
    entry.line.setFocus()
    key_clicks(qtbot, entry.line, line)
    key_click(qtbot, entry.line, Qt.Key.Key_Return)
    # at once, on the GUI thread: nothing was sent to the writer
    assert entry.in_flight == 0
    assert entry.line.text() == line
    assert entry.line.selectedText() == line  # typing replaces it
    assert reason in entry.error
    assert entry.error_label.isVisible()
    # shown at the input, not ~780 px away in the window's banner
    below = entry.error_label.mapTo(view, entry.error_label.rect().topLeft())
    line_bottom = entry.line.mapTo(view, entry.line.rect().bottomLeft())
    assert 0 <= below.y() - line_bottom.y() <= 12
    assert view.timeline_model.rowCount() == rows

    # the next line replaces the rejected text, saves, and clears the error
    with qtbot.waitSignal(setup.context.events.changes_applied, timeout=5000):
        key_clicks(qtbot, entry.line, "Failover to eu-west-2 started")
        key_click(qtbot, entry.line, Qt.Key.Key_Return)
    assert entry.line.text() == ""
    assert entry.error == ""
    last = view.timeline_model.entry(view.timeline_model.rowCount() - 1)
    assert last is not None
    assert last.text == "Failover to eu-west-2 started"  # not "/sev 1Failover…"


def test_a_write_refused_by_the_writer_shows_at_the_input_and_is_kept_selected(
    qtbot: QtBot, sev1_view: tuple[IncidentView, Setup]
) -> None:
    view, setup = sev1_view
    entry = view.quick_entry
    # the screen has not heard yet that someone else closed the incident
    service = setup.workspace.incidents
    service.change_status(setup.incident_id, Status.RESOLVED)
    service.change_status(setup.incident_id, Status.CLOSED)
    entry.line.setFocus()
    key_clicks(qtbot, entry.line, "too late")
    key_click(qtbot, entry.line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: entry.error != "")
    assert entry.line.text() == "too late"
    assert entry.line.selectedText() == "too late"
    assert "closed" in entry.error


# ---------------------------------------------------------------- 10. small things


def test_ic_and_comms_commands_tick_the_name_a_lead_items(
    qtbot: QtBot, sev1_view: tuple[IncidentView, Setup]
) -> None:
    view, setup = sev1_view
    entry = view.quick_entry

    def done(title_start: str) -> bool:
        model = view.checklist_model
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            if str(index.data()).lstrip("0123456789. ").startswith(title_start):
                return bool(index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked)
        raise AssertionError(f"no item {title_start!r}")

    assert done("Name an incident commander")  # the fixture named Ana with the operation
    assert not done("Name a communications lead")
    entry.line.setFocus()
    with qtbot.waitSignal(setup.context.events.changes_applied, timeout=5000):
        key_clicks(qtbot, entry.line, "/comms Bea")
        key_click(qtbot, entry.line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: done("Name a communications lead"))


def test_the_incident_list_elapsed_time_moves_on(qtbot: QtBot, night: Setup) -> None:
    window = _window(qtbot, night)
    incident = window.incident_model.incident_at(0)
    assert incident is not None
    night.clock.advance(seconds=34)  # 1 h 10 min 34 s since declared
    assert list_detail(incident, night.clock.now) == "Open · elapsed 1h 10m"
    night.clock.advance(minutes=20)
    assert list_detail(incident, night.clock.now) == "Open · elapsed 1h 30m"

    class Paints(QObject):
        count = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                Paints.count += 1
            return False

    counter = Paints()
    window.incident_list.viewport().installEventFilter(counter)
    qtbot.wait(50)
    Paints.count = 0
    assert window._list_timer.isActive()
    assert window._list_timer.interval() <= 60_000  # "every minute or so"
    window._list_timer.timeout.emit()  # the timer fires: the rows repaint with the new time
    qtbot.waitUntil(lambda: Paints.count > 0)


def test_resolving_a_sev1_with_the_shortcut_asks_first(qtbot: QtBot, tmp_path: Path) -> None:
    setup = make_setup(tmp_path)  # a SEV1
    try:
        window = _window(qtbot, setup)
        asked: list[str] = []
        _answer_box(qtbot, "Keep it open", asked)
        key_click(
            qtbot,
            _focused(),
            Qt.Key.Key_3,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        qtbot.waitUntil(lambda: bool(asked))
        assert asked[0].startswith("Resolve SEV1 #1 “Checkout failing for EU”?")
        assert setup.workspace.queries.incident(setup.incident_id).status is Status.OPEN
        _answer_box(qtbot, "Resolve", asked)
        window.actions_by_name["status_resolved"].trigger()
        assert setup.workspace.queries.incident(setup.incident_id).status is Status.RESOLVED
    finally:
        setup.workspace.close()


def test_a_logged_status_update_reads_as_text_in_the_timeline(
    qtbot: QtBot, sev1_view: tuple[IncidentView, Setup]
) -> None:
    view, setup = sev1_view
    with qtbot.waitSignal(setup.context.events.changes_applied, timeout=5000):
        view.write(
            lambda service: service.post_update(
                setup.incident_id,
                "**Investigating** — Checkout failing\n\nWe are looking into *checkout*.",
                template="status-investigating",
            ),
            "Logging the update",
        )
    model = view.timeline_model
    shown = model.index(model.rowCount() - 1, COL_TEXT).data()
    assert shown == "Investigating — Checkout failing ⏎  ⏎ We are looking into checkout."
    assert "**" not in shown


def test_ctrl_n_right_after_launch_takes_the_catalog_when_it_arrives(
    qtbot: QtBot, tmp_path: Path
) -> None:
    setup = make_setup(tmp_path)
    import_catalog(setup.workspace.db, [resources_dir() / "demo" / "catalog.yaml"])
    pooled = UiContext(setup.workspace, TaskRunner(), AppEvents(), setup.clock)
    seen: list[tuple[str, int]] = []
    try:
        window = MainWindow.for_context(pooled)
        qtbot.addWidget(window)
        window.show()

        def check(dialog: QWidget) -> None:
            assert isinstance(dialog, DeclareDialog)
            seen.append((dialog.services_edit.placeholderText(), len(dialog.known_services)))
            qtbot.waitUntil(lambda: bool(dialog.known_services), timeout=10_000)
            seen.append((dialog.services_edit.placeholderText(), len(dialog.known_services)))
            dialog.done(QDialog.DialogCode.Rejected)

        _on_modal(qtbot, check)
        window.actions_by_name["declare"].trigger()  # Ctrl+N before the catalog was read
        window.close()
    finally:
        pooled.runner.shutdown()
        setup.workspace.close()
    assert seen[0][0].endswith("(the service catalog is still loading)")  # not "no catalog"
    assert seen[-1][0].endswith("(from the catalog)")
    assert seen[-1][1] == 31  # the demo catalog's services, to complete and check against
