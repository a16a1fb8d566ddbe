"""Start the window: application, logging, crash handlers, theme, workspace, main window.

Start-up is kept fast (a benchmark holds it to twice a bare PySide6 window): only
what the first paint needs is imported before it, and secondary work (reminders,
connectivity, the daily backup) is deferred with ``QTimer.singleShot(0, ...)``.

Ready to declare soon after (the ``ready`` benchmark, issue 16): after the first paint
a worker thread reads the catalog's service names (stdlib sqlite3, before anything
else) and then opens the workspace (SQLAlchemy, migrations, the demo seed); the
window takes Ctrl+N meanwhile (``MainWindow.expect_workspace``: Declare waits for
the workspace). Once it is open the window is attached on the GUI thread and the
secondary tabs are built from an idle queue, one per event-loop turn.

Benchmark hook: with ``RESPONDER_CONSOLE_BENCH_FIRST_PAINT`` set, the process
prints ``first-paint`` once the main window's first paint (with the selected
incident's first timeline page) completed, and exits with code 0.

Benchmark hook: with ``RESPONDER_CONSOLE_BENCH_READY`` set, the process prints
``ready`` once the window accepts Ctrl+N with the catalog loaded (the declare
action enabled and the services known to complete from), then ``attached MS``
once the workspace is attached (MS after ``ready``), and exits with code 0.

Smoke hook for frozen builds: with ``RESPONDER_CONSOLE_SMOKE_METRICS`` set, the
window opens the Metrics view once attached, prints ``metrics-charts`` and exits 0
when its charts are drawn (pyqtgraph and numpy are bundled and work), or exits 1
when they cannot be within a minute.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication

from console.cli import GuiRequest
from console.domain.clock import utc_now
from console.domain.errors import StorageError
from console.logs import RingBufferHandler, configure
from console.resources import resources_dir
from ui.events import AppEvents
from ui.main_window import MainWindow

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

    from console.ops.workspace import Workspace
    from console.packs.baked import BakedReport
    from console.snapshot import Snapshot
    from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

BENCH_ENV = "RESPONDER_CONSOLE_BENCH_FIRST_PAINT"
READY_ENV = "RESPONDER_CONSOLE_BENCH_READY"
SMOKE_METRICS_ENV = "RESPONDER_CONSOLE_SMOKE_METRICS"
#: the background integrity check starts this long after the workspace is attached
INTEGRITY_CHECK_DELAY_MS = 3000
#: the GIL switch interval while the workspace opens on its worker thread (default 5 ms)
OPENING_SWITCH_INTERVAL_S = 0.0005
#: the worker waits at most this long for the window to take the catalog's names
NAMES_WAIT_S = 1.0
APP_NAME = "Responder Console"
ORG_NAME = "responder-console"


def app_icon() -> QIcon:
    from PySide6.QtGui import QIcon  # the first QIcon builds ~150 enum wrappers: after paint

    return QIcon(str(resources_dir() / "icons" / "app.svg"))


def _open_as_asked(request: GuiRequest) -> Workspace:
    """Open the workspace (and seed the demo when asked); no prompts: any thread."""
    from console.ops.workspace import Workspace

    workspace = Workspace.open(request.folder, actor=request.actor)
    if request.demo:
        try:
            from console.demo import ensure_demo

            ensure_demo(workspace)
        except BaseException:
            workspace.close()
            raise
    return workspace


class _Opener(QObject):
    """Reads the catalog's names, then opens the workspace, on a worker thread; the
    results come to the GUI thread through queued signals. A workspace nobody took
    (the window quit first) is closed by :meth:`join`."""

    names_read = Signal(object)  # list[str]
    opened = Signal(object)  # Workspace
    failed = Signal(object)  # BaseException

    def __init__(self, request: GuiRequest, parent: QObject) -> None:
        super().__init__(parent)
        self._request = request
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._result: Workspace | None = None
        self._names_taken = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="open-workspace")
        self._thread.start()

    def _run(self) -> None:
        names = _read_service_names(self._request.folder)
        if names is not None:
            self.names_read.emit(names)
            # the window takes the names (and with them Ctrl+N) before the imports below
            # start competing with the GUI thread for the GIL
            self._names_taken.wait(NAMES_WAIT_S)
        # the imports here hold the GIL for long stretches: every Python call the GUI
        # thread makes (a paint, a model read, Ctrl+N's dialog) waits for a switch, so
        # switch often while this runs
        interval = sys.getswitchinterval()
        sys.setswitchinterval(OPENING_SWITCH_INTERVAL_S)
        try:
            workspace = _open_as_asked(self._request)
        except BaseException as error:  # shown on the GUI thread (recovery prompt, crash)
            self.failed.emit(error)
            return
        finally:
            sys.setswitchinterval(interval)
        with self._lock:
            self._result = workspace
        self.opened.emit(workspace)

    def names_taken(self) -> None:
        self._names_taken.set()

    def take(self, workspace: Workspace) -> None:
        """The GUI thread took ``workspace``: :meth:`join` leaves it open."""
        with self._lock:
            if self._result is workspace:
                self._result = None

    def join(self) -> None:
        self._names_taken.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            left, self._result = self._result, None
        if left is not None:
            left.close()


def _read_service_names(folder: Path) -> list[str] | None:
    """The catalog's names from the file with the stdlib (milliseconds, no SQLAlchemy);
    None when it cannot be read that way (the workspace reads them once open)."""
    from console.paths import database_path
    from console.snapshot import Snapshot

    snapshot = Snapshot.open(database_path(folder))
    if snapshot is None:
        return None
    try:
        return snapshot.service_names()
    except sqlite3.Error as error:
        log.info("the catalog's names are read once the workspace is open: %s", error)
        return None
    finally:
        snapshot.close()


def _open_workspace(
    request: GuiRequest, before_recovery: Callable[[], None] | None = None
) -> Workspace | None:
    """Open the workspace; on a storage error ask what to do (restore, start empty, quit).

    ``before_recovery`` closes what this process still has open on the file (the
    start-up snapshot): a restore or set-aside refuses while the file is in use.
    """
    while True:
        try:
            return _open_as_asked(request)
        except StorageError as error:
            if not _recover(request, error, before_recovery):
                return None
            # the prompt restored or set aside the file: open it again


def _recover(
    request: GuiRequest, error: StorageError, before_recovery: Callable[[], None] | None
) -> bool:
    """Ask what to do about a workspace that cannot be opened; True: open it again."""
    log.error("cannot open the workspace in %s: %s", request.folder, error)
    if before_recovery is not None:
        before_recovery()
    return _startup_error(error, request.no_error_windows) is not None


def _startup_error(error: StorageError, no_error_windows: bool) -> Path | None:
    try:
        from ui.errors import show_startup_error
    except ImportError:  # the error windows are not installed: say it on stderr
        sys.stderr.write(f"responder-console: {error}\n")
        return None
    return show_startup_error(error, no_error_windows)


def _install_crash_handlers(ring: RingBufferHandler, folder: Path, no_error_windows: bool) -> None:
    try:
        from ui.errors import install_crash_handlers
    except ImportError:
        log.warning("ui.errors is missing: crashes are only logged")
        return
    install_crash_handlers(ring, folder, no_error_windows)


def _apply_theme(app: QApplication) -> None:
    try:
        from ui.theme import apply_theme
    except ImportError:
        return
    mode = str(QSettings().value("ui/theme", "system"))
    # the style proper comes after the first paint (install_console_style)
    apply_theme(app, mode if mode in ("system", "light", "dark") else "system", install_style=False)


def _install_style(app: QApplication) -> None:
    try:
        from ui.theme import install_console_style
    except ImportError:
        return
    install_console_style(app)


def _stylesheet() -> str:
    path = resources_dir() / "styles" / "main.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


class _Startup(QObject):
    """Fast start: paint from the read-only snapshot, then open the workspace and attach."""

    def __init__(
        self,
        app: QApplication,
        request: GuiRequest,
        ring: RingBufferHandler,
        events: AppEvents,
    ) -> None:
        super().__init__(app)
        self._app = app
        self._request = request
        self._ring = ring
        self._events = events
        self._window: MainWindow | None = None
        self._snapshot: Snapshot | None = None
        self.workspace: Workspace | None = None
        self.runner: TaskRunner | None = None
        self._bench = bool(os.environ.get(BENCH_ENV))
        self._painted = False
        self._opener: _Opener | None = None

    def show(self) -> bool:
        """Show the window now; False when the workspace could not be opened (exit 1)."""
        from console.paths import database_path
        from console.snapshot import Snapshot

        self._snapshot = Snapshot.open(database_path(self._request.folder))
        if os.environ.get(READY_ENV):
            self._watch_ready()
        if self._snapshot is not None:
            window = MainWindow(self._snapshot, self._events, utc_now, demo=self._request.demo)
            self._window = window
            window.installEventFilter(self)
            window.show()
            QTimer.singleShot(1000, self._finish)  # in case no paint comes (hidden display)
            return True
        # first start, or a file the snapshot cannot read: open the workspace first
        _install_crash_handlers(self._ring, self._request.folder, self._request.no_error_windows)
        if not self._attach():
            return False
        assert self._window is not None
        self._window.installEventFilter(self)
        self._window.show()
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            # the paint is still in progress: continue once it and the flush completed
            QTimer.singleShot(0, self._first_paint_done)
        return False

    def _first_paint_done(self) -> None:
        if self._bench:
            sys.stdout.write("first-paint\n")  # the one line the benchmark reads
            sys.stdout.flush()
            self._app.exit(0)
            return
        self._app.setWindowIcon(app_icon())
        _install_style(self._app)
        self._finish()

    def _finish(self) -> None:
        """After the first paint: open the workspace off the GUI thread; the window
        takes Ctrl+N meanwhile."""
        if self.workspace is not None or self._snapshot is None or self._opener is not None:
            return
        _install_crash_handlers(self._ring, self._request.folder, self._request.no_error_windows)
        assert self._window is not None
        self._window.expect_workspace()
        self._opener = opener = _Opener(self._request, self)
        opener.names_read.connect(self._names_read)
        opener.opened.connect(self._opened)
        opener.failed.connect(self._open_failed)
        opener.start()

    def _names_read(self, names: list[str]) -> None:
        assert self._window is not None
        assert self._opener is not None
        self._window.set_service_names(names)
        self._opener.names_taken()

    def _opened(self, workspace: Workspace) -> None:
        assert self._opener is not None
        self._opener.take(workspace)
        self._attach_workspace(workspace)

    def _open_failed(self, error: BaseException) -> None:
        if not isinstance(error, StorageError):
            raise error  # a crash: the crash handlers show and record it
        if _recover(self._request, error, self._release_snapshot) and self._attach():
            return
        self._app.exit(1)

    def _release_snapshot(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None

    def _attach(self) -> bool:
        """Open the workspace on the GUI thread (first start, or after a recovery prompt)."""
        workspace = _open_workspace(self._request, self._release_snapshot)
        if workspace is None:
            return False
        self._attach_workspace(workspace)
        return True

    def _attach_workspace(self, workspace: Workspace) -> None:
        from ui.context import UiContext
        from ui.tasks import TaskRunner

        self.workspace = workspace
        self.runner = TaskRunner()
        context = UiContext(
            workspace=workspace,
            runner=self.runner,
            events=self._events,
            clock=utc_now,
            demo=self._request.demo,
        )
        if self._window is None:
            self._window = MainWindow.for_context(context)
        else:
            self._window.attach(context)
            self._window.resync()  # anything written between the snapshot and now
        if not self._bench:
            self._window.build_areas_later()
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None
        if not self._bench:
            QTimer.singleShot(0, lambda: _daily_backup(context))
            # damage in the middle of the file is found early, off the GUI thread and off
            # the start-up path (the first paint came long before): see docs/RECOVERY.md
            QTimer.singleShot(INTEGRITY_CHECK_DELAY_MS, lambda: _check_integrity(context))
        # an installer's baked keys and pack (packaging/build.py): queued at once, so even a
        # window that quits after its first paint applies them before it exits
        self.runner.write(lambda: _apply_baked(workspace), self._baked_applied, _baked_failed)
        if os.environ.get(SMOKE_METRICS_ENV):
            QTimer.singleShot(0, self._smoke_metrics)

    def _watch_ready(self) -> None:
        """The ``ready`` benchmark's hook: checked every few ms (the catalog's names come
        from the worker thread), so the moment is within a timer tick of the truth.
        After ``ready`` it waits for the workspace to be attached (writes work) and
        prints ``attached MS``, the milliseconds between the two, then exits 0."""
        timer = QTimer(self)
        timer.setInterval(2)
        ready_at: list[float] = []

        def check() -> None:
            window = self._window
            if not ready_at:
                if window is None or not window.actions_by_name["declare"].isEnabled():
                    return
                if not window.service_names():
                    return
                ready_at.append(time.perf_counter())
                sys.stdout.write("ready\n")
                sys.stdout.flush()
                timer.setInterval(10)  # the worker thread needs the GIL more now
            if self.runner is None:
                return
            timer.stop()
            sys.stdout.write(f"attached {(time.perf_counter() - ready_at[0]) * 1000:.1f}\n")
            sys.stdout.flush()
            self._app.exit(0)

        timer.timeout.connect(check)
        timer.start()

    def _smoke_metrics(self) -> None:
        """The frozen build's check that the Metrics charts draw (see the module doc)."""
        from ui.metrics.view import MetricsDialog

        assert self._window is not None
        self._window.open_metrics()
        dialog = self._window.findChild(MetricsDialog)
        waited = 0

        def check() -> None:
            nonlocal waited
            if dialog is not None and dialog.charts is not None:
                sys.stdout.write("metrics-charts\n")
                sys.stdout.flush()
                self._app.exit(0)
            elif waited >= 60_000:
                log.error("smoke: the Metrics charts were not drawn within a minute")
                self._app.exit(1)
            else:
                waited += 200
                QTimer.singleShot(200, check)

        check()

    def _baked_applied(self, report: BakedReport) -> None:
        if report.refused:
            self._events.error_shown.emit(report.summary())
        elif self._window is not None and (report.pinned or report.imported):
            self._window.statusBar().showMessage(report.summary(), 15_000)

    def close(self) -> None:
        if self._opener is not None:
            self._opener.join()  # a workspace opened after the window quit is closed
        if self.runner is not None:
            self.runner.shutdown()  # queued writes finish first: a typed entry is never dropped
        if self.workspace is not None:
            self.workspace.close()
        if self._snapshot is not None:
            self._snapshot.close()


