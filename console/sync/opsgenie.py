"""Opsgenie: outbox operations as API calls, each exactly once.

A local incident becomes an Opsgenie **alert** (the default) or, for an account
added with ``--mode incident``, an Opsgenie **incident**. Both APIs are
asynchronous: a write is answered ``202 Accepted`` with a ``requestId``, and
``GET …/requests/{requestId}`` says what became of it (404 while it is still
being processed).

Alerts (``/v2/alerts``, in the spec):

- ``incident.create`` → ``POST /v2/alerts`` with ``alias`` = the local incident's
  UUID. Opsgenie deduplicates an *open* alert with the same alias, and an
  unknown outcome is first looked up with ``GET /v2/alerts/{alias}?identifierType=alias``.
- ``incident.note`` / ``incident.status_update`` → ``POST /v2/alerts/{id}/notes``.
  No dedup handle: each note ends with ``[rc:<operation uuid>]`` and an unknown
  outcome reads ``GET /v2/alerts/{id}/notes`` (paged) first. Opsgenie alerts have
  no status updates, so one is a note starting "Status update:".
- ``incident.status`` → ``POST …/acknowledge`` or ``…/close`` after a ``GET``
  (nothing sent when the alert already is so; closed there meanwhile or deleted
  → superseded, Opsgenie cannot reopen a closed alert).
- ``incident.severity`` → ``PUT /v2/alerts/{id}/priority`` (P1-P4) after a ``GET``.

Incidents (``/v1/incidents``): create, get, list, close and the request status
are in the spec. Notes (``POST``/``GET /v1/incidents/{id}/notes``), ``…/resolve``
and ``PUT …/priority`` are not; they follow Opsgenie's public Incident API
documentation (docs.opsgenie.com/docs/incident-api). Incident creation has no
dedup handle: the incident carries the tag ``rc-<incident uuid>`` and an unknown
outcome is looked for with ``GET /v1/incidents/?query=tag:rc-…`` before sending
again. Opsgenie incidents have no acknowledgement: triage and mitigation send
nothing (the ``GET`` still detects a remote resolution, which supersedes).

A 404 supersedes only when reading the alert or incident back confirms it is
gone (console.sync.driver): a 404 Opsgenie answers with its error body
(``{"message": …, "requestId": …}``) to ``GET {root}/{id}``.
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
    Call,
    Over,
    RefusedError,
    RetryableError,
    Superseded,
    dedup_key,
    expect_ok,
    marker,
)

PRIORITY = {Severity.SEV1: "P1", Severity.SEV2: "P2", Severity.SEV3: "P3", Severity.SEV4: "P4"}
#: Opsgenie's field limits (public docs): alert/incident message 130, description 15,000,
#: note 25,000 characters
MESSAGE_MAX = 130
DESCRIPTION_MAX = 15_000
NOTE_MAX = 25_000
#: notes read per page when looking for a marker (the API's maximum)
NOTES_PAGE = 100
SOURCE = "Responder Console"
#: every alert/incident pushed from here carries it (the pull finds them by it)
TAG = "responder-console"


def headers(account: Account, token: str) -> dict[str, str]:
    return {"Authorization": f"GenieKey {token}", "Content-Type": "application/json"}


def incident_tag(op: OutboxOp) -> str:
    return f"rc-{dedup_key(op).replace('-', '')}"


def driver(call: Call, account: Account) -> OpsgenieAlerts | OpsgenieIncidents:
    """The driver for the account's mode (the pusher's factory for Opsgenie)."""
    if account.mode == "incident":
        return OpsgenieIncidents(call, account)
    return OpsgenieAlerts(call, account)


class _Opsgenie(VendorDriver):
    """What alerts and incidents share: notes with read-back, request status, priority."""

    vendor = "opsgenie"
    title = "Opsgenie"
    #: "alert" / "incident": the object's name in paths, fields and messages
    kind = ""
    root = ""

    def _note(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        return self._post_note(op, link, str(op.payload["text"]), "note")

    def _status_update(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        text = f"Status update: {op.payload['text']}"
        return self._post_note(op, link, text, "status update")

    # ----------------------------------------------------------------- shared

    def _applied(self, op: OutboxOp, remote_id: str) -> Applied:
        assert op.incident_id is not None
        return Applied(remote_id, RemoteLink(op.incident_id, remote_id, dedup_key(op), None))

    def _accepted(self, reply: Reply) -> str:
        """The requestId of a 202 (any other 2xx is taken as accepted too)."""
        expect_ok(reply)
        body = reply.body if isinstance(reply.body, dict) else {}
        return str(body.get("requestId") or "")

    def _processed(self, request_id: str, id_field: str) -> str:
        """The object id a create request made. Not processed yet → retried later as an
        unknown outcome (the next attempt finds the object by its handle first)."""
        reply = self._call("GET", f"{self.root}/requests/{request_id}", None, None)
        data = reply.body.get("data") if isinstance(reply.body, dict) else None
        if reply.status == 404 or (reply.ok and not isinstance(data, dict)):
            raise RetryableError(
                f"Opsgenie has not processed the {self.kind} creation yet (request {request_id})",
                maybe_applied=True,
            )
        expect_ok(reply)
        assert isinstance(data, dict)
        if not data.get("isSuccess") or not data.get(id_field):
            said = reply.quote(data.get("status"))
            raise RefusedError(f"Opsgenie did not create the {self.kind}: {said}")
        return str(data[id_field])

    def _read_path(self, link: RemoteLink) -> str:
        return f"{self.root}/{link.remote_id}"

    def _deleted(self, reply: Reply) -> bool:
        return (
            reply.status == 404
            and isinstance(reply.body, dict)
            and isinstance(reply.body.get("message"), str)
        )

    def _unwrap(self, reply: Reply) -> Mapping[str, Any]:
        data: Mapping[str, Any] = reply.body["data"]
        return data

    def _post_note(
        self, op: OutboxOp, link: RemoteLink, text: str, what: str
    ) -> Applied | Superseded:
        path = f"{self.root}/{link.remote_id}/notes"
        tag = marker(op)
        if op.outcome_unknown:
            found = self._has_note(path, tag, link, what)
            if isinstance(found, Superseded):
                return found
            if found:
                return Applied(op.remote_id)
        content = f"{text[: NOTE_MAX - len(tag) - 2]}\n\n{tag}"
        reply = self._call("POST", path, None, self._by_us({"note": content}))
        if reply.status == 404:
            return self._missing(link, what, reply)
        return Applied(self._accepted(reply) or None)

    def _has_note(self, path: str, tag: str, link: RemoteLink, what: str) -> bool | Superseded:
        """Whether a note with the marker is there (Superseded: the object is gone).
        Newest first, paged by the ``offset`` Opsgenie gives each note."""
        params: dict[str, Any] = {"limit": NOTES_PAGE, "order": "desc", "direction": "next"}
        while True:
            reply = self._call("GET", path, params, None)
            if reply.status == 404:
                return self._missing(link, what, reply)
            expect_ok(reply)
            notes = reply.body.get("data") or []
            if any(tag in str(note.get("note", "")) for note in notes):
                return True
            if len(notes) < NOTES_PAGE or not notes[-1].get("offset"):
                return False
            params = {**params, "offset": notes[-1]["offset"]}

    def _severity(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        target = Severity(op.payload["to"])
        current = self._current(link)
        if current is None:
            return self._gone(link, f"severity change to {target.value}")
        if current.get("status") in ("resolved", "closed"):
            return Superseded(
                f"Opsgenie {self.kind} {link.remote_id} was {current['status']} there "
                f"meanwhile; the severity change to {target.value} was not sent",
                Over(
                    f"Opsgenie {self.kind} {link.remote_id}", f"severity change to {target.value}"
                ),
            )
        if current.get("priority") != PRIORITY[target]:
            body = {"priority": PRIORITY[target]}
            reply = self._call("PUT", f"{self.root}/{link.remote_id}/priority", None, body)
            if reply.status == 404:
                return self._missing(link, f"severity change to {target.value}", reply)
            self._accepted(reply)
        return Applied(link.remote_id)

    def _action(self, link: RemoteLink, action: str, what: str) -> Applied | Superseded:
        path = f"{self.root}/{link.remote_id}/{action}"
        reply = self._call("POST", path, None, self._by_us({}))
        if reply.status == 404:
            return self._missing(link, what, reply)
        self._accepted(reply)
        return Applied(link.remote_id)

    def _by_us(self, body: dict[str, Any]) -> dict[str, Any]:
        """Alert actions name their owner (``user``, ``source``): the alert's log then
        tells our actions from other responders' (the pull skips ours)."""
        return {**body, "user": SOURCE, "source": SOURCE} if self.kind == "alert" else body


