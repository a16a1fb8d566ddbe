"""The runbook sources panel (issue 15 item 1): the list with counts and age, Add,
Refresh and Remove on the task runner's lanes, the library refreshed after each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from console.domain.clock import ManualClock
from console.library import library_for
from console.ops.workspace import Workspace
from tests.ui.conftest import OFFSCREEN_NOTICE
from ui.context import UiContext
from ui.events import AppEvents
from ui.runbooks.area import RunbooksArea
from ui.runbooks.models import detail_text
from ui.runbooks.sources_panel import age_text
from ui.tasks import TaskRunner

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)

REPO_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


@pytest.fixture
def pool_area_context(tmp_path: Path) -> Iterator[UiContext]:
    workspace = Workspace.open(tmp_path / "data", actor="tester", clock=ManualClock(NOW))
    assert library_for(workspace).import_paths([REPO_RUNBOOKS]).refused == []
    runner = TaskRunner()  # the real lanes: the work runs off the GUI thread
    yield UiContext(workspace=workspace, runner=runner, events=AppEvents(), clock=workspace.clock)
    runner.shutdown()
    workspace.close()


def _rows(area: RunbooksArea) -> list[str]:
    tree = area.sources.tree
    rows = []
    for row in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(row)
        assert item is not None
        rows.append(item.text(0))
    return rows


def _translation(root: Path) -> Path:
    """The repository's runbooks' layout again, as a translation keeps it."""
    for name in ("disk-full.md", "dns-failure.md"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"# 翻訳 {name}\n\n手順。\n", encoding="utf-8")
    return root


def test_panel_lists_adds_refreshes_and_removes_sources(
    qtbot: QtBot, pool_area_context: UiContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    area = RunbooksArea(pool_area_context)
    qtbot.addWidget(area)
    area.resize(1400, 900)
    panel = area.sources
    with qtbot.waitSignal(panel.listed, timeout=5000):
        area.start()
    assert _rows(area) == ["runbooks  —  11 runbooks\nmarkdown · imported just now · 3 overdue"]
    assert not panel.remove_button.isEnabled()  # nothing selected

    folder = _translation(tmp_path / "runbooks-ja")
    with qtbot.waitSignal(panel.listed, timeout=10_000):
        assert panel.add(folder)
        assert panel.busy  # queued on the writer lane, not run on the GUI thread
        assert not panel.add_button.isEnabled()
    report = panel.adder.last_report
    assert report.refused == []  # the same ids as the first source: no "duplicate id"
    assert [(s.name, s.created, s.imported) for s in report.sources] == [("runbooks-ja", True, 2)]
    assert [row.split("\n")[0] for row in _rows(area)] == [
        "runbooks  —  11 runbooks",
        "runbooks-ja  —  2 runbooks",
    ]
    assert panel.status.text() == "Added 'runbooks-ja'. 2 sources, 13 runbooks."
    assert panel.adder.summary_box is not None
    assert panel.adder.summary_box.text().endswith("; new source 'runbooks-ja' (markdown).")
    panel.adder.summary_box.close()
    qtbot.waitUntil(lambda: area.library_view.model.rowCount() == 13, timeout=5000)
    # the translation's runbooks say which source they are from; the first's need not
    today = NOW.date()
    details = {h.slug: detail_text(h, today) for h in area.library_view.model.hits()}
    assert details["runbooks-ja:disk-full"] == "runbooks-ja · no owner · never reviewed"
    assert details["disk-full"].startswith("team-data · ")

    # refresh the selected source: a file gone, one changed
    (folder / "dns-failure.md").unlink()
    (folder / "disk-full.md").write_text("# 変更\n", encoding="utf-8")
    panel.select("runbooks-ja")
    assert panel.remove_button.isEnabled()
    with qtbot.waitSignal(panel.listed, timeout=10_000):
        assert panel.refresh_selected()
    [source] = panel.refresher.last_report.sources
    assert (source.name, source.updated, source.removed) == ("runbooks-ja", 1, 1)
    assert _rows(area)[1].startswith("runbooks-ja  —  1 runbook\n")
    assert panel.refresher.summary_box is not None
    panel.refresher.summary_box.close()

    # remove it, after the question
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    panel.select("runbooks-ja")
    with qtbot.waitSignal(panel.listed, timeout=10_000):
        panel.remove_selected()
    assert [row.split()[0] for row in _rows(area)] == ["runbooks"]
    assert panel.status.text().startswith("Removed 'runbooks-ja' and its 1 runbooks.")
    qtbot.waitUntil(lambda: area.library_view.model.rowCount() == 11, timeout=5000)


def test_a_failed_refresh_is_reported_and_the_buttons_come_back(
    qtbot: QtBot, pool_area_context: UiContext, tmp_path: Path
) -> None:
    area = RunbooksArea(pool_area_context)
    qtbot.addWidget(area)
    folder = _translation(tmp_path / "gone")
    library_for(pool_area_context.workspace).add_source(folder)
    with qtbot.waitSignal(area.sources.listed, timeout=5000):
        area.start()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    area.sources.select("gone")
    failures: list[str] = []
    pool_area_context.events.error_shown.connect(failures.append)
    with qtbot.waitSignal(area.sources.refresher.failed, timeout=5000):
        assert area.sources.refresh_selected()
    assert any("the folder of source 'gone' is gone" in text for text in failures)
    qtbot.waitUntil(area.sources.refresh_button.isEnabled, timeout=2000)
    assert area.sources.add_button.isEnabled()
    with qtbot.waitSignal(area.sources.listed, timeout=5000):
        area.sources.reload()
    assert _rows(area)[0].endswith(" · folder gone")


def test_age_text() -> None:
    assert age_text(None, NOW) == "never"
    assert age_text(NOW - timedelta(seconds=5), NOW) == "just now"
    assert age_text(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert age_text(NOW - timedelta(hours=3), NOW) == "3 h ago"
    assert age_text(NOW - timedelta(days=1), NOW) == "1 day ago"
