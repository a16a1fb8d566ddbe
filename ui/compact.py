"""The incident commander's compact, always-on-top checklist window.

Everything the commander needs for the whole incident in a small window that
sits over the bridge call: what, how bad, how long, what is due next, the
checklist, and one line to log to the timeline. Nothing is shown as saved
before the writer lane's commit callback says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Final

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QFont, QHideEvent, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import HELP
from console.domain.views import Changes, ChecklistItem, IncidentSummary
from console.ops.incidents import Outcome
from ui.context import UiContext
from ui.errors import report_task_error
from ui.models.roles import is_checked
from ui.reminders import describe_due
from ui.theme import alert_color, is_dark, severity_color, severity_text_color

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex

SETTINGS_GEOMETRY: Final = "compactChecklist/geometry"
ITEM_ID_ROLE: Final = Qt.ItemDataRole.UserRole + 1


def format_elapsed(start: datetime, end: datetime) -> str:
    """``H:MM:SS`` (``D d H:MM:SS`` past a day) — reads at a glance, ticks every second."""
    seconds = max(int((end - start).total_seconds()), 0)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{days} d {clock}" if days else clock


class ChecklistModel(QAbstractListModel):
    """The incident's checklist, numbered as ``/done N`` counts it.

    Checking an item does not change the model: it asks for the tick
    (:attr:`tick_requested`) and shows the item as saving until the refreshed
    checklist arrives after the commit.
    """

    tick_requested = Signal(int)  # item id

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[ChecklistItem] = []
        self._saving: set[int] = set()
        self._now: datetime | None = None

    def set_items(self, items: Sequence[ChecklistItem], now: datetime) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._saving &= {item.id for item in self._items if not item.done}
        self._now = now
        self.endResetModel()

    def items(self) -> list[ChecklistItem]:
        return list(self._items)

    def set_saving(self, item_id: int, saving: bool) -> None:
        if saving:
            self._saving.add(item_id)
        else:
            self._saving.discard(item_id)
        for row, item in enumerate(self._items):
            if item.id == item_id:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)

    def is_saving(self, item_id: int) -> bool:
        return item_id in self._saving

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.parent().isValid() or index.row() >= len(self._items):
            return None
        item = self._items[index.row()]
        number = index.row() + 1
        if role == Qt.ItemDataRole.DisplayRole:
            text = f"{number}. {item.title}"
            if item.id in self._saving:
                return f"{text}  (saving…)"
            if item.recurring and item.due_at is not None and self._now is not None:
                due, _overdue = describe_due(item.due_at, self._now)
                return f"{text}  ↻ {due}"
            return text
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if item.done else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [item.title]
            if item.recurring:
                parts.append(
                    f"Recurs every {item.every_minutes} min; ticking sets the next due time."
                )
            if item.done_by:
                parts.append(f"Last done by {item.done_by}")
            parts.append(f"Tick from the entry line: /done {number}")
            return "\n".join(parts)
        if role == Qt.ItemDataRole.ForegroundRole:
            overdue = (
                item.recurring
                and item.due_at is not None
                and self._now is not None
                and describe_due(item.due_at, self._now)[1]
            )
            if overdue:
                return alert_color(is_dark())
            if item.done:  # done items step back so what is left stands out
                return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
            return None
        if role == Qt.ItemDataRole.FontRole and item.done:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == ITEM_ID_ROLE:
            return item.id
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid() or index.row() >= len(self._items):
            return Qt.ItemFlag.NoItemFlags
        item = self._items[index.row()]
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not item.done and item.id not in self._saving:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: _Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        if index.row() >= len(self._items):
            return False
        item = self._items[index.row()]
        if not is_checked(value) or item.done or item.id in self._saving:
            return False  # done items cannot be unticked; the timeline is append-only
        self.set_saving(item.id, True)
        self.tick_requested.emit(item.id)
        return True


@dataclass(frozen=True)
class _Loaded:
    incident: IncidentSummary
    checklist: list[ChecklistItem]


class CompactChecklistWindow(QWidget):
    """Small, always on top: title, severity, state, elapsed, next reminder, checklist, entry."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        # A Tool window on macOS hides whenever the app loses focus, which would
        # drop the checklist behind the bridge call it is meant to sit over.
        # The attribute is a no-op elsewhere; the always-on-top hint is kept on
        # every platform (docs/ARCHITECTURE.md, "The compact window").
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow, True)
        self.setObjectName("compactChecklist")
        self.setWindowTitle("Checklist — Responder Console")
        self._context = context
        self._incident_id: int | None = None
        self._incident: IncidentSummary | None = None
        self._generation = 0  # drops answers to reads made for an earlier incident

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(4)

        header = QHBoxLayout()
        self.severity_badge = QLabel(self)
        self.severity_badge.setObjectName("severityBadge")
        self.severity_badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.severity_badge.setMinimumWidth(48)
        self.title_label = QLabel(self)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        title_font = QFont(self.title_label.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        self.title_label.setFont(title_font)
        header.addWidget(self.severity_badge, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.title_label, 1)
        layout.addLayout(header)

        status_row = QHBoxLayout()
        self.state_label = QLabel(self)
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.elapsed_label = QLabel(self)
        self.elapsed_label.setTextFormat(Qt.TextFormat.PlainText)
        self.elapsed_label.setToolTip("Time since the incident was declared")
        elapsed_font = QFont(self.elapsed_label.font())
        elapsed_font.setStyleHint(QFont.StyleHint.Monospace)
        elapsed_font.setFamilies(["monospace"])
        elapsed_font.setBold(True)
        self.elapsed_label.setFont(elapsed_font)
        status_row.addWidget(self.state_label)
        status_row.addStretch(1)
        status_row.addWidget(self.elapsed_label)
        layout.addLayout(status_row)

        self.reminder_label = QLabel(self)
        self.reminder_label.setObjectName("nextReminder")
        self.reminder_label.setTextFormat(Qt.TextFormat.PlainText)
        self.reminder_label.setWordWrap(True)
        layout.addWidget(self.reminder_label)

        self.model = ChecklistModel(self)
        self.list_view = QListView(self)
        self.list_view.setModel(self.model)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setWordWrap(False)
        self.list_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list_view.setAccessibleName("Checklist")
        layout.addWidget(self.list_view, 1)

        self.entry = QLineEdit(self)
        self.entry.setObjectName("compactEntry")
        self.entry.setPlaceholderText("Log a note or /command, Enter  (Ctrl+L)")
        self.entry.setToolTip(HELP)
        self.entry.setClearButtonEnabled(True)
        layout.addWidget(self.entry)

        self.feedback_label = QLabel(self)
        self.feedback_label.setObjectName("entryFeedback")
        self.feedback_label.setTextFormat(Qt.TextFormat.PlainText)
        self.feedback_label.setWordWrap(True)
        self.feedback_label.hide()
        layout.addWidget(self.feedback_label)

        self.model.tick_requested.connect(self._on_tick_requested)
        self.entry.returnPressed.connect(self._on_entry_return)
        self.entry.textEdited.connect(self._on_entry_edited)
        context.events.changes_applied.connect(self._on_changes_applied)

        self._hide_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self._hide_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self._hide_shortcut.activated.connect(self.hide)
        self._focus_shortcut = QShortcut(QKeySequence("Ctrl+L"), self)
        self._focus_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self._focus_shortcut.activated.connect(self.focus_entry)

        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick_clock)

        self.resize(360, 460)
        self._restore_geometry()
        self._show_empty()

    # ----------------------------------------------------------------- public

    def incident_id(self) -> int | None:
        return self._incident_id

    def set_incident(self, incident_id: int | None) -> None:
        if incident_id == self._incident_id:
            return
        self._incident_id = incident_id
        self._incident = None
        self._generation += 1
        self.entry.clear()
        self._set_feedback("")
        if incident_id is None:
            self._show_empty()
            return
        self.title_label.setText("Loading…")
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        incident_id = self._incident_id
        if incident_id is None:
            return
        queries = self._context.workspace.queries
        self._context.runner.read(
            lambda: _Loaded(queries.incident(incident_id), queries.checklist(incident_id)),
            partial(self._on_loaded, self._generation),
            partial(self._on_load_failed, self._generation),
        )

    @Slot()
    def focus_entry(self) -> None:
        if not self.isVisible():
            self.show()
        self.raise_()
        self.activateWindow()
        self.entry.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.entry.selectAll()

    # ---------------------------------------------------------------- loading

    def _on_loaded(self, generation: int, loaded: _Loaded) -> None:
        if generation != self._generation:
            return
        self._incident = loaded.incident
        self.model.set_items(loaded.checklist, self._context.clock())
        incident = loaded.incident
        self.setWindowTitle(f"{incident.severity.value} · {incident.title}")
        self.title_label.setText(incident.title)
        self.title_label.setToolTip(incident.title)
        dark = is_dark()
        fill = severity_color(incident.severity, dark).name()
        ink = severity_text_color(incident.severity, dark).name()
        self.severity_badge.setText(incident.severity.value)
        self.severity_badge.setToolTip(incident.severity.definition)
        self.severity_badge.setStyleSheet(
            f"QLabel {{ background: {fill}; color: {ink}; font-weight: 700;"
            " border-radius: 4px; padding: 2px 6px; }"
        )
        self.state_label.setText(f"State: {incident.status.label}")
        self.entry.setEnabled(True)
        self.list_view.setEnabled(True)
        self._tick_clock()
        if not self._ticker.isActive():
            self._ticker.start()

    def _on_load_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._set_feedback(report_task_error(self._context.events, error, "loading the checklist"))

    def _show_empty(self) -> None:
        self._ticker.stop()
        self.model.set_items([], self._context.clock())
        self.setWindowTitle("Checklist — Responder Console")
        self.title_label.setText("No incident selected")
        self.title_label.setToolTip("")
        self.severity_badge.setText("")
        self.severity_badge.setStyleSheet("")
        self.state_label.setText("")
        self.elapsed_label.setText("")
        self.reminder_label.setText("")
        self.reminder_label.hide()
        self.entry.setEnabled(False)
        self.list_view.setEnabled(False)

    @Slot()
    def _tick_clock(self) -> None:
        incident = self._incident
        if incident is None:
            return
        now = self._context.clock()
        end = incident.resolved_at or now
        elapsed = format_elapsed(incident.declared_at, end)
        self.elapsed_label.setText(
            f"Elapsed {elapsed}" if incident.resolved_at is None else f"Resolved after {elapsed}"
        )
        self._show_next_reminder(now)

    def _show_next_reminder(self, now: datetime) -> None:
        incident = self._incident
        due_items = [
            item for item in self.model.items() if item.recurring and item.due_at is not None
        ]
        if incident is None or not incident.status.is_active or not due_items:
            self.reminder_label.hide()
            return
        item = min(due_items, key=_due_key)
        assert item.due_at is not None  # filtered above
        due, overdue = describe_due(item.due_at, now)
        self.reminder_label.setText(f"Next: {item.title} — {due}")
        colour = (
            alert_color(is_dark()).name() if overdue else self.palette().windowText().color().name()
        )
        self.reminder_label.setStyleSheet(
            f"QLabel {{ color: {colour}; font-weight: {'700' if overdue else '500'}; }}"
        )
        self.reminder_label.show()

    @Slot(object)
    def _on_changes_applied(self, changes: Changes) -> None:
        incident_id = self._incident_id
        if incident_id is None:
            return
        mentioned = changes.incidents | changes.timeline | changes.checklist | changes.roles
        if incident_id in mentioned:
            self.refresh()

    # ---------------------------------------------------------------- writing

    @Slot(int)
    def _on_tick_requested(self, item_id: int) -> None:
        incident_id = self._incident_id
        if incident_id is None:
            self.model.set_saving(item_id, False)
            return
        incidents = self._context.workspace.incidents
        self._context.runner.write(
            lambda: incidents.tick_item(incident_id, item_id),
            self._on_write_done,
            partial(self._on_tick_failed, item_id),
        )

    def _on_tick_failed(self, item_id: int, error: BaseException) -> None:
        self.model.set_saving(item_id, False)
        self._set_feedback(report_task_error(self._context.events, error, "ticking the item"))

    @Slot()
    def _on_entry_return(self) -> None:
        incident_id = self._incident_id
        line = self.entry.text()
        if incident_id is None or not line.strip():
            return
        self.entry.clear()  # ready for the next line at once; put back if the write fails
        self._set_feedback("Saving…", error=False)
        incidents = self._context.workspace.incidents
        self._context.runner.write(
            lambda: incidents.run_quick(incident_id, line),
            self._on_write_done,
            partial(self._on_entry_failed, line),
        )

    def _on_write_done(self, outcome: Outcome) -> None:
        if outcome.entry is not None:
            self._set_feedback(f"Logged #{outcome.entry.seq}: {outcome.entry.text}", error=False)
        else:
            self._set_feedback("")
        self._context.events.changes_applied.emit(outcome.changes)

    def _on_entry_failed(self, line: str, error: BaseException) -> None:
        message = report_task_error(self._context.events, error, "logging the entry")
        if not self.entry.text():
            self.entry.setText(line)  # nothing lost: fix it and press Enter again
            self._set_feedback(f"Not saved: {message}")
        else:  # something new was typed meanwhile: keep it, quote the failed line
            self._set_feedback(f"Not saved: “{line}” — {message}")
        self.entry.setFocus()

    @Slot(str)
    def _on_entry_edited(self, _text: str) -> None:
        if self.feedback_label.property("error") is False:
            self._set_feedback("")

    def _set_feedback(self, text: str, *, error: bool = True) -> None:
        self.feedback_label.setText(text)
        self.feedback_label.setProperty("error", error)
        colour = (
            alert_color(is_dark()).name()
            if error
            else self.palette().placeholderText().color().name()
        )
        self.feedback_label.setStyleSheet(f"QLabel {{ color: {colour}; }}")
        self.feedback_label.setVisible(bool(text))

    def feedback(self) -> str:
        return self.feedback_label.text() if self.feedback_label.isVisible() else ""

    # --------------------------------------------------------------- geometry

    def _restore_geometry(self) -> None:
        saved = QSettings().value(SETTINGS_GEOMETRY)
        if isinstance(saved, QByteArray | bytes) and not self.restoreGeometry(QByteArray(saved)):
            log.debug("ignoring a saved compact-window geometry that no longer fits")

    def _save_geometry(self) -> None:
        QSettings().setValue(SETTINGS_GEOMETRY, self.saveGeometry())

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        self._save_geometry()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_geometry()
        super().closeEvent(event)


def _due_key(item: ChecklistItem) -> datetime:
    assert item.due_at is not None
    return item.due_at
