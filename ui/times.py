"""The window's time zone (local or UTC): one setting, read by every view.

Views format through :func:`shown` (the chosen zone, labelled) and put
:func:`hover` (the other zone) in tooltips; both go through the core's
:func:`console.domain.times.format_time`. Changing the setting emits
:attr:`ZoneNotifier.changed` so views that built their text re-render.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from PySide6.QtCore import QObject, QSettings, Signal

from console.domain.times import DisplayZone, Style, format_other, format_time

SETTINGS_KEY: Final = "ui/timeZone"


class ZoneNotifier(QObject):
    changed = Signal(str)  # the DisplayZone value


_notifier: ZoneNotifier | None = None
_zone: DisplayZone | None = None


def notifier() -> ZoneNotifier:
    global _notifier
    if _notifier is None:
        _notifier = ZoneNotifier()
    return _notifier


def display_zone() -> DisplayZone:
    """The chosen zone (local unless the user chose UTC), read once from the settings."""
    global _zone
    if _zone is None:
        stored = str(QSettings().value(SETTINGS_KEY, DisplayZone.LOCAL.value))
        _zone = DisplayZone(stored) if stored in DisplayZone._value2member_map_ else None
        _zone = _zone or DisplayZone.LOCAL
    return _zone


def set_display_zone(zone: DisplayZone) -> None:
    """Store the choice and tell every view."""
    global _zone
    QSettings().setValue(SETTINGS_KEY, zone.value)
    changed = zone is not _zone
    _zone = zone
    if changed:
        notifier().changed.emit(zone.value)


def forget_display_zone() -> None:
    """Read the setting again at the next use (tests, a new settings file)."""
    global _zone
    _zone = None


def shown(moment: datetime, style: Style = "time") -> str:
    """``moment`` in the chosen zone, labelled (``14:05 EST``)."""
    return format_time(moment, display_zone(), style)


def hover(moment: datetime, style: Style = "datetime-seconds") -> str:
    """Both zones, the chosen one first: for a tooltip."""
    zone = display_zone()
    return f"{format_time(moment, zone, style)}\n{format_other(moment, zone, style)}"
