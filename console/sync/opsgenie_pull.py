"""Opsgenie as a pull source (the protocol: console.sync.pull).

Sets, each fetched whole before it is stored (a page that fails refuses that set
only):

- ``people``: ``/v2/users`` (offset pages) with each user's
  ``/v2/users/{id}/contacts``, and ``/v2/teams`` + ``/v2/teams/{id}`` for team
  membership → console.importers.vendors.opsgenie_people.
- ``schedules``: ``/v2/schedules``, then each one's
  ``/v2/schedules/{id}/timeline`` for the coming days (``PullOptions.days``) →
  the saved-timeline parser (console.importers.vendors.parse_vendor_json), the
  file import's own path.
- ``escalations``: ``/v2/escalations`` → opsgenie_policies.
- ``incidents``: what other responders wrote on the alerts (or incidents) we
  pushed, changed since the last pull: alerts tagged ``responder-console`` newest
  update first (``/v2/alerts?query=tag:…&sort=updatedAt``), their notes and log
  (``/v2/alerts/{id}/notes|logs``); in incident mode ``/v1/incidents/`` with the
  tag and their notes (public docs: the spec lacks incident notes). Each becomes
  a ``remote`` timeline entry keyed by the note's or log line's ``offset``, so a
  second pull adds nothing. Our own notes (they carry the ``[rc:…]`` marker) and
  the log lines of our own actions (owner ``Responder Console``) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from console.domain.clock import utc_now
from console.importers.schedules import ParsedFile
from console.importers.vendors import (
    ShapeError,
    opsgenie_people,
    opsgenie_policies,
    parse_vendor_json,
)
from console.ops.incidents import RemoteEntry
from console.sync.accounts import Account
from console.sync.opsgenie import NOTES_PAGE, SOURCE, TAG
from console.sync.outcomes import Call
from console.sync.pull import PullFailedError, PullOptions, PullReport, PullSink

#: incident changes are read back this far before the last pull (clocks differ)
OVERLAP = timedelta(minutes=5)


class OpsgenieSource:
    vendor = "opsgenie"

    def __init__(self, account: Account, options: PullOptions) -> None:
        self._account = account
        self._options = options
        self._incident_mode = account.mode == "incident"

    def pull(
        self,
        call: Call,
        since: datetime | None,
        sink: PullSink,
        report: PullReport,
        cancelled: Callable[[], bool],
    ) -> None:
        self._call = call
        self._report = report
        for name, fetch in (
            ("people", self._people),
            ("schedules", self._schedules),
            ("escalations", self._escalations),
        ):
            if cancelled():
                return
            with report.attempt(name):
                parsed = fetch()
                sink.store(name, parsed, report)
        if not cancelled():
            with report.attempt("incidents"):
                self._timeline(since, sink)
                sink.mark("incidents")

    # ------------------------------------------------------------- requests

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self._call("GET", path, params, None)
        if not reply.ok or not isinstance(reply.body, dict):
            raise PullFailedError(f"GET {path}: {reply.vendor_message()}")
        body: dict[str, Any] = reply.body
        return body

    def _data(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        data = self._get(path, params).get("data")
        if not isinstance(data, list):
            raise PullFailedError(f"GET {path}: the reply holds no list of data")
        return data

    def _offset_pages(self, path: str, params: dict[str, Any]) -> Iterator[list[Any]]:
        """Pages of a list paged by a numeric ``offset`` (users, alerts, incidents)."""
        limit, offset = self._options.limit, 0
        while True:
            body = self._get(path, {**params, "limit": limit, "offset": offset})
            page = body.get("data")
            if not isinstance(page, list):
                raise PullFailedError(f"GET {path}: the reply holds no list of data")
            yield page
            offset += len(page)
            total = body.get("totalCount")
            more = isinstance(body.get("paging"), dict) and bool(body["paging"].get("next"))
            if len(page) < limit or (isinstance(total, int) and offset >= total) or not more:
                return

    def _marked_pages(self, path: str) -> Iterator[list[Any]]:
        """Notes or log lines, oldest first, paged by each one's ``offset`` string."""
        params: dict[str, Any] = {"limit": NOTES_PAGE, "order": "asc", "direction": "next"}
        while True:
            page = self._data(path, params)
            yield page
            if len(page) < NOTES_PAGE or not page[-1].get("offset"):
                return
            params = {**params, "offset": page[-1]["offset"]}

    # ----------------------------------------------------------------- sets

    def _people(self) -> ParsedFile:
        users = [user for page in self._offset_pages("/v2/users", {}) for user in page]
        contacts = {}
        for user in users:
            ident = user.get("id") if isinstance(user, dict) else None
            if isinstance(ident, str) and ident:
                contacts[ident] = self._data(f"/v2/users/{ident}/contacts")
        teams = [
            self._get(f"/v2/teams/{team['id']}").get("data")
            for team in self._data("/v2/teams")
            if isinstance(team, dict) and team.get("id")
        ]
        self._report.count("people", "fetched", len(users))
        return opsgenie_people(
            users, contacts, teams, self._where("/v2/users"), region=self._options.region
        )

    def _schedules(self) -> ParsedFile:
        merged = ParsedFile(kind="opsgenie-schedules")
        now = utc_now()
        for schedule in self._data("/v2/schedules"):
            if not isinstance(schedule, dict) or not schedule.get("id"):
                continue
            path = f"/v2/schedules/{schedule['id']}/timeline"
            document = self._get(
                path,
                {
                    "interval": self._options.days,
                    "intervalUnit": "days",
                    "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )
            try:
                parsed = parse_vendor_json(
                    document, self._where(path), saved_at=now, region=self._options.region
                )
            except ShapeError as error:
                raise PullFailedError(f"GET {path}: {error}") from None
            for draft in parsed.schedules:
                draft.time_zone = draft.time_zone or schedule.get("timezone") or None
            merged.schedules += parsed.schedules
            merged.refused += parsed.refused
        self._report.count("schedules", "fetched", len(merged.schedules))
        return merged

    def _escalations(self) -> ParsedFile:
        escalations = self._data("/v2/escalations")
        self._report.count("escalations", "fetched", len(escalations))
        return opsgenie_policies(escalations, self._where("/v2/escalations"))

    # ------------------------------------------------------------- timeline

    def _timeline(self, since: datetime | None, sink: PullSink) -> None:
        floor = (since or utc_now() - timedelta(days=self._options.first_days)) - OVERLAP
        kind = "incident" if self._incident_mode else "alert"
        for remote in self._changed(floor):
            local = sink.incident_for(str(remote["id"]))
            if local is None:
                continue
            entries = self._entries(kind, str(remote["id"]))
            self._report.count("incidents", "fetched")
            added, known = sink.timeline(local, entries)
            self._report.count("incidents", "added", added)
            self._report.count("incidents", "known", known)

    def _changed(self, floor: datetime) -> Iterator[dict[str, Any]]:
        if self._incident_mode:
            # the incident list cannot sort by update: read all of ours, keep the changed
            for page in self._offset_pages("/v1/incidents/", {"query": f"tag:{TAG}"}):
                yield from (i for i in page if _updated(i) >= floor)
            return
        params = {"query": f"tag:{TAG}", "sort": "updatedAt", "order": "desc"}
        for page in self._offset_pages("/v2/alerts", params):
            for alert in page:
                if _updated(alert) < floor:
                    return
                yield alert

    def _entries(self, kind: str, remote_id: str) -> list[RemoteEntry]:
        root = "/v1/incidents" if kind == "incident" else "/v2/alerts"
        entries = []
        for page in self._marked_pages(f"{root}/{remote_id}/notes"):
            for note in page:
                text = str(note.get("note", ""))
                if "[rc:" in text:
                    continue  # ours, pushed from here
                entries.append(self._entry(f"{kind}:{remote_id}:note:", note, f"Note: {text}"))
        if kind == "alert":
            for page in self._marked_pages(f"{root}/{remote_id}/logs"):
                for line in page:
                    if line.get("owner") == SOURCE or line.get("type") == "note":
                        continue  # our own actions; notes come from the notes
                    entries.append(self._entry(f"alert:{remote_id}:log:", line, line.get("log")))
        return entries

    def _entry(self, prefix: str, item: dict[str, Any], text: object) -> RemoteEntry:
        if not item.get("offset") or not item.get("createdAt"):
            raise PullFailedError(f"{prefix.rstrip(':')}: an entry without offset or time")
        try:
            at = datetime.fromisoformat(str(item["createdAt"]).replace("Z", "+00:00"))
        except ValueError:
            raise PullFailedError(f"{prefix}{item['offset']}: bad time") from None
        owner = item.get("owner")
        return RemoteEntry(
            key=f"{prefix}{item['offset']}",
            occurred_at=at,
            text=str(text or ""),
            data={"opsgenie": dict(item)},
            author=str(owner) if owner else None,
        )

    def _where(self, path: str) -> str:
        return f"{self._account.base_url}{path}"


def _updated(item: dict[str, Any]) -> datetime:
    value = item.get("updatedAt") or item.get("createdAt")
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise PullFailedError(f"{item.get('id')}: updatedAt {value!r} is not a time") from None
