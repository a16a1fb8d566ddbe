"""Fixtures for the pytest-qt layer: a real workspace on a temp folder, and UiContexts
with the inline task runner (callbacks run at once) or the real thread pools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QAbstractItemModel, QCoreApplication

from console.domain.clock import utc_now
from console.ops.workspace import Workspace
from ui.context import UiContext
from ui.events import AppEvents
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from pytestqt.modeltest import ModelTester


#: The offscreen platform says so whenever a top-level widget is shown or raised;
#: harmless for tests that show windows to check scrolling and geometry.
OFFSCREEN_NOTICE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that (indirectly) uses ``qapp`` is a GUI test."""
    for item in items:
        if "qapp" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _app_identity(qapp: QCoreApplication) -> None:
    """QSettings needs an organisation; HOME is a temp folder (tests/conftest.py)."""
    qapp.setOrganizationName("responder-console-tests")
    qapp.setApplicationName("Responder Console Tests")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    opened = Workspace.open(tmp_path / "data", actor="tester")
    yield opened
    opened.close()


@pytest.fixture
def context(workspace: Workspace) -> Iterator[UiContext]:
    """Inline runner: a write and its callback complete inside ``runner.write``."""
    runner = TaskRunner(inline=True)
    yield UiContext(workspace=workspace, runner=runner, events=AppEvents(), clock=utc_now)
    runner.shutdown()


@pytest.fixture
def pool_context(workspace: Workspace) -> Iterator[UiContext]:
    """Real thread pools: callbacks arrive later through the event loop."""
    runner = TaskRunner()
    yield UiContext(workspace=workspace, runner=runner, events=AppEvents(), clock=utc_now)
    runner.shutdown()


def check_model(tester: ModelTester, model: QAbstractItemModel) -> None:
    """``qtmodeltester.check`` with a type: pytest-qt leaves ``check`` unannotated."""
    tester.check(model)  # type: ignore[no-untyped-call]  # pytest-qt ships it untyped
