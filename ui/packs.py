"""Content packs in the window: "Import pack…" (writer lane, with progress) and the
status-bar label that warns when the installed pack is expired or close to expiry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from console.packs import PackError, PackImportReport, expiry_notice, import_pack
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.theme import banner_colours, follow_theme

log = logging.getLogger(__name__)


class PackExpiryLabel(QLabel):
    """An amber status-bar label: "Content pack 'SRE' v12 expires in 3 days (…)".
    Read on the reader lane; hidden while nothing is close to expiry."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("packExpiry")
        self.setTextFormat(Qt.TextFormat.PlainText)
        follow_theme(self, self._restyle)
        self._context = context
        self.hide()

    def _restyle(self) -> None:
        c = banner_colours("notice")
        self.setStyleSheet(
            f"#packExpiry {{ background: {c.background}; color: {c.text};"
            f" border: 1px solid {c.border}; border-radius: 3px; padding: 1px 6px; }}"
        )

    def start(self) -> None:
        workspace, clock = self._context.workspace, self._context.clock
        self._context.runner.read(
            lambda: expiry_notice(workspace.db, clock()),
            self.set_notice,
            lambda error: report_failure(self._context.events, error, "Reading the content pack"),
        )

    @Slot(object)
    def set_notice(self, notice: str | None) -> None:
        self.setText(notice or "")
        self.setToolTip("Import a newer pack: File → Import pack…" if notice else "")
        self.setVisible(notice is not None)


class PackImporter(QObject):
    """Choose a pack, verify and apply it on the writer lane behind a progress dialog."""

    def __init__(
        self,
        context: UiContext,
        parent: QWidget,
        on_imported: Callable[[PackImportReport], None],
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._parent = parent
        self._on_imported = on_imported
        self.progress: QProgressDialog | None = None

    @property
    def running(self) -> bool:
        return self.progress is not None

    @Slot()
    def choose_and_import(self) -> None:
        if self.running:
            return
        from PySide6.QtWidgets import QFileDialog

        chosen, _ = QFileDialog.getOpenFileName(
            self._parent, "Import a signed content pack", "", "Content packs (*)"
        )
        if chosen:
            self.start(Path(chosen))

    def start(self, path: Path) -> None:
        """Verify and apply ``path`` (its signature beside it as ``PATH.minisig``)."""
        if self.running:
            return
        progress = QProgressDialog(f"Verifying and applying {path.name}…", "", 0, 0, self._parent)
        progress.setObjectName("packImportProgress")
        progress.setWindowTitle("Import pack")
        progress.setCancelButton(None)  # one transaction: it applies whole or not at all
        progress.setMinimumDuration(0)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.show()
        self.progress = progress
        workspace, now = self._context.workspace, self._context.clock()
        self._context.runner.write(
            lambda: import_pack(workspace.db, workspace.folder, path, now=now),
            self._done,
            self._failed,
        )

    def _finish(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _done(self, report: PackImportReport) -> None:
        self._finish()
        for path, reason in report.refused:
            log.warning("content pack %s: %s: %s", report.pack.path.name, path, reason)
        self._on_imported(report)

    def _failed(self, error: BaseException) -> None:
        self._finish()
        if isinstance(error, PackError):
            self._context.events.error_shown.emit(f"Pack refused, nothing changed: {error}")
        else:
            report_failure(self._context.events, error, "Importing the pack")


def imported_message(report: PackImportReport) -> str:
    manifest = report.pack.manifest
    return (
        f"Imported content pack '{manifest.publisher}' v{manifest.version}: "
        f"{report.runbooks} runbooks, {report.services} services, {report.contacts} contacts, "
        f"{report.schedules} schedules, {report.templates} templates"
        + (f"; {len(report.refused)} refused (see the log)" if report.refused else "")
    )
