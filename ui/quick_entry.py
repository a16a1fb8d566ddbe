"""The quick-entry line: a note or a slash command, saved through the writer lane.

Durability rule: the line is cleared at once so the responder can keep typing,
but an entry is *shown* only after its transaction committed (``committed`` is
emitted from the write's success callback). A failed write never loses text: it
goes back into the line if the line is empty, otherwise into a "not saved"
indicator with Retry.

A slash command is first checked on the GUI thread against what the screen knows
about the incident (``console.domain.commands.check_quick_entry``, the same rules the
operations apply): a bad one is refused *before* the line is cleared. Every refusal
is shown right under the input, with the rejected text kept and selected (typing
replaces it); the next successful save clears it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from console.domain.errors import ConsoleError

if TYPE_CHECKING:
    from console.domain.commands import KnownState
    from console.ops.incidents import Outcome
    from ui.context import UiContext

log = logging.getLogger(__name__)

PLACEHOLDER = (
    "Log a note and press Enter  ·  /sev 1-4  /status mitigating  /ic NAME  /done N  "
    "/fix TEXT  (hover for help)"
)
MAX_HISTORY = 200


@dataclass(frozen=True)
class Unsaved:
    """A line whose write failed, kept until it is saved or the user discards it."""

    incident_id: int
    text: str
    reason: str


class HistoryLineEdit(QLineEdit):
    """A line edit whose Up/Down keys recall what was submitted (the draft is kept)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history: list[str] = []
        self._position = 0
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self._history or self._history[-1] != text):
            self._history.append(text)
            del self._history[:-MAX_HISTORY]
        self._position = len(self._history)
        self._draft = ""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Up and self._history:
            if self._position == len(self._history):
                self._draft = self.text()
            self._position = max(0, self._position - 1)
            self.setText(self._history[self._position])
            return
        if event.key() == Qt.Key.Key_Down and self._position < len(self._history):
            self._position += 1
            at_end = self._position == len(self._history)
            self.setText(self._draft if at_end else self._history[self._position])
            return
        super().keyPressEvent(event)


class QuickEntry(QWidget):
    #: console.ops.incidents.Outcome — a line's transaction committed
    committed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context: UiContext | None = None
        self._incident_id: int | None = None
        self._in_flight = 0
        self._unsaved: list[Unsaved] = []
        #: what the screen knows about the incident, for checking a command before sending
        self.known_state: Callable[[], KnownState | None] = lambda: None

        self.line = HistoryLineEdit(self)
        self.line.setObjectName("quickEntry")
        self.line.setPlaceholderText(PLACEHOLDER)
        self.line.setClearButtonEnabled(True)
        self.line.setAccessibleName("Quick entry")
        self.line.returnPressed.connect(self.submit)
        self.saving_label = QLabel(self)
        self.saving_label.setObjectName("savingIndicator")
        self.saving_label.hide()
        self.unsaved_label = QLabel(self)
        self.unsaved_label.setObjectName("unsavedIndicator")
        self.unsaved_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.unsaved_label.hide()
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setToolTip("Save the lines that were not saved, in order")
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.hide()

        self.error_label = QLabel(self)
        self.error_label.setObjectName("entryError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setAccessibleName("Quick entry error")
        self.error_label.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.saving_label)
        row.addWidget(self.unsaved_label)
        row.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        self.setFocusProxy(self.line)

    # ------------------------------------------------------------------ public

    def attach(self, context: UiContext) -> None:
        """Writes become possible (the workspace is open)."""
        from console.domain.commands import HELP  # after the first paint: start-up stays lean

        self._context = context
        self.line.setToolTip(HELP.replace(" · ", "\n"))

    def set_incident(self, incident_id: int | None) -> None:
        self._incident_id = incident_id
        self.line.setEnabled(incident_id is not None)

    @property
    def error(self) -> str:
        """The refusal shown under the input ("" when none)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def unsaved(self) -> tuple[Unsaved, ...]:
        return tuple(self._unsaved)

    @Slot()
    def submit(self) -> None:
        text = self.line.text().strip()
        if not text or self._incident_id is None:
            return
        if self._context is None:  # still opening the workspace: keep the text, try again
            return
        state = self.known_state()
        if state is not None:
            from console.domain.commands import check_quick_entry

            try:
                check_quick_entry(text, state)
            except ConsoleError as error:  # refused before the line is cleared
                self._refuse(str(error))
                return
        self.line.remember(text)
        self.line.clear()
        self._send(self._incident_id, text)

    @Slot()
    def retry(self) -> None:
        pending, self._unsaved = self._unsaved, []
        self._show_unsaved()
        for item in pending:
            self._send(item.incident_id, item.text)

    # ---------------------------------------------------------------- internals

    def _send(self, incident_id: int, text: str) -> None:
        context = self._context
        assert context is not None
        service = context.workspace.incidents
        self._in_flight += 1
        self._show_saving()

        def on_done(outcome: Outcome) -> None:
            self._finished()
            self._clear_error()
            self.committed.emit(outcome)

        def on_error(error: BaseException) -> None:
            self._finished()
            self._failed(incident_id, text, error)

        context.runner.write(lambda: service.run_quick(incident_id, text), on_done, on_error)

    def _finished(self) -> None:
        self._in_flight -= 1
        self._show_saving()

    def _failed(self, incident_id: int, text: str, error: BaseException) -> None:
        if isinstance(error, ConsoleError):
            message = str(error)
        else:
            log.error("saving a quick entry failed", exc_info=error)
            message = f"internal error ({type(error).__name__}); the details are in the log"
        if incident_id == self._incident_id and not self.line.text():
            self.line.setText(text)
            self._refuse(message)
        else:
            self._unsaved.append(Unsaved(incident_id, text, message))
            self._show_unsaved()
            self._show_error(f"Not saved: “{_short(text)}”: {message}")

    def _refuse(self, message: str) -> None:
        """Show why at the input; keep the text, selected, so typing replaces it."""
        self._show_error(f"Not saved: {message}")
        self.line.setFocus(Qt.FocusReason.OtherFocusReason)
        self.line.selectAll()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setStyleSheet(f"QLabel {{ color: {_alert()}; font-weight: 600; }}")
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def _show_saving(self) -> None:
        if self._in_flight > 0:
            self.saving_label.setText(f"Saving… ({self._in_flight})")
            self.saving_label.show()
        else:
            self.saving_label.hide()

    def _show_unsaved(self) -> None:
        if not self._unsaved:
            self.unsaved_label.hide()
            self.retry_button.hide()
            return
        shown = _short(self._unsaved[0].text)
        more = f" (+{len(self._unsaved) - 1} more)" if len(self._unsaved) > 1 else ""
        self.unsaved_label.setText(f"Not saved: “{shown}”{more}")
        self.unsaved_label.setToolTip("\n".join(f"{u.text}\n  → {u.reason}" for u in self._unsaved))
        self.unsaved_label.show()
        self.retry_button.show()


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def _alert() -> str:
    from ui.theme import alert_color, is_dark

    return alert_color(is_dark()).name()
