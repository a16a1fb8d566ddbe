"""The timeline of one incident: up to 100k rows, paged from the core into a bounded cache.

Entries are numbered 1..N without gaps, so row ``r`` is entry ``seq = r + 1`` and
the row count is one cheap query (``timeline_count``). Payloads are fetched in
pages of :data:`PAGE_SIZE` through ``timeline_page`` (an index range scan) into an
LRU cache of at most :data:`MAX_PAGES` pages: ``data()`` does at most one bounded
query, and the model never holds more than ``PAGE_SIZE * MAX_PAGES`` entries.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from console.domain.errors import ConsoleError
from console.domain.incident import EntryKind
from console.domain.views import TimelineEntry
from ui.models import IncidentReader
from ui.models.roles import ItemRole
from ui.theme import alert_color, is_dark, muted_color
from ui.times import hover, shown

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)

PAGE_SIZE = 200
MAX_PAGES = 40

COLUMNS = ("#", "Time", "Who", "Kind", "Entry")
COL_SEQ, COL_TIME, COL_WHO, COL_KIND, COL_TEXT = range(len(COLUMNS))

_KIND_LABELS = {
    EntryKind.DECLARED: "Declared",
    EntryKind.NOTE: "Note",
    EntryKind.STATUS_CHANGE: "Status",
    EntryKind.SEVERITY_CHANGE: "Severity",
    EntryKind.ROLE_CHANGE: "Role",
    EntryKind.CHECKLIST_DONE: "Checklist",
    EntryKind.RUNBOOK_STEP: "Runbook",
    EntryKind.COMMAND_COPIED: "Command",
    EntryKind.COMMUNICATION: "Comms",
    EntryKind.CORRECTION: "Correction",
    EntryKind.REMOTE: "Remote",
    EntryKind.STATUS_UPDATE: "Update",
    EntryKind.IMPORTED: "Imported",
}


@dataclass
class _Page:
    """One cached page: entries oldest first (may be short at the tail), or the load error."""

    entries: list[TimelineEntry]
    error: str | None = None

    def seq_of(self, entry_uuid: UUID) -> int | None:
        for entry in self.entries:
            if entry.uuid == entry_uuid:
                return entry.seq
        return None


class TimelineModel(QAbstractTableModel):
    def __init__(self, reader: IncidentReader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader = reader
        self._incident_id: int | None = None
        self._count = 0
        self._pages: OrderedDict[int, _Page] = OrderedDict()
        #: how many page queries ran (tests and benchmarks read it)
        self.page_loads = 0
        self._strike = QFont()
        self._strike.setStrikeOut(True)

    # ------------------------------------------------------------------ public

    @property
    def incident_id(self) -> int | None:
        return self._incident_id

    @property
    def cached_pages(self) -> int:
        return len(self._pages)

    def set_reader(self, reader: IncidentReader) -> None:
        """Swap the read side (start-up snapshot → live workspace); the rows stay."""
        self._reader = reader

    def set_incident(self, incident_id: int | None) -> None:
        self.beginResetModel()
        self._incident_id = incident_id
        self._pages.clear()
        self._count = 0
        if incident_id is not None:
            try:
                self._count = self._reader.timeline_count(incident_id)
            except ConsoleError as error:
                log.warning("could not count the timeline of incident %s: %s", incident_id, error)
        self.endResetModel()

    def reload(self) -> None:
        """Drop every cached page (rows repaint from fresh reads); the row count is re-read."""
        self.set_incident(self._incident_id)

    def entry(self, row: int) -> TimelineEntry | None:
        """The entry shown in ``row`` (loads its page if needed); None for an error row."""
        if not 0 <= row < self._count:
            return None
        page = self._page(row // PAGE_SIZE)
        offset = row % PAGE_SIZE
        return page.entries[offset] if offset < len(page.entries) else None

    def append_entries(self, entries: Sequence[TimelineEntry]) -> None:
        """New entries this client committed: one insert per batch, no re-query.

        Entries that are not the direct continuation (another writer got in between)
        make the model re-read the tail instead, so rows never go missing.
        """
        fresh = sorted(
            (e for e in entries if e.incident_id == self._incident_id and e.seq > self._count),
            key=lambda e: e.seq,
        )
        if not fresh:
            return
        if fresh[0].seq != self._count + 1 or any(
            b.seq != a.seq + 1 for a, b in itertools.pairwise(fresh)
        ):
            self.refresh_tail()
            return
        first_row = self._count
        self.beginInsertRows(QModelIndex(), first_row, first_row + len(fresh) - 1)
        for entry in fresh:
            self._store(entry)
        self._count = fresh[-1].seq
        self.endInsertRows()
        self._mark_corrected(fresh)

    def refresh_tail(self) -> None:
        """Someone else appended (compact window, palette, sync): read only the new tail."""
        if self._incident_id is None:
            return
        try:
            count = self._reader.timeline_count(self._incident_id)
        except ConsoleError as error:
            log.warning("could not count the timeline of incident %s: %s", self._incident_id, error)
            return
        if count <= self._count:
            return
        new: list[TimelineEntry] = []
        if count - self._count <= PAGE_SIZE:
            try:
                new = self._reader.timeline_page(self._incident_id, self._count + 1, count)
                self.page_loads += 1
            except ConsoleError as error:
                log.warning("could not read new timeline entries: %s", error)
        first_row = self._count
        self.beginInsertRows(QModelIndex(), first_row, count - 1)
        if len(new) == count - self._count:
            for entry in new:
                self._store(entry)
        else:  # too many, or failed: drop the partial tail page; rows load on demand
            self._pages.pop(first_row // PAGE_SIZE, None)
        self._count = count
        self.endInsertRows()
        self._mark_corrected(new)

    # ---------------------------------------------------------------- internals

    def _store(self, entry: TimelineEntry) -> None:
        number = (entry.seq - 1) // PAGE_SIZE
        page = self._pages.get(number)
        if page is None:
            if (entry.seq - 1) % PAGE_SIZE == 0:  # a new page starts with this entry
                self._pages[number] = _Page([entry])
                self._trim()
            return
        if page.error is None and len(page.entries) == (entry.seq - 1) % PAGE_SIZE:
            page.entries.append(entry)
        else:
            del self._pages[number]  # out of step: reload it when shown

    def _mark_corrected(self, entries: Sequence[TimelineEntry]) -> None:
        """A new correction greys out the entry it supersedes: reload that entry's page."""
        for entry in entries:
            corrected = entry.data.get("corrects_seq") if entry.supersedes else None
            if isinstance(corrected, int) and 1 <= corrected <= self._count:
                self._pages.pop((corrected - 1) // PAGE_SIZE, None)
                left = self.index(corrected - 1, 0)
                right = self.index(corrected - 1, len(COLUMNS) - 1)
                self.dataChanged.emit(left, right)

    def _page(self, number: int) -> _Page:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        first = number * PAGE_SIZE + 1
        last = min(self._count, first + PAGE_SIZE - 1)
        assert self._incident_id is not None  # rows exist only with an incident
        try:
            entries = self._reader.timeline_page(self._incident_id, first, last)
            page = _Page(list(entries))
            if [e.seq for e in entries] != list(range(first, first + len(entries))):
                page = _Page([], f"entries {first}–{last} are out of order; reload")
        except ConsoleError as error:
            log.warning("could not load timeline entries %s–%s: %s", first, last, error)
            page = _Page([], str(error))
        except Exception as error:  # a bug: log it loudly, but keep the view usable
            log.exception("loading timeline entries %s–%s failed", first, last)
            page = _Page([], f"internal error ({type(error).__name__}); see the log")
        self.page_loads += 1
        self._pages[number] = page
        self._trim()
        return page

    def _trim(self) -> None:
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def _correction_seq(self, entry_uuid: UUID) -> int | None:
        for page in self._pages.values():
            seq = page.seq_of(entry_uuid)
            if seq is not None:
                return seq
        return None

    # ---------------------------------------------------------------- Qt model

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section == COL_TIME:
                return "Local time; hover a row for UTC"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        row, column = index.row(), index.column()
        page = self._page(row // PAGE_SIZE)
        offset = row % PAGE_SIZE
        if offset >= len(page.entries):
            return self._error_data(row, column, role, page.error or "entry not loaded")
        entry = page.entries[offset]
        superseded = entry.superseded_by is not None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return muted_color(is_dark()) if superseded else None
        if role == Qt.ItemDataRole.FontRole:
            return self._strike if superseded and column == COL_TEXT else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COL_SEQ:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ItemRole.ID:
            return entry.id
        if role == ItemRole.VIEW:
            return entry
        if role == ItemRole.SEQ:
            return entry.seq
        if role == ItemRole.SUPERSEDED:
            return superseded
        if role == ItemRole.LOAD_ERROR:
            return False
        return None

    def _display(self, entry: TimelineEntry, column: int) -> str:
        if column == COL_SEQ:
            return str(entry.seq)
        if column == COL_TIME:
            return shown(entry.occurred_at, "seconds")
        if column == COL_WHO:
            return entry.author
        if column == COL_KIND:
            return _KIND_LABELS.get(entry.kind, entry.kind.label)
        text = _readable(entry).replace("\n", " ⏎ ")
        corrects = entry.data.get("corrects_seq")
        if entry.kind is EntryKind.CORRECTION and corrects is not None:
            return f"Correction to #{corrects}: {text}"
        return text

    def _tooltip(self, entry: TimelineEntry, column: int) -> str | None:
        if column == COL_TIME:
            return hover(entry.occurred_at)
        if entry.superseded_by is not None:
            seq = self._correction_seq(entry.superseded_by)
            where = f"entry #{seq}" if seq is not None else "a later correction entry"
            return f"Superseded: corrected by {where}.\nOriginal text: {entry.text}"
        if column == COL_TEXT and len(entry.text) > 80:
            return _readable(entry)
        return None

    def _error_data(self, row: int, column: int, role: int, message: str) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == COL_SEQ:
                return str(row + 1)
            return f"⚠ could not load this entry: {message}" if column == COL_TEXT else "—"
        if role == Qt.ItemDataRole.ForegroundRole:
            return alert_color(is_dark())
        if role == Qt.ItemDataRole.ToolTipRole:
            return message
        if role == ItemRole.LOAD_ERROR:
            return True
        if role == ItemRole.SEQ:
            return row + 1
        return None


def _readable(entry: TimelineEntry) -> str:
    """A logged status update is stored as the Markdown that was sent; the timeline shows
    it as text (``**Investigating**`` reads "Investigating"), like the draft's preview."""
    if entry.kind is EntryKind.STATUS_UPDATE:
        from console.comms.templating import markdown_to_plain

        return markdown_to_plain(entry.text)
    return entry.text
