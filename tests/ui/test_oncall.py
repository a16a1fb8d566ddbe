"""The On call tab on the demo workspace: the chain for a service, copy and call, warnings,
the People panel, the printout, and its place in the main window."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QWidget
from pytestqt.qtbot import QtBot

from console.demo import ensure_demo
from console.domain.oncall import ReachKind
from console.ops.workspace import Workspace
from tests.ui.conftest import OFFSCREEN_NOTICE, check_model
from ui.context import UiContext
from ui.events import AppEvents
from ui.main_window import MainWindow
from ui.oncall.area import OnCallArea
from ui.oncall.emergency import EmergencyView
from ui.oncall.people import ContactsModel
from ui.oncall.printout import chain_html
from ui.tasks import TaskRunner
from ui.theme import alert_color, apply_theme, contrast_ratio, dark_palette, light_palette

if TYPE_CHECKING:
    from pytestqt.modeltest import ModelTester

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)


@pytest.fixture
def demo_context(tmp_path: Path) -> Iterator[UiContext]:
    workspace = Workspace.open(tmp_path / "demo", actor="tester")
    ensure_demo(workspace)
    runner = TaskRunner(inline=True)
    yield UiContext(workspace, runner, AppEvents(), workspace.clock, demo=True)
    runner.shutdown()
    workspace.close()


@pytest.fixture
def area(qtbot: QtBot, demo_context: UiContext) -> OnCallArea:
    QSettings().remove("oncall/service")  # Qt caches the settings path across tests
    widget = OnCallArea(demo_context)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.start()
    return widget


def labels(widget: QWidget, name: str) -> list[str]:
    return [w.text() for w in widget.findChildren(QLabel, name) if w.text()]


def test_chain_shown_for_a_service(area: OnCallArea) -> None:
    view = area.emergency
    assert view.service_combo.count() >= 13  # every demo service is listed
    view.show_service("orders-api")
    answer = view.answer
    assert answer is not None
    assert answer.policy == "Orders and checkout"
    cards = [view.chain.findChild(QFrame, f"level{n}") for n in (1, 2, 3)]
    assert all(card is not None for card in cards)
    heads = labels(view.chain, "levelHead")
    assert heads[0].startswith("Level 1 — page first · wait 10 min")
    assert heads[1].startswith("Level 2 — paged 10 min after the first page")
    first_person = answer.levels[0].targets[0].people[0]
    names = labels(view.chain, "personName")
    assert names[0] == first_person.name
    assert "Hanna Berg" in names  # the team target of level 3
    assert "Schedules cached just now (demo workspace)" in view.freshness.text()
    values = labels(view.chain, "reachValue")
    assert first_person.reach[0].display in values


def test_copy_puts_the_number_on_the_clipboard(qtbot: QtBot, area: OnCallArea) -> None:
    view = area.emergency
    view.show_service("payments-gateway")
    block = view.blocks[0]
    row = block.row(ReachKind.MOBILE)
    assert row is not None
    QGuiApplication.clipboard().clear()
    QTest.mouseClick(row.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == row.method.e164
    assert row.method.e164 is not None
    assert row.method.e164.startswith("+")
    assert view.status.text() == f"Copied {row.method.e164}"


class _Dialler(QObject):
    """Stands in for the phone app: Qt hands it every tel:/sms: link opened."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def test_call_and_text_open_tel_and_sms_links(qtbot: QtBot, area: OnCallArea) -> None:
    view = area.emergency
    view.show_service("orders-api")
    dialler = _Dialler()
    for scheme in ("tel", "sms"):
        # PySide6's stub says bytes; at run time only a str is accepted
        QDesktopServices.setUrlHandler(scheme, dialler, "open")  # type: ignore[arg-type]
    try:
        block = next(b for b in view.blocks if b.row(ReachKind.SMS) is not None)
        mobile, sms = block.row(ReachKind.MOBILE), block.row(ReachKind.SMS)
        assert mobile is not None
        assert sms is not None
        assert mobile.open_button is not None
        assert sms.open_button is not None
        assert mobile.open_button.text() == "Call"
        assert sms.open_button.text() == "Text"
        QTest.mouseClick(mobile.open_button, Qt.MouseButton.LeftButton)
        QTest.mouseClick(sms.open_button, Qt.MouseButton.LeftButton)
        assert dialler.opened == [f"tel:{mobile.method.e164}", f"sms:{sms.method.e164}"]
    finally:
        for scheme in ("tel", "sms"):
            QDesktopServices.unsetUrlHandler(scheme)


def test_gap_and_horizon_warnings_are_visible(area: OnCallArea) -> None:
    view = area.emergency
    view.show_service("api-gateway")  # a 12-hour-a-day schedule: gaps every night
    assert view.warnings.isVisibleTo(area)
    assert "Platform follow-the-sun: " in view.warnings.text()
    assert "gaps in coverage; the next" in view.warnings.text()
    view.show_service("postgres-main")  # only two days of shifts cached
    assert "Data primary: only" in view.warnings.text()
    assert "of future shifts cached" in view.warnings.text()
    colour = QColor(view.warnings.styleSheet().split("color: ")[1].rstrip(";"))
    assert colour == alert_color(False)


