"""Errors, both kinds (STYLE §7).

Expected failures (typed :class:`~console.domain.errors.ConsoleError`) are shown
inline — :class:`ErrorBanner`, or :func:`show_startup_error` when the database
cannot be opened. Anything else is a bug: :func:`install_crash_handlers` routes
it to logging and a :class:`CrashDialog`, after which the application exits
rather than carry on in an unknown state. Nothing is ever uploaded.
"""

from __future__ import annotations

import enum
import faulthandler
import logging
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, QProcess, Qt, QThread, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import console
from console.domain.errors import (
    ConsoleError,
    DatabaseCorruptError,
    DatabaseUnusableError,
    StorageError,
)
from console.logs import RingBufferHandler, redact
from ui.events import AppEvents
from ui.theme import banner_style, follow_theme

log = logging.getLogger(__name__)

CRASH_FILE: Final = "crash.log"


def report_task_error(events: AppEvents, error: BaseException, doing: str) -> str:
    """The one way views report a failed task: an expected error shows its own
    message; a bug is logged with its traceback and summarised. Returns the text shown."""
    if isinstance(error, ConsoleError):
        message = str(error)
        log.info("%s failed: %s", doing, message)
    else:
        log.error("%s failed unexpectedly", doing, exc_info=error)
        message = (
            f"{doing[:1].upper()}{doing[1:]} failed unexpectedly ({type(error).__name__}); "
            "the details are in the log."
        )
    events.error_shown.emit(message)
    return message


# ------------------------------------------------------------------ crash path


def version_line() -> str:
    return (
        f"Responder Console {console.__version__} · Python {platform.python_version()} · "
        f"PySide6 {pyside_version} · {platform.system()} {platform.release()}"
    )


class CrashChoice(enum.StrEnum):
    RESTART = "restart"
    QUIT = "quit"


