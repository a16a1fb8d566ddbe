"""The people and on-call read API: who is on call, a service's escalation chain, contacts.

Small and typed, for the window, the CLI and any other view (the dependency
map's side panel calls :func:`who_is_on_call` for the selected service):

* :func:`who_is_on_call(db, at, service=None)` → :class:`OnCallAnswer` — every
  schedule's on-call people at ``at``, or ``service``'s escalation chain (each
  level's wait and who that is at ``at`` through its schedules), each person
  with the reach methods the contacts know (matched by vendor id, e-mail, then
  name), coverage gaps, "fewer than 3 days cached" warnings and the age of
  the ``people`` and ``schedules`` caches.
* :class:`OnCallDirectory` — the same over a workspace's database and clock,
  plus contacts, the services that have a policy, and a person's shifts as
  iCalendar.

Writes (imports) live in :mod:`console.importers.oncall`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from console.domain.clock import Clock, utc_now
from console.domain.oncall import Contact, OnCallAnswer
from console.oncall.export import PersonShifts, person_shifts, shifts_ics
from console.oncall.lookup import contacts, services_with_policies, who_is_on_call
from console.storage.db import Database

if TYPE_CHECKING:
    from console.ops.workspace import Workspace

__all__ = ["OnCallAnswer", "OnCallDirectory", "directory_for", "who_is_on_call"]

#: shifts that ended longer ago than this are left out of an export
EXPORT_PAST = timedelta(days=1)


class OnCallDirectory:
    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def who_is_on_call(
        self, at: datetime | None = None, service: str | None = None
    ) -> OnCallAnswer:
        """At ``at`` (default now); warnings about the cache count from now."""
        now = self._clock()
        return who_is_on_call(self._db, at or now, service, now=now)

    def contacts(self, query: str = "", *, limit: int = 1000) -> list[Contact]:
        with self._db.raw_reader() as raw:
            return contacts(raw, query, limit=limit)

    def services(self) -> list[str]:
        with self._db.raw_reader() as raw:
            return services_with_policies(raw)

    def shifts_of(self, who: str) -> PersonShifts:
        with self._db.raw_reader() as raw:
            return person_shifts(raw, who, since=self._clock() - EXPORT_PAST)

    def export_ics(self, who: str) -> tuple[PersonShifts, str]:
        """``who``'s cached shifts (from yesterday on) and the .ics text."""
        found = self.shifts_of(who)
        return found, shifts_ics(found, now=self._clock())


def directory_for(workspace: Workspace) -> OnCallDirectory:
    """The directory of an open workspace (same database, same clock)."""
    return OnCallDirectory(workspace.db, clock=workspace.clock)
