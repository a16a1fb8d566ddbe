"""The Services tab: the dependency map, its search, legend and catalog age, the side panel.

Loading and layout run on the reader lane (:func:`ui.services.scene.prepare_map`);
the scene's items are made and painted on the GUI thread. Selecting a service
answers from the map's in-memory graph at once; its details (runbooks, open
incidents, owner) follow from the reader lane. Exports render on the GUI thread
into memory and are written to disk on the reader lane.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QIODevice,
    QRectF,
    QSettings,
    QSize,
    QStringListModel,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.catalog import catalog_for
from console.domain.catalog import ServiceDetails, ServiceNode
from console.domain.errors import FileWriteError
from console.domain.views import Changes
from console.importers.catalog import CatalogImportReport
from console.oncall import directory_for
from ui.context import UiContext
from ui.importer import BackgroundImport, ImportKind
from ui.incident_view import report_failure
from ui.services.on_call import ServiceOnCall
from ui.services.panel import ServicePanel
from ui.services.scene import DARK, LIGHT, MapData, ServiceScene, prepare_map
from ui.services.view import ServiceMapView
from ui.theme import is_dark, theme_notifier

log = logging.getLogger(__name__)

FIND_DEBOUNCE_MS = 150
AGE_TICK_MS = 30_000
#: PNG exports are scaled down to at most this many pixels on their longer side
PNG_MAX_SIDE = 8000

CATALOG = ImportKind(
    noun="the catalog",
    title="Catalog import",
    unit="files",
    summary=lambda report: report.summary(),
    refusals=lambda report: [f"{r.path}: {r.reason}" for r in report.refused],
    notes=lambda report: [f"{p} [{p.code}]" for p in report.problems],
)


def _chip(colour: str, text: str) -> str:
    return f"<span style='color:{colour}; font-size:15px'>■</span>&nbsp;{text}"


class ServicesArea(QWidget):
    #: int runbook id — open it in the Runbooks tab
    runbook_requested = Signal(int)
    #: int incident id — show it in the Incident tab
    incident_requested = Signal(int)
    #: a freshly loaded map is in the view (tests, benchmark, screenshots)
    map_shown = Signal()
    #: str service name — open the emergency view (who to call) for it
    emergency_requested = Signal(str)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("servicesArea")
        self._context = context
        self.catalog = catalog_for(context.workspace)
        self.data: MapData | None = None
        self._nodes: dict[int, ServiceNode] = {}
        self._by_label: dict[str, int] = {}
        self._by_ref: dict[str, int] = {}
        self._loading = False
        self._reload_again = False
        self._wanted_ref: str | None = None  # select this once the map is loaded

        self.search = QLineEdit(self)
        self.search.setObjectName("serviceSearch")
        self.search.setPlaceholderText("Find a service: type its name, Enter selects it")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find a service")
        self.names = QStringListModel(self)
        completer = QCompleter(self.names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self._on_completed)
        self.search.setCompleter(completer)
        self.search.textEdited.connect(self._schedule_find)
        self.search.returnPressed.connect(self.select_found)
        self.age_label = QLabel(self)
        self.age_label.setObjectName("catalogAge")
        self.age_label.setTextFormat(Qt.TextFormat.PlainText)
        self.legend = QLabel(self)
        self.legend.setObjectName("mapLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        # long paths and the legend must never widen the window: they wrap or clip
        for label in (self.age_label, self.legend):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("mutedLabel")

        self.view = ServiceMapView(self)
        self.view.service_clicked.connect(self.select)
        self.view.cleared.connect(self.clear_selection)
        self.panel = ServicePanel(self)
        self.panel.service_requested.connect(self._select_and_centre)
        self.panel.runbook_requested.connect(self.runbook_requested)
        self.panel.incident_requested.connect(self.incident_requested)
        self.on_call = ServiceOnCall(context, directory_for(context.workspace), self.panel)
        self.on_call.emergency_requested.connect(self.emergency_requested)
        self.panel.set_on_call_widget(self.on_call)
        self.importer = BackgroundImport(
            context,
            lambda paths, progress, cancel: self.catalog.import_paths(
                paths, progress=progress, cancel=cancel
            ),
            CATALOG,
            self,
        )
        self.importer.finished.connect(self._on_imported)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 2)
        top.addWidget(self.count_label)
        top.addWidget(self.age_label, 3)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("servicesSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 360])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.legend)
        layout.addWidget(self.splitter, 1)

        self._find_timer = QTimer(self)
        self._find_timer.setSingleShot(True)
        self._find_timer.setInterval(FIND_DEBOUNCE_MS)
        self._find_timer.timeout.connect(self.find_now)
        self._age_timer = QTimer(self)
        self._age_timer.setInterval(AGE_TICK_MS)
        self._age_timer.timeout.connect(self._show_age)
        self._age_timer.start()
        context.events.changes_applied.connect(self.on_changes)
        theme_notifier().changed.connect(self._restyle)
        self._show_legend()

    # ------------------------------------------------------------------ loading

    def start(self) -> None:
        self.load()

    def load(self) -> None:
        """(Re)read the catalog and lay it out on the reader lane; one load at a time."""
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        self.count_label.setText("Loading the catalog…")
        catalog = self.catalog
        self._context.runner.read(lambda: prepare_map(catalog), self._on_loaded, self._on_failed)

    def _on_loaded(self, data: MapData) -> None:
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.load()
            return
        previous = self._selected_ref()
        scene = ServiceScene(data, DARK if is_dark() else LIGHT)
        old = self.view.scene()
        self.view.setScene(scene)
        if old is not None:
            old.deleteLater()
        self.data = data
        self._nodes = scene.nodes
        self._by_ref = {n.ref: n.id for n in data.graph.nodes}
        self._by_label = {}
        for node in data.graph.nodes:
            self._by_label.setdefault(node.label.lower(), node.id)
        self.names.setStringList(sorted(self._by_label_display(), key=str.casefold))
        self.view.fit()
        count = len(data.graph.nodes)
        self.count_label.setText(
            f"{count} services, {len(data.graph.edges)} dependencies" if count else ""
        )
        self._show_age()
        wanted = self._wanted_ref or previous
        self._wanted_ref = None
        if wanted is not None and wanted in self._by_ref:
            self._select_and_centre(self._by_ref[wanted])
        elif not count:
            self.panel.show_nothing(
                "No service catalog yet. Import one: Services → Import catalog… (Ctrl+Shift+I); "
                "Backstage catalog-info.yaml, our own catalog: 1 format, Docker Compose or "
                "Kubernetes manifests."
            )
        else:
            self.panel.show_nothing("Select a service on the map, or type its name above.")
        log.info("service map shown: %s", data.timings)
        self.map_shown.emit()

    @Slot(bool)
    def _restyle(self, dark: bool) -> None:
        """A live theme switch: the canvas, nodes, edges and legend follow."""
        scene = self.scene()
        if scene is None:
            self._show_legend()
            return
        scene.recolour(DARK if dark else LIGHT)
        if scene.selected is None:
            self._show_legend()
        else:
            self._show_legend(len(scene.dependents), len(scene.suspects))

    def _by_label_display(self) -> list[str]:
        return [n.label for n in self._nodes.values()]

    def _on_failed(self, error: BaseException) -> None:
        self._loading = False
        self.count_label.setText("")
        report_failure(self._context.events, error, "Loading the service catalog")

    @Slot(object)
    def on_changes(self, changes: Changes) -> None:
        if changes.catalog:
            self.load()
        elif changes.incidents and self.panel.node is not None:
            self._load_details(self.panel.node.id)  # its open incidents may have changed

    def _show_age(self) -> None:
        data = self.data
        fresh = data.graph.freshness if data is not None else None
        if fresh is None:
            self.age_label.setText("No catalog imported yet")
            self.age_label.setToolTip("")
            return
        now = self.catalog.now()
        self.age_label.setText(f"Catalog {fresh.describe(now, short=True)}")
        self.age_label.setToolTip(
            f"Imported {fresh.fetched_at.astimezone():%Y-%m-%d %H:%M %Z} from {fresh.source}"
        )

    def _show_legend(self, dependents: int | None = None, suspects: int | None = None) -> None:
        colours = DARK if is_dark() else LIGHT
        blast = "Blast radius — depends on it"
        suspect = "Suspects — it depends on"
        if dependents is not None and suspects is not None:
            blast, suspect = f"{blast} ({dependents})", f"{suspect} ({suspects})"
        self.legend.setText(
            "&nbsp;&nbsp;&nbsp;".join(
                [
                    _chip(colours.selected, "Selected"),
                    _chip(colours.blast, blast),
                    _chip(colours.suspect, suspect),
                    "<small>Shapes: box = component, capsule = resource, cut corners = API, "
                    "dashed = system or domain · wheel or Ctrl+= / Ctrl+- zoom, Ctrl+0 fits"
                    "</small>",
                ]
            )
        )

    # ------------------------------------------------------------------ selection

    def scene(self) -> ServiceScene | None:
        return self.view.map_scene()

    @Slot(int)
    def select(self, service_id: int) -> None:
        scene = self.scene()
        node = self._nodes.get(service_id)
        if scene is None or node is None:
            return
        scene.highlight(service_id)
        scene.show_ring(None)
        self._show_legend(len(scene.dependents), len(scene.suspects))
        self.panel.show_selection(
            node, scene.dependents, scene.suspects, self._nodes, self.catalog.now()
        )
        self.on_call.show_service(node.name)
        self._load_details(service_id)
        self._frame_selection(scene, service_id)

    def _frame_selection(self, scene: ServiceScene, service_id: int) -> None:
        """The selection and its blast radius (what depends on it) in view, readable."""
        focus = scene.node_items[service_id].sceneBoundingRect()
        others = [
            scene.node_items[r.node].sceneBoundingRect()
            for r in scene.dependents
            if r.node in scene.node_items
        ]
        self.view.frame(focus, others)

    @Slot(int)
    def _select_and_centre(self, service_id: int) -> None:
        self.select(service_id)  # frames it with its blast radius

    @Slot()
    def clear_selection(self) -> None:
        scene = self.scene()
        if scene is not None:
            scene.highlight(None)
            scene.show_ring(None)
        self._show_legend()
        self.panel.show_nothing("Select a service on the map, or type its name above.")
        self.on_call.show_service(None)

    def select_ref(self, ref: str) -> bool:
        """Select a service by its ref key (the incident header, the palette). When the
        map is still loading it is selected once it is shown."""
        service_id = self._by_ref.get(ref.lower())
        if service_id is None:
            if self.data is None or self._loading:
                self._wanted_ref = ref.lower()
            return False
        self._select_and_centre(service_id)
        return True

    def _selected_ref(self) -> str | None:
        node = self.panel.node
        return node.ref if node is not None else None

    def _load_details(self, service_id: int) -> None:
        catalog = self.catalog
        self._context.runner.read(
            lambda: catalog.details(service_id), self._on_details, self._on_details_failed
        )

    def _on_details(self, details: ServiceDetails) -> None:
        self.panel.show_details(details, self.catalog.now())

    def _on_details_failed(self, error: BaseException) -> None:
        report_failure(self._context.events, error, "Reading the service's details")

    # ------------------------------------------------------------------ search

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    @Slot()
    def _schedule_find(self) -> None:
        self._find_timer.start()

    def match(self, text: str) -> int | None:
        """The service a search text means: exact name, else name prefix, else contains."""
        wanted = text.strip().lower()
        if not wanted:
            return None
        if wanted in self._by_label:
            return self._by_label[wanted]
        if wanted in self._by_ref:
            return self._by_ref[wanted]
        labels = sorted(self._by_label, key=lambda label: (len(label), label))
        for test in (str.startswith, str.__contains__):
            for label in labels:
                if test(label, wanted):
                    return self._by_label[label]
        return None

    @Slot()
    def find_now(self) -> int | None:
        """Centre the map on what the search box names, and ring it (not selected yet)."""
        self._find_timer.stop()
        scene = self.scene()
        found = self.match(self.search.text())
        if scene is None:
            return None
        scene.show_ring(found)
        if found is not None:
            self.view.reading_zoom()
            self.view.centerOn(scene.node_items[found])
        return found

    @Slot()
    def select_found(self) -> None:
        found = self.find_now()
        if found is not None:
            self.select(found)

    @Slot(str)
    def _on_completed(self, text: str) -> None:
        self.search.setText(text)
        self.select_found()

    # ------------------------------------------------------------------ zoom (actions)

    def zoom_in(self) -> None:
        self.view.zoom_in()

    def zoom_out(self) -> None:
        self.view.zoom_out()

    def fit(self) -> None:
        self.view.fit()

    # ------------------------------------------------------------------ export

    def render_svg(self) -> bytes:
        """The whole map as SVG (labels as text), rendered on the GUI thread."""
        scene = self.scene()
        if scene is None:
            raise RuntimeError("the map is not loaded yet")
        rect = scene.sceneRect()
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(QSize(int(rect.width()), int(rect.height())))
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle("Service dependency map")
        fresh = self.data.graph.freshness if self.data else None
        generator.setDescription(
            "Responder Console service map"
            + (f"; catalog from {fresh.source} at {fresh.fetched_at.isoformat()}" if fresh else "")
        )
        self._paint_scene(generator, QRectF(0, 0, rect.width(), rect.height()))
        buffer.close()
        return bytes(buffer.data().data())

    def render_png(self) -> QImage:
        scene = self.scene()
        if scene is None:
            raise RuntimeError("the map is not loaded yet")
        rect = scene.sceneRect()
        factor = min(1.0, PNG_MAX_SIDE / max(rect.width(), rect.height(), 1.0))
        image = QImage(
            max(1, int(rect.width() * factor)),
            max(1, int(rect.height() * factor)),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.fill(QColor(scene.colours.background))
        self._paint_scene(image, QRectF(0, 0, image.width(), image.height()))
        return image

    def _paint_scene(self, device: QSvgGenerator | QImage, target: QRectF) -> None:
        scene = self.scene()
        assert scene is not None
        labels = scene.labels_visible
        scene.set_labels_visible(True)  # the file shows every name, whatever the zoom
        painter = QPainter(device)
        try:
            painter.setRenderHints(
                QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
            )
            scene.render(painter, target, scene.sceneRect())
        finally:
            painter.end()
            scene.set_labels_visible(labels)

    def export(self, target: Path) -> bool:
        """Render now (GUI thread), write on the reader lane. False when nothing to export."""
        if self.scene() is None:
            self._context.events.error_shown.emit("Export failed: the map is not loaded yet")
            return False
        if target.suffix.lower() == ".png":
            image = self.render_png()

            def write() -> Path:
                from console.files import atomic_target  # whole or not at all

                with atomic_target(target, what="the map") as temporary:
                    if not image.save(str(temporary), "PNG"):  # type: ignore[call-overload]  # str at run time
                        raise OSError(f"could not write {target}")
                return target

        else:
            data = self.render_svg()

            def write() -> Path:
                from console.files import write_file  # whole or not at all, clear refusals

                return write_file(target, data, what="the map")

        self._context.runner.read(write, self._exported, self._export_failed)
        return True

    def _exported(self, target: Path) -> None:
        log.info("exported the service map to %s", target)
        window = self.window()
        status = getattr(window, "statusBar", None)
        if callable(status):
            status().showMessage(f"Map exported to {target}", 10_000)

    def _export_failed(self, error: BaseException) -> None:
        if isinstance(error, FileWriteError):
            self._context.events.error_shown.emit(f"Export failed: {error}")
        elif isinstance(error, OSError):
            self._context.events.error_shown.emit(f"Export failed: {error.strerror or error}")
        else:
            report_failure(self._context.events, error, "Exporting the map")

    def choose_and_export(self, suffix: str) -> None:
        from PySide6.QtWidgets import QFileDialog  # loads its enums on first use

        settings = QSettings()
        folder = str(settings.value("export/folder", str(Path.home())))
        name = f"service-map.{suffix}"
        file_filter = "SVG image (*.svg)" if suffix == "svg" else "PNG image (*.png)"
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export the service map", str(Path(folder) / name), file_filter
        )
        if chosen:
            target = Path(chosen)
            if target.suffix.lower() != f".{suffix}":
                target = target.with_suffix(f".{suffix}")
            settings.setValue("export/folder", str(target.parent))
            self.export(target)

    # ------------------------------------------------------------------ import

    def import_paths(self, paths: Sequence[Path | str]) -> bool:
        return self.importer.start(paths)

    def choose_and_import(self, *, folder: bool = False) -> None:
        if self.importer.running:
            return
        from PySide6.QtWidgets import QFileDialog  # loads its enums on first use

        settings = QSettings()
        start = str(settings.value("catalog/folder", str(Path.home())))
        if folder:
            chosen = QFileDialog.getExistingDirectory(self, "Import a catalog folder", start)
            paths = [chosen] if chosen else []
        else:
            paths, _ = QFileDialog.getOpenFileNames(
                self, "Import catalog files", start, "Catalog YAML (*.yaml *.yml);;All files (*)"
            )
        if paths:
            first = Path(paths[0])
            settings.setValue("catalog/folder", str(first if folder else first.parent))
            self.importer.start([Path(p) for p in paths])

    def _on_imported(self, report: CatalogImportReport) -> None:
        if not report.cancelled:
            self._context.events.changes_applied.emit(Changes(catalog=True))

    # ------------------------------------------------------------------ palette

    def known_names(self) -> list[str]:
        return sorted(self._by_label_display(), key=str.casefold)

    def palette_services(self) -> list[ServiceNode]:
        return sorted(self._nodes.values(), key=lambda n: n.label.casefold())