def test_unknown_service_says_what_to_do(area: OnCallArea) -> None:
    view = area.emergency
    view.show_service("no-such-service")
    [text] = labels(view.chain, "chainPlaceholder")
    assert "No escalation policy is linked to 'no-such-service'" in text
    assert "no escalation policy" in view.warnings.text()


def test_typing_part_of_a_name_picks_the_only_match(area: OnCallArea) -> None:
    view = area.emergency
    view.service_combo.setCurrentText("payments-gat")  # payments-api exists too
    view._on_service_typed()
    answer = view.answer
    assert answer is not None
    assert answer.service == "payments-gateway"


def test_print_page_and_pdf(area: OnCallArea, tmp_path: Path) -> None:
    view = area.emergency
    assert view.save_pdf(tmp_path / "none.pdf") is None  # nothing chosen yet
    view.show_service("orders-api")
    answer = view.answer
    assert answer is not None
    html = view.page_html()
    assert html is not None
    assert "Level 1 — page first; wait 10 min before the next level" in html
    assert answer.levels[0].targets[0].people[0].name in html
    saved = view.save_pdf(tmp_path / "chain.pdf")
    assert saved is not None
    assert saved.read_bytes().startswith(b"%PDF")
    assert view.status.text() == f"Saved {saved}"
    assert view.save_pdf(tmp_path / "no" / "such" / "chain.pdf") is None
    assert view.status.text().startswith(f"Cannot write the PDF {tmp_path / 'no' / 'such'}")
    assert f"the folder {tmp_path / 'no' / 'such'} does not exist" in view.status.text()


def test_chain_html_escapes_names(area: OnCallArea) -> None:
    view = area.emergency
    view.show_service("orders-api")
    answer = view.answer
    assert answer is not None
    hostile = replace(answer, service="<script>alert(1)</script>", policy="A & B")
    html = chain_html(hostile, now=answer.at)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; — A &amp; B" in html


def test_people_panel_searches_and_copies(qtbot: QtBot, area: OnCallArea) -> None:
    panel = area.people
    assert panel.model.rowCount() == 9
    panel.search_line.setText("team-payments")
    panel.run_search()
    names = [panel.model.contact(r).name for r in range(panel.model.rowCount())]  # type: ignore[union-attr]
    assert names == ["Diego Alvarez", "Lena Fischer"]
    assert panel.detail is not None
    row = panel.detail.row(ReachKind.MOBILE)
    assert row is not None
    QTest.mouseClick(row.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "+34600123456"
    panel.search_line.setText("zz-nobody")
    panel.run_search()
    assert panel.count_label.text() == "Nobody matches"
    assert panel.detail is None


def test_contacts_model(qtmodeltester: ModelTester, area: OnCallArea) -> None:
    model = ContactsModel()
    check_model(qtmodeltester, model)
    model.set_contacts(area.directory.contacts())
    check_model(qtmodeltester, model)


def test_tab_actions_and_palette_in_the_main_window(qtbot: QtBot, demo_context: UiContext) -> None:
    window = MainWindow.for_context(demo_context)
    qtbot.addWidget(window)
    oncall = window.area("oncall")  # the tab is built on first use
    # the tab starts after the first paint (a queued call): wait for its first read
    qtbot.waitUntil(lambda: oncall.people.model.rowCount() == 9)
    shortcuts = {
        name: window.actions_by_name[name].shortcut().toString()
        for name in ("oncall_emergency", "oncall_people", "oncall_print")
    }
    assert shortcuts == {
        "oncall_emergency": "Ctrl+Shift+O",
        "oncall_people": "Ctrl+Shift+P",
        "oncall_print": "Ctrl+P",
    }
    window.run_palette_key("action:oncall_people")
    assert window.tabs.currentWidget() is oncall
    assert oncall.pages.currentWidget() is oncall.people
    window.actions_by_name["oncall_emergency"].trigger()
    assert oncall.pages.currentWidget() is oncall.emergency


@pytest.mark.parametrize("dark", [False, True])
def test_warning_text_reads_well_in_both_themes(
    qtbot: QtBot, demo_context: UiContext, dark: bool
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark" if dark else "light")
    try:
        view = EmergencyView(demo_context, OnCallArea(demo_context).directory)
        qtbot.addWidget(view)
        view.show_service("postgres-main")
        colour = QColor(view.warnings.styleSheet().split("color: ")[1].rstrip(";"))
        palette = dark_palette() if dark else light_palette()
        background = palette.color(palette.ColorRole.Window)
        assert contrast_ratio(colour, background) >= 4.5
    finally:
        apply_theme(app, "system")
