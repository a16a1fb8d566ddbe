"""Setup shared by the secondary-view tests (compact window, palette, reminders,
errors, connectivity, theme): a real workspace on a fixed, movable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from console.domain.clock import ManualClock
from console.domain.incident import Severity
from console.ops.workspace import Workspace
from ui.context import UiContext
from ui.events import AppEvents
from ui.tasks import TaskRunner

START = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


class MovableClock(ManualClock):
    """Returns the same instant until a test moves it (no sleeps, no real time)."""

    def __init__(self, start: datetime = START) -> None:
        super().__init__(start)


@dataclass
class Setup:
    context: UiContext
    clock: MovableClock
    incident_id: int

    @property
    def workspace(self) -> Workspace:
        return self.context.workspace


def make_setup(
    tmp_path: Path, *, severity: Severity = Severity.SEV1, title: str = "Checkout failing for EU"
) -> Setup:
    clock = MovableClock()
    workspace = Workspace.open(tmp_path / "data", actor="tester", clock=clock)
    outcome = workspace.incidents.declare(title, severity)
    assert outcome.incident is not None
    context = UiContext(workspace, TaskRunner(inline=True), AppEvents(), clock)
    return Setup(context, clock, outcome.incident.id)


#: The offscreen platform plugin has no window manager to pass size constraints
#: to or raise a window in, and says so whenever a top-level window with a layout
#: or a stays-on-top hint is shown ("does not support propagateSizeHints()" /
#: "raise()"). Harmless off-screen, absent on real platforms; ignored per test
#: module so every other Qt warning still fails the test.
OFFSCREEN_NOTICES = r"This plugin does not support (propagateSizeHints|raise)\(\)"


# pytest-qt's QtBot key helpers and ModelTester.check are unannotated; these typed
# wrappers keep the one relaxation in one place instead of on every call.


def key_clicks(qtbot: QtBot, widget: QWidget, text: str) -> None:
    qtbot.keyClicks(widget, text)  # type: ignore[no-untyped-call]  # pytest-qt is unannotated


def key_click(
    qtbot: QtBot,
    widget: QWidget,
    key: Qt.Key,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    qtbot.keyClick(widget, key, modifier)  # type: ignore[no-untyped-call]  # pytest-qt is unannotated


def check_model(tester: ModelTester, model: QAbstractItemModel) -> None:
    tester.check(model)  # type: ignore[no-untyped-call]  # pytest-qt is unannotated
