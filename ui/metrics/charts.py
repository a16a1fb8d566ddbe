"""The four charts of the Metrics view, drawn with pyqtgraph (QGraphicsView, no OpenGL).

pyqtgraph is imported by this module only; the view imports this module after the
reader lane has imported pyqtgraph (so the GUI thread never pays for it). Every chart
keeps what it plots in ``series`` (label → values) so tests and screenshots can read it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGridLayout, QWidget

from console.metrics import MEASURES, MetricsReport

#: one colour per series, readable on the light and the dark palette
COLOURS = {
    "detect": "#8e7cc3",
    "acknowledge": "#1f77b4",
    "mitigate": "#ff7f0e",
    "resolve": "#2ca02c",
    "open": "#1f77b4",
    "overdue": "#d62728",
    "SEV1": "#b71c1c",
    "SEV2": "#e65100",
    "SEV3": "#f9a825",
    "SEV4": "#558b2f",
    "service": "#3f7fbf",
}
MAX_SERVICES = 10


class Chart(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph ships no type hints
    def __init__(self, title: str, parent: QWidget) -> None:
        palette = parent.palette()
        super().__init__(parent, background=palette.color(QPalette.ColorRole.Base))
        self.setObjectName(title)
        self.setMinimumHeight(220)
        text = palette.color(QPalette.ColorRole.Text)
        self.setTitle(title, color=text, size="10pt")
        for side in ("left", "bottom"):
            axis = self.getAxis(side)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.series: dict[str, list[float]] = {}
        self.labels: list[str] = []
        #: what the chart says instead of plotting ("" while it plots something)
        self.empty_text = ""
        self._empty_item: Any = None
        #: the whole-number ticks of a count axis ([] while pyqtgraph chooses)
        self.value_ticks: list[float] = []

    def reset(self, labels: Sequence[str], *, axis: str = "bottom") -> None:
        """Clear, and label the category axis; along the bottom every k-th label (about
        eight fit), on the left all of them."""
        self.clear()
        self.series = {}
        self.labels = list(labels)
        step = max(1, math.ceil(len(self.labels) / 8)) if axis == "bottom" else 1
        major = [(i, label) for i, label in enumerate(self.labels) if i % step == 0]
        minor = [(i, "") for i in range(len(self.labels)) if i % step]
        self.getAxis(axis).setTicks([major, minor])
        self.getAxis("left" if axis == "bottom" else "bottom").setTicks(None)

    def legend(self, columns: int) -> Any:
        """The legend in one row at the top left (:meth:`frame` leaves room for it)."""
        plot = self.getPlotItem()
        if plot.legend is None:
            text = self.palette().color(QPalette.ColorRole.Text)
            plot.addLegend(offset=(8, 4), labelTextColor=text, colCount=columns)
        plot.legend.clear()
        return plot.legend

    def frame(
        self,
        *,
        horizontal: bool = False,
        headroom: float = 1.0,
        counts: bool = False,
        empty: str = "Nothing to show for this period",
    ) -> None:
        """Fit the categories (with room for the first label) and the values from 0, with
        ``headroom`` (1.3: 30 % more) above the highest for a legend. ``counts``: the value
        axis is ticked in whole numbers (no "0.5 incidents"). With nothing to plot, the
        chart says ``empty`` instead of showing bare axes."""
        values = [v for series in self.series.values() for v in series if not math.isnan(v)]
        self._show_empty(empty if not any(values) else "")
        top = max(values, default=0.0) or 1.0
        value_axis = self.getAxis("bottom" if horizontal else "left")
        self.value_ticks = [v for v, _ in _whole_ticks(top * headroom)] if counts else []
        if counts:
            value_axis.setTicks([_whole_ticks(top * headroom), []])
        count = max(len(self.labels), 1)
        spread = (-0.5, count - 0.5) if horizontal else (-0.8, count - 0.4)
        self.disableAutoRange()
        if horizontal:
            self.setXRange(0, top * headroom, padding=0.02)
            self.setYRange(*spread, padding=0)
        else:
            self.setXRange(*spread, padding=0)
            self.setYRange(0, top * headroom, padding=0.02)

    def _show_empty(self, text: str) -> None:
        self.empty_text = text
        box = self.getPlotItem().getViewBox()
        if self._empty_item is None:
            colour = self.palette().color(QPalette.ColorRole.PlaceholderText)
            self._empty_item = pg.TextItem("", color=colour, anchor=(0.5, 0.5))
            self._empty_item.setParentItem(box)  # in view pixels: stays put as ranges change
            box.sigResized.connect(self._centre_empty)
        self._empty_item.setText(text)
        self._empty_item.setVisible(bool(text))
        self._centre_empty()

    def _centre_empty(self, *_args: object) -> None:
        if self._empty_item is not None:
            self._empty_item.setPos(self.getPlotItem().getViewBox().boundingRect().center())

    def bars(self, name: str, values: Sequence[float], *, offset: float = 0.0, width: float = 0.6,
             horizontal: bool = False, colours: Sequence[str] = ()) -> None:  # fmt: skip
        """One bar per label; ``colours`` one per bar (default: the series' colour)."""
        self.series[name] = list(values)
        colour = COLOURS.get(name, COLOURS["service"])
        brushes = [pg.mkBrush(QColor(c)) for c in (colours or [colour] * len(values))]
        places = [i + offset for i in range(len(values))]
        if horizontal:
            item = pg.BarGraphItem(x0=0, y=places, height=width, width=values, brushes=brushes)
        else:
            item = pg.BarGraphItem(x=places, height=values, width=width, brushes=brushes)
        self.addItem(item)


class MetricsCharts(QWidget):
    """Median time to acknowledge / mitigate / resolve per month; incidents by severity;
    incidents by service (the ten most named); action items open and overdue per month."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trend = Chart("Median minutes from first sign, per month", self)
        self.severity = Chart("Incidents by severity", self)
        self.service = Chart("Incidents by service", self)
        self.action_items = Chart("Action items per incident month", self)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.trend, 0, 0)
        grid.addWidget(self.severity, 0, 1)
        grid.addWidget(self.action_items, 1, 0)
        grid.addWidget(self.service, 1, 1)

    def show_report(self, report: MetricsReport) -> None:
        months = [row.month for row in report.months]
        self.trend.reset(months)
        self.trend.legend(len(MEASURES))
        for measure in MEASURES:
            minutes = [_minutes(row.medians[measure]) for row in report.months]
            self.trend.series[measure] = minutes
            pen = pg.mkPen(QColor(COLOURS[measure]), width=2)
            self.trend.plot(list(range(len(minutes))), minutes, pen=pen, name=measure,
                            symbol="o", symbolSize=6, symbolBrush=QColor(COLOURS[measure]),
                            connect="finite")  # fmt: skip
        self.severity.reset(list(report.by_severity))
        self.severity.bars(
            "incidents",
            [float(n) for n in report.by_severity.values()],
            colours=[COLOURS[name] for name in report.by_severity],
        )
        top = list(report.by_service.items())[:MAX_SERVICES][::-1]  # most named on top
        self.service.reset([name for name, _ in top], axis="left")
        self.service.bars("incidents", [float(n) for _, n in top], horizontal=True)
        self.action_items.reset(months)
        legend = self.action_items.legend(2)
        self.action_items.bars("open", [float(r.actions.open) for r in report.months], offset=-0.2,
                          width=0.38)  # fmt: skip
        self.action_items.bars("overdue", [float(r.actions.overdue) for r in report.months],
                          offset=0.2, width=0.38)  # fmt: skip
        for name in ("open", "overdue"):
            legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=0, brush=COLOURS[name]), name)
        self.trend.frame(headroom=1.3, empty="No resolved incidents in this period")
        self.severity.frame(counts=True, empty="No incidents in this period")
        self.service.frame(
            horizontal=True, counts=True, empty="No incidents named a service in this period"
        )
        self.action_items.frame(headroom=1.3, counts=True, empty="No action items in this period")


def _whole_ticks(top: float) -> list[tuple[float, str]]:
    """0, k, 2k, … up to ``top``: about five whole-number ticks for a count axis."""
    step = max(1, math.ceil(top / 5))
    return [(float(v), str(v)) for v in range(0, math.floor(top) + 1, step)]


def _minutes(seconds: float | None) -> float:
    return math.nan if seconds is None else round(seconds / 60, 1)
