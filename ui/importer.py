"""Imports from the window: the write lane, a cancel token, polled progress, a summary.

One class for every kind of import (runbooks, the service catalog): the core
import function reports progress through a callback that only stores
``(done, total)`` in :class:`ImportProgress` (called on the writer thread). A
150 ms timer on the GUI thread reads it into a QProgressDialog that appears only
when the import takes longer than half a second. Cancel sets the token; the
importer stops at its next check. The summary box is non-modal and lists the
refusals.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from ui.context import UiContext
from ui.incident_view import report_failure
from ui.tasks import CancelToken

log = logging.getLogger(__name__)

POLL_MS = 150
SHOW_AFTER_MS = 500
#: refusals listed in the summary's text; all of them are in its details
LISTED_REFUSALS = 15

#: (paths, progress callback, cancel token) → a report
ImportRun = Callable[[Sequence[Path | str], Callable[[int, int], None], CancelToken], Any]


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


@dataclass(frozen=True)
class ImportKind:
    """What differs between imports: words, and how to read the report."""

    #: "runbooks", "catalog": in "Importing runbooks…"
    noun: str
    #: window title of the progress dialog and the summary box
    title: str
    #: "files" in "Importing runbooks… 12 of 40 files"
    unit: str
    summary: Callable[[Any], str]
    #: "PATH: reason" lines of what was not imported
    refusals: Callable[[Any], list[str]]
    #: lines worth a look that did not stop anything (catalog problems)
    notes: Callable[[Any], list[str]] = lambda report: []


def _listing(head: str, lines: list[str]) -> str:
    listed = lines[:LISTED_REFUSALS]
    more = len(lines) - len(listed)
    return f"{head}\n" + "\n".join(listed) + (f"\n… and {more} more (Show Details)" if more else "")


class BackgroundImport(QObject):
    #: the import's report — it ended (also when cancelled)
    finished = Signal(object)
    #: it failed (the error was reported)
    failed = Signal(object)

    def __init__(
        self, context: UiContext, run: ImportRun, kind: ImportKind, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._run = run
        self._kind = kind
        self._parent = parent
        self._token: CancelToken | None = None
        self.progress: ImportProgress | None = None
        self.dialog: QProgressDialog | None = None
        self.summary_box: QMessageBox | None = None
        self.last_report: Any = None
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
        noun = self._kind.noun
        dialog = self.dialog = QProgressDialog(f"Importing {noun}…", "Cancel", 0, 0, self._parent)
        dialog.setWindowTitle(self._kind.title)
        dialog.setMinimumDuration(SHOW_AFTER_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.canceled.connect(self.cancel)
        dialog.setValue(0)  # starts the "show after" clock
        self._timer.start()
        run, chosen = self._run, list(paths)
        self._context.runner.write(
            lambda: run(chosen, progress.set, token), self._done, self._failed
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
            dialog.setLabelText(f"Importing {self._kind.noun}… {done} of {total} {self._kind.unit}")
        dialog.setValue(min(done, total) if total else 0)

    def _finish(self) -> None:
        self._timer.stop()
        self._token = None
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def _done(self, report: Any) -> None:
        self._finish()
        self.last_report = report
        log.info("%s", self._kind.summary(report))
        self._show_summary(report)
        self.finished.emit(report)

    def _failed(self, error: BaseException) -> None:
        self._finish()
        report_failure(self._context.events, error, f"Importing {self._kind.noun}")
        self.failed.emit(error)

    def _show_summary(self, report: Any) -> None:
        if self.summary_box is not None:
            self.summary_box.close()
        box = QMessageBox(self._parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setWindowTitle(self._kind.title)
        lines = self._kind.refusals(report)
        notes = self._kind.notes(report)
        box.setIcon(QMessageBox.Icon.Warning if lines else QMessageBox.Icon.Information)
        box.setText(self._kind.summary(report))
        informative = [
            _listing(head, items)
            for head, items in (
                ("Not imported (fix the file and import again):", lines),
                ("Imported, but worth a look:", notes),
            )
            if items
        ]
        if informative:
            box.setInformativeText("\n\n".join(informative))
            box.setDetailedText("\n".join(lines + notes))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.destroyed.connect(self._summary_closed)
        self.summary_box = box
        box.show()

    @Slot()
    def _summary_closed(self) -> None:
        self.summary_box = None