def run(request: GuiRequest) -> int:
    existing = QApplication.instance()
    # "-style Fusion": the stock Fusion paints the first frame without a Python
    # QStyle wrapper (see ui.theme.install_console_style for the one that follows)
    app = (
        existing
        if isinstance(existing, QApplication)
        else QApplication([*sys.argv[:1], "-style", "Fusion"])
    )
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setDesktopFileName(ORG_NAME)
    ring = configure(request.folder)
    _apply_theme(app)
    style = _stylesheet()
    if style:
        app.setStyleSheet(style)
    startup = _Startup(app, request, ring, AppEvents())
    try:
        if not startup.show():
            return 1
        return app.exec()
    finally:
        startup.close()


def _apply_baked(workspace: Workspace) -> BakedReport:
    from console.packs.baked import apply_baked  # imported on the writer thread

    return apply_baked(workspace.db, workspace.folder, utc_now())


def _baked_failed(error: BaseException) -> None:
    log.warning("the installer's keys and pack could not be applied: %s", error)


def _daily_backup(context: object) -> None:
    from console.paths import database_path
    from console.storage import backup_if_stale
    from ui.context import UiContext

    assert isinstance(context, UiContext)
    path = database_path(context.workspace.folder)

    def failed(error: BaseException) -> None:
        log.warning("the daily backup failed: %s", error)
        if isinstance(error, StorageError):  # a full disk, or damage the backup's check found
            context.events.error_shown.emit(f"The daily backup failed: {error}")

    context.runner.write(lambda: backup_if_stale(path), None, failed)


def _check_integrity(context: object) -> None:
    """SQLite's quick_check on a reader thread, a few seconds after start. Damage found
    marks the file (writes are refused from then on, in every process) and is shown."""
    from ui.context import UiContext

    assert isinstance(context, UiContext)
    database = context.workspace.db

    def check() -> str | None:  # on a reader thread: the check and the backups' checks
        from console.storage.db import corrupt_error

        problems = database.check_integrity()
        return str(corrupt_error(database.path, problems[0])) if problems else None

    def found(message: str | None) -> None:
        if message is not None:
            context.events.error_shown.emit(message)

    context.runner.read(
        check,
        found,
        lambda error: log.warning("the integrity check could not run: %s", error),
    )
