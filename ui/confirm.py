"""One way to ask before an action that loses or ends something (modal, safe default)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(
    parent: QWidget | None,
    *,
    title: str,
    text: str,
    act: str,
    keep: str,
    name: str,
    role: QMessageBox.ButtonRole = QMessageBox.ButtonRole.AcceptRole,
) -> bool:
    """True when the person chose ``act``. ``keep`` is the default and what Esc picks,
    so a stray Enter or Esc never discards work; ``name`` is the box's objectName (tests
    and accessibility find it by that)."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent
    )
    box.setObjectName(name)
    acting = box.addButton(act, role)
    keeping = box.addButton(keep, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keeping)
    box.setEscapeButton(keeping)
    box.exec()
    return box.clickedButton() is acting
