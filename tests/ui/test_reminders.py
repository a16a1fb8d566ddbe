"""Reminders: polled on the read lane, broadcast every check, notified once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from console.domain.incident import EntryKind, Status
from console.domain.views import Reminder
from tests.ui.helpers_secondary import OFFSCREEN_NOTICES, START, Setup, make_setup
from ui.reminders import ReminderBanner, ReminderCenter, describe_due, describe_reminder

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = make_setup(tmp_path)  # a SEV1: status update every 30 min, executives every 60
    yield made
    made.workspace.close()


@pytest.fixture
def alerts(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record notifications instead of showing them (no tray offscreen: window alert)."""
    window = QWidget()
    qtbot.addWidget(window)
    window.show()  # the window that gets alerted
    shown: list[str] = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    monkeypatch.setattr(
        QApplication, "alert", staticmethod(lambda widget, msec=0: shown.append("alert"))
    )
    yield shown
    window.close()  # kept alive (and visible) until here


def test_describe_due() -> None:
    reminder_due = Reminder(
        1,
        "Checkout failing for EU customers since 02:40",
        7,
        "Post a status update",
        due_at=_t(0),
        overdue=True,
    )
    assert describe_due(_t(4), _t(0)) == ("due in 4 min", False)
    assert describe_due(_t(0), _t(0)) == ("due now", True)
    assert describe_due(_t(0), _t(3)) == ("overdue 3 min", True)
    assert describe_due(_t(0), _t(125)) == ("overdue 2 h 5 min", True)
    assert describe_reminder(reminder_due, _t(3)) == (
        "Due: Post a status update — overdue 3 min (#1 Checkout failing for EU customers since…)"
    )