class OpsgenieAlerts(_Opsgenie):
    kind = "alert"
    root = "/v2/alerts"

    def _create(self, op: OutboxOp) -> Applied:
        alias = dedup_key(op)
        if op.outcome_unknown:
            reply = self._call("GET", f"{self.root}/{alias}", {"identifierType": "alias"}, None)
            if reply.ok:
                return self._applied(op, str(reply.body["data"]["id"]))
            if reply.status != 404:
                expect_ok(reply)
        payload = op.payload
        alert: dict[str, Any] = {
            "message": str(payload["title"])[:MESSAGE_MAX],
            "alias": alias,
            "priority": PRIORITY[Severity(payload["severity"])],
            "source": SOURCE,
            "user": SOURCE,
            "tags": [TAG],
        }
        if payload.get("summary"):
            alert["description"] = str(payload["summary"])[:DESCRIPTION_MAX]
        services = [
            str(s.get("name")) for s in payload.get("services") or () if isinstance(s, dict)
        ]
        if services:
            alert["entity"] = ", ".join(services)[:512]
        request_id = self._accepted(self._call("POST", self.root, None, alert))
        return self._applied(op, self._processed(request_id, "alertId"))

    def _status(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        before, after = Status(op.payload["from"]), Status(op.payload["to"])
        if after is Status.OPEN:
            return Applied(link.remote_id)  # nothing to send: an alert starts open
        what = f"status change to {after.value}"
        current = self._current(link)
        if current is None:
            return self._gone(link, what)
        closing = after in RESOLVED_LOCALLY
        if current.get("status") == "closed":
            if closing:
                return Applied(link.remote_id)
            reason = (
                "was closed there meanwhile"
                if before not in RESOLVED_LOCALLY
                else "is closed and Opsgenie cannot reopen a closed alert"
            )
            return Superseded(
                f"Opsgenie alert {link.remote_id} {reason}; the {what} was not sent",
                Over(f"Opsgenie alert {link.remote_id}", what, "Opsgenie cannot reopen it"),
            )
        if closing:
            return self._action(link, "close", what)
        if current.get("acknowledged"):
            return Applied(link.remote_id)
        return self._action(link, "acknowledge", what)


class OpsgenieIncidents(_Opsgenie):
    kind = "incident"
    root = "/v1/incidents"

    def _create(self, op: OutboxOp) -> Applied:
        tag = incident_tag(op)
        if op.outcome_unknown:
            found = self._find(tag)
            if found is not None:
                return self._applied(op, found)
        payload = op.payload
        incident: dict[str, Any] = {
            "message": str(payload["title"])[:MESSAGE_MAX],
            "serviceId": self._account.default_service or "",
            "priority": PRIORITY[Severity(payload["severity"])],
            "tags": [tag, TAG],
            "notifyStakeholders": False,
        }
        if payload.get("summary"):
            incident["description"] = str(payload["summary"])[:DESCRIPTION_MAX]
        request_id = self._accepted(self._call("POST", f"{self.root}/create", None, incident))
        return self._applied(op, self._processed(request_id, "incidentId"))

    def _find(self, tag: str) -> str | None:
        reply = self._call("GET", f"{self.root}/", {"query": f"tag:{tag}", "limit": 1}, None)
        expect_ok(reply)
        found = reply.body.get("data") or []
        return str(found[0]["id"]) if found else None

    def _status(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded:
        before, after = Status(op.payload["from"]), Status(op.payload["to"])
        what = f"status change to {after.value}"
        current = self._current(link)
        if current is None:
            return self._gone(link, what)
        remote = current.get("status")
        if after not in RESOLVED_LOCALLY:
            if remote in ("resolved", "closed") and before not in RESOLVED_LOCALLY:
                return Superseded(
                    f"Opsgenie incident {link.remote_id} was {remote} there meanwhile; "
                    f"the {what} was not sent",
                    Over(f"Opsgenie incident {link.remote_id}", what),
                )
            # Opsgenie incidents have no acknowledgement; a local reopening is not sent
            return Applied(link.remote_id)
        if after is Status.CLOSED:
            return (
                Applied(link.remote_id) if remote == "closed" else self._action(link, "close", what)
            )
        if remote in ("resolved", "closed"):
            return Applied(link.remote_id)
        return self._action(link, "resolve", what)
