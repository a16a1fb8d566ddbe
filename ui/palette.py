"""The command palette: type a few letters of any action, press Enter.

Besides the fixed entries (actions, incidents, services) the palette asks its
owner for entries found by the query (:attr:`CommandPalette.search_requested`,
answered with :meth:`CommandPalette.show_found`): runbooks through the core's
runbook search and people from the contacts. Whatever was typed, the last row
offers the full runbook search, and an empty result says "No matches".

Matching is a fuzzy subsequence match ranked so the obvious hit comes first:
a title that starts with the query, then the query at a word start, then a
scattered match (best alignment first: word starts and runs of letters win),
then matches in the subtitle only. :func:`rank` is pure and unit-tested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QKeyEvent, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QFrame,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class PaletteEntry:
    key: str
    title: str
    subtitle: str = ""
    shortcut: str = ""


# ------------------------------------------------------------------- ranking

_PREFIX, _WORD, _FUZZY, _SUBTITLE = range(4)
_NO_MATCH: Final = -1


def rank(query: str, entries: Sequence[PaletteEntry]) -> list[PaletteEntry]:
    """Entries matching ``query`` (a fuzzy subsequence), best first.

    An empty query keeps the given order. Ties keep the given order too, so
    callers can put the most used actions first.
    """
    needle = " ".join(query.lower().split())
    if not needle:
        return list(entries)
    scored: list[tuple[int, int, int, PaletteEntry]] = []
    for position, entry in enumerate(entries):
        found = _classify(needle, entry)
        if found is not None:
            category, score = found
            scored.append((category, -score, position, entry))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored]


def _classify(needle: str, entry: PaletteEntry) -> tuple[int, int] | None:
    title = entry.title.lower()
    compact = needle.replace(" ", "")
    score = _fuzzy_score(compact, title)
    if score != _NO_MATCH:
        if title.startswith(needle):
            return _PREFIX, score
        if any(title.startswith(needle, start) for start in _word_starts(title)):
            return _WORD, score
        return _FUZZY, score
    subtitle_score = _fuzzy_score(compact, entry.subtitle.lower())
    if subtitle_score != _NO_MATCH:
        return _SUBTITLE, subtitle_score
    return None


def _word_starts(text: str) -> list[int]:
    return [
        i for i, ch in enumerate(text) if ch.isalnum() and (i == 0 or not text[i - 1].isalnum())
    ]


def _fuzzy_score(needle: str, haystack: str) -> int:
    """Best alignment score of ``needle`` as a subsequence of ``haystack``, or -1.

    Dynamic programming over (needle char, haystack position): a match earns a
    bonus at the start of the text or of a word, and for following the previous
    match directly; gaps cost a little. Titles are short, so O(n·m) is nothing.
    """
    if not needle:
        return 0
    if len(needle) > len(haystack):
        return _NO_MATCH
    starts = set(_word_starts(haystack))
    bonus = [1 + (10 if j == 0 else 8 if j in starts else 0) for j in range(len(haystack))]
    # previous[j]: best score with the previous needle char matched at haystack[j]
    previous = [
        bonus[j] - min(j, 6) // 2 if hay == needle[0] else _NO_MATCH
        for j, hay in enumerate(haystack)
    ]
    for char in needle[1:]:
        current = [_NO_MATCH] * len(haystack)
        carried = _NO_MATCH  # max over k <= j-2 of previous[k] + k (gap cost is j-1-k)
        for j, hay in enumerate(haystack):
            if j >= 2 and previous[j - 2] != _NO_MATCH:
                carried = max(carried, previous[j - 2] + j - 2)
            if hay != char:
                continue
            options = []
            if j >= 1 and previous[j - 1] != _NO_MATCH:
                options.append(previous[j - 1] + 5)  # a run of letters
            if carried != _NO_MATCH:
                options.append(carried - (j - 1))
            if options:
                current[j] = max(options) + bonus[j]
        previous = current
    return max(previous)


#: the key of the last row: open the full runbook search for the query
SEARCH_RUNBOOKS_KEY: Final = "runbook-search"


def search_all_entry(query: str) -> PaletteEntry:
    text = " ".join(query.split())
    return PaletteEntry(
        key=f"{SEARCH_RUNBOOKS_KEY}:{text}",
        title=f"Search all runbooks for “{text}”",
        subtitle="Opens the runbook search",
    )


# --------------------------------------------------------------------- model

SUBTITLE_ROLE: Final = Qt.ItemDataRole.UserRole + 1
SHORTCUT_ROLE: Final = Qt.ItemDataRole.UserRole + 2
ENTRY_ROLE: Final = Qt.ItemDataRole.UserRole + 3

_Index = QModelIndex | QPersistentModelIndex


class PaletteModel(QAbstractListModel):
    """The visible (filtered, ranked) entries. A new query is a new filter: reset."""

    def __init__(self, entries: Sequence[PaletteEntry] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: tuple[PaletteEntry, ...] = tuple(entries)
        self._shown: list[PaletteEntry] = list(self._all)
        self._query = ""
        self._found: tuple[PaletteEntry, ...] = ()
        #: end a non-empty query's rows with "Search all runbooks for …"
        self.full_search = False

    def set_query(self, query: str) -> None:
        """Rank the fixed entries; entries found for an earlier query are dropped."""
        self.beginResetModel()
        self._query = query
        self._found = ()
        self._shown = self._compose()
        self.endResetModel()

    def set_found(self, query: str, entries: Sequence[PaletteEntry]) -> bool:
        """Entries found by searching for ``query``; ignored (False) if it is no longer typed."""
        if query != self._query:
            return False
        self.beginResetModel()
        self._found = tuple(entries)
        self._shown = self._compose()
        self.endResetModel()
        return True

    def matches(self) -> int:
        """Rows that match the query (the "Search all runbooks" row is not a match)."""
        return sum(1 for e in self._shown if not e.key.startswith(SEARCH_RUNBOOKS_KEY + ":"))

    def _compose(self) -> list[PaletteEntry]:
        ranked = rank(self._query, self._all)
        if not self._query.strip() or not self.full_search:
            return ranked
        # fixed hits first (actions are what a palette is for), then what the
        # search found in the order it ranked them, then the full search
        seen = {e.key for e in ranked}
        found = [e for e in self._found if e.key not in seen]
        return [*ranked, *found, search_all_entry(self._query)]

    def entry(self, row: int) -> PaletteEntry | None:
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.parent().isValid():
            return None
        entry = self.entry(index.row())
        if entry is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.title
        if role in (Qt.ItemDataRole.ToolTipRole, SUBTITLE_ROLE):
            return entry.subtitle or None
        if role == SHORTCUT_ROLE:
            return entry.shortcut or None
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return ", ".join(p for p in (entry.title, entry.subtitle, entry.shortcut) if p)
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[SUBTITLE_ROLE] = QByteArray(b"subtitle")
        names[SHORTCUT_ROLE] = QByteArray(b"shortcut")
        names[ENTRY_ROLE] = QByteArray(b"entry")
        return names


class _EntryDelegate(QStyledItemDelegate):
    """Title (and a dimmer subtitle) on the left, the shortcut right-aligned."""

    ROW_HEIGHT: Final = 34

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        text_option = QStyleOptionViewItem(option)
        self.initStyleOption(text_option, index)
        shortcut = index.data(SHORTCUT_ROLE)
        subtitle = index.data(SUBTITLE_ROLE)
        title = text_option.text
        text_option.text = ""
        widget: QWidget | None = option.widget  # None when painted without a view
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, text_option, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = option.palette
        rect: QRect = option.rect.adjusted(10, 0, -10, 0)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(palette.color(role))
        shortcut_width = 0
        if isinstance(shortcut, str):
            metrics = painter.fontMetrics()
            shortcut_width = metrics.horizontalAdvance(shortcut) + 16
            painter.drawText(
                rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), shortcut
            )
        text_rect = rect.adjusted(0, 0, -shortcut_width, 0)
        metrics = painter.fontMetrics()
        shown_title = metrics.elidedText(title, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(
            text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown_title
        )
        if isinstance(subtitle, str):
            used = metrics.horizontalAdvance(shown_title) + 12
            rest = text_rect.adjusted(used, 0, 0, 0)
            if rest.width() > 40:
                if not selected:
                    painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(
                    rest,
                    int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                    metrics.elidedText(subtitle, Qt.TextElideMode.ElideRight, rest.width()),
                )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(200, self.ROW_HEIGHT)


# -------------------------------------------------------------------- dialog


class CommandPalette(QDialog):
    """A frameless popup: a search line over the ranked list.

    :attr:`search_requested` is emitted (debounced) with each non-empty query;
    the owner searches off the GUI thread and answers with :meth:`show_found`.
    """

    search_requested = Signal(str)
    SEARCH_DELAY_MS: Final = 120

    _NAVIGATION: Final = {
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
    }

    def __init__(self, parent: QWidget | None, entries: Sequence[PaletteEntry]) -> None:
        super().__init__(parent, Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("commandPalette")
        self.setWindowTitle("Command palette")
        self.setModal(True)
        self.resize(560, 380)
        self._chosen: PaletteEntry | None = None

        frame = QFrame(self)
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)

        self.search = QLineEdit(frame)
        self.search.setPlaceholderText(
            "Type a command…  (↑↓ to choose, Enter to run, Esc to close)"
        )
        self.search.setClearButtonEnabled(True)
        font = QFont(self.search.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.search.setFont(font)
        layout.addWidget(self.search)

        self.model = PaletteModel(entries, self)
        self.view = QListView(frame)
        self.view.setModel(self.model)
        self.view.setItemDelegate(_EntryDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing always goes to the search line
        layout.addWidget(self.view)
        self.empty_label = QLabel("No matches", frame)
        self.empty_label.setObjectName("paletteNoMatches")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty_label.hide()
        layout.addWidget(self.empty_label)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(self.SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._request_search)
        self._searching = False
        #: set by :meth:`connect_search`: someone answers :attr:`search_requested`
        self.searches = False

        self.search.textChanged.connect(self._on_text_changed)
        self.search.returnPressed.connect(self._on_return)
        self.search.installEventFilter(self)
        self.view.activated.connect(self._on_activated)
        self.view.clicked.connect(self._on_activated)
        self._select_row(0)
        self.search.setFocus()

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        entries: Sequence[PaletteEntry],
        connect: Callable[[CommandPalette], None] | None = None,
    ) -> PaletteEntry | None:
        """Show the palette modally; the chosen entry, or None when dismissed.
        ``connect`` wires :attr:`search_requested` before it is shown."""
        dialog = cls(parent, entries)
        if connect is not None:
            connect(dialog)
            dialog.searches = dialog.model.full_search = True
        try:
            dialog.exec()
            return dialog.chosen()
        finally:
            dialog.deleteLater()

    def chosen(self) -> PaletteEntry | None:
        return self._chosen if self.result() == QDialog.DialogCode.Accepted else None

    def current_entry(self) -> PaletteEntry | None:
        index = self.view.currentIndex()
        return self.model.entry(index.row()) if index.isValid() else None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        parent = self.parentWidget()
        if parent is not None:
            anchor = parent.window().geometry()
            self.move(anchor.center().x() - self.width() // 2, anchor.top() + anchor.height() // 6)
        self.search.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in self._NAVIGATION
        ):
            self._move(event.key())
            return True
        return super().eventFilter(watched, event)

    def _move(self, key: int) -> None:
        rows = self.model.rowCount()
        if rows == 0:
            return
        row = max(self.view.currentIndex().row(), 0)
        page = max(self.view.viewport().height() // _EntryDelegate.ROW_HEIGHT, 1)
        step = {
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_PageUp: -page,
            Qt.Key.Key_PageDown: page,
        }[Qt.Key(key)]
        # single steps wrap around, as editors' palettes do; pages stop at the ends
        row = (row + step) % rows if step in (-1, 1) else min(max(row + step, 0), rows - 1)
        self._select_row(row)

    def _select_row(self, row: int) -> None:
        if self.model.rowCount() == 0:
            return
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)

    def show_found(self, query: str, entries: Sequence[PaletteEntry]) -> None:
        """What searching for ``query`` found (dropped if the query changed since)."""
        current = self.current_entry()
        if not self.model.set_found(query, entries):
            return
        self._searching = False
        row = 0
        if current is not None and not current.key.startswith(SEARCH_RUNBOOKS_KEY + ":"):
            keys = [self.model.entry(r) for r in range(self.model.rowCount())]
            row = next((r for r, e in enumerate(keys) if e == current), 0)
        self._select_row(row)
        self._update_empty()

    def _update_empty(self) -> None:
        typed = bool(self.search.text().strip())
        self.empty_label.setText("Searching…" if self._searching else "No matches")
        self.empty_label.setVisible(typed and self.model.matches() == 0)

    @Slot()
    def _request_search(self) -> None:
        query = self.search.text()
        if query.strip() and self.searches:
            self.search_requested.emit(query)

    @Slot(str)
    def _on_text_changed(self, text: str) -> None:
        self.model.set_query(text)
        self._select_row(0)
        self._searching = bool(text.strip()) and self.searches
        self._update_empty()
        if text.strip():
            self._search_timer.start()
        else:
            self._search_timer.stop()

    @Slot()
    def _on_return(self) -> None:
        entry = self.current_entry()
        if entry is not None:
            self._chosen = entry
            self.accept()

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        entry = self.model.entry(index.row())
        if entry is not None:
            self._chosen = entry
            self.accept()
