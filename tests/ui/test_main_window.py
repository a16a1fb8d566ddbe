"""The main window: start-up selection, actions and shortcuts, declare, palette, banner,
the start-up snapshot, and the first-paint benchmark hook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from console.domain.incident import Severity, Status
from console.ops.workspace import Workspace
from console.paths import database_path
from console.snapshot import Snapshot
from tests.ui.conftest import OFFSCREEN_NOTICE
from ui.context import UiContext
from ui.declare_dialog import Declaration, DeclareDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)


def _seed(workspace: Workspace) -> dict[str, int]:
    ids: dict[str, int] = {}
    for title, severity in (
        ("Old outage", Severity.SEV2),
        ("Checkout failing", Severity.SEV1),
        ("Newest, resolved", Severity.SEV3),
    ):
        outcome = workspace.incidents.declare(title, severity, commander="Ana")
        assert outcome.incident is not None
        ids[title] = outcome.incident.id
    workspace.incidents.change_status(ids["Newest, resolved"], Status.RESOLVED)
    return ids


def _window(qtbot: QtBot, context: UiContext) -> MainWindow:
    window = MainWindow.for_context(context)
    qtbot.addWidget(window)
    return window


def test_selects_the_most_recent_active_incident(qtbot: QtBot, context: UiContext) -> None:
    ids = _seed(context.workspace)
    window = _window(qtbot, context)
    assert window.current_incident_id == ids["Checkout failing"]
    assert window.incident_view.title_label.text() == "Checkout failing"
    current = window.incident_list.currentIndex()
    assert current.row() == 0  # active incidents are listed first


def test_every_action_has_a_distinct_shortcut(qtbot: QtBot, context: UiContext) -> None:
    window = _window(qtbot, context)
    shortcuts = {name: a.shortcut() for name, a in window.actions_by_name.items()}
    assert all(not s.isEmpty() for s in shortcuts.values()), shortcuts
    texts = [s.toString() for s in shortcuts.values()]
    assert len(texts) == len(set(texts))
    expected = {
        "declare": QKeySequence(QKeySequence.StandardKey.New),
        "quick_entry": QKeySequence("Ctrl+L"),
        "palette": QKeySequence("Ctrl+K"),
        "compact": QKeySequence("Ctrl+Shift+C"),
        "severity_sev1": QKeySequence("Ctrl+1"),
        "quit": QKeySequence("Ctrl+Q"),
    }
    for name, sequence in expected.items():
        assert shortcuts[name] == sequence
    for action in window.findChildren(type(window.actions_by_name["quit"])):
        if action.parent() is window and not action.isSeparator() and action.text():
            assert not action.shortcut().isEmpty(), action.text()


def test_switching_incidents_from_the_list(qtbot: QtBot, context: UiContext) -> None:
    ids = _seed(context.workspace)
    window = _window(qtbot, context)
    row = window.incident_model.row_of(ids["Old outage"])
    assert row is not None
    window.incident_list.setCurrentIndex(window.incident_model.index(row, 0))
    assert window.current_incident_id == ids["Old outage"]
    assert window.incident_view.title_label.text() == "Old outage"


def test_active_only_filter(qtbot: QtBot, context: UiContext) -> None:
    ids = _seed(context.workspace)
    window = _window(qtbot, context)
    window.actions_by_name["active_only"].trigger()
    shown = {i.id for i in window.incident_model.incidents()}
    assert ids["Newest, resolved"] not in shown
    window.select_incident(ids["Newest, resolved"])  # going to a hidden one shows all again
    assert window.current_incident_id == ids["Newest, resolved"]
    assert not window.actions_by_name["active_only"].isChecked()


def test_declare_action_creates_and_selects_an_incident(
    qtbot: QtBot, context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, context)
    declaration = Declaration("Payments API 503s", Severity.SEV1, "EU only", "Bea")
    monkeypatch.setattr(DeclareDialog, "ask", classmethod(lambda cls, *a, **k: declaration))
    window.actions_by_name["declare"].trigger()
    incident = window.incident_view.incident
    assert incident is not None
    assert incident.title == "Payments API 503s"
    assert incident.severity is Severity.SEV1
    assert incident.holder is not None
    assert window.incident_view.roles_label.text().startswith("IC: Bea")
    assert [i.title for i in window.incident_model.incidents()] == ["Payments API 503s"]


def test_declare_dialog_builds_a_declaration(qtbot: QtBot) -> None:
    dialog = DeclareDialog(commander="tester")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.buttons()[0]
    assert not ok.isEnabled()  # no title yet
    QTest.keyClicks(dialog.title_edit, "Login outage")
    assert ok.isEnabled()
    assert Severity.SEV2.definition == dialog.definition_label.text()
    dialog.data_check.setChecked(True)
    assert "SEV1" in dialog.suggestion_label.text()
    dialog.use_suggestion()
    assert dialog.declaration() == Declaration("Login outage", Severity.SEV1, "", "tester")


def test_set_severity_and_status_actions(qtbot: QtBot, context: UiContext) -> None:
    ids = _seed(context.workspace)
    window = _window(qtbot, context)
    window.actions_by_name["severity_sev2"].trigger()
    window.actions_by_name["status_mitigating"].trigger()
    incident = context.workspace.queries.incident(ids["Checkout failing"])
    assert incident.severity is Severity.SEV2
    assert incident.status is Status.MITIGATING
    assert window.incident_view.status_badge.text() == "MITIGATING"
    summary = window.incident_model.incident_at(0)
    assert summary is not None
    assert summary.severity is Severity.SEV2  # the list refreshed too


def test_expected_failure_goes_to_the_banner_not_a_dialog(qtbot: QtBot, context: UiContext) -> None:
    _seed(context.workspace)
    window = _window(qtbot, context)
    with qtbot.waitSignal(context.events.error_shown) as blocker:
        window.actions_by_name["severity_sev1"].trigger()  # it is SEV1 already
    assert "already SEV1" in blocker.args[0]
    banner = getattr(window, "_error_banner", None)
    if banner is not None:  # ui/errors.py is present
        assert any("already SEV1" in m for m in banner.messages())


def test_palette_lists_actions_and_incidents(
    qtbot: QtBot, context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    palette = pytest.importorskip("ui.palette")
    ids = _seed(context.workspace)
    window = _window(qtbot, context)
    seen: list[list[str]] = []

    def ask(cls: object, parent: object, entries: list[object], *connect: object) -> object:
        seen.append([e.title for e in entries])  # type: ignore[attr-defined]
        return next(e for e in entries if e.title == "Go to: Old outage")  # type: ignore[attr-defined]

    monkeypatch.setattr(palette.CommandPalette, "ask", classmethod(ask))
    window.actions_by_name["palette"].trigger()
    assert "New incident" in seen[0]
    assert "Go to: Checkout failing" in seen[0]
    assert window.current_incident_id == ids["Old outage"]


def test_snapshot_reads_the_same_views_as_the_queries(workspace: Workspace) -> None:
    ids = _seed(workspace)
    incident_id = ids["Checkout failing"]
    workspace.incidents.add_note(incident_id, "first")
    workspace.incidents.correct_last(incident_id, "second")
    snapshot = Snapshot.open(database_path(workspace.folder))
    assert snapshot is not None
    try:
        queries = workspace.queries
        assert snapshot.incidents() == queries.incidents()
        assert snapshot.incidents(active_only=True) == queries.incidents(active_only=True)
        assert snapshot.incident(incident_id) == queries.incident(incident_id)
        assert snapshot.timeline_count(incident_id) == queries.timeline_count(incident_id)
        assert snapshot.timeline_page(incident_id, 1, 200) == queries.timeline_page(
            incident_id, 1, 200
        )
        assert snapshot.checklist(incident_id) == queries.checklist(incident_id)
    finally:
        snapshot.close()
    assert Snapshot.open(workspace.folder / "missing.db") is None


def test_window_painted_from_snapshot_then_attached(qtbot: QtBot, context: UiContext) -> None:
    ids = _seed(context.workspace)
    snapshot = Snapshot.open(database_path(context.workspace.folder))
    assert snapshot is not None
    window = MainWindow(snapshot, context.events, context.clock)
    qtbot.addWidget(window)
    assert window.current_incident_id == ids["Checkout failing"]
    assert not window.actions_by_name["declare"].isEnabled()  # no writes before attach
    context.workspace.incidents.add_note(ids["Checkout failing"], "written meanwhile")
    window.attach(context)
    window.resync()
    snapshot.close()
    model = window.incident_view.timeline_model
    assert model.index(model.rowCount() - 1, 4).data() == "written meanwhile"
    assert window.actions_by_name["declare"].isEnabled()


@pytest.mark.slow
def test_first_paint_hook_prints_and_exits(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "RESPONDER_CONSOLE_BENCH_FIRST_PAINT": "1",
    }
    command = [sys.executable, "-m", "ui.entry", "--demo", "--data-dir", str(tmp_path / "demo")]
    for _ in range(2):  # the first run seeds the demo; the second takes the snapshot path
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "first-paint\n"


def test_metrics_smoke_hook_draws_the_charts_and_exits(tmp_path: Path) -> None:
    """The frozen build's check (tests/integration/test_packaging.py) on the source tree."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "RESPONDER_CONSOLE_SMOKE_METRICS": "1"}
    command = [sys.executable, "-m", "ui.entry", "--demo", "--data-dir", str(tmp_path / "demo")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "metrics-charts\n"


@pytest.mark.slow
def test_ready_hook_and_the_workspace_opened_off_the_gui_thread(tmp_path: Path) -> None:
    """The ``ready`` benchmark's hook on both start paths, then a start that opens the
    workspace on the worker thread and attaches (the Metrics smoke hook needs it)."""
    base = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "ui.entry", "--demo", "--data-dir", str(tmp_path / "demo")]
    for _ in range(2):  # the first run seeds the demo; the second paints from the snapshot
        env = {**base, "RESPONDER_CONSOLE_BENCH_READY": "1"}
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        ready, attached = result.stdout.splitlines()
        assert ready == "ready"
        assert attached.startswith("attached ")
        assert float(attached.split()[1]) >= 0
    env = {**base, "RESPONDER_CONSOLE_SMOKE_METRICS": "1"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "metrics-charts\n"


def test_snapshot_reads_the_catalog_names(context: UiContext) -> None:
    from console.catalog import catalog_for
    from console.resources import resources_dir

    catalog_for(context.workspace).import_paths([resources_dir() / "demo" / "catalog.yaml"])
    snapshot = Snapshot.open(database_path(context.workspace.folder))
    assert snapshot is not None
    try:
        names = snapshot.service_names()
    finally:
        snapshot.close()
    assert names == catalog_for(context.workspace).names()  # the labels the map shows
    assert context.workspace.queries.service_names() == names
    assert "orders-api" in names


def test_tabs_are_built_when_first_shown_or_used(qtbot: QtBot, context: UiContext) -> None:
    from ui.main_window import LAZY_TABS, TabPlaceholder
    from ui.oncall.area import OnCallArea
    from ui.sync.panel import SyncPanel

    window = _window(qtbot, context)
    texts = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert texts == ["Incident", *LAZY_TABS.values()]
    assert (window.runbooks, window.sync_panel, window.oncall) == (None, None, None)
    assert all(
        isinstance(window.tabs.widget(i), TabPlaceholder) for i in range(1, window.tabs.count())
    )
    # showing a tab builds it in place and keeps it shown
    window.tabs.setCurrentIndex(texts.index("Sync"))
    assert isinstance(window.sync_panel, SyncPanel)
    assert window.tabs.currentWidget() is window.sync_panel
    assert window.tabs.indexOf(window.sync_panel) == texts.index("Sync")
    # an action of a tab not built yet builds and shows it
    window.tabs.setCurrentIndex(0)
    window.actions_by_name["oncall_people"].trigger()
    oncall = window.oncall
    assert isinstance(oncall, OnCallArea)
    assert window.tabs.currentWidget() is oncall
    assert oncall.pages.currentWidget() is oncall.people
    assert window.area("oncall") is oncall  # built once
    # the idle queue builds the rest, one per event-loop turn; the tab order stays
    window.build_areas_later()
    qtbot.waitUntil(
        lambda: (
            None not in (window.runbooks, window.services, window.readiness)
            and window.pack_importer is not None
        )
    )
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == texts
    assert not any(
        isinstance(window.tabs.widget(i), TabPlaceholder) for i in range(window.tabs.count())
    )
    assert window.tabs.currentWidget() is oncall


def test_area_needs_the_workspace(qtbot: QtBot, context: UiContext) -> None:
    _seed(context.workspace)
    snapshot = Snapshot.open(database_path(context.workspace.folder))
    assert snapshot is not None
    try:
        window = MainWindow(snapshot, context.events, context.clock)
        qtbot.addWidget(window)
        with pytest.raises(RuntimeError, match="attach first"):
            window.area("runbooks")
        window.search_runbooks()  # before attach: does nothing, builds nothing
        assert window.runbooks is None
    finally:
        snapshot.close()


def test_ctrl_n_while_the_workspace_opens_waits_to_declare(
    qtbot: QtBot, context: UiContext
) -> None:
    """The app opens the workspace off the GUI thread after the first paint: Ctrl+N
    opens the dialog at once; Declare works once the window is attached."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    from console.catalog import catalog_for
    from console.resources import resources_dir

    _seed(context.workspace)
    catalog = catalog_for(context.workspace)
    catalog.import_paths([resources_dir() / "demo" / "catalog.yaml"])
    snapshot = Snapshot.open(database_path(context.workspace.folder))
    assert snapshot is not None
    window = MainWindow(snapshot, context.events, context.clock)
    qtbot.addWidget(window)
    assert not window.actions_by_name["declare"].isEnabled()
    window.expect_workspace()
    assert window.actions_by_name["declare"].isEnabled()
    seen: dict[str, object] = {}

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, DeclareDialog):
            QTimer.singleShot(20, act)
            return
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        dialog.title_edit.setText("Search is slow")
        seen["ok_while_opening"] = ok.isEnabled()
        seen["note"] = dialog.opening_label.isVisibleTo(dialog)
        seen["placeholder"] = dialog.services_edit.placeholderText()
        window.set_service_names(catalog.names())  # the worker's early read arrives
        seen["known"] = len(dialog.known_services)
        window.attach(context)  # the worker thread's workspace arrives
        seen["ok_attached"] = ok.isEnabled()
        seen["commander"] = dialog.commander_edit.text()
        dialog.services_edit.setText("Orders-API")
        ok.click()

    QTimer.singleShot(0, act)
    window.actions_by_name["declare"].trigger()
    snapshot.close()
    assert seen["ok_while_opening"] is False
    assert seen["note"] is True
    assert str(seen["placeholder"]).endswith("(the service catalog is still loading)")
    assert seen["known"] == len(catalog.names()) > 0
    assert seen["ok_attached"] is True
    assert seen["commander"] == "tester"
    declared = [i for i in context.workspace.queries.incidents() if i.title == "Search is slow"]
    assert len(declared) == 1
    assert [s.name for s in declared[0].services] == ["orders-api"]
