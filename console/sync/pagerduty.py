"""PagerDuty REST v2: outbox operations as API calls, each exactly once.

- ``incident.create`` → ``POST /incidents`` with ``incident_key`` = the local
  incident's UUID: PagerDuty rejects a second create with the same key while the
  incident is open, and ``GET /incidents?incident_key=`` finds it.
- ``incident.note`` → ``POST /incidents/{id}/notes``. Notes have no dedup
  handle, so each carries a short marker (``[rc:<operation uuid>]``) and an
  operation whose outcome is unknown is first looked for with
  ``GET /incidents/{id}/notes``.
- ``incident.status`` / ``incident.severity`` → ``PUT /incidents/{id}`` (status,
  urgency), after a ``GET`` that both makes the write idempotent (nothing is sent
  when the incident already is so) and detects an incident resolved, merged or
  deleted in PagerDuty meanwhile: the operation is then superseded.

A 404 supersedes only when reading the incident back confirms it is gone
(console.sync.driver): a 404 PagerDuty answers ``{"error": {...}}`` (its error
format) to ``GET /incidents/{id}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.domain.incident import Severity, Status
from console.ops.outbox import OutboxOp, RemoteLink
from console.sync.accounts import Account
from console.sync.driver import RESOLVED_LOCALLY, VendorDriver
from console.sync.http import Reply
from console.sync.outcomes import (
    Applied,
    Over,
    RefusedError,
    Superseded,
    dedup_key,
    marker,
)
from console.sync.outcomes import expect_ok as _expect_ok

VERSION_HEADER = "application/vnd.pagerduty+json;version=2"

#: the local lifecycle in PagerDuty's three states (None: nothing to send)
STATUS_MAP: dict[Status, str | None] = {
    Status.OPEN: None,
    Status.TRIAGE: "acknowledged",
    Status.MITIGATING: "acknowledged",
    Status.RESOLVED: "resolved",
    Status.POST_INCIDENT: "resolved",
    Status.CLOSED: "resolved",
}
URGENCY = {Severity.SEV1: "high", Severity.SEV2: "high", Severity.SEV3: "low", Severity.SEV4: "low"}


def headers(account: Account, token: str) -> dict[str, str]:
    return {
        "Authorization": f"Token token={token}",
        "Accept": VERSION_HEADER,
        "Content-Type": "application/json",
        "From": account.from_email or "",
    }


def not_found(reply: Reply) -> bool:
    """PagerDuty's own "not found": a 404 in its error format (``{"error": {...}}``),
    not a bare 404 from a proxy or a wrong base URL."""
    return (
        reply.status == 404
        and isinstance(reply.body, dict)
        and isinstance(reply.body.get("error"), dict)
    )


class PagerDutyDriver(VendorDriver):
    vendor = "pagerduty"
    title = "PagerDuty"

    def _read_path(self, link: RemoteLink) -> str:
        return f"/incidents/{link.remote_id}"

    def _deleted(self, reply: Reply) -> bool:
        return not_found(reply)

    def _unwrap(self, reply: Reply) -> Mapping[str, Any]:
        incident: Mapping[str, Any] = reply.body["incident"]
        return incident

    # ---------------------------------------------------------------- create

    def _create(self, op: OutboxOp) -> Applied:
        key = dedup_key(op)
        if op.outcome_unknown:
            found = self._find(op, key)
            if found is not None:
                return found
        payload = op.payload
        incident: dict[str, Any] = {
            "type": "incident",
            "title": str(payload["title"])[:1024],
            "service": {"id": self._service_id(payload), "type": "service_reference"},
            "urgency": URGENCY[Severity(payload["severity"])],
            "incident_key": key,
        }
        if payload.get("summary"):
            # the spec's IncidentBody: ``details`` is an object (its example sends a
            # string; the schema is what a validating gateway holds us to)
            incident["body"] = {
                "type": "incident_body",
                "details": {"summary": str(payload["summary"])},
            }
        reply = self._call("POST", "/incidents", None, {"incident": incident})
        if reply.ok:
            return self._applied_incident(op, key, reply.body["incident"])
        if reply.status == 400:
            # an open incident with this key exists: ours, from an attempt whose reply was lost
            found = self._find(op, key)
            if found is not None:
                return found
        raise RefusedError(reply.vendor_message())

    def _service_id(self, payload: Mapping[str, Any]) -> str:
        for service in payload.get("services") or ():
            if isinstance(service, dict) and service.get("pagerduty_service_id"):
                return str(service["pagerduty_service_id"])
        return self._account.default_service or ""

    def _find(self, op: OutboxOp, key: str) -> Applied | None:
        reply = self._call(
            "GET", "/incidents", {"incident_key": key, "date_range": "all", "limit": 1}, None
        )
        _expect_ok(reply)
        found = reply.body.get("incidents") or []
        return self._applied_incident(op, key, found[0]) if found else None

    def _applied_incident(self, op: OutboxOp, key: str, incident: Mapping[str, Any]) -> Applied:
        assert op.incident_id is not None
        remote_id = str(incident["id"])
        html_url = incident.get("html_url")
        link = RemoteLink(op.incident_id, remote_id, key, str(html_url) if html_url else None)
        return Applied(remote_id, link)

    # ----------------------------------------------------------------- notes

    def _note(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        path = f"/incidents/{link.remote_id}/notes"
        tag = marker(op)
        if op.outcome_unknown:
            reply = self._call("GET", path, None, None)
            if (gone := self._expect(reply, link, "note")) is not None:
                return gone
            for note in reply.body.get("notes") or []:
                if tag in str(note.get("content", "")):
                    return Applied(str(note["id"]))
        content = f"{op.payload['text']}\n\n{tag}"
        reply = self._call("POST", path, None, {"note": {"content": content}})
        if (gone := self._expect(reply, link, "note")) is not None:
            return gone
        return Applied(str(reply.body["note"]["id"]))

    def _status_update(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        """POST /incidents/{id}/status_updates. PagerDuty's API lists no status updates
        to reconcile with, so an attempt whose outcome is unknown is never sent blind
        again: it is refused for a person to check and retry or discard."""
        if op.outcome_unknown:
            raise RefusedError(
                "an earlier attempt may have reached PagerDuty (its reply was lost) and "
                "status updates cannot be read back: check the incident's status updates "
                "in PagerDuty, then retry or discard this one"
            )
        path = f"/incidents/{link.remote_id}/status_updates"
        reply = self._call("POST", path, None, {"message": str(op.payload["text"])})
        if (gone := self._expect(reply, link, "status update")) is not None:
            return gone
        return Applied(str(reply.body["status_update"]["id"]))

    # ------------------------------------------------------- status, urgency

    def _status(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        before, after = Status(op.payload["from"]), Status(op.payload["to"])
        target = STATUS_MAP[after]
        if target is None:
            return Applied(link.remote_id)
        current = self._current(link)
        if current is None:
            return self._gone(link, f"status change to {after.value}")
        remote = current.get("status")
        if remote == "resolved" and target != "resolved" and before not in RESOLVED_LOCALLY:
            return Superseded(
                f"PagerDuty incident {link.remote_id} was resolved (or merged into another) "
                f"there meanwhile; the status change to {after.value} was not sent",
                Over(f"PagerDuty incident {link.remote_id}", f"status change to {after.value}"),
            )
        if remote != target:
            return self._put(link, {"status": target}, f"status change to {after.value}")
        return Applied(link.remote_id)

    def _severity(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        target = Severity(op.payload["to"])
        current = self._current(link)
        if current is None:
            return self._gone(link, f"severity change to {target.value}")
        if current.get("status") == "resolved":
            return Superseded(
                f"PagerDuty incident {link.remote_id} was resolved (or merged into another) "
                f"there meanwhile; the severity change to {target.value} was not sent",
                Over(f"PagerDuty incident {link.remote_id}", f"severity change to {target.value}"),
            )
        if current.get("urgency") != URGENCY[target]:
            what = f"severity change to {target.value}"
            return self._put(link, {"urgency": URGENCY[target]}, what)
        return Applied(link.remote_id)

    def _put(self, link: RemoteLink, fields: Mapping[str, Any], what: str) -> Applied | Superseded:
        body = {"incident": {"type": "incident_reference", **fields}}
        reply = self._call("PUT", f"/incidents/{link.remote_id}", None, body)
        return self._expect(reply, link, what) or Applied(link.remote_id)
