"""The People panel: every contact, searched as you type, with copy and call beside each number.

Search runs in SQL on the reader lane (name, e-mail, team, any number), ~80 ms
after the last key; the list holds at most :data:`LIMIT` contacts.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListView,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.domain.oncall import Contact, OnCallPerson
from console.oncall import OnCallDirectory
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.models.roles import ItemRole
from ui.oncall.widgets import BODY_SCALE, PersonBlock, scaled

DEBOUNCE_MS = 80
LIMIT = 1000

_Index = QModelIndex | QPersistentModelIndex


class ContactsModel(QAbstractListModel):
    """The contacts of the last search (bounded by :data:`LIMIT`); reset per search."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._contacts: list[Contact] = []

    def set_contacts(self, contacts: Sequence[Contact]) -> None:
        self.beginResetModel()
        self._contacts = list(contacts)
        self.endResetModel()

    def contact(self, row: int) -> Contact | None:
        return self._contacts[row] if 0 <= row < len(self._contacts) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._contacts)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        contact = self.contact(index.row()) if index.isValid() else None
        if contact is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{contact.name} — {', '.join(contact.teams)}" if contact.teams else contact.name
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            first = contact.reach[0].display if contact.reach else "no numbers"
            return f"{contact.name}: {first}"
        if role == ItemRole.ID:
            return contact.id
        if role == ItemRole.VIEW:
            return contact
        return None


class PeoplePanel(QWidget):
    #: the list on screen changed (tests)
    results_shown = Signal()

    def __init__(
        self, context: UiContext, directory: OnCallDirectory, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("peoplePanel")
        self._context = context
        self._directory = directory
        self._issued = 0
        self._shown = 0
        self.detail: PersonBlock | None = None

        self.search_line = QLineEdit(self)
        self.search_line.setObjectName("peopleSearch")
        self.search_line.setPlaceholderText("Find a person: name, team, number, e-mail…")
        self.search_line.setClearButtonEnabled(True)
        self.search_line.setAccessibleName("Find a person")
        self.search_line.setFont(scaled(self.font(), BODY_SCALE))
        self.search_line.textChanged.connect(self._schedule)
        self.model = ContactsModel(self)
        self.list = QListView(self)
        self.list.setObjectName("peopleList")
        self.list.setModel(self.model)
        self.list.setUniformItemSizes(True)
        self.list.setFont(scaled(self.font(), BODY_SCALE))
        self.list.setAccessibleName("People")
        self.list.selectionModel().selectionChanged.connect(self._on_selection)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("mutedLabel")

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("People", left)
        title.setObjectName("paneTitle")
        left_layout.addWidget(title)
        left_layout.addWidget(self.search_line)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.count_label)

        self.detail_area = QScrollArea(self)
        self.detail_area.setWidgetResizable(True)
        self.detail_area.setWidget(QWidget())
        self.status = QLabel(self)
        self.status.setObjectName("peopleStatus")
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.detail_area, 1)
        right_layout.addWidget(self.status)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(splitter)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_search)

    def focus_search(self) -> None:
        self.search_line.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_line.selectAll()

    @Slot()
    def _schedule(self) -> None:
        self._timer.start()

    @Slot()
    def run_search(self) -> None:
        self._timer.stop()
        query = self.search_line.text()
        self._issued += 1
        seq = self._issued
        directory = self._directory
        self._context.runner.read(
            lambda: directory.contacts(query, limit=LIMIT),
            lambda found: self._on_results(seq, found),
            lambda error: report_failure(self._context.events, error, "Searching the contacts"),
        )

    def _on_results(self, seq: int, contacts: list[Contact]) -> None:
        if seq <= self._shown:
            return
        self._shown = seq
        self.model.set_contacts(contacts)
        noun = "person" if len(contacts) == 1 else "people"
        self.count_label.setText(
            f"{len(contacts)} {noun}"
            if contacts
            else "Nobody matches"
            if self.search_line.text().strip()
            else "No contacts yet: responder-console import contacts FILE…"
        )
        if contacts:
            self.list.setCurrentIndex(self.model.index(0, 0))
        else:
            self._show_contact(None)
        self.results_shown.emit()

    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        self._show_contact(self.model.contact(indexes[0].row()) if indexes else None)

    def _show_contact(self, contact: Contact | None) -> None:
        holder = QWidget()
        layout = QVBoxLayout(holder)
        self.detail = None
        if contact is not None:
            person = OnCallPerson(contact.name, contact.email, contact.reach, contact.id)
            self.detail = PersonBlock(person, holder, show_shift=False)
            self.detail.copied.connect(self._on_copied)
            self.detail.notice.connect(self.status.setText)
            layout.addWidget(self.detail)
            if contact.teams:
                teams = QLabel(f"Teams: {', '.join(contact.teams)}", holder)
                teams.setFont(scaled(self.font(), BODY_SCALE))
                layout.addWidget(teams)
            source = QLabel(f"From {contact.source}", holder)
            source.setObjectName("mutedLabel")
            source.setWordWrap(True)
            layout.addWidget(source)
        layout.addStretch(1)
        old = self.detail_area.takeWidget()
        if old is not None:
            old.deleteLater()
        self.detail_area.setWidget(holder)

    @Slot(str)
    def _on_copied(self, text: str) -> None:
        self.status.setText(f"Copied {text}")
