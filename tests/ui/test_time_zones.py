"""One time-zone setting, every time labelled, the other zone on hover (issue 16, item 5).

Run with TZ=America/New_York set in this process (time.tzset), so "local" differs from
UTC as on an IC's laptop in New York; restored afterwards.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from console.demo import ensure_demo
from console.domain.times import DisplayZone, format_time, parse_zone
from console.ops.workspace import Workspace
from tests.ui.helpers_secondary import OFFSCREEN_NOTICES, Setup, make_setup
from ui.comms.draft_dialog import DraftUpdateDialog
from ui.context import UiContext
from ui.events import AppEvents
from ui.main_window import MainWindow
from ui.models.timeline import COL_TIME
from ui.oncall.area import OnCallArea
from ui.tasks import TaskRunner
from ui.times import SETTINGS_KEY, display_zone, forget_display_zone

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)]

# helpers_secondary.START is 2026-03-01 03:00 UTC: 22:00 EST the evening before


@pytest.fixture(autouse=True)
def new_york() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    QSettings().remove(SETTINGS_KEY)
    forget_display_zone()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
        QSettings().remove(SETTINGS_KEY)
        forget_display_zone()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = make_setup(tmp_path)
    made.workspace.incidents.add_note(made.incident_id, "Rolled back the deploy")
    yield made
    made.workspace.close()


def _window(qtbot: QtBot, setup: Setup) -> MainWindow:
    window = MainWindow.for_context(setup.context)
    qtbot.addWidget(window)
    window.show()
    return window


def _time_cell(window: MainWindow, role: int = Qt.ItemDataRole.DisplayRole) -> str:
    model = window.incident_view.timeline_model
    last = model.rowCount() - 1
    return str(model.index(last, COL_TIME).data(role))


def _checklist_texts(window: MainWindow) -> list[str]:
    model = window.incident_view.checklist_model
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def test_core_labels_every_time_with_its_zone() -> None:
    moment = datetime(2026, 3, 1, 3, 0, 5, tzinfo=UTC)
    assert format_time(moment, DisplayZone.LOCAL, "seconds") == "22:00:05 EST"
    assert format_time(moment, DisplayZone.UTC, "datetime") == "2026-03-01 03:00 UTC"
    assert format_time(moment, parse_zone("Asia/Kolkata")) == "08:30 IST"
    assert format_time(moment, parse_zone("Asia/Kathmandu")) == "08:45 UTC+05:45"
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_zone("Mars/Olympus")


def test_timeline_and_checklist_show_the_chosen_zone_labelled(qtbot: QtBot, setup: Setup) -> None:
    window = _window(qtbot, setup)
    assert display_zone() is DisplayZone.LOCAL
    assert _time_cell(window) == "22:00:00 EST"
    hover = _time_cell(window, Qt.ItemDataRole.ToolTipRole)
    assert "2026-02-28 22:00:00 EST" in hover
    assert "2026-03-01 03:00:00 UTC" in hover  # the other zone on hover
    due = [t for t in _checklist_texts(window) if "due " in t]
    assert due
    assert all(t.rstrip().endswith("EST") for t in due), due
    declared = window.incident_view.elapsed_label.toolTip()
    assert "EST" in declared
    assert "UTC" in declared
    width = window.incident_view.timeline.columnWidth(COL_TIME)
    needed = window.incident_view.timeline.fontMetrics().horizontalAdvance("22:00:00 EST")
    assert width > needed  # the label is not cut off

    # View → Times in UTC: every view follows at once, and the choice is stored
    window.actions_by_name["times_utc"].trigger()
    assert display_zone() is DisplayZone.UTC
    assert QSettings().value(SETTINGS_KEY) == "utc"
    assert _time_cell(window) == "03:00:00 UTC"
    assert "EST" in _time_cell(window, Qt.ItemDataRole.ToolTipRole)
    due = [t for t in _checklist_texts(window) if "due " in t]
    assert all(t.rstrip().endswith("UTC") for t in due), due
    listed = window.incident_list.model().index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Declared 2026-03-01 03:00 UTC" in str(listed)
    assert "2026-02-28 22:00 EST" in str(listed)

    window.actions_by_name["times_utc"].trigger()
    assert display_zone() is DisplayZone.LOCAL
    assert _time_cell(window) == "22:00:00 EST"


def test_a_new_window_reads_the_stored_choice(qtbot: QtBot, setup: Setup) -> None:
    QSettings().setValue(SETTINGS_KEY, "utc")
    forget_display_zone()
    window = _window(qtbot, setup)
    assert window.actions_by_name["times_utc"].isChecked()
    assert _time_cell(window) == "03:00:00 UTC"


def test_drafts_label_their_times_and_customers_get_the_template_zone(
    qtbot: QtBot, setup: Setup
) -> None:
    dialog = DraftUpdateDialog(setup.context, setup.incident_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select_template("internal-update")  # no timezone: the chosen (local) zone
    assert "2026-02-28 22:00 EST" in dialog.editor.toPlainText()
    assert dialog.next_label.text() == "Next update due 22:30 EST"
    dialog.select_template("status-investigating")  # asks for UTC: customers anywhere
    assert "2026-03-01 03:30 UTC" in dialog.editor.toPlainText()
    assert "EST" not in dialog.editor.toPlainText()
    assert dialog.next_label.text() == "Next update due 22:30 EST"  # for the IC: local


def test_a_template_with_an_unknown_zone_is_refused_with_its_line(
    qtbot: QtBot, setup: Setup
) -> None:
    folder = setup.workspace.folder / "templates" / "comms"
    folder.mkdir(parents=True)
    (folder / "ours.md").write_text(
        "---\ntitle: Ours\ntimezone: Mars/Olympus\n---\nAt {{ now }}\n", encoding="utf-8"
    )
    dialog = DraftUpdateDialog(setup.context, setup.incident_id)
    qtbot.addWidget(dialog)
    assert "ours.md:3" in dialog.refused_label.text()
    assert "Mars/Olympus" in dialog.refused_label.text()


@pytest.fixture
def demo_context(tmp_path: Path) -> Iterator[UiContext]:
    workspace = Workspace.open(tmp_path / "demo", actor="tester")
    ensure_demo(workspace)
    runner = TaskRunner(inline=True)
    yield UiContext(workspace, runner, AppEvents(), workspace.clock, demo=True)
    runner.shutdown()
    workspace.close()


def test_on_call_times_follow_the_setting(qtbot: QtBot, demo_context: UiContext) -> None:
    from ui.times import set_display_zone

    QSettings().remove("oncall/service")
    area = OnCallArea(demo_context)
    qtbot.addWidget(area)
    area.start()
    view = area.emergency
    view.show_service("orders-api")
    assert view.answer is not None
    local_abbreviation = datetime.now(UTC).astimezone().tzname()
    assert local_abbreviation in ("EST", "EDT")
    assert local_abbreviation in view.freshness.text()
    assert "UTC" in view.freshness.toolTip()
    untils = [w for w in view.findChildren(QLabel) if w.text().startswith("on call until")]
    assert untils
    assert all(local_abbreviation in w.text() and "UTC" in w.toolTip() for w in untils)

    set_display_zone(DisplayZone.UTC)  # re-rendered at once
    assert "UTC" in view.freshness.text()
    assert local_abbreviation not in view.freshness.text()
    untils = [w for w in view.findChildren(QLabel) if w.text().startswith("on call until")]
    assert all(w.text().endswith("UTC") for w in untils)
