"""Every time a person reads: in one chosen zone, always labelled with it.

The window shows times in the zone the user chose (local or UTC, the ``ui/timeZone``
setting) with the other zone on hover; a communication template may ask for a
zone of its own (``timezone:`` in its front matter) for the customers who read
it; the CLI prints UTC. All of them format through :func:`format_time`, so
"14:05" never appears without saying which 14:05 (issue 16, item 5).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Style = Literal["time", "seconds", "datetime", "datetime-seconds", "day"]

FORMATS: Final[dict[str, str]] = {
    "time": "%H:%M",
    "seconds": "%H:%M:%S",
    "datetime": "%Y-%m-%d %H:%M",
    "datetime-seconds": "%Y-%m-%d %H:%M:%S",
    "day": "%a %d %b %H:%M",
}
_ABBREVIATION = re.compile(r"[A-Za-z]{2,6}")


class DisplayZone(StrEnum):
    """What the user chose: this machine's zone, or UTC."""

    LOCAL = "local"
    UTC = "utc"

    @property
    def other(self) -> DisplayZone:
        return DisplayZone.UTC if self is DisplayZone.LOCAL else DisplayZone.LOCAL

    @property
    def label(self) -> str:
        return "Local time" if self is DisplayZone.LOCAL else "UTC"


Zone = DisplayZone | tzinfo | None  # None: this machine's zone


def parse_zone(name: str) -> DisplayZone | tzinfo:
    """``local``, ``UTC`` or an IANA name (``Europe/Berlin``); ValueError names it."""
    text = name.strip()
    if text.lower() in ("local", "utc"):
        return DisplayZone(text.lower())
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown time zone {text!r}: use local, UTC or a name like Europe/Berlin"
        ) from error


def in_zone(moment: datetime, zone: Zone) -> datetime:
    """``moment`` (naive is taken as UTC, as the database stores it) in ``zone``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if zone is DisplayZone.UTC:
        return aware.astimezone(UTC)
    if zone is None or zone is DisplayZone.LOCAL:
        return aware.astimezone()  # the C library's rules for this machine, DST included
    assert isinstance(zone, tzinfo)
    return aware.astimezone(zone)


def zone_label(shown: datetime) -> str:
    """``UTC``, the zone's abbreviation (``EST``), else its offset (``UTC+05:30``)."""
    offset = shown.utcoffset()
    name = shown.tzname() or ""
    if offset is not None and not offset and name in ("UTC", "GMT", "Z", "UTC+00:00", ""):
        return "UTC" if name != "GMT" else "GMT"
    if _ABBREVIATION.fullmatch(name):
        return name
    if offset is None:
        return name or "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def format_time(moment: datetime, zone: Zone = DisplayZone.UTC, style: Style = "time") -> str:
    """``14:05 EST``: ``moment`` in ``zone``, in ``style``, labelled with the zone."""
    shown = in_zone(moment, zone)
    return f"{shown.strftime(FORMATS[style])} {zone_label(shown)}"


def format_other(moment: datetime, zone: DisplayZone, style: Style = "datetime") -> str:
    """The same moment in the zone not chosen (what a tooltip shows)."""
    return format_time(moment, zone.other, style)
