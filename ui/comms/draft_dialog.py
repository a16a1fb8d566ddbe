"""The Draft update dialog: pick a template, see it filled with the incident's facts,
edit, copy as Markdown or plain text, and log it as sent."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.comms.kit import CommsKit
from console.comms.postmortem import to_html
from console.comms.templating import Template, markdown_to_plain
from console.comms.updates import MISSING, Draft, missing_facts
from console.domain.oncall import Refusal
from console.ops.incidents import Outcome
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.times import display_zone, shown


class DraftUpdateDialog(QDialog):
    """Reads (templates, facts) on the reader lane; "Log as sent" on the writer lane."""

    def __init__(
        self,
        context: UiContext,
        incident_id: int,
        *,
        on_sent: Callable[[Outcome], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("draftUpdateDialog")
        self.setWindowTitle("Draft update")
        self.resize(980, 620)
        self._context = context
        self._incident_id = incident_id
        self._on_sent = on_sent
        self._kit = CommsKit.of(context.workspace)
        self._templates: list[Template] = []

        self.template_combo = QComboBox(self)
        self.template_combo.setAccessibleName("Template")
        self.template_combo.currentIndexChanged.connect(self._load_draft)
        self.next_label = QLabel(self)
        self.next_label.setObjectName("nextUpdate")
        self.refused_label = QLabel(self)
        self.refused_label.setObjectName("refusedTemplates")
        self.refused_label.setWordWrap(True)
        self.refused_label.setStyleSheet("color: #c62828;")
        self.refused_label.hide()
        self.missing_label = QLabel(self)
        self.missing_label.setObjectName("missingFacts")
        self.missing_label.setWordWrap(True)
        self.missing_label.hide()
        self.editor = QPlainTextEdit(self)
        self.editor.setAccessibleName("Update text (Markdown)")
        self.editor.textChanged.connect(self._preview)
        self.preview = QTextBrowser(self)
        self.preview.setOpenLinks(False)
        self.preview.setAccessibleName("Preview")
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.editor)
        split.addWidget(self.preview)

        self.copy_markdown = QPushButton("Copy &Markdown", self)
        self.copy_markdown.setToolTip("Copy the text as Markdown (Ctrl+Shift+C)")
        self.copy_plain = QPushButton("Copy &plain text", self)
        self.copy_plain.setToolTip("Copy without Markdown marks (Ctrl+Shift+T)")
        self.send_button = QPushButton("&Log as sent", self)
        self.send_button.setToolTip(
            "Record it on the timeline (synced as a status update) and restart the "
            "update reminder (Ctrl+Return)"
        )
        close = QPushButton("Close", self)
        self.copy_markdown.clicked.connect(self.copy_as_markdown)
        self.copy_plain.clicked.connect(self.copy_as_plain)
        self.send_button.clicked.connect(self.log_as_sent)
        close.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Shift+C"), self, self.copy_as_markdown)
        QShortcut(QKeySequence("Ctrl+Shift+T"), self, self.copy_as_plain)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.log_as_sent)

        top = QHBoxLayout()
        picker_label = QLabel("&Template", self)
        picker_label.setBuddy(self.template_combo)
        top.addWidget(picker_label)
        top.addWidget(self.template_combo, 1)
        top.addWidget(self.next_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_markdown)
        buttons.addWidget(self.copy_plain)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.refused_label)
        layout.addWidget(split, 1)
        layout.addWidget(self.missing_label)
        layout.addLayout(buttons)
        self._set_busy(True)
        self._default = ""
        updates = self._kit.updates

        def read() -> tuple[tuple[list[Template], list[Refusal]], str]:
            return updates.templates(), updates.default_template(incident_id)

        context.runner.read(read, self._read_done, self._failed)

    # --------------------------------------------------------------- loading

    def _read_done(self, read: tuple[tuple[list[Template], list[Refusal]], str]) -> None:
        loaded, self._default = read
        self._templates_loaded(loaded)

    def _templates_loaded(self, loaded: tuple[list[Template], list[Refusal]]) -> None:
        templates, refused = loaded
        self._templates = sorted(templates, key=lambda t: t.title)
        if refused:
            self.refused_label.setText("Refused templates: " + "; ".join(str(r) for r in refused))
            self.refused_label.show()
        self.template_combo.blockSignals(True)
        for template in self._templates:
            suffix = " (yours)" if template.user else ""
            self.template_combo.addItem(f"{template.title}{suffix}", template.id)
        # open with the template that fits the incident's status (investigating, …)
        default = self.template_combo.findData(self._default)
        if default >= 0:
            self.template_combo.setCurrentIndex(default)
        self.template_combo.blockSignals(False)
        if self._templates:
            self._load_draft()
        else:
            self.next_label.setText("No usable templates")

    @property
    def template(self) -> Template | None:
        index = self.template_combo.currentIndex()
        return self._templates[index] if 0 <= index < len(self._templates) else None

    def select_template(self, template_id: str) -> None:
        index = self.template_combo.findData(template_id)
        if index >= 0:
            self.template_combo.setCurrentIndex(index)

    @Slot()
    def _load_draft(self) -> None:
        template = self.template
        if template is None:
            return
        self._set_busy(True)
        updates, incident_id, zone = self._kit.updates, self._incident_id, display_zone()
        self._context.runner.read(
            lambda: updates.draft(incident_id, template, zone), self._draft_loaded, self._failed
        )

    def _draft_loaded(self, draft: Draft) -> None:
        if draft.template != self.template:
            return  # the picker moved on while this was read
        self.editor.setPlainText(draft.markdown)
        self.next_label.setText(
            f"Next update due {shown(draft.next_update)}" if draft.next_update else ""
        )
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        for button in (self.copy_markdown, self.copy_plain, self.send_button):
            button.setEnabled(not busy)

    @Slot()
    def _preview(self) -> None:
        text = self.editor.toPlainText()
        self.preview.setHtml(to_html(text))
        missing = missing_facts(text)
        if missing:
            self.missing_label.setText(
                "Fill in before sending: " + ", ".join(missing) + " (marked [fill in: …])"
            )
            from ui.theme import alert_color, is_dark

            color = alert_color(is_dark()).name()
            self.missing_label.setStyleSheet(f"QLabel {{ color: {color}; font-weight: 600; }}")
        self.missing_label.setVisible(bool(missing))

    def _complete(self) -> bool:
        """No ``[fill in: …]`` left; otherwise select the first one for the sender to type
        over, say so, and refuse (nothing copied, nothing logged)."""
        text = self.editor.toPlainText()
        found = MISSING.search(text)
        if found is None:
            return True
        cursor = self.editor.textCursor()
        cursor.setPosition(found.start())
        cursor.setPosition(found.end(), QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self._preview()
        return False

    # --------------------------------------------------------------- actions

    @Slot()
    def copy_as_markdown(self) -> None:
        if self._complete():
            QGuiApplication.clipboard().setText(self.editor.toPlainText())

    @Slot()
    def copy_as_plain(self) -> None:
        if self._complete():
            QGuiApplication.clipboard().setText(markdown_to_plain(self.editor.toPlainText()))

    @Slot()
    def log_as_sent(self) -> None:
        template, text = self.template, self.editor.toPlainText()
        if template is None or not self.send_button.isEnabled() or not self._complete():
            return
        self._set_busy(True)
        updates, incident_id = self._kit.updates, self._incident_id
        self._context.runner.write(
            lambda: updates.send(incident_id, template, text), self._sent, self._failed
        )

    def _sent(self, outcome: Outcome) -> None:
        if self._on_sent is not None:
            self._on_sent(outcome)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        report_failure(self._context.events, error, "Drafting the update")
