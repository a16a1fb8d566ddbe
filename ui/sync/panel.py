"""The Sync tab: accounts and their state, what waits per incident, what needs a
decision (retry or discard: failed operations and the ones they block, each with
why), the last pass, and "Sync now".

Everything it shows is ``console.sync.sync_status`` (the document ``sync status
--json`` prints), read on the reader lane; Retry and Discard are the core's
``Outbox.retry``/``Outbox.discard`` on the writer lane, as ``sync retry/discard``.
Discarding asks first; discarding an incident's creation names the operations
blocked behind it, which go with it. The lists are small (the core caps each at 50 rows), so
one table model serves all three.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain.freshness import describe_age
from console.ops.outbox import Outbox, OutboxOp
from console.sync import Tokens, sync_status
from console.sync.accounts import VENDOR_NAMES
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.sync.controller import SyncController, SyncOutcome

log = logging.getLogger(__name__)

RED = "#d32f2f"
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    #: what a row stands for (an operation id, an incident id, a vendor)
    key: object = None
    #: red text: a stopped account, a failed operation
    alarm: bool = False
    tooltip: str = ""
    #: a blocked operation's cause: the creation that Retry sends again
    cause: int | None = None


class RowsModel(QAbstractTableModel):
    """A short, fully loaded table (≤ 50 rows): replaced as a whole on each read."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self.rows: list[Row] = []

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip or row.cells[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and row.alarm:
            return QColor(RED)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None


def _table(model: RowsModel, name: str, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


def _group(title: str, widget: QWidget, parent: QWidget, *extra: QWidget) -> QGroupBox:
    box = QGroupBox(title, parent)
    layout = QVBoxLayout(box)
    layout.addWidget(widget, 1)
    for item in extra:
        layout.addWidget(item)
    return box


def _when(value: str | None, now: datetime) -> str:
    return "—" if value is None else describe_age(datetime.fromisoformat(value), now)


def account_rows(accounts: list[dict[str, Any]], now: datetime) -> list[Row]:
    rows = []
    for account in accounts:
        vendor = VENDOR_NAMES.get(account["vendor"], account["vendor"])
        stopped = account["stopped"]
        if stopped:
            state = f"Stopped: {stopped}. Update the token in Accounts… to resume"
        elif not account["token"]:
            state = "No token: add one in Accounts…"
        elif account["last_error"]:
            state = f"Retrying: {account['last_error']}"
        else:
            state = "OK"
        rows.append(
            Row(
                (
                    vendor,
                    account["base_url"],
                    account["token"] or "none",
                    _when(account["last_success_at"], now),
                    state,
                ),
                key=account["vendor"],
                alarm=bool(stopped) or not account["token"],
            )
        )
    return rows


def _incident(incident_id: int | None, title: str | None) -> str:
    return "(no incident)" if incident_id is None else f"#{incident_id} {title or ''}".rstrip()


def queued_rows(status: dict[str, Any], now: datetime) -> list[Row]:
    """What waits per incident; one whose operations are blocked says why."""
    held = {item["incident_id"] for item in status["queued"] if item.get("blocked")}
    rows = []
    for item in status["queued"]:
        note = item["error"] or ""
        if item.get("blocked"):
            note = f"Blocked: {item['blocked']}. Decide below"
        elif item["retry_at"] is not None:
            retry_at = datetime.fromisoformat(item["retry_at"])
            if retry_at > now:
                note = f"Next try at {retry_at.astimezone():%H:%M:%S}. {note}".strip()
        rows.append(
            Row(
                (
                    _incident(item["incident_id"], item["title"]),
                    str(item["waiting"]),
                    _when(item["oldest"], now),
                    note,
                ),
                key=item["incident_id"],
                alarm=item["incident_id"] in held,
            )
        )
    return rows


def decision_rows(status: dict[str, Any]) -> list[Row]:
    rows = [
        Row(
            (
                str(op["id"]),
                _incident(op["incident_id"], op["title"]),
                op["operation"],
                "failed",
                op["error"] or "",
            ),
            key=op["id"],
            alarm=True,
            tooltip=op["error"] or "",
        )
        for op in status["failed"]
    ]
    rows += [
        Row(
            (
                str(op["id"]),
                _incident(op["incident_id"], op["title"]),
                op["operation"],
                "blocked",
                op["reason"],
            ),
            key=op["id"],
            alarm=True,
            tooltip=_blocked_tip(op),
            cause=op["cause"],
        )
        for op in status.get("blocked", [])
    ]
    rows += [
        Row(
            (
                str(op["id"]),
                _incident(op["incident_id"], op["title"]),
                op["operation"],
                "superseded",
                op["reason"] or "",
            ),
            key=None,  # decided already: nothing to retry or discard
            tooltip=op["reason"] or "",
        )
        for op in status["superseded"]
    ]
    return rows


def _blocked_tip(op: dict[str, Any]) -> str:
    if op["cause"] is None:
        return f"{op['reason']}. Discard it."
    return (
        f"{op['reason']}. Retry sends the incident's creation (operation {op['cause']}) "
        "again and then these; Discard gives this one up."
    )


def dependants_of(status: dict[str, Any], op_id: int) -> list[dict[str, Any]]:
    """The blocked operations an incident's creation holds back (as listed)."""
    return [op for op in status.get("blocked", []) if op["cause"] == op_id]


def describe_pulled(pulled: dict[str, dict[str, Any]]) -> str:
    """Each cached set a pull filled and its age: "Pulled: pagerduty.users just now · …"."""
    if not pulled:
        return "Nothing pulled yet."
    return "Pulled: " + " · ".join(f"{name} {set_['age']}" for name, set_ in pulled.items())


class SyncPanel(QWidget):
    """The Sync tab. ``controller`` runs the passes; this shows them and their queue."""

    #: (int operation id, str "retry"|"discard") — the decision was recorded
    decided = Signal(int, str)

    def __init__(
        self, context: UiContext, controller: SyncController, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("syncPanel")
        self._context = context
        self._controller = controller
        self._loading = False
        self._stale = False
        self.status: dict[str, Any] | None = None
        self.confirm_box: QMessageBox | None = None

        self.state_label = QLabel("Opening the token store…", self)
        self.state_label.setObjectName("syncState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sync_button = QPushButton("Sync &now", self)
        self.sync_button.setToolTip("Push what is queued now (Ctrl+Shift+Y)")
        self.sync_button.clicked.connect(controller.sync_now)
        self.accounts_button = QPushButton("&Accounts…", self)
        self.accounts_button.setToolTip("Add, edit or remove PagerDuty and Opsgenie accounts")
        self.accounts_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.state_label, 1)
        top.addWidget(self.sync_button)
        top.addWidget(self.accounts_button)

        self.accounts_model = RowsModel(("Vendor", "API", "Token", "Last success", "State"), self)
        self.accounts_view = _table(self.accounts_model, "Sync accounts", self)
        self.queued_model = RowsModel(("Incident", "Waiting", "Oldest", "Last error"), self)
        self.queued_view = _table(self.queued_model, "Waiting operations", self)
        self.decisions_model = RowsModel(
            (
                "Operation",
                "Incident",
                "Kind",
                "State",
                "Why: the vendor's message, or what it waits for",
            ),
            self,
        )
        self.decisions_view = _table(self.decisions_model, "Operations needing a decision", self)
        self.decisions_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.retry_button = QPushButton("&Retry", self)
        self.retry_button.setToolTip(
            "Queue the selected failed operation again (for a blocked one: its incident's "
            "creation, then it)"
        )
        self.retry_button.clicked.connect(self.retry_selected)
        self.discard_button = QPushButton("&Discard…", self)
        self.discard_button.setToolTip(
            "Give the selected failed or blocked operation up (asks first)"
        )
        self.discard_button.clicked.connect(self.discard_selected)
        decide = QWidget(self)
        decide_layout = QHBoxLayout(decide)
        decide_layout.setContentsMargins(0, 0, 0, 0)
        decide_layout.addStretch(1)
        decide_layout.addWidget(self.retry_button)
        decide_layout.addWidget(self.discard_button)
        self.last_pass_label = QLabel("No pass yet.", self)
        self.last_pass_label.setObjectName("lastPass")
        self.last_pass_label.setWordWrap(True)
        self.last_pass_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        self.pulled_label = QLabel("Nothing pulled yet.", self)
        self.pulled_label.setObjectName("pulledSets")
        self.pulled_label.setWordWrap(True)
        accounts_box = _group("Accounts", self.accounts_view, self, self.pulled_label)
        accounts_box.setMaximumHeight(170)
        layout.addWidget(accounts_box)
        layout.addWidget(_group("Waiting to be sent, per incident", self.queued_view, self), 2)
        layout.addWidget(
            _group(
                "Needs a decision: failed and blocked (and superseded)",
                self.decisions_view,
                self,
                decide,
            ),
            2,
        )
        layout.addWidget(_group("Last pass", self.last_pass_label, self))
        self._update_buttons()

        controller.started.connect(self._on_started)
        controller.finished.connect(self._on_finished)
        controller.tokens_ready.connect(self._on_tokens_ready)
        context.events.changes_applied.connect(self._on_changes_applied)
        context.events.connectivity_changed.connect(self._on_connectivity_changed)
        if controller.tokens is not None:
            self._on_tokens_ready(controller.tokens)

    # ----------------------------------------------------------------- reading

    @Slot()
    def refresh(self) -> None:
        tokens = self._controller.tokens
        if tokens is None:
            return
        if self._loading:
            self._stale = True  # read again once this read is in
            return
        self._loading = True
        db, clock = self._context.workspace.db, self._context.clock
        self._context.runner.read(
            lambda: sync_status(db, tokens, clock=clock), self._on_loaded, self._on_load_failed
        )

    def _on_loaded(self, status: dict[str, Any]) -> None:
        self._loading = False
        self.status = status
        now = self._context.clock()
        self.accounts_model.set_rows(account_rows(status["accounts"], now))
        self.queued_model.set_rows(queued_rows(status, now))
        chosen = self.selected_operation()
        self.decisions_model.set_rows(decision_rows(status))
        if chosen is not None:
            self.select_operation(chosen)  # a refresh keeps the user's selection
        self.pulled_label.setText(describe_pulled(status.get("pulled", {})))
        self._update_buttons()
        self._show_state()
        if self._stale:
            self._stale = False
            self.refresh()

    def _on_load_failed(self, error: BaseException) -> None:
        self._loading = False
        report_failure(self._context.events, error, "Reading the sync state")

    def _on_tokens_ready(self, tokens: Tokens) -> None:
        self.accounts_button.setEnabled(True)
        self.refresh()

    @Slot(object)
    def _on_changes_applied(self, changes: Any) -> None:
        if getattr(changes, "outbox", False):
            self.refresh()

    @Slot(bool)
    def _on_connectivity_changed(self, online: bool) -> None:
        self._show_state()

    @Slot()
    def _on_started(self) -> None:
        self.sync_button.setEnabled(False)
        self._show_state()

    @Slot(object)
    def _on_finished(self, outcome: SyncOutcome) -> None:
        self.sync_button.setEnabled(True)
        self.last_pass_label.setText(
            f"{outcome.finished_at.astimezone():%H:%M:%S}: {outcome.describe()}"
        )
        self.refresh()

    def _show_state(self) -> None:
        controller = self._controller
        network = {True: "Online", False: "Offline", None: "Network unknown"}[controller.online]
        parts = [network]
        if controller.running:
            parts.append("syncing…")
        status = self.status
        if status is not None:
            counts = status["outbox"]
            blocked = counts.get("blocked", 0)
            parts.append(f"{counts['pending'] + counts['sent'] - blocked} waiting")
            parts.append(f"{counts['failed']} failed")
            if blocked:
                parts.append(f"{blocked} blocked")
            if not status["accounts"]:
                parts.append("no account yet: add one with Accounts…")
            if status["keyring"] is None:
                parts.append("no OS keyring: tokens last for this session only")
        if controller.online is False:
            parts.append("changes are kept and sent when the network returns")
        self.state_label.setText(" · ".join(parts))

    # --------------------------------------------------------------- deciding

    def selected_operation(self) -> int | None:
        """The selected failed or blocked operation's id (superseded ones are decided
        already)."""
        rows = self.decisions_view.selectionModel().selectedRows()
        if not rows:
            return None
        key = self.decisions_model.rows[rows[0].row()].key
        return key if isinstance(key, int) else None

    def select_operation(self, op_id: int) -> bool:
        for number, row in enumerate(self.decisions_model.rows):
            if row.key == op_id:
                self.decisions_view.selectRow(number)
                return True
        return False

    @Slot()
    def _update_buttons(self) -> None:
        chosen = self.selected_operation() is not None
        row = self._selected_row() if chosen else None
        # a blocked operation is retried through its creation (none: nothing to retry)
        retriable = row is not None and (row.cells[3] != "blocked" or row.cause is not None)
        self.retry_button.setEnabled(chosen and retriable)
        self.discard_button.setEnabled(chosen)

    def _selected_row(self) -> Row | None:
        rows = self.decisions_view.selectionModel().selectedRows()
        return self.decisions_model.rows[rows[0].row()] if rows else None

    @Slot()
    def retry_selected(self) -> None:
        """A failed operation is queued again; for a blocked one, the creation that
        holds it back is (then it drains after it)."""
        op_id = self.selected_operation()
        row = self._selected_row()
        if op_id is not None and row is not None:
            self._decide(row.cause if row.cause is not None else op_id, "retry")

    @Slot()
    def discard_selected(self) -> None:
        """Ask first: a discarded operation never reaches the vendor."""
        op_id = self.selected_operation()
        if op_id is None:
            return
        row = self._selected_row()
        assert row is not None
        dependants = dependants_of(self.status or {}, op_id)
        box = QMessageBox(self)
        box.setObjectName("confirmDiscard")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Discard the operation?")
        text = (
            f"Operation {op_id} ({row.cells[2]} of {row.cells[1]}) will never be sent "
            "to the vendor. It stays listed as superseded."
        )
        if dependants:
            kinds = ", ".join(f"{d['id']} {d['operation']}" for d in dependants[:8])
            more = f" and {len(dependants) - 8} more" if len(dependants) > 8 else ""
            text += (
                f"\n\nIt is the incident's creation: its {len(dependants)} later "
                f"operation(s) ({kinds}{more}) cannot be sent without it and will be "
                "discarded with it. To keep them, Cancel, fix the cause and Retry instead."
            )
        box.setText(text)
        said = "Why it is blocked" if row.cells[3] == "blocked" else "The vendor said"
        box.setInformativeText(f"{said}: {row.cells[4]}")
        box.setStandardButtons(
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        if dependants:
            button = box.button(QMessageBox.StandardButton.Discard)
            button.setText(f"Discard all {len(dependants) + 1}")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        with_dependants = bool(dependants)
        box.finished.connect(lambda answer: self._discard_answered(op_id, answer, with_dependants))
        self.confirm_box = box
        box.open()

    def _discard_answered(self, op_id: int, answer: int, with_dependants: bool = False) -> None:
        self.confirm_box = None
        if answer == QMessageBox.StandardButton.Discard.value:
            self._decide(op_id, "discard", with_dependants=with_dependants)

    def _decide(self, op_id: int, action: str, *, with_dependants: bool = False) -> None:
        outbox = Outbox(self._context.workspace.db, clock=self._context.clock)

        def decide(op_id: int) -> OutboxOp:
            if action == "retry":
                return outbox.retry(op_id)
            return outbox.discard(op_id, with_dependants=with_dependants)

        self._context.runner.write(
            lambda: decide(op_id),
            lambda op: self._decided(op, action),
            lambda error: report_failure(
                self._context.events, error, f"{action.capitalize()} of operation {op_id}"
            ),
        )

    def _decided(self, op: OutboxOp, action: str) -> None:
        log.info("operation %d: %s by the user", op.id, action)
        self.decided.emit(op.id, action)
        self.refresh()
        if action == "retry":
            self._controller.sync_now()
