"""The postmortem editor: Markdown on the left, the safe preview on the right, the
incident's action items below; save, re-draft, export Markdown / HTML / PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QSettings, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.comms.actions import KINDS, PRIORITIES, ActionItem, export_csv
from console.comms.kit import CommsKit
from console.comms.postmortem import Postmortem, to_html
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.oncall.printout import save_pdf

COLUMNS = ("Action item", "Owner", "Due", "Priority", "Type", "Status")


class PostmortemDialog(QDialog):
    def __init__(self, context: UiContext, incident_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("postmortemDialog")
        self.setWindowTitle(f"Postmortem — incident {incident_id}")
        self.resize(1200, 780)
        self._context = context
        self._incident_id = incident_id
        self._kit = CommsKit.of(context.workspace)
        self._items: list[ActionItem] = []
        self._saved_text = ""

        self.editor = QPlainTextEdit(self)
        self.editor.setAccessibleName("Postmortem (Markdown)")
        self.editor.setPlaceholderText("Drafting from the timeline…")
        self.editor.textChanged.connect(self._edited)
        self.preview = QTextBrowser(self)
        self.preview.setOpenLinks(False)
        self.preview.setAccessibleName("Preview")
        self.state_label = QLabel(self)
        self.state_label.setObjectName("postmortemState")

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("actionItems")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 420)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.title_edit = QLineEdit(self)
        self.title_edit.setPlaceholderText("New action item")
        self.owner_edit = QLineEdit(self)
        self.owner_edit.setPlaceholderText("Owner")
        self.due_edit = QDateEdit(self)
        self.due_edit.setCalendarPopup(True)
        self.due_edit.setDisplayFormat("yyyy-MM-dd")
        today = context.clock().date()
        self.due_edit.setDate(QDate(today.year, today.month, today.day).addDays(14))
        self.priority_combo = QComboBox(self)
        self.priority_combo.addItems(PRIORITIES)
        self.priority_combo.setCurrentText("P2")
        self.kind_combo = QComboBox(self)
        self.kind_combo.addItems(KINDS)
        self.add_button = QPushButton("&Add", self)
        self.done_button = QPushButton("Mark &done", self)
        self.csv_button = QPushButton("Export C&SV…", self)
        self.add_button.clicked.connect(self.add_item)
        self.done_button.clicked.connect(self.mark_done)
        self.csv_button.clicked.connect(self.export_csv)
        self.title_edit.returnPressed.connect(self.add_item)

        self.save_button = QPushButton("&Save", self)
        self.save_button.setToolTip("Save the postmortem (Ctrl+S)")
        self.redraft_button = QPushButton("&Re-draft from timeline", self)
        self.md_button = QPushButton("Export &Markdown…", self)
        self.html_button = QPushButton("Export &HTML…", self)
        self.pdf_button = QPushButton("Export &PDF…", self)
        close = QPushButton("Close", self)
        self.save_button.clicked.connect(self.save)
        self.redraft_button.clicked.connect(self.redraft)
        self.md_button.clicked.connect(lambda: self.export("md"))
        self.html_button.clicked.connect(lambda: self.export("html"))
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        close.clicked.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.editor)
        split.addWidget(self.preview)
        add_row = QHBoxLayout()
        for widget, stretch in (
            (self.title_edit, 3), (self.owner_edit, 1), (self.due_edit, 0),
            (self.priority_combo, 0), (self.kind_combo, 0), (self.add_button, 0),
            (self.done_button, 0), (self.csv_button, 0),
        ):  # fmt: skip
            add_row.addWidget(widget, stretch)
        items_box = QWidget(self)
        items_layout = QVBoxLayout(items_box)
        items_layout.setContentsMargins(0, 0, 0, 0)
        items_layout.addWidget(QLabel("Action items", self))
        items_layout.addWidget(self.table, 1)
        items_layout.addLayout(add_row)
        vertical = QSplitter(Qt.Orientation.Vertical, self)
        vertical.addWidget(split)
        vertical.addWidget(items_box)
        vertical.setSizes([520, 220])
        buttons = QHBoxLayout()
        buttons.addWidget(self.state_label, 1)
        for button in (
            self.redraft_button, self.save_button, self.md_button, self.html_button,
            self.pdf_button, close,
        ):  # fmt: skip
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(vertical, 1)
        layout.addLayout(buttons)

        postmortems = self._kit.postmortems
        context.runner.write(
            lambda: postmortems.open(incident_id), self._loaded, self._failed("Opening")
        )
        self.reload_items()

    # ------------------------------------------------------------- postmortem

    def _loaded(self, postmortem: Postmortem) -> None:
        self._saved_text = postmortem.markdown
        self.editor.setPlainText(postmortem.markdown)
        self._show_state(postmortem)

    def _show_state(self, postmortem: Postmortem) -> None:
        self.state_label.setText(
            f"Drafted {postmortem.drafted_at:%Y-%m-%d %H:%M} UTC · saved "
            f"{postmortem.updated_at:%Y-%m-%d %H:%M} UTC by {postmortem.updated_by}"
        )

    @property
    def dirty(self) -> bool:
        return self.editor.toPlainText() != self._saved_text

    @Slot()
    def _edited(self) -> None:
        self.preview.setHtml(to_html(self.editor.toPlainText()))
        self.save_button.setText("&Save*" if self.dirty else "&Save")

    @Slot()
    def save(self) -> None:
        text = self.editor.toPlainText()
        postmortems, incident_id = self._kit.postmortems, self._incident_id
        self._context.runner.write(
            lambda: postmortems.save(incident_id, text), self._saved, self._failed("Saving")
        )

    def _saved(self, postmortem: Postmortem) -> None:
        self._saved_text = postmortem.markdown
        self._edited()
        self._show_state(postmortem)

    @Slot()
    def redraft(self) -> None:
        """Replace the text with a fresh draft (asks first when it has been edited)."""
        if self._saved_text.strip() and self.isVisible():
            answer = QMessageBox.question(
                self,
                "Re-draft the postmortem",
                "Replace the text with a new draft from the timeline? Your edits are "
                "kept only if you export or copy them first.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        postmortems, incident_id = self._kit.postmortems, self._incident_id
        self._context.runner.read(
            lambda: postmortems.draft(incident_id),
            self.editor.setPlainText,
            self._failed("Drafting"),
        )

    def export(self, kind: str, target: Path | None = None) -> None:
        """Export what is in the editor (saved or not) as md, html or pdf."""
        if target is None:
            filters = {"md": "Markdown (*.md)", "html": "HTML (*.html)", "pdf": "PDF (*.pdf)"}
            settings = QSettings()
            folder = str(settings.value("export/folder", str(Path.home())))
            from PySide6.QtWidgets import QFileDialog

            chosen, _ = QFileDialog.getSaveFileName(
                self,
                "Export the postmortem",
                str(Path(folder) / f"postmortem-{self._incident_id}.{kind}"),
                filters[kind],
            )
            if not chosen:
                return
            target = Path(chosen)
            settings.setValue("export/folder", str(target.parent))
        text = self.editor.toPlainText()
        path = target

        def write() -> Path:
            from console.files import write_file  # whole or not at all, clear refusals

            if kind == "md":
                write_file(path, text, what="the postmortem")
            elif kind == "html":
                write_file(path, to_html(text), what="the postmortem")
            else:
                save_pdf(to_html(text), path)
            return path

        self._context.runner.read(write, self._exported, self._failed("Export"))

    def _exported(self, path: Path) -> None:
        self.state_label.setText(f"Exported to {path}")

    # ------------------------------------------------------------ action items

    def reload_items(self) -> None:
        actions, incident_id = self._kit.actions, self._incident_id
        self._context.runner.read(
            lambda: actions.items(incident_id=incident_id),
            self._items_loaded,
            self._failed("Reading action items"),
        )

    def _items_loaded(self, items: list[ActionItem]) -> None:
        self._items = items
        today = self._context.clock().date()
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            status = "overdue" if item.overdue(today) else item.status
            cells = (
                item.title, item.owner, item.due_on.isoformat() if item.due_on else "",
                item.priority, item.kind, status,
            )  # fmt: skip
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))

    @Slot()
    def add_item(self) -> None:
        title, owner = self.title_edit.text(), self.owner_edit.text()
        picked = self.due_edit.date()
        due = date(picked.year(), picked.month(), picked.day())
        priority, kind = self.priority_combo.currentText(), self.kind_combo.currentText()
        actions, incident_id = self._kit.actions, self._incident_id
        self._context.runner.write(
            lambda: actions.add(
                title,
                owner=owner,
                incident_id=incident_id,
                due_on=due,
                priority=priority,
                kind=kind,
            ),
            self._item_added,
            self._failed("Adding the action item"),
        )

    def _item_added(self, _item: ActionItem) -> None:
        self.title_edit.clear()
        self.reload_items()

    @Slot()
    def mark_done(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self._items):
            return
        actions, item_id = self._kit.actions, self._items[row].id
        self._context.runner.write(
            lambda: actions.done(item_id),
            lambda _item: self.reload_items(),
            self._failed("Marking the action item done"),
        )

    def export_csv(self, target: Path | None = None) -> None:
        if target is None:
            from PySide6.QtWidgets import QFileDialog

            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export action items", f"actions-{self._incident_id}.csv", "CSV (*.csv)"
            )
            if not chosen:
                return
            target = Path(chosen)
        items, path = list(self._items), target

        def write() -> Path:
            from console.files import write_file  # whole or not at all, clear refusals

            return write_file(path, export_csv(items), what="the action items")

        self._context.runner.read(write, self._exported, self._failed("Export"))

    def _failed(self, doing: str) -> Callable[[BaseException], None]:
        def failed(error: BaseException) -> None:
            if isinstance(error, OSError):
                self._context.events.error_shown.emit(f"{doing} failed: {error.strerror or error}")
            else:
                report_failure(self._context.events, error, doing)

        return failed
