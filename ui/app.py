"""Start the window: application, logging, crash handlers, theme, workspace, main window.

Start-up is kept fast (a benchmark holds it to twice a bare PySide6 window): only
what the first paint needs is imported before it, and secondary work (reminders,
connectivity, the daily backup) is deferred with ``QTimer.singleShot(0, ...)``.

Benchmark hook: with ``RESPONDER_CONSOLE_BENCH_FIRST_PAINT`` set, the process
prints ``first-paint`` once the main window's first paint (with the selected
incident's first timeline page) completed, and exits with code 0.

Benchmark hook: with ``RESPONDER_CONSOLE_BENCH_READY`` set, the process prints
``ready`` once the window accepts Ctrl+N with the catalog loaded (the declare
action enabled and the services known to complete from), and exits with code 0.

Smoke hook for frozen builds: with ``RESPONDER_CONSOLE_SMOKE_METRICS`` set, the
window opens the Metrics view once attached, prints ``metrics-charts`` and exits 0
when its charts are drawn (pyqtgraph and numpy are bundled and work), or exits 1
when they cannot be within a minute.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
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
APP_NAME = "Responder Console"
ORG_NAME = "responder-console"


def app_icon() -> QIcon:
    from PySide6.QtGui import QIcon  # the first QIcon builds ~150 enum wrappers: after paint

    return QIcon(str(resources_dir() / "icons" / "app.svg"))


def _open_workspace(
    request: GuiRequest, before_recovery: Callable[[], None] | None = None
) -> Workspace | None:
    """Open the workspace; on a storage error ask what to do (restore, start empty, quit).

    ``before_recovery`` closes what this process still has open on the file (the
    start-up snapshot): a restore or set-aside refuses while the file is in use.
    """
    from console.ops.workspace import Workspace

    folder = request.folder
    while True:
        try:
            workspace = Workspace.open(folder, actor=request.actor)
        except StorageError as error:
            log.error("cannot open the workspace in %s: %s", folder, error)
            if before_recovery is not None:
                before_recovery()
            retry = _startup_error(error, request.no_error_windows)
            if retry is None:
                return None
            continue  # the prompt restored or set aside the file: open it again
        if request.demo:
            from console.demo import ensure_demo

            ensure_demo(workspace)
        return workspace


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

    def show(self) -> bool:
        """Show the window now; False when the workspace could not be opened (exit 1)."""
        from console.paths import database_path
        from console.snapshot import Snapshot

        self._snapshot = Snapshot.open(database_path(self._request.folder))
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
        if self.workspace is not None or self._snapshot is None:
            return
        _install_crash_handlers(self._ring, self._request.folder, self._request.no_error_windows)
        if not self._attach():
            self._app.exit(1)

    def _release_snapshot(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None

    def _attach(self) -> bool:
        workspace = _open_workspace(self._request, self._release_snapshot)
        if workspace is None:
            return False
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
        if os.environ.get(READY_ENV):
            self._watch_ready()
        return True

    def _watch_ready(self) -> None:
        """The ``ready`` benchmark's hook: checked every few ms (the catalog arrives
        from the reader lane), so the moment is within a timer tick of the truth."""
        timer = QTimer(self)
        timer.setInterval(2)

        def check() -> None:
            window = self._window
            if window is None or not window.actions_by_name["declare"].isEnabled():
                return
            if window.services is None or not window.services.known_names():
                return
            timer.stop()
            sys.stdout.write("ready\n")
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
