"""What one vendor request or operation came to, as the pusher acts on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console.ops.outbox import OutboxOp, RemoteLink
from console.sync.http import Reply


@dataclass(frozen=True)
class Applied:
    """The vendor has it (now, or it already had it: found by a reconciling read)."""

    remote_id: str | None
    link: RemoteLink | None = None


@dataclass(frozen=True)
class Over:
    """Why a superseded operation is moot when the remote incident is over (resolved,
    closed): the pusher words the reason by who ended it, this console (when, by whom)
    or someone at the vendor."""

    #: the remote object: "PagerDuty incident P123", "Opsgenie alert 7f3…"
    remote: str
    #: the operation not sent: "severity change to SEV1"
    what: str
    #: what the vendor cannot do even when the resolution was ours ("" if nothing)
    cannot: str = ""


@dataclass(frozen=True)
class Superseded:
    """The remote incident moved on (resolved, merged, deleted); not sent, not retried."""

    #: the reason when the vendor's side did it (resolved there meanwhile, deleted)
    reason: str
    #: set when the remote incident is over: the pusher then checks whether this
    #: console resolved it and says so instead of ``reason``
    over: Over | None = None


class RefusedError(Exception):
    """The vendor refused this one operation (a 4xx other than 401/403/429)."""


class AuthRefusedError(Exception):
    """401/403: the token is wrong or lacks rights; the account stops, all stays queued."""


class RateLimitedError(Exception):
    """429, or the pacer's wait is longer than a pass may sleep; certainly not applied."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.wait = wait


class RetryableError(Exception):
    """5xx or a network failure; ``maybe_applied`` asks for a reconciling read first."""

    def __init__(self, message: str, *, maybe_applied: bool, unreachable: bool = False) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied
        #: the connection was refused: the pass ends instead of trying other incidents
        self.unreachable = unreachable


#: one paced, classified request: (method, path, params, body) → a 2xx or 4xx reply
Call = Callable[[str, str, Mapping[str, Any] | None, Any], Reply]


def marker(op: OutboxOp) -> str:
    """The tag a note carries so a read-back can tell whether it already arrived
    (notes have no dedup handle at either vendor)."""
    return f"[rc:{op.uuid.hex}]"


def dedup_key(op: OutboxOp) -> str:
    """The vendor's dedup handle of an incident's creation: the local incident UUID."""
    return str(op.payload["incident_uuid"])


def expect_ok(reply: Reply) -> None:
    if not reply.ok:
        raise RefusedError(reply.vendor_message())
