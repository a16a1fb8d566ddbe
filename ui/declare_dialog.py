"""Declare a new incident: title, severity (with its written definition), triage helper, IC,
and the affected services (completed from the service catalog)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QStringListModel, Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
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
from ui.confirm import confirm
from ui.theme import alert_color, is_dark

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
    #: names of the affected catalog services
    services: tuple[str, ...] = ()


def split_services(text: str) -> tuple[str, ...]:
    """``"orders-api, payments-gateway,"`` → the names, in order, without blanks or repeats."""
    names: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if name and name.lower() not in (n.lower() for n in names):
            names.append(name)
    return tuple(names)


class ListCompleter(QCompleter):
    """Completes the last name of a comma-separated list."""

    def splitPath(self, path: str) -> list[str]:
        return [path.rsplit(",", 1)[-1].strip()]

    def pathFromIndex(self, index: QModelIndex | QPersistentModelIndex) -> str:
        widget = self.widget()
        text = widget.text() if isinstance(widget, QLineEdit) else ""
        head = text.rsplit(",", 1)[0] + ", " if "," in text else ""
        return head + str(index.data())


class DeclareDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        commander: str = "",
        services: Sequence[str] = (),
        catalog_loading: bool = False,
        workspace_opening: bool = False,
    ) -> None:
        super().__init__(parent)
        #: Ctrl+N right after launch: the window takes the declaration at once, Declare
        #: waits until the workspace is open (nothing can be written before)
        self._workspace_opening = workspace_opening
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
        self.summary_edit.setTabChangesFocus(True)  # Tab moves on; it never types a tab
        self.commander_edit = QLineEdit(commander, self)
        self.commander_edit.setPlaceholderText("Incident commander (you, if you lead)")
        self.known_services = {name.lower(): name for name in services}
        self.services_edit = QLineEdit(self)
        self.services_edit.setObjectName("declareServices")
        self._service_names = QStringListModel(list(services), self)
        self._set_services_placeholder(loading=catalog_loading)
        completer = ListCompleter(self._service_names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.services_edit.setCompleter(completer)
        self.services_hint = QLabel(self)
        self.services_hint.setObjectName("servicesHint")
        self.services_hint.setWordWrap(True)
        self.services_hint.setStyleSheet(f"QLabel {{ color: {alert_color(is_dark()).name()}; }}")
        self.services_hint.hide()
        self.services_edit.textChanged.connect(self._validate)
        self.opening_label = QLabel(
            "Opening the workspace… Declare is enabled in a moment; keep typing.", self
        )
        self.opening_label.setObjectName("workspaceOpening")
        self.opening_label.setWordWrap(True)
        self.opening_label.setVisible(workspace_opening)

        form = QFormLayout()
        form.addRow("&Title", self.title_edit)
        form.addRow("&Severity", self.severity_combo)
        form.addRow("", self.definition_label)
        form.addRow("S&ummary", self.summary_edit)
        form.addRow("&IC", self.commander_edit)
        form.addRow("Ser&vices", self.services_edit)
        form.addRow("", self.services_hint)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Declare")
        ok.setDefault(True)  # Enter declares (from any line, combo or check box)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)  # Enter never presses Cancel, even with the focus on it
        self.use_button.setAutoDefault(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title_edit.textChanged.connect(self._validate)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(triage)
        layout.addWidget(self.opening_label)
        layout.addWidget(self.buttons)
        self._set_tab_order(ok, cancel)
        self._show_definition()
        self._suggest()
        self._validate()
        self._initial = self._filled_in()

    def _set_services_placeholder(self, *, loading: bool) -> None:
        if loading:
            text = "Affected services, comma-separated (the service catalog is still loading)"
        elif self.known_services:
            text = "Affected services, comma-separated (from the catalog)"
        else:
            text = "Affected services, comma-separated (no catalog loaded to complete from)"
        self.services_edit.setPlaceholderText(text)

    def set_services(self, services: Sequence[str]) -> None:
        """The catalog finished loading while the dialog was open (Ctrl+N right after
        launch): complete and check against it from now on."""
        self.known_services = {name.lower(): name for name in services}
        self._service_names.setStringList(list(services))
        self._set_services_placeholder(loading=False)
        self._validate()

    def workspace_opened(self, commander: str) -> None:
        """The workspace finished opening while the dialog was open: Declare works now,
        and an IC field nobody touched gets who is writing (as when opened later)."""
        self._workspace_opening = False
        self.opening_label.hide()
        if not self.commander_edit.text().strip() and commander:
            untouched = not self.is_modified()
            self.commander_edit.setText(commander)
            if untouched:
                self._initial = self._filled_in()
        self._validate()

    def _set_tab_order(self, ok: QWidget, cancel: QWidget) -> None:
        """Tab follows the form top to bottom: the fields as laid out, then the triage
        helper below them, then Declare and Cancel (the triage widgets are created first,
        which made Tab jump from Severity into the helper)."""
        chain: list[QWidget] = [
            self.title_edit,
            self.severity_combo,
            self.summary_edit,
            self.commander_edit,
            self.services_edit,
            self.users_combo,
            self.revenue_check,
            self.data_check,
            self.workaround_check,
            self.use_button,
            ok,
            cancel,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        self.title_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _filled_in(self) -> tuple[object, ...]:
        return (
            self.title_edit.text().strip(),
            self.severity_combo.currentIndex(),
            self.summary_edit.toPlainText().strip(),
            self.commander_edit.text().strip(),
            self.services_edit.text().strip(),
            self.answers(),
        )

    def is_modified(self) -> bool:
        """Something was typed or chosen since the dialog opened."""
        return self._filled_in() != self._initial

    def reject(self) -> None:
        """Cancel, Esc and the close box: a filled-in declaration is not thrown away
        without a question (a stray Tab-Tab-Space at 03:00 landed on Cancel)."""
        if self.is_modified() and not self._confirm_discard():
            return
        super().reject()

    def _confirm_discard(self) -> bool:
        return confirm(
            self,
            title="Discard the declaration?",
            text="This incident has not been declared yet. Discard what you typed?",
            act="Discard",
            keep="Keep editing",
            name="discardDeclaration",
            role=QMessageBox.ButtonRole.DestructiveRole,
        )

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        *,
        commander: str = "",
        services: Sequence[str] = (),
        catalog_loading: bool = False,
        workspace_opening: bool = False,
        on_open: Callable[[DeclareDialog], None] | None = None,
    ) -> Declaration | None:
        dialog = cls(
            parent,
            commander=commander,
            services=services,
            catalog_loading=catalog_loading,
            workspace_opening=workspace_opening,
        )
        if on_open is not None:
            on_open(dialog)
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
            services=self.services(),
        )

    def services(self) -> tuple[str, ...]:
        """The named services, spelled as the catalog spells them when it knows them."""
        return tuple(
            self.known_services.get(name.lower(), name)
            for name in split_services(self.services_edit.text())
        )

    def unknown_services(self) -> list[str]:
        if not self.known_services:
            return []  # nothing to check against: the core checks when declaring
        return [n for n in self.services() if n.lower() not in self.known_services]

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
        unknown = self.unknown_services()
        self.services_hint.setVisible(bool(unknown))
        if unknown:
            self.services_hint.setText(
                f"Not in the service catalog: {', '.join(unknown)}. Pick a name from the list."
            )
        filled = bool(self.title_edit.text().strip()) and not unknown
        ok.setEnabled(filled and not self._workspace_opening)
