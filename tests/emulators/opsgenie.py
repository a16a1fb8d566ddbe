"""A stateful loopback Opsgenie emulator: alerts and incidents (tests only).

Real HTTP on 127.0.0.1, port 0 (server, fault injection and request log:
tests/emulators/loopback.py). It follows the shared folder's specs/opsgenie/openapi3.json
for the endpoints the sync uses (tests check requests and replies against it with
openapi-core) and Opsgenie's public documentation where the spec is silent:

- Writes are asynchronous: ``202`` + ``requestId``; ``GET …/requests/{id}`` tells
  the outcome. With ``lag`` > 0 a request's status is ``404`` for that many
  lookups first (Opsgenie answers so while it still processes the request).
- ``POST /v2/alerts`` with the ``alias`` of an *open* alert adds to that alert's
  ``count`` instead of making a new one (the spec's ``alias`` description).
- Incident notes (``POST``/``GET /v1/incidents/{id}/notes``), ``…/resolve`` and
  ``PUT /v1/incidents/{id}/priority`` are not in the spec; they follow
  docs.opsgenie.com/docs/incident-api. Incident search understands the
  ``tag:`` and ``status:`` terms of its query language.
- Notes are paged newest or oldest first by each note's ``offset`` (``limit``
  ≤ 100, ``direction``, ``order``), as the alert notes API documents.
- Reads for the pull: users (offset pages, ``totalCount``) and their contacts,
  teams with members, schedules and their timelines (periods overlapping
  ``date`` + ``interval`` days or weeks), escalations, alerts searched by ``tag:`` and
  sorted by ``updatedAt``, alert logs (paged like notes). Seed them with
  :meth:`OpsgenieEmulator.add_user` and friends.
- Rate limit: ``limit`` requests per ``window`` seconds; ``X-RateLimit-State: OK``
  on every reply and, beyond it, 429 with ``X-RateLimit-State: THROTTLED``,
  ``X-RateLimit-Reason`` and ``X-RateLimit-Period-In-Sec`` (docs.opsgenie.com,
  "Rate Limiting") plus ``Retry-After``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.emulators.loopback import Fault, Faults, Logged, LoopbackEmulator, now_iso
from tests.emulators.spec_check import OPSGENIE_SPEC

__all__ = ["Fault", "Faults", "Logged", "OpsgenieEmulator", "Remote"]

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
MESSAGE_MAX = 130
#: Incident API calls the spec lacks (notes, resolve, priority): from Opsgenie's public docs
UNSPECIFIED = re.compile(r"^/v1/incidents/[^/]+/(notes|resolve|priority)$")


@dataclass
class Remote:
    """An alert or an incident as the emulator holds it."""

    id: str
    tiny_id: str
    message: str
    priority: str
    status: str = "open"
    alias: str | None = None
    description: str = ""
    tags: list[str] = field(default_factory=list)
    service_id: str | None = None
    acknowledged: bool = False
    count: int = 1
    created_at: str = ""
    updated_at: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    #: every change in order: ("note", text) / ("status", s) / ("priority", p) …
    changes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Request:
    action: str
    success: bool
    status: str
    object_id: str
    alias: str | None
    lookups_left: int
    processed_at: str


class OpsgenieEmulator(LoopbackEmulator):
    SPEC = OPSGENIE_SPEC

    def __init__(
        self,
        *,
        token: str = "emulator-genie-key",
        limit: int = 1_000_000,
        window: float = 60.0,
        faults: Faults | None = None,
        lag: int = 0,
    ) -> None:
        super().__init__(token=token, limit=limit, window=window, faults=faults)
        self.lag = lag
        self.alerts: dict[str, Remote] = {}
        self.incidents: dict[str, Remote] = {}
        self._requests: dict[str, _Request] = {}
        self._counter = 0
        self.users: list[dict[str, Any]] = []
        self.contacts: dict[str, list[dict[str, Any]]] = {}
        self.teams: list[dict[str, Any]] = []
        self.schedules: list[dict[str, Any]] = []
        #: schedule id → (rotation name, start, end, user id, username)
        self.periods: dict[str, list[tuple[str, datetime, datetime, str, str]]] = {}
        self.escalations: list[dict[str, Any]] = []
        #: paths answered 503 every time (a vendor outage of one endpoint)
        self.broken: set[str] = set()

    # ------------------------------------------------------ configuration (pull)

    def add_user(self, user_id: str, username: str, full_name: str, **contacts: str) -> None:
        """A user with contacts by method (``sms="+44…"``, ``voice=…``, ``email=…``)."""
        self.users.append({"id": user_id, "username": username, "fullName": full_name})
        self.contacts[user_id] = [
            {
                "id": f"{user_id}-{kind}",
                "method": kind,
                "to": to,
                "status": {"enabled": True},
                "applyOrder": n,
            }
            for n, (kind, to) in enumerate(contacts.items())
        ]

    def add_team(self, team_id: str, name: str, *user_ids: str) -> None:
        members = [
            {"user": {"id": u["id"], "username": u["username"]}, "role": "user"}
            for u in self.users
            if u["id"] in user_ids
        ]
        self.teams.append({"id": team_id, "name": name, "description": "", "members": members})

    def add_schedule(
        self,
        schedule_id: str,
        name: str,
        periods: list[tuple[str, datetime, datetime, str]],
        timezone: str = "Europe/London",
    ) -> None:
        """Periods as (rotation, start, end, user id)."""
        self.schedules.append(
            {"id": schedule_id, "name": name, "timezone": timezone, "enabled": True}
        )
        names = {u["id"]: u["username"] for u in self.users}
        self.periods[schedule_id] = [(r, a, b, u, names[u]) for r, a, b, u in periods]

    def acknowledge_by(self, alert_id: str, username: str) -> None:
        """Someone acknowledges an alert in Opsgenie."""
        with self._lock:
            alert = self.alerts[alert_id]
            alert.acknowledged = True
            self._log(alert, f"Alert acknowledged by {username}", username, "system")

    # --------------------------------------------------------- remote changes

    def close_alert(self, alert_id: str) -> None:
        with self._lock:
            self.alerts[alert_id].status = "closed"

    def resolve_incident(self, incident_id: str) -> None:
        with self._lock:
            self.incidents[incident_id].status = "resolved"

    def delete(self, remote_id: str) -> None:
        with self._lock:
            self.alerts.pop(remote_id, None)
            self.incidents.pop(remote_id, None)

    def add_note(self, remote_id: str, text: str, owner: str = "colleague@example.com") -> None:
        """A note written in Opsgenie by someone else."""
        with self._lock:
            target = self.alerts.get(remote_id) or self.incidents[remote_id]
            self._append_note(target, text, owner)

    def by_alias(self, alias: str) -> list[Remote]:
        with self._lock:
            return [a for a in self.alerts.values() if a.alias == alias]

    # ------------------------------------------------------- vendor specifics

    def rate_headers(self, remaining: int, reset: float, allowed: bool) -> dict[str, str]:
        if allowed:
            return {"X-RateLimit-State": "OK"}
        return {
            "X-RateLimit-State": "THROTTLED",
            "X-RateLimit-Reason": "INTEGRATION",
            "X-RateLimit-Period-In-Sec": f"{self.window:g}",
        }

    def refusal(self, status: int) -> Any:
        messages = {
            401: "Could not authenticate",
            404: "Not Found",
            429: "You are making too many requests! To avoid errors, we recommend you "
            "limit requests.",
        }
        return _error(messages.get(status, "Internal Server Error"))

    def echo(self, status: int, text: str) -> Any:
        return _error(text)

    def unspecified(self, method: str, path: str) -> bool:
        return bool(UNSPECIFIED.match(path))

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, Any]:
        if headers.get("Authorization") != f"GenieKey {self.token}":
            return 401, _error("Could not authenticate")
        parts = [p for p in path.split("/") if p]
        if path in self.broken:
            return 503, _error("Service Unavailable")
        with self._lock:
            if method == "GET" and parts[:1] == ["v2"] and parts[1:2] != ["alerts"]:
                return self._configuration(parts[1:], query)
            if parts[:2] == ["v2", "alerts"]:
                return self._alerts(method, parts[2:], query, body)
            if parts[:2] == ["v1", "incidents"]:
                return self._incidents(method, parts[2:], query, body)
        return 404, _error("No handler found")

    # --------------------------------------------------------- configuration

    def _configuration(self, rest: list[str], query: dict[str, list[str]]) -> tuple[int, Any]:
        if rest == ["users"]:
            return self._offset_page(self.users, query, "/v2/users")
        if len(rest) == 3 and rest[0] == "users" and rest[2] == "contacts":
            if rest[1] not in self.contacts:
                return 404, _error(f"User [{rest[1]}] not found")
            return 200, _ok(self.contacts[rest[1]])
        if rest == ["teams"]:
            listed = [{k: t[k] for k in ("id", "name", "description")} for t in self.teams]
            return 200, {**_ok(listed), "expandable": ["member"]}
        if len(rest) == 2 and rest[0] == "teams":
            team = next((t for t in self.teams if t["id"] == rest[1]), None)
            return (200, _ok(team)) if team else (404, _error("Team not found"))
        if rest == ["schedules"]:
            return 200, {**_ok(self.schedules), "expandable": ["rotation"]}
        if len(rest) == 3 and rest[0] == "schedules" and rest[2] == "timeline":
            return self._timeline(rest[1], query)
        if rest == ["escalations"]:
            return 200, _ok(self.escalations)
        return 404, _error("No handler found")

    def _timeline(self, schedule_id: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        schedule = next((s for s in self.schedules if s["id"] == schedule_id), None)
        if schedule is None:
            return 404, _error(f"Schedule with identifier [{schedule_id}] does not exist")
        unit = _one(query, "intervalUnit") or "weeks"
        if unit not in ("days", "weeks"):
            return 422, _error("the emulator knows intervalUnit days and weeks only")
        start = datetime.fromisoformat((_one(query, "date") or now_iso()).replace("Z", "+00:00"))
        end = start + timedelta(**{unit: int(_one(query, "interval") or 1)})
        rotations: dict[str, list[dict[str, Any]]] = {}
        for rotation, a, b, user_id, username in self.periods[schedule_id]:
            if a < end and b > start:
                rotations.setdefault(rotation, []).append(
                    {
                        "startDate": _iso(max(a, start)),
                        "endDate": _iso(min(b, end)),
                        "type": "default",
                        "recipient": {"type": "user", "id": user_id, "name": username},
                    }
                )
        data = {
            "_parent": {"id": schedule_id, "name": schedule["name"], "enabled": True},
            "startDate": _iso(start),
            "endDate": _iso(end),
            "finalTimeline": {
                "rotations": [
                    {"id": f"rot-{n}", "name": name, "order": float(n), "periods": periods}
                    for n, (name, periods) in enumerate(rotations.items())
                ]
            },
        }
        return 200, {**_ok(data), "expandable": ["base", "forwarding", "override"]}

    def _offset_page(
        self, items: list[dict[str, Any]], query: dict[str, list[str]], path: str
    ) -> tuple[int, Any]:
        offset = int(_one(query, "offset") or 0)
        limit = min(100, int(_one(query, "limit") or 20))
        document = _ok(items[offset : offset + limit])
        document["totalCount"] = len(items)
        document["paging"] = {"first": f"{self.base_url}{path}?offset=0&limit={limit}"}
        if offset + limit < len(items):
            document["paging"]["next"] = (
                f"{self.base_url}{path}?offset={offset + limit}&limit={limit}"
            )
        return 200, document

    # ---------------------------------------------------------------- alerts

    def _alerts(
        self, method: str, rest: list[str], query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if rest == [] and method == "POST":
            return self._create_alert(body)
        if rest == [] and method == "GET":
            return self._list_alerts(query)
        if len(rest) == 2 and rest[0] == "requests" and method == "GET":
            return self._request_status(rest[1], "alertId")
        if not rest:
            return 404, _error("No handler found")
        alert = self._find_alert(rest[0], _one(query, "identifierType") or "id")
        if alert is None:
            return 404, _error("Alert does not exist")
        action = rest[1:]
        if action == [] and method == "GET":
            return 200, _ok(_alert_json(alert))
        if action == ["notes"]:
            return self._notes(alert, method, query, body)
        if action == ["logs"] and method == "GET":
            return self._marked_page(alert.logs, query)
        if action == ["priority"] and method == "PUT":
            return self._priority(alert, body)
        if action == ["acknowledge"] and method == "POST":
            if alert.status != "closed":
                alert.acknowledged = True
                alert.changes.append(("status", "acknowledged"))
                self._log(alert, "Alert acknowledged via API", _owner(body), "system")
            return self._accepted("Acknowledge", alert)
        if action == ["close"] and method == "POST":
            alert.status = "closed"
            alert.changes.append(("status", "closed"))
            self._log(alert, "Alert closed via API", _owner(body), "system")
            return self._accepted("Close", alert)
        return 404, _error("No handler found")

    def _find_alert(self, identifier: str, kind: str) -> Remote | None:
        if kind == "alias":
            found = [a for a in self.alerts.values() if a.alias == identifier]
            open_ = [a for a in found if a.status == "open"]
            chosen = open_ or found
            return chosen[-1] if chosen else None
        if kind == "tiny":
            return next((a for a in self.alerts.values() if a.tiny_id == identifier), None)
        return self.alerts.get(identifier)

    def _create_alert(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return 422, _error("Message can not be empty.")
        if len(body["message"]) > MESSAGE_MAX:
            return 422, _error(f"Message can not be longer than {MESSAGE_MAX} characters.")
        priority = body.get("priority", "P3")
        if priority not in PRIORITIES:
            return 422, _error("Priority should be one of [P1, P2, P3, P4, P5]")
        alias = body.get("alias")
        existing = self._find_alert(alias, "alias") if alias else None
        if existing is not None and existing.status == "open":
            existing.count += 1
            return self._accepted("Create", existing, status="Alert deduplicated")
        alert = Remote(
            id=str(uuid.uuid4()),
            tiny_id=self._tiny(),
            message=body["message"],
            priority=priority,
            alias=alias,
            description=str(body.get("description", "")),
            tags=[str(t) for t in body.get("tags") or []],
            created_at=now_iso(),
            updated_at=now_iso(),
        )
        self.alerts[alert.id] = alert
        self._log(alert, "Alert created via API", _owner(body), "system")
        return self._accepted("Create", alert, status="Created alert")

    def _list_alerts(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        found = list(self.alerts.values())
        for term in (_one(query, "query") or "").split():
            name, _, value = term.partition(":")
            if name == "tag":
                found = [a for a in found if value in a.tags]
        if _one(query, "sort") == "updatedAt":
            found.sort(key=lambda a: a.updated_at, reverse=_one(query, "order") != "asc")
        return self._offset_page([_alert_json(a) for a in found], query, "/v2/alerts")

    # ------------------------------------------------------------- incidents

    def _incidents(
        self, method: str, rest: list[str], query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if rest == ["create"] and method == "POST":
            return self._create_incident(body)
        if rest == [] and method == "GET":
            return self._search(query)
        if len(rest) == 2 and rest[0] == "requests" and method == "GET":
            return self._request_status(rest[1], "incidentId")
        if not rest:
            return 404, _error("No handler found")
        incident = self.incidents.get(rest[0])
        if incident is None:
            return 404, _error(f"Incident with id [{rest[0]}] does not exist")
        action = rest[1:]
        if action == [] and method == "GET":
            return 200, _ok(_incident_json(incident))
        if action == ["notes"]:
            return self._notes(incident, method, query, body)
        if action == ["priority"] and method == "PUT":
            return self._priority(incident, body)
        if action in (["resolve"], ["close"]) and method == "POST":
            incident.status = "resolved" if action == ["resolve"] else "closed"
            incident.changes.append(("status", incident.status))
            return self._accepted(action[0].capitalize(), incident)
        return 404, _error("No handler found")

    def _create_incident(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return 422, _error("Message can not be empty.")
        if not body.get("serviceId"):
            return 422, _error("Service id can not be empty.")
        if not str(body["serviceId"]).startswith("svc-"):
            return 422, _error(f"Service with id [{body['serviceId']}] does not exist")
        priority = body.get("priority", "P3")
        if priority not in PRIORITIES:
            return 422, _error("Priority should be one of [P1, P2, P3, P4, P5]")
        incident = Remote(
            id=str(uuid.uuid4()),
            tiny_id=self._tiny(),
            message=body["message"][:MESSAGE_MAX],
            priority=priority,
            description=str(body.get("description", "")),
            tags=[str(t) for t in body.get("tags") or []],
            service_id=str(body["serviceId"]),
            created_at=now_iso(),
            updated_at=now_iso(),
        )
        self.incidents[incident.id] = incident
        return self._accepted("Create", incident, status="Created incident")

    def _search(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        terms = (_one(query, "query") or "").split()
        found = list(self.incidents.values())
        for term in terms:
            name, _, value = term.partition(":")
            if name == "tag":
                found = [i for i in found if value in i.tags]
            elif name == "status":
                found = [i for i in found if i.status == value]
        offset = int(_one(query, "offset") or 0)
        limit = min(100, int(_one(query, "limit") or 20))
        page = found[offset : offset + limit]
        document = _ok([_incident_json(i) for i in page])
        document["totalCount"] = len(found)
        document["paging"] = {"first": f"{self.base_url}/v1/incidents?offset=0&limit={limit}"}
        if offset + limit < len(found):
            document["paging"]["next"] = (
                f"{self.base_url}/v1/incidents?offset={offset + limit}&limit={limit}"
            )
        return 200, document

    # ---------------------------------------------------------------- shared

    def _notes(
        self, target: Remote, method: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("note"), str):
                return 422, _error("Note can not be empty.")
            self._append_note(target, body["note"], _owner(body))
            return self._accepted("AddNote", target)
        if method != "GET":
            return 404, _error("No handler found")
        return self._marked_page(target.notes, query)

    def _marked_page(
        self, items: list[dict[str, Any]], query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        """Notes or log lines paged by their ``offset`` (``direction``, ``order``)."""
        limit = min(100, int(_one(query, "limit") or 20))
        newest_first = (_one(query, "order") or "desc") == "desc"
        notes = sorted(items, key=lambda n: n["offset"], reverse=newest_first)
        after = _one(query, "offset")
        if after is not None:
            older = ((_one(query, "direction") or "next") == "next") == newest_first
            notes = [n for n in notes if (n["offset"] < after if older else n["offset"] > after)]
        page = notes[:limit]
        document = _ok(page)
        document["paging"] = {"first": f"{self.base_url}/notes?limit={limit}"}
        if len(notes) > limit:
            document["paging"]["next"] = (
                f"{self.base_url}/notes?limit={limit}&offset={page[-1]['offset']}"
            )
        return 200, document

    def _append_note(self, target: Remote, text: str, owner: str) -> None:
        self._counter += 1
        offset = f"{self._counter:012d}"
        note = {"note": text, "owner": owner, "createdAt": now_iso(), "offset": offset}
        target.notes.append(note)
        target.changes.append(("note", text))
        self._log(target, "Added note", owner, "note")

    def _log(self, target: Remote, text: str, owner: str, kind: str) -> None:
        self._counter += 1
        offset = f"{self._counter:012d}"
        target.logs.append(
            {"log": text, "type": kind, "owner": owner, "createdAt": now_iso(), "offset": offset}
        )
        target.updated_at = now_iso()

    def _priority(self, target: Remote, body: Any) -> tuple[int, Any]:
        priority = body.get("priority") if isinstance(body, dict) else None
        if priority not in PRIORITIES:
            return 422, _error("Priority should be one of [P1, P2, P3, P4, P5]")
        target.priority = str(priority)
        target.changes.append(("priority", target.priority))
        return self._accepted("UpdatePriority", target)

    def _accepted(self, action: str, target: Remote, *, status: str = "") -> tuple[int, Any]:
        request_id = str(uuid.uuid4())
        target.updated_at = now_iso()
        self._requests[request_id] = _Request(
            action=action,
            success=True,
            status=status or f"{action} processed",
            object_id=target.id,
            alias=target.alias,
            lookups_left=self.lag,
            processed_at=now_iso(),
        )
        return 202, {"result": "Request will be processed", "took": 0.01, "requestId": request_id}

    def _request_status(self, request_id: str, id_field: str) -> tuple[int, Any]:
        request = self._requests.get(request_id)
        if request is None or request.lookups_left > 0:
            if request is not None:
                request.lookups_left -= 1
            return 404, _error("Request not found. It might not be processed, yet.")
        data: dict[str, Any] = {
            "action": request.action,
            "processedAt": request.processed_at,
            "integrationId": "emulator-integration",
            "isSuccess": request.success,
            "status": request.status,
            id_field: request.object_id,
        }
        if id_field == "alertId":
            data["alias"] = request.alias or ""
        else:
            data["success"] = request.success
        return 200, _ok(data)

    def _tiny(self) -> str:
        self._counter += 1
        return str(self._counter)


def _owner(body: Any) -> str:
    return str(body.get("user") or "API") if isinstance(body, dict) else "API"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _ok(data: Any) -> dict[str, Any]:
    return {"data": data, "took": 0.01, "requestId": str(uuid.uuid4())}


def _error(message: str) -> dict[str, Any]:
    return {"message": message, "took": 0.0, "requestId": str(uuid.uuid4())}


def _alert_json(alert: Remote) -> dict[str, Any]:
    return {
        "id": alert.id,
        "tinyId": alert.tiny_id,
        "alias": alert.alias or "",
        "message": alert.message,
        "status": alert.status,
        "acknowledged": alert.acknowledged,
        "isSeen": False,
        "tags": alert.tags,
        "snoozed": False,
        "count": alert.count,
        "lastOccurredAt": alert.updated_at,
        "createdAt": alert.created_at,
        "updatedAt": alert.updated_at,
        "source": "Responder Console",
        "owner": "",
        "priority": alert.priority,
        "responders": [],
        "description": alert.description,
        "details": {},
        "actions": [],
        "entity": "",
    }


def _incident_json(incident: Remote) -> dict[str, Any]:
    return {
        "id": incident.id,
        "tinyId": incident.tiny_id,
        "message": incident.message,
        "status": incident.status,
        "isSeen": False,
        "tags": incident.tags,
        "createdAt": incident.created_at,
        "updatedAt": incident.updated_at,
        "source": "Responder Console",
        "owner": "",
        "priority": incident.priority,
        "responders": [],
        "ownerTeam": "",
        "extraProperties": {},
    }
