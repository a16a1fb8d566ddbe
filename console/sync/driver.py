"""What every vendor driver shares: the outbox operations it is asked to apply.

A driver maps one outbox operation onto its vendor's API (console.sync.pagerduty,
console.sync.opsgenie). :class:`VendorDriver` routes each operation to the
method for it; a subclass supplies the five methods and its ``vendor`` name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from console.domain.incident import Status
from console.ops.outbox import OutboxOp, RemoteLink
from console.sync.accounts import Account
from console.sync.outcomes import Applied, Call, RefusedError, Superseded

#: local states in which the incident is over: a remote resolution then is no conflict
RESOLVED_LOCALLY = (Status.RESOLVED, Status.POST_INCIDENT, Status.CLOSED)


class VendorDriver(ABC):
    vendor = ""
    #: the vendor's name in messages ("PagerDuty", "Opsgenie")
    title = ""

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
    def _create(self, op: OutboxOp) -> Applied: ...

    @abstractmethod
    def _note(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...

    @abstractmethod
    def _status(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...

    @abstractmethod
    def _severity(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...

    @abstractmethod
    def _status_update(self, op: OutboxOp, link: RemoteLink) -> Applied | Superseded: ...
