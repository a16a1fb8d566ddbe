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

Fault injection (``Faults``): drawn per request with ``Faults.rate``, or
scripted for the next requests with :meth:`PagerDutyEmulator.script`. A
request log (``requests``) and per-incident note/update order let tests assert
exactly once.
"""

from __future__ import annotations

import enum
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Fault(enum.Enum):
    RESET = "reset"  # close before reading: nothing applied (refused at the application)
    TIMEOUT = "timeout"  # hold the connection past the client's deadline, apply nothing
    SLOW_BODY = "slow_body"  # apply, then trickle the reply slower than the client waits
    RATE_429 = "429"  # refuse with 429 + Retry-After
    E500 = "500"
    E502 = "502"
    E503 = "503"
    E401 = "401"
    DROP_AFTER_APPLY = "drop"  # apply the write, then drop the connection


#: the faults a random draw picks from (401 stops the account: scripted only)
RANDOM_FAULTS = tuple(f for f in Fault if f is not Fault.E401)


@dataclass
class Faults:
    rate: float = 0.0
    kinds: tuple[Fault, ...] = RANDOM_FAULTS
    #: how long TIMEOUT holds and SLOW_BODY trickles (longer than the client's deadline)
    hold_seconds: float = 0.6
    retry_after: str = "1"
    rng: random.Random = field(default_factory=lambda: random.Random(5))


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    status: int | None
    fault: Fault | None
    #: the write took effect (it may have been applied though the client saw no reply)
    applied: bool


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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PagerDutyEmulator:
    def __init__(
        self,
        *,
        token: str = "emulator-token",
        limit: int = 1_000_000,
        window: float = 60.0,
        faults: Faults | None = None,
    ) -> None:
        self.token = token
        self.limit = limit
        self.window = window
        self.faults = faults or Faults()
        self.incidents: dict[str, Incident] = {}
        self.requests: list[Logged] = []
        self.rate_limited: list[float] = []
        self._scripted: list[Fault] = []
        self._lock = threading.RLock()
        self._counter = 0
        self._window_start = time.monotonic()
        self._window_used = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------------- lifecycle

    def start(self) -> PagerDutyEmulator:
        emulator = self

        class Handler(_Handler):
            owner = emulator

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @contextmanager
    def offline(self) -> Iterator[None]:
        """Close the listening socket: connections are refused until the block ends."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *faults: Fault) -> None:
        """The next requests meet these faults, in order."""
        with self._lock:
            self._scripted.extend(faults)

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

    def _draw(self, method: str) -> Fault | None:
        with self._lock:
            if self._scripted:
                return self._scripted.pop(0)
            if self.faults.rate and self.faults.rng.random() < self.faults.rate:
                return self.faults.rng.choice(self.faults.kinds)
        return None

    def _rate(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self.window:
                self._window_start, self._window_used = now, 0
            reset = max(0.0, self.window - (now - self._window_start))
            allowed = self._window_used < self.limit
            if allowed:
                self._window_used += 1
            else:
                self.rate_limited.append(now)
            headers = {
                "ratelimit-limit": str(self.limit),
                "ratelimit-remaining": str(max(0, self.limit - self._window_used)),
                "ratelimit-reset": f"{reset:.3f}",
            }
            if not allowed:
                headers["Retry-After"] = f"{reset:.3f}"
            return allowed, headers

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
            created_at=_now(),
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
            "created_at": _now(),
            "user": {"id": "PUSER01", "type": "user_reference", "summary": "Emulator"},
            "channel": {"summary": "The PagerDuty website or APIs"},
        }
        incident.notes.append(stored)
        incident.changes.append(("note", note["content"]))
        return 200, {"note": stored}

    def _status_update(self, incident: Incident, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return 400, _error(2001, "Invalid Input Provided", "message missing")
        stored = {"id": self._next_id(), "message": body["message"], "created_at": _now()}
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


class _Handler(BaseHTTPRequestHandler):
    owner: PagerDutyEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the request log is ours
        return

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without this, Nagle + delayed ACK
        # add ~40 ms to every reply
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        emulator = self.owner
        split = urlsplit(self.path)
        fault = emulator._draw(self.command)
        if fault is Fault.RESET:
            emulator.requests.append(Logged(self.command, split.path, None, fault, False))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if fault is Fault.TIMEOUT:
            time.sleep(emulator.faults.hold_seconds)
            emulator.requests.append(Logged(self.command, split.path, None, fault, False))
            self.close_connection = True
            return
        allowed, limit_headers = emulator._rate()
        status_by_fault = {Fault.E500: 500, Fault.E502: 502, Fault.E503: 503, Fault.E401: 401}
        if not allowed or fault is Fault.RATE_429:
            if allowed:  # an injected 429 still says when to come back
                limit_headers["Retry-After"] = emulator.faults.retry_after
            document: Any = _error(2020, "Rate Limit Exceeded")
            emulator.requests.append(Logged(self.command, split.path, 429, fault, False))
            self._reply(429, document, limit_headers)
            return
        if fault in status_by_fault:
            assert fault is not None
            code = status_by_fault[fault]
            document = _error(2006, "Authentication failed") if code == 401 else None
            emulator.requests.append(Logged(self.command, split.path, code, fault, False))
            self._reply(code, document, limit_headers)
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status, document = emulator.handle(
            self.command, split.path, parse_qs(split.query), self.headers, body
        )
        applied = self.command in ("POST", "PUT") and 200 <= status < 300
        emulator.requests.append(Logged(self.command, split.path, status, fault, applied))
        if fault is Fault.DROP_AFTER_APPLY:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is Fault.SLOW_BODY:
            self._slow(status, document, limit_headers)
            return
        self._reply(status, document, limit_headers)

    def _reply(self, status: int, document: Any, headers: dict[str, str]) -> None:
        payload = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _slow(self, status: int, document: Any, headers: dict[str, str]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()
        steps = 6
        piece = max(1, len(payload) // steps)
        try:
            for start in range(0, len(payload), piece):
                self.wfile.write(payload[start : start + piece])
                self.wfile.flush()
                time.sleep(self.owner.faults.hold_seconds / steps)
        except OSError:
            pass  # the client gave up: that is the point
        self.close_connection = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()
