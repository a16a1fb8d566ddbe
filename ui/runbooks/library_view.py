"""The runbook library: search-as-you-type with filters, results on a list model.

Each query runs on the read lane ~60 ms after the last key press. Replies carry
the sequence number of their query; one older than the results on screen is
dropped, so a slow early query never overwrites a newer one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import (
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
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from console.library import RunbookLibrary
from console.search.runbooks import SearchHit, SearchResult
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.models.roles import ItemRole
from ui.runbooks.models import (
    RunbookResultsModel,
    clean_snippet,
    detail_text,
    snippet_segments,
)
from ui.theme import alert_color, is_dark

log = logging.getLogger(__name__)

DEBOUNCE_MS = 60
#: enough for every runbook of a large corpus when the query is empty
RESULT_LIMIT = 500


@dataclass(frozen=True)
class Query:
    text: str
    service: str | None
    owner: str | None
    stale: bool | None


class RunbookDelegate(QStyledItemDelegate):
    """Three lines: title (+ overdue badge), the snippet with matches in bold, details."""

    HEIGHT = 66

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(240, self.HEIGHT)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        hit = index.data(ItemRole.VIEW)
        if not isinstance(hit, SearchHit):
            super().paint(painter, option, index)
            return
        model = index.model()
        today = getattr(model, "today", date.today())
        painter.save()
        QApplication.style().drawPrimitive(
            QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
        )
        rect: QRect = option.rect.adjusted(8, 5, -8, -5)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        text_color = palette.highlightedText().color() if selected else palette.text().color()
        muted = QColor(text_color)
        muted.setAlpha(175)

        # line 1: title, overdue badge at the right
        badge_w = 0
        if hit.overdue:
            badge_font = QFont(option.font)
            badge_font.setBold(True)
            badge_font.setPointSizeF(badge_font.pointSizeF() * 0.8)
            painter.setFont(badge_font)
            badge_w = painter.fontMetrics().horizontalAdvance("OVERDUE") + 12
            badge = QRect(rect.right() - badge_w + 1, rect.top() + 1, badge_w, 17)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(alert_color(is_dark()))
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("#000000" if is_dark() else "#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "OVERDUE")
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(text_color)
        title_rect = QRect(rect.left(), rect.top(), rect.width() - badge_w - 6, 19)
        title = painter.fontMetrics().elidedText(
            hit.title, Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )

        # line 2: snippet, matches in bold, elided at the right edge
        plain = QFont(option.font)
        plain.setPointSizeF(plain.pointSizeF() * 0.92)
        bold = QFont(plain)
        bold.setBold(True)
        x, right, top = rect.left(), rect.right(), rect.top() + 20
        ellipsis_w = QFontMetrics(plain).horizontalAdvance("…")
        for text, marked in snippet_segments(clean_snippet(hit.snippet)):
            font = bold if marked else plain
            metrics = QFontMetrics(font)
            width = metrics.horizontalAdvance(text)
            painter.setFont(font)
            painter.setPen(text_color if marked else muted)
            if x + width > right:
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, right - x)
                painter.drawText(
                    QRect(x, top, right - x, 18),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    text,
                )
                break
            painter.drawText(
                QRect(x, top, width + 1, 18),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
            x += width
            if x >= right - ellipsis_w:
                break

        # line 3: owner · services · reviewed N days ago
        small = QFont(option.font)
        small.setPointSizeF(small.pointSizeF() * 0.85)
        painter.setFont(small)
        painter.setPen(alert_color(is_dark()) if hit.overdue and not selected else muted)
        detail = painter.fontMetrics().elidedText(
            detail_text(hit, today), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(
            QRect(rect.left(), rect.top() + 39, rect.width(), 17),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            detail,
        )
        painter.restore()


class RunbookLibraryView(QWidget):
    #: int runbook id — Enter or double-click on a result
    open_requested = Signal(int)
    #: the results on screen changed (tests, the window's status)
    results_shown = Signal()

    def __init__(
        self,
        context: UiContext,
        library: RunbookLibrary,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._library = library
        self._issued = 0  # sequence number of the newest query sent
        self._shown = 0  # sequence number of the results on screen
        self.last_query: Query | None = None
        #: the query the results on screen answer when a slip was forgiven
        self.corrected: str | None = None

        self.search_line = QLineEdit(self)
        self.search_line.setObjectName("runbookSearch")
        self.search_line.setPlaceholderText("Search runbooks: symptom, alert, service…")
        self.search_line.setClearButtonEnabled(True)
        self.search_line.setAccessibleName("Search runbooks")
        self.search_line.textChanged.connect(self._schedule)
        self.search_line.installEventFilter(self)

        self.service_combo = QComboBox(self)
        self.service_combo.setAccessibleName("Service filter")
        self.service_combo.setToolTip("Only runbooks for this service")
        self.owner_combo = QComboBox(self)
        self.owner_combo.setAccessibleName("Owner filter")
        self.owner_combo.setToolTip("Only runbooks owned by this team")
        for combo, everything in (
            (self.service_combo, "All services"),
            (self.owner_combo, "All owners"),
        ):
            combo.addItem(everything, None)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            combo.currentIndexChanged.connect(self._schedule)
        self.overdue_check = QCheckBox("Overdue only", self)
        self.overdue_check.setToolTip("Only runbooks past their review date")
        self.overdue_check.toggled.connect(self._schedule)

        self.model = RunbookResultsModel(self)
        self.results = QListView(self)
        self.results.setObjectName("runbookResults")
        self.results.setModel(self.model)
        self.results.setItemDelegate(RunbookDelegate(self.results))
        self.results.setUniformItemSizes(True)
        self.results.setAccessibleName("Runbooks found")
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results.doubleClicked.connect(self._on_double_clicked)
        self.results.installEventFilter(self)

        self.count_label = QLabel(self)
        self.count_label.setObjectName("mutedLabel")
        font = self.count_label.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.count_label.setFont(font)

        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.service_combo, 1)
        filters.addWidget(self.owner_combo, 1)
        filters.addWidget(self.overdue_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        title = QLabel("Runbooks", self)
        title.setObjectName("paneTitle")
        layout.addWidget(title)
        layout.addWidget(self.search_line)
        layout.addLayout(filters)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.count_label)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_query)

    # ------------------------------------------------------------------ public

    def focus_search(self) -> None:
        self.search_line.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_line.selectAll()

    def refresh(self) -> None:
        """Re-read the filter choices and the results (after an import)."""
        self.load_facets()
        self.run_query()

    def load_facets(self) -> None:
        library = self._library
        self._context.runner.read(library.facets, self._on_facets, self._on_failed)

    def current_hit(self) -> SearchHit | None:
        index = self.results.currentIndex()
        return self.model.hit(index.row()) if index.isValid() else None

    def query(self) -> Query:
        stale = True if self.overdue_check.isChecked() else None
        return Query(
            self.search_line.text(),
            self.service_combo.currentData(),
            self.owner_combo.currentData(),
            stale,
        )

    @Slot()
    def run_query(self) -> None:
        """Send the current query to the read lane now (the debounce timer calls this)."""
        self._timer.stop()
        query = self.query()
        self._issued += 1
        seq = self._issued
        library = self._library

        def work() -> tuple[SearchResult, date]:
            found = library.find(
                query.text,
                limit=RESULT_LIMIT,
                service=query.service,
                owner=query.owner,
                stale=query.stale,
            )
            return found, library.today()

        self._context.runner.read(
            work,
            lambda result: self._on_results(seq, query, result),
            self._on_failed,
        )

    # ------------------------------------------------------------------ slots

    @Slot()
    def _schedule(self) -> None:
        self._timer.start()

    def _on_results(self, seq: int, query: Query, result: tuple[SearchResult, date]) -> None:
        if seq <= self._shown:
            log.debug("dropped runbook results of query %d (showing %d)", seq, self._shown)
            return
        self._shown = seq
        self.last_query = query
        found, today = result
        hits = found.hits
        self.corrected = found.corrected
        self.model.set_hits(hits, today)
        if hits:
            self.results.setCurrentIndex(self.model.index(0, 0))
        filtered = query.service or query.owner or query.stale
        if hits:
            noun = "match" if len(hits) == 1 else "matches"
            if not query.text.strip():
                noun = "runbook" if len(hits) == 1 else "runbooks"
            self.count_label.setText(
                f"{len(hits)} {noun}"
                + (" (filtered)" if filtered else "")
                # a slip forgiven: say which query these results answer
                + (f" · showing results for “{found.corrected}”" if found.corrected else "")
            )
        elif query.text.strip():
            self.count_label.setText(
                f"No runbook matches “{query.text.strip()}”"
                + (": try without the filters" if filtered else "")
            )
        else:
            self.count_label.setText(
                "No runbooks match the filters"
                if filtered
                else "No runbooks yet: File → Import runbooks… (Ctrl+I)"
            )
        self.results_shown.emit()

    def _on_facets(self, facets: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        services, owners = facets
        for combo, names in ((self.service_combo, services), (self.owner_combo, owners)):
            current = combo.currentData()
            combo.blockSignals(True)
            try:
                while combo.count() > 1:
                    combo.removeItem(1)
                for name in names:
                    combo.addItem(name, name)
                at = combo.findData(current) if current is not None else 0
                combo.setCurrentIndex(max(at, 0))
            finally:
                combo.blockSignals(False)

    def _on_failed(self, error: BaseException) -> None:
        report_failure(self._context.events, error, "Searching the runbooks")

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        self._open(index)

    def _open(self, index: QModelIndex | QPersistentModelIndex) -> None:
        runbook_id = index.data(ItemRole.ID) if index.isValid() else None
        if isinstance(runbook_id, int):
            self.open_requested.emit(runbook_id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key = event.key()
        if watched is self.search_line:
            if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) and self.model.rowCount():
                self.results.setFocus(Qt.FocusReason.OtherFocusReason)
                if not self.results.currentIndex().isValid():
                    self.results.setCurrentIndex(self.model.index(0, 0))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._timer.isActive():
                    self.run_query()  # inline runner: results now; pool: opens the old top hit
                index = self.results.currentIndex()
                self._open(index if index.isValid() else self.model.index(0, 0))
                return True
            if key == Qt.Key.Key_Escape and self.search_line.text():
                self.search_line.clear()
                return True
        elif watched is self.results:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._open(self.results.currentIndex())
                return True
            if key == Qt.Key.Key_Up and self.results.currentIndex().row() <= 0:
                self.search_line.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
        return super().eventFilter(watched, event)
