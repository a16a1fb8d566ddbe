"""How old a cached answer is, in words a person reads at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: How old each cached set (``cache_sets.name``) may get before the readiness audit
#: flags it: people and escalation details drift in weeks, shifts in days (a
#: schedule cache is also checked for gaps, which catches a short horizon).
FRESHNESS_LIMITS: dict[str, timedelta] = {
    "catalog": timedelta(days=30),
    "people": timedelta(days=14),
    "schedules": timedelta(days=7),
}


def describe_age(then: datetime | None, now: datetime) -> str:
    """How long ago, for people: "never", "just now", "5 min ago", "2 h ago", "3 days ago"."""
    if then is None:
        return "never"
    seconds = (now - then).total_seconds()
    if seconds < 60:  # includes a clock a little in the future
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    return "1 day ago" if days == 1 else f"{days} days ago"


@dataclass(frozen=True)
class Freshness:
    """When and from where a cached set (``cache_sets`` row) came."""

    name: str
    fetched_at: datetime
    source: str

    def age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.fetched_at).total_seconds())

    def describe(self, now: datetime, what: str = "imported", *, short: bool = False) -> str:
        """``imported 3 h ago from /path/catalog.yaml`` (``short``: ``… from catalog.yaml``,
        for a label where the whole path goes in the tooltip)."""
        source = self.source_name if short else self.source
        return f"{what} {describe_age(self.fetched_at, now)} from {source}"

    @property
    def source_name(self) -> str:
        """The file or folder name of a path source (an address or a name as it is)."""
        if "://" in self.source:
            return self.source
        name = self.source.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
        return name or self.source
