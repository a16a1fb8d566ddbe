"""Errors: startup recovery, crash routing and redaction, the inline banner."""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import console
from console.domain.errors import DatabaseCorruptError, DatabaseLockedError, StorageError
from console.logs import RedactingFilter, RingBufferHandler
from console.ops.workspace import Workspace
from console.paths import database_path
from console.storage import backup
from tests.ui.helpers_secondary import OFFSCREEN_NOTICES, MovableClock
from ui import errors
from ui.errors import (
    CrashChoice,
    CrashDialog,
    CrashHandlers,
    ErrorBanner,
    StartupChoice,
    StartupErrorPrompt,
    report_task_error,
    show_startup_error,
)
from ui.events import AppEvents

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)]

SECRET = "Authorization: Token abc123"


# ----------------------------------------------------------- startup errors


@pytest.fixture
def corrupt(tmp_path: Path) -> DatabaseCorruptError:
    """A real damaged database with one backup beside it."""
    folder = tmp_path / "data"
    workspace = Workspace.open(folder, actor="tester", clock=MovableClock())
    workspace.incidents.add_note  # noqa: B018 - the workspace is usable
    from console.domain.incident import Severity

    workspace.incidents.declare("Kept in the backup", Severity.SEV2)
    workspace.close()
    backup(database_path(folder), reason="test")
    database_path(folder).write_bytes(b"this is not an SQLite file at all" * 200)
    with pytest.raises(DatabaseCorruptError) as caught:
        Workspace.open(folder, actor="tester")
    assert caught.value.backups
    return caught.value


def test_no_error_windows_logs_and_returns_none(
    corrupt: DatabaseCorruptError, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        StartupErrorPrompt,
        "ask",
        classmethod(lambda cls, error: pytest.fail("asked with no_error_windows")),
    )
    with caplog.at_level(logging.ERROR, logger="ui.errors"):
        assert show_startup_error(corrupt, no_error_windows=True) is None
    assert corrupt.path in caplog.text
    assert Path(corrupt.path).read_bytes().startswith(b"this is not")  # untouched


def test_restore_keeps_the_damaged_file_aside(
    corrupt: DatabaseCorruptError, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[StorageError] = []

    def ask(cls: type[StartupErrorPrompt], error: StorageError) -> StartupChoice:
        asked.append(error)
        return StartupChoice.RESTORE

    monkeypatch.setattr(StartupErrorPrompt, "ask", classmethod(ask))
    path = Path(corrupt.path)
    assert show_startup_error(corrupt, no_error_windows=False) == path
    assert asked == [corrupt]
    (aside,) = path.parent.glob(f"{path.name}.damaged-*")
    assert aside.read_bytes().startswith(b"this is not")  # the damaged file is kept
    assert path.read_bytes() == Path(corrupt.backups[0]).read_bytes()  # the backup in place
    workspace = Workspace.open(path.parent, actor="tester")
    assert [i.title for i in workspace.queries.incidents()] == ["Kept in the backup"]
    workspace.close()


def test_start_empty_sets_the_file_aside(
    corrupt: DatabaseCorruptError, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        StartupErrorPrompt, "ask", classmethod(lambda cls, error: StartupChoice.START_EMPTY)
    )
    path = Path(corrupt.path)
    assert show_startup_error(corrupt, no_error_windows=False) == path
    assert list(path.parent.glob(f"{path.name}.damaged-*"))
    # the choice is explicit: the empty database exists at once, although backups exist
    workspace = Workspace.open(path.parent, actor="tester")
    assert workspace.queries.incidents() == []
    workspace.close()


def test_quit_changes_nothing(
    corrupt: DatabaseCorruptError, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StartupErrorPrompt, "ask", classmethod(lambda cls, e: StartupChoice.QUIT))
    assert show_startup_error(corrupt, no_error_windows=False) is None
    assert Path(corrupt.path).read_bytes().startswith(b"this is not")


def test_other_storage_errors_only_inform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        StartupErrorPrompt, "ask", classmethod(lambda cls, e: StartupChoice.RESTORE)
    )
    assert show_startup_error(DatabaseLockedError("locked"), no_error_windows=False) is None


