"""PagerDuty as a pull source (the protocol is in console.sync.pull).

Sets, each fetched whole and then written in one transaction:

- ``users``: ``GET /users?include[]=contact_methods`` — contact methods come
  inline, so 5,000 users are 50 requests, not 5,050.
- ``escalation_policies``: ``GET /escalation_policies``.
- ``schedules``: ``GET /schedules`` (names, zones) and ``GET /oncalls`` for the
  next ``days`` (PagerDuty's own resolution of layers and overrides, for every
  schedule in one paginated listing: ~N/100 requests instead of one
  ``/schedules/{id}`` render per schedule).
- ``services``: ``GET /services`` and ``/business_services``, and each technical
  service's ``/service_dependencies/technical_services/{id}`` → catalog
  Components (annotated ``pagerduty.com/service-id``) with ``dependsOn`` edges,
  stored like a re-import of the catalog root ``pagerduty: <base URL>``.
- ``incidents``: ``GET /log_entries?since=`` (every incident's log since the
  last pull, one paginated listing) → the timeline of the local incident the
  pusher linked (``remote_incidents``). Incidents that exist only in
  PagerDuty are skipped and counted (``remote_only``): mirroring every alert of
  an account would bury the few incidents responders run here, and a mirror
  would take local writes that have nowhere to go. Notes come from
  ``GET /incidents/{id}/notes`` (their text; a log entry only says "annotated"),
  for incidents whose log shows new notes. What our own pushes made is not
  pulled back: notes carrying the ``[rc:…]`` marker or an id the outbox
  recorded, and log entries whose agent is the account's ``From`` user.

Pagination: ``limit=100`` (the maximum), ``offset`` until ``more`` is false.
PagerDuty serves no record beyond offset 10,000; the time-ranged listings
(``/oncalls``, ``/log_entries``) ask ``total=true`` on their first page and, when
the range holds more, split it into parts that fit (one wasted request).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from console.importers.schedules import ParsedFile, ScheduleDraft
from console.importers.vendors import PD, ShapeError, parse_vendor_json
from console.ops.incidents import RemoteEntry
from console.sync.accounts import Account
from console.sync.outcomes import Call
from console.sync.pagerduty import not_found
from console.sync.pull import (
    INCIDENTS_SET,
    SERVICES_SET,
    PullFailedError,
    PullOptions,
    PullReport,
    PullSink,
)

#: incidents are re-read from a little before the last pull (clock skew, late writes)
OVERLAP = timedelta(minutes=5)
#: the longest range ``/oncalls`` and ``/log_entries`` accept in one request
MAX_RANGE = timedelta(days=90)


class PagerDutySource:
    vendor = PD

    def __init__(self, account: Account, options: PullOptions) -> None:
        self._account = account
        self._options = options

    def pull(
        self,
        call: Call,
        since: datetime | None,
        sink: PullSink,
        report: PullReport,
        cancelled: Callable[[], bool],
    ) -> None:
        pages = OffsetPages(call, self._options.limit, self._options.offset_cap)
        now = sink.now()
        for name, fetch in (
            ("users", self._users),
            ("escalation_policies", self._policies),
            ("schedules", self._schedules),
        ):
            if cancelled():
                return
            with report.attempt(name):
                parsed = fetch(pages, now)
                sink.store(name, parsed, report)
        if cancelled():
            return
        with report.attempt(SERVICES_SET):
            stored = sink.services(SERVICES_SET, self._services(pages, call))
            report.count(SERVICES_SET, "services", stored.services)
            report.count(SERVICES_SET, "removed", stored.removed)
            report.count(SERVICES_SET, "dependencies", stored.dependencies)
            report.count(SERVICES_SET, "refused", len(stored.refused))
            for refused in stored.refused:
                report.errors.append(f"{PD} {SERVICES_SET}: {refused.path}: {refused.reason}")
        if cancelled():
            return
        with report.attempt(INCIDENTS_SET):
            self._incidents(pages, call, since, now, sink, report)

    # ------------------------------------------------------------- directory

    def _parse(self, document: dict[str, Any], what: str, now: datetime) -> ParsedFile:
        try:
            return parse_vendor_json(
                document,
                f"{self._account.base_url}{what}",
                saved_at=now,
                region=self._options.region,
            )
        except ShapeError as error:
            raise PullFailedError(f"GET {what}: {error}") from None

    def _users(self, pages: OffsetPages, now: datetime) -> ParsedFile:
        users = pages.listing("/users", "users", {"include[]": "contact_methods"})
        return self._parse({"users": users}, "/users", now)

    def _policies(self, pages: OffsetPages, now: datetime) -> ParsedFile:
        policies = pages.listing("/escalation_policies", "escalation_policies", {})
        return self._parse({"escalation_policies": policies}, "/escalation_policies", now)

    def _schedules(self, pages: OffsetPages, now: datetime) -> ParsedFile:
        until = now + min(timedelta(days=self._options.days), MAX_RANGE)
        listed = self._parse(
            {"schedules": pages.listing("/schedules", "schedules", {})}, "/schedules", now
        )
        oncalls = pages.ranged("/oncalls", "oncalls", {}, now, until)
        unique = {_oncall_key(o): o for o in oncalls if isinstance(o, dict)}
        shifts = self._parse({"oncalls": list(unique.values())}, "/oncalls", now)
        drafts: dict[str, ScheduleDraft] = {d.key: d for d in listed.schedules}
        for draft in shifts.schedules:
            known = drafts.setdefault(draft.key, draft)
            if known is not draft:
                known.shifts.extend(draft.shifts)
        for draft in drafts.values():
            first = min([now, *(s.start for s in draft.shifts)])
            draft.window = (first, until)
        listed.schedules = list(drafts.values())
        listed.refused.extend(shifts.refused)
        return listed

    def _services(self, pages: OffsetPages, call: Call) -> list[tuple[str, dict[str, Any]]]:
        """Technical and business services as Backstage Components (annotated with
        their PagerDuty id, which the push uses), with their dependencies from
        ``/service_dependencies/technical_services/{id}`` (one request per technical
        service: PagerDuty lists them no other way; business services' edges show
        up there too, as dependents)."""
        technical = pages.listing("/services", "services", {})
        business = pages.listing("/business_services", "business_services", {})
        names: dict[str, str] = {}
        entities: dict[str, tuple[dict[str, Any], str]] = {}
        for items, kind in ((technical, "service"), (business, "business-service")):
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    raise PullFailedError(
                        f"GET /{kind.replace('-', '_')}s: a service without its id"
                    )
                name = _entity_name(str(item.get("name") or item["id"]), item["id"], names)
                names[item["id"]] = name
                entities[item["id"]] = (item, kind)
        depends: dict[str, set[str]] = {sid: set() for sid in entities}
        for item in technical:
            path = f"/service_dependencies/technical_services/{item['id']}"
            reply = call("GET", path, None, None)
            relations = reply.body.get("relationships") if isinstance(reply.body, dict) else None
            if not reply.ok or not isinstance(relations, list):
                raise PullFailedError(
                    f"GET {path}: "
                    + (reply.vendor_message() if not reply.ok else "no 'relationships' list")
                )
            for relation in relations:
                pair = _pair(relation)
                if pair is not None and pair[0] in depends and pair[1] in names:
                    depends[pair[0]].add(names[pair[1]])
        base = self._account.base_url
        documents = []
        for sid, (item, kind) in entities.items():
            spec: dict[str, Any] = {"type": kind, "lifecycle": "production", "owner": "pagerduty"}
            if depends[sid]:
                spec["dependsOn"] = [f"component:{name}" for name in sorted(depends[sid])]
            metadata: dict[str, Any] = {
                "name": names[sid],
                "title": str(item.get("name") or sid),
                "description": str(item.get("description") or ""),
                "annotations": {"pagerduty.com/service-id": sid},
            }
            if item.get("html_url"):
                metadata["links"] = [{"url": str(item["html_url"]), "title": "PagerDuty"}]
            where = f"{base}/{'business_services' if kind != 'service' else 'services'}/{sid}"
            documents.append(
                (
                    where,
                    {
                        "apiVersion": "backstage.io/v1alpha1",
                        "kind": "Component",
                        "metadata": metadata,
                        "spec": spec,
                    },
                )
            )
        return documents

    # ------------------------------------------------------------- incidents

    def _incidents(
        self,
        pages: OffsetPages,
        call: Call,
        since: datetime | None,
        now: datetime,
        sink: PullSink,
        report: PullReport,
    ) -> None:
        start = (since - OVERLAP) if since else now - timedelta(days=self._options.first_days)
        start = max(start, now - MAX_RANGE)
        entries = pages.ranged("/log_entries", "log_entries", {}, start, now)
        by_incident: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            incident = entry.get("incident") if isinstance(entry, dict) else None
            if not isinstance(incident, dict) or not isinstance(incident.get("id"), str):
                raise PullFailedError("GET /log_entries: a log entry without its incident")
            by_incident.setdefault(incident["id"], []).append(entry)
        report.count(INCIDENTS_SET, "log_entries", len(entries))
        linked = {rid: sink.incident_for(rid) for rid in by_incident}
        report.count(INCIDENTS_SET, "remote_only", sum(1 for v in linked.values() if v is None))
        if not any(v is not None for v in linked.values()):
            sink.mark(INCIDENTS_SET, now)
            return
        me = self._own_user(call)
        own = sink.own_ids()
        merged: list[tuple[int, list[RemoteEntry]]] = []
        for remote_id, logs in by_incident.items():
            local = linked[remote_id]
            if local is None:
                continue
            items = [
                _log_entry(e) for e in logs if _agent(e) != me and _kind(e) != "annotate_log_entry"
            ]
            if any(_kind(e) == "annotate_log_entry" and _agent(e) != me for e in logs):
                items += self._notes(call, remote_id, own)
            merged.append((local, items))
        added = known = 0
        for local, items in merged:
            a, k = sink.timeline(local, items)
            added, known = added + a, known + k
        report.count(INCIDENTS_SET, "added", added)
        report.count(INCIDENTS_SET, "known", known)
        sink.mark(INCIDENTS_SET, now)

    def _own_user(self, call: Call) -> str | None:
        """The id of the account's ``From`` user (their log entries are our pushes)."""
        email = (self._account.from_email or "").lower()
        if not email:
            return None
        reply = call("GET", "/users", {"query": email, "limit": 25}, None)
        if not reply.ok or not isinstance(reply.body, dict):
            raise PullFailedError(f"GET /users?query=: {reply.vendor_message()}")
        for user in reply.body.get("users") or []:
            if isinstance(user, dict) and str(user.get("email", "")).lower() == email:
                return str(user.get("id"))
        return None

    def _notes(self, call: Call, remote_id: str, own: set[str]) -> list[RemoteEntry]:
        reply = call("GET", f"/incidents/{remote_id}/notes", None, None)
        if reply.status == 404:
            # deleted there meanwhile — only if reading the incident confirms it (any
            # other 404 fails the set, which is read again next time: no note skipped)
            back = call("GET", f"/incidents/{remote_id}", None, None)
            if not_found(back):
                return []
            raise PullFailedError(
                f"GET /incidents/{remote_id}/notes: {reply.vendor_message()}, but reading "
                f"the incident back answered {back.vendor_message()}: not a deletion"
            )
        notes = reply.body.get("notes") if isinstance(reply.body, dict) else None
        if not reply.ok or not isinstance(notes, list):
            raise PullFailedError(
                f"GET /incidents/{remote_id}/notes: {reply.vendor_message()}"
                if not reply.ok
                else f"GET /incidents/{remote_id}/notes: no 'notes' list in the reply"
            )
        found = []
        for note in notes:
            if not isinstance(note, dict) or not isinstance(note.get("id"), str):
                raise PullFailedError(f"GET /incidents/{remote_id}/notes: a note without its id")
            content = str(note.get("content", ""))
            if note["id"] in own or "[rc:" in content:
                continue
            user = note.get("user")
            who = str(user.get("summary", "")) if isinstance(user, dict) else ""
            found.append(
                RemoteEntry(
                    f"note:{note['id']}",
                    _when(note.get("created_at"), f"note {note['id']}"),
                    content,
                    {"vendor": PD, "type": "note", "incident": remote_id},
                    who or None,
                )
            )
        return found


