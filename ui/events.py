"""One application-level QObject that carries cross-view events.

Signals carry ids or frozen core dataclasses, never ORM objects or widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppEvents(QObject):
    #: console.domain.views.Changes — broadcast after every successful operation
    changes_applied = Signal(object)
    #: int incident id — the user chose an incident (list, palette, compact window)
    incident_selected = Signal(int)
    #: list[console.domain.views.Reminder] — recurring checklist items now due
    reminders_due = Signal(object)
    #: bool online
    connectivity_changed = Signal(bool)
    #: ui.sync.controller.SyncOutcome — a sync pass ended (status bar, Sync tab)
    sync_finished = Signal(object)
    #: str message — an expected failure the user must see (banner)
    error_shown = Signal(str)
    #: str service ref (kind:namespace/name) — show this service on the map
    service_selected = Signal(str)
