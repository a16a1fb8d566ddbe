"""The account settings dialog: add, edit or remove the PagerDuty and Opsgenie accounts.

One account per vendor (as ``account add``), so the vendor box also picks the
account to edit. The base URL is a preset (PagerDuty US/EU, Opsgenie US/EU) or a
custom one (another https host, or a loopback emulator over http). The token
goes to the OS keyring through ``console.sync.Tokens``; without a keyring the
dialog says so and offers to keep it for this session only. The token field
never shows a stored token (it is write-only and cleared after saving), and the
token is never logged. Reads on the reader lane, saves on the writer lane.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.errors import ConsoleError
from console.sync import Account, Accounts, NoKeyringError, Tokens
from console.sync.accounts import PRESETS, VENDOR_NAMES, VENDORS
from ui.context import UiContext

log = logging.getLogger(__name__)

CUSTOM = "Custom or loopback URL"


@dataclass(frozen=True)
class AccountState:
    """What the dialog shows for one vendor (never the token itself)."""

    vendor: str
    account: Account | None
    #: "environment", "session", "keyring" or None
    token_source: str | None
    keyring: bool
    no_keyring_message: str


def read_state(accounts: Accounts, tokens: Tokens, vendor: str) -> AccountState:
    return AccountState(
        vendor,
        accounts.find(vendor),
        tokens.source(vendor),
        tokens.keyring_available(),
        tokens.no_keyring_message(vendor),
    )


@dataclass(frozen=True)
class Settings:
    vendor: str
    base_url: str
    from_email: str | None
    default_service: str | None
    #: typed by the user; empty keeps the stored token
    token: str
    session_only: bool


def save(accounts: Accounts, tokens: Tokens, settings: Settings) -> AccountState:
    """The token first (as ``account add``): a refused token leaves no half-added account."""
    if settings.token.strip():
        if settings.session_only:
            tokens.keep_for_session(settings.vendor, settings.token)
        else:
            tokens.store(settings.vendor, settings.token)
    accounts.add(
        settings.vendor,
        base_url=settings.base_url,
        from_email=settings.from_email,
        default_service=settings.default_service,
    )
    return read_state(accounts, tokens, settings.vendor)


def remove(accounts: Accounts, tokens: Tokens, vendor: str) -> AccountState:
    accounts.remove(vendor)
    tokens.forget(vendor)
    return read_state(accounts, tokens, vendor)


class AccountDialog(QDialog):
    #: str vendor — an account was saved or removed (the controller syncs again)
    changed = Signal(str)

    def __init__(self, context: UiContext, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountDialog")
        self.setWindowTitle("Sync accounts")
        self.setMinimumWidth(560)
        self._context = context
        self._tokens = tokens
        self._accounts = Accounts(context.workspace.db, clock=context.clock)
        self.state: AccountState | None = None
        self.confirm_box: QMessageBox | None = None

        self.vendor_combo = QComboBox(self)
        for vendor in VENDORS:
            self.vendor_combo.addItem(VENDOR_NAMES[vendor], vendor)
        self.vendor_combo.setAccessibleName("Vendor")
        self.preset_combo = QComboBox(self)
        self.preset_combo.setAccessibleName("API region")
        self.url_edit = QLineEdit(self)
        self.url_edit.setAccessibleName("Base URL")
        self.url_edit.setPlaceholderText("https://… or http://127.0.0.1:PORT for an emulator")
        self.from_edit = QLineEdit(self)
        self.from_edit.setAccessibleName("From e-mail")
        self.from_edit.setPlaceholderText("the e-mail of a PagerDuty user (sent as From)")
        self.service_edit = QLineEdit(self)
        self.service_edit.setAccessibleName("Default service")
        self.service_edit.setPlaceholderText("service id, e.g. PABC123")
        self.token_edit = QLineEdit(self)
        self.token_edit.setObjectName("tokenEdit")
        self.token_edit.setAccessibleName("API token")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.token_note = QLabel(self)
        self.token_note.setObjectName("tokenNote")
        self.token_note.setWordWrap(True)
        self.session_check = QCheckBox("Keep the token for this session only", self)
        self.session_check.setToolTip("It is forgotten when the window closes; nothing is written")
        self.message = QLabel(self)
        self.message.setObjectName("accountMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("&Vendor", self.vendor_combo)
        form.addRow("API &region", self.preset_combo)
        form.addRow("&Base URL", self.url_edit)
        form.addRow("&From e-mail", self.from_edit)
        form.addRow("Default &service", self.service_edit)
        form.addRow("API &token", self.token_edit)
        form.addRow("", self.token_note)
        form.addRow("", self.session_check)
        self._form = form

        self.save_button = QPushButton("&Save", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setToolTip("Remove the account and forget its token (asks first)")
        self.remove_button.clicked.connect(self.ask_remove)
        close = QPushButton("Close", self)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        self.vendor_combo.currentIndexChanged.connect(self._on_vendor_changed)
        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        self._on_vendor_changed()

    @property
    def vendor(self) -> str:
        return str(self.vendor_combo.currentData())

    # ----------------------------------------------------------------- loading

    @Slot()
    def _on_vendor_changed(self) -> None:
        vendor = self.vendor
        pagerduty = vendor == "pagerduty"
        for widget in (self.from_edit, self.service_edit):
            widget.setVisible(pagerduty)
            self._form.labelForField(widget).setVisible(pagerduty)
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        for label, url in PRESETS[vendor]:
            self.preset_combo.addItem(f"{label} ({url})", url)
        self.preset_combo.addItem(CUSTOM, None)
        self.preset_combo.blockSignals(False)
        self._on_preset_changed()
        self.from_edit.clear()
        self.service_edit.clear()
        self.token_edit.clear()
        self.setEnabled(False)  # until the account is read
        accounts, tokens = self._accounts, self._tokens
        self._context.runner.read(
            lambda: read_state(accounts, tokens, vendor), self._show, self._failed
        )

    @Slot()
    def _on_preset_changed(self) -> None:
        url = self.preset_combo.currentData()
        custom = url is None
        self.url_edit.setReadOnly(not custom)
        if not custom:
            self.url_edit.setText(str(url))
        elif not self.url_edit.text() or self._is_preset(self.url_edit.text()):
            self.url_edit.clear()
            self.url_edit.setFocus()

    def _is_preset(self, url: str) -> bool:
        return any(url == preset for _, preset in PRESETS[self.vendor])

    def _show(self, state: AccountState) -> None:
        if state.vendor != self.vendor:
            return  # the user switched vendors meanwhile; that read is on its way
        self.state = state
        self.setEnabled(True)
        account = state.account
        if account is not None:
            self.select_base_url(account.base_url)
            self.from_edit.setText(account.from_email or "")
            self.service_edit.setText(account.default_service or "")
        self.remove_button.setEnabled(account is not None)
        self.token_edit.clear()
        source = state.token_source
        self.token_edit.setPlaceholderText(
            f"a token is stored ({source}); type a new one to replace it"
            if source
            else "paste the API token"
        )
        if not state.keyring:
            self.token_note.setText(
                "No OS keyring is available, so the token cannot be stored. "
                "Tick the box below to keep it for this session only, or set "
                f"{_env_var(state.vendor)} before starting."
            )
            self.token_note.setStyleSheet(f"color: {warning_color().name()};")
        else:
            self.token_note.setText("Stored in the OS keyring, never in the workspace.")
            self.token_note.setStyleSheet("")
        self.session_check.setVisible(not state.keyring)
        self.session_check.setChecked(not state.keyring)
        if account is None:
            self.message.setText(f"No {VENDOR_NAMES[state.vendor]} account yet.")
            self.message.setStyleSheet("")
        elif account.stopped_reason:
            self.message.setText(
                f"Stopped: {account.stopped_reason}. Type a new token and save to resume."
            )
            self.message.setStyleSheet(f"color: {_alert().name()};")
        else:
            self.message.setText(f"{VENDOR_NAMES[state.vendor]} account in use.")
            self.message.setStyleSheet("")
        self.adjustSize()  # the notes above wrap onto more lines than the first layout had

    def select_base_url(self, url: str) -> None:
        index = self.preset_combo.findData(url)
        if index < 0:
            index = self.preset_combo.count() - 1  # custom
        self.preset_combo.setCurrentIndex(index)
        self.url_edit.setText(url)

    def _failed(self, error: BaseException) -> None:
        self.setEnabled(True)
        if isinstance(error, NoKeyringError):
            self.session_check.setVisible(True)
            text = f"{error}. Tick “Keep the token for this session only” to use it anyway."
        elif isinstance(error, ConsoleError):
            text = str(error)
        else:
            log.error("the account dialog failed: %s", type(error).__name__, exc_info=error)
            text = f"Internal error ({type(error).__name__}); the details are in the log"
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {_alert().name()};")

    # ----------------------------------------------------------------- saving

    @Slot()
    def save(self) -> None:
        pagerduty = self.vendor == "pagerduty"  # Opsgenie takes neither field
        settings = Settings(
            vendor=self.vendor,
            base_url=self.url_edit.text().strip(),
            from_email=(self.from_edit.text().strip() or None) if pagerduty else None,
            default_service=(self.service_edit.text().strip() or None) if pagerduty else None,
            token=self.token_edit.text(),
            session_only=self.session_check.isVisibleTo(self) and self.session_check.isChecked(),
        )
        if not settings.base_url:
            self._failed(ConsoleError("Type the base URL, or pick a region"))
            return
        self.token_edit.clear()  # the dialog keeps no copy; the typed one travels in `settings`
        self.setEnabled(False)
        accounts, tokens = self._accounts, self._tokens
        self._context.runner.write(
            lambda: save(accounts, tokens, settings), self._saved, self._failed
        )

    def _saved(self, state: AccountState) -> None:
        self._show(state)
        where = {"keyring": "the OS keyring", "session": "this session only"}.get(
            state.token_source or "", state.token_source or "nowhere yet"
        )
        self.message.setText(f"Saved. The token is kept in {where}.")
        self.message.setStyleSheet("")
        self.changed.emit(state.vendor)

    @Slot()
    def ask_remove(self) -> None:
        vendor = self.vendor
        box = QMessageBox(self)
        box.setObjectName("confirmRemove")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Remove the account?")
        box.setText(
            f"The {VENDOR_NAMES[vendor]} account is removed and its token forgotten. "
            "Queued operations stay queued until an account is added again."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda answer: self._remove_answered(vendor, answer))
        self.confirm_box = box
        box.open()

    def _remove_answered(self, vendor: str, answer: int) -> None:
        self.confirm_box = None
        if answer != QMessageBox.StandardButton.Yes.value:
            return
        self.setEnabled(False)
        accounts, tokens = self._accounts, self._tokens

        def removed(state: AccountState) -> None:
            self._on_vendor_changed()
            self.message.setText(f"{VENDOR_NAMES[vendor]} account removed; its token forgotten.")
            self.changed.emit(vendor)

        self._context.runner.write(lambda: remove(accounts, tokens, vendor), removed, self._failed)


def _env_var(vendor: str) -> str:
    from console.sync.tokens import ENV_VARS

    return ENV_VARS[vendor]


def warning_color() -> QColor:
    """A warning's orange with a contrast of at least 4.5:1 (WCAG AA) on the dialog's
    background in either theme (#c77700 was 3.1:1 on the light one)."""
    from ui.theme import is_dark

    return QColor("#ffb74d" if is_dark() else "#8a5300")


def _alert() -> QColor:
    from ui.theme import alert_color, is_dark

    return alert_color(is_dark())