def _t(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def test_nothing_due_still_emits_an_empty_list(
    qtbot: QtBot, setup: Setup, alerts: list[str]
) -> None:
    center = ReminderCenter(setup.context)
    with qtbot.waitSignal(setup.context.events.reminders_due) as blocker:
        center.check_now()
    assert blocker.args == [[]]
    assert alerts == []


def test_due_reminder_is_emitted_and_notified_once(
    qtbot: QtBot, setup: Setup, alerts: list[str]
) -> None:
    center = ReminderCenter(setup.context)
    setup.clock.advance(minutes=31)
    with qtbot.waitSignal(setup.context.events.reminders_due) as blocker:
        center.check_now()
    (due,) = blocker.args[0]
    assert due.title == "Post a status update"
    assert due.incident_id == setup.incident_id
    assert due.overdue
    assert alerts == ["alert"]
    with qtbot.waitSignal(setup.context.events.reminders_due) as blocker:
        center.check_now()
    assert len(blocker.args[0]) == 1  # still due, still broadcast…
    assert alerts == ["alert"]  # …but not notified twice
    setup.clock.advance(minutes=30)  # the hourly executive update joins it
    with qtbot.waitSignal(setup.context.events.reminders_due) as blocker:
        center.check_now()
    assert [r.title for r in blocker.args[0]] == ["Post a status update", "Update executives"]
    assert alerts == ["alert", "alert"]


def test_uses_the_tray_when_there_is_one(
    qtbot: QtBot, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages: list[tuple[str, str]] = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "show", lambda self: None)
    monkeypatch.setattr(
        QSystemTrayIcon,
        "showMessage",
        lambda self, title, body, *args: messages.append((title, body)),
    )
    center = ReminderCenter(setup.context)
    setup.clock.advance(minutes=35)
    center.check_now()
    assert messages == [
        ("Reminder due", "Post a status update — overdue 5 min (#1 Checkout failing for EU)")
    ]


def test_timer_polls(qtbot: QtBot, setup: Setup, alerts: list[str]) -> None:
    center = ReminderCenter(setup.context, interval_ms=10)
    with qtbot.waitSignal(setup.context.events.reminders_due):
        center.start()  # an immediate check
    with qtbot.waitSignal(setup.context.events.reminders_due, timeout=2000):
        pass  # and another from the timer
    center.stop()


def test_banner_shows_done_ticks_and_moves_due_time(
    qtbot: QtBot, setup: Setup, alerts: list[str]
) -> None:
    center = ReminderCenter(setup.context)
    banner = ReminderBanner(setup.context)
    qtbot.addWidget(banner)
    banner.show()
    center.check_now()
    assert banner.isHidden()
    setup.clock.advance(minutes=33)
    center.check_now()
    assert banner.isVisible()
    assert banner.label.text() == (
        "Due: Post a status update — overdue 3 min (#1 Checkout failing for EU)"
    )
    item_id = banner.current().item_id  # type: ignore[union-attr]  # shown above
    with qtbot.waitSignal(setup.context.events.changes_applied) as blocker:
        banner.done_button.click()
    assert setup.incident_id in blocker.args[0].checklist
    assert banner.isHidden()  # the center re-checked after the change: nothing due
    entries = setup.workspace.queries.timeline(setup.incident_id)
    assert entries[-1].kind is EntryKind.CHECKLIST_DONE
    assert entries[-1].text == "Done: Post a status update"
    (item,) = [i for i in setup.workspace.queries.checklist(setup.incident_id) if i.id == item_id]
    assert item.due_at == setup.clock.now + timedelta(minutes=30)


def test_banner_counts_others_and_open_selects_incident(
    qtbot: QtBot, setup: Setup, alerts: list[str]
) -> None:
    center = ReminderCenter(setup.context)
    banner = ReminderBanner(setup.context)
    qtbot.addWidget(banner)
    banner.show()
    setup.clock.advance(minutes=61)
    center.check_now()
    assert banner.more.text() == "+1 more"
    with qtbot.waitSignal(setup.context.events.incident_selected) as blocker:
        banner.open_button.click()
    assert blocker.args == [setup.incident_id]


def test_banner_hides_when_incident_resolved(qtbot: QtBot, setup: Setup, alerts: list[str]) -> None:
    center = ReminderCenter(setup.context)
    banner = ReminderBanner(setup.context)
    qtbot.addWidget(banner)
    banner.show()
    setup.clock.advance(minutes=40)
    center.check_now()
    assert banner.isVisible()
    outcome = setup.workspace.incidents.change_status(setup.incident_id, Status.RESOLVED)
    setup.context.events.changes_applied.emit(outcome.changes)  # the center re-checks
    assert banner.isHidden()


def test_banner_done_failure_is_reported_not_hidden(
    qtbot: QtBot, setup: Setup, alerts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.domain.errors import DatabaseLockedError

    def locked(*args: object, **kwargs: object) -> None:
        raise DatabaseLockedError("console.db is locked by another program")

    center = ReminderCenter(setup.context)
    banner = ReminderBanner(setup.context)
    qtbot.addWidget(banner)
    banner.show()
    setup.clock.advance(minutes=40)
    center.check_now()
    monkeypatch.setattr(setup.workspace.incidents, "tick_item", locked)
    with (
        qtbot.waitSignal(setup.context.events.error_shown) as blocker,
        qtbot.assertNotEmitted(setup.context.events.changes_applied),
    ):
        banner.done_button.click()
    assert "locked" in blocker.args[0]
    assert banner.isVisible()
    assert banner.done_button.isEnabled()


def test_a_poll_after_shutdown_stops_quietly(setup: Setup) -> None:
    """A window left for the garbage collector (or one quitting) keeps its timer a little
    while; a poll after the runner shut down must not raise into the event loop."""
    center = ReminderCenter(setup.context, interval_ms=10)
    center.start()
    setup.context.runner.shutdown()
    center.check_now()  # raised RuntimeError("the task runner is shut down") before
    assert setup.context.runner.closed
    assert not center._timer.isActive()  # and it stops polling
