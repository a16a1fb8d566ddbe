"""The window side of sync, driven through the real widgets against the loopback
PagerDuty emulator: automatic passes, the status bar, the Sync tab, the settings dialog."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from console.domain.incident import Severity
from console.ops.outbox import Outbox
from console.sync import Accounts, Tokens
from console.sync.tokens import SERVICE as KEYRING_SERVICE
from tests.emulators.keyrings import MemoryKeyring, NoKeyring
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import FAST, SERVICE
from tests.ui.conftest import OFFSCREEN_NOTICE
from tests.ui.helpers_secondary import key_clicks
from ui.connectivity import ConnectivityMonitor, SyncStatusLabel
from ui.context import UiContext
from ui.sync.account_dialog import CUSTOM, AccountDialog
from ui.sync.controller import SyncController
from ui.sync.panel import SyncPanel
from ui.theme import apply_theme, contrast_ratio

WAIT_MS = 20_000

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)  # the confirmation boxes open


@pytest.fixture
def emulator() -> Iterator[PagerDutyEmulator]:
    server = PagerDutyEmulator().start()
    yield server
    server.stop()


def _tokens(token: str) -> Tokens:
    tokens = Tokens(MemoryKeyring(), environ={})
    tokens.store("pagerduty", token)
    return tokens


def _account(context: UiContext, emulator: PagerDutyEmulator, service: str = SERVICE) -> None:
    Accounts(context.workspace.db).add(
        "pagerduty",
        base_url=emulator.base_url,
        from_email="alice@example.com",
        default_service=service,
    )


def _declare(context: UiContext, title: str = "Checkout down") -> int:
    outcome = context.workspace.incidents.declare(title, Severity.SEV2, summary="500s on /pay")
    assert outcome.incident is not None
    context.events.changes_applied.emit(outcome.changes)
    return outcome.incident.id


def _note(context: UiContext, incident_id: int, text: str) -> None:
    context.events.changes_applied.emit(
        context.workspace.incidents.add_note(incident_id, text).changes
    )


def _counts(context: UiContext) -> dict[str, int]:
    return Outbox(context.workspace.db).counts()


def _controller(
    qtbot: QtBot, context: UiContext, tokens: Tokens
) -> tuple[SyncController, SyncPanel, SyncStatusLabel]:
    controller = SyncController(context, lambda: tokens, policy=FAST, debounce_ms=20)
    panel = SyncPanel(context, controller)
    qtbot.addWidget(panel)
    label = SyncStatusLabel(context)
    qtbot.addWidget(label)
    return controller, panel, label


def test_work_queued_offline_is_pushed_by_itself_when_connectivity_returns(
    qtbot: QtBot, pool_context: UiContext, emulator: PagerDutyEmulator
) -> None:
    context = pool_context
    _account(context, emulator)
    controller, panel, label = _controller(qtbot, context, _tokens(emulator.token))
    monitor = ConnectivityMonitor(context.events)
    with emulator.offline():
        monitor.set_online(False)
        with qtbot.waitSignal(controller.tokens_ready, timeout=WAIT_MS):
            controller.start()
        incident = _declare(context)
        _note(context, incident, "rolled back the deploy")
        qtbot.waitUntil(lambda: "2 changes waiting to sync" in label.plain_text(), timeout=WAIT_MS)
        # offline: no pass runs, none is scheduled, nothing reaches the network
        assert not controller.running
        assert controller.next_run_ms is None
        assert controller.last is None
        assert label.plain_text().startswith("● Offline · 2 changes waiting to sync")
        # the panel reads on each change: wait for the read after the second one
        qtbot.waitUntil(
            lambda: [r.cells[1] for r in panel.queued_model.rows] == ["2"], timeout=WAIT_MS
        )
        [queued] = panel.queued_model.rows
        assert queued.cells[:3] == (f"#{incident} Checkout down", "2", "just now")
        assert "Offline" in panel.state_label.text()
        assert "sent when the network returns" in panel.state_label.text()
    assert emulator.requests == []
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        monitor.set_online(True)  # the OS says so; the probe confirms; the pass pushes
    assert finished.args[0].pushed == 2
    assert _counts(context) == {"done": 2}
    remote = [i for i in emulator.incidents.values() if i.title == "Checkout down"]
    assert len(remote) == 1
    assert [n["content"].split("\n\n[rc:")[0] for n in remote[0].notes] == [
        "rolled back the deploy"
    ]
    qtbot.waitUntil(lambda: "all changes synced" in label.plain_text(), timeout=WAIT_MS)
    assert "last synced just now" in label.plain_text()
    qtbot.waitUntil(lambda: panel.status is not None and not panel.queued_model.rows)
    assert "pushed 2" in panel.last_pass_label.text()
    # a later write is pushed by itself, a moment after it (debounced)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        _note(context, incident, "error rate back to normal")
    assert _counts(context) == {"done": 3}
    controller.shutdown()


def test_sync_now_pulls_remote_activity_into_the_timeline_and_tells_the_views(
    qtbot: QtBot, pool_context: UiContext, emulator: PagerDutyEmulator
) -> None:
    context = pool_context
    emulator.populate(users=3)
    emulator.users[0]["email"] = "alice@example.com"  # the account's From user: us
    _account(context, emulator)
    controller, panel, _ = _controller(qtbot, context, _tokens(emulator.token))
    incident = _declare(context)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as first:
        controller.start()  # the first pass pushes, then pulls
    [pulled] = first.args[0].pulled
    assert pulled.failed == {}
    qtbot.waitUntil(lambda: "pagerduty.users just now" in panel.pulled_label.text())
    account = Accounts(context.workspace.db).get("pagerduty")
    link = Outbox(context.workspace.db).link(account.id, incident)
    assert link is not None
    emulator.remote_note(link.remote_id, "restarted the pods", emulator.users[1])
    # a local write's pass only pushes: the remote note stays out until a pull
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as pushed:
        _note(context, incident, "scaled the pool")
    assert pushed.args[0].pulled == ()
    with (
        qtbot.waitSignal(context.events.changes_applied, timeout=WAIT_MS) as changed,
        qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished,
    ):
        panel.sync_button.click()
    assert changed.args[0].timeline == frozenset({incident})
    assert "1 new timeline entry" in finished.args[0].describe()
    texts = [entry.text for entry in context.workspace.queries.timeline(incident)]
    assert texts.count("restarted the pods") == 1
    assert texts.count("scaled the pool") == 1
    controller.shutdown()


def test_a_probe_that_finds_no_vendor_sends_nothing_and_tries_again_later(
    qtbot: QtBot, pool_context: UiContext, emulator: PagerDutyEmulator
) -> None:
    context = pool_context
    _account(context, emulator)
    controller, _, _ = _controller(qtbot, context, _tokens(emulator.token))
    monitor = ConnectivityMonitor(context.events)
    monitor.set_online(False)
    with qtbot.waitSignal(controller.tokens_ready, timeout=WAIT_MS):
        controller.start()
    _declare(context)
    with emulator.offline(), qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        monitor.set_online(True)
    outcome = finished.args[0]
    assert outcome.reports == ()
    assert "does not answer yet" in outcome.describe()
    assert outcome.next_run_in == SyncController.PROBE_RETRY_S
    assert controller.next_run_ms is not None
    assert _counts(context) == {"pending": 1}
    assert emulator.requests == []
    controller.shutdown()
    assert controller.next_run_ms is None


def test_quitting_cancels_the_pass_in_flight_and_loses_nothing(
    qtbot: QtBot, pool_context: UiContext, emulator: PagerDutyEmulator
) -> None:
    context = pool_context
    _account(context, emulator)
    controller, panel, _ = _controller(qtbot, context, _tokens(emulator.token))
    monitor = ConnectivityMonitor(context.events)
    monitor.set_online(False)  # no automatic pass: the button starts the one below
    with qtbot.waitSignal(controller.tokens_ready, timeout=WAIT_MS):
        controller.start()
    incident = _declare(context)
    for number in range(40):
        context.workspace.incidents.add_note(incident, f"note {number}")
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        panel.sync_button.click()  # "Sync now" works offline too: the user asked
        assert controller.running
        assert not panel.sync_button.isEnabled()
        controller.shutdown()  # what QCoreApplication.aboutToQuit does
    outcome = finished.args[0]
    counts = _counts(context)
    # what was confirmed is on the vendor once; the rest waits for the next start
    assert counts.get("done", 0) == outcome.pushed
    assert counts.get("done", 0) + counts.get("pending", 0) == 41
    remote = [i for i in emulator.incidents.values() if i.title == "Checkout down"]
    assert len(remote) == (1 if outcome.pushed else 0)
    assert sum(len(i.notes) for i in remote) == max(0, outcome.pushed - 1)
    # no pass after quit: no timer, and no trigger starts one
    assert controller.next_run_ms is None
    monitor.set_online(True)
    panel.sync_button.click()
    _note(context, incident, "typed while quitting")
    assert not controller.running


def test_a_refused_token_stops_the_account_in_red_and_keeps_everything_queued(
    qtbot: QtBot, pool_context: UiContext, emulator: PagerDutyEmulator
) -> None:
    context = pool_context
    _account(context, emulator)
    controller, panel, label = _controller(qtbot, context, _tokens("a-revoked-token"))
    _declare(context)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        controller.start()  # the token store opens, then the first pass runs
    [report] = finished.args[0].reports
    assert report.stopped is not None
    assert "Authentication failed" in report.stopped
    assert _counts(context) == {"pending": 1}
    qtbot.waitUntil(lambda: "refused the token" in label.plain_text(), timeout=WAIT_MS)
    assert "PagerDuty refused the token: update it in Sync ▸ Accounts…" in label.plain_text()
    assert "color:#d32f2f" in label.text()
    qtbot.waitUntil(
        lambda: [row.alarm for row in panel.accounts_model.rows] == [True], timeout=WAIT_MS
    )
    [row] = panel.accounts_model.rows
    assert row.cells[4].startswith("Stopped: pagerduty refused the token")
    assert row.cells[4].endswith("Update the token in Accounts… to resume")
    # stopped: no pass is scheduled until the account is saved again
    assert controller.next_run_ms is None
    with qtbot.waitSignal(label.clicked):
        QTest.mouseClick(label, Qt.MouseButton.LeftButton)
    controller.shutdown()


def test_retry_and_discard_from_the_panel(
    qtbot: QtBot, pool_context: UiContext, emulator: PagerDutyEmulator
) -> None:
    context = pool_context
    _account(context, emulator, service="XBROKEN")  # PagerDuty refuses the service
    keyring = MemoryKeyring()
    tokens = Tokens(keyring, environ={})
    tokens.store("pagerduty", emulator.token)
    controller, panel, label = _controller(qtbot, context, tokens)
    first = _declare(context, "Checkout down")
    second = _declare(context, "Search slow")
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        controller.start()
    qtbot.waitUntil(lambda: len(panel.decisions_model.rows) == 2, timeout=WAIT_MS)
    assert all(row.alarm for row in panel.decisions_model.rows)
    assert {row.cells[4] for row in panel.decisions_model.rows} == {
        "HTTP 400: Invalid Input Provided; Service not found"
    }
    assert "2 need attention" in label.plain_text()
    failed = {op.incident_id: op.id for op in Outbox(context.workspace.db).listing(("failed",))}
    assert not panel.retry_button.isEnabled()

    # discard asks first; Cancel keeps the operation
    assert panel.select_operation(failed[second])
    assert panel.discard_button.isEnabled()
    shown = panel.status
    panel.refresh()  # as after every pass: the selection stays
    qtbot.waitUntil(lambda: panel.status is not shown, timeout=WAIT_MS)
    assert panel.selected_operation() == failed[second]
    panel.discard_button.click()
    assert panel.confirm_box is not None
    panel.confirm_box.button(QMessageBox.StandardButton.Cancel).click()
    assert Outbox(context.workspace.db).get(failed[second]).state == "failed"
    panel.discard_button.click()
    assert panel.confirm_box is not None
    with qtbot.waitSignal(panel.decided, timeout=WAIT_MS) as decided:
        panel.confirm_box.button(QMessageBox.StandardButton.Discard).click()
    assert decided.args == [failed[second], "discard"]
    discarded = Outbox(context.workspace.db).get(failed[second])
    assert discarded.state == "superseded"
    assert discarded.last_error is not None
    assert discarded.last_error.startswith("discarded by the user: HTTP 400")

    # the user fixes the default service in the dialog, then retries the other one
    dialog = AccountDialog(context, tokens)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.state is not None, timeout=WAIT_MS)
    dialog.service_edit.setText(SERVICE)
    with qtbot.waitSignal(dialog.changed, timeout=WAIT_MS):
        dialog.save_button.click()
    qtbot.waitUntil(lambda: not controller.running and panel.select_operation(failed[first]))
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        panel.retry_button.click()  # back in the queue, and a pass starts at once
    assert finished.args[0].pushed == 1
    assert Outbox(context.workspace.db).get(failed[first]).state == "done"
    assert [i.title for i in emulator.incidents.values()] == ["Checkout down"]
    qtbot.waitUntil(
        lambda: [row.cells[3] for row in panel.decisions_model.rows] == ["superseded"],
        timeout=WAIT_MS,
    )
    controller.shutdown()


def _pick_custom(dialog: AccountDialog, url: str) -> None:
    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findText(CUSTOM))
    dialog.url_edit.setText(url)


def test_the_dialog_stores_the_token_in_the_keyring_and_never_shows_or_logs_it(
    qtbot: QtBot,
    context: UiContext,
    emulator: PagerDutyEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "u+Secret-Token-4711"
    keyring = MemoryKeyring()
    tokens = Tokens(keyring, environ={})
    dialog = AccountDialog(context, tokens)
    qtbot.addWidget(dialog)
    assert dialog.vendor == "pagerduty"
    assert dialog.url_edit.text() == "https://api.pagerduty.com"
    assert dialog.url_edit.isReadOnly()
    dialog.preset_combo.setCurrentIndex(1)
    assert dialog.url_edit.text() == "https://api.eu.pagerduty.com"
    assert not dialog.session_check.isVisibleTo(dialog)
    assert "OS keyring" in dialog.token_note.text()
    assert not dialog.remove_button.isEnabled()

    # refused settings change nothing and say why
    _pick_custom(dialog, "http://example.com")
    dialog.from_edit.setText("alice@example.com")
    dialog.service_edit.setText(SERVICE)
    dialog.save_button.click()
    assert "plain http is allowed for a loopback emulator only" in dialog.message.text()
    assert Accounts(context.workspace.db).list() == []

    _pick_custom(dialog, emulator.base_url)
    key_clicks(qtbot, dialog.token_edit, secret)
    assert dialog.token_edit.echoMode() == dialog.token_edit.EchoMode.Password
    with qtbot.waitSignal(dialog.changed):
        dialog.save_button.click()
    assert keyring.secrets == {(KEYRING_SERVICE, "pagerduty"): secret}
    account = Accounts(context.workspace.db).get("pagerduty")
    assert (account.base_url, account.from_email, account.default_service) == (
        emulator.base_url,
        "alice@example.com",
        SERVICE,
    )
    assert dialog.message.text() == "Saved. The token is kept in the OS keyring."
    assert dialog.token_edit.text() == ""
    assert "a token is stored (keyring)" in dialog.token_edit.placeholderText()
    # re-opened, the dialog shows the settings, never the token
    again = AccountDialog(context, tokens)
    qtbot.addWidget(again)
    assert again.url_edit.text() == emulator.base_url
    assert again.preset_combo.currentText() == CUSTOM
    assert again.token_edit.text() == ""
    assert again.remove_button.isEnabled()
    shown = [w.text() for w in again.findChildren(type(again.message)) if hasattr(w, "text")]
    assert not any(secret in text for text in shown)
    assert not any(secret in record.getMessage() for record in caplog.records)
    database = context.workspace.folder.rglob("*")
    assert not any(secret.encode() in p.read_bytes() for p in database if p.is_file())

    # Opsgenie takes no From or default service
    again.vendor_combo.setCurrentIndex(again.vendor_combo.findData("opsgenie"))
    assert not again.from_edit.isVisibleTo(again)
    assert again.url_edit.text() == "https://api.opsgenie.com"

    # removal asks first, then forgets the token
    again.vendor_combo.setCurrentIndex(again.vendor_combo.findData("pagerduty"))
    again.remove_button.click()
    assert again.confirm_box is not None
    with qtbot.waitSignal(again.changed):
        again.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert Accounts(context.workspace.db).list() == []
    assert keyring.secrets == {}


def test_without_a_keyring_the_dialog_says_so_and_keeps_the_token_for_the_session(
    qtbot: QtBot, context: UiContext, emulator: PagerDutyEmulator
) -> None:
    tokens = Tokens(NoKeyring(), environ={})
    dialog = AccountDialog(context, tokens)
    qtbot.addWidget(dialog)
    assert "No OS keyring is available" in dialog.token_note.text()
    assert "RESPONDER_CONSOLE_PAGERDUTY_TOKEN" in dialog.token_note.text()
    assert dialog.session_check.isVisibleTo(dialog)
    assert dialog.session_check.isChecked()
    _pick_custom(dialog, emulator.base_url)
    dialog.from_edit.setText("alice@example.com")
    dialog.service_edit.setText(SERVICE)

    # unticked, the token has nowhere to go: said so, nothing added
    dialog.session_check.setChecked(False)
    key_clicks(qtbot, dialog.token_edit, emulator.token)
    dialog.save_button.click()
    assert "no OS keyring is available to keep the pagerduty token" in dialog.message.text()
    assert "for this session only" in dialog.message.text()
    assert Accounts(context.workspace.db).list() == []
    assert tokens.get("pagerduty") is None

    dialog.session_check.setChecked(True)
    key_clicks(qtbot, dialog.token_edit, emulator.token)
    with qtbot.waitSignal(dialog.changed):
        dialog.save_button.click()
    assert tokens.source("pagerduty") == "session"
    assert tokens.get("pagerduty") == emulator.token
    assert dialog.message.text() == "Saved. The token is kept in this session only."
    assert Accounts(context.workspace.db).get("pagerduty").base_url == emulator.base_url


def test_the_window_has_a_sync_tab_menu_and_palette_entries(
    qtbot: QtBot, context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.main_window import MainWindow
    from ui.palette import CommandPalette, PaletteEntry

    window = MainWindow.for_context(context)
    qtbot.addWidget(window)
    before = window.sync
    assert before is None  # built on first use (or by the app's idle queue)
    panel = window.area("sync")
    assert window.sync is not None
    assert window.sync_panel is panel
    assert window.tabs.indexOf(panel) >= 0
    shortcuts = {
        name: window.actions_by_name[name].shortcut().toString()
        for name in ("sync_now", "sync_panel", "sync_accounts")
    }
    assert shortcuts == {
        "sync_now": "Ctrl+Shift+Y",
        "sync_panel": "Ctrl+Alt+Y",
        "sync_accounts": "Ctrl+Alt+K",
    }
    # the default keyring opens off the GUI thread; here it is keyring's "none" backend
    qtbot.waitUntil(lambda: window.sync is not None and window.sync.tokens is not None)
    qtbot.waitUntil(lambda: window.sync_panel is not None and window.sync_panel.status is not None)
    assert "no OS keyring" in window.sync_panel.state_label.text()
    assert "no account yet" in window.sync_panel.state_label.text()
    seen: list[str] = []

    def ask(cls: object, parent: object, entries: list[PaletteEntry], *_: object) -> PaletteEntry:
        seen.extend(entry.title for entry in entries)
        return next(entry for entry in entries if entry.title == "Sync panel")

    monkeypatch.setattr(CommandPalette, "ask", classmethod(ask))
    window.actions_by_name["palette"].trigger()
    assert {"Sync now", "Sync panel", "Sync accounts"} <= set(seen)
    assert window.tabs.currentWidget() is window.sync_panel
    window.tabs.setCurrentIndex(0)
    assert window.sync_status is not None
    QTest.mouseClick(window.sync_status, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.sync_panel
    window.actions_by_name["sync_accounts"].trigger()
    dialog = window.findChild(AccountDialog)
    assert dialog is not None
    assert "No OS keyring is available" in dialog.token_note.text()
    dialog.close()
    window.sync.shutdown()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_no_keyring_warning_is_readable_in_both_themes(
    qtbot: QtBot, context: UiContext, mode: str
) -> None:
    """Issue 16 item 10: the keyring warning's orange was 3.1:1 on the light background."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = QPalette(app.palette())
    apply_theme(app, mode, install_style=False)
    try:
        dialog = AccountDialog(context, Tokens(NoKeyring(), environ={}))
        qtbot.addWidget(dialog)
        sheet = dialog.token_note.styleSheet()
        match = re.search(r"color: (#[0-9a-fA-F]{6})", sheet)
        assert match is not None, sheet
        background = dialog.palette().color(QPalette.ColorRole.Window)
        assert contrast_ratio(QColor(match.group(1)), background) >= 4.5
    finally:
        apply_theme(app, "light", install_style=False)  # detaches the system follower
        app.setProperty("responderConsoleDark", None)
        app.setPalette(before)
