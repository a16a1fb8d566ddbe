"""Declare a new incident: title, severity (with its written definition), triage helper, IC."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.incident import (
    Severity,
    TriageAnswers,
    UsersAffected,
    suggest_severity,
)

_USERS = (
    (UsersAffected.NONE, "No customers yet"),
    (UsersAffected.FEW, "A few customers / one segment"),
    (UsersAffected.MANY, "Many customers / a whole region"),
    (UsersAffected.ALL, "All customers"),
)


@dataclass(frozen=True)
class Declaration:
    """What the dialog returns; the caller runs ``IncidentService.declare`` with it."""

    title: str
    severity: Severity
    summary: str
    commander: str | None


class DeclareDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, *, commander: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Declare an incident")
        self.setMinimumWidth(520)

        self.title_edit = QLineEdit(self)
        self.title_edit.setPlaceholderText("What is broken, as customers see it")
        self.title_edit.setMaxLength(300)
        self.severity_combo = QComboBox(self)
        for severity in Severity:
            label = f"{severity.value} — {severity.definition.split(':', 1)[0]}"
            self.severity_combo.addItem(label, severity)
            self.severity_combo.setItemData(
                self.severity_combo.count() - 1,
                severity.definition,
                Qt.ItemDataRole.ToolTipRole,
            )
        self.severity_combo.setCurrentIndex(1)
        self.definition_label = QLabel(self)
        self.definition_label.setWordWrap(True)
        self.definition_label.setObjectName("severityDefinition")
        self.severity_combo.currentIndexChanged.connect(self._show_definition)

        # triage helper -----------------------------------------------------------
        self.users_combo = QComboBox(self)
        for value, label in _USERS:
            self.users_combo.addItem(label, value)
        self.revenue_check = QCheckBox("Revenue is at risk", self)
        self.data_check = QCheckBox("Customer data is at risk (loss or exposure)", self)
        self.workaround_check = QCheckBox("A workaround exists", self)
        self.suggestion_label = QLabel(self)
        self.suggestion_label.setWordWrap(True)
        self.use_button = QPushButton("Use suggestion", self)
        self.use_button.clicked.connect(self.use_suggestion)
        for widget in (self.revenue_check, self.data_check, self.workaround_check):
            widget.toggled.connect(self._suggest)
        self.users_combo.currentIndexChanged.connect(self._suggest)
        triage = QGroupBox("Triage helper", self)
        triage_layout = QFormLayout(triage)
        triage_layout.addRow("Who is affected", self.users_combo)
        triage_layout.addRow(self.revenue_check)
        triage_layout.addRow(self.data_check)
        triage_layout.addRow(self.workaround_check)
        triage_layout.addRow(self.suggestion_label)
        triage_layout.addRow(self.use_button)

        self.summary_edit = QPlainTextEdit(self)
        self.summary_edit.setPlaceholderText("Optional: what is known so far")
        self.summary_edit.setFixedHeight(70)
        self.commander_edit = QLineEdit(commander, self)
        self.commander_edit.setPlaceholderText("Incident commander (you, if you lead)")

        form = QFormLayout()
        form.addRow("&Title", self.title_edit)
        form.addRow("&Severity", self.severity_combo)
        form.addRow("", self.definition_label)
        form.addRow("S&ummary", self.summary_edit)
        form.addRow("&IC", self.commander_edit)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Declare")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title_edit.textChanged.connect(self._validate)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(triage)
        layout.addWidget(self.buttons)
        self._show_definition()
        self._suggest()
        self._validate()

    @classmethod
    def ask(cls, parent: QWidget | None, *, commander: str = "") -> Declaration | None:
        dialog = cls(parent, commander=commander)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.declaration()
        finally:
            dialog.deleteLater()

    def declaration(self) -> Declaration:
        return Declaration(
            title=self.title_edit.text().strip(),
            severity=self.severity(),
            summary=self.summary_edit.toPlainText().strip(),
            commander=self.commander_edit.text().strip() or None,
        )

    def severity(self) -> Severity:
        return list(Severity)[max(0, self.severity_combo.currentIndex())]

    def set_severity(self, severity: Severity) -> None:
        self.severity_combo.setCurrentIndex(list(Severity).index(severity))

    def answers(self) -> TriageAnswers:
        users = _USERS[max(0, self.users_combo.currentIndex())][0]
        return TriageAnswers(
            users_affected=users,
            revenue_at_risk=self.revenue_check.isChecked(),
            data_at_risk=self.data_check.isChecked(),
            workaround_exists=self.workaround_check.isChecked(),
        )

    @Slot()
    def use_suggestion(self) -> None:
        self.set_severity(suggest_severity(self.answers()).severity)

    @Slot()
    def _suggest(self) -> None:
        suggestion = suggest_severity(self.answers())
        self.suggestion_label.setText(
            f"Suggested: <b>{suggestion.severity.value}</b> — {suggestion.reason}"
        )

    @Slot()
    def _show_definition(self) -> None:
        self.definition_label.setText(self.severity().definition)

    @Slot()
    def _validate(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.title_edit.text().strip()))
