"""The Runbooks tab: the library (search, filters, results) beside the viewer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from console.importers.runbooks import ImportReport
from console.library import library_for
from ui.context import UiContext
from ui.runbooks.importer import RunbookImporter
from ui.runbooks.library_view import RunbookLibraryView
from ui.runbooks.sources_panel import SourcesPanel
from ui.runbooks.viewer import RunbookViewer


class RunbooksArea(QWidget):
    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runbooksArea")
        self._context = context
        self.library = library_for(context.workspace)
        self.library_view = RunbookLibraryView(context, self.library, self)
        self.viewer = RunbookViewer(context, self.library, self)
        self.importer = RunbookImporter(context, self.library, self)
        self.sources = SourcesPanel(context, self.library, self)
        self.library_view.open_requested.connect(self.open_runbook)
        self.importer.finished.connect(self._on_imported)
        self.sources.changed.connect(self._on_sources_changed)

        # the library above its sources (each imported folder), the viewer beside both
        self.left = QSplitter(Qt.Orientation.Vertical, self)
        self.left.setObjectName("runbooksLeft")
        self.left.addWidget(self.library_view)
        self.left.addWidget(self.sources)
        self.left.setStretchFactor(0, 1)
        self.left.setSizes([620, 220])
        self.left.setChildrenCollapsible(True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("runbooksSplitter")
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.viewer)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([380, 900])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.splitter)

    def start(self) -> None:
        """First read: the filter choices and every runbook (empty query), the sources."""
        self.library_view.refresh()
        self.sources.reload()

    def focus_search(self) -> None:
        self.library_view.focus_search()

    def search_for(self, text: str) -> None:
        """The full runbook search, run for ``text`` (the palette's "Search all runbooks")."""
        self.library_view.search_line.setText(text)
        self.library_view.run_query()
        self.library_view.focus_search()

    @Slot(int)
    def open_runbook(self, runbook_id: int) -> None:
        self.viewer.open_runbook(runbook_id)
        self.viewer.browser.setFocus(Qt.FocusReason.OtherFocusReason)

    def follow(self, incident_id: int | None) -> bool:
        """Follow the open runbook in ``incident_id``; False when no runbook is open."""
        if self.viewer.document is None:
            return False
        if incident_id is not None:  # the steps panel needs the room more than the list
            total = sum(self.splitter.sizes())
            narrow = min(self.splitter.sizes()[0], 300)
            self.splitter.setSizes([narrow, total - narrow])
        self.viewer.follow(incident_id)
        return True

    @Slot()
    def choose_and_import(self) -> None:
        if self.importer.running:
            return
        from PySide6.QtWidgets import QFileDialog  # loads its enums on first use

        settings = QSettings()
        start = str(settings.value("runbooks/folder", str(Path.home())))
        folder = QFileDialog.getExistingDirectory(self, "Import runbooks from a folder", start)
        if folder:
            settings.setValue("runbooks/folder", folder)
            self.importer.start([Path(folder)])

    def _on_imported(self, report: ImportReport) -> None:
        self.sources.reload()  # each folder imported is a source
        self._on_sources_changed()

    def _on_sources_changed(self) -> None:
        self.library_view.refresh()
        document = self.viewer.document
        if document is not None:  # it may have changed, or gone with its source
            self.viewer.open_runbook(document.slug)
