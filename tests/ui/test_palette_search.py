"""Ctrl+K finds runbooks, services, people and incidents, says when nothing matches,
and offers the full runbook search (issue 16, item 9). Real window, demo workspace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.demo import ensure_demo
from console.domain.clock import utc_now
from console.ops.workspace import Workspace
from tests.ui.conftest import OFFSCREEN_NOTICE
from tests.ui.helpers_secondary import key_click, key_clicks
from ui.context import UiContext
from ui.events import AppEvents
from ui.main_window import MainWindow
from ui.palette import SEARCH_RUNBOOKS_KEY, CommandPalette
from ui.tasks import TaskRunner

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)]


@pytest.fixture
def demo(workspace: Workspace) -> Iterator[UiContext]:
    ensure_demo(workspace)
    runner = TaskRunner()  # real reader lane: answers arrive through the event loop
    yield UiContext(workspace=workspace, runner=runner, events=AppEvents(), clock=utc_now)
    runner.shutdown()


def _window(qtbot: QtBot, context: UiContext) -> MainWindow:
    window = MainWindow.for_context(context)
    qtbot.addWidget(window)
    window.show()
    return window


def _drive_palette(qtbot: QtBot, window: MainWindow, typed: str, check: object) -> None:
    """Ctrl+K, type, wait for the search to answer, run ``check(palette)``."""

    def drive() -> None:
        palette = QApplication.activeModalWidget()
        assert isinstance(palette, CommandPalette)
        if typed.isascii():
            key_clicks(qtbot, palette.search, typed)
        else:  # QTest cannot type non-ASCII keys; the line edit gets the same text
            palette.search.insert(typed)
        qtbot.waitUntil(lambda: not palette._searching, timeout=5000)
        check(palette)  # type: ignore[operator]

    QTimer.singleShot(0, drive)
    window.actions_by_name["palette"].trigger()


def _titles(palette: CommandPalette) -> list[str]:
    return [str(palette.model.index(r, 0).data()) for r in range(palette.model.rowCount())]


def test_finds_a_runbook_and_opens_it(qtbot: QtBot, demo: UiContext) -> None:
    window = _window(qtbot, demo)

    def check(palette: CommandPalette) -> None:
        titles = _titles(palette)
        assert any(t.startswith("Runbook:") and "isk" in t for t in titles), titles
        assert not palette.empty_label.isVisible()
        row = next(r for r, t in enumerate(titles) if t.startswith("Runbook:"))
        palette.view.setCurrentIndex(palette.model.index(row, 0))
        key_click(qtbot, palette.search, Qt.Key.Key_Return)

    _drive_palette(qtbot, window, "disk full", check)
    assert window.runbooks is not None
    assert window.tabs.currentWidget() is window.runbooks
    qtbot.waitUntil(lambda: window.runbooks.viewer.document is not None, timeout=5000)  # type: ignore[union-attr]
    assert "disk" in window.runbooks.viewer.document.title.lower()  # type: ignore[union-attr]


def test_finds_people_services_and_incidents(qtbot: QtBot, demo: UiContext) -> None:
    window = _window(qtbot, demo)
    from console.oncall import directory_for

    someone = directory_for(demo.workspace).contacts("", limit=1)[0].name
    found: dict[str, list[str]] = {}

    def check(palette: CommandPalette) -> None:
        found["person"] = _titles(palette)
        palette.reject()

    _drive_palette(qtbot, window, someone, check)
    assert f"Person: {someone}" in found["person"]

    incident = demo.workspace.queries.incidents()[0]

    def check_incident(palette: CommandPalette) -> None:
        found["incident"] = _titles(palette)
        palette.reject()

    _drive_palette(qtbot, window, incident.title, check_incident)
    assert found["incident"][0] == f"Go to: {incident.title}"


def test_nothing_matches_says_so_and_offers_the_full_search(qtbot: QtBot, demo: UiContext) -> None:
    window = _window(qtbot, demo)
    seen: dict[str, object] = {}

    def check(palette: CommandPalette) -> None:
        seen["empty"] = palette.empty_label.isVisible()
        seen["label"] = palette.empty_label.text()
        seen["rows"] = _titles(palette)
        entry = palette.current_entry()
        assert entry is not None
        seen["key"] = entry.key
        key_click(qtbot, palette.search, Qt.Key.Key_Return)

    _drive_palette(qtbot, window, "qzxqzx", check)
    assert seen["empty"] is True
    assert seen["label"] == "No matches"
    assert seen["rows"] == ["Search all runbooks for “qzxqzx”"]
    assert seen["key"] == f"{SEARCH_RUNBOOKS_KEY}:qzxqzx"
    assert window.runbooks is not None
    assert window.tabs.currentWidget() is window.runbooks
    assert window.runbooks.library_view.search_line.text() == "qzxqzx"
