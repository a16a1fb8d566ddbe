"""The main window: incident list, the incident workspace, actions, banners, status bar.

Built in two steps so the first paint never waits for the storage stack:
``MainWindow(reader, events, clock)`` shows the incidents from any reader (the
start-up snapshot or the live queries); ``attach(context)`` wires the open
workspace — writes, banners, reminders, sync status. ``MainWindow.for_context``
does both at once (tests, the simple start path).

The secondary tabs (Runbooks, Services, On call, Readiness, Sync) and the pack
importer are built lazily (issue 16, the ``ready`` benchmark): attach() adds a
placeholder tab and the menus and actions for each; showing the tab, using one of
its actions or palette entries, or ``area(name)`` builds it, and the app builds the
rest from an idle queue (``build_areas_later``) once the window takes Ctrl+N.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from PySide6.QtCore import (
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QListView,
    QMainWindow,
    QMenu,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from console.domain.clock import Clock
from console.domain.incident import Role, Severity, Status
from console.domain.views import Changes, IncidentSummary
from ui.confirm import confirm
from ui.incident_view import IncidentView, report_failure
from ui.models import IncidentReader
from ui.models.incidents import (
    SEVERITY_COLORS,
    IncidentListModel,
    format_duration,
    incident_age,
)
from ui.models.roles import ItemRole

if TYPE_CHECKING:
    from console.ops.incidents import Outcome
    from ui.audit.view import ReadinessView
    from ui.context import UiContext
    from ui.declare_dialog import Declaration
    from ui.events import AppEvents
    from ui.oncall.area import OnCallArea
    from ui.packs import PackExpiryLabel, PackImporter
    from ui.palette import CommandPalette, PaletteEntry
    from ui.runbooks.area import RunbooksArea
    from ui.services.area import ServicesArea
    from ui.sync.controller import SyncController
    from ui.sync.panel import SyncPanel

log = logging.getLogger(__name__)

STATUS_TARGETS = (
    Status.TRIAGE,
    Status.MITIGATING,
    Status.RESOLVED,
    Status.POST_INCIDENT,
    Status.CLOSED,
)
THEMES = (("system", "System"), ("light", "Light"), ("dark", "Dark"))
LIST_TICK_MS = 20_000
#: the tabs built on first show or first use (or from the idle queue once the window
#: takes input, see MainWindow.build_areas_later): name → tab text, in tab order
LAZY_TABS: dict[str, str] = {
    "runbooks": "Runbooks",
    "services": "Services",
    "oncall": "On call",
    "readiness": "Readiness",
    "sync": "Sync",
}
#: the order the idle queue builds them in: automatic sync starts first; "packs" is the
#: pack importer and the status bar's expiry label (no tab)
IDLE_ORDER = ("sync", "services", "runbooks", "oncall", "readiness", "packs")
AreaName = Literal["runbooks", "services", "oncall", "readiness", "sync", "packs"]


def _module_available(name: str) -> bool:
    """Secondary windows land in parallel; wire each one only once its module exists."""
    return importlib.util.find_spec(name) is not None


class TabPlaceholder(QWidget):
    """Stands in a tab until its area is built: when the tab is first shown, one of its
    actions or palette entries is used, or the idle queue reaches it."""

    def __init__(self, name: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setObjectName(f"placeholder_{name}")
        label = QLabel(f"Opening {text}…", self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(label)


class IncidentDelegate(QStyledItemDelegate):
    """Two lines per incident: a severity badge and the title; status and elapsed time."""

    HEIGHT = 52

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(200, self.HEIGHT)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        incident = index.data(ItemRole.VIEW)
        if not isinstance(incident, IncidentSummary):
            super().paint(painter, option, index)
            return
        painter.save()
        # selection from the view, not option.state: the first QStyle access from
        # Python costs ~15 ms of wrappers, which the first paint does not pay
        view = self.parent()
        selected = isinstance(view, QListView) and view.selectionModel().isSelected(index)
        palette = option.palette
        if selected:  # drawRect, not fillRect: its overloads would build QGradient's enums
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.highlight())
            painter.drawRect(option.rect)
        rect: QRect = option.rect.adjusted(8, 6, -8, -6)
        text_color = palette.highlightedText().color() if selected else palette.text().color()
        muted = QColor(text_color)
        muted.setAlpha(170)

        badge_font = painter.font()
        badge_font.setBold(True)
        badge_font.setPointSizeF(badge_font.pointSizeF() * 0.85)
        painter.setFont(badge_font)
        badge_w = painter.fontMetrics().horizontalAdvance("SEV0") + 12
        badge = QRect(rect.left(), rect.top() + 1, badge_w, 18)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        color = QColor(SEVERITY_COLORS[incident.severity])
        if not incident.status.is_active:
            color.setAlpha(140)
        painter.setBrush(color)
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, incident.severity.value)

        title_font = option.font
        title_font.setBold(incident.status.is_active)
        painter.setFont(title_font)
        painter.setPen(text_color if incident.status.is_active else muted)
        title_rect = QRect(badge.right() + 8, rect.top(), rect.width() - badge_w - 8, 20)
        title = painter.fontMetrics().elidedText(
            incident.title, Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )

        detail_font = option.font
        detail_font.setBold(False)
        detail_font.setPointSizeF(detail_font.pointSizeF() * 0.9)
        painter.setFont(detail_font)
        painter.setPen(muted)
        detail = list_detail(incident, _now(index))
        detail_rect = QRect(rect.left(), rect.top() + 22, rect.width(), 18)
        detail = painter.fontMetrics().elidedText(detail, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(
            detail_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, detail
        )
        painter.restore()


def list_detail(incident: IncidentSummary, now: Any) -> str:
    """ "Mitigating · elapsed 12m · IC Ana": whole minutes, since the list repaints every
    LIST_TICK_MS (seconds that stood still for half a minute read as a frozen clock)."""
    word, seconds = incident_age(incident, now)
    shown = format_duration(seconds - seconds % 60) if seconds >= 60 else "<1m"
    shown = shown.removesuffix(" 00s")
    detail = f"{incident.status.label} · {word} {shown}"
    ic = incident.holder(Role.INCIDENT_COMMANDER)
    return detail + (f" · IC {ic}" if ic else "")


def _now(index: QModelIndex | QPersistentModelIndex) -> Any:
    model = index.model()
    clock = getattr(model, "clock", None)
    assert clock is not None
    return clock()


class MainWindow(QMainWindow):
    #: the workspace is attached: writes work from now on
    attached = Signal()
    #: the catalog's service names arrived (or changed): the Declare dialog completes them
    service_names_loaded = Signal()

    def __init__(
        self,
        reader: IncidentReader,
        events: AppEvents,
        clock: Clock,
        *,
        demo: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._events = events
        self._clock = clock
        self._demo = demo
        self._context: UiContext | None = None
        self._compact: Any = None
        self._error_banner: Any = None
        self.reminder_banner: Any = None  # ui.reminders.ReminderBanner, made in attach()
        self._pending_errors: list[str] = []
        self._keep: list[Any] = []  # QObjects owned here for the window's lifetime
        # the tabs below are built on first show or use, or by the idle queue: reach one
        # with area(name), which builds it; these stay None until then
        self.runbooks: RunbooksArea | None = None  # the Runbooks tab
        self.services: ServicesArea | None = None  # the Services tab
        self.oncall: OnCallArea | None = None  # the On call tab
        self.readiness: ReadinessView | None = None  # the Readiness tab
        self.sync: SyncController | None = None  # automatic sync, built with the Sync tab
        self.sync_panel: SyncPanel | None = None  # the Sync tab
        self.sync_status: Any = None  # the status bar's SyncStatusLabel
        self.pack_importer: PackImporter | None = None  # File → Import pack…, made on first use
        self.pack_expiry: PackExpiryLabel | None = None  # made with the pack importer
        self._placeholders: dict[str, TabPlaceholder] = {}
        self._swapping = False  # a placeholder is being replaced by its area
        self._service_names: list[str] | None = None  # None: the catalog is still being read
        self._opening = False  # the app is opening the workspace: see expect_workspace()
        self.setWindowTitle("Responder Console" + (" — demo workspace" if demo else ""))
        self.setObjectName("mainWindow")

        # incident list -----------------------------------------------------------
        self.incident_model = IncidentListModel(reader, clock, self)
        self.incident_model.clock = clock  # type: ignore[attr-defined]  # read by the delegate
        self.incident_list = QListView(self)
        self.incident_list.setObjectName("incidentList")
        self.incident_list.setModel(self.incident_model)
        self.incident_list.setItemDelegate(IncidentDelegate(self.incident_list))
        self.incident_list.setUniformItemSizes(True)
        self.incident_list.setAccessibleName("Incidents")
        self.incident_list.selectionModel().selectionChanged.connect(self._on_list_selection)
        self.filter_combo = QComboBox(self)
        self.filter_combo.addItem("All incidents", False)
        self.filter_combo.addItem("Active only", True)
        self.filter_combo.setToolTip("Show every incident or only the ones still being fought")
        self.filter_combo.currentIndexChanged.connect(self._on_filter_changed)
        list_title = QLabel("Incidents", self)
        list_title.setObjectName("paneTitle")
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(list_title)
        side_layout.addWidget(self.filter_combo)
        side_layout.addWidget(self.incident_list, 1)

        # incident workspace --------------------------------------------------------
        self.incident_view = IncidentView(reader, events, clock, self)
        self.banner_area = QVBoxLayout()
        self.banner_area.setContentsMargins(0, 0, 0, 0)
        self.banner_area.setSpacing(4)
        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addLayout(self.banner_area)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("centreTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.incident_view, "Incident")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        centre_layout.addWidget(self.tabs, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(side)
        self.splitter.addWidget(centre)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([340, 1000])
        self.splitter.setChildrenCollapsible(False)
        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(8, 8, 8, 4)
        body_layout.addWidget(self.splitter)
        self.setCentralWidget(body)

        # actions, menus, toolbar, status bar -----------------------------------------
        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        self._build_service_actions()
        if demo:
            marker = QLabel("Demo workspace", self)
            marker.setObjectName("demoMarker")
            marker.setStyleSheet(
                "QLabel { background: #6a1b9a; color: white; border-radius: 3px;"
                " padding: 1px 6px; }"
            )
            marker.setToolTip("Sample data; nothing here reaches PagerDuty or Opsgenie")
            self.statusBar().addPermanentWidget(marker)
        self.statusBar().showMessage("Opening the workspace…")

        self._list_timer = QTimer(self)
        self._list_timer.setInterval(LIST_TICK_MS)
        self._list_timer.timeout.connect(self.incident_model.tick)
        self._list_timer.start()

        events.changes_applied.connect(self.on_changes)
        events.incident_selected.connect(self.select_incident)
        events.error_shown.connect(self.show_error)
        events.service_selected.connect(self.show_service)
        self.incident_view.incident_loaded.connect(self._on_incident_loaded)

        self.incident_model.reload()
        self.select_incident(self.incident_model.default_incident())
        self._set_writable(False)
        self._restore_layout()

    @classmethod
    def for_context(cls, context: UiContext) -> MainWindow:
        window = cls(context.workspace.queries, context.events, context.clock, demo=context.demo)
        window.attach(context)
        return window

    # ------------------------------------------------------------------ attach

    def attach(self, context: UiContext) -> None:
        """The workspace is open: switch to live reads, enable writes, add banners and status."""
        self._context = context
        self._opening = False
        reader = context.workspace.queries
        self.incident_model.set_reader(reader)
        self.incident_view.attach(context)
        # the tabs are placeholders until first shown or used (the start waits for none
        # of their imports); their menus and actions work at once and build them
        for name, text in LAZY_TABS.items():
            if self._built(name) is None and name not in self._placeholders:
                self._placeholders[name] = placeholder = TabPlaceholder(name, text, self)
                self.tabs.addTab(placeholder, text)
        self._add_service_actions()
        self._add_oncall_actions()
        self._add_comms(context)
        self._add_packs_action()
        self._add_readiness_actions()
        self._add_metrics()
        self._set_writable(True)
        self.statusBar().clearMessage()
        self._add_secondary(context)
        self._add_sync_actions()
        if self._service_names is None:
            self._read_service_names()
        pending, self._pending_errors = self._pending_errors, []
        for message in pending:
            self.show_error(message)
        self.attached.emit()

    # ------------------------------------------------------------ the lazy tabs

    @overload
    def area(self, name: Literal["runbooks"]) -> RunbooksArea: ...
    @overload
    def area(self, name: Literal["services"]) -> ServicesArea: ...
    @overload
    def area(self, name: Literal["oncall"]) -> OnCallArea: ...
    @overload
    def area(self, name: Literal["readiness"]) -> ReadinessView: ...
    @overload
    def area(self, name: Literal["sync"]) -> SyncPanel: ...
    @overload
    def area(self, name: Literal["packs"]) -> PackImporter: ...
    def area(self, name: AreaName) -> Any:
        """The part ``name``, built now if it was not yet: the one way to reach a tab
        (actions, palette entries, links between tabs, tests). A tab's placeholder
        is replaced in place; the tab shown stays shown. Only once attached."""
        context = self._context
        if context is None:
            raise RuntimeError(f"the {name} tab needs the open workspace (attach first)")
        built = self._built(name)
        if built is not None:
            return built
        log.debug("building the %s tab", name)
        if name == "runbooks":
            made: QWidget = self._build_runbooks(context)
        elif name == "services":
            made = self._build_services(context)
        elif name == "oncall":
            made = self._build_oncall(context)
        elif name == "readiness":
            made = self._build_readiness(context)
        elif name == "sync":
            made = self._build_sync(context)
        else:
            return self._build_packs(context)
        self._replace_placeholder(name, made)
        return made

    def _built(self, name: str) -> QObject | None:
        built: dict[str, QObject | None] = {
            "runbooks": self.runbooks,
            "services": self.services,
            "oncall": self.oncall,
            "readiness": self.readiness,
            "sync": self.sync_panel,
            "packs": self.pack_importer,
        }
        return built[name]

    def _replace_placeholder(self, name: str, widget: QWidget) -> None:
        placeholder = self._placeholders.pop(name, None)
        if placeholder is None:
            self.tabs.addTab(widget, LAZY_TABS[name])
            return
        index = self.tabs.indexOf(placeholder)
        shown = self.tabs.currentIndex() == index
        self._swapping = True
        try:
            self.tabs.insertTab(index, widget, LAZY_TABS[name])
            if shown:
                self.tabs.setCurrentIndex(index)
            self.tabs.removeTab(index + 1)
        finally:
            self._swapping = False
        placeholder.deleteLater()

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if not self._swapping and isinstance(widget, TabPlaceholder):
            self.area(widget.name)  # type: ignore[call-overload]  # a LAZY_TABS name

    def _show_area(self, name: AreaName) -> QWidget | None:
        """Build (if needed) and show the tab ``name``; None before attach."""
        if self._context is None:
            return None
        widget = self.area(name)
        assert isinstance(widget, QWidget)
        self.tabs.setCurrentWidget(widget)
        return widget

    def build_areas_later(self) -> None:
        """Build the parts not built yet one per event-loop turn, so input is taken
        between them (the app calls this once the window takes Ctrl+N)."""
        waiting = [name for name in IDLE_ORDER if self._built(name) is None]

        def next_one() -> None:
            while waiting and self._built(waiting[0]) is not None:
                waiting.pop(0)  # built meanwhile (shown or used)
            if not waiting or self._context is None:
                return
            self.area(waiting.pop(0))  # type: ignore[call-overload]  # an IDLE_ORDER name
            QTimer.singleShot(0, self, next_one)

        QTimer.singleShot(0, self, next_one)

    def build_areas_now(self) -> None:
        """Build every part not built yet, now (before work that must not overlap)."""
        if self._context is None:
            return
        for name in IDLE_ORDER:
            self.area(name)  # type: ignore[call-overload]  # an IDLE_ORDER name

    # ------------------------------------------------------- the catalog's names

    def service_names(self) -> list[str] | None:
        """The catalog's service labels the Declare dialog completes from; None while
        they are still being read."""
        return self._service_names

    def set_service_names(self, names: list[str]) -> None:
        self._service_names = list(names)
        self.service_names_loaded.emit()

    def _read_service_names(self) -> None:
        context = self._context
        if context is None:
            return
        queries = context.workspace.queries
        context.runner.read(
            queries.service_names,
            self.set_service_names,
            lambda error: report_failure(self._events, error, "Reading the service catalog"),
        )

    def resync(self) -> None:
        """Re-read what is shown (the read side was swapped; others may have written)."""
        self.incident_model.refresh()
        incident_id = self.current_incident_id
        if incident_id is not None:
            ids = frozenset({incident_id})
            self.incident_view.on_changes(Changes(incidents=ids, timeline=ids, checklist=ids))

    # each area starts (its first read) on the next turn, unless it is gone by then
    # (a window closed right after building it): the timers name it as their context

    def _build_runbooks(self, context: UiContext) -> RunbooksArea:
        from ui.runbooks.area import RunbooksArea  # markdown, yaml, …: not on the start path

        self.runbooks = RunbooksArea(context, self)
        QTimer.singleShot(0, self.runbooks, self.runbooks.start)
        return self.runbooks

    # ------------------------------------------------ the On call tab (issue 4)

    def _add_oncall_actions(self) -> None:
        """The On call menu and its actions (shortcuts, so palette entries too); each
        builds the tab when it is not yet."""
        if "oncall_emergency" in self.actions_by_name:
            return
        menu = self.menuBar().addMenu("On &call")
        for name, text, keys, slot, tip in (
            ("oncall_emergency", "&Who to call…", "Ctrl+Shift+O", lambda o: o.show_emergency(),
             "The escalation chain of a service: who is on call now and their numbers"),
            ("oncall_people", "Find a &person…", "Ctrl+Shift+P", lambda o: o.show_people(),
             "Search the contacts and copy a number"),
            ("oncall_print", "&Print the escalation chain…", "Ctrl+P", lambda o: o.print_chain(),
             "Print the chain shown in the emergency view, or save it as PDF"),
        ):  # fmt: skip
            action = self._action(name, text, keys, self._on_call_slot(slot), tip)
            menu.addAction(action)

    def _build_oncall(self, context: UiContext) -> OnCallArea:
        from ui.oncall.area import OnCallArea  # not on the start path

        self.oncall = OnCallArea(context, self)
        QTimer.singleShot(0, self.oncall, self.oncall.start)
        return self.oncall

    # ------------------------------- communications and postmortems (issue 6)

    def _add_comms(self, context: UiContext) -> None:
        """Draft update and Postmortem actions (shortcuts, so palette entries too), and
        the overdue action items banner, read once on start."""
        if "draft_update" in self.actions_by_name:
            return
        from ui.comms.overdue import OverdueBanner  # after the first paint

        menu = self.menuBar().addMenu("Co&mms")
        for name, text, keys, slot, tip in (
            ("draft_update", "&Draft update…", "Ctrl+U", self.draft_update,
             "Fill a status-page, customer, internal or CAN template; copy it; log it as sent"),
            ("postmortem", "&Postmortem…", "Ctrl+Shift+M", self.open_postmortem,
             "Draft, edit and export the postmortem and its action items"),
        ):  # fmt: skip
            menu.addAction(self._action(name, text, keys, slot, tip))
        self.overdue_banner = OverdueBanner(context, self.open_postmortem_of, self)
        self.banner_area.addWidget(self.overdue_banner)
        QTimer.singleShot(0, self.overdue_banner.start)

    @Slot()
    def draft_update(self) -> None:
        context, incident = self._context, self.incident_view.incident
        if context is None or incident is None:
            self._events.error_shown.emit("Draft update: select an incident first")
            return
        from ui.comms.draft_dialog import DraftUpdateDialog

        dialog = DraftUpdateDialog(
            context, incident.id, on_sent=self.incident_view.apply_outcome, parent=self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    @Slot()
    def open_postmortem(self) -> None:
        incident = self.incident_view.incident
        if incident is None:
            self._events.error_shown.emit("Postmortem: select an incident first")
            return
        self.open_postmortem_of(incident.id)

    def open_postmortem_of(self, incident_id: int) -> None:
        if self._context is None:
            return
        from ui.comms.postmortem_dialog import PostmortemDialog

        dialog = PostmortemDialog(self._context, incident_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    # ------------------------------------------------ content packs (issue 7)

    def _add_packs_action(self) -> None:
        """File → Import pack… (shortcut, so a palette entry too); the importer and the
        pack-expiry label are built on first use or by the idle queue (``area("packs")``)."""
        if "import_pack" in self.actions_by_name:
            return
        action = self._action(
            "import_pack", "Import &pack…", "Ctrl+Shift+K",
            lambda: self.area("packs").choose_and_import(),
            "Verify a signed content pack against the pinned team keys, then apply it",
        )  # fmt: skip
        for menu_action in self.menuBar().actions():
            file_menu = menu_action.menu()
            if menu_action.text() == "&File" and isinstance(file_menu, QMenu):
                file_menu.insertAction(self.actions_by_name["import_runbooks"], action)

    def _build_packs(self, context: UiContext) -> PackImporter:
        from ui.packs import PackExpiryLabel, PackImporter, imported_message

        self.pack_expiry = expiry = PackExpiryLabel(context, self)
        self.statusBar().addPermanentWidget(expiry)

        def imported(report: Any) -> None:
            self.statusBar().showMessage(imported_message(report), 15_000)
            expiry.start()
            if self.runbooks is not None:
                self.runbooks.start()

        self.pack_importer = PackImporter(context, self, imported)
        QTimer.singleShot(0, expiry, expiry.start)
        return self.pack_importer

    # ------------------------------------------- the Readiness tab (issue 6, audit)

    def _add_readiness_actions(self) -> None:
        """The Readiness menu and its actions (shortcuts, so palette entries too); each
        builds the tab when it is not yet. The tab audits when first shown."""
        if "readiness" in self.actions_by_name:
            return
        menu = self.menuBar().addMenu("Rea&diness")
        for name, text, keys, slot, tip in (
            ("readiness", "&Readiness audit", "Ctrl+Shift+D", lambda v: None,
             "Scores per area with their trend, findings and fixes"),
            ("readiness_run", "&Run the audit", "Ctrl+Alt+A", lambda v: v.run_audit(),
             "Audit now and keep the scores for the trend"),
            ("readiness_markdown", "Export the audit as &Markdown…", "Ctrl+Alt+D",
             lambda v: v.choose_and_export("markdown"), "Save the audit as a Markdown file"),
            ("readiness_html", "Export the audit as &HTML…", "Ctrl+Alt+H",
             lambda v: v.choose_and_export("html"), "Save the audit as a self-contained page"),
        ):  # fmt: skip
            menu.addAction(self._action(name, text, keys, self._on_readiness(slot), tip))

    def _build_readiness(self, context: UiContext) -> ReadinessView:
        from ui.audit.view import ReadinessView  # not on the start path

        self.readiness = view = ReadinessView(context, self)
        view.open_requested.connect(self._open_audit_object)
        return view

    def _on_readiness(self, do: Callable[[ReadinessView], None]) -> Callable[[], None]:
        def run() -> None:
            if self._show_area("readiness") is not None:
                do(self.area("readiness"))

        return run

    @Slot(object)
    def _open_audit_object(self, obj: Any) -> None:
        """A finding's object clicked: the service on the map, the runbook, the person in
        the People panel, the incident."""
        kind = getattr(obj.kind, "value", "")
        if kind == "service":
            self.show_service(obj.key)
        elif kind == "runbook":
            self._open_runbook_from_map(int(obj.key))
        elif kind == "incident":
            self._show_incident_from_map(int(obj.key))
        elif kind == "person":
            self._find_person(obj.label)

    def _find_person(self, name: str) -> None:
        """The People panel of the On call tab, searching for ``name``."""
        if self._show_area("oncall") is None:
            return
        oncall = self.area("oncall")
        oncall.show_people()
        oncall.people.search_line.setText(name)
        oncall.people.run_search()

    # ---------------------------------------------------- metrics (issue 6, item 5)

    def _add_metrics(self) -> None:
        """The Metrics action in the Comms menu (a shortcut, so a palette entry too)."""
        if "metrics" in self.actions_by_name:
            return
        action = self._action("metrics", "&Metrics…", "Ctrl+Alt+M", self.open_metrics,
                              "Response times, counts and action items across incidents, "
                              "as charts")  # fmt: skip
        menus = self.menuBar().findChildren(QMenu)
        menu = next((m for m in menus if m.title() == "Co&mms"), None)
        (menu or self.menuBar().addMenu("Co&mms")).addAction(action)

    @Slot()
    def open_metrics(self) -> None:
        if self._context is None:
            return
        # the dialog imports pyqtgraph on the reader lane; PySide's first use of a class
        # (type set-up) is not safe against the GUI thread setting up others at the same
        # time (a segfault in 1 of 6 busy starts), so the tabs still waiting are built first
        self.build_areas_now()
        from ui.metrics.view import MetricsDialog  # pyqtgraph follows on the reader lane

        dialog = MetricsDialog(self._context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.refresh()

    # ----------------------------------------- automatic sync, Sync tab (issue 5)

    def _add_sync_actions(self) -> None:
        """The Sync menu (shortcuts, so palette entries too); a click on the status bar's
        sync line opens the tab. The controller (automatic sync) and the tab are built
        together: first in the idle queue, or on first use."""
        if "sync_now" in self.actions_by_name:
            return
        menu = self.menuBar().addMenu("S&ync")
        for name, text, keys, slot, tip in (
            ("sync_now", "Sync &now", "Ctrl+Shift+Y", self.sync_now,
             "Push what is queued to PagerDuty/Opsgenie now"),
            ("sync_panel", "Sync &panel", "Ctrl+Alt+Y", self.show_sync_panel,
             "Accounts, what waits per incident, failed operations to retry or discard"),
            ("sync_accounts", "Sync &accounts…", "Ctrl+Alt+K", self.open_sync_accounts,
             "Add, edit or remove the PagerDuty and Opsgenie accounts and their tokens"),
        ):  # fmt: skip
            menu.addAction(self._action(name, text, keys, slot, tip))
        if self.sync_status is not None:
            self.sync_status.clicked.connect(self.show_sync_panel)

    def _build_sync(self, context: UiContext) -> SyncPanel:
        from ui.sync.controller import SyncController  # requests, keyring: not on the start path
        from ui.sync.panel import SyncPanel

        self.sync = SyncController(context, parent=self)
        self.sync_panel = SyncPanel(context, self.sync, self)
        self.sync_panel.accounts_button.clicked.connect(self.open_sync_accounts)
        QTimer.singleShot(0, self.sync, self.sync.start)
        return self.sync_panel

    @Slot()
    def sync_now(self) -> None:
        if self._context is None:
            return
        self.area("sync")
        assert self.sync is not None
        self.sync.sync_now()

    @Slot()
    def show_sync_panel(self) -> None:
        self._show_area("sync")

    @Slot()
    def open_sync_accounts(self) -> None:
        if self._context is not None:
            self.area("sync")
        sync = self.sync
        if self._context is None or sync is None or sync.tokens is None:
            self._events.error_shown.emit("Sync accounts: the token store is still opening")
            return
        from ui.sync.account_dialog import AccountDialog

        dialog = AccountDialog(self._context, sync.tokens, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(sync.sync_now)
        if self.sync_panel is not None:
            dialog.changed.connect(self.sync_panel.refresh)
        dialog.show()

    def _on_call_slot(self, do: Callable[[OnCallArea], None]) -> Callable[[], None]:
        def run() -> None:
            if self._show_area("oncall") is not None:
                do(self.area("oncall"))

        return run

    def _add_secondary(self, context: UiContext) -> None:
        if _module_available("ui.reminders"):
            from ui.reminders import ReminderBanner, ReminderCenter

            self.reminder_banner = ReminderBanner(context, self)
            self.reminder_banner.set_selected_incident(self.current_incident_id)
            self.banner_area.addWidget(self.reminder_banner)
            center = ReminderCenter(context, self)
            self._keep.append(center)
            QTimer.singleShot(0, center.start)
        if _module_available("ui.errors"):
            from ui.errors import ErrorBanner

            self._error_banner = ErrorBanner(self)
            self.banner_area.insertWidget(0, self._error_banner)
        if _module_available("ui.connectivity"):
            from ui.connectivity import ConnectivityMonitor, SyncStatusLabel

            self.sync_status = SyncStatusLabel(context, self)
            self.statusBar().insertPermanentWidget(0, self.sync_status, 1)
            monitor = ConnectivityMonitor(context.events, self)
            self._keep.append(monitor)
            QTimer.singleShot(0, monitor.start)
        self.actions_by_name["compact"].setEnabled(_module_available("ui.compact"))
        self.actions_by_name["palette"].setEnabled(_module_available("ui.palette"))

    # ----------------------------------------------------------------- actions

    def _action(
        self,
        name: str,
        text: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | str,
        slot: Callable[[], None],
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"action_{name}")
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(
                f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
            )
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions_by_name[name] = action
        return action

    def _build_actions(self) -> None:
        a = self._action
        new = a(
            "declare",
            "&New incident…",
            QKeySequence.StandardKey.New,
            self.declare_incident,
            "Declare a new incident",
        )
        focus = a(
            "quick_entry",
            "&Focus quick entry",
            "Ctrl+L",
            self.focus_quick_entry,
            "Type a note or /command",
        )
        palette = a(
            "palette",
            "Command &palette…",
            "Ctrl+K",
            self.open_palette,
            "Run any action or go to an incident",
        )
        compact = a(
            "compact",
            "&Compact IC window",
            "Ctrl+Shift+C",
            self.open_compact,
            "Always-on-top checklist window",
        )
        role = a(
            "assign_role", "Assign &role…", "Ctrl+R", self.assign_role, "Hand a role to someone"
        )
        export_md = a(
            "export_markdown",
            "Export as &Markdown…",
            "Ctrl+E",
            self.export_markdown,
            "Save the incident as Markdown",
        )
        export_json = a(
            "export_json",
            "Export as &JSON…",
            "Ctrl+Shift+E",
            self.export_json,
            "Save the incident as JSON",
        )
        active_only = a(
            "active_only",
            "&Active incidents only",
            "Ctrl+Shift+A",
            self._toggle_active_only,
            "Hide resolved and closed incidents",
        )
        active_only.setCheckable(True)
        search_runbooks = a(
            "search_runbooks",
            "&Search runbooks",
            "Ctrl+Shift+F",
            self.search_runbooks,
            "Find a runbook by symptom, alert or service",
        )
        import_runbooks = a(
            "import_runbooks",
            "&Import runbooks…",
            "Ctrl+I",
            self.import_runbooks,
            "Import Markdown runbooks from a folder",
        )
        follow_runbook = a(
            "follow_runbook",
            "&Follow runbook in incident",
            "Ctrl+Shift+R",
            self.follow_runbook,
            "Tick the open runbook's steps into the selected incident's timeline",
        )
        quit_action = a(
            "quit", "&Quit", "Ctrl+Q", self.quit, "Quit (queued entries are saved first)"
        )

        status_menu = QMenu("Set &status", self)
        for number, status in enumerate(STATUS_TARGETS, start=1):
            action = a(
                f"status_{status.value}",
                status.label,
                f"Ctrl+Shift+{number}",
                self._status_slot(status),
                f"Move the incident to {status.value}",
            )
            status_menu.addAction(action)
        severity_menu = QMenu("Set se&verity", self)
        for severity in Severity:
            action = a(
                f"severity_{severity.value.lower()}",
                severity.value,
                f"Ctrl+{severity.rank}",
                self._severity_slot(severity),
                severity.definition,
            )
            severity_menu.addAction(action)
        theme_menu = QMenu("&Theme", self)
        themes = QActionGroup(self)
        for number, (mode, label) in enumerate(THEMES, start=1):
            action = a(
                f"theme_{mode}",
                label,
                f"Ctrl+Alt+{number}",
                self._theme_slot(mode),
                f"{label} colours",
            )
            action.setCheckable(True)
            action.setChecked(mode == "system")
            themes.addAction(action)
            theme_menu.addAction(action)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(new)
        file_menu.addAction(import_runbooks)
        file_menu.addSeparator()
        file_menu.addAction(export_md)
        file_menu.addAction(export_json)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        incident_menu = menu.addMenu("&Incident")
        incident_menu.addAction(focus)
        incident_menu.addMenu(status_menu)
        incident_menu.addMenu(severity_menu)
        incident_menu.addAction(role)
        runbook_menu = menu.addMenu("&Runbooks")
        runbook_menu.addAction(search_runbooks)
        runbook_menu.addAction(follow_runbook)
        runbook_menu.addAction(import_runbooks)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(palette)
        view_menu.addAction(compact)
        view_menu.addAction(active_only)
        view_menu.addMenu(theme_menu)
        view_menu.addAction(self._time_zone_action(a))

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (new, focus, role, search_runbooks, palette, compact):
            toolbar.addAction(action)
        status_button = status_menu.menuAction()
        severity_button = severity_menu.menuAction()
        toolbar.addAction(status_button)
        toolbar.addAction(severity_button)
        self.addToolBar(toolbar)
        self.status_menu, self.severity_menu = status_menu, severity_menu

    @Slot()
    def quit(self) -> None:
        self.close()

    def _status_slot(self, status: Status) -> Callable[[], None]:
        return lambda: self.set_status(status)

    def _severity_slot(self, severity: Severity) -> Callable[[], None]:
        return lambda: self.set_severity(severity)

    def _time_zone_action(self, a: Callable[..., QAction]) -> QAction:
        """View → Times in UTC: one setting for every time the window shows (issue 16,
        item 5); unchecked is this machine's zone. Every time is labelled either way."""
        from console.domain.times import DisplayZone
        from ui.times import display_zone, set_display_zone

        def toggle() -> None:
            set_display_zone(DisplayZone.UTC if action.isChecked() else DisplayZone.LOCAL)

        action: QAction = a(
            "times_utc",
            "Times in &UTC",
            "Ctrl+Alt+U",
            toggle,
            "Show every time in UTC instead of this computer's time zone",
        )
        action.setCheckable(True)
        action.setChecked(display_zone() is DisplayZone.UTC)
        return action

    def _theme_slot(self, mode: str) -> Callable[[], None]:
        return lambda: self.set_theme(mode)

    def _set_writable(self, writable: bool) -> None:
        has_incident = self.incident_view.incident is not None
        for name, action in self.actions_by_name.items():
            if name.startswith(("status_", "severity_")) or name in ("assign_role",):
                action.setEnabled(writable and has_incident)
            elif name in ("declare",):
                action.setEnabled(writable or self._opening)
            elif name.startswith("export_"):
                action.setEnabled(writable and has_incident)
            elif name in ("search_runbooks", "import_runbooks"):
                action.setEnabled(writable)  # each builds the Runbooks tab if needed
            elif name == "follow_runbook":
                action.setEnabled(writable and has_incident)
        self.status_menu.setEnabled(writable and has_incident)
        self.severity_menu.setEnabled(writable and has_incident)

    # ----------------------------------------------------------------- selection

    @property
    def current_incident_id(self) -> int | None:
        return self.incident_view.incident_id

    @Slot(int)
    def select_incident(self, incident_id: int | None) -> None:
        row = self.incident_model.row_of(incident_id) if incident_id is not None else None
        if row is None and incident_id is not None and self.incident_model.active_only:
            self.filter_combo.setCurrentIndex(0)  # it is filtered out: show all
            row = self.incident_model.row_of(incident_id)
        if row is not None:
            self.incident_list.setCurrentIndex(self.incident_model.index(row, 0))
        self._show_incident(incident_id)

    def _show_incident(self, incident_id: int | None) -> None:
        self.incident_view.set_incident(incident_id)
        if self.reminder_banner is not None:  # the on-screen incident's reminders first
            self.reminder_banner.set_selected_incident(self.current_incident_id)
        if self._compact is not None:
            self._compact.set_incident(self.current_incident_id)
        self._set_writable(self._context is not None)

    @Slot(QItemSelection, QItemSelection)
    def _on_list_selection(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            incident_id = indexes[0].data(ItemRole.ID)
            if isinstance(incident_id, int) and incident_id != self.current_incident_id:
                self._show_incident(incident_id)
                self.tabs.setCurrentWidget(self.incident_view)

    @Slot(int)
    def _on_filter_changed(self, _index: int) -> None:
        active_only = bool(self.filter_combo.currentData())
        self.actions_by_name["active_only"].setChecked(active_only)
        current = self.current_incident_id
        self.incident_model.set_active_only(active_only)
        row = self.incident_model.row_of(current) if current is not None else None
        if row is not None:
            self.incident_list.setCurrentIndex(self.incident_model.index(row, 0))

    @Slot()
    def _toggle_active_only(self) -> None:
        self.filter_combo.setCurrentIndex(
            1 if self.actions_by_name["active_only"].isChecked() else 0
        )

    @Slot(object)
    def _on_incident_loaded(self, incident: IncidentSummary | None) -> None:
        title = "Responder Console" + (" — demo workspace" if self._demo else "")
        if incident is not None:
            title = f"{incident.severity.value} {incident.title} — {title}"
        self.setWindowTitle(title)

    # ------------------------------------------------------------------ events

    @Slot(object)
    def on_changes(self, changes: Changes) -> None:
        if changes.catalog and self.services is None:  # else its reloaded map tells
            self._read_service_names()
        if changes.incidents or changes.roles:
            self.incident_model.refresh(changes.incidents | changes.roles)
        elif changes.timeline:
            self.incident_model.refresh(changes.timeline)  # entry counts, updated_at

    @Slot(str)
    def show_error(self, text: str) -> None:
        log.info("shown to the user: %s", text)
        if self._error_banner is not None:
            self._error_banner.show_message(text)
        else:
            self._pending_errors.append(text)
            self.statusBar().showMessage(text, 15_000)

    # --------------------------------------------------------------- operations

    def expect_workspace(self) -> None:
        """The app is opening the workspace (off the GUI thread): Ctrl+N opens the
        Declare dialog now, its Declare button waits until attach()."""
        self._opening = True
        self.actions_by_name["declare"].setEnabled(True)

    @Slot()
    def declare_incident(self) -> None:
        context = self._context
        if context is None and not self._opening:
            return
        from ui.declare_dialog import DeclareDialog  # loaded on first use: keeps start-up lean

        # Ctrl+N right after launch: the catalog may still be read and the workspace still
        # opening; the dialog opens at once, completes the service names when they arrive
        # (not "no catalog loaded") and enables Declare once writes work
        names = self._service_names

        def follow(dialog: DeclareDialog) -> None:
            def loaded() -> None:
                dialog.set_services(self._service_names or [])

            def opened() -> None:
                assert self._context is not None
                dialog.workspace_opened(self._context.workspace.incidents.actor)

            self.service_names_loaded.connect(loaded)
            if context is None:
                self.attached.connect(opened)
            connected = [True]

            def stop() -> None:
                if connected[0]:
                    connected[0] = False
                    self.service_names_loaded.disconnect(loaded)
                    if context is None:
                        self.attached.disconnect(opened)

            dialog.finished.connect(stop)

        declaration = DeclareDialog.ask(
            self,
            commander=context.workspace.incidents.actor if context is not None else "",
            services=names or (),
            catalog_loading=names is None,
            workspace_opening=context is None,
            on_open=follow,
        )
        if declaration is not None:
            self.declare(declaration)

    def declare(self, declaration: Declaration) -> None:
        context = self._context
        assert context is not None
        service = context.workspace.incidents
        context.runner.write(
            lambda: service.declare(
                declaration.title,
                declaration.severity,
                summary=declaration.summary,
                commander=declaration.commander,
                services=declaration.services,
            ),
            self._declared,
            lambda error: report_failure(self._events, error, "Declaring the incident"),
        )

    def _declared(self, outcome: Outcome) -> None:
        self._events.changes_applied.emit(outcome.changes)
        if outcome.incident is not None:
            self.select_incident(outcome.incident.id)
            self.incident_view.focus_quick_entry()

    def set_status(self, status: Status) -> None:
        incident_id = self.current_incident_id
        incident = self.incident_view.incident
        asks = status is Status.RESOLVED and incident is not None and incident.severity.rank <= 2
        if asks and incident is not None and not self._confirm_resolve(incident):
            return  # a stray Ctrl+Shift+3 must not end a major incident's reminders
        if incident_id is not None:
            self.incident_view.write(
                lambda service: service.change_status(incident_id, status),
                f"Setting the status to {status.value}",
            )

    def _confirm_resolve(self, incident: IncidentSummary) -> bool:

        return confirm(
            self,
            title=f"Resolve this {incident.severity.value}?",
            text=f"Resolve {incident.severity.value} #{incident.id} “{incident.title}”?\n\n"
            "Its update reminders stop and the status page should say Resolved.",
            act="Resolve",
            keep="Keep it open",
            name="confirmResolve",
        )

    def set_severity(self, severity: Severity) -> None:
        incident_id = self.current_incident_id
        if incident_id is not None:
            self.incident_view.write(
                lambda service: service.change_severity(incident_id, severity),
                f"Setting the severity to {severity.value}",
            )

    @Slot()
    def assign_role(self) -> None:
        incident_id = self.current_incident_id
        if incident_id is None:
            return
        from ui.role_dialog import AssignRoleDialog  # dialogs load when first opened

        answer = AssignRoleDialog.ask(self)
        if answer is not None:
            role, person = answer
            self.incident_view.write(
                lambda service: service.assign_role(incident_id, role, person),
                f"Assigning the {role.label.lower()}",
            )

    @Slot()
    def export_markdown(self) -> None:
        self._export("md", "Markdown (*.md)")

    @Slot()
    def export_json(self) -> None:
        self._export("json", "JSON (*.json)")

    def _export(self, suffix: str, file_filter: str) -> None:
        context, incident = self._context, self.incident_view.incident
        if context is None or incident is None:
            return
        settings = QSettings()
        folder = str(settings.value("export/folder", str(Path.home())))
        name = f"incident-{incident.id}.{suffix}"
        from PySide6.QtWidgets import QFileDialog  # loads its ~10 enum types on first use

        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export incident", str(Path(folder) / name), file_filter
        )
        if not chosen:
            return
        target = Path(chosen)
        settings.setValue("export/folder", str(target.parent))
        queries = context.workspace.queries
        incident_id = incident.id

        def export() -> Path:
            from console.ops.export import export_json, export_markdown

            document = (
                export_markdown(queries, incident_id)
                if suffix == "md"
                else export_json(queries, incident_id)
            )
            from console.files import write_file  # whole or not at all, clear refusals

            return write_file(target, document, what="the export")

        context.runner.read(export, self._exported, self._export_failed)

    def _exported(self, target: Path) -> None:
        self.statusBar().showMessage(f"Exported to {target}", 10_000)

    def _export_failed(self, error: BaseException) -> None:
        if isinstance(error, OSError):
            self._events.error_shown.emit(f"Export failed: {error.strerror or error}")
        else:
            report_failure(self._events, error, "Export")

    # ----------------------------------------------------------------- runbooks

    @Slot()
    def focus_quick_entry(self) -> None:
        self.tabs.setCurrentWidget(self.incident_view)
        self.incident_view.focus_quick_entry()

    def _runbooks_tab(self) -> RunbooksArea | None:
        """The Runbooks tab, built if needed and shown; None before attach."""
        if self._show_area("runbooks") is None:
            return None
        return self.area("runbooks")

    @Slot()
    def search_runbooks(self) -> None:
        runbooks = self._runbooks_tab()
        if runbooks is not None:
            runbooks.focus_search()

    @Slot()
    def import_runbooks(self) -> None:
        runbooks = self._runbooks_tab()
        if runbooks is not None:
            runbooks.choose_and_import()

    @Slot()
    def follow_runbook(self) -> None:
        incident_id = self.current_incident_id
        runbooks = self._runbooks_tab() if incident_id is not None else None
        if runbooks is None or incident_id is None:
            return
        if not runbooks.follow(incident_id):
            self.statusBar().showMessage("Open a runbook first, then follow it", 8_000)
            runbooks.focus_search()

    @Slot()
    def open_palette(self) -> None:
        if not _module_available("ui.palette"):
            return
        from ui.palette import CommandPalette, PaletteEntry

        entries: list[PaletteEntry] = []
        for name, action in self.actions_by_name.items():
            if action.isEnabled() and name != "palette":
                entries.append(
                    PaletteEntry(
                        key=f"action:{name}",
                        title=action.text().replace("&", "").rstrip("…"),
                        subtitle=action.statusTip(),
                        shortcut=action.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                    )
                )
        for incident in self.incident_model.incidents():
            entries.append(
                PaletteEntry(
                    key=f"incident:{incident.id}",
                    title=f"Go to: {incident.title}",
                    subtitle=f"{incident.severity.value} · {incident.status.label}",
                )
            )
        entries += self._service_palette_entries()
        chosen = CommandPalette.ask(self, entries, self._connect_palette_search)
        if chosen is not None:
            self.run_palette_key(chosen.key)

    def _connect_palette_search(self, palette: CommandPalette) -> None:
        """Runbooks and people matching the palette's query, found on the reader lane."""
        context = self._context
        if context is None:
            return
        from ui.palette_search import find_entries

        def search(query: str) -> None:
            context.runner.read(
                lambda: find_entries(context.workspace, query),
                lambda found: palette.show_found(query, found),
                lambda error: report_failure(context.events, error, "Searching"),
            )

        palette.search_requested.connect(search)

    def run_palette_key(self, key: str) -> None:
        kind, _, value = key.partition(":")
        if kind == "incident" and value.isdigit():
            self.select_incident(int(value))
        elif kind == "action" and value in self.actions_by_name:
            self.actions_by_name[value].trigger()
        elif kind == "service":
            self.show_service(value)
        elif kind == "runbook" and value.isdigit():
            self._open_runbook_from_map(int(value))
        elif kind == "runbook-search":
            runbooks = self._runbooks_tab()
            if runbooks is not None:
                runbooks.search_for(value)
        elif kind == "person":
            self._find_person(value)

    @Slot()
    def open_compact(self) -> None:
        if self._context is None or not _module_available("ui.compact"):
            return
        if self._compact is None:
            from ui.compact import CompactChecklistWindow

            self._compact = CompactChecklistWindow(self._context)
        self._compact.set_incident(self.current_incident_id)
        self._compact.show()
        self._compact.raise_()
        self._compact.activateWindow()

    def set_theme(self, mode: str) -> None:
        QSettings().setValue("ui/theme", mode)
        app = QApplication.instance()
        if isinstance(app, QApplication) and _module_available("ui.theme"):
            from ui.theme import apply_theme

            apply_theme(app, mode)
        self.actions_by_name[f"theme_{mode}"].setChecked(True)

    # ------------------------------------------------------ services (issue 4)
    # The Services tab (dependency map) and its actions: one block, so the other
    # tabs added beside it merge without touching each other.

    def _build_service_actions(self) -> None:
        menu = self.menuBar().addMenu("&Services")
        on = self._on_map
        for name, text, keys, slot, tip in (
            ("services_map", "Service &map", "Ctrl+M", self.show_services,
             "The dependency map: what breaks with a service, what it depends on"),
            ("find_service", "&Find service…", "Ctrl+Shift+S", on(lambda m: m.focus_search()),
             "Type a service's name to find it on the map"),
            ("import_catalog", "&Import catalog files…", "Ctrl+Shift+I",
             on(lambda m: m.choose_and_import()),
             "Backstage, catalog: 1, Docker Compose or Kubernetes YAML files"),
            ("import_catalog_folder", "Import catalog f&older…", "Ctrl+Alt+I",
             on(lambda m: m.choose_and_import(folder=True)),
             "Every *.yaml and *.yml under a folder"),
            ("map_zoom_in", "Zoom &in", "Ctrl+=", on(lambda m: m.zoom_in()), "Zoom into the map"),
            ("map_zoom_out", "Zoom &out", "Ctrl+-", on(lambda m: m.zoom_out()),
             "Zoom out of the map"),
            ("map_fit", "&Fit the map", "Ctrl+0", on(lambda m: m.fit()), "The whole map in view"),
            ("export_map_svg", "Export map as S&VG…", "Ctrl+Alt+S",
             on(lambda m: m.choose_and_export("svg")), "Save the map as an SVG drawing"),
            ("export_map_png", "Export map as &PNG…", "Ctrl+Alt+P",
             on(lambda m: m.choose_and_export("png")), "Save the map as a PNG image"),
        ):  # fmt: skip
            action = self._action(name, text, keys, slot, tip)
            action.setEnabled(False)  # until attach(): each builds the tab if needed
            menu.addAction(action)
            if name in ("import_catalog_folder", "map_fit"):
                menu.addSeparator()
        self.actions_by_name["map_zoom_in"].setShortcuts(
            [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")]
        )

    def _add_service_actions(self) -> None:
        for name in ("services_map", "find_service", "import_catalog", "import_catalog_folder",
                     "map_zoom_in", "map_zoom_out", "map_fit", "export_map_svg",
                     "export_map_png"):  # fmt: skip
            self.actions_by_name[name].setEnabled(True)

    def _build_services(self, context: UiContext) -> ServicesArea:
        from ui.services.area import ServicesArea  # not on the start path

        self.services = services = ServicesArea(context, self)
        services.runbook_requested.connect(self._open_runbook_from_map)
        services.incident_requested.connect(self._show_incident_from_map)
        services.emergency_requested.connect(self._show_emergency_for)
        services.map_shown.connect(lambda: self.set_service_names(services.known_names()))
        QTimer.singleShot(0, services, services.start)
        return services

    @Slot(str)
    def _show_emergency_for(self, service: str) -> None:
        """From the map's On call section: the emergency view of that service."""
        if self._show_area("oncall") is None:
            return
        oncall = self.area("oncall")
        oncall.show_emergency()
        oncall.emergency.show_service(service)

    def _services_tab(self) -> ServicesArea | None:
        """The Services tab, built if needed and shown; None before attach."""
        if self._show_area("services") is None:
            return None
        return self.area("services")

    @Slot()
    def show_services(self) -> None:
        self._services_tab()

    @Slot(str)
    def show_service(self, ref: str) -> None:
        services = self._services_tab()
        if services is not None:
            services.select_ref(ref)

    def _on_map(self, do: Callable[[ServicesArea], None]) -> Callable[[], None]:
        """A slot that shows the Services tab, then does ``do`` there."""

        def run() -> None:
            services = self._services_tab()
            if services is not None:
                do(services)

        return run

    @Slot(int)
    def _open_runbook_from_map(self, runbook_id: int) -> None:
        runbooks = self._runbooks_tab()
        if runbooks is not None:
            runbooks.open_runbook(runbook_id)

    @Slot(int)
    def _show_incident_from_map(self, incident_id: int) -> None:
        self.select_incident(incident_id)
        self.tabs.setCurrentWidget(self.incident_view)

    def _service_palette_entries(self) -> list[PaletteEntry]:
        if self.services is None:
            return []
        from ui.palette import PaletteEntry

        return [
            PaletteEntry(
                key=f"service:{node.ref}",
                title=f"Service: {node.label}",
                subtitle=" · ".join(
                    part for part in (node.kind, node.owner, node.system_label) if part
                ),
            )
            for node in self.services.palette_services()
        ]

    # ------------------------------------------------------------------ layout

    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = settings.value("main/splitter")
        if state is not None:
            self.splitter.restoreState(state)
        mode = str(settings.value("ui/theme", "system"))
        if f"theme_{mode}" in self.actions_by_name:
            self.actions_by_name[f"theme_{mode}"].setChecked(True)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        if self._compact is not None:
            self._compact.close()
        super().closeEvent(event)
