"""The assign-role dialog (loaded when first opened, off the start-up path)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from console.domain.incident import Role


class AssignRoleDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Assign a role")
        self.role_combo = QComboBox(self)
        for role in Role:
            self.role_combo.addItem(role.label, role)
        self.person_edit = QLineEdit(self)
        self.person_edit.setPlaceholderText("Name")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("&Role", self.role_combo)
        form.addRow("&Person", self.person_edit)
        form.addRow(buttons)

    @classmethod
    def ask(cls, parent: QWidget | None) -> tuple[Role, str] | None:
        dialog = cls(parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            role = list(Role)[max(0, dialog.role_combo.currentIndex())]
            person = dialog.person_edit.text().strip()
            return (role, person) if person else None
        finally:
            dialog.deleteLater()
