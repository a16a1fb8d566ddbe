"""The incident list: severity badge, title, status, elapsed time; active incidents first."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from console.domain.clock import Clock, utc_now
from console.domain.errors import ConsoleError
from console.domain.incident import Severity, Status
from console.domain.views import IncidentSummary
from ui.models import IncidentReader
from ui.models.roles import ItemRole
from ui.times import hover

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)

#: Badge colours: strong enough to read at a glance, with white text on each.
SEVERITY_COLORS: dict[Severity, str] = {
    Severity.SEV1: "#c62828",
    Severity.SEV2: "#ef6c00",
    Severity.SEV3: "#b8860b",
    Severity.SEV4: "#546e7a",
}

STATUS_COLORS: dict[Status, str] = {
    Status.OPEN: "#c62828",
    Status.TRIAGE: "#ef6c00",
    Status.MITIGATING: "#1565c0",
    Status.RESOLVED: "#2e7d32",
    Status.POST_INCIDENT: "#6a1b9a",
    Status.CLOSED: "#616161",
}


def severity_color(severity: Severity) -> QColor:
    return QColor(SEVERITY_COLORS[severity])


def format_duration(seconds: float) -> str:
    """``45s``, ``12m``, ``2h 05m``, ``3d 4h`` — compact, never negative."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def incident_age(incident: IncidentSummary, now: datetime) -> tuple[str, float]:
    """("elapsed"/"lasted", seconds): live incidents tick, resolved ones show their duration."""
    if incident.resolved_at is not None and not incident.status.is_active:
        return "lasted", (incident.resolved_at - incident.declared_at).total_seconds()
    return "elapsed", (now - incident.declared_at).total_seconds()


def _ordered(incidents: Iterable[IncidentSummary]) -> list[IncidentSummary]:
    """Active first; within each group newest declared first (the query's order, kept stable)."""
    items = list(incidents)
    return [i for i in items if i.status.is_active] + [i for i in items if not i.status.is_active]


class IncidentListModel(QAbstractListModel):
    def __init__(
        self, reader: IncidentReader, clock: Clock = utc_now, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._reader = reader
        self._clock = clock
        self._rows: list[IncidentSummary] = []
        self._active_only = False
        self._error: str | None = None

    # ------------------------------------------------------------------ loading

    @property
    def active_only(self) -> bool:
        return self._active_only

    def set_active_only(self, active_only: bool) -> None:
        if active_only != self._active_only:
            self._active_only = active_only
            self.reload()

    def set_reader(self, reader: IncidentReader) -> None:
        self._reader = reader

    def reload(self) -> None:
        """A full reset: the first load, a new filter."""
        self.beginResetModel()
        self._rows = self._fetch()
        self.endResetModel()

    def refresh(self, changed: Iterable[int] = ()) -> None:
        """Re-read after ``changed`` incidents changed, keeping selection (no reset)."""
        fresh = self._fetch()
        old_ids = [i.id for i in self._rows]
        new_ids = [i.id for i in fresh]
        if old_ids == new_ids:
            self._rows = fresh
            wanted = set(changed) or set(new_ids)
            for row, incident in enumerate(fresh):
                if incident.id in wanted:
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index)
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        remembered = [old_ids[p.row()] if 0 <= p.row() < len(old_ids) else None for p in persistent]
        self._rows = fresh
        position = {incident_id: row for row, incident_id in enumerate(new_ids)}
        for index, incident_id in zip(persistent, remembered, strict=True):
            target = position.get(incident_id) if incident_id is not None else None
            self.changePersistentIndex(
                index, self.index(target, 0) if target is not None else QModelIndex()
            )
        self.layoutChanged.emit()

    def tick(self) -> None:
        """Elapsed times moved on: repaint the live rows."""
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, 0), [Qt.ItemDataRole.DisplayRole]
            )

    def _fetch(self) -> list[IncidentSummary]:
        try:
            incidents = self._reader.incidents(active_only=self._active_only)
        except ConsoleError as error:
            self._error = str(error)
            log.warning("could not list incidents: %s", error)
            return []
        self._error = None
        return _ordered(incidents)

    # --------------------------------------------------------------- accessors

    @property
    def load_error(self) -> str | None:
        return self._error

    def incidents(self) -> Sequence[IncidentSummary]:
        return tuple(self._rows)

    def row_of(self, incident_id: int) -> int | None:
        for row, incident in enumerate(self._rows):
            if incident.id == incident_id:
                return row
        return None

    def incident_at(self, row: int) -> IncidentSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def default_incident(self) -> int | None:
        """The most recently declared active incident, else the most recent one."""
        if not self._rows:
            return None
        active = [i for i in self._rows if i.status.is_active]
        pool = active or self._rows
        return max(pool, key=lambda i: (i.declared_at, i.id)).id

    # ---------------------------------------------------------------- Qt model

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        incident = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            word, seconds = incident_age(incident, self._clock())
            return (
                f"{incident.severity.value}  {incident.title}\n"
                f"{incident.status.label} · {word} {format_duration(seconds)}"
            )
        if role == Qt.ItemDataRole.ToolTipRole:
            held = " · ".join(f"{h.role.short}: {h.person}" for h in incident.roles)
            return (
                f"{incident.title}\n{incident.severity.value} — {incident.severity.definition}\n"
                f"Status: {incident.status.label}\n{held or 'No roles assigned'}\n"
                f"Declared {hover(incident.declared_at, 'datetime')}"
            )
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{incident.severity.value}, {incident.status.label}: {incident.title}"
        if role == ItemRole.ID:
            return incident.id
        if role == ItemRole.VIEW:
            return incident
        if role == ItemRole.SEVERITY:
            return incident.severity
        if role == ItemRole.STATUS:
            return incident.status
        if role == ItemRole.ACTIVE:
            return incident.status.is_active
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS
