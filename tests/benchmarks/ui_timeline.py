"""The UI half of ``timeline_open_100k``: TimelineModel + QTableView, offscreen.

Imported only when ``ui/models/timeline.py`` exists, so the core benchmarks
never load Qt.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from console.domain.views import TimelineEntry
from console.ops.queries import Queries
from console.ops.workspace import Workspace
from tests.benchmarks.bench_timeline import PAGE_ROWS, OpenMeasurement
from tests.benchmarks.fixtures import log, now_ms

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication, QTableView

WAIT_LIMIT_S = 30.0
IDLE_REPAINT_S = 0.05
VIEW_SIZE = (1280, 800)

ModelFactory = Callable[[Queries], QAbstractItemModel]


class CountingQueries(Queries):
    """Queries that count the timeline rows the model asks for (the memory-bound proof)."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace.db)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.page_calls = 0
            self.gui_page_calls = 0
            self.rows_fetched = 0
            self.max_page_rows = 0
            self.page_ms: list[float] = []

    def timeline_page(self, incident_id: int, first_seq: int, last_seq: int) -> list[TimelineEntry]:
        start = now_ms()
        rows = super().timeline_page(incident_id, first_seq, last_seq)
        elapsed = now_ms() - start
        with self._lock:
            self.page_calls += 1
            if threading.current_thread() is threading.main_thread():
                self.gui_page_calls += 1
            self.rows_fetched += len(rows)
            self.max_page_rows = max(self.max_page_rows, len(rows))
            self.page_ms.append(elapsed)
        return rows


def default_model_factory() -> ModelFactory:
    from ui.models.timeline import TimelineModel

    return TimelineModel


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    return QApplication([])


#: Text only real entries carry (bulk notes, declarations), never a "loading" placeholder.
REAL_TEXT_MARKERS = ("checked payments-gateway", "Declared ")


def _row_shown(model: QAbstractItemModel, view: QTableView, point: QPoint) -> bool:
    """The row at ``point`` of the viewport exists and shows a real entry's text."""
    index = view.indexAt(point)
    if not index.isValid():
        return False
    for column in range(model.columnCount(QModelIndex())):
        value = model.data(model.index(index.row(), column), Qt.ItemDataRole.DisplayRole)
        if isinstance(value, str) and any(marker in value for marker in REAL_TEXT_MARKERS):
            return True
    return False


class PaintClockView(QTableView):
    """A QTableView that notes when each paint of its viewport ends, and what was fetched.

    A paint shows fetched rows when a page query had completed before it began
    (an asynchronous model) or ran inside it, on the GUI thread (a synchronous
    model fetching from ``data()``).
    """

    def __init__(self, queries: CountingQueries) -> None:
        super().__init__()
        self._queries = queries
        #: end time (ms) of the last paint that could show fetched rows, else None
        self.fetched_paint_end: float | None = None
        self.paints = 0

    def forget(self) -> None:
        self.fetched_paint_end = None

    def paintEvent(self, event: QPaintEvent) -> None:
        before, before_gui = self._queries.page_calls, self._queries.gui_page_calls
        super().paintEvent(event)
        self.paints += 1
        if before > 0 or self._queries.gui_page_calls > before_gui:
            self.fetched_paint_end = now_ms()


def _wait_rendered(
    app: QApplication,
    view: PaintClockView,
    model: QAbstractItemModel,
    point: QPoint,
) -> float:
    """Run the event loop until a paint shows the row at ``point`` with fetched data.

    Returns when that paint ended (ms, :func:`now_ms`). Painting is left to Qt
    (the view schedules its own update after a model reset or scroll); only
    when nothing paints for a while is a repaint forced.
    """
    deadline = time.monotonic() + WAIT_LIMIT_S
    idle_since = time.monotonic()
    paints = view.paints
    while True:
        app.processEvents()
        ended = view.fetched_paint_end
        if ended is not None and _row_shown(model, view, point):
            return ended
        now = time.monotonic()
        if view.paints != paints:
            paints, idle_since = view.paints, now
        elif now - idle_since > IDLE_REPAINT_S:
            view.viewport().repaint()
        if now > deadline:
            raise TimeoutError(f"the timeline did not show a row within {WAIT_LIMIT_S:.0f} s")
        time.sleep(0.0002)


def _cache_evidence(model: QAbstractItemModel) -> dict[str, Any]:
    """What the model says about its cache: ``cached_pages``/``page_loads`` and its bound."""
    found: dict[str, Any] = {}
    for name in ("cached_pages", "page_loads", "cached_rows", "cache_size"):
        attribute = getattr(model, name, None)
        value = attribute() if callable(attribute) else attribute
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[name] = value
    module = sys.modules.get(type(model).__module__)
    page_size = getattr(module, "PAGE_SIZE", None)
    max_pages = getattr(module, "MAX_PAGES", None)
    if isinstance(page_size, int) and isinstance(max_pages, int):
        found["cache_bound_rows"] = page_size * max_pages
    return found


def measure_ui_open(
    workspace: Workspace,
    incident_id: int,
    other_id: int,
    repeats: int,
    model_factory: ModelFactory | None = None,
) -> OpenMeasurement:
    """Time ``set_incident(incident_id)`` to the first page painted in a QTableView.

    Each repeat switches to the small ``other_id`` incident first, so every
    measured open loads the large incident afresh; the first sample is the
    cold one (fresh model, fresh statement caches).
    """
    app = _application()
    queries = CountingQueries(workspace)
    model: Any = (model_factory or default_model_factory())(queries)
    view = PaintClockView(queries)
    view.setModel(model)
    view.resize(*VIEW_SIZE)
    view.show()
    top = QPoint(2, 2)

    def open_incident(which: int) -> float:
        queries.reset()
        view.forget()
        start = now_ms()
        model.set_incident(which)
        return _wait_rendered(app, view, model, top) - start

    samples: list[float] = []
    try:
        open_incident(other_id)  # the window is exposed and painted once
        for attempt in range(repeats):
            if attempt:
                open_incident(other_id)
            samples.append(open_incident(incident_id))
        last_open_page_ms = list(queries.page_ms)
        # Memory: open, then scroll to the very end, traced.
        open_incident(other_id)
        tracemalloc.start()
        try:
            open_incident(incident_id)
            view.forget()
            view.scrollToBottom()
            bottom = QPoint(2, view.viewport().height() - 3)
            _wait_rendered(app, view, model, bottom)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        last_row = view.indexAt(QPoint(2, view.viewport().height() - 3)).row()
        detail: dict[str, Any] = {
            "model_rows": model.rowCount(QModelIndex()),
            "last_visible_row": last_row,
            "page_calls_per_open": len(last_open_page_ms),
            "page_query_ms_last_open": [round(ms, 3) for ms in last_open_page_ms],
            "scroll_to_end": {
                "tracemalloc_peak_kib": round(peak / 1024, 1),
                "rows_fetched_total": queries.rows_fetched,
                "page_calls": queries.page_calls,
                "largest_page": queries.max_page_rows,
                **_cache_evidence(model),
            },
        }
        page_rows = queries.max_page_rows or PAGE_ROWS
        log.info("timeline_open_100k: ui opens %s ms", [round(s, 1) for s in samples])
    finally:
        view.hide()
        view.setModel(None)
        view.deleteLater()
        model.deleteLater()
        app.processEvents()
    return OpenMeasurement(samples, page_rows, detail)
