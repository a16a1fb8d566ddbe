"""What every vendor driver shares: the outbox operations it is asked to apply.

A driver maps one outbox operation onto its vendor's API (console.sync.pagerduty,
console.sync.opsgenie). :class:`VendorDriver` routes each operation to the
method for it; a subclass supplies the five methods and its ``vendor`` name.

A 404 is not taken at its word: before an operation is superseded because its
remote incident is gone, the incident is read back (:meth:`VendorDriver._missing`).
Only the vendor's own "not found" for that read confirms a deletion; anything else
keeps the operation — failed with the reason for a person, or queued for another
try when the read itself did not get through.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from console.domain.incident import Status
from console.ops.outbox import OutboxOp, RemoteLink
from console.sync.accounts import Account
from console.sync.http import Reply
from console.sync.outcomes import (
    Applied,
    Call,
    RefusedError,
    RetryableError,
    Superseded,
    expect_ok,
)

#: local states in which the incident is over: a remote resolution then is no conflict
RESOLVED_LOCALLY = (Status.RESOLVED, Status.POST_INCIDENT, Status.CLOSED)


class VendorDriver(ABC):
    vendor = ""
    #: the vendor's name in messages ("PagerDuty", "Opsgenie")
    title = ""
    #: what a local incident is there ("incident", "alert")
    kind = "incident"

    def __init__(self, call: Call, account: Account) -> None:
        self._call = call
        self._account = account

    def apply(self, op: OutboxOp, link: RemoteLink | None) -> Applied | Superseded:
        if op.operation == "incident.create":
            return self._create(op)
        if link is None:
            # the pusher holds an incident's operations until its creation is confirmed
            raise RefusedError(f"{op.operation} before the incident reached {self.title}")
        if op.operation == "incident.note":
            return self._note(op, link)
        if op.operation == "incident.status":
            return self._status(op, link)
        if op.operation == "incident.severity":
            return self._severity(op, link)
        if op.operation == "incident.status_update":
            return self._status_update(op, link)
        raise RefusedError(f"{self.title} push does not know the operation {op.operation!r}")

    @abstractmethod
    def _read_path(self, link: RemoteLink) -> str:
        """The path that reads the remote incident (or alert) back."""

    @abstractmethod
    def _deleted(self, reply: Reply) -> bool:
        """The reply is the vendor's own "not found" (a 404 in its error format), not
        a 404 from something else on the way (a proxy, a wrong base URL)."""

    def _current(self, link: RemoteLink) -> Mapping[str, Any] | None:
        """The remote incident as the vendor has it now; None when it was deleted."""
        reply = self._call("GET", self._read_path(link), None, None)
        if self._deleted(reply):
            return None
        if not reply.ok:
            raise RefusedError(
                f"reading {self.title} {self.kind} {link.remote_id} answered "
                f"{reply.vendor_message()}; nothing was sent"
            )
        return self._unwrap(reply)

    @abstractmethod
    def _unwrap(self, reply: Reply) -> Mapping[str, Any]:
        """The incident (or alert) in a read's reply."""

    def _missing(self, link: RemoteLink, what: str, refusal: Reply) -> Superseded:
        """A request about the remote incident was answered 404 (``refusal``). Read
        the incident back: superseded only when the vendor confirms it is gone.
        Otherwise raises — RefusedError when the incident is there (the 404 meant
        something else: a person looks and retries), RetryableError when the read
        did not get through (tried again later)."""
        said = refusal.vendor_message()
        try:
            reply = self._call("GET", self._read_path(link), None, None)
        except RetryableError as error:
            raise RetryableError(
                f"{self.title} answered {said} to the {what}; reading {self.kind} "
                f"{link.remote_id} back to see whether it was deleted failed ({error}); "
                f"the {what} is kept and tried again",
                maybe_applied=False,
                unreachable=error.unreachable,
            ) from None
        if self._deleted(reply):
            return self._gone(link, what)
        if reply.ok:
            raise RefusedError(
                f"{self.title} answered {said} to the {what}, but {self.kind} "
                f"{link.remote_id} is there (read back just now), so it was not deleted; "
                f"the {what} was not sent: retry it (sync retry) or discard it"
            )
        raise RefusedError(
            f"{self.title} answered {said} to the {what}, and reading {self.kind} "
            f"{link.remote_id} back answered {reply.vendor_message()}; the {what} was not "
            "sent: check the account's base URL and rights, then retry it (sync retry)"
        )

    def _gone(self, link: RemoteLink, what: str) -> Superseded:
        return Superseded(
            f"{self.title} {self.kind} {link.remote_id} no longer exists (deleted there: "
            f"reading it back answered not found); the {what} was not sent"
        )

    def _expect(self, reply: Reply, link: RemoteLink, what: str) -> Superseded | None:
        """After a write about the remote incident: None when it went through; a
        404 is checked by :meth:`_missing`; any other refusal raises."""
        if reply.status == 404:
            return self._missing(link, what, reply)
        expect_ok(reply)
        return None

    @abstractmethod
    def _create(self, op: OutboxOp) -> Applied: ...

    @abstractmethod
    def _note(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...

    @abstractmethod
    def _status(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...

    @abstractmethod
    def _severity(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...

    @abstractmethod
    def _status_update(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...
