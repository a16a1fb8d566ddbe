"""Recurring checklist items that are due: polled off the GUI thread, announced once.

:class:`ReminderCenter` asks the core which reminders are due every interval
(and after any checklist change) and broadcasts the full list on
``events.reminders_due`` — an empty list too, so views can clear. Reminders
that became due since the last check also get a desktop notification.
:class:`ReminderBanner` shows the most urgent one with Done / Open buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Final

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSystemTrayIcon,
    QWidget,
)

from console.domain.views import Changes, Reminder
from console.ops.incidents import Outcome
from ui.context import UiContext
from ui.errors import report_task_error
from ui.theme import banner_colours, banner_style, follow_theme

log = logging.getLogger(__name__)

_TITLE_CHARS: Final = 40


def describe_due(due_at: datetime, now: datetime) -> tuple[str, bool]:
    """("due in 4 min" | "due now" | "overdue 3 min", overdue?) — whole minutes, for people."""
    seconds = (due_at - now).total_seconds()
    if seconds >= 60:
        return f"due in {_span(seconds)}", False
    if seconds > -60:
        return "due now", seconds <= 0
    return f"overdue {_span(-seconds)}", True


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


REMINDER_PREFIX = "Due: "


def elide(text: str, limit: int = _TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe_reminder(reminder: Reminder, now: datetime) -> str:
    """E.g. "Due: Post a status update — overdue 3 min (#4 Checkout failing…)".

    The incident is named (number and title) on every item: the banner can show
    another incident's item than the one on screen, and Done ticks *that* one.

    Plain words, not an emoji: a responder's laptop may have no emoji font, and
    a missing-glyph box is the last thing to show under stress."""
    due, _overdue = describe_due(reminder.due_at, now)
    return f"{REMINDER_PREFIX}{reminder.title} — {due} ({incident_label(reminder)})"


def incident_label(reminder: Reminder) -> str:
    return f"#{reminder.incident_id} {elide(reminder.incident_title)}"


def banner_order(reminders: Sequence[Reminder], selected: int | None) -> list[Reminder]:
    """The selected incident's due items first (soonest due first), then the others'."""
    return sorted(reminders, key=lambda r: (r.incident_id != selected, r.due_at, r.item_id))


class ReminderCenter(QObject):
    """Polls ``queries.reminders`` on the read lane and announces what became due."""

    def __init__(
        self, context: UiContext, parent: QObject | None = None, interval_ms: int = 15000
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._notified: set[tuple[int, datetime]] = set()
        self._busy = False
        self._again = False
        self._tray: QSystemTrayIcon | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check_now)
        context.events.changes_applied.connect(self._on_changes_applied)

    def start(self) -> None:
        self._timer.start()
        self.check_now()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def check_now(self) -> None:
        if self._context.runner.closed:  # the app is quitting: the poll has nowhere to run
            self._timer.stop()
            return
        if self._busy:  # one query at a time; run once more when it returns
            self._again = True
            return
        self._busy = True
        now = self._context.clock()
        queries = self._context.workspace.queries
        self._context.runner.read(
            lambda: queries.reminders(now), self._on_checked, self._on_check_failed
        )

    @Slot(object)
    def _on_changes_applied(self, changes: Changes) -> None:
        if changes.checklist or changes.incidents:
            self.check_now()  # a tick moves a due time; a resolved incident stops reminding

    def _on_checked(self, reminders: list[Reminder]) -> None:
        self._finish()
        current = {(r.item_id, r.due_at) for r in reminders}
        fresh = [r for r in reminders if (r.item_id, r.due_at) not in self._notified]
        self._notified &= current  # forget what is no longer due (bounded)
        self._notified |= current
        self._context.events.reminders_due.emit(list(reminders))
        if fresh:
            self._notify(fresh)

    def _on_check_failed(self, error: BaseException) -> None:
        self._finish()
        log.warning("could not check reminders: %s", error)

    def _finish(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            QTimer.singleShot(0, self.check_now)

    def _notify(self, fresh: Sequence[Reminder]) -> None:
        now = self._context.clock()
        first = fresh[0]
        title = "Reminder due" if len(fresh) == 1 else f"{len(fresh)} reminders due"
        body = "\n".join(describe_reminder(r, now).removeprefix(REMINDER_PREFIX) for r in fresh[:3])
        log.info("reminders due: %s", "; ".join(r.title for r in fresh))
        if QSystemTrayIcon.isSystemTrayAvailable():
            tray = self._tray_icon()
            tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Warning, 15_000)
            return
        app = QApplication.instance()
        if isinstance(app, QApplication):
            window = app.activeWindow() or _first_visible_window(app)
            if window is not None:
                QApplication.alert(window, 0)
        log.debug("no system tray: alerted the window for %s", first.title)

    def _tray_icon(self) -> QSystemTrayIcon:
        if self._tray is None:
            app = QApplication.instance()
            icon = app.windowIcon() if isinstance(app, QApplication) else QIcon()
            self._tray = QSystemTrayIcon(icon if not icon.isNull() else _alarm_icon(), self)
            self._tray.setToolTip("Responder Console")
            self._tray.show()
        return self._tray


def _first_visible_window(app: QApplication) -> QWidget | None:
    for widget in app.topLevelWidgets():
        if widget.isVisible() and widget.isWindow():
            return widget
    return None


def _alarm_icon() -> QIcon:
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#d84315"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, 28, 28)
    painter.end()
    return QIcon(pixmap)


class ReminderBanner(QWidget):
    """One due reminder with Done and Open; "+N more" opens the list of all due items.

    The selected incident's items come first (``set_selected_incident``), so the
    banner speaks about the incident on screen; each item names its incident, and
    Done ticks exactly the item shown. Hidden when nothing is due."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reminderBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        follow_theme(
            self,
            lambda: self.setStyleSheet(
                banner_style("reminderBanner", "warning", label_css="font-weight: 600;")
                + "#reminderBanner QPushButton#reminderMore {"
                f" color: {banner_colours('warning').text}; font-weight: 600;"
                " text-decoration: underline; border: none; padding: 2px 6px; }"
            ),
        )
        self._context = context
        self._reminders: list[Reminder] = []
        self._saving: set[int] = set()
        self._selected: int | None = None
        self._pinned: int | None = None  # an item chosen from the "+N more" list
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.more = QPushButton(self)
        self.more.setObjectName("reminderMore")
        self.more.setFlat(True)
        self.more.setToolTip("Show every due item and pick the one to act on")
        self.more_menu = QMenu(self)
        self.more_menu.setObjectName("reminderList")
        self.more.setMenu(self.more_menu)
        self.more_menu.aboutToShow.connect(self._fill_menu)
        self.done_button = QPushButton("Done", self)
        self.done_button.setToolTip("Tick this item: it is logged and its next due time is set")
        self.open_button = QPushButton("Open", self)
        self.open_button.setToolTip("Open the incident")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.more)
        layout.addWidget(self.done_button)
        layout.addWidget(self.open_button)
        self.done_button.clicked.connect(self.tick_current)
        self.open_button.clicked.connect(self.open_current)
        context.events.reminders_due.connect(self.set_reminders)
        self.hide()

    def current(self) -> Reminder | None:
        """The item shown (and the one Done ticks)."""
        for reminder in self._reminders:
            if reminder.item_id == self._pinned:
                return reminder
        return self._reminders[0] if self._reminders else None

    def reminders(self) -> list[Reminder]:
        """Every due item, in the order the banner and its list show them."""
        return list(self._reminders)

    @Slot(object)
    def set_reminders(self, reminders: list[Reminder]) -> None:
        self._reminders = banner_order(reminders, self._selected)
        self._render()

    def set_selected_incident(self, incident_id: int | None) -> None:
        """The incident on screen changed: its due items come first."""
        if incident_id == self._selected:
            return
        self._selected = incident_id
        self._pinned = None
        self._reminders = banner_order(self._reminders, incident_id)
        self._render()

    def show_item(self, item_id: int) -> None:
        """Show this due item (chosen from the list) until it is ticked or the selection moves."""
        self._pinned = item_id
        self._render()

    @Slot()
    def tick_current(self) -> None:
        reminder = self.current()
        if reminder is None or reminder.item_id in self._saving:
            return
        self._saving.add(reminder.item_id)
        self._render()
        incidents = self._context.workspace.incidents
        incident_id, item_id = reminder.incident_id, reminder.item_id
        self._context.runner.write(
            lambda: incidents.tick_item(incident_id, item_id),
            partial(self._on_ticked, item_id),
            partial(self._on_tick_failed, item_id),
        )

    @Slot()
    def open_current(self) -> None:
        reminder = self.current()
        if reminder is not None:
            self._context.events.incident_selected.emit(reminder.incident_id)

    @Slot()
    def _fill_menu(self) -> None:
        self.more_menu.clear()
        now = self._context.clock()
        shown = self.current()
        for reminder in self._reminders:
            text = describe_reminder(reminder, now).removeprefix(REMINDER_PREFIX)
            action = self.more_menu.addAction(text.replace("&", "&&"))
            action.setCheckable(True)
            action.setChecked(shown is not None and reminder.item_id == shown.item_id)
            action.setToolTip(
                f"{reminder.title}\n#{reminder.incident_id} {reminder.incident_title}"
            )
            action.triggered.connect(partial(self._choose, reminder.item_id))

    def _choose(self, item_id: int, _checked: bool = False) -> None:
        self.show_item(item_id)

    def _on_ticked(self, item_id: int, outcome: Outcome) -> None:
        self._saving.discard(item_id)
        if self._pinned == item_id:
            self._pinned = None
        # Committed: drop it here at once; the center's next check brings the truth.
        self._reminders = [r for r in self._reminders if r.item_id != item_id]
        self._render()
        self._context.events.changes_applied.emit(outcome.changes)

    def _on_tick_failed(self, item_id: int, error: BaseException) -> None:
        self._saving.discard(item_id)
        self._render()
        report_task_error(self._context.events, error, "ticking the reminder")

    def _render(self) -> None:
        reminder = self.current()
        if reminder is None:
            self.hide()
            return
        now = self._context.clock()
        self.label.setText(describe_reminder(reminder, now))
        self.label.setToolTip(
            f"{reminder.title}\n#{reminder.incident_id} {reminder.incident_title}"
        )
        others = len(self._reminders) - 1
        self.more.setText(f"+{others} more" if others else "")
        self.more.setVisible(bool(others))
        saving = reminder.item_id in self._saving
        self.done_button.setEnabled(not saving)
        self.done_button.setText("Saving…" if saving else "Done")
        self.done_button.setToolTip(
            f"Tick “{reminder.title}” in #{reminder.incident_id}: it is logged and its next"
            " due time is set"
        )
        self.show()
