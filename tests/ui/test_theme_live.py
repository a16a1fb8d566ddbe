"""A live switch between light and dark reaches every view, and text stays readable
(WCAG AA, 4.5:1) in both (issue 16, item 8): the real window on the demo workspace,
switched with View → Theme while it is open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QWidget
from pytestqt.qtbot import QtBot

from console.demo import ensure_demo
from console.ops.workspace import Workspace
from tests.ui.conftest import OFFSCREEN_NOTICE
from ui.comms.overdue import OverdueBanner
from ui.context import UiContext
from ui.errors import ErrorBanner
from ui.events import AppEvents
from ui.main_window import MainWindow
from ui.packs import PackExpiryLabel
from ui.reminders import ReminderBanner
from ui.services.scene import DARK, LIGHT
from ui.tasks import TaskRunner
from ui.theme import apply_theme, contrast_ratio, is_dark

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)]

AA = 4.5
_COLOUR = re.compile(r"(?<![-\w])(background|color)\s*:\s*(#[0-9a-fA-F]{6})")


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    palette, style = QPalette(qapp.palette()), qapp.style().name()
    apply_theme(qapp, "light")
    yield qapp
    apply_theme(qapp, "light")
    qapp.setProperty("responderConsoleDark", None)
    qapp.setPalette(palette)
    qapp.setStyle(style)


@pytest.fixture
def window(qtbot: QtBot, app: QApplication, tmp_path: Path) -> Iterator[MainWindow]:
    workspace = Workspace.open(tmp_path / "demo", actor="tester")
    ensure_demo(workspace)
    runner = TaskRunner(inline=True)
    context = UiContext(workspace, runner, AppEvents(), workspace.clock, demo=True)
    made = MainWindow.for_context(context)
    qtbot.addWidget(made)
    made.resize(1280, 720)
    made.show()
    services = made.area("services")  # the tabs are built on first use
    qtbot.waitUntil(lambda: services.scene() is not None)
    scene = services.scene()
    assert scene is not None
    ref = next(n.ref for n in scene.nodes.values() if n.name == "orders-api")
    assert services.select_ref(ref)
    made.area("oncall").emergency.show_service("orders-api")
    made.area("packs")  # the status bar's pack-expiry label
    made.show_error("Not saved: the database is locked")
    yield made
    runner.shutdown()
    workspace.close()


def _switch(window: MainWindow, mode: str) -> None:
    window.actions_by_name[f"theme_{mode}"].trigger()
    assert is_dark() is (mode == "dark")
    QApplication.processEvents()  # the widgets' palettes follow through posted events


def _stylesheet_pair(widget: QWidget) -> tuple[QColor, QColor]:
    """(text, background) a widget's stylesheet sets, banner labels included."""
    found = dict(_COLOUR.findall(widget.styleSheet()))
    assert "background" in found, widget.styleSheet()
    assert "color" in found, widget.styleSheet()
    return QColor(found["color"]), QColor(found["background"])


def _link_colours(document_owner: QWidget) -> list[QColor]:
    document = document_owner.document()  # type: ignore[attr-defined]
    colours = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isAnchor() and fmt.anchorHref():
                colours.append(fmt.foreground().color())
            it += 1
        block = block.next()
    return colours


def _check_view_colours(window: MainWindow, dark: bool) -> None:
    palette = QApplication.palette()
    role = QPalette.ColorRole
    for fg, bg in (
        (role.Text, role.Base),
        (role.WindowText, role.Window),
        (role.ButtonText, role.Button),
        (role.Link, role.Base),
        (role.Link, role.Window),
        (role.HighlightedText, role.Highlight),
        (role.ToolTipText, role.ToolTipBase),
        (role.PlaceholderText, role.Base),
    ):
        ratio = contrast_ratio(palette.color(fg), palette.color(bg))
        assert ratio >= AA, (fg.name, bg.name, round(ratio, 2))

    # the map canvas and its nodes
    assert window.services is not None
    scene = window.services.scene()
    assert scene is not None
    colours = DARK if dark else LIGHT
    assert scene.backgroundBrush().color() == QColor(colours.background)
    assert (scene.backgroundBrush().color().lightness() < 128) is dark
    for node_id, item in scene.node_items.items():
        if item.opacity() < 1:
            continue  # dimmed: not part of the selection, not meant to be read
        text = scene._text.get(node_id, colours.node_text)
        ratio = contrast_ratio(QColor(text), item.brush().color())
        assert ratio >= AA, (node_id, text, item.brush().color().name(), round(ratio, 2))

    # links in the service panel (rich text bakes its colours in)
    links = _link_colours(window.services.panel.browser)
    assert links, window.services.panel.browser.toPlainText()
    base = window.services.panel.browser.palette().color(role.Base)
    for colour in links:
        assert contrast_ratio(colour, base) >= AA, (colour.name(), base.name())

    # the emergency view's level cards
    assert window.oncall is not None
    cards = [
        w
        for w in window.oncall.emergency.findChildren(QFrame)
        if re.fullmatch(r"level\d+", w.objectName())
    ]
    assert cards
    for card in cards:
        background = re.search(r"background: (#[0-9a-fA-F]{6})", card.styleSheet())
        assert background is not None
        fill = QColor(background.group(1))
        assert (fill.lightness() < 128) is dark, card.styleSheet()
        for label in card.findChildren(QLabel):
            if label.text() and not label.styleSheet():
                ratio = contrast_ratio(label.palette().color(role.WindowText), fill)
                assert ratio >= AA, (label.text(), round(ratio, 2))

    # the checklist's overdue and done items, the timeline's superseded entries
    base = palette.color(role.Base)
    coloured = 0
    checklist, timeline = window.incident_view.checklist_model, window.incident_view.timeline_model
    for model, columns in ((checklist, 1), (timeline, timeline.columnCount())):
        for row in range(model.rowCount()):
            for column in range(columns):
                colour = model.index(row, column).data(Qt.ItemDataRole.ForegroundRole)
                if isinstance(colour, QColor):
                    coloured += 1
                    ratio = contrast_ratio(colour, base)
                    assert ratio >= AA, (type(model).__name__, row, colour.name(), round(ratio, 2))
    assert coloured, "the demo incident has an overdue checklist item"

    # banners: error, reminder, overdue action items, pack expiry
    banners: list[QWidget] = [
        *window.findChildren(ErrorBanner),
        *window.findChildren(ReminderBanner),
        *window.findChildren(OverdueBanner),
        *window.findChildren(PackExpiryLabel),
    ]
    assert {type(b) for b in banners} >= {ErrorBanner, ReminderBanner, PackExpiryLabel}
    for banner in banners:
        ink, fill = _stylesheet_pair(banner)
        assert (fill.lightness() < 128) is dark, (type(banner).__name__, banner.styleSheet())
        ratio = contrast_ratio(ink, fill)
        assert ratio >= AA, (type(banner).__name__, round(ratio, 2))


def test_every_view_follows_a_live_switch_and_stays_readable(window: MainWindow) -> None:
    _check_view_colours(window, dark=False)
    _switch(window, "dark")
    _check_view_colours(window, dark=True)
    _switch(window, "light")
    _check_view_colours(window, dark=False)


def test_the_selection_survives_the_switch(window: MainWindow) -> None:
    assert window.services is not None
    scene = window.services.scene()
    assert scene is not None
    selected, dependents = scene.selected, list(scene.dependents)
    assert selected is not None
    _switch(window, "dark")
    assert scene.selected == selected
    assert scene.dependents == dependents
    item = scene.node_items[selected]
    assert item.brush().color() == QColor(DARK.selected)
