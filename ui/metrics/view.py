"""The Metrics dialog: filter (dates, severity, service), the numbers, and the charts.

Everything is read on the reader lane (``read_metrics``: a few SQL statements in one
snapshot); the first read also imports pyqtgraph there, so opening the view never
stalls the GUI thread on that import. A newer read supersedes an older one.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.comms.actions import parse_day
from console.domain.errors import ConsoleError
from console.domain.incident import Severity
from console.metrics import (
    MEASURES,
    MetricsFilter,
    MetricsReport,
    format_span,
    read_metrics,
)
from console.metrics.report import LABELS, incidents_text, scope_text
from ui.context import UiContext
from ui.incident_view import report_failure

if TYPE_CHECKING:
    from ui.metrics.charts import MetricsCharts

COLUMNS = ("Measure", "n", "Not counted", "Mean", "Median", "p90")
ALL_SEVERITIES = "All severities"


class MetricsDialog(QDialog):
    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsDialog")
        self.setWindowTitle("Metrics")
        self.resize(1180, 820)
        self._context = context
        self._sequence = 0
        self.report: MetricsReport | None = None
        self.charts: MetricsCharts | None = None

        self.since_edit = QLineEdit(self)
        self.since_edit.setPlaceholderText("since YYYY-MM-DD")
        self.until_edit = QLineEdit(self)
        self.until_edit.setPlaceholderText("until YYYY-MM-DD")
        self.severity_combo = QComboBox(self)
        self.severity_combo.addItems([ALL_SEVERITIES, *(s.value for s in Severity)])
        self.service_edit = QLineEdit(self)
        self.service_edit.setPlaceholderText("any service")
        self.show_button = QPushButton("&Show", self)
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.refresh)
        for edit in (self.since_edit, self.until_edit, self.service_edit):
            edit.returnPressed.connect(self.refresh)
        self.severity_combo.currentIndexChanged.connect(self.refresh)

        self.summary_label = QLabel("Reading…", self)
        self.summary_label.setObjectName("metricsSummary")
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setWordWrap(True)
        self.notes_label = QLabel(self)
        self.notes_label.setObjectName("metricsNotes")
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_label.setWordWrap(True)
        self.table = QTableWidget(len(MEASURES), len(COLUMNS), self)
        self.table.setObjectName("metricsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        rows = len(MEASURES) * self.table.verticalHeader().defaultSectionSize()
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() + rows + 4)
        for row, measure in enumerate(MEASURES):
            self.table.setItem(row, 0, QTableWidgetItem(LABELS[measure]))
        self.charts_box = QVBoxLayout()
        self.charts_placeholder = QLabel("Drawing the charts…", self)
        self.charts_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.charts_box.addWidget(self.charts_placeholder, 1)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Incidents declared", self))
        for widget in (self.since_edit, self.until_edit, self.severity_combo, self.service_edit):
            filters.addWidget(widget)
        filters.addWidget(self.show_button)
        filters.addStretch(1)
        close = QPushButton("Close", self)
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table)
        layout.addWidget(self.notes_label)
        layout.addLayout(self.charts_box, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)

    def chosen(self) -> MetricsFilter:
        severity = self.severity_combo.currentText()
        return MetricsFilter(
            since=parse_day(self.since_edit.text(), "since"),
            until=parse_day(self.until_edit.text(), "until"),
            severity=None if severity == ALL_SEVERITIES else Severity(severity),
            service=self.service_edit.text().strip() or None,
        )

    @Slot()
    def refresh(self) -> None:
        try:
            chosen = self.chosen()
        except ConsoleError as error:
            self.summary_label.setText(str(error))
            return
        self._sequence += 1
        sequence = self._sequence
        db, clock = self._context.workspace.db, self._context.clock
        self.summary_label.setText("Reading…")

        def load() -> MetricsReport:
            import_module("pyqtgraph")  # the one slow import, paid here, off the GUI thread
            return read_metrics(db, chosen, now=clock())

        self._context.runner.read(
            load,
            lambda report: self._loaded(sequence, report),
            lambda error: self._failed(sequence, error),
        )

    def _failed(self, sequence: int, error: BaseException) -> None:
        if sequence == self._sequence:
            self.summary_label.setText("Could not read the metrics.")
            report_failure(self._context.events, error, "Reading metrics")

    def _loaded(self, sequence: int, report: MetricsReport) -> None:
        if sequence != self._sequence:
            return  # a newer filter is being read
        self.report = report
        actions, loose = report.actions, report.actions_not_linked
        self.summary_label.setText(
            f"{scope_text(report).capitalize()}: {incidents_text(len(report.incidents))}, "
            f"{report.open_count} open. Action items: {actions.open} open, "
            f"{actions.overdue} overdue, {actions.done} done "
            f"(not linked to an incident: {loose.open} open, {loose.overdue} overdue)."
        )
        for row, measure in enumerate(MEASURES):
            s = report.times[measure]
            cells = (str(s.count), str(s.missing), format_span(s.mean),
                     format_span(s.median), format_span(s.p90))  # fmt: skip
            for column, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.notes_label.setText(" ".join(report.notes))
        if self.charts is None:
            from ui.metrics.charts import MetricsCharts  # pyqtgraph is loaded by now

            self.charts = MetricsCharts(self)
            self.charts_box.replaceWidget(self.charts_placeholder, self.charts)
            self.charts_placeholder.deleteLater()
        self.charts.show_report(report)
