"""The Services tab: the map's highlighting, search, zoom, export, panel, import, window."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from console.domain.incident import Severity, Status
from console.domain.views import Changes
from console.graph.traversal import Graph
from console.importers.catalog import import_catalog
from console.library import library_for
from console.resources import resources_dir
from tests.benchmarks.fixtures import write_synthetic_catalog
from tests.ui.conftest import OFFSCREEN_NOTICE
from ui.context import UiContext
from ui.declare_dialog import DeclareDialog, ListCompleter, split_services
from ui.main_window import MainWindow
from ui.services.area import ServicesArea
from ui.services.scene import DARK, LIGHT, MapColours, ServiceScene
from ui.theme import is_dark

#: the search box's completer popup asks for the keyboard; offscreen says it cannot
COMPLETER_NOTICE = r"This plugin does not support grabbing the keyboard"
pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE, COMPLETER_NOTICE)

DEMO = resources_dir() / "demo" / "catalog.yaml"
REPO_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"


@pytest.fixture
def demo_context(context: UiContext) -> UiContext:
    report = import_catalog(context.workspace.db, [DEMO])
    assert report.refused == []
    return context


@pytest.fixture
def area(qtbot: QtBot, demo_context: UiContext) -> ServicesArea:
    widget = ServicesArea(demo_context)
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    qtbot.waitExposed(widget)
    with qtbot.waitSignal(widget.map_shown, timeout=10_000):
        widget.start()
    return widget


def colours() -> MapColours:
    return DARK if is_dark() else LIGHT


def selected(area: ServicesArea) -> int | None:
    """The selected service (a call, so the type checker does not pin it between asserts)."""
    return map_scene(area).selected


def labels_shown(area: ServicesArea) -> bool:
    return map_scene(area).labels_visible


def click(widget: QWidget, point: QPoint) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def map_scene(area: ServicesArea) -> ServiceScene:
    scene = area.scene()
    assert scene is not None
    return scene


def node_id(area: ServicesArea, name: str) -> int:
    return area.catalog.find(name).id


def fill(area: ServicesArea, name: str) -> str:
    return map_scene(area).node_items[node_id(area, name)].brush().color().name()


def click_service(qtbot: QtBot, area: ServicesArea, name: str) -> None:
    item = map_scene(area).node_items[node_id(area, name)]
    area.view.centerOn(item)
    point = area.view.mapFromScene(item.pos())
    click(area.view.viewport(), point)


# ------------------------------------------------------------------ the map


def test_the_map_holds_every_service_and_says_how_old_it_is(area: ServicesArea) -> None:
    scene = map_scene(area)
    assert len(scene.node_items) == area.catalog.count() == 31
    assert area.count_label.text() == "31 services, 66 dependencies"
    assert area.age_label.text() == f"Catalog imported just now from {DEMO.name}"
    assert str(DEMO) in area.age_label.toolTip()
    assert area.panel.title.text() == "No service selected"
    # the layering: a service is drawn above everything it depends on
    for dependent, dependency, _kind in scene.data.graph.edges:
        if (dependent, dependency) not in scene.data.layout.reversed_edges:
            assert scene.node_items[dependent].y() < scene.node_items[dependency].y()


def test_selecting_highlights_blast_radius_and_suspects(qtbot: QtBot, area: ServicesArea) -> None:
    palette = colours()
    click_service(qtbot, area, "payments-gateway")
    scene = map_scene(area)
    assert selected(area) == node_id(area, "payments-gateway")
    assert fill(area, "payments-gateway") == palette.selected
    for name in ("payments-api", "checkout", "orders-api", "mobile-bff", "storefront"):
        assert fill(area, name) == palette.blast, name
    for name in ("postgres-main", "card-processor"):
        assert fill(area, name) == palette.suspect, name
    unrelated = scene.node_items[node_id(area, "search-service")]
    assert unrelated.brush().color().name() == palette.node
    assert unrelated.opacity() < 0.5
    assert scene.veil.isVisible()  # the other edges are dimmed
    assert not scene.blast_edges.path().isEmpty()
    assert not scene.suspect_edges.path().isEmpty()
    assert "Blast radius — depends on it (6)" in area.legend.text()
    assert "Suspects — it depends on (2)" in area.legend.text()
    panel = area.panel
    assert panel.title.text() == "Payments gateway"
    text = panel.browser.toPlainText()
    assert "Blast radius — 6 depends on it" in text
    assert "Suspects — 2 it depends on" in text
    assert "Owner: Payments (team-payments) — payments@larkspur.example" in text
    assert "PagerDuty service: PPAY001" in text

    # another service: the colours follow, the counts match the in-memory graph
    click_service(qtbot, area, "postgres-main")
    graph = Graph([(a, b) for a, b, _ in scene.data.graph.edges])
    expected = {r.node for r in graph.blast_radius(node_id(area, "postgres-main"))}
    blast = {i for i, item in scene.node_items.items()
             if item.brush().color().name() == palette.blast}  # fmt: skip
    assert blast == expected
    assert fill(area, "payments-gateway") == palette.blast

    # a click on the background, or Escape, clears
    area.view.centerOn(scene.sceneRect().topLeft())
    empty = area.view.mapFromScene(scene.sceneRect().topLeft() + QPointF(5, 5))
    click(area.view.viewport(), empty)
    assert selected(area) is None
    assert not scene.veil.isVisible()
    assert fill(area, "payments-gateway") == palette.node
    assert area.panel.title.text() == "No service selected"
    click_service(qtbot, area, "orders-api")
    assert selected(area) is not None
    QTest.keyClick(area.view, Qt.Key.Key_Escape)
    assert selected(area) is None


def test_a_drag_is_not_a_click(qtbot: QtBot, area: ServicesArea) -> None:
    item = map_scene(area).node_items[node_id(area, "orders-api")]
    area.view.centerOn(item)
    start = area.view.mapFromScene(item.pos())
    viewport = area.view.viewport()
    no = Qt.KeyboardModifier.NoModifier
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, no, start)
    QTest.mouseMove(viewport, start + QPoint(60, 40))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, no, start + QPoint(60, 40))
    assert selected(area) is None


def test_the_panel_lists_runbooks_and_open_incidents_and_their_links_work(
    qtbot: QtBot, area: ServicesArea, demo_context: UiContext
) -> None:
    library_for(demo_context.workspace).import_paths([REPO_RUNBOOKS])
    outcome = demo_context.workspace.incidents.declare(
        "Checkout 5xx", Severity.SEV2, services=["orders-api"]
    )
    assert outcome.incident is not None
    area.select(node_id(area, "orders-api"))
    text = area.panel.browser.toPlainText()
    assert "Open incidents naming it — 1" in text
    assert "SEV2 · Checkout 5xx" in text
    assert "Runbooks — 6" in text
    assert "Database connection pool exhausted" in text
    # nothing is cached for on-call here: the section says so, and what to import
    assert area.panel.on_call is area.on_call
    qtbot.waitUntil(lambda: area.on_call.answer is not None, timeout=5000)
    said = "\n".join(label.text() for label in area.on_call.findChildren(QLabel))
    assert "No escalation policy is linked to orders-api" in said

    runbook = library_for(demo_context.workspace).get("db-connection-exhaustion")
    with qtbot.waitSignal(area.runbook_requested) as opened:
        area.panel.browser.anchorClicked.emit(QUrl(f"runbook:{runbook.id}"))
    assert opened.args == [runbook.id]
    with qtbot.waitSignal(area.incident_requested) as shown:
        area.panel.browser.anchorClicked.emit(QUrl(f"incident:{outcome.incident.id}"))
    assert shown.args == [outcome.incident.id]
    area.panel.browser.anchorClicked.emit(QUrl(f"service:{node_id(area, 'postgres-main')}"))
    assert map_scene(area).selected == node_id(area, "postgres-main")

    # a status change elsewhere refreshes the open incidents of the selected service
    area.select(node_id(area, "orders-api"))
    demo_context.workspace.incidents.change_status(outcome.incident.id, Status.RESOLVED)
    demo_context.events.changes_applied.emit(Changes(incidents=frozenset({outcome.incident.id})))
    assert "Open incidents naming it — 0" in area.panel.browser.toPlainText()


def test_the_on_call_section_can_be_replaced(area: ServicesArea) -> None:
    from PySide6.QtWidgets import QLabel

    answer = QLabel("Ana Lima, +44 7700 900123")
    area.panel.set_on_call_widget(answer)
    assert area.panel.on_call is answer
    assert area.panel.layout().indexOf(answer) == 2  # type: ignore[union-attr]


# ------------------------------------------------------------------ search and zoom


def test_typing_finds_and_centres_enter_selects(qtbot: QtBot, area: ServicesArea) -> None:
    area.view.fit()
    scene = map_scene(area)
    QTest.keyClicks(area.search, "fraud")
    qtbot.waitUntil(lambda: scene.ring.isVisible(), timeout=2000)  # debounced find
    target = scene.node_items[node_id(area, "fraud-check")]
    assert scene.ring.pos() == target.pos()
    visible = area.view.mapToScene(area.view.viewport().rect()).boundingRect()
    assert visible.contains(target.pos())
    assert area.view.scale_factor() >= 0.8  # zoomed to read names
    assert labels_shown(area)
    assert selected(area) is None  # found, not selected yet
    QTest.keyClick(area.search, Qt.Key.Key_Return)
    assert selected(area) == node_id(area, "fraud-check")
    assert area.match("PAYMENTS-GATEWAY") == node_id(area, "payments-gateway")  # exact
    assert area.match("payments-g") == node_id(area, "payments-gateway")  # prefix
    assert area.match("gateway") in {node_id(area, "api-gateway"),
                                      node_id(area, "payments-gateway")}  # fmt: skip
    assert area.match("component:default/cart-service") == node_id(area, "cart-service")
    assert area.match("no such thing") is None
    assert area.match("   ") is None
    area.search.setText("no such thing")
    assert area.find_now() is None
    assert not scene.ring.isVisible()


def test_zoom_wheel_and_fit(qtbot: QtBot, area: ServicesArea) -> None:
    view = area.view
    view.fit()
    fitted = view.scale_factor()
    view.zoom_in()
    assert view.scale_factor() == pytest.approx(fitted * 1.25)
    view.zoom_out()
    view.zoom_out()
    assert view.scale_factor() == pytest.approx(fitted / 1.25)
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre, view.mapToGlobal(centre), QPoint(), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    QCoreApplication.sendEvent(view.viewport(), wheel)
    assert view.scale_factor() == pytest.approx(fitted / 1.25 * 1.25**2)
    for _ in range(40):
        view.zoom_in()
    assert view.scale_factor() == pytest.approx(4.0)  # bounded
    view.fit()
    assert view.scale_factor() == pytest.approx(fitted)
    whole = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in map_scene(area).node_items.values():
        assert whole.contains(item.sceneBoundingRect())  # every service in view


# ------------------------------------------------------------------ export


def test_svg_export_is_xml_with_every_name(
    qtbot: QtBot, area: ServicesArea, tmp_path: Path
) -> None:
    area.select(node_id(area, "orders-api"))
    target = tmp_path / "map.svg"
    assert area.export(target)  # inline runner: written already
    root = ET.fromstring(target.read_bytes())
    assert root.tag.endswith("svg")
    texts = " ".join(t.strip() for t in root.itertext())
    for node in map_scene(area).data.graph.nodes:
        assert node.label in texts, node.label
    titles = [el.text for el in root.iter() if el.tag.endswith("title")]
    assert "Service dependency map" in titles
    area.view.zoom_by(0.01)  # far out: names hidden on screen …
    assert not labels_shown(area)
    root = ET.fromstring(area.render_svg())  # … yet every name is in the file
    assert "orders-api" in " ".join(root.itertext())
    assert not labels_shown(area)  # and the screen is as it was


def test_png_export(area: ServicesArea, tmp_path: Path) -> None:
    target = tmp_path / "map.png"
    assert area.export(target)
    image = QImage(str(target))
    assert not image.isNull()
    rect = map_scene(area).sceneRect()
    assert (image.width(), image.height()) == (int(rect.width()), int(rect.height()))


def test_export_failure_goes_to_the_banner(
    qtbot: QtBot, area: ServicesArea, demo_context: UiContext, tmp_path: Path
) -> None:
    with qtbot.waitSignal(demo_context.events.error_shown) as shown:
        area.export(tmp_path / "no-such-folder" / "map.svg")
    assert str(shown.args[0]).startswith("Export failed:")


def test_export_before_any_map(qtbot: QtBot, demo_context: UiContext, tmp_path: Path) -> None:
    empty = ServicesArea(demo_context)
    qtbot.addWidget(empty)
    with qtbot.waitSignal(demo_context.events.error_shown) as shown:
        assert not empty.export(tmp_path / "map.svg")
    assert shown.args == ["Export failed: the map is not loaded yet"]


# ------------------------------------------------------------------ 2,000 services


def test_two_thousand_services(qtbot: QtBot, pool_context: UiContext, tmp_path: Path) -> None:
    synthetic = write_synthetic_catalog(tmp_path / "big.yaml")
    report = import_catalog(pool_context.workspace.db, [synthetic.path])
    assert report.services == 2000
    area = ServicesArea(pool_context)
    qtbot.addWidget(area)
    area.resize(1280, 760)
    area.show()
    with qtbot.waitSignal(area.map_shown, timeout=60_000):
        area.start()  # read and layout on the reader lane
    scene = map_scene(area)
    assert len(scene.node_items) == 2000
    assert area.count_label.text() == "2000 services, 8000 dependencies"
    assert not labels_shown(area)  # fitted: names unreadable, so not even made
    assert scene.label_items == {}
    hub = area.catalog.find(synthetic.hub).id
    area.select(hub)
    assert len(scene.dependents) == len(area.catalog.dependents(hub))
    assert f"({len(scene.dependents)})" in area.legend.text()
    qtbot.waitUntil(lambda: area.panel.details is not None, timeout=10_000)
    area.view.zoom_by(1 / area.view.scale_factor())  # 1:1
    assert labels_shown(area)
    assert len(scene.label_items) == 2000


def test_a_catalog_change_reloads_and_keeps_the_selection(
    qtbot: QtBot, area: ServicesArea, demo_context: UiContext, tmp_path: Path
) -> None:
    area.select(node_id(area, "orders-api"))
    extra = tmp_path / "extra.yaml"
    extra.write_text("catalog: 1\nservices: [{name: late-arrival, owner: t}]\n")
    import_catalog(demo_context.workspace.db, [extra])
    with qtbot.waitSignal(area.map_shown):
        demo_context.events.changes_applied.emit(Changes(catalog=True))
    assert len(map_scene(area).node_items) == 32
    assert map_scene(area).selected == node_id(area, "orders-api")
    assert area.panel.title.text() == "Orders API"


def test_an_empty_catalog_says_how_to_import_one(qtbot: QtBot, context: UiContext) -> None:
    area = ServicesArea(context)
    qtbot.addWidget(area)
    with qtbot.waitSignal(area.map_shown):
        area.start()
    assert area.age_label.text() == "No catalog imported yet"
    assert "Import one: Services → Import catalog…" in area.panel.subtitle.text()
    assert area.count_label.text() == ""


# ------------------------------------------------------------------ GUI import


def test_gui_import_reports_problems_and_reloads_the_map(
    qtbot: QtBot, pool_context: UiContext, tmp_path: Path
) -> None:
    area = ServicesArea(pool_context)
    qtbot.addWidget(area)
    with qtbot.waitSignal(area.map_shown, timeout=10_000):
        area.start()
    good = tmp_path / "good.yaml"
    good.write_text(
        "catalog: 1\nservices:\n  - {name: api, owner: t, depends_on: [db, ghost]}\n"
        "  - {name: db, kind: resource, owner: t}\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("catalog: 1\nservices: [\n", encoding="utf-8")
    with qtbot.waitSignals([area.importer.finished, area.map_shown], timeout=30_000):
        assert area.import_paths([good, bad])
        assert not area.import_paths([good])  # one at a time
    assert len(map_scene(area).node_items) == 2
    box = area.importer.summary_box
    assert box is not None
    assert not box.isModal()
    assert box.text().startswith("Catalog: 2 services (2 new, 0 updated)")
    informative = box.informativeText()
    assert f"{bad}: invalid YAML on line 3" in informative
    assert "'ghost', which is not in the catalog [dangling-reference]" in informative
    box.close()


# ------------------------------------------------------------------ declare dialog


def test_declare_dialog_services_field(qtbot: QtBot) -> None:
    dialog = DeclareDialog(services=["orders-api", "payments-gateway", "Auth-Service"])
    qtbot.addWidget(dialog)
    dialog.title_edit.setText("Checkout down")
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.services_edit.setText("ORDERS-API, auth-service, orders-api,")
    assert ok.isEnabled()
    assert dialog.declaration().services == ("orders-api", "Auth-Service")
    dialog.services_edit.setText("orders-api, nope")
    assert not ok.isEnabled()
    assert dialog.services_hint.isVisibleTo(dialog)
    assert "Not in the service catalog: nope" in dialog.services_hint.text()
    completer = dialog.services_edit.completer()
    assert isinstance(completer, ListCompleter)
    assert completer.splitPath("orders-api, pay") == ["pay"]
    assert split_services(" a, ,b,a ") == ("a", "b")
    free = DeclareDialog()  # no catalog to check against: the core checks
    qtbot.addWidget(free)
    free.title_edit.setText("x")
    free.services_edit.setText("anything")
    assert free.buttons.button(free.buttons.StandardButton.Ok).isEnabled()


# ------------------------------------------------------------------ the window


def close_window(window: MainWindow) -> None:
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def test_main_window_services_tab_actions_palette_and_header(
    qtbot: QtBot, demo_context: UiContext
) -> None:
    library_for(demo_context.workspace).import_paths([REPO_RUNBOOKS])
    outcome = demo_context.workspace.incidents.declare(
        "Payments failing", Severity.SEV1, services=["payments-gateway", "orders-api"]
    )
    assert outcome.incident is not None
    window = MainWindow.for_context(demo_context)
    try:
        services = window.area("services")  # the tab is built on first use
        qtbot.waitUntil(lambda: services.data is not None)
        assert window.tabs.tabText(window.tabs.indexOf(services)) == "Services"
        actions = window.actions_by_name
        keys = {
            "services_map": "Ctrl+M",
            "find_service": "Ctrl+Shift+S",
            "import_catalog": "Ctrl+Shift+I",
            "import_catalog_folder": "Ctrl+Alt+I",
            "map_zoom_in": "Ctrl+=",
            "map_zoom_out": "Ctrl+-",
            "map_fit": "Ctrl+0",
            "export_map_svg": "Ctrl+Alt+S",
            "export_map_png": "Ctrl+Alt+P",
        }
        for name, key in keys.items():
            assert actions[name].shortcut().toString() == key, name
            assert actions[name].isEnabled(), name
        assert [s.toString() for s in actions["map_zoom_in"].shortcuts()] == ["Ctrl+=", "Ctrl++"]
        shortcuts = [a.shortcut().toString() for a in actions.values() if a.shortcut().toString()]
        assert len(shortcuts) == len(set(shortcuts)), "every shortcut is used once"

        entries = window._service_palette_entries()
        assert len(entries) == 31
        assert any(e.title == "Service: orders-api" and "team-orders" in e.subtitle
                   for e in entries)  # fmt: skip
        window.run_palette_key("service:component:default/orders-api")
        assert window.tabs.currentWidget() is services
        assert map_scene(services).selected == node_id(services, "orders-api")
        window.tabs.setCurrentWidget(window.incident_view)
        window.run_palette_key("action:map_zoom_in")
        assert window.tabs.currentWidget() is services  # every map action shows the map

        # the incident header names its services; a click shows one on the map
        window.select_incident(outcome.incident.id)
        label = window.incident_view.services_label
        assert not label.isHidden()
        assert "payments-gateway" in label.text()
        assert "component:default/orders-api" in label.text()
        label.linkActivated.emit("component:default/payments-gateway")
        assert window.tabs.currentWidget() is services
        assert map_scene(services).selected == node_id(services, "payments-gateway")

        # the panel's runbook link opens it in the Runbooks tab; an incident link shows it
        runbook = library_for(demo_context.workspace).get("third-party-api-outage")
        services.panel.browser.anchorClicked.emit(QUrl(f"runbook:{runbook.id}"))
        assert window.runbooks is not None
        assert window.tabs.currentWidget() is window.runbooks
        qtbot.waitUntil(lambda: window.runbooks.viewer.document is not None)  # type: ignore[union-attr]
        services.panel.browser.anchorClicked.emit(QUrl(f"incident:{outcome.incident.id}"))
        assert window.tabs.currentWidget() is window.incident_view
        assert window.current_incident_id == outcome.incident.id
    finally:
        close_window(window)


def test_declaring_from_the_window_names_services(
    qtbot: QtBot, demo_context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.declare_dialog import Declaration

    window = MainWindow.for_context(demo_context)
    try:
        services = window.area("services")  # the tab is built on first use
        qtbot.waitUntil(lambda: services.data is not None)
        offered: list[tuple[str, ...]] = []

        def ask(
            parent: object, *, commander: str = "", services: tuple[str, ...] = (), **_: object
        ) -> object:  # the other options (catalog still loading, on_open, …) do not matter
            offered.append(tuple(services))
            return Declaration("Cart broken", Severity.SEV2, "", None, ("cart-service",))

        monkeypatch.setattr(DeclareDialog, "ask", ask)
        window.declare_incident()
        assert "cart-service" in offered[0]
        incident = window.incident_view.incident
        assert incident is not None
        assert [s.name for s in incident.services] == ["cart-service"]
        assert "cart-service" in window.incident_view.services_label.text()
    finally:
        close_window(window)


def test_the_on_call_section_names_who_to_call_for_the_selected_service(
    qtbot: QtBot, area: ServicesArea, demo_context: UiContext
) -> None:
    from console.demo import load_demo_document, seed_people_and_schedules
    from ui.oncall.widgets import PersonBlock

    workspace = demo_context.workspace
    seed_people_and_schedules(workspace, load_demo_document(), workspace.clock())
    section = area.on_call
    assert area.panel.on_call is section
    assert not section.emergency_button.isEnabled()  # nothing selected yet

    area.select(node_id(area, "orders-api"))
    qtbot.waitUntil(lambda: section.answer is not None, timeout=5000)
    answer = section.answer
    assert answer is not None
    assert answer.service == "orders-api"
    assert answer.policy == "Orders and checkout"
    people = section.findChildren(PersonBlock)
    assert people  # level 1's schedule has someone on call, with their numbers
    assert {p.person.name for p in people} <= {
        person.name for level in answer.levels for t in level.targets for person in t.people
    }
    assert any(block.rows for block in people)
    assert "Schedules cached just now" in "\n".join(
        label.text() for label in section.findChildren(QLabel)
    )
    with qtbot.waitSignal(area.emergency_requested) as requested:
        section.emergency_button.click()
    assert requested.args == ["orders-api"]

    # a service no policy covers says so and how to fix it
    area.select(node_id(area, "postgres-main"))
    qtbot.waitUntil(
        lambda: section.answer is not None and section.answer.service == "postgres-main"
    )
    texts = "\n".join(label.text() for label in section.findChildren(QLabel))
    assert "No escalation policy is linked to postgres-main" in texts or section.findChildren(
        PersonBlock
    )
    area.clear_selection()
    assert not section.emergency_button.isEnabled()
