"""A stateful loopback PagerDuty REST v2 emulator (tests only).

Real HTTP on 127.0.0.1, port 0, a thread per connection. It follows
/work/shared/specs/pagerduty/rest-openapiv3.json for the endpoints the sync
uses (tests/integration check requests and replies against the spec with
openapi-core) and PagerDuty's documented behaviour where the spec is silent:

- ``POST /incidents`` with an ``incident_key`` matching an *open* incident on the
  same service is refused with 400 (the spec's ``incident_key`` description;
  the message is the one PagerDuty returns, code 2001 "Invalid Input Provided").
- Rate limit: a fixed window of ``limit`` requests per ``window`` seconds, with
  ``ratelimit-limit``/``ratelimit-remaining``/``ratelimit-reset`` on every reply
  and 429 + ``Retry-After`` beyond it (developer.pagerduty.com, "REST API Rate
  Limits").
- Offset pagination: ``offset``, ``limit`` (≤ 100), ``more``, ``total`` when asked.

Fault injection, the server and the request log are tests/emulators/loopback.py's;
per-incident note/update order lets tests assert exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.emulators.loopback import Fault, Faults, Logged, LoopbackEmulator, now_iso

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


class PagerDutyEmulator(LoopbackEmulator):
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
        self._counter = 0

    # --------------------------------------------------------- remote changes

    def resolve(self, incident_id: str) -> None:
        with self._lock:
            self.incidents[incident_id].status = "resolved"

    def delete(self, incident_id: str) -> None:
        with self._lock:
            del self.incidents[incident_id]

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
        return _error(2006, "Authentication failed") if status == 401 else None

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
                return self._create(body)
            if parts == ["incidents"] and method == "GET":
                return self._list(query)
            if len(parts) >= 2 and parts[0] == "incidents":
                incident = self.incidents.get(parts[1])
                if incident is None:
                    return 404, _error(2100, "Not Found")
                rest = parts[2:]
                if rest == [] and method == "GET":
                    return 200, {"incident": _incident_json(incident, self.base_url)}
                if rest == [] and method == "PUT":
                    return self._update(incident, body)
                if rest == ["notes"] and method == "GET":
                    return 200, {"notes": list(incident.notes)}
                if rest == ["notes"] and method == "POST":
                    return self._note(incident, body)
                if rest == ["status_updates"] and method == "POST":
                    return self._status_update(incident, body)
                if rest == ["merge"] and method == "PUT":
                    return self._merge(incident, body)
        return 404, _error(2100, "Not Found")

    def _create(self, body: Any) -> tuple[int, Any]:
        spec = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(spec, dict) or not spec.get("title") or not spec.get("service"):
            return 400, _error(2001, "Invalid Input Provided", "Incident title/service missing")
        service_id = str(spec["service"].get("id", ""))
        if not service_id.startswith("P"):
            return 400, _error(2001, "Invalid Input Provided", "Service not found")
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
        )
        self.incidents[incident.id] = incident
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

    def _update(self, incident: Incident, body: Any) -> tuple[int, Any]:
        spec = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(spec, dict):
            return 400, _error(2001, "Invalid Input Provided", "incident missing")
        status, urgency = spec.get("status"), spec.get("urgency")
        if status is not None:
            if status not in ("triggered", "acknowledged", "resolved"):
                return 400, _error(2001, "Invalid Input Provided", "Invalid status")
            incident.status = status
            incident.changes.append(("status", status))
        if urgency is not None:
            if urgency not in ("high", "low"):
                return 400, _error(2001, "Invalid Input Provided", "Invalid urgency")
            incident.urgency = urgency
            incident.changes.append(("urgency", urgency))
        if isinstance(spec.get("priority"), dict):
            incident.changes.append(("priority", str(spec["priority"].get("id"))))
        return 200, {"incident": _incident_json(incident, self.base_url)}

    def _note(self, incident: Incident, body: Any) -> tuple[int, Any]:
        note = body.get("note") if isinstance(body, dict) else None
        if not isinstance(note, dict) or not isinstance(note.get("content"), str):
            return 400, _error(2001, "Invalid Input Provided", "Note content missing")
        if len(incident.notes) >= 2000:
            return 400, _error(2001, "Invalid Input Provided", "Note limit reached")
        stored = {
            "id": self._next_id(),
            "content": note["content"],
            "created_at": now_iso(),
            "user": {"id": "PUSER01", "type": "user_reference", "summary": "Emulator"},
            "channel": {"summary": "The PagerDuty website or APIs"},
        }
        incident.notes.append(stored)
        incident.changes.append(("note", note["content"]))
        return 200, {"note": stored}

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
