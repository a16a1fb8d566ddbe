"""The incident workspace: header, timeline, checklist and the quick-entry line."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain.clock import Clock
from console.domain.errors import ConsoleError
from console.domain.incident import Role
from console.domain.views import Changes, IncidentSummary
from ui.models import IncidentReader
from ui.models.checklist import ChecklistModel
from ui.models.incidents import SEVERITY_COLORS, STATUS_COLORS, format_duration, incident_age
from ui.models.timeline import COL_KIND, COL_SEQ, COL_TEXT, COL_TIME, COL_WHO, TimelineModel
from ui.quick_entry import QuickEntry
from ui.times import hover, notifier, shown

if TYPE_CHECKING:
    from console.domain.commands import KnownState
    from console.ops.incidents import IncidentService, Outcome
    from ui.context import UiContext
    from ui.events import AppEvents

log = logging.getLogger(__name__)

ROW_HEIGHT = 24
#: how often the elapsed time and overdue markers move on
TICK_MS = 1000


def report_failure(events: AppEvents, error: BaseException, doing: str) -> None:
    """Expected failures go to the banner; anything else is a bug and is logged with its trace."""
    if isinstance(error, ConsoleError):
        events.error_shown.emit(f"{doing} failed: {error}")
    else:
        log.error("%s failed with an unexpected error", doing, exc_info=error)
        events.error_shown.emit(
            f"{doing} failed: internal error ({type(error).__name__}); the details are in the log"
        )


def _badge(color: str) -> str:
    return (
        f"QLabel {{ background: {color}; color: white; border-radius: 4px; "
        f"padding: 2px 8px; font-weight: 600; }}"
    )


class IncidentView(QWidget):
    #: console.domain.views.IncidentSummary | None — the header's incident was (re)read
    incident_loaded = Signal(object)

    def __init__(
        self,
        reader: IncidentReader,
        events: AppEvents,
        clock: Clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._reader = reader
        self._events = events
        self._clock = clock
        self._context: UiContext | None = None
        self._incident: IncidentSummary | None = None
        self._own: Changes | None = None
        self._ticks = 0

        self.timeline_model = TimelineModel(reader, self)
        self.checklist_model = ChecklistModel(reader, clock, self)
        self.checklist_model.read_only = True
        self.checklist_model.tick_requested.connect(self.tick_item)

        # header --------------------------------------------------------------
        self.title_label = QLabel(self)
        self.title_label.setObjectName("incidentTitle")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setBold(True)
        self.title_label.setFont(font)
        self.severity_badge = QLabel(self)
        self.severity_badge.setObjectName("severityBadge")
        self.status_badge = QLabel(self)
        self.status_badge.setObjectName("statusBadge")
        self.roles_label = QLabel(self)
        self.roles_label.setObjectName("rolesLabel")
        self.roles_label.setTextFormat(Qt.TextFormat.PlainText)
        self.elapsed_label = QLabel(self)
        self.elapsed_label.setObjectName("elapsedLabel")
        elapsed_font = self.elapsed_label.font()
        elapsed_font.setPointSizeF(elapsed_font.pointSizeF() * 1.2)
        elapsed_font.setBold(True)
        self.elapsed_label.setFont(elapsed_font)

        self.services_label = QLabel(self)
        self.services_label.setObjectName("servicesLabel")
        self.services_label.setTextFormat(Qt.TextFormat.RichText)
        self.services_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.services_label.linkActivated.connect(self._on_service_link)
        self.services_label.hide()

        badges = QHBoxLayout()
        badges.setSpacing(8)
        badges.addWidget(self.severity_badge)
        badges.addWidget(self.status_badge)
        badges.addWidget(self.roles_label, 1)
        badges.addWidget(self.elapsed_label)
        header = QFrame(self)
        header.setObjectName("incidentHeader")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(4, 4, 4, 8)
        header_layout.addWidget(self.title_label)
        header_layout.addLayout(badges)
        header_layout.addWidget(self.services_label)

        # timeline ------------------------------------------------------------
        self.timeline = QTableView(self)
        self.timeline.setObjectName("timeline")
        self.timeline.setModel(self.timeline_model)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.setWordWrap(False)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.setShowGrid(False)
        self.timeline.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vertical = self.timeline.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(ROW_HEIGHT)
        vertical.hide()
        horizontal = self.timeline.horizontalHeader()
        horizontal.setStretchLastSection(True)
        horizontal.setHighlightSections(False)
        for column, width in ((COL_SEQ, 56), (COL_TIME, 76), (COL_WHO, 120), (COL_KIND, 92)):
            horizontal.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.timeline.setColumnWidth(column, width)
        self._fit_time_column()
        notifier().changed.connect(self._zone_changed)
        horizontal.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        self.timeline_model.rowsAboutToBeInserted.connect(self._before_insert)
        self.timeline_model.rowsInserted.connect(self._after_insert)
        self._follow = True

        self.quick_entry = QuickEntry(self)
        self.quick_entry.committed.connect(self.apply_outcome)
        self.quick_entry.known_state = self.known_state

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.timeline, 1)
        left_layout.addWidget(self.quick_entry)

        # checklist -----------------------------------------------------------
        self.checklist = QListView(self)
        self.checklist.setObjectName("checklist")
        self.checklist.setModel(self.checklist_model)
        self.checklist.setWordWrap(True)
        self.checklist.setSpacing(2)
        self.checklist.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        checklist_title = QLabel("Checklist", self)
        checklist_title.setObjectName("paneTitle")
        self.checklist_hint = QLabel("Tick with a click or /done N", self)
        self.checklist_hint.setObjectName("paneHint")
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(checklist_title)
        right_layout.addWidget(self.checklist, 1)
        right_layout.addWidget(self.checklist_hint)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("incidentSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(header)
        layout.addWidget(self.splitter, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

        events.changes_applied.connect(self.on_changes)
        self._show_header()

    # ------------------------------------------------------------------ public

    def attach(self, context: UiContext) -> None:
        """The workspace is open: writes (quick entry, ticks, actions) become possible."""
        self._context = context
        self.set_reader(context.workspace.queries)
        self.quick_entry.attach(context)
        self.checklist_model.read_only = False

    def set_reader(self, reader: IncidentReader) -> None:
        self._reader = reader
        self.timeline_model.set_reader(reader)
        self.checklist_model.set_reader(reader)

    @property
    def incident(self) -> IncidentSummary | None:
        return self._incident

    @property
    def incident_id(self) -> int | None:
        return self._incident.id if self._incident else None

    def known_state(self) -> KnownState | None:
        """What is on screen about the incident: the quick entry checks a command against
        it (severity, status, roles, checklist length) before clearing the line."""
        incident = self._incident
        if incident is None:
            return None
        from console.domain.commands import KnownState

        return KnownState(
            severity=incident.severity,
            status=incident.status,
            roles=tuple((held.role, held.person) for held in incident.roles),
            checklist_size=self.checklist_model.rowCount(),
        )

    def set_incident(self, incident_id: int | None) -> None:
        if incident_id is not None and incident_id == self.incident_id:
            return
        self._incident = self._read_incident(incident_id)
        shown = self.incident_id
        self.timeline_model.set_incident(shown)
        self.checklist_model.set_incident(shown)
        self.quick_entry.set_incident(shown)
        self._follow = True
        self.timeline.scrollToBottom()
        self._show_header()
        self.incident_loaded.emit(self._incident)

    def reload(self) -> None:
        """Re-read everything shown (after the read side was swapped)."""
        self._incident = self._read_incident(self.incident_id)
        self.timeline_model.reload()
        self.checklist_model.refresh()
        self.timeline.scrollToBottom()
        self._show_header()

    def focus_quick_entry(self) -> None:
        self.quick_entry.line.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.quick_entry.line.selectAll()

    def write(self, operation: Callable[[IncidentService], Outcome], doing: str) -> None:
        """Run an operation on this incident's service; show its entry once it committed."""
        context = self._context
        if context is None:
            self._events.error_shown.emit(f"{doing}: the workspace is still opening; try again")
            return
        service = context.workspace.incidents
        context.runner.write(
            lambda: operation(service),
            self.apply_outcome,
            lambda error: report_failure(self._events, error, doing),
        )

    @Slot(int)
    def tick_item(self, item_id: int) -> None:
        incident_id = self.incident_id
        if incident_id is None:
            return
        self.write(lambda service: service.tick_item(incident_id, item_id), "Ticking the item")

    @Slot(object)
    def apply_outcome(self, outcome: Outcome) -> None:
        """Our own write committed: show its entry directly, then tell everyone else."""
        if outcome.entry is not None and outcome.entry.incident_id == self.incident_id:
            self.timeline_model.append_entries([outcome.entry])
        self._own = outcome.changes
        try:
            self._events.changes_applied.emit(outcome.changes)
        finally:
            self._own = None

    @Slot(object)
    def on_changes(self, changes: Changes) -> None:
        incident_id = self.incident_id
        if incident_id is None:
            return
        if incident_id in changes.incidents or incident_id in changes.roles:
            self._incident = self._read_incident(incident_id) or self._incident
            self._show_header()
            self.incident_loaded.emit(self._incident)
        if incident_id in changes.checklist:
            self.checklist_model.refresh()
        if incident_id in changes.timeline and changes is not self._own:
            self.timeline_model.refresh_tail()

    # ---------------------------------------------------------------- internals

    def _read_incident(self, incident_id: int | None) -> IncidentSummary | None:
        if incident_id is None:
            return None
        try:
            return self._reader.incident(incident_id)
        except ConsoleError as error:
            self._events.error_shown.emit(f"Could not open incident {incident_id}: {error}")
            return None

    def _show_header(self) -> None:
        incident = self._incident
        if incident is None:
            self.title_label.setText("No incident selected")
            for label in (self.severity_badge, self.status_badge):
                label.hide()
            self.roles_label.setText("Declare one with Ctrl+N")
            self.elapsed_label.clear()
            self.services_label.hide()
            return
        self.title_label.setText(incident.title)
        self.severity_badge.setText(incident.severity.value)
        self.severity_badge.setStyleSheet(_badge(SEVERITY_COLORS[incident.severity]))
        self.severity_badge.setToolTip(incident.severity.definition)
        self.status_badge.setText(incident.status.label.upper())
        self.status_badge.setStyleSheet(_badge(STATUS_COLORS[incident.status]))
        self.severity_badge.show()
        self.status_badge.show()
        held = {h.role: h.person for h in incident.roles}
        parts = [f"IC: {held.get(Role.INCIDENT_COMMANDER, 'unassigned')}"]
        others = [r for r in Role if r in held and r is not Role.INCIDENT_COMMANDER]
        parts += [f"{role.short}: {held[role]}" for role in others]
        self.roles_label.setText("  ·  ".join(parts))
        self.roles_label.setToolTip(
            "\n".join(f"{h.role.label}: {h.person}" for h in incident.roles)
        )
        self._show_services(incident)
        self._show_elapsed()

    def _show_services(self, incident: IncidentSummary) -> None:
        if not incident.services:
            self.services_label.hide()
            return
        links = ", ".join(
            f"<a href='{html.escape(s.ref)}'>{html.escape(s.name)}</a>" for s in incident.services
        )
        self.services_label.setText(f"Affected services: {links}")
        self.services_label.setToolTip("Click a service to see it on the dependency map")
        self.services_label.show()

    @Slot(str)
    def _on_service_link(self, ref: str) -> None:
        self._events.service_selected.emit(ref)

    def _show_elapsed(self) -> None:
        incident = self._incident
        if incident is None:
            return
        word, seconds = incident_age(incident, self._clock())
        duration = format_duration(seconds)
        self.elapsed_label.setText(
            f"Elapsed {duration}" if word == "elapsed" else f"Lasted {duration}"
        )
        self.elapsed_label.setToolTip(f"Declared {hover(incident.declared_at)}")

    def _fit_time_column(self) -> None:
        """Wide enough for a labelled time in the chosen zone (``14:05:03 EST``)."""
        sample = shown(self._clock(), "seconds")
        width = self.timeline.fontMetrics().horizontalAdvance(f"{sample}0") + 16
        self.timeline.setColumnWidth(COL_TIME, max(width, 76))

    @Slot(str)
    def _zone_changed(self, _zone: str) -> None:
        """The user chose another time zone: every shown time follows."""
        self._fit_time_column()
        self.timeline.viewport().update()
        self.checklist.doItemsLayout()
        self.checklist.viewport().update()
        self._show_elapsed()

    @Slot()
    def _tick(self) -> None:
        self._show_elapsed()
        self._ticks += 1
        if self._ticks % 15 == 0:
            self.checklist_model.tick()

    @Slot(QModelIndex, int, int)
    def _before_insert(
        self, parent: QModelIndex | QPersistentModelIndex, first: int, last: int
    ) -> None:
        bar = self.timeline.verticalScrollBar()
        self._follow = bar.value() >= bar.maximum() - 2

    @Slot(QModelIndex, int, int)
    def _after_insert(
        self, parent: QModelIndex | QPersistentModelIndex, first: int, last: int
    ) -> None:
        if self._follow:
            self.timeline.scrollToBottom()
