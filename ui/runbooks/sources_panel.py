"""The runbook sources panel: each imported folder with its counts and age; Add,
Refresh and Remove run on the writer lane (progress and summary through
:class:`ui.importer.BackgroundImport`), the list is read on the reader lane."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.importers.runbook_sources import Source
from console.library import RunbookLibrary
from ui.context import UiContext
from ui.importer import BackgroundImport
from ui.incident_view import report_failure
from ui.runbooks.importer import RUNBOOKS
from ui.theme import alert_color, is_dark

log = logging.getLogger(__name__)

ORIGINS = {"legacy": "imported before sources", "pack": "from a content pack"}


def source_lines(source: Source, now: datetime) -> tuple[str, str]:
    """A source's two lines in the list (the pane is narrow): its name and runbook
    count; its kind, age and what needs a look."""
    count = f"{source.runbooks} runbook{'' if source.runbooks == 1 else 's'}"
    details = [source.kind, f"imported {age_text(source.imported_at, now)}"]
    if source.origin in ORIGINS:
        details[1] = ORIGINS[source.origin]
    if source.warned:
        details.append(f"{source.warned} with warnings")
    if source.overdue:
        details.append(f"{source.overdue} overdue")
    if not source.exists:
        details.append("folder gone")
    return f"{source.name}  —  {count}", " · ".join(details)


def age_text(when: datetime | None, now: datetime) -> str:
    """``3 min ago``, ``2 h ago``, ``5 days ago``; ``never`` for a legacy source."""
    if when is None:
        return "never"
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'' if days == 1 else 's'} ago"


class SourcesPanel(QWidget):
    """The list of sources with Add…, Refresh and Remove."""

    #: the library changed (a source added, refreshed or removed)
    changed = Signal()
    #: the list was read and shown
    listed = Signal()

    def __init__(
        self, context: UiContext, library: RunbookLibrary, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("runbookSources")
        self._context = context
        self._library = library
        self.sources: list[Source] = []
        self.adder = BackgroundImport(
            context,
            lambda paths, progress, cancel: library.add_source(
                paths[0], progress=progress, cancel=cancel
            ),
            RUNBOOKS,
            self,
        )
        self.refresher = BackgroundImport(
            context,
            lambda paths, progress, cancel: [
                library.refresh_source(str(p), progress=progress, cancel=cancel) for p in paths
            ][-1],
            RUNBOOKS,
            self,
        )
        #: said after the next listing (what the last action did)
        self._note = ""
        for runner in (self.adder, self.refresher):
            runner.finished.connect(self._imported)
            runner.failed.connect(self._update_buttons)

        heading = QLabel("Sources", self)
        heading.setObjectName("sourcesHeading")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("sourcesList")
        self.tree.setColumnCount(1)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)  # every row is two lines
        self.tree.setAlternatingRowColors(True)  # where one source's two lines end
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAccessibleName("Runbook sources")
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("Add…", self)
        self.add_button.setToolTip("Import a folder of runbooks as a new source")
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip(
            "Import the selected source's folder again (all sources when none is selected): "
            "new, updated, unchanged and removed runbooks"
        )
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected source and exactly its runbooks")
        self.add_button.clicked.connect(self.choose_and_add)
        self.refresh_button.clicked.connect(self.refresh_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.status = QLabel("", self)
        self.status.setObjectName("sourcesStatus")
        self.status.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(heading)
        buttons.addStretch(1)
        for button in (self.add_button, self.refresh_button, self.remove_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        self._update_buttons()

    # ------------------------------------------------------------------ reading

    @property
    def busy(self) -> bool:
        return self.adder.running or self.refresher.running

    def reload(self) -> None:
        """Read the sources (reader lane) and show them."""
        self._context.runner.read(self._library.sources, self._show, self._read_failed)

    def _show(self, sources: list[Source]) -> None:
        selected = self.selected_name()
        self.sources = sources
        now = self._context.clock()
        self.tree.clear()
        for source in sources:
            item = QTreeWidgetItem(["\n".join(source_lines(source, now))])
            item.setData(0, Qt.ItemDataRole.UserRole, source.name)
            if source.last_import.get("refused") or not source.exists:
                item.setForeground(0, alert_color(is_dark()))
            origin = ORIGINS.get(source.origin)
            last = source.last_import
            tip = f"{source.path}\n{source.runbooks} runbooks, {source.landing} landing pages"
            if origin:
                tip += f"\n{origin}"
            if last:
                tip += (
                    f"\nlast import: {last.get('new', 0)} new, {last.get('updated', 0)} updated, "
                    f"{last.get('unchanged', 0)} unchanged, {last.get('removed', 0)} removed, "
                    f"{last.get('refused', 0)} refused"
                )
            item.setToolTip(0, tip)
            self.tree.addTopLevelItem(item)
            if source.name == selected:
                item.setSelected(True)
        total = sum(s.runbooks for s in sources)
        self.status.setText(
            (f"{self._note} " if self._note else "")
            + (
                f"{len(sources)} source{'' if len(sources) == 1 else 's'}, {total} runbooks."
                if sources
                else "No sources yet: Add… imports a folder of runbooks."
            )
        )
        self._note = ""
        self._update_buttons()
        self.listed.emit()

    def _read_failed(self, error: BaseException) -> None:
        report_failure(self._context.events, error, "Reading the runbook sources")

    def selected_name(self) -> str | None:
        items = self.tree.selectedItems()
        return str(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def select(self, name: str) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item is not None:
                item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == name)

    @Slot()
    def _update_buttons(self) -> None:
        idle = not self.busy
        chosen = self.selected_name() is not None
        self.add_button.setEnabled(idle)
        self.refresh_button.setEnabled(idle and bool(self.sources))
        self.remove_button.setEnabled(idle and chosen)

    # ------------------------------------------------------------------ actions

    @Slot()
    def choose_and_add(self) -> None:
        if self.busy:
            return
        from PySide6.QtWidgets import QFileDialog

        settings = QSettings()
        start = str(settings.value("runbooks/folder", str(Path.home())))
        folder = QFileDialog.getExistingDirectory(self, "Add a runbook source", start)
        if folder:
            settings.setValue("runbooks/folder", folder)
            self.add(Path(folder))

    def add(self, folder: Path) -> bool:
        """Import ``folder`` as a new source, off the GUI thread."""
        started = self.adder.start([folder])
        self._update_buttons()
        return started

    @Slot()
    def refresh_selected(self) -> bool:
        """Refresh the selected source, or every source when none is selected."""
        chosen = self.selected_name()
        names = [chosen] if chosen else [s.name for s in self.sources]
        if not names or self.busy:
            return False
        started = self.refresher.start(names)
        self._update_buttons()
        return started

    @Slot()
    def remove_selected(self) -> None:
        chosen = self.selected_name()
        source = next((s for s in self.sources if s.name == chosen), None)
        if source is None or self.busy:
            return
        answer = QMessageBox.question(
            self,
            "Remove runbook source",
            f"Remove the source '{source.name}' and its {source.runbooks} runbooks from the "
            f"library?\n\nThe files in {source.path} are not touched; Add… imports them again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove(source.name)

    def remove(self, name: str) -> None:
        """Remove a source and its runbooks on the writer lane."""
        self.remove_button.setEnabled(False)
        self._context.runner.write(
            lambda: self._library.remove_source(name), self._removed, self._remove_failed
        )

    def _removed(self, result: tuple[Source, int]) -> None:
        source, count = result
        log.info("removed runbook source %s (%d runbooks)", source.name, count)
        self._note = f"Removed '{source.name}' and its {count} runbooks."
        self.reload()
        self.changed.emit()

    def _remove_failed(self, error: BaseException) -> None:
        self._update_buttons()
        report_failure(self._context.events, error, "Removing a runbook source")

    def _imported(self, report: object) -> None:
        made = [s for s in getattr(report, "sources", []) if s.created]
        self._note = f"Added '{made[0].name}'." if made else ""
        self.reload()
        self.changed.emit()
