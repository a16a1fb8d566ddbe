"""Import runbooks from the window: the write lane, a cancel token, polled progress.

The core reports progress through a callback; it only stores ``(done, total)``
in :class:`ImportProgress` (called on the writer thread). A 150 ms timer on the
GUI thread reads it into a QProgressDialog that appears only when the import
takes longer than half a second. Cancel sets the token; the importer stops
between files and keeps what it already wrote.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from console.importers.runbooks import ImportReport
from console.library import RunbookLibrary
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.tasks import CancelToken

log = logging.getLogger(__name__)

POLL_MS = 150
SHOW_AFTER_MS = 500
#: refusals listed in the summary's text; all of them are in its details
LISTED_REFUSALS = 15


class ImportProgress:
    """``(done, total)`` written by the import thread, read by the GUI timer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = (0, 0)

    def set(self, done: int, total: int) -> None:
        with self._lock:
            self._value = (done, total)

    def get(self) -> tuple[int, int]:
        with self._lock:
            return self._value


def summary_text(report: ImportReport) -> str:
    head = "Runbook import cancelled" if report.cancelled else "Runbooks imported"
    counts = (
        f"{report.imported} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {len(report.refused)} refused"
    )
    if report.skipped:
        counts += f", {len(report.skipped)} folder READMEs skipped"
    return f"{head}: {counts}."


def refusal_lines(report: ImportReport) -> list[str]:
    return [f"{refusal.path}: {refusal.reason}" for refusal in report.refused]


class RunbookImporter(QObject):
    #: console.importers.runbooks.ImportReport — the import ended (also when cancelled)
    finished = Signal(object)

    def __init__(self, context: UiContext, library: RunbookLibrary, parent: QWidget) -> None:
        super().__init__(parent)
        self._context = context
        self._library = library
        self._parent = parent
        self._token: CancelToken | None = None
        self.progress: ImportProgress | None = None
        self.dialog: QProgressDialog | None = None
        self.summary_box: QMessageBox | None = None
        self.last_report: ImportReport | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    @property
    def running(self) -> bool:
        return self._token is not None

    def start(self, paths: Sequence[Path | str]) -> bool:
        """Import ``paths`` on the write lane; False if an import is already running."""
        if self._token is not None:
            return False
        token = self._token = CancelToken()
        progress = self.progress = ImportProgress()
        dialog = self.dialog = QProgressDialog("Importing runbooks…", "Cancel", 0, 0, self._parent)
        dialog.setWindowTitle("Import runbooks")
        dialog.setMinimumDuration(SHOW_AFTER_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.canceled.connect(self.cancel)
        dialog.setValue(0)  # starts the "show after" clock
        self._timer.start()
        library, chosen = self._library, list(paths)
        self._context.runner.write(
            lambda: library.import_paths(chosen, progress=progress.set, cancel=token),
            self._done,
            self._failed,
        )
        return True

    @Slot()
    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()
            if self.dialog is not None:
                self.dialog.setLabelText("Stopping after the current file…")

    @Slot()
    def poll(self) -> None:
        dialog, progress = self.dialog, self.progress
        if dialog is None or progress is None:
            return
        done, total = progress.get()
        if total and dialog.maximum() != total:
            dialog.setMaximum(total)
        if total and not (self._token is not None and self._token.cancelled):
            dialog.setLabelText(f"Importing runbooks… {done} of {total} files")
        dialog.setValue(min(done, total) if total else 0)

    def _finish(self) -> None:
        self._timer.stop()
        self._token = None
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def _done(self, report: ImportReport) -> None:
        self._finish()
        self.last_report = report
        log.info("%s", summary_text(report))
        self._show_summary(report)
        self.finished.emit(report)

    def _failed(self, error: BaseException) -> None:
        self._finish()
        report_failure(self._context.events, error, "Importing runbooks")

    def _show_summary(self, report: ImportReport) -> None:
        if self.summary_box is not None:
            self.summary_box.close()
        box = QMessageBox(self._parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setWindowTitle("Runbook import")
        box.setIcon(QMessageBox.Icon.Warning if report.refused else QMessageBox.Icon.Information)
        box.setText(summary_text(report))
        lines = refusal_lines(report)
        if lines:
            listed = lines[:LISTED_REFUSALS]
            more = len(lines) - len(listed)
            box.setInformativeText(
                "Not imported (fix the file and import again):\n"
                + "\n".join(listed)
                + (f"\n… and {more} more (Show Details)" if more else "")
            )
            box.setDetailedText("\n".join(lines))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.destroyed.connect(self._summary_closed)
        self.summary_box = box
        box.show()

    @Slot()
    def _summary_closed(self) -> None:
        self.summary_box = None
