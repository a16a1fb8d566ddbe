"""The map panel's **On call** section: who to call for the selected service, now.

The answer comes from the on-call cache (``console.oncall``) on the reader lane:
the service's escalation chain, first level first, each person with their
numbers (copy / call buttons, as in the emergency view), the cache's age and its
warnings. "Emergency view" opens the full page for the same service.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from console.domain.oncall import OnCallAnswer
from console.oncall import OnCallDirectory
from console.oncall.export import cache_ages
from ui.context import UiContext
from ui.oncall.widgets import PersonBlock
from ui.theme import alert_color, is_dark

log = logging.getLogger(__name__)

#: levels shown in the panel; the emergency view shows the whole chain
LEVELS_SHOWN = 2


class ServiceOnCall(QGroupBox):
    #: str service name — open the emergency view for it
    emergency_requested = Signal(str)
    #: str — a copy or call notice for the status bar
    notice = Signal(str)

    def __init__(
        self, context: UiContext, directory: OnCallDirectory, parent: QWidget | None = None
    ) -> None:
        super().__init__("On call", parent)
        self.setObjectName("onCallSection")
        self._context = context
        self._directory = directory
        self._service: str | None = None
        self._seq = 0
        self.answer: OnCallAnswer | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 6)
        self._content: list[QWidget] = []
        self.emergency_button = QPushButton("Emergency view…", self)
        self.emergency_button.setToolTip("The whole escalation chain, readable under stress")
        self.emergency_button.clicked.connect(self._open_emergency)
        self._layout.addWidget(self.emergency_button)
        self.emergency_button.setEnabled(False)
        self._say("Select a service to see who is on call for it.")

    def show_service(self, name: str | None) -> None:
        """Look up who is on call for ``name`` (None: nothing selected)."""
        self._service = name
        self._seq += 1
        seq = self._seq
        self.emergency_button.setEnabled(name is not None)
        if name is None:
            self._say("Select a service to see who is on call for it.")
            return
        self._say("Looking up who is on call…")
        directory = self._directory
        self._context.runner.read(
            lambda: directory.who_is_on_call(service=name),
            lambda answer: self._on_answer(seq, answer),
            lambda error: self._on_failed(seq, error),
        )

    # ------------------------------------------------------------------ internals

    def _clear(self) -> None:
        for widget in self._content:
            self._layout.removeWidget(widget)
            widget.hide()  # gone now, not when the deletion is processed: no overlap
            widget.deleteLater()
        self._content = []

    def _add(self, widget: QWidget) -> None:
        self._layout.insertWidget(self._layout.count() - 1, widget)  # above the button
        self._content.append(widget)

    def _label(self, text: str, *, alert: bool = False) -> QLabel:
        label = QLabel(text, self)
        label.setWordWrap(True)
        if alert:
            label.setObjectName("onCallWarning")
            label.setStyleSheet(f"color: {alert_color(is_dark()).name()};")
        self._add(label)
        return label

    def _say(self, text: str) -> None:
        self._clear()
        self._label(text).setObjectName("mutedLabel")

    def _on_failed(self, seq: int, error: BaseException) -> None:
        if seq != self._seq:
            return
        log.warning("on-call lookup for %s failed: %s", self._service, error)
        self._clear()
        self._label(f"Could not read the on-call cache: {error}", alert=True)

    def _on_answer(self, seq: int, answer: OnCallAnswer) -> None:
        if seq != self._seq:
            return  # another service was selected since
        self.answer = answer
        self._clear()
        if not answer.levels:
            self._label(
                f"No escalation policy is linked to {self._service} in the on-call cache. "
                "Import the team's policies (responder-console import oncall FILE).",
                alert=True,
            )
        for level in answer.levels[:LEVELS_SHOWN]:
            when = (
                "paged first"
                if level.starts_after_minutes == 0
                else f"paged after {level.starts_after_minutes} min"
            )
            heading = self._label(f"Level {level.level} — {when}")
            heading.setObjectName("onCallLevel")
            for target in level.targets:
                if target.problem:
                    self._label(f"{target.name}: {target.problem}", alert=True)
                for person in target.people:
                    block = PersonBlock(person, self, show_shift=True)
                    block.copied.connect(self.notice)
                    block.notice.connect(self.notice)
                    self._add(block)
        if len(answer.levels) > LEVELS_SHOWN:
            more = len(answer.levels) - LEVELS_SHOWN
            self._label(f"{more} more level{'s' if more > 1 else ''} in the emergency view.")
        for warning in answer.warnings:
            self._label(warning, alert=True)
        self._label(cache_ages(answer, self._directory.now())).setObjectName("mutedLabel")

    @Slot()
    def _open_emergency(self) -> None:
        if self._service is not None:
            self.emergency_requested.emit(self._service)
