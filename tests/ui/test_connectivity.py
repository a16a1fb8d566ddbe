"""Connectivity: reachability mapping, the monitor's change signal, the sync label."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtNetwork import QNetworkInformation
from pytestqt.qtbot import QtBot

from console.domain.freshness import describe_age
from console.domain.views import Changes
from tests.ui.helpers_secondary import Setup, make_setup
from ui.connectivity import (
    ConnectivityMonitor,
    SyncSnapshot,
    SyncStatusLabel,
    describe_sync,
    online_from,
)
from ui.events import AppEvents

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
R = QNetworkInformation.Reachability


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        (None, "never"),
        (NOW, "just now"),
        (NOW - timedelta(seconds=59), "just now"),
        (NOW + timedelta(seconds=30), "just now"),  # a clock slightly ahead
        (NOW - timedelta(minutes=1), "1 min ago"),
        (NOW - timedelta(minutes=5, seconds=40), "5 min ago"),
        (NOW - timedelta(minutes=59), "59 min ago"),
        (NOW - timedelta(hours=2, minutes=10), "2 h ago"),
        (NOW - timedelta(hours=23, minutes=59), "23 h ago"),
        (NOW - timedelta(days=1, hours=3), "1 day ago"),
        (NOW - timedelta(days=3), "3 days ago"),
    ],
)
def test_describe_age(then: datetime | None, expected: str) -> None:
    assert describe_age(then, NOW) == expected


def test_reachability_mapping() -> None:
    assert online_from(R.Online) is True
    assert online_from(R.Disconnected) is False
    assert online_from(R.Local) is False
    assert online_from(R.Site) is False
    assert online_from(R.Unknown) is None


def test_describe_sync_texts() -> None:
    text, _ = describe_sync(False, SyncSnapshot({"pending": 3}, None), NOW)
    assert text == "● Offline · 3 changes waiting to sync · last synced never"
    text, colour = describe_sync(True, SyncSnapshot({"done": 9}, NOW - timedelta(hours=2)), NOW)
    assert text == "● Online · all changes synced · last synced 2 h ago"
    text, red = describe_sync(True, SyncSnapshot({"pending": 1, "sent": 1, "failed": 1}, None), NOW)
    assert text == "● Online · 2 changes waiting to sync · 1 needs attention · last synced never"
    assert red != colour


@pytest.mark.gui
def test_monitor_emits_only_on_change(qtbot: QtBot) -> None:
    events = AppEvents()
    monitor = ConnectivityMonitor(events)
    assert state(monitor) is None
    with qtbot.waitSignal(events.connectivity_changed) as blocker:
        monitor._on_reachability_changed(R.Disconnected)
    assert blocker.args == [False]
    assert state(monitor) is False
    with qtbot.assertNotEmitted(events.connectivity_changed):
        monitor._on_reachability_changed(R.Local)  # still offline
    with qtbot.waitSignal(events.connectivity_changed) as blocker:
        monitor._on_reachability_changed(R.Online)
    assert blocker.args == [True]
    with qtbot.assertNotEmitted(events.connectivity_changed):
        monitor._on_reachability_changed(R.Unknown)  # unknown is not "offline"
    assert state(monitor) is None


def state(monitor: ConnectivityMonitor) -> bool | None:
    return monitor.online  # read through a call: mypy keeps no narrowing across slots


@pytest.mark.gui
def test_monitor_start_never_warns(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    """Whatever backend this machine has (or none), starting is quiet and leaves a state."""
    monitor = ConnectivityMonitor(AppEvents())
    with caplog.at_level(logging.INFO, logger="ui.connectivity"):
        monitor.start()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert monitor.online in (True, False, None)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = make_setup(tmp_path)
    yield made
    made.workspace.close()


def _with_account(setup: Setup) -> None:
    from console.sync import Accounts

    Accounts(setup.workspace.db).add(
        "pagerduty", from_email="alice@example.com", default_service="PSVC001"
    )


@pytest.mark.gui
def test_sync_label_counts_pending_changes(qtbot: QtBot, setup: Setup) -> None:
    _with_account(setup)
    label = SyncStatusLabel(setup.context)
    qtbot.addWidget(label)
    # declaring the incident queued one outbox row
    assert label.plain_text().startswith("● Network unknown · 1 change waiting to sync")
    setup.context.events.connectivity_changed.emit(False)
    assert label.plain_text() == "● Offline · 1 change waiting to sync · last synced never"
    outcome = setup.workspace.incidents.add_note(setup.incident_id, "bridge open")
    outcome2 = setup.workspace.incidents.add_note(setup.incident_id, "rolled back")
    setup.context.events.changes_applied.emit(outcome.changes | outcome2.changes)
    assert label.plain_text() == "● Offline · 3 changes waiting to sync · last synced never"
    assert "color:" in label.text()


@pytest.mark.gui
def test_sync_label_ignores_changes_without_outbox(qtbot: QtBot, setup: Setup) -> None:
    _with_account(setup)
    label = SyncStatusLabel(setup.context)
    qtbot.addWidget(label)
    before = label.plain_text()
    setup.workspace.incidents.add_note(setup.incident_id, "not announced with outbox")
    setup.context.events.changes_applied.emit(Changes(timeline=frozenset({setup.incident_id})))
    assert label.plain_text() == before
    label.refresh()  # the 60 s timer's slot
    assert "2 changes waiting" in label.plain_text()


@pytest.mark.gui
def test_sync_label_says_when_no_account_is_set_up(qtbot: QtBot, setup: Setup) -> None:
    """Issue 16 item 10: "Online · 38 changes waiting" with no account to sync them to."""
    label = SyncStatusLabel(setup.context)
    qtbot.addWidget(label)
    setup.context.events.connectivity_changed.emit(True)
    assert label.plain_text() == (
        "● Online · no sync account set up (Sync ▸ Accounts… to add one) · 1 change kept here"
    )
    assert "waiting to sync" not in label.plain_text()
    _with_account(setup)
    label.refresh()
    assert "1 change waiting to sync" in label.plain_text()


@pytest.mark.gui
def test_sync_label_refresh_after_shutdown_stays_quiet(qtbot: QtBot, setup: Setup) -> None:
    """Its 60 s timer can fire while the app quits: it must not raise into the event loop."""
    label = SyncStatusLabel(setup.context)
    qtbot.addWidget(label)
    before = label.plain_text()
    setup.context.runner.shutdown()
    label.refresh()  # raised RuntimeError("the task runner is shut down") before
    assert label.plain_text() == before
