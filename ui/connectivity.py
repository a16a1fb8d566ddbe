"""Is the network there, and how far behind is the sync? Shown in the status bar.

:class:`ConnectivityMonitor` reads the OS's view of reachability through
QNetworkInformation (no polling, no probes of our own: a probe would be a
network call from the GUI). :class:`SyncStatusLabel` combines it with the
outbox counts and the age of the last pull.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtNetwork import QNetworkInformation
from PySide6.QtWidgets import QLabel, QWidget

from console.domain.freshness import describe_age
from console.domain.views import Changes
from ui.context import UiContext
from ui.events import AppEvents

log = logging.getLogger(__name__)

__all__ = [
    "ConnectivityMonitor",
    "SyncSnapshot",
    "SyncStatusLabel",
    "describe_age",
    "describe_sync",
    "online_from",
]

Reachability = QNetworkInformation.Reachability


def online_from(reachability: QNetworkInformation.Reachability) -> bool | None:
    """Only full internet reachability counts as online; Unknown stays unknown."""
    if reachability == Reachability.Online:
        return True
    if reachability in (Reachability.Disconnected, Reachability.Local, Reachability.Site):
        return False
    return None


class ConnectivityMonitor(QObject):
    """Follows QNetworkInformation's reachability; emits ``connectivity_changed`` on change."""

    def __init__(self, events: AppEvents, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._events = events
        self._online: bool | None = None
        self._info: QNetworkInformation | None = None

    @property
    def online(self) -> bool | None:
        """True online, False offline (or only a local network), None when unknown."""
        return self._online

    def start(self) -> None:
        if self._info is not None:
            return
        info: QNetworkInformation | None = QNetworkInformation.instance()  # None: not loaded
        if info is None or not info.supports(QNetworkInformation.Feature.Reachability):
            loaded = (
                QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Reachability)
                or QNetworkInformation.loadDefaultBackend()
            )
            info = QNetworkInformation.instance() if loaded else None
        if info is None or not info.supports(QNetworkInformation.Feature.Reachability):
            # Normal on minimal systems (no NetworkManager, containers): not a fault.
            log.info("no network-information backend with reachability; connectivity unknown")
            return
        self._info = info
        info.reachabilityChanged.connect(self._on_reachability_changed)
        log.info("network information from the %s backend", info.backendName())
        self._on_reachability_changed(info.reachability())

    @Slot(QNetworkInformation.Reachability)
    def _on_reachability_changed(self, reachability: QNetworkInformation.Reachability) -> None:
        self.set_online(online_from(reachability))

    def set_online(self, online: bool | None) -> None:
        """Record a new state (also how tests and a manual "work offline" switch drive it)."""
        if online == self._online:
            return
        self._online = online
        log.info("connectivity: %s", {True: "online", False: "offline", None: "unknown"}[online])
        if online is not None:
            self._events.connectivity_changed.emit(online)


# -------------------------------------------------------------------- status


@dataclass(frozen=True)
class SyncSnapshot:
    counts: dict[str, int]
    #: the last success: a push any account confirmed, or the last pull
    synced_at: datetime | None
    #: accounts the vendor stopped (401/403): "PagerDuty" etc.
    stopped: tuple[str, ...] = ()
    #: how many sync accounts are set up (None: not known)
    accounts: int | None = None


def read_snapshot(context: UiContext) -> SyncSnapshot:
    """The label's data; runs on the reader lane."""
    from console.sync.accounts import VENDOR_NAMES, Accounts  # after the first paint

    queries = context.workspace.queries
    accounts = Accounts(context.workspace.db).list()
    successes = [a.last_success_at for a in accounts if a.last_success_at is not None]
    pulled = queries.cached_at("sync")
    if pulled is not None:
        successes.append(pulled)
    from console.ops.outbox import Outbox

    counts = dict(queries.outbox_counts())
    if counts.get("pending") or counts.get("sent"):
        # held back until a person decides: they need attention, not patience
        held = Outbox(context.workspace.db).blocked(limit=100_000)
        counts["blocked"] = sum(item.waiting for item in held)
    return SyncSnapshot(
        counts,
        max(successes, default=None),
        tuple(VENDOR_NAMES.get(a.vendor, a.vendor) for a in accounts if a.stopped_reason),
        len(accounts),
    )