# --------------------------------------------------------------- crash path


@pytest.fixture
def ring() -> Iterator[RingBufferHandler]:
    handler = RingBufferHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
def handlers(
    qapp: QApplication, tmp_path: Path, ring: RingBufferHandler, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[CrashHandlers, list[int], list[tuple[str, str]]]]:
    """Installed hooks with exit and the dialog stubbed; faulthandler left to pytest."""
    exits: list[int] = []
    asked: list[tuple[str, str]] = []

    def ask(summary: str, details: str, ring: RingBufferHandler | None) -> CrashChoice:
        asked.append((summary, details))
        return CrashChoice.QUIT

    enabled: list[object] = []
    monkeypatch.setattr(faulthandler, "enable", lambda *a, **k: enabled.append(a[0]))
    monkeypatch.setattr(faulthandler, "disable", lambda: None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    installed = CrashHandlers(
        ring, tmp_path / "data", no_error_windows=False, exit_app=exits.append, ask=ask
    )
    installed.install()
    assert sys.excepthook == installed.excepthook
    assert [Path(f.name) for f in enabled] == [tmp_path / "data" / "crash.log"]  # type: ignore[attr-defined]  # a file object
    yield installed, exits, asked
    installed.uninstall()


def _raise(message: str) -> BaseException:
    try:
        raise RuntimeError(message)
    except RuntimeError as error:
        return error


def test_uncaught_exception_is_logged_shown_and_exits(
    handlers: tuple[CrashHandlers, list[int], list[tuple[str, str]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _installed, exits, asked = handlers
    error = _raise("the model lost a row")
    with caplog.at_level(logging.CRITICAL, logger="ui.errors"):
        sys.excepthook(RuntimeError, error, error.__traceback__)
    (record,) = [r for r in caplog.records if r.name == "ui.errors"]
    assert record.levelno == logging.CRITICAL
    assert record.exc_info is not None
    assert record.exc_info[1] is error
    assert asked[0][0] == "RuntimeError: the model lost a row"
    assert "Traceback" in asked[0][1]
    assert exits == [1]  # never carry on in an unknown state


def test_thread_exception_is_logged_and_relayed(
    qtbot: QtBot,
    handlers: tuple[CrashHandlers, list[int], list[tuple[str, str]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _installed, exits, asked = handlers

    def boom() -> None:
        raise ValueError("worker failed")

    with caplog.at_level(logging.CRITICAL, logger="ui.errors"):
        worker = threading.Thread(target=boom, name="sync-worker")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: bool(exits))  # the queued relay reached the GUI thread
    assert "uncaught exception in thread sync-worker" in caplog.text
    assert asked[0][0] == "ValueError: worker failed (in thread sync-worker)"


def test_installing_twice_replaces_the_first(
    handlers: tuple[CrashHandlers, list[int], list[tuple[str, str]]], ring: RingBufferHandler
) -> None:
    first, _exits, _asked = handlers
    before = threading.excepthook
    second = CrashHandlers(ring, first.folder, no_error_windows=True, exit_app=lambda code: None)
    second.install()
    assert sys.excepthook == second.excepthook
    second.uninstall()
    assert sys.excepthook != first.excepthook  # the first is gone, not restored
    assert threading.excepthook != before


def test_no_error_windows_exits_without_asking(
    tmp_path: Path, ring: RingBufferHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    exits: list[int] = []
    quiet = CrashHandlers(
        ring,
        tmp_path,
        no_error_windows=True,
        exit_app=exits.append,
        ask=lambda *a: pytest.fail("no dialog with no_error_windows"),
    )
    error = _raise("x")
    quiet.excepthook(RuntimeError, error, error.__traceback__)
    assert exits == [1]


def test_previous_crash_file_is_offered_once_and_kept(
    tmp_path: Path,
    ring: RingBufferHandler,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(errors, "_show_previous_crash", lambda text, kept: shown.append(text))
    monkeypatch.setattr(faulthandler, "enable", lambda *a, **k: None)
    monkeypatch.setattr(faulthandler, "disable", lambda: None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "crash.log").write_text("Fatal Python error: Segmentation fault\n")
    first = CrashHandlers(ring, folder, no_error_windows=False)
    with caplog.at_level(logging.WARNING, logger="ui.errors"):
        first.install()
    first.uninstall()
    assert shown == ["Fatal Python error: Segmentation fault\n"]
    assert "previous run crashed" in caplog.text
    (kept,) = folder.glob("crash-*.log")
    assert kept.read_text().startswith("Fatal Python error")
    second = CrashHandlers(ring, folder, no_error_windows=False)
    second.install()  # crash.log is empty now: nothing offered again
    second.uninstall()
    assert len(shown) == 1


def test_crash_dialog_log_tail_is_opt_in_and_redacted(
    qtbot: QtBot, ring: RingBufferHandler
) -> None:
    logging.getLogger("console.sync").warning("request failed; headers: %s", SECRET)
    logging.getLogger("console.sync").warning("retrying with token=abc123&page=2")
    error = _raise(f"upstream said {SECRET}")
    details = "".join(__import__("traceback").format_exception(error))
    dialog = CrashDialog(f"RuntimeError: upstream said {SECRET}", details, ring)
    qtbot.addWidget(dialog)
    assert console.__version__ in dialog.version_label.text()
    assert "abc123" not in dialog.report_text()
    assert "request failed" not in dialog.report_text()  # the log is opt-in
    dialog.include_log.setChecked(True)
    report = dialog.report_text()
    assert "request failed; headers: Authorization: Token [redacted]" in report
    assert "abc123" not in report
    for widget_text in (
        dialog.log_view.toPlainText(),
        dialog.details_view.toPlainText(),
        dialog.summary_label.text(),
    ):
        assert "abc123" not in widget_text


def test_crash_dialog_copy_save_and_buttons(
    qtbot: QtBot, ring: RingBufferHandler, tmp_path: Path
) -> None:
    dialog = CrashDialog("RuntimeError: boom", "Traceback ...", ring)
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    clipboard = QApplication.clipboard().text()
    assert clipboard.startswith("RuntimeError: boom\nResponder Console ")
    target = tmp_path / "report.txt"
    dialog.save_report(target)
    assert target.read_text() == dialog.report_text()
    assert target.stat().st_mode & 0o777 == 0o600
    with qtbot.waitSignal(dialog.finished):
        dialog.restart_button.click()
    assert dialog.choice() is CrashChoice.RESTART
    other = CrashDialog("x", "y")
    qtbot.addWidget(other)
    other.quit_button.click()
    assert other.choice() is CrashChoice.QUIT


def test_ring_buffer_configured_with_filter_redacts_at_source() -> None:
    ring = RingBufferHandler()
    ring.addFilter(RedactingFilter())
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (SECRET,), None)
    ring.handle(record)
    assert "abc123" not in ring.tail()[0]


# ------------------------------------------------------------------- banner


def test_error_banner_accumulates_and_dismisses(qtbot: QtBot) -> None:
    banner = ErrorBanner()
    qtbot.addWidget(banner)
    assert banner.isHidden()
    banner.show_message("Sync failed: PagerDuty answered 401")
    assert banner.isVisible()
    assert banner.more.isHidden()
    banner.show_message("Disk full: the note was NOT saved")
    banner.show_message("Another failure")
    banner.show_message("Disk full: the note was NOT saved")  # the same again: not counted twice
    assert banner.label.text() == "Disk full: the note was NOT saved"
    assert banner.more.text() == "+2 more"
    banner.dismiss_button.click()
    assert banner.label.text() == "Another failure"
    assert banner.more.text() == "+1 more"
    banner.dismiss()
    banner.dismiss()
    assert banner.isHidden()
    assert banner.messages() == []


def test_report_task_error_separates_expected_from_bugs(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    events = AppEvents()
    with qtbot.waitSignal(events.error_shown) as blocker:
        report_task_error(events, DatabaseLockedError("db is locked"), "saving the note")
    assert blocker.args == ["db is locked"]
    with (
        caplog.at_level(logging.ERROR, logger="ui.errors"),
        qtbot.waitSignal(events.error_shown) as blocker,
    ):
        report_task_error(events, KeyError("row"), "saving the note")
    assert blocker.args[0].startswith("Saving the note failed unexpectedly (KeyError)")
    assert caplog.records[-1].exc_info is not None


# ------------------------------------------- start-up recovery (issue 14, items 1-5)


def _folder_with_backup(tmp_path: Path) -> Path:
    from console.domain.incident import Severity

    folder = tmp_path / "data"
    workspace = Workspace.open(folder, actor="tester")
    workspace.incidents.declare("Kept in the backup", Severity.SEV2)
    workspace.close()
    backup(database_path(folder))
    return folder


def test_startup_offers_the_backup_of_a_lost_database_while_the_snapshot_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0-byte console.db beside backups is not a new database: the dialog offers the
    backup, and the restore succeeds although this process painted from the snapshot
    (the snapshot is closed first, or the in-use probe would refuse)."""
    from console.cli import GuiRequest
    from console.domain.errors import DatabaseMissingError
    from console.snapshot import Snapshot
    from ui.app import _open_workspace

    folder = _folder_with_backup(tmp_path)
    path = database_path(folder)
    snapshot = Snapshot.open(path)
    assert snapshot is not None
    path.write_bytes(b"")  # what a failed restore of the old code left behind
    asked: list[StorageError] = []

    def ask(cls: type[StartupErrorPrompt], error: StorageError) -> StartupChoice:
        asked.append(error)
        return StartupChoice.RESTORE

    monkeypatch.setattr(StartupErrorPrompt, "ask", classmethod(ask))
    released: list[bool] = []

    def release() -> None:
        snapshot.close()
        released.append(True)

    request = GuiRequest(folder, demo=False, actor="tester", no_error_windows=False)
    workspace = _open_workspace(request, release)
    assert workspace is not None
    try:
        assert released
        assert isinstance(asked[0], DatabaseMissingError)
        assert "is empty (0 bytes)" in str(asked[0])
        assert [i.title for i in workspace.queries.incidents()] == ["Kept in the backup"]
    finally:
        workspace.close()


def test_the_window_finds_damage_after_start_and_writes_stop(tmp_path: Path) -> None:
    import random

    from console.domain.clock import utc_now
    from console.domain.errors import DatabaseCorruptError
    from console.domain.incident import Severity
    from ui.app import _check_integrity
    from ui.context import UiContext
    from ui.tasks import TaskRunner

    folder = _folder_with_backup(tmp_path)
    path = database_path(folder)
    raw = bytearray(path.read_bytes())
    raw[41_060 : 41_060 + 4096] = random.Random(3).randbytes(4096)
    path.write_bytes(bytes(raw))
    workspace = Workspace.open(folder, actor="tester")  # start-up does not read every page
    runner = TaskRunner(inline=True)
    events = AppEvents()
    shown: list[str] = []
    events.error_shown.connect(shown.append)
    try:
        _check_integrity(
            UiContext(workspace=workspace, runner=runner, events=events, clock=utc_now)
        )
        assert len(shown) == 1
        assert "is damaged" in shown[0]
        assert "db restore" in shown[0]
        with pytest.raises(DatabaseCorruptError):
            workspace.incidents.declare("into a damaged file", Severity.SEV3)
    finally:
        runner.shutdown()
        workspace.close()
