"""A stateful loopback PagerDuty REST v2 emulator (tests only).

Real HTTP on 127.0.0.1, port 0, a thread per connection. It follows
the shared folder's specs/pagerduty/rest-openapiv3.json for the endpoints the sync
uses (tests/integration check requests and replies against the spec with
openapi-core) and PagerDuty's documented behaviour where the spec is silent:

- ``POST /incidents`` with an ``incident_key`` matching an *open* incident on the
  same service is refused with 400 (the spec's ``incident_key`` description;
  the message is the one PagerDuty returns, code 2001 "Invalid Input Provided").
- Rate limit: a fixed window of ``limit`` requests per ``window`` seconds, with
  ``ratelimit-limit``/``ratelimit-remaining``/``ratelimit-reset`` on every reply
  and 429 + ``Retry-After`` beyond it (developer.pagerduty.com, "REST API Rate
  Limits").
- Offset pagination: ``offset``, ``limit`` (≤ 100), ``more``, ``total`` when asked;
  the directory lists refuse ``offset + limit`` beyond 10,000 (``offset_cap``) with
  400, as PagerDuty does ("Pagination", developer.pagerduty.com).
- Pull endpoints (``GET /users`` with ``include[]=contact_methods`` and ``query``,
  ``/schedules``, ``/escalation_policies``, ``/oncalls`` over ``since``/``until``,
  ``/log_entries``, ``/services``, ``/business_services``,
  ``/service_dependencies/technical_services/{id}``): data from
  :meth:`PagerDutyEmulator.populate` and ``add_service``/``depend``. Inline contact
  methods carry the spec's ``*_contact_method_reference`` types (the spec's only
  shape for them); log entries carry no ``channel``: the spec's ``Channel`` is a
  ``oneOf`` every channel object matches more than once, so none validates.
  Writes are logged (trigger/annotate/acknowledge/resolve) with the ``From``
  header's user as the agent.

Fault injection, the server and the request log are tests/emulators/loopback.py's;
per-incident note/update order lets tests assert exactly once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.emulators.loopback import Fault, Faults, Logged, LoopbackEmulator, now_iso
from tests.emulators.spec_check import PAGERDUTY_SPEC

__all__ = ["Fault", "Faults", "Incident", "Logged", "PagerDutyEmulator"]


@dataclass
class Incident:
    id: str
    number: int
    title: str
    service_id: str
    incident_key: str | None
    urgency: str
    status: str = "triggered"
    created_at: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)
    status_updates: list[dict[str, Any]] = field(default_factory=list)
    #: every change in order: ("note", content) / ("status", s) / ("urgency", u) …
    changes: list[tuple[str, str]] = field(default_factory=list)
    merged_into: str | None = None
    #: ``body.details`` of the creation (an object, as the spec's IncidentBody says)
    details: dict[str, Any] | None = None


class PagerDutyEmulator(LoopbackEmulator):
    SPEC = PAGERDUTY_SPEC

    def __init__(
        self,
        *,
        token: str = "emulator-token",
        limit: int = 1_000_000,
        window: float = 60.0,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(token=token, limit=limit, window=window, faults=faults)
        self.incidents: dict[str, Incident] = {}
        #: directory data the pull reads (filled by :meth:`populate` or tests)
        self.users: list[dict[str, Any]] = []
        self.schedules: list[dict[str, Any]] = []
        self.oncalls: list[dict[str, Any]] = []
        self.policies: list[dict[str, Any]] = []
        self.services: list[dict[str, Any]] = []
        self.business_services: list[dict[str, Any]] = []
        #: (supporting service id, dependent service id, dependent is a business service)
        self.dependencies: list[tuple[str, str, bool]] = []
        #: every incident's log, oldest first (``GET /log_entries``)
        self.log_entries: list[dict[str, Any]] = []
        #: the agent of writes whose ``From`` matches no user
        #: records a listing serves by offset (PagerDuty: 10,000; tests lower it)
        self.offset_cap = OFFSET_CAP
        #: (path, offset) of a listing page that replies a malformed body, once
        self.bad_page: tuple[str, int] | None = None
        self.api_user = {"id": "PAPIUSR", "type": "user_reference", "summary": "API user"}
        self._counter = 0

    # --------------------------------------------------------- remote changes

    def resolve(self, incident_id: str) -> None:
        with self._lock:
            self.incidents[incident_id].status = "resolved"

    def delete(self, incident_id: str) -> None:
        with self._lock:
            del self.incidents[incident_id]

    def remote_note(self, incident_id: str, content: str, user: dict[str, Any]) -> str:
        """Another responder adds a note in PagerDuty (not through the API under test)."""
        with self._lock:
            incident = self.incidents[incident_id]
            note = self._store_note(incident, content, _ref(user))
            return str(note["id"])

    def remote_status(self, incident_id: str, status: str, user: dict[str, Any]) -> None:
        """Another responder acknowledges or resolves in PagerDuty."""
        with self._lock:
            incident = self.incidents[incident_id]
            incident.status = status
            self._log(incident, _ACTIONS.get(status, "trigger"), _ref(user))

    def populate(
        self,
        *,
        users: int,
        schedules: int = 0,
        days: int = 0,
        shift_hours: int = 24,
        start: datetime | None = None,
        methods_per_user: int = 2,
    ) -> None:
        """Generate ``users`` with contact methods, ``schedules`` each with its
        escalation policy, and on-call shifts of ``shift_hours`` covering ``days``
        from ``start`` (midnight UTC today by default), users taking turns."""
        first = start or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._lock:
            base = len(self.users)
            for n in range(base, base + users):
                uid = f"PU{n:05d}"
                methods: list[dict[str, Any]] = [
                    {
                        "id": f"PC{n:05d}E",
                        "type": "email_contact_method_reference",
                        "summary": "Work",
                        "label": "Work",
                        "address": f"user{n}@example.com",
                        "self": f"{self.base_url}/users/{uid}/contact_methods/PC{n:05d}E",
                    }
                ]
                for m in range(1, methods_per_user):
                    methods.append(
                        {
                            "id": f"PC{n:05d}{m}",
                            "type": (
                                "phone_contact_method_reference"
                                if m % 2
                                else "sms_contact_method_reference"
                            ),
                            "summary": "Mobile",
                            "label": "Mobile",
                            "address": f"20{n % 10_000_000:08d}"[:10],
                            "country_code": 44,
                            "self": f"{self.base_url}/users/{uid}/contact_methods/PC{n:05d}{m}",
                        }
                    )
                self.users.append(
                    {
                        "id": uid,
                        "type": "user",
                        "summary": f"User {n}",
                        "name": f"User {n}",
                        "email": f"user{n}@example.com",
                        "time_zone": "Europe/London",
                        "role": "user",
                        "self": f"{self.base_url}/users/{uid}",
                        "html_url": f"https://emulator.pagerduty.invalid/users/{uid}",
                        "contact_methods": methods,
                    }
                )
            everyone = self.users or [{"id": self.api_user["id"], "summary": "API user"}]
            for k in range(len(self.schedules), len(self.schedules) + schedules):
                sid, pid = f"PS{k:04d}", f"PP{k:04d}"
                schedule = {
                    "id": sid,
                    "type": "schedule",
                    "summary": f"Schedule {k}",
                    "name": f"Schedule {k}",
                    "time_zone": "Europe/London",
                    "self": f"{self.base_url}/schedules/{sid}",
                    "html_url": f"https://emulator.pagerduty.invalid/schedules/{sid}",
                }
                self.schedules.append(schedule)
                policy = {
                    "id": pid,
                    "type": "escalation_policy",
                    "summary": f"Policy {k}",
                    "name": f"Policy {k}",
                    "num_loops": 1,
                    "self": f"{self.base_url}/escalation_policies/{pid}",
                    "escalation_rules": [
                        {
                            "id": f"PR{k:04d}",
                            "escalation_delay_in_minutes": 30,
                            "targets": [_ref(schedule, "schedule_reference")],
                        }
                    ],
                    "services": [],
                    "teams": [],
                }
                self.policies.append(policy)
                for day in range(days * 24 // shift_hours):
                    person = everyone[(k * 7 + day) % len(everyone)]
                    begin = first + timedelta(hours=day * shift_hours)
                    self.oncalls.append(
                        {
                            "escalation_policy": _ref(policy, "escalation_policy_reference"),
                            "escalation_level": 1,
                            "schedule": _ref(schedule, "schedule_reference"),
                            "user": _ref(person, "user_reference"),
                            "start": _stamp(begin),
                            "end": _stamp(begin + timedelta(hours=shift_hours)),
                        }
                    )

    def add_service(self, name: str, *, business: bool = False) -> str:
        """A technical (or business) service; returns its id."""
        with self._lock:
            target = self.business_services if business else self.services
            sid = f"{'PB' if business else 'PV'}{len(target):04d}"
            kind = "business_service" if business else "service"
            service: dict[str, Any] = {
                "id": sid,
                "type": kind,
                "summary": name,
                "name": name,
                "description": f"{name} (emulated)",
                "self": f"{self.base_url}/{kind}s/{sid}",
                "html_url": f"https://emulator.pagerduty.invalid/{kind}s/{sid}",
            }
            if not business:  # the spec requires a technical service's policy
                service["escalation_policy"] = {
                    "id": "PPOLICY",
                    "type": "escalation_policy_reference",
                    "summary": "Default",
                }
            target.append(service)
            return sid

    def depend(self, dependent: str, supporting: str) -> None:
        """``dependent`` (a technical or business service id) relies on ``supporting``."""
        with self._lock:
            business = any(b["id"] == dependent for b in self.business_services)
            self.dependencies.append((supporting, dependent, business))

    def _relationships(self, service_id: str) -> tuple[int, Any]:
        if not any(s["id"] == service_id for s in self.services):
            return 404, _error(2100, "Not Found")
        found = []
        for supporting, dependent, business in self.dependencies:
            if service_id not in (supporting, dependent):
                continue
            found.append(
                {
                    "id": f"D{supporting}{dependent}",
                    "type": "service_dependency",
                    "supporting_service": {
                        "id": supporting,
                        "type": "technical_service_reference",
                    },
                    "dependent_service": {
                        "id": dependent,
                        "type": (
                            "business_service_reference"
                            if business
                            else "technical_service_reference"
                        ),
                    },
                }
            )
        return 200, {"relationships": found}

    def by_key(self, key: str) -> list[Incident]:
        with self._lock:
            return [i for i in self.incidents.values() if i.incident_key == key]

    # -------------------------------------------------------------- handling

    def rate_headers(self, remaining: int, reset: float, allowed: bool) -> dict[str, str]:
        return {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": f"{reset:.3f}",
        }

    def refusal(self, status: int) -> Any:
        if status == 429:
            return _error(2020, "Rate Limit Exceeded")
        if status == 404:
            return _error(2100, "Not Found")
        return _error(2006, "Authentication failed") if status == 401 else None

    def echo(self, status: int, text: str) -> Any:
        if status == 401:
            return _error(2006, "Authentication failed", text)
        return _error(2001 if status < 500 else 2000, "Invalid Input Provided", text)

    def _next_id(self) -> str:
        self._counter += 1
        return f"Q{self._counter:06d}"

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, Any]:
        """Apply one request; returns (status, JSON body). Holds the lock: one at a time."""
        if headers.get("Authorization") != f"Token token={self.token}":
            return 401, _error(2006, "Authentication failed")
        if headers.get("Accept") != "application/vnd.pagerduty+json;version=2":
            return 400, _error(2001, "Invalid Input Provided", "Accept header is missing")
        parts = [p for p in path.split("/") if p]
        with self._lock:
            if method in ("POST", "PUT") and not headers.get("From"):
                return 400, _error(2001, "Invalid Input Provided", "A From header is required")
            if parts == ["incidents"] and method == "POST":
                return self._create(body, self._agent(headers))
            if parts == ["incidents"] and method == "GET":
                return self._list(query)
            if method == "GET" and len(parts) == 1 and parts[0] in _LISTS:
                return self._listing(parts[0], query)
            if method == "GET" and parts[:2] == ["service_dependencies", "technical_services"]:
                return self._relationships(parts[2] if len(parts) == 3 else "")
            if len(parts) >= 2 and parts[0] == "incidents":
                incident = self.incidents.get(parts[1])
                if incident is None:
                    return 404, _error(2100, "Not Found")
                rest = parts[2:]
                if rest == [] and method == "GET":
                    return 200, {"incident": _incident_json(incident, self.base_url)}
                if rest == [] and method == "PUT":
                    return self._update(incident, body, self._agent(headers))
                if rest == ["notes"] and method == "GET":
                    return 200, {"notes": list(incident.notes)}
                if rest == ["notes"] and method == "POST":
                    return self._note(incident, body, self._agent(headers))
                if rest == ["status_updates"] and method == "POST":
                    return self._status_update(incident, body)
                if rest == ["merge"] and method == "PUT":
                    return self._merge(incident, body)
        return 404, _error(2100, "Not Found")

    def _agent(self, headers: Any) -> dict[str, Any]:
        """The user a write is made as: PagerDuty's ``From`` header names them."""
        sender = str(headers.get("From") or "").lower()
        for user in self.users:
            if user.get("email", "").lower() == sender:
                return _ref(user, "user_reference")
        return dict(self.api_user)

    def _log(self, incident: Incident, action: str, agent: dict[str, Any], **extra: Any) -> None:
        entry_id = self._next_id()
        self.log_entries.append(
            {
                "id": entry_id,
                "type": f"{action}_log_entry",
                "summary": f"{action.capitalize()} by {agent.get('summary', '')}",
                "self": f"{self.base_url}/log_entries/{entry_id}",
                "created_at": now_iso(),
                "agent": agent,
                "incident": {
                    "id": incident.id,
                    "type": "incident_reference",
                    "summary": incident.title,
                    "self": f"{self.base_url}/incidents/{incident.id}",
                },
                **extra,
            }
        )

    def _listing(self, name: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        """The paginated directory lists: offset/limit/more/total, PagerDuty's cap of
        10,000 records reachable by offset (offset + limit beyond it is refused)."""
        try:
            offset = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", ["25"])[0])
        except ValueError:
            return 400, _error(2001, "Invalid Input Provided", "offset/limit not integers")
        if limit < 1 or limit > 100 or offset < 0:
            return 400, _error(2001, "Invalid Input Provided", "limit must be 1..100")
        if offset + limit > self.offset_cap:
            return 400, _error(
                2001,
                "Invalid Input Provided",
                f"Offset must be less than {self.offset_cap} (use a narrower time range)",
            )
        if self.bad_page == (f"/{name}", offset):
            self.bad_page = None
            return 200, {"unexpected": "not a listing"}
        items: list[dict[str, Any]]
        if name == "users":
            include = query.get("include[]", [])
            needle = query.get("query", [""])[0].lower()
            items = [
                u if "contact_methods" in include else _without(u, "contact_methods")
                for u in self.users
                if needle in u["name"].lower() or needle in u["email"].lower()
            ]
        elif name == "schedules":
            items = self.schedules
        elif name == "escalation_policies":
            items = self.policies
        elif name == "services":
            items = self.services
        elif name == "business_services":
            items = self.business_services
        elif name == "oncalls":
            items = _overlapping(self.oncalls, query)
            wanted = set(query.get("schedule_ids[]", []))
            if wanted:
                items = [o for o in items if o["schedule"]["id"] in wanted]
        else:
            since, until = query.get("since", [None])[0], query.get("until", [None])[0]
            items = [
                e
                for e in self.log_entries
                if (since is None or _parse(e["created_at"]) >= _parse(since))
                and (until is None or _parse(e["created_at"]) < _parse(until))
            ]
        page = items[offset : offset + limit]
        document: dict[str, Any] = {
            name: page,
            "offset": offset,
            "limit": limit,
            "more": offset + limit < len(items),
            "total": len(items) if query.get("total", ["false"])[0] == "true" else None,
        }
        return 200, document

    def _create(self, body: Any, agent: dict[str, Any]) -> tuple[int, Any]:
        spec = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(spec, dict) or not spec.get("title") or not spec.get("service"):
            return 400, _error(2001, "Invalid Input Provided", "Incident title/service missing")
        service_id = str(spec["service"].get("id", ""))
        if not service_id.startswith("P"):
            return 400, _error(2001, "Invalid Input Provided", "Service not found")
        body_spec = spec.get("body")
        details = body_spec.get("details") if isinstance(body_spec, dict) else None
        if body_spec is not None and (
            not isinstance(body_spec, dict)
            or body_spec.get("type") != "incident_body"
            or not isinstance(details, (dict, type(None)))
        ):
            return 400, _error(2001, "Invalid Input Provided", "body must be an incident_body")
        key = spec.get("incident_key")
        if key is not None:
            for other in self.incidents.values():
                if (
                    other.incident_key == key
                    and other.service_id == service_id
                    and other.status != "resolved"
                ):
                    return 400, _error(
                        2001,
                        "Invalid Input Provided",
                        "Open incident with matching dedup key already exists on this service",
                    )
        incident = Incident(
            id=self._next_id(),
            number=self._counter,
            title=str(spec["title"]),
            service_id=service_id,
            incident_key=key,
            urgency=str(spec.get("urgency", "high")),
            created_at=now_iso(),
            details=details,
        )
        self.incidents[incident.id] = incident
        self._log(incident, "trigger", agent)
        return 201, {"incident": _incident_json(incident, self.base_url)}

    def _list(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        found = list(self.incidents.values())
        if "incident_key" in query:
            found = [i for i in found if i.incident_key == query["incident_key"][0]]
        statuses = query.get("statuses[]")
        if statuses:
            found = [i for i in found if i.status in statuses]
        try:
            offset = int(query.get("offset", ["0"])[0])
            limit = min(100, int(query.get("limit", ["25"])[0]))
        except ValueError:
            return 400, _error(2001, "Invalid Input Provided", "offset/limit not integers")
        page = found[offset : offset + limit]
        document: dict[str, Any] = {
            "incidents": [_incident_json(i, self.base_url) for i in page],
            "offset": offset,
            "limit": limit,
            "more": offset + limit < len(found),
            "total": len(found) if query.get("total", ["false"])[0] == "true" else None,
        }
        return 200, document

    def _update(self, incident: Incident, body: Any, agent: dict[str, Any]) -> tuple[int, Any]:
        spec = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(spec, dict):
            return 400, _error(2001, "Invalid Input Provided", "incident missing")
        status, urgency = spec.get("status"), spec.get("urgency")
        if status is not None:
            if status not in ("triggered", "acknowledged", "resolved"):
                return 400, _error(2001, "Invalid Input Provided", "Invalid status")
            incident.status = status
            incident.changes.append(("status", status))
            self._log(incident, _ACTIONS[status], agent)
        if urgency is not None:
            if urgency not in ("high", "low"):
                return 400, _error(2001, "Invalid Input Provided", "Invalid urgency")
            incident.urgency = urgency
            incident.changes.append(("urgency", urgency))
        if isinstance(spec.get("priority"), dict):
            incident.changes.append(("priority", str(spec["priority"].get("id"))))
        return 200, {"incident": _incident_json(incident, self.base_url)}

    def _note(self, incident: Incident, body: Any, agent: dict[str, Any]) -> tuple[int, Any]:
        note = body.get("note") if isinstance(body, dict) else None
        if not isinstance(note, dict) or not isinstance(note.get("content"), str):
            return 400, _error(2001, "Invalid Input Provided", "Note content missing")
        if len(incident.notes) >= 2000:
            return 400, _error(2001, "Invalid Input Provided", "Note limit reached")
        return 200, {"note": self._store_note(incident, note["content"], agent)}

    def _store_note(
        self, incident: Incident, content: str, agent: dict[str, Any]
    ) -> dict[str, Any]:
        stored = {
            "id": self._next_id(),
            "content": content,
            "created_at": now_iso(),
            "user": agent,
            "channel": {"summary": "The PagerDuty website or APIs"},
        }
        incident.notes.append(stored)
        incident.changes.append(("note", content))
        self._log(incident, "annotate", agent)
        return stored

    def _status_update(self, incident: Incident, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return 400, _error(2001, "Invalid Input Provided", "message missing")
        stored = {"id": self._next_id(), "message": body["message"], "created_at": now_iso()}
        incident.status_updates.append(stored)
        incident.changes.append(("status_update", body["message"]))
        return 200, {"status_update": stored}

    def _merge(self, target: Incident, body: Any) -> tuple[int, Any]:
        sources = body.get("source_incidents") if isinstance(body, dict) else None
        if not isinstance(sources, list):
            return 400, _error(2001, "Invalid Input Provided", "source_incidents missing")
        for ref in sources:
            source = self.incidents.get(str(ref.get("id")))
            if source is None:
                return 404, _error(2100, "Not Found")
            source.status, source.merged_into = "resolved", target.id
        return 200, {"incident": _incident_json(target, self.base_url)}


#: PagerDuty serves at most this many records by offset ("Pagination", developer docs)
OFFSET_CAP = 10_000
_ACTIONS = {"acknowledged": "acknowledge", "resolved": "resolve", "triggered": "trigger"}
_LISTS = (
    "users",
    "schedules",
    "escalation_policies",
    "oncalls",
    "log_entries",
    "services",
    "business_services",
)


def _ref(item: dict[str, Any], kind: str = "user_reference") -> dict[str, Any]:
    ref = {"id": item["id"], "type": kind, "summary": item.get("summary", "")}
    if "self" in item:
        ref["self"] = item["self"]
    return ref


def _without(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != key}


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=65_536)
def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _overlapping(
    oncalls: list[dict[str, Any]], query: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """On-calls overlapping [since, until) (PagerDuty's default: now)."""
    since = _parse(query["since"][0]) if "since" in query else datetime.now(UTC)
    until = _parse(query["until"][0]) if "until" in query else since
    return [
        o
        for o in oncalls
        if _parse(o["start"]) < max(until, since + timedelta(seconds=1))
        and _parse(o["end"]) > since
    ]


def _error(code: int, message: str, *errors: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": list(errors)}}


def _incident_json(incident: Incident, base: str) -> dict[str, Any]:
    return {
        "id": incident.id,
        "type": "incident",
        "summary": f"[#{incident.number}] {incident.title}",
        "self": f"{base}/incidents/{incident.id}",
        "html_url": f"https://emulator.pagerduty.invalid/incidents/{incident.id}",
        "incident_number": incident.number,
        "title": incident.title,
        "created_at": incident.created_at,
        "status": incident.status,
        "incident_key": incident.incident_key,
        "urgency": incident.urgency,
        "service": {
            "id": incident.service_id,
            "type": "service_reference",
            "summary": "Emulated service",
            "self": f"{base}/services/{incident.service_id}",
            "html_url": f"https://emulator.pagerduty.invalid/services/{incident.service_id}",
        },
    }