def _entity_name(title: str, ident: str, taken: Mapping[str, str]) -> str:
    """A Backstage entity name from a service's name (unique: the id added on a clash)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or ident.lower()
    if slug in taken.values():
        slug = f"{slug[:40]}-{ident.lower()}"
    return slug


def _pair(relation: object) -> tuple[str, str] | None:
    """(dependent id, supporting id) of one service relationship."""
    if not isinstance(relation, dict):
        return None
    dependent, supporting = relation.get("dependent_service"), relation.get("supporting_service")
    if not isinstance(dependent, dict) or not isinstance(supporting, dict):
        return None
    return str(dependent.get("id")), str(supporting.get("id"))


def _kind(entry: Mapping[str, Any]) -> str:
    return str(entry.get("type", ""))


def _agent(entry: Mapping[str, Any]) -> str | None:
    agent = entry.get("agent")
    return str(agent.get("id")) if isinstance(agent, dict) and agent.get("id") else None


def _when(value: object, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise PullFailedError(f"{where}: {value!r} is not a date-time") from None
    if parsed.tzinfo is None:
        raise PullFailedError(f"{where}: {value!r} has no UTC offset")
    return parsed


def _log_entry(entry: Mapping[str, Any]) -> RemoteEntry:
    entry_id = entry.get("id")
    if not isinstance(entry_id, str):
        raise PullFailedError("GET /log_entries: a log entry without its id")
    agent = entry.get("agent")
    who = str(agent.get("summary", "")) if isinstance(agent, dict) else ""
    return RemoteEntry(
        f"log:{entry_id}",
        _when(entry.get("created_at"), f"log entry {entry_id}"),
        str(entry.get("summary") or _kind(entry).removesuffix("_log_entry")),
        {"vendor": PD, "type": _kind(entry), "incident": entry["incident"]["id"]},
        who or None,
    )


def _oncall_key(entry: Mapping[str, Any]) -> tuple[str, ...]:
    def ident(key: str) -> str:
        value = entry.get(key)
        return str(value.get("id")) if isinstance(value, dict) else ""

    return (
        ident("schedule"),
        ident("escalation_policy"),
        str(entry.get("escalation_level")),
        ident("user"),
        str(entry.get("start")),
        str(entry.get("end")),
    )


class OffsetPages:
    """PagerDuty's offset pagination over one paced, retrying call."""

    def __init__(self, call: Call, limit: int, cap: int) -> None:
        self._call = call
        self._limit = max(1, min(100, limit))
        self._cap = cap

    def _page(
        self, path: str, key: str, params: Mapping[str, Any], offset: int, total: bool
    ) -> tuple[list[Any], bool, int | None]:
        query = {**params, "limit": self._limit, "offset": offset}
        if total:
            query["total"] = "true"
        reply = self._call("GET", path, query, None)
        if not reply.ok:
            raise PullFailedError(f"GET {path} (offset {offset}): {reply.vendor_message()}")
        body = reply.body
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise PullFailedError(
                f"GET {path} (offset {offset}): the reply is not a PagerDuty list "
                f"(no {key!r} list in it)"
            )
        more = body.get("more")
        if not isinstance(more, bool):
            raise PullFailedError(f"GET {path} (offset {offset}): no 'more' flag in the reply")
        count = body.get("total")
        return items, more, count if isinstance(count, int) else None

    def listing(self, path: str, key: str, params: Mapping[str, Any]) -> list[Any]:
        """Every page of a listing that cannot be split (users, schedules, policies)."""
        return self._from(path, key, params, 0, [])

    def _from(
        self, path: str, key: str, params: Mapping[str, Any], offset: int, found: list[Any]
    ) -> list[Any]:
        more = True
        while more:
            if offset + self._limit > self._cap:
                raise PullFailedError(
                    f"GET {path}: more than {self._cap:,} records; PagerDuty serves no more "
                    "by offset"
                )
            items, more, _total = self._page(path, key, params, offset, False)
            found.extend(items)
            offset += len(items)
            if more and not items:
                raise PullFailedError(f"GET {path} (offset {offset}): 'more' with an empty page")
        return found

    def ranged(
        self,
        path: str,
        key: str,
        params: Mapping[str, Any],
        since: datetime,
        until: datetime,
    ) -> list[Any]:
        """Every record of [since, until), split into parts of at most 10,000."""
        window = {**params, "since": since.isoformat(), "until": until.isoformat()}
        items, more, total = self._page(path, key, window, 0, True)
        if not more:
            return items
        if total is not None and total > self._cap:
            parts = math.ceil(total / (self._cap * 0.9))
            step = (until - since) / parts
            if step < timedelta(minutes=1):
                raise PullFailedError(f"GET {path}: more than {self._cap:,} records in a minute")
            found: list[Any] = []
            for n in range(parts):
                found += self.ranged(
                    path,
                    key,
                    params,
                    since + step * n,
                    until if n == parts - 1 else since + step * (n + 1),
                )
            return found
        return self._from(path, key, window, len(items), list(items))
