"""The map at 03:00 (issue 16, item 7): selecting frames the blast radius at a readable
zoom, names are never drawn illegibly small, long on-call values elide in the middle
with the whole value on hover and Copy. The real Services tab on the demo workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QFontInfo, QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.demo import ensure_demo
from console.domain.oncall import ReachKind
from console.ops.workspace import Workspace
from tests.ui.conftest import OFFSCREEN_NOTICE
from ui.context import UiContext
from ui.events import AppEvents
from ui.oncall.widgets import ElidedLabel, ReachRow
from ui.services.area import ServicesArea
from ui.services.scene import ServiceScene
from ui.services.view import MIN_LABEL_PX
from ui.tasks import TaskRunner

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[UiContext]:
    workspace = Workspace.open(tmp_path / "demo", actor="tester")
    ensure_demo(workspace)
    runner = TaskRunner(inline=True)
    yield UiContext(workspace, runner, AppEvents(), workspace.clock, demo=True)
    runner.shutdown()
    workspace.close()


def _area(qtbot: QtBot, context: UiContext, width: int, height: int) -> ServicesArea:
    area = ServicesArea(context)
    qtbot.addWidget(area)
    area.resize(width, height)  # the tab's share of a 1280×720 or 1600×1000 window
    area.show()
    qtbot.waitExposed(area)
    with qtbot.waitSignal(area.map_shown, timeout=10_000):
        area.start()
    return area


def _scene(area: ServicesArea) -> ServiceScene:
    scene = area.scene()
    assert scene is not None
    return scene


def _label_pixels(area: ServicesArea) -> float:
    scene = _scene(area)
    label = next(iter(scene.label_items.values()))
    return area.view.scale_factor() * QFontInfo(label.font()).pixelSize()


def _visible(area: ServicesArea) -> object:
    return area.view.mapToScene(area.view.viewport().rect()).boundingRect()


@pytest.mark.parametrize(("width", "height"), [(1280, 620), (1600, 900)])
def test_names_are_never_drawn_below_a_legible_size(
    qtbot: QtBot, demo: UiContext, width: int, height: int
) -> None:
    area = _area(qtbot, demo, width, height)
    area.view.fit()  # Ctrl+0
    scene = _scene(area)
    if scene.labels_visible:
        assert _label_pixels(area) >= MIN_LABEL_PX
    else:
        assert not area.view.labels_legible()
    for _ in range(12):  # step out and in: labels only ever at a legible size
        area.view.zoom_out()
        assert not scene.labels_visible or _label_pixels(area) >= MIN_LABEL_PX
    for _ in range(25):
        area.view.zoom_in()
        if scene.labels_visible:
            assert _label_pixels(area) >= MIN_LABEL_PX
    assert scene.labels_visible  # zoomed in far enough, they are back


@pytest.mark.parametrize(("width", "height"), [(1280, 620), (1600, 900)])
def test_selecting_frames_the_blast_radius_readably(
    qtbot: QtBot, demo: UiContext, width: int, height: int
) -> None:
    area = _area(qtbot, demo, width, height)
    area.view.fit()
    scene = _scene(area)
    # the service with the most dependants that still fit beside it: every one in view
    ranked = sorted(scene.node_items, key=lambda n: len(scene.graph.blast_radius(n)), reverse=True)
    for service in ranked:
        area.view.service_clicked.emit(service)  # as a click on it does
        assert scene.selected == service
        assert scene.labels_visible
        assert _label_pixels(area) >= MIN_LABEL_PX
        visible = _visible(area)
        assert visible.contains(scene.node_items[service].sceneBoundingRect())  # type: ignore[attr-defined]
        dependants = [scene.node_items[r.node].sceneBoundingRect() for r in scene.dependents]
        if len(dependants) >= 3 and area.view.scale_factor() > area.view.legible_scale():
            # they fitted at a readable zoom: all of them are shown
            assert all(visible.contains(rect) for rect in dependants)  # type: ignore[attr-defined]
            break
    else:
        pytest.fail("no service with dependants was framed whole")
    # the one with the widest blast radius: selection in view, names readable
    area.view.service_clicked.emit(ranked[0])
    assert _visible(area).contains(scene.node_items[ranked[0]].sceneBoundingRect())  # type: ignore[attr-defined]
    assert _label_pixels(area) >= MIN_LABEL_PX
    # the panel beside the map fills in after the selection and takes room: framed again
    sizes = area.splitter.sizes()
    area.splitter.setSizes([sizes[0] - 300, sizes[1] + 300])
    QApplication.processEvents()
    assert _visible(area).contains(scene.node_items[ranked[0]].sceneBoundingRect())  # type: ignore[attr-defined]


def test_a_map_loaded_before_its_tab_has_a_size_fills_the_view_when_shown(
    qtbot: QtBot, demo: UiContext
) -> None:
    """The window builds tabs before they are shown: the map was fitted into a viewport
    of a few pixels and stayed a speck in the middle once the tab got its real size."""
    area = ServicesArea(demo)
    qtbot.addWidget(area)
    area.resize(60, 40)  # not laid out yet
    with qtbot.waitSignal(area.map_shown, timeout=10_000):
        area.start()
    tiny = area.view.scale_factor()
    area.resize(1280, 620)
    area.show()
    qtbot.waitExposed(area)
    QApplication.processEvents()
    scene = _scene(area)
    visible = _visible(area)
    assert area.view.scale_factor() > tiny * 4
    assert visible.contains(scene.sceneRect().adjusted(1, 1, -1, -1))  # type: ignore[attr-defined]
    # the map fills the view along one side (fitted, not left at the tiny scale)
    shown = scene.sceneRect()
    assert shown.width() >= visible.width() * 0.9 or shown.height() >= visible.height() * 0.9  # type: ignore[attr-defined]
    # once the user zooms, a resize keeps their zoom
    area.view.zoom_in()
    zoomed = area.view.scale_factor()
    area.resize(1200, 600)
    QApplication.processEvents()
    assert area.view.scale_factor() == pytest.approx(zoomed)


def test_long_on_call_values_elide_in_the_middle_with_hover_and_copy(
    qtbot: QtBot, demo: UiContext
) -> None:
    area = _area(qtbot, demo, 1280, 620)
    area.splitter.setSizes([940, 340])  # the panel as narrow as the window gives it
    area.select_ref(next(n.ref for n in _scene(area).nodes.values() if n.name == "orders-api"))
    qtbot.waitUntil(lambda: area.on_call.answer is not None, timeout=5000)
    QApplication.processEvents()
    rows = [r for r in area.on_call.findChildren(ReachRow) if r.method.kind is ReachKind.EMAIL]
    assert rows, "the demo's on-call people have e-mail addresses"
    row = rows[0]
    label = row.value_label
    assert isinstance(label, ElidedLabel)
    address = row.method.display
    assert label.text() == address  # the whole value, for screen readers and tests
    assert label.toolTip() == address  # and on hover
    panel = area.on_call.contentsRect()
    right = row.copy_button.mapTo(area.on_call, row.copy_button.rect().topRight()).x()
    assert right <= panel.right()  # Copy is on screen, not pushed off by the address
    if label.is_elided():
        shown = label.shown_text()
        assert "…" in shown
        head, _, tail = shown.partition("…")
        assert address.startswith(head)
        assert address.endswith(tail)  # both ends readable: elided in the middle
        assert len(shown) >= 6, shown
    row.copy_button.click()
    assert QGuiApplication.clipboard().text() == row.method.copy_text