class CrashDialog(QDialog):
    """What happened, with copy/save for a bug report. Plain text; nothing is sent anywhere."""

    def __init__(
        self,
        summary: str,
        details: str,
        ring: RingBufferHandler | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("Responder Console stopped working")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.resize(720, 520)
        self._choice = CrashChoice.QUIT
        self._summary = redact(summary)
        self._details = redact(details)
        self._log_tail = "\n".join(redact(line) for line in ring.tail()) if ring else ""

        layout = QVBoxLayout(self)
        heading = QLabel(
            "Something went wrong that the console did not expect. Your saved incidents, "
            "timeline and outbox are safe in the database; the console will close so it does "
            "not continue in an unknown state.",
            self,
        )
        heading.setWordWrap(True)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(heading)
        self.summary_label = QLabel(self._summary, self)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setWordWrap(True)
        font = self.summary_label.font()
        font.setBold(True)
        self.summary_label.setFont(font)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary_label)
        self.version_label = QLabel(version_line(), self)
        self.version_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.version_label)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.details_view = QPlainTextEdit(self._details, self)
        self.details_view.setReadOnly(True)
        self.details_view.setFont(mono)
        self.details_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.details_view, 2)

        self.include_log = QCheckBox(
            "Include the last log lines in the report (tokens and auth headers are removed)", self
        )
        self.include_log.setEnabled(bool(self._log_tail))
        layout.addWidget(self.include_log)
        self.log_view = QPlainTextEdit(self._log_tail, self)
        self.log_view.setReadOnly(True)
        self.log_view.setFont(mono)
        self.log_view.setVisible(False)
        layout.addWidget(self.log_view, 1)
        self.include_log.toggled.connect(self.log_view.setVisible)

        buttons = QHBoxLayout()
        self.copy_button = QPushButton("&Copy report", self)
        self.save_button = QPushButton("&Save…", self)
        self.restart_button = QPushButton("&Restart", self)
        self.quit_button = QPushButton("&Quit", self)
        self.restart_button.setDefault(True)
        for button in (self.copy_button, self.save_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.restart_button)
        buttons.addWidget(self.quit_button)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(self.copy_report)
        self.save_button.clicked.connect(self._on_save)
        self.restart_button.clicked.connect(self._on_restart)
        self.quit_button.clicked.connect(self.reject)

    @classmethod
    def ask(
        cls,
        summary: str,
        details: str,
        ring: RingBufferHandler | None = None,
        parent: QWidget | None = None,
    ) -> CrashChoice:
        dialog = cls(summary, details, ring, parent)
        try:
            dialog.exec()
            return dialog.choice()
        finally:
            dialog.deleteLater()

    def choice(self) -> CrashChoice:
        return self._choice

    def report_text(self) -> str:
        """The report as plain text; the log tail only when the user opted in."""
        parts = [self._summary, version_line(), "", self._details.rstrip()]
        if self.include_log.isChecked() and self._log_tail:
            parts += ["", "Last log lines (redacted):", self._log_tail]
        return "\n".join(parts) + "\n"

    @Slot()
    def copy_report(self) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.report_text())

    def save_report(self, path: Path) -> None:
        """Write the report readable by the user only (it may name files and people),
        whole or not at all (console.files)."""
        from console.files import write_file

        write_file(path, self.report_text(), mode=0o600, what="the crash report")

    @Slot()
    def _on_save(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name, _filter = QFileDialog.getSaveFileName(
            self, "Save crash report", f"responder-console-crash-{stamp}.txt", "Text (*.txt)"
        )
        if not name:
            return
        try:
            self.save_report(Path(name))
        except ConsoleError as error:
            QMessageBox.warning(self, "Could not save", str(error))

    @Slot()
    def _on_restart(self) -> None:
        self._choice = CrashChoice.RESTART
        self.accept()


def restart_application() -> bool:
    """Start a fresh copy of this process with the same arguments."""
    started, _pid = QProcess.startDetached(sys.executable, [*sys.orig_argv[1:]])
    if not started:
        log.error("could not restart %s", sys.executable)
    return bool(started)


class _CrashRelay(QObject):
    """Lives on the GUI thread; a crash reported from another thread hops here (queued)."""

    crashed = Signal(str, str)


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class CrashHandlers:
    """The installed hooks and the state they need (the crash file stays open for
    faulthandler as long as the hooks are installed)."""

    def __init__(
        self,
        ring: RingBufferHandler,
        folder: Path,
        *,
        no_error_windows: bool,
        exit_app: Callable[[int], None] | None = None,
        ask: Callable[[str, str, RingBufferHandler | None], CrashChoice] | None = None,
    ) -> None:
        self.ring = ring
        self.folder = folder
        self.no_error_windows = no_error_windows
        self._exit_app = exit_app or _exit_application
        self._ask = ask or _ask_crash_dialog
        self._crash_file: IO[str] | None = None
        self._showing = False
        self._previous_hooks: tuple[object, object] | None = None
        self._relay: _CrashRelay | None = None

    # ---------------------------------------------------------------- install

    def install(self) -> None:
        current = getattr(sys.excepthook, "__self__", None)
        if isinstance(current, CrashHandlers):  # installed twice: replace, don't stack
            current.uninstall()
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
        if QApplication.instance() is not None:
            self._relay = _CrashRelay()
            self._relay.crashed.connect(self._on_crash_reported)
        self._offer_previous_crash()
        self._enable_faulthandler()

    def uninstall(self) -> None:
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks  # type: ignore[assignment]  # restoring the saved hooks
            self._previous_hooks = None
        if self._crash_file is not None:
            faulthandler.disable()
            self._crash_file.close()
            self._crash_file = None

    def _enable_faulthandler(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._crash_file = open(self.folder / CRASH_FILE, "w", encoding="utf-8")  # noqa: SIM115 - kept open for faulthandler
        except OSError as error:
            log.warning("cannot write %s (%s); hard crashes go to stderr", CRASH_FILE, error)
            faulthandler.enable()
            return
        faulthandler.enable(self._crash_file, all_threads=True)

    def _offer_previous_crash(self) -> None:
        """A hard crash of the last run left a non-empty crash.log: show it once, keep it."""
        path = self.folder / CRASH_FILE
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as error:
            log.warning("cannot read %s: %s", path, error)
            return
        if not text.strip():
            return
        stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = path.with_name(f"crash-{stamp}.log")
        path.rename(kept)
        log.warning("the previous run crashed; its report is kept at %s", kept)
        if not self.no_error_windows and QApplication.instance() is not None:
            _show_previous_crash(text, kept)

    # ------------------------------------------------------------------ hooks

    def excepthook(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, error, tb))
        summary = _summary(kind, error)
        details = "".join(traceback.format_exception(kind, error, tb))
        if threading.current_thread() is threading.main_thread():
            self._on_crash_reported(summary, details)
        elif self._relay is not None:
            self._relay.crashed.emit(summary, details)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        thread = args.thread.name if args.thread else "?"
        log.critical(
            "uncaught exception in thread %s",
            thread,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )
        summary = f"{_summary(args.exc_type, args.exc_value)} (in thread {thread})"
        details = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        if self._relay is not None:
            self._relay.crashed.emit(summary, details)  # queued onto the GUI thread
        else:
            self._on_crash_reported(summary, details)

    @Slot(str, str)
    def _on_crash_reported(self, summary: str, details: str) -> None:
        if self._showing:
            return  # one dialog at a time; the later errors are in the log
        app = QApplication.instance()
        on_gui = app is not None and QThread.currentThread() == app.thread()
        if self.no_error_windows or not on_gui:
            self._exit_app(1)
            return
        self._showing = True
        try:
            choice = self._ask(summary, details, self.ring)
        finally:
            self._showing = False
        if choice is CrashChoice.RESTART:
            restart_application()
        self._exit_app(1)


def install_crash_handlers(ring: RingBufferHandler, folder: Path, no_error_windows: bool) -> None:
    """Route uncaught exceptions (main and other threads) to logging and the crash
    dialog; write hard crashes to ``folder/crash.log`` and offer the last one at start."""
    # The installed bound methods keep the handlers (and the open crash file) alive.
    CrashHandlers(ring, folder, no_error_windows=no_error_windows).install()


def _summary(kind: type[BaseException], error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{kind.__name__}: {text[0]}" if text else kind.__name__


def _ask_crash_dialog(summary: str, details: str, ring: RingBufferHandler | None) -> CrashChoice:
    return CrashDialog.ask(summary, details, ring, QApplication.activeWindow())


def _exit_application(code: int) -> None:
    app = QApplication.instance()
    if app is not None:
        app.exit(code)
    else:  # pragma: no cover - a crash before the application exists
        raise SystemExit(code)


def _show_previous_crash(text: str, kept: Path) -> None:
    box = QMessageBox(QApplication.activeWindow())
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("The console crashed last time")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(
        "Responder Console stopped abruptly the last time it ran. Your saved data is in the "
        f"database. The crash report is kept at:\n{kept}\n\nAttach it to a bug report if "
        "this happens again."
    )
    box.setDetailedText(redact(text[-20_000:]))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()
    box.deleteLater()


# -------------------------------------------------------------- startup errors


class StartupChoice(enum.StrEnum):
    RESTORE = "restore"
    START_EMPTY = "start-empty"
    QUIT = "quit"


class StartupErrorPrompt:
    """The question asked when the database cannot be opened (monkeypatch ``ask`` in tests)."""

    @classmethod
    def ask(cls, error: StorageError) -> StartupChoice:
        box = QMessageBox()
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Responder Console cannot open its database")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(str(error))
        buttons: dict[object, StartupChoice] = {}
        if isinstance(error, DatabaseUnusableError):
            box.setInformativeText(
                "The damaged file is never overwritten: it is renamed and kept beside the "
                "new one so it can still be recovered. Only a backup that passed its check "
                "is offered."
                if isinstance(error, DatabaseCorruptError)
                else "Only a backup that passed its check is offered; the backups stay."
            )
            if error.backups:
                restore = box.addButton("Restore newest backup", QMessageBox.ButtonRole.AcceptRole)
                restore.setToolTip(error.backups[0])
                buttons[restore] = StartupChoice.RESTORE
                box.setDefaultButton(restore)
            empty = box.addButton(
                "Start empty (keep damaged file aside)"
                if isinstance(error, DatabaseCorruptError)
                else "Start empty (backups stay)",
                QMessageBox.ButtonRole.DestructiveRole,
            )
            buttons[empty] = StartupChoice.START_EMPTY
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        buttons[quit_button] = StartupChoice.QUIT
        box.setEscapeButton(quit_button)
        box.exec()
        choice = buttons.get(box.clickedButton(), StartupChoice.QUIT)
        box.deleteLater()
        return choice


def show_startup_error(error: StorageError, no_error_windows: bool) -> Path | None:
    """Tell the user why the database cannot be opened and what to do.

    Returns the database path to retry opening (after a restore or setting the
    damaged file aside), or None to quit.
    """
    if no_error_windows:
        log.error("cannot open the database: %s", error)
        return None
    choice = StartupErrorPrompt.ask(error)
    if not isinstance(error, DatabaseUnusableError) or choice is StartupChoice.QUIT:
        log.info("quitting after a startup error: %s", error)
        return None
    from console.storage import restore_backup, start_empty  # SQLAlchemy: not before paint

    path = Path(error.path)
    try:
        if choice is StartupChoice.RESTORE and error.backups:
            aside = restore_backup(path, Path(error.backups[0]))
            log.warning(
                "restored %s from %s; the damaged file is kept at %s", path, error.backups[0], aside
            )
        elif choice is StartupChoice.START_EMPTY:
            aside = start_empty(path)
            log.warning("starting with an empty database; the damaged file is kept at %s", aside)
        else:
            return None
    except (StorageError, OSError) as failure:
        log.error("could not recover %s: %s", path, failure)
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Recovery failed",
            f"{failure}\n\nNothing was deleted. The console will close.",
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.exec()
        box.deleteLater()
        return None
    return path


# ------------------------------------------------------------------- banner


class ErrorBanner(QWidget):
    """Expected failures the user must see, inline above the content. Hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        follow_theme(self, lambda: self.setStyleSheet(banner_style("errorBanner", "error")))
        self._messages: list[str] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.more = QLabel(self)
        self.more.setTextFormat(Qt.TextFormat.PlainText)
        self.dismiss_button = QToolButton(self)
        self.dismiss_button.setText("✕")
        self.dismiss_button.setToolTip("Dismiss this message")
        self.dismiss_button.setAccessibleName("Dismiss")
        icon = QLabel(self)  # the style's icon: a glyph may be missing from the font
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        icon.setPixmap(warning.pixmap(16, 16))
        layout.addWidget(icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.more)
        layout.addWidget(self.dismiss_button)
        self.dismiss_button.clicked.connect(self.dismiss)
        self.hide()

    def messages(self) -> list[str]:
        return list(self._messages)

    @Slot(str)
    def show_message(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text in self._messages:
            self._messages.remove(text)  # the same failure again: move it to the front
        self._messages.insert(0, text)
        self._render()

    @Slot()
    def dismiss(self) -> None:
        """Drop the message shown; the next one (if any) takes its place."""
        if self._messages:
            self._messages.pop(0)
        self._render()

    def _render(self) -> None:
        if not self._messages:
            self.label.clear()
            self.more.clear()
            self.hide()
            return
        self.label.setText(self._messages[0])
        others = len(self._messages) - 1
        self.more.setText(f"+{others} more" if others else "")
        self.more.setVisible(bool(others))
        self.setToolTip("\n\n".join(self._messages))
        self.show()
