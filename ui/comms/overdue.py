"""Overdue action items, surfaced on start in the window's banner area."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from console.comms.actions import ActionItem, ActionItems
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.theme import banner_style, follow_theme


class OverdueBanner(QWidget):
    """ "N action items overdue: the oldest …" with Open (its postmortem) and Dismiss.
    Read once on the reader lane when started; hidden when nothing is overdue."""

    def __init__(
        self,
        context: UiContext,
        open_postmortem: Callable[[int], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("overdueBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        follow_theme(
            self,
            lambda: self.setStyleSheet(
                banner_style("overdueBanner", "error", label_css="font-weight: 600;")
            ),
        )
        self._context = context
        self._open_postmortem = open_postmortem
        self.items: list[ActionItem] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.open_button = QPushButton("Open postmortem", self)
        self.dismiss_button = QPushButton("Dismiss", self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.open_button)
        layout.addWidget(self.dismiss_button)
        self.open_button.clicked.connect(self.open_first)
        self.dismiss_button.clicked.connect(self.hide)
        self.hide()

    def start(self) -> None:
        workspace = self._context.workspace
        actions = ActionItems(workspace.db, actor=workspace.incidents.actor)
        today = self._context.clock().date()
        self._context.runner.read(
            lambda: actions.overdue(today),
            self.set_items,
            lambda error: report_failure(self._context.events, error, "Reading action items"),
        )

    @Slot(object)
    def set_items(self, items: list[ActionItem]) -> None:
        self.items = items
        if not items:
            self.hide()
            return
        first = items[0]
        due = first.due_on.isoformat() if first.due_on else ""
        more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
        noun = "action item is" if len(items) == 1 else "action items are"
        self.label.setText(
            f"{len(items)} {noun} overdue: “{first.title}” — {first.owner}, due {due}{more}"
        )
        self.open_button.setEnabled(first.incident_id is not None)
        self.show()

    @Slot()
    def open_first(self) -> None:
        if self.items and self.items[0].incident_id is not None:
            self._open_postmortem(self.items[0].incident_id)
