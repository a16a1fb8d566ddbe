"""Automatic sync: the core's passes on a background lane, scheduled by the window.

STYLE §2: the drainer is a core function ("do one pass, say when to run next");
this controller is its window caller. A pass pushes each account's queue
(``Pusher.run_pass``) and then pulls (:meth:`SyncController.pull`); it runs on
the runner's parallel lane, never on the GUI thread, one pass at a time. A pass
starts

* when the previous one said so (``PassReport.next_run_in``; every
  :attr:`~SyncController.IDLE_S` seconds otherwise, for remote changes),
* when connectivity returns (``AppEvents.connectivity_changed``, from
  QNetworkInformation), after a cheap probe of the account's base URL confirms it,
* a moment after local writes that queued operations (debounced), and
* on demand ("Sync now").

Offline (the OS says so) no timer runs and nothing is sent. On quit the pass in
flight is cancelled: it ends after its current request, and everything not
confirmed stays queued.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from console.domain.views import Changes
from console.ops.queries import Queries
from console.sync import (
    Account,
    Accounts,
    PassReport,
    Puller,
    PullReport,
    Pusher,
    SyncPolicy,
    Tokens,
)
from console.sync.accounts import VENDOR_NAMES
from console.sync.http import HttpSession, reachable
from console.sync.pusher import DRIVERS
from ui.context import UiContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOutcome:
    """What one pass did, for the status bar and the Sync tab."""

    started_at: datetime
    finished_at: datetime
    reports: tuple[PassReport, ...] = ()
    #: what the pull step brought in, per account (empty when the pass only pushed)
    pulled: tuple[PullReport, ...] = ()
    #: the probe found none of the accounts' hosts: nothing was attempted
    unreachable: str | None = None
    #: seconds until the next pass (None: only connectivity, a write or the user start one)
    next_run_in: float | None = None
    #: accounts of vendors this version cannot push to yet
    unsupported: tuple[str, ...] = ()
    #: what the pull changed locally, for the open views (incidents whose timeline grew)
    changes: Changes = field(default_factory=Changes)
    pushed: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pushed", sum(report.pushed for report in self.reports))

    def describe(self) -> str:
        """One line: "PagerDuty: pushed 3, 1 failed, 2 waiting" or why nothing went."""
        if self.unreachable:
            return self.unreachable
        parts = [
            f"{VENDOR_NAMES.get(vendor, vendor)}: pushing is not available in this version"
            for vendor in self.unsupported
        ]
        if not self.reports and not parts:
            return "No account to sync with: add one under Sync ▸ Accounts…"
        for report in self.reports:
            vendor = VENDOR_NAMES.get(report.vendor or "", report.vendor or "?")
            if report.stopped:
                parts.append(f"{vendor} stopped: {report.stopped}")
                continue
            text = f"{vendor}: pushed {report.pushed}"
            if report.superseded:
                text += f", {report.superseded} superseded"
            if report.failed:
                text += f", {report.failed} failed"
            if report.waiting:
                text += f", {report.waiting} waiting"
            if report.blocked:
                text += f", {report.blocked} blocked until someone decides"
            if report.errors:
                text += f" ({report.errors[-1]})"
            parts.append(text)
        parts += [_describe_pull(report) for report in self.pulled]
        return "; ".join(parts)


def _describe_pull(report: PullReport) -> str:
    vendor = VENDOR_NAMES.get(report.vendor, report.vendor)
    if report.stopped:
        return f"{vendor} pull stopped: {report.stopped}"
    added = report.sets.get("incidents", {}).get("added", 0)
    entries = "entry" if added == 1 else "entries"
    text = f"{vendor}: pulled {len(report.sets)} sets, {added} new timeline {entries}"
    if report.failed:
        text += f", {len(report.failed)} refused ({'; '.join(report.errors[-1:])})"
    return text


@dataclass(frozen=True)
class _Ask:
    """What a trigger asks of a pass: probe the hosts first, pull after pushing."""

    probe: bool
    pull: bool

    def __or__(self, other: _Ask) -> _Ask:
        return _Ask(self.probe or other.probe, self.pull or other.pull)


class SyncController(QObject):
    """Schedules passes; one at a time on the runner's parallel lane."""

    #: the pass began (the Sync tab shows "Syncing…")
    started = Signal()
    #: SyncOutcome, on the GUI thread
    finished = Signal(object)
    #: Tokens: the keyring was opened (off the GUI thread) and the dialog can use it
    tokens_ready = Signal(object)

    #: a pass every 5 minutes while online, for remote changes and anything missed
    IDLE_S: Final = 300.0
    #: the probe failed although the OS says online: try again in this many seconds
    PROBE_RETRY_S: Final = 30.0
    #: local writes come in bursts (a note, a status change): one pass after them
    DEBOUNCE_MS: Final = 2_000
    #: the pull step runs at most this often (a write's pass only pushes), except when
    #: the user asks or the network returns
    PULL_EVERY_S: Final = 300.0

    def __init__(
        self,
        context: UiContext,
        tokens: Callable[[], Tokens] = Tokens,
        *,
        policy: SyncPolicy | None = None,
        http: Callable[[], HttpSession] = HttpSession,
        debounce_ms: int = DEBOUNCE_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._make_tokens = tokens
        self._make_http = http
        self._policy = policy or SyncPolicy()
        self.tokens: Tokens | None = None
        self.last: SyncOutcome | None = None
        self.online: bool | None = None
        self.running = False
        self._again: _Ask | None = None  # a pass was asked for while one ran
        self._pulled_at: float | None = None  # monotonic, GUI thread
        self._closed = False
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._pushers: dict[str, Pusher] = {}
        self._puller: Puller | None = None
        self._session: HttpSession | None = None
        self._next = QTimer(self)
        self._next.setSingleShot(True)
        self._next.timeout.connect(self._due)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._written)
        context.events.connectivity_changed.connect(self._on_connectivity_changed)
        context.events.changes_applied.connect(self._on_changes_applied)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        """Open the keyring off the GUI thread (backends probe D-Bus), then sync once."""
        if self.tokens is not None or self._closed:
            return
        self._context.runner.read(self._make_tokens, self._on_tokens, self._on_tokens_failed)

    def _on_tokens(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.tokens_ready.emit(tokens)
        if self.online is not False:
            self.sync_now()

    def _on_tokens_failed(self, error: BaseException) -> None:
        log.error("the token store could not be opened: %s", type(error).__name__)
        self._context.events.error_shown.emit(
            f"Sync is off: the token store could not be opened ({type(error).__name__})"
        )

    # --------------------------------------------------------------- triggers

    @Slot()
    def sync_now(self) -> None:
        """Start a pass now, pull included (the user asked)."""
        self._start(_Ask(probe=False, pull=True))

    @Slot(bool)
    def _on_connectivity_changed(self, online: bool) -> None:
        self.online = online
        if online:
            self._start(_Ask(probe=True, pull=True))  # the OS says so; the probe confirms it
        else:
            self._next.stop()
            self._debounce.stop()

    @Slot(object)
    def _on_changes_applied(self, changes: Changes) -> None:
        if changes.outbox and self.online is not False and not self._closed:
            self._debounce.start()

    @Slot()
    def _due(self) -> None:
        if self.online is not False:
            pulled = self._pulled_at
            pull = pulled is None or time.monotonic() - pulled >= self.PULL_EVERY_S
            self._start(_Ask(probe=False, pull=pull))

    @Slot()
    def _written(self) -> None:
        if self.online is not False:
            self._start(_Ask(probe=False, pull=False))

    def _start(self, ask: _Ask) -> None:
        tokens = self.tokens
        if self._closed or tokens is None or self._context.runner.closed:
            return
        if self.running:
            self._again = ask if self._again is None else self._again | ask
            return
        self._next.stop()
        self._debounce.stop()
        self.running = True
        if ask.pull:
            self._pulled_at = time.monotonic()
        self.started.emit()
        self._context.runner.read(
            lambda: self._pass(tokens, ask), self._on_finished, self._on_failed
        )

    # -------------------------------------------------- the pass (not on GUI)

    def _pass(self, tokens: Tokens, ask: _Ask) -> SyncOutcome:
        clock = self._context.clock
        started = clock()
        db = self._context.workspace.db
        configured = Accounts(db, clock=clock).list()
        accounts = [a for a in configured if a.vendor in DRIVERS]
        unsupported = tuple(a.vendor for a in configured if a.vendor not in DRIVERS)
        session = self._http()
        if ask.probe and accounts and not any(reachable(session, a.base_url) for a in accounts):
            hosts = ", ".join(a.base_url for a in accounts)
            return SyncOutcome(
                started,
                clock(),
                unreachable=f"The network is back but {hosts} does not answer yet",
                next_run_in=self.PROBE_RETRY_S,
                unsupported=unsupported,
            )
        reports: list[PassReport] = []
        pulled: list[PullReport] = []
        queries = self._context.workspace.queries
        before = _entry_counts(queries) if ask.pull else {}
        for account in accounts:
            if self._cancel.is_set():
                break
            report = self._pusher(account, tokens, session).run_pass()
            reports.append(report)
            if ask.pull and not report.stopped and not self._cancel.is_set():
                pulled += self.pull(account, tokens, session)
        grew = frozenset(
            incident
            for incident, count in (_entry_counts(queries) if pulled else {}).items()
            if before.get(incident) != count
        )
        services = any(r.sets.get("services", {}).get("services") for r in pulled)
        active = [r for r in reports if not r.stopped]
        waits = [r.next_run_in for r in active if r.next_run_in is not None]
        return SyncOutcome(
            started,
            clock(),
            tuple(reports),
            tuple(pulled),
            # a stopped account waits for the user (saving it again starts a pass)
            next_run_in=min(waits) if waits else (self.IDLE_S if active else None),
            unsupported=unsupported,
            changes=Changes(incidents=grew, timeline=grew, catalog=services),
        )

    def pull(self, account: Account, tokens: Tokens, session: HttpSession) -> list[PullReport]:
        """The step after the push: remote activity into the local timeline, and
        on-calls, people, policies and services into the cache (``Puller``)."""
        with self._lock:
            if self._puller is None:
                self._puller = Puller(
                    self._context.workspace.db,
                    tokens,
                    http=session,
                    clock=self._context.clock,
                )
            puller = self._puller
            if self._cancel.is_set():
                puller.cancel()
        return [puller.pull(account.vendor)]

    def _http(self) -> HttpSession:
        if self._session is None:
            self._session = self._make_http()
        return self._session

    def _pusher(self, account: Account, tokens: Tokens, session: HttpSession) -> Pusher:
        """One per vendor for the controller's life: its pacer remembers the rate limit."""
        with self._lock:
            pusher = self._pushers.get(account.vendor)
            if pusher is None:
                pusher = Pusher(
                    self._context.workspace.db,
                    tokens,
                    vendor=account.vendor,
                    http=session,
                    policy=self._policy,
                    clock=self._context.clock,
                    actor=self._context.workspace.incidents.actor,
                )
                self._pushers[account.vendor] = pusher
            if self._cancel.is_set():
                pusher.cancel()
            return pusher

    # ------------------------------------------------------------ GUI thread

    def _on_finished(self, outcome: SyncOutcome) -> None:
        self.running = False
        self.last = outcome
        log.info("sync pass: %s", outcome.describe())
        if outcome.changes != Changes():
            self._context.events.changes_applied.emit(outcome.changes)  # the open views
        self.finished.emit(outcome)
        self._context.events.sync_finished.emit(outcome)
        self._after()

    def _on_failed(self, error: BaseException) -> None:
        self.running = False
        log.error("the sync pass failed: %s", error, exc_info=error)
        now = self._context.clock()
        outcome = SyncOutcome(
            now, now, unreachable=f"The sync pass failed: {error}", next_run_in=self.IDLE_S
        )
        self.last = outcome
        self.finished.emit(outcome)
        self._context.events.sync_finished.emit(outcome)
        self._after()

    def _after(self) -> None:
        if self._closed:
            return
        again, self._again = self._again, None
        if again is not None:
            self._start(again)
            return
        wait = self.last.next_run_in if self.last is not None else None
        if wait is not None and self.online is not False:
            self._next.start(max(0, int(wait * 1000)))

    @property
    def next_run_ms(self) -> int | None:
        """Milliseconds until the scheduled pass, or None (tests, the Sync tab)."""
        return self._next.remainingTime() if self._next.isActive() else None

    @Slot()
    def shutdown(self) -> None:
        """Quit: no new pass; the one in flight ends after its current request."""
        self._closed = True
        self._next.stop()
        self._debounce.stop()
        self._cancel.set()
        with self._lock:
            for pusher in self._pushers.values():
                pusher.cancel()
            if self._puller is not None:
                self._puller.cancel()


def _entry_counts(queries: Queries) -> dict[int, int]:
    """Timeline length per incident: what a pull grew is what the views re-read."""
    return {incident.id: incident.entry_count for incident in queries.incidents()}