_WAITING_STATES: Final = ("pending", "sent")
#: failed permanently: needs a retry or discard (so do the "blocked" they hold back)
_FAILED_STATES: Final = ("failed",)
_GREEN: Final = "#2e9d4f"
_GREY: Final = "#8a8f98"
_RED: Final = "#d32f2f"
_AMBER: Final = "#c77700"


def describe_sync(online: bool | None, snapshot: SyncSnapshot, now: datetime) -> tuple[str, str]:
    """The label's plain text and the colour of its dot."""
    blocked = snapshot.counts.get("blocked", 0)
    waiting = sum(snapshot.counts.get(state, 0) for state in _WAITING_STATES) - blocked
    failed = sum(snapshot.counts.get(state, 0) for state in _FAILED_STATES) + blocked
    state = {True: "Online", False: "Offline", None: "Network unknown"}[online]
    parts = [f"● {state}"]
    if snapshot.accounts == 0:
        # nothing can sync: "38 changes waiting" would promise a sync that never comes
        kept = f"{waiting} change{'s' if waiting != 1 else ''} kept here" if waiting else ""
        parts.append("no sync account set up (Sync ▸ Accounts… to add one)")
        if kept:
            parts.append(kept)
        if failed:
            parts.append(f"{failed} need{'s' if failed == 1 else ''} attention")
        return " · ".join(parts), _RED if failed else _GREY
    if waiting:
        parts.append(f"{waiting} change{'s' if waiting != 1 else ''} waiting to sync")
    elif not failed:
        parts.append("all changes synced")
    if failed:
        parts.append(f"{failed} need{'s' if failed == 1 else ''} attention")
    parts.append(f"last synced {describe_age(snapshot.synced_at, now)}")
    for vendor in snapshot.stopped:
        parts.append(f"{vendor} refused the token: update it in Sync ▸ Accounts…")
    if failed or snapshot.stopped:
        colour = _RED
    elif online is True:
        colour = _GREEN if not waiting else _AMBER
    else:
        colour = _GREY
    return " · ".join(parts), colour


class SyncStatusLabel(QLabel):
    """The sync state in one line, e.g. "● Offline · 3 changes waiting to sync · last synced
    never"; read off the GUI thread. A click opens the Sync tab (``clicked``)."""

    REFRESH_MS: Final = 60_000
    clicked = Signal()

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self._context = context
        self._online: bool | None = None
        self._snapshot = SyncSnapshot({}, None)
        self._loading = False
        self._stale = False
        self._plain = ""
        self.setTextFormat(Qt.TextFormat.RichText)
        context.events.connectivity_changed.connect(self._on_connectivity_changed)
        context.events.changes_applied.connect(self._on_changes_applied)
        context.events.sync_finished.connect(self.refresh)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._timer = QTimer(self)
        self._timer.setInterval(self.REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._render()
        self.refresh()

    def plain_text(self) -> str:
        """The text without markup (tests, accessibility)."""
        return self._plain

    @Slot()
    def refresh(self) -> None:
        if self._context.runner.closed:  # quitting: the read has nowhere to run
            return
        if self._loading:
            self._stale = True  # read again once this read is in: it may predate a write
            return
        self._loading = True
        context = self._context
        self._context.runner.read(
            lambda: read_snapshot(context),
            self._on_loaded,
            self._on_failed,
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    @Slot(bool)
    def _on_connectivity_changed(self, online: bool) -> None:
        self._online = online
        self._render()

    @Slot(object)
    def _on_changes_applied(self, changes: Changes) -> None:
        if changes.outbox:
            self.refresh()

    def _on_loaded(self, snapshot: SyncSnapshot) -> None:
        self._loading = False
        self._snapshot = snapshot
        self._render()
        if self._stale:
            self._stale = False
            self.refresh()

    def _on_failed(self, error: BaseException) -> None:
        self._loading = False
        log.warning("could not read the sync state: %s", error)

    def _render(self) -> None:
        text, colour = describe_sync(self._online, self._snapshot, self._context.clock())
        self._plain = text
        dot, rest = text[0], text[1:]
        self.setText(f'<span style="color:{QColor(colour).name()}">{dot}</span>{_escape(rest)}')
        self.setAccessibleName(text[2:])
        self.setToolTip(
            "Changes made offline are kept in the outbox and sent to PagerDuty/Opsgenie, "
            "in order and exactly once, when the network returns. Click for the Sync tab."
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
