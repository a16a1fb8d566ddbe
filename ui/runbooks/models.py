"""Item models of the runbooks area: search results and the steps of a followed runbook."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from console.importers.runbook_sources import SEPARATOR
from console.search.runbooks import MARK_END, MARK_START, SearchHit
from ui.models.roles import ItemRole, is_checked

if TYPE_CHECKING:  # the renderer (markdown, pygments) loads on the read lane, when first used
    from console.render import Step

_Index = QModelIndex | QPersistentModelIndex
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)


_EMPHASIS = re.compile(r"`+|\*\*")
_TABLE_RULE = re.compile(r"\|?(?:\s*:?-{3,}:?\s*\|)+")
_BLOCK_MARKUP = re.compile(r"(?:^|(?<=\s))(?:#{1,6}|[-*+])\s+(?=\S)")
_BARS = re.compile(r"(?:\s*\|\s*)+")


def clean_snippet(snippet: str) -> str:
    """The snippet without the Markdown punctuation that only adds noise in a list
    (backticks, bold stars, heading hashes, bullets, table rules); the match markers stay."""
    text = _TABLE_RULE.sub(" ", _EMPHASIS.sub("", snippet))
    text = _BARS.sub(" · ", _BLOCK_MARKUP.sub(" ", text))
    return " ".join(text.split()).strip(" ·")


def snippet_segments(snippet: str) -> list[tuple[str, bool]]:
    """``"a [[pool]] b"`` → ``[("a ", False), ("pool", True), (" b", False)]``.

    An unpaired marker is kept as text (the snippet is whatever the index holds)."""
    segments: list[tuple[str, bool]] = []
    rest = snippet
    while rest:
        start = rest.find(MARK_START)
        end = rest.find(MARK_END, start + len(MARK_START)) if start >= 0 else -1
        if start < 0 or end < 0:
            segments.append((rest, False))
            break
        if start:
            segments.append((rest[:start], False))
        marked = rest[start + len(MARK_START) : end]
        if marked:
            segments.append((marked, True))
        rest = rest[end + len(MARK_END) :]
    return segments


def snippet_html(snippet: str) -> str:
    """The snippet as rich text: escaped first, then the match markers become ``<b>``."""
    return "".join(
        f"<b>{escape(text, quote=False)}</b>" if bold else escape(text, quote=False)
        for text, bold in snippet_segments(snippet)
    )


def reviewed_text(last_reviewed: date | None, today: date) -> str:
    if last_reviewed is None:
        return "never reviewed"
    days = (today - last_reviewed).days
    if days <= 0:
        return "reviewed today"
    return "reviewed 1 day ago" if days == 1 else f"reviewed {days} days ago"


def detail_text(hit: SearchHit, today: date) -> str:
    """``team-data · orders-api, web · reviewed 12 days ago`` (the third line of a result);
    a runbook whose id took its source's name (another source has the same id: a
    translation) starts with that source, or the two would look the same."""
    source, separator, _ = hit.slug.partition(SEPARATOR)
    parts = [source] if separator else []
    parts.append(hit.owner or "no owner")
    if hit.services:
        parts.append(", ".join(hit.services))
    parts.append(reviewed_text(hit.last_reviewed, today))
    return " · ".join(parts)


class RunbookResultsModel(QAbstractListModel):
    """The hits of the last query (bounded by the query's limit); reset per query."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []
        self.today = date.today()

    def set_hits(self, hits: Sequence[SearchHit], today: date) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.today = today
        self.endResetModel()

    def hits(self) -> tuple[SearchHit, ...]:
        return tuple(self._hits)

    def hit(self, row: int) -> SearchHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._hits)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.title
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            overdue = " — overdue for review" if hit.overdue else ""
            return f"{hit.title}{overdue}\n{detail_text(hit, self.today)}\n{hit.path}"
        if role == ItemRole.ID:
            return hit.id
        if role == ItemRole.VIEW:
            return hit
        if role == ItemRole.OVERDUE:
            return hit.overdue
        return None


class StepsModel(QAbstractListModel):
    """The numbered steps of the open runbook, checkable while following an incident.

    A tick does not write: it emits :attr:`tick_requested` and the step shows as
    *pending* (ticked, not yet editable) until the owner calls :meth:`mark_done`
    (the entry committed) or :meth:`clear_pending` (cancelled or failed)."""

    #: int step number — the user ticked it
    tick_requested = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._steps: list[Step] = []
        self._done: set[int] = set()
        self._pending: set[int] = set()
        self.checkable = False

    def set_steps(
        self, steps: Sequence[Step], done: Iterable[int] = (), *, pending: Iterable[int] = ()
    ) -> None:
        """``pending``: ticks still being written (a re-render must not drop them)."""
        self.beginResetModel()
        self._steps = list(steps)
        self._done = set(done)
        self._pending = set(pending) - self._done
        self.endResetModel()

    def extend_steps(self, steps: Sequence[Step]) -> None:
        """The steps of a longer part of the same runbook: rows already shown keep their
        tick state (and take the updated step), new ones are inserted in one batch."""
        shown = len(self._steps)
        self._steps[:shown] = steps[:shown]
        if len(steps) > shown:
            self.beginInsertRows(QModelIndex(), shown, len(steps) - 1)
            self._steps.extend(steps[shown:])
            self.endInsertRows()

    def set_done(self, done: Iterable[int]) -> None:
        self._done = set(done)
        self._pending -= self._done
        self._changed_all()

    def set_checkable(self, checkable: bool) -> None:
        self.checkable = checkable
        self._changed_all()

    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    def done(self) -> frozenset[int]:
        return frozenset(self._done)

    def pending(self) -> frozenset[int]:
        return frozenset(self._pending)

    def row_of(self, number: int) -> int | None:
        for row, step in enumerate(self._steps):
            if step.number == number:
                return row
        return None

    def mark_done(self, number: int) -> None:
        self._pending.discard(number)
        self._done.add(number)
        self._changed(number)

    def clear_pending(self, number: int) -> None:
        self._pending.discard(number)
        self._changed(number)

    def _changed(self, number: int) -> None:
        row = self.row_of(number)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def _changed_all(self) -> None:
        if self._steps:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._steps) - 1, 0))

    # ---------------------------------------------------------------- Qt model

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._steps)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = _ROW_FLAGS
        number = self._steps[index.row()].number
        if self.checkable and number not in self._done and number not in self._pending:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._steps):
            return None
        step = self._steps[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{step.number}. {step.text}"
        if role == Qt.ItemDataRole.CheckStateRole:
            if not self.checkable:
                return None
            ticked = step.number in self._done or step.number in self._pending
            return Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            if step.number in self._done:
                state = "Done — logged to the incident timeline"
            elif step.number in self._pending:
                state = "Ticked — add an outcome and press Enter to log it"
            else:
                state = step.section
            return f"{step.number}. {step.text}\n{state}"
        if role == ItemRole.NUMBER:
            return step.number
        if role == ItemRole.VIEW:
            return step
        return None

    def setData(self, index: _Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            role != Qt.ItemDataRole.CheckStateRole
            or not index.isValid()
            or not self.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
        ):
            return False
        if not is_checked(value):
            return False
        number = self._steps[index.row()].number
        self._pending.add(number)
        self.dataChanged.emit(index, index)
        self.tick_requested.emit(number)
        return True
