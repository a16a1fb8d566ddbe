"""The checklist of one incident, numbered 1..N exactly as ``/done N`` counts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from console.domain.clock import Clock, utc_now
from console.domain.errors import ConsoleError
from console.domain.views import ChecklistItem
from ui.models import IncidentReader
from ui.models.roles import ItemRole, is_checked
from ui.theme import alert_color, is_dark, muted_color
from ui.times import shown

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)


def cadence_text(item: ChecklistItem) -> str:
    """``every 30 min · due 14:32`` for recurring items, else empty."""
    if item.every_minutes is None:
        return ""
    text = f"every {item.every_minutes} min"
    if item.due_at is not None:
        text += f" · due {shown(item.due_at)}"
    return text


class ChecklistModel(QAbstractListModel):
    #: int checklist item id — the user ticked it; the owner writes it through the runner.
    #: The checkbox shows "done" only after the write committed and the model refreshed.
    tick_requested = Signal(int)

    def __init__(
        self, reader: IncidentReader, clock: Clock = utc_now, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._reader = reader
        self._clock = clock
        self._incident_id: int | None = None
        self._rows: list[ChecklistItem] = []
        self._done_font = QFont()
        self._done_font.setStrikeOut(True)
        self._overdue_font = QFont()
        self._overdue_font.setBold(True)
        self.read_only = False

    @property
    def incident_id(self) -> int | None:
        return self._incident_id

    def set_reader(self, reader: IncidentReader) -> None:
        self._reader = reader

    def set_incident(self, incident_id: int | None) -> None:
        self.beginResetModel()
        self._incident_id = incident_id
        self._rows = self._fetch()
        self.endResetModel()

    def refresh(self) -> None:
        """Re-read the items: changed rows repaint; a different item list resets."""
        fresh = self._fetch()
        if [i.id for i in fresh] != [i.id for i in self._rows]:
            self.beginResetModel()
            self._rows = fresh
            self.endResetModel()
            return
        old, self._rows = self._rows, fresh
        for row, (before, after) in enumerate(zip(old, fresh, strict=True)):
            if before != after:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)

    def tick(self) -> None:
        """Time moved on: recurring items may have become overdue."""
        for row, item in enumerate(self._rows):
            if item.recurring:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)

    def items(self) -> Sequence[ChecklistItem]:
        return tuple(self._rows)

    def _fetch(self) -> list[ChecklistItem]:
        if self._incident_id is None:
            return []
        try:
            return self._reader.checklist(self._incident_id)
        except ConsoleError as error:
            log.warning("could not read the checklist of incident %s: %s", self._incident_id, error)
            return []

    def _overdue(self, item: ChecklistItem) -> bool:
        return item.due_at is not None and item.due_at <= self._clock()

    # ---------------------------------------------------------------- Qt model

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = _ROW_FLAGS
        item = self._rows[index.row()]
        if not item.done and not self.read_only:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        number = index.row() + 1
        item = self._rows[index.row()]
        overdue = self._overdue(item)
        if role == Qt.ItemDataRole.DisplayRole:
            cadence = cadence_text(item)
            suffix = f"\n      {cadence}{' · OVERDUE' if overdue else ''}" if cadence else ""
            return f"{number}. {item.title}{suffix}"
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if item.done else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole:
            if overdue:
                return alert_color(is_dark())  # asked at paint: follows a live switch
            return muted_color(is_dark()) if item.done else None
        if role == Qt.ItemDataRole.FontRole:
            if item.done:
                return self._done_font
            return self._overdue_font if overdue else None
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"/done {number} ticks this item"]
            if item.role is not None:
                lines.append(f"For the {item.role.label.lower()}")
            if item.done_at is not None:
                last = "Last done" if item.recurring else "Done"
                lines.append(f"{last} {shown(item.done_at)} by {item.done_by or '?'}")
            if item.recurring:
                lines.append("Recurring: ticking it schedules the next one")
            return "\n".join(lines)
        if role == ItemRole.ID:
            return item.id
        if role == ItemRole.VIEW:
            return item
        if role == ItemRole.NUMBER:
            return number
        if role == ItemRole.OVERDUE:
            return overdue
        return None

    def setData(self, index: _Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """A click on the checkbox asks for a tick; the row changes once the tick committed."""
        if (
            role != Qt.ItemDataRole.CheckStateRole
            or not index.isValid()
            or not self.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
        ):
            return False
        if is_checked(value):
            self.tick_requested.emit(self._rows[index.row()].id)
        return False
