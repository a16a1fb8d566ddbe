"""The Readiness tab on the demo workspace: scores and trend, findings by area and
severity, objects that open their view, exports, and its place in the main window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from console.demo import ensure_demo
from console.domain.audit import Area, AuditObject, ObjectKind
from console.domain.clock import ManualClock
from console.ops.workspace import Workspace
from tests.ui.conftest import OFFSCREEN_NOTICE
from ui.audit.view import ReadinessView, trend_text
from ui.context import UiContext
from ui.events import AppEvents
from ui.main_window import MainWindow
from ui.tasks import TaskRunner

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)


@pytest.fixture
def demo_context(tmp_path: Path) -> Iterator[UiContext]:
    clock = ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    workspace = Workspace.open(tmp_path / "demo", actor="tester", clock=clock)
    ensure_demo(workspace)
    runner = TaskRunner(inline=True)
    yield UiContext(workspace, runner, AppEvents(), clock, demo=True)
    runner.shutdown()
    workspace.close()


@pytest.fixture
def view(qtbot: QtBot, demo_context: UiContext) -> ReadinessView:
    widget = ReadinessView(demo_context)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    return widget


def _item(item: QTreeWidgetItem | None) -> QTreeWidgetItem:
    assert item is not None
    return item


def test_first_look_audits_without_storing_then_run_stores_the_trend(
    view: ReadinessView, demo_context: UiContext
) -> None:
    assert view.findings_shown() == []
    view.show()  # the first show audits (reader lane), nothing is stored
    report = view.report
    assert report is not None
    assert report.history == ()
    assert view.cards[Area.OWNED].trend.text() == "first audit"
    assert view.cards[Area.IMPROVING].score.text() == "—"
    assert view.cards[Area.IMPROVING].detail.text() == "nothing to check"
    assert view.status.text().startswith(f"{len(report.findings)} findings:")

    view.run_button.click()  # writer lane: stored
    assert view.report is not None
    assert view.report.history == ()
    clock = demo_context.clock
    assert isinstance(clock, ManualClock)
    clock.advance(hours=1)
    view.run_button.click()
    second = view.report
    assert second is not None
    assert len(second.history) == 1
    owned = view.cards[Area.OWNED]
    assert owned.trend.text().startswith("= unchanged since the last audit · ")
    assert "previous audit 1 h ago" in view.status.text()


def test_findings_grouped_by_area_and_severity(view: ReadinessView) -> None:
    view.start()
    report = view.report
    assert report is not None
    areas = [_item(view.tree.topLevelItem(i)) for i in range(view.tree.topLevelItemCount())]
    top = [item.text(0) for item in areas]
    counts = report.counts()["area"]
    assert top == [
        f"{area.value.capitalize()} — {counts[area.value]} finding"
        + ("" if counts[area.value] == 1 else "s")
        for area in Area
    ]
    owned = areas[0]
    assert [_item(owned.child(i)).text(0) for i in range(owned.childCount())] == [
        "High (2)",
        "Medium (11)",
    ]
    assert len(view.findings_shown()) == len(report.findings)
    card = "service:resource:default/card-processor"
    row = view.item_of(f"service-without-escalation-policy:{card}")
    assert row is not None
    assert row.text(0) == "Service card-processor has no escalation policy: nobody is paged for it"
    assert row.text(1).startswith("Add card-processor to the services: of an escalation policy")
    view.tree.setCurrentItem(row)
    detail = view.detail.text()
    assert "HIGH" in detail
    assert '<a href="service:resource:default/card-processor">' in detail
    assert "Fix: Add card-processor" in detail


def test_objects_open_their_view(qtbot: QtBot, view: ReadinessView) -> None:
    view.start()
    opened: list[AuditObject] = []
    view.open_requested.connect(opened.append)
    row = view.item_of("service-without-runbook:service:resource:default/cdn-edge")
    assert row is not None
    service = _item(row.child(0))
    assert service.text(0) == "service: cdn-edge"
    view.tree.itemActivated.emit(service, 0)
    assert opened == [AuditObject(ObjectKind.SERVICE, "resource:default/cdn-edge", "cdn-edge")]
    view.tree.setCurrentItem(row)
    view.detail.linkActivated.emit("service:resource:default/cdn-edge")
    assert len(opened) == 2
    gap = next(f for f in view.findings_shown() if f.check == "schedule-gap")
    schedule_row = view.item_of(gap.id)
    assert schedule_row is not None
    view.tree.itemActivated.emit(_item(schedule_row.child(0)), 0)  # no schedule view: nothing opens
    assert len(opened) == 2


def test_export_buttons_write_markdown_and_html(
    qtbot: QtBot, view: ReadinessView, tmp_path: Path
) -> None:
    assert not view.markdown_button.isEnabled()
    view.start()
    assert view.markdown_button.isEnabled()
    assert view.html_button.isEnabled()
    written: list[Path] = []
    view.export_to(tmp_path / "audit.md", "markdown", written.append)
    view.export_to(tmp_path / "audit.html", "html", written.append)
    assert written == [tmp_path / "audit.md", tmp_path / "audit.html"]
    assert (tmp_path / "audit.md").read_text(encoding="utf-8").startswith("# Readiness audit")
    assert "card-processor" in (tmp_path / "audit.html").read_text(encoding="utf-8")
    assert view.status.text() == f"Exported the audit to {tmp_path / 'audit.html'}"


def test_trend_text() -> None:
    from console.domain.audit import AreaScore

    assert trend_text(AreaScore(Area.OWNED, 10, 2, previous=70.0), [60.0, 70.0]) == (
        "▲ +10.0 since the last audit · 60 → 70 → 80"
    )
    assert trend_text(AreaScore(Area.OWNED, 10, 5, previous=70.0), [70.0]).startswith("▼ -20.0")
    assert trend_text(AreaScore(Area.OWNED, 0, 0, previous=70.0), [70.0]) == "not checked now"


def test_tab_actions_and_palette_in_the_main_window(qtbot: QtBot, demo_context: UiContext) -> None:
    window = MainWindow.for_context(demo_context)
    qtbot.addWidget(window)
    before = window.readiness
    assert before is None  # a placeholder until first shown or used
    shortcuts = {
        name: window.actions_by_name[name].shortcut().toString()
        for name in ("readiness", "readiness_run", "readiness_markdown", "readiness_html")
    }
    assert shortcuts == {
        "readiness": "Ctrl+Shift+D",
        "readiness_run": "Ctrl+Alt+A",
        "readiness_markdown": "Ctrl+Alt+D",
        "readiness_html": "Ctrl+Alt+H",
    }
    window.run_palette_key("action:readiness")  # the palette entry builds the tab
    readiness = window.readiness
    assert readiness is not None
    assert window.tabs.currentWidget() is readiness
    window.actions_by_name["readiness_run"].trigger()
    report = readiness.report
    assert report is not None
    window.show()
    # an object opens its view: the service on the map, the incident in the Incident tab
    readiness.open_requested.emit(AuditObject(ObjectKind.INCIDENT, "1", "#1 Login outage"))
    assert window.tabs.currentWidget() is window.incident_view
    assert window.current_incident_id == 1
    readiness.open_requested.emit(AuditObject(ObjectKind.PERSON, "1", "Hanna Berg"))
    assert window.oncall is not None
    assert window.tabs.currentWidget() is window.oncall
    assert window.oncall.people.search_line.text() == "Hanna Berg"
    readiness.open_requested.emit(
        AuditObject(ObjectKind.SERVICE, "resource:default/cdn-edge", "cdn-edge")
    )
    assert window.tabs.currentWidget() is window.services


def test_the_fix_column_wraps_whole_and_shows_no_backticks(
    qtbot: QtBot, view: ReadinessView
) -> None:
    """Issue 16 item 10: the fix column was cut off at the window's edge and showed `…`."""
    view.resize(1280, 720)
    view.show()
    qtbot.waitExposed(view)
    card = "service:resource:default/card-processor"
    row = view.item_of(f"service-without-escalation-policy:{card}")
    assert row is not None
    assert "`" not in row.text(1)
    assert all("`" not in view.item_of(f.id).text(1) for f in view.findings_shown())  # type: ignore[union-attr]
    view.tree.scrollToItem(row)
    tree = view.tree
    index = tree.indexFromItem(row, 1)
    cell = tree.visualRect(index)
    viewport = tree.viewport().rect()
    assert cell.right() <= viewport.right() + 1  # the column ends inside the view
    needed = tree.fontMetrics().boundingRect(
        QRect(0, 0, cell.width() - 8, 10_000), int(Qt.TextFlag.TextWordWrap), row.text(1)
    )
    assert needed.height() <= cell.height()  # every wrapped line has room
