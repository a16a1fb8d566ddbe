"""The Readiness tab: the audit's scores per area with their trend, the findings by area
and severity (each naming its objects, which open where a view exists), the fix, and
Markdown / HTML export.

Every read and write runs on the TaskRunner: the first look (when the tab is first
shown) audits on the reader lane without storing; "Run audit" audits on the writer
lane and stores the scores for the next audit's trend.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSettings,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.audit import Auditor, audit_for
from console.audit.export import export, grouped, summary_line
from console.domain.audit import Area, AreaScore, AuditObject, AuditReport, Finding, ObjectKind
from console.domain.freshness import describe_age
from ui.context import UiContext
from ui.incident_view import report_failure

#: what a click on an object can open (the window has a view for these)
OPENABLE = frozenset(
    {
        ObjectKind.SERVICE,
        ObjectKind.RUNBOOK,
        ObjectKind.PERSON,
        ObjectKind.INCIDENT,
    }
)
SEVERITY_COLOURS = {"high": "#c62828", "medium": "#b26a00", "low": "#3b6ea5"}
_FINDING = Qt.ItemDataRole.UserRole
_OBJECT = Qt.ItemDataRole.UserRole + 1


def trend_text(score: AreaScore, history: list[float | None]) -> str:
    """``▲ +4.0 since the last audit · 52 → 56 → 60``, or ``first audit``."""
    change = score.change
    if change is None:
        head = "first audit" if score.previous is None else "not checked now"
    elif change > 0:
        head = f"▲ {change:+.1f} since the last audit"
    elif change < 0:
        head = f"▼ {change:+.1f} since the last audit"
    else:
        head = "= unchanged since the last audit"
    points = [f"{value:.0f}" for value in history if value is not None]
    if score.score is not None:
        points.append(f"{score.score:.0f}")
    return head + (f" · {' → '.join(points[-6:])}" if len(points) > 1 else "")


class ScoreCard(QFrame):
    def __init__(self, area: Area, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.area = area
        self.setObjectName(f"score_{area.value}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setToolTip(f"{area.value.capitalize()}: {area.definition}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.name = QLabel(area.value.capitalize(), self)
        self.score = QLabel("…", self)
        self.score.setStyleSheet("font-size: 22pt; font-weight: 600;")
        self.detail = QLabel("", self)
        self.trend = QLabel("", self)
        self.trend.setWordWrap(True)
        for label in (self.name, self.score, self.detail, self.trend):
            label.setTextFormat(Qt.TextFormat.PlainText)
            layout.addWidget(label)

    def show_score(self, score: AreaScore, history: list[float | None]) -> None:
        self.score.setText("—" if score.score is None else f"{score.score:.0f}")
        self.detail.setText(
            "nothing to check"
            if score.checked == 0
            else f"{score.checked - score.flagged} of {score.checked} ok"
        )
        self.trend.setText(trend_text(score, history))


class ReadinessView(QWidget):
    """The Readiness tab. ``open_requested`` carries the :class:`AuditObject` clicked."""

    open_requested = Signal(object)
    report_shown = Signal()

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readinessView")
        self._context = context
        self.auditor: Auditor = audit_for(context.workspace)
        self.report: AuditReport | None = None
        self._started = False
        self._running = False
        self._rows: dict[str, QTreeWidgetItem] = {}

        self.run_button = QPushButton("Run audit", self)
        self.run_button.setObjectName("runAudit")
        self.run_button.setToolTip("Audit now and keep the scores for the trend (Ctrl+Alt+A)")
        self.markdown_button = QPushButton("Export Markdown…", self)
        self.html_button = QPushButton("Export HTML…", self)
        self.status = QLabel("Not audited yet", self)
        self.status.setObjectName("auditStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.addWidget(self.run_button)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.markdown_button)
        bar.addWidget(self.html_button)

        self.cards = {area: ScoreCard(area, self) for area in Area}
        cards = QGridLayout()
        for column, card in enumerate(self.cards.values()):
            cards.addWidget(card, 0, column)

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("auditFindings")
        self.tree.setHeaderLabels(["Finding", "Fix"])
        self.tree.setColumnWidth(0, 520)
        # the fix is a sentence or two: it wraps in its column rather than run off the edge
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.header().setStretchLastSection(True)
        self.tree.setItemDelegateForColumn(1, _WrappingDelegate(self.tree))
        self.tree.header().sectionResized.connect(lambda *_: self.tree.scheduleDelayedItemsLayout())
        self.detail = QLabel("Select a finding to see its objects and the fix.", self)
        self.detail.setObjectName("findingDetail")
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.detail.setMargin(8)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.tree)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addLayout(cards)
        layout.addWidget(split, 1)

        self.run_button.clicked.connect(self.run_audit)
        self.markdown_button.clicked.connect(lambda: self.choose_and_export("markdown"))
        self.html_button.clicked.connect(lambda: self.choose_and_export("html"))
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemActivated.connect(self._on_activated)
        self.detail.linkActivated.connect(self._on_link)
        self._set_exportable(False)

    # ------------------------------------------------------------ audit runs

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self.start()

    def start(self) -> None:
        """The first look: audit on the reader lane, nothing stored."""
        if self._started:
            return
        self._started = True
        auditor = self.auditor
        self._begin("Auditing…")
        self._context.runner.read(lambda: auditor.run(save=False), self.show_report, self._failed)

    @Slot()
    def run_audit(self) -> None:
        """Audit now and store the scores (writer lane): the next audit's trend."""
        if self._running:
            return
        self._started = True
        auditor = self.auditor
        self._begin("Auditing…")
        self._context.runner.write(lambda: auditor.run(save=True), self.show_report, self._failed)

    def _begin(self, text: str) -> None:
        self._running = True
        self.run_button.setEnabled(False)
        self.status.setText(text)

    def _failed(self, error: BaseException) -> None:
        self._running = False
        self.run_button.setEnabled(True)
        self.status.setText("The audit failed")
        report_failure(self._context.events, error, "The readiness audit")

    @Slot(object)
    def show_report(self, report: AuditReport) -> None:
        self._running = False
        self.run_button.setEnabled(True)
        self.report = report
        now = self._context.clock()
        stored = "" if not report.history else (
            f"; previous audit {describe_age(report.history[0].ran_at, now)}"
        )  # fmt: skip
        self.status.setText(f"{summary_line(report)} (audited {report.ran_at:%H:%M} UTC{stored})")
        for score in report.scores:
            past = [run.scores.get(score.area.value) for run in reversed(report.history)]
            self.cards[score.area].show_score(score, past)
        self._fill_tree(report)
        self._set_exportable(True)
        self.report_shown.emit()

    def _fill_tree(self, report: AuditReport) -> None:
        self.tree.setUpdatesEnabled(False)
        try:
            self.tree.clear()
            self._rows.clear()
            for area, groups in grouped(report):
                total = sum(len(items) for _sev, items in groups)
                area_item = QTreeWidgetItem(
                    self.tree, [f"{area.value.capitalize()} — {_count(total, 'finding')}"]
                )
                area_item.setToolTip(0, area.definition)
                for severity, items in groups:
                    group = QTreeWidgetItem(area_item, [f"{severity.capitalize()} ({len(items)})"])
                    group.setForeground(0, _brush(severity))
                    for item in items:
                        self._finding_item(group, item)
                    group.setExpanded(True)
                area_item.setExpanded(True)
        finally:
            self.tree.setUpdatesEnabled(True)

    def _finding_item(self, parent: QTreeWidgetItem, item: Finding) -> None:
        fix = plain_fix(item.fix)
        row = QTreeWidgetItem(parent, [item.title, fix])
        row.setData(0, _FINDING, item)
        self._rows[item.id] = row
        row.setToolTip(0, item.title)
        row.setToolTip(1, fix)
        for obj in item.objects:
            child = QTreeWidgetItem(row, [f"{obj.kind.value.replace('_', ' ')}: {obj.label}"])
            child.setData(0, _OBJECT, obj)
            child.setData(0, _FINDING, item)
            if obj.kind in OPENABLE:
                child.setToolTip(0, "Enter or double-click to open")
                font = child.font(0)
                font.setUnderline(True)
                child.setFont(0, font)

    # ------------------------------------------------------------ selection

    def findings_shown(self) -> list[Finding]:
        """The findings in the tree, in the order shown."""
        return [row.data(0, _FINDING) for row in self._rows.values()]

    def item_of(self, finding_id: str) -> QTreeWidgetItem | None:
        return self._rows.get(finding_id)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        found = None if current is None else current.data(0, _FINDING)
        self.detail.setText(
            finding_html(found)
            if isinstance(found, Finding)
            else "Select a finding to see its objects and the fix."
        )

    @Slot(QTreeWidgetItem, int)
    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        obj = item.data(0, _OBJECT)
        if isinstance(obj, AuditObject) and obj.kind in OPENABLE:
            self.open_requested.emit(obj)

    @Slot(str)
    def _on_link(self, link: str) -> None:
        kind, _, key = link.partition(":")
        current = self.tree.currentItem()
        found = None if current is None else current.data(0, _FINDING)
        if isinstance(found, Finding):
            for obj in found.objects:
                if obj.kind.value == kind and obj.key == key:
                    self.open_requested.emit(obj)
                    return

    # ------------------------------------------------------------ export

    def _set_exportable(self, enabled: bool) -> None:
        self.markdown_button.setEnabled(enabled)
        self.html_button.setEnabled(enabled)

    def choose_and_export(self, fmt: str) -> None:
        if self.report is None:
            self._context.events.error_shown.emit("Readiness: run the audit first")
            return
        from PySide6.QtWidgets import QFileDialog  # loads its enum types on first use

        settings = QSettings()
        folder = Path(str(settings.value("export/folder", str(Path.home()))))
        suffix, label = (
            ("md", "Markdown (*.md)") if fmt == "markdown" else ("html", "HTML (*.html)")
        )
        name = f"readiness-{self.report.ran_at:%Y-%m-%d}.{suffix}"
        chosen, _ = QFileDialog.getSaveFileName(self, "Export the audit", str(folder / name), label)
        if chosen:
            settings.setValue("export/folder", str(Path(chosen).parent))
            self.export_to(Path(chosen), fmt)

    def export_to(
        self, target: Path, fmt: str, on_done: Callable[[Path], None] | None = None
    ) -> None:
        """Render and write on the reader lane; the status line says where it went."""
        report = self.report
        if report is None:
            return

        def write() -> Path:
            from console.files import write_file  # whole or not at all, clear refusals

            return write_file(target, export(report, fmt), what="the audit report")

        def done(path: Path) -> None:
            self.status.setText(f"Exported the audit to {path}")
            if on_done is not None:
                on_done(path)

        self._context.runner.read(
            write,
            done,
            lambda error: report_failure(self._context.events, error, "Exporting the audit"),
        )


