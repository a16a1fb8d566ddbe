"""The Sync tab with operations blocked behind a refused creation (issue 14, item 12):
shown with the reason, discarded with their creation only after a dialog says so,
released by retrying the creation. Real widgets, the loopback PagerDuty emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from console.ops.outbox import Outbox
from console.sync import Accounts, Tokens
from tests.emulators.keyrings import MemoryKeyring
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import SERVICE, remote_notes
from tests.ui.conftest import OFFSCREEN_NOTICE
from tests.ui.test_sync import WAIT_MS, _account, _controller, _declare, _note
from ui.context import UiContext

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)  # the confirmation box opens

REFUSED = "HTTP 400: Invalid Input Provided; Service not found"


@pytest.fixture
def emulator() -> Iterator[PagerDutyEmulator]:
    server = PagerDutyEmulator().start()
    yield server
    server.stop()


def test_blocked_operations_are_shown_discarded_with_their_creation_or_released(
    qtbot: QtBot, pool_context: UiContext, emulator: PagerDutyEmulator
) -> None:
    context = pool_context
    db = context.workspace.db
    _account(context, emulator, service="XBROKEN")  # PagerDuty refuses the creations
    tokens = Tokens(MemoryKeyring(), environ={})
    tokens.store("pagerduty", emulator.token)
    controller, panel, label = _controller(qtbot, context, tokens)
    doomed = _declare(context, "Checkout down")
    _note(context, doomed, "rolled back")
    _note(context, doomed, "still down")
    kept = _declare(context, "Search slow")
    _note(context, kept, "reindexing")
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        controller.start()
    [report] = finished.args[0].reports
    assert (report.failed, report.blocked, report.waiting) == (2, 3, 0)
    assert "3 blocked until someone decides" in finished.args[0].describe()
    creates = {op.incident_id: op.id for op in Outbox(db).listing(("failed",))}

    # each blocked operation is listed with why, in red, and so is its incident's queue
    qtbot.waitUntil(lambda: len(panel.decisions_model.rows) == 5, timeout=WAIT_MS)
    blocked = [row for row in panel.decisions_model.rows if row.cells[3] == "blocked"]
    assert len(blocked) == 3
    assert all(row.alarm for row in blocked)
    reason = (
        f"waiting on the incident's creation (operation {creates[doomed]}), which "
        f"PagerDuty refused: {REFUSED}"
    )
    assert [row.cells[4] for row in blocked[:2]] == [reason, reason]
    queued = {row.key: row for row in panel.queued_model.rows}
    assert queued[doomed].cells[3] == f"Blocked: {reason}. Decide below"
    assert queued[doomed].alarm
    # the status bar: nothing "waiting" patiently; 2 failed + 3 blocked need a person
    qtbot.waitUntil(lambda: "5 need attention" in label.plain_text(), timeout=WAIT_MS)
    assert "waiting to sync" not in label.plain_text()
    assert "3 blocked" in panel.state_label.text()

    # discarding the creation asks, naming the operations that go with it
    assert panel.select_operation(creates[doomed])
    panel.discard_button.click()
    box = panel.confirm_box
    assert box is not None
    assert "its 2 later operation(s)" in box.text()
    assert "will be discarded with it" in box.text()
    assert box.button(QMessageBox.StandardButton.Discard).text() == "Discard all 3"
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert Outbox(db).counts() == {"failed": 2, "pending": 3}
    panel.discard_button.click()
    assert panel.confirm_box is not None
    with qtbot.waitSignal(panel.decided, timeout=WAIT_MS):
        panel.confirm_box.button(QMessageBox.StandardButton.Discard).click()
    assert Outbox(db).counts() == {"failed": 1, "pending": 1, "superseded": 3}

    # Retry on a blocked operation sends its creation again, then it, in order
    Accounts(db).add(
        "pagerduty", base_url=emulator.base_url, from_email="alice@example.com",
        default_service=SERVICE,
    )  # fmt: skip
    qtbot.waitUntil(
        lambda: [r.cells[3] for r in panel.decisions_model.rows].count("blocked") == 1,
        timeout=WAIT_MS,
    )
    [held] = [row for row in panel.decisions_model.rows if row.cells[3] == "blocked"]
    assert held.cause == creates[kept]
    qtbot.waitUntil(lambda: not controller.running, timeout=WAIT_MS)
    assert isinstance(held.key, int)
    assert panel.select_operation(held.key)
    assert panel.retry_button.isEnabled()
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as retried:
        panel.retry_button.click()
    assert retried.args[0].pushed == 2
    [remote] = emulator.incidents
    assert remote_notes(emulator, remote) == ["reindexing"]
    assert Outbox(db).counts() == {"done": 2, "superseded": 3}
    controller.shutdown()
