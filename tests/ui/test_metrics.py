"""The Metrics view on the scripted history (tests/metrics_history.py): the numbers
and what each chart plots, the filters, the window's action and palette entry, and
one read on the real reader thread (where pyqtgraph is imported)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from console.domain.clock import ManualClock
from console.ops.workspace import Workspace
from tests.metrics_history import TODAY, write_history
from tests.ui.helpers_secondary import OFFSCREEN_NOTICES
from ui.context import UiContext
from ui.events import AppEvents
from ui.main_window import MainWindow
from ui.metrics.view import MetricsDialog
from ui.palette import CommandPalette, PaletteEntry
from ui.tasks import TaskRunner

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)]


def history_context(tmp_path: Path, *, inline: bool) -> UiContext:
    clock = ManualClock(TODAY)
    workspace = Workspace.open(tmp_path / "data", actor="tester", clock=clock)
    write_history(workspace.db, clock)
    return UiContext(workspace, TaskRunner(inline=inline), AppEvents(), clock)


@pytest.fixture
def context(tmp_path: Path) -> Iterator[UiContext]:
    made = history_context(tmp_path, inline=True)
    yield made
    made.runner.shutdown()
    made.workspace.close()


def row(dialog: MetricsDialog, number: int) -> list[str]:
    cells = [dialog.table.item(number, c) for c in range(dialog.table.columnCount())]
    return [c.text() if c is not None else "" for c in cells]


def same(values: list[float], expected: list[float]) -> bool:
    return len(values) == len(expected) and all(
        (math.isnan(v) and math.isnan(e)) or v == e for v, e in zip(values, expected, strict=True)
    )


def test_the_view_shows_the_numbers_and_charts_of_the_history(
    qtbot: QtBot, context: UiContext
) -> None:
    dialog = MetricsDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.refresh()
    assert dialog.summary_label.text() == (
        "All incidents: 5 incidents, 2 open. Action items: 3 open, 2 overdue, 1 done "
        "(not linked to an incident: 1 open, 1 overdue)."
    )
    assert [row(dialog, r) for r in range(4)] == [
        ["Time to detect", "5", "0", "8 min", "0 s", "30 min"],
        ["Time to acknowledge", "4", "1", "11 min", "10 min", "20 min"],
        ["Time to mitigate", "4", "1", "37 min", "35 min", "1 h 15 min"],
        ["Time to resolve", "3", "2", "1 h 45 min", "2 h", "2 h"],
    ]
    assert "1 incident without an acknowledgement" in dialog.notes_label.text()
    charts = dialog.charts
    assert charts is not None
    assert charts.trend.labels == ["2026-01", "2026-02", "2026-03"]
    trend = charts.trend.series
    assert same(trend["acknowledge"], [17.5, math.nan, 4.5])
    assert same(trend["resolve"], [120.0, 75.0, math.nan])
    assert same(trend["detect"], [5.0, 30.0, 0.0])
    assert charts.severity.series == {"incidents": [1.0, 2.0, 1.0, 1.0]}
    assert charts.service.labels == ["postgres-main", "payments-gateway", "orders-api"]
    assert charts.service.series == {"incidents": [1.0, 2.0, 2.0]}
    assert charts.action_items.series == {"open": [2.0, 0.0, 1.0], "overdue": [1.0, 0.0, 1.0]}


def test_filters_and_a_bad_date(qtbot: QtBot, context: UiContext) -> None:
    dialog = MetricsDialog(context)
    qtbot.addWidget(dialog)
    dialog.refresh()
    dialog.service_edit.setText("orders-api")
    dialog.since_edit.setText("2026-02-01")
    dialog.refresh()
    assert dialog.summary_label.text().startswith(
        "2026-02-01 to …, service orders-api: 1 incident, 0 open."
    )
    assert row(dialog, 3) == ["Time to resolve", "1", "0", "1 h 15 min", "1 h 15 min", "1 h 15 min"]
    assert dialog.charts is not None
    assert dialog.charts.trend.labels == ["2026-02"]
    dialog.severity_combo.setCurrentText("SEV4")  # re-reads at once
    assert dialog.summary_label.text().endswith("(not linked to an incident: 1 open, 1 overdue).")
    assert "No incident matches." in dialog.notes_label.text()
    assert row(dialog, 0)[1:] == ["0", "0", "—", "—", "—"]
    assert dialog.charts.trend.labels == []
    dialog.until_edit.setText("2026-02-30")
    dialog.refresh()
    assert dialog.summary_label.text() == "until '2026-02-30' is not a date like 2026-12-31"
    assert row(dialog, 0)[1:] == ["0", "0", "—", "—", "—"]  # the last good read stays


def test_window_action_shortcut_and_palette_entry(
    qtbot: QtBot, context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = MainWindow.for_context(context)
    qtbot.addWidget(window)
    action = window.actions_by_name["metrics"]
    assert action.shortcut().toString() == "Ctrl+Alt+M"
    comms = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "Co&mms")
    assert action in comms.actions()
    offered: list[str] = []

    def ask(cls: object, parent: object, entries: list[PaletteEntry], *_: object) -> PaletteEntry:
        offered.extend(e.title for e in entries)
        return next(e for e in entries if e.key == "action:metrics")

    monkeypatch.setattr(CommandPalette, "ask", classmethod(ask))
    window.actions_by_name["palette"].trigger()  # the palette runs the Metrics action
    assert "Metrics" in offered
    [dialog] = window.findChildren(MetricsDialog)
    assert dialog.summary_label.text().startswith("All incidents: 5 incidents, 2 open.")
    dialog.close()


def test_read_on_the_real_reader_thread(tmp_path: Path, qtbot: QtBot) -> None:
    made = history_context(tmp_path, inline=False)
    try:
        dialog = MetricsDialog(made)
        qtbot.addWidget(dialog)
        dialog.refresh()
        qtbot.waitUntil(lambda: dialog.charts is not None)
        assert row(dialog, 3)[1] == "3"
    finally:
        made.runner.shutdown()
        made.workspace.close()


def test_count_axes_are_whole_numbers_and_an_empty_chart_says_so(
    qtbot: QtBot, context: UiContext, tmp_path: Path
) -> None:
    """Issue 16 item 10: the count axes read 0.5, 1.5 …; an empty chart was bare axes."""
    dialog = MetricsDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.refresh()
    charts = dialog.charts
    assert charts is not None
    for chart, side in (
        (charts.severity, "left"),
        (charts.action_items, "left"),
        (charts.service, "bottom"),
    ):
        shown = chart.value_ticks
        assert shown, chart.objectName()
        assert all(float(v).is_integer() for v in shown), (chart.objectName(), shown)
        # and they are the ones the axis draws (pyqtgraph keeps fixed ticks here)
        drawn = chart.getAxis(side)._tickLevels[0]
        assert [v for v, _label in drawn] == shown
        assert chart.empty_text == ""

    empty = history_context(tmp_path / "empty", inline=True)  # a workspace with no history
    try:
        with empty.workspace.db.writer() as session:
            session.execute(text("DELETE FROM action_items"))
            session.execute(text("DELETE FROM incidents"))
        quiet = MetricsDialog(empty)
        qtbot.addWidget(quiet)
        quiet.show()
        quiet.refresh()
        assert quiet.charts is not None
        assert quiet.charts.severity.empty_text == "No incidents in this period"
        assert quiet.charts.trend.empty_text == "No resolved incidents in this period"
    finally:
        empty.runner.shutdown()
        empty.workspace.close()