def finding_html(item: Finding) -> str:
    e = html.escape
    colour = SEVERITY_COLOURS[item.severity.value]
    named = []
    for obj in item.objects:
        text = f"{e(obj.kind.value.replace('_', ' '))} {e(obj.label)}"
        if obj.kind in OPENABLE:
            text = f'<a href="{e(obj.kind.value)}:{e(obj.key)}">{text}</a>'
        named.append(text)
    return (
        f'<b style="color:{colour}">{e(item.severity.value.upper())}</b> · '
        f"{e(item.area.value)}<br><b>{e(item.title)}</b><br>"
        f"Objects: {', '.join(named)}<br>Fix: {e(item.fix)}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _brush(severity: str) -> QBrush:
    return QBrush(QColor(SEVERITY_COLOURS[severity]))


def plain_fix(text: str) -> str:
    """The fix as read in a table cell: Markdown's code marks (`services:`) dropped."""
    from console.comms.templating import markdown_to_plain

    return markdown_to_plain(text)


class _WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their wrapped text at the column's current width (Qt's own hint
    measures before the last column stretched, so the second line was cut)."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self._tree = tree

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        width = self._tree.columnWidth(index.column()) - 10
        text = str(index.data() or "")
        if width <= 0 or not text:
            return hint
        flags = int(Qt.TextFlag.TextWordWrap)
        needed = option.fontMetrics.boundingRect(QRect(0, 0, width, 100_000), flags, text)
        return QSize(hint.width(), max(hint.height(), needed.height() + 6))
