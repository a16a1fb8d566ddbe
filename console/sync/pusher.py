"""The outbox drain: one pass, then say when to run the next.

One engine, three callers (STYLE §2): the window schedules passes on a timer,
``sync once`` runs one, a loop runs many. A pass takes each incident's waiting
operations oldest first, stops at the first that does not go through (so order
is kept: an incident's later operations wait for its creation), and goes on to
the next incident. Waits up to ``SyncPolicy.max_inline_wait`` (pacing,
Retry-After, back-off) are slept inside the pass; longer ones end it with
``next_run_in``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import requests

from console.domain.clock import Clock, utc_now
from console.ops.outbox import LinkConflictError, Outbox, OutboxOp, RemoteLink
from console.storage.db import Database
from console.sync import opsgenie, pagerduty
from console.sync.accounts import VENDOR_NAMES, Account, Accounts
from console.sync.http import Backoff, Pacer, Reply, Sleep, Timeouts, Transport
from console.sync.outcomes import (
    Applied,
    AuthRefusedError,
    Call,
    RateLimitedError,
    RefusedError,
    RetryableError,
    Superseded,
)
from console.sync.session import open_account, paced_call
from console.sync.tokens import Tokens

log = logging.getLogger(__name__)

#: operations of one incident fetched per visit
BATCH = 100
#: what reading a vendor reply of an unexpected shape raises (a field missing, of
#: another type, not a number …): the operation fails, the pass goes on
VENDOR_SURPRISES = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass(frozen=True)
class SyncPolicy:
    timeouts: Timeouts = field(default_factory=Timeouts)
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    #: waits up to this many seconds are slept inside a pass
    max_inline_wait: float = 5.0
    #: a pass ends after this long even with work left (the window stays responsive)
    max_pass_seconds: float = 600.0


@dataclass
class PassReport:
    vendor: str | None
    pushed: int = 0
    superseded: int = 0
    failed: int = 0
    #: operations put back to be retried later (5xx, network, rate limit)
    deferred: int = 0
    #: operations still waiting when the pass ended (those held back not counted)
    waiting: int = 0
    #: operations held back until a person decides (their incident's creation was
    #: refused or given up, or its remote id is unknown): ``sync status`` says why
    blocked: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)
    #: seconds until the next pass should run; None: nothing left to do
    next_run_in: float | None = None
    requests: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "pushed": self.pushed,
            "superseded": self.superseded,
            "failed": self.failed,
            "deferred": self.deferred,
            "waiting": self.waiting,
            "blocked": self.blocked,
            "stopped": self.stopped,
            "errors": list(self.errors),
            "next_run_in": self.next_run_in,
            "requests": self.requests,
        }


class _UnreachableError(Exception):
    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class Driver(Protocol):
    vendor: str

    def apply(self, op: OutboxOp, link: RemoteLink | None) -> Applied | Superseded: ...


DriverFactory = Callable[[Call, Account], Driver]

DRIVERS: Mapping[str, DriverFactory] = {
    "pagerduty": pagerduty.PagerDutyDriver,
    "opsgenie": opsgenie.driver,
}


class Pusher:
    """Drains the outbox to the account of ``vendor``, or with ``vendor=None`` to the one
    account there is (the driver is picked by the account's vendor; the outbox is
    shared, so two accounts need a choice). Collaborators are passed in."""

    def __init__(
        self,
        db: Database,
        tokens: Tokens,
        *,
        vendor: str | None = None,
        http: requests.Session | None = None,
        policy: SyncPolicy = SyncPolicy(),
        clock: Clock = utc_now,
        sleep: Sleep | None = None,
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        actor: str = "sync",
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._vendor = vendor
        self._http = http or requests.Session()
        self._policy = policy
        self._clock = clock
        self._cancel = threading.Event()
        self._sleep: Sleep = sleep or self._interruptible_sleep
        self._backoff = backoff or Backoff(policy.backoff_base, policy.backoff_cap)
        self._monotonic = monotonic
        self._pacer = Pacer(monotonic=monotonic)
        self._outbox = Outbox(db, clock=clock)
        self._accounts = Accounts(db, clock=clock)
        self._actor = actor
        #: the last request of the operation in hand and its reply (for messages)
        self._last_reply: tuple[str, str, Reply] | None = None

    def cancel(self) -> None:
        """Cooperative: the pass ends after the request in flight."""
        self._cancel.set()

    def _interruptible_sleep(self, seconds: float) -> bool:
        return not self._cancel.wait(seconds)

    # ------------------------------------------------------------------ pass

    def run_pass(self) -> PassReport:
        report = PassReport(self._vendor)
        vendor = self._pick_vendor(report)
        if vendor is None:
            return self._finish(report)
        self._vendor = report.vendor = vendor
        account, transport, stopped, error = open_account(
            self._accounts, self._tokens, vendor, self._http, self._policy.timeouts
        )
        if error is not None:
            report.errors.append(error)
        report.stopped = stopped
        if account is None or transport is None:
            return self._finish(report, account)
        driver = DRIVERS[vendor](self._caller(transport, report, vendor), account)
        ended = self._monotonic() + self._policy.max_pass_seconds
        try:
            while not self._cancel.is_set() and self._monotonic() < ended:
                progressed, wait = self._round(driver, account, report, ended)
                if progressed:
                    continue
                if wait is None or wait > self._policy.max_inline_wait:
                    report.next_run_in = wait
                    break
                if not self._sleep(wait):
                    break
        except _UnreachableError as unreachable:
            # connection refused: the network (or the vendor) is not there; the caller's
            # timer (or connectivity coming back) starts the next pass
            report.errors.append(str(unreachable))
            report.next_run_in = unreachable.retry_in
        except AuthRefusedError as refused:
            message = f"{self._vendor} refused the token: {refused}; everything stays queued"
            self._accounts.stop(account.id, message)
            report.stopped = message
            log.warning("%s", message)
        if report.pushed or report.superseded:
            self._accounts.succeeded(account.id)
        return self._finish(report, account)

    def _pick_vendor(self, report: PassReport) -> str | None:
        """The vendor asked for, else the one account's (the outbox is one queue, so
        with two accounts the caller must choose)."""
        if self._vendor is not None:
            return self._vendor
        accounts = self._accounts.list()
        if len(accounts) == 1:
            return accounts[0].vendor
        if accounts:
            names = ", ".join(a.vendor for a in accounts)
            report.errors.append(
                f"there are several accounts ({names}) and one outbox: choose the vendor "
                "to push to (sync once --vendor NAME)"
            )
        else:
            report.errors.append("no sync account: add one with `responder-console account add`")
        return None

    def _finish(self, report: PassReport, account: Account | None = None) -> PassReport:
        counts = self._outbox.counts()
        held = self._outbox.blocked(
            account_id=None if account is None else account.id,
            vendor=self._title(),
            limit=100_000,
        )
        report.blocked = sum(item.waiting for item in held)
        # held operations wait for a person, not for the next pass
        report.waiting = counts.get("pending", 0) + counts.get("sent", 0) - report.blocked
        if report.waiting and report.next_run_in is None and not report.stopped:
            report.next_run_in = self._policy.max_inline_wait
        return report

    def _round(
        self, driver: Driver, account: Account, report: PassReport, ended: float
    ) -> tuple[bool, float | None]:
        """Visit each incident with waiting work once. Returns (anything done, the
        shortest wait until something is due)."""
        progressed = False
        wait: float | None = None
        for head in self._outbox.heads():
            if self._cancel.is_set() or self._monotonic() >= ended:
                return progressed, 0.0
            for op in self._queue(head):
                due = self._due_in(op)
                if due > 0:
                    wait = due if wait is None else min(wait, due)
                    break
                link = self._link(op, account)
                if link is None and op.operation != "incident.create":
                    break  # waits for its incident's creation (or a decision on it)
                pace = self._pacer.wait_time()
                if pace > self._policy.max_inline_wait:
                    return progressed, pace  # ends the pass before claiming anything
                if not self._one(driver, account, op, link, report):
                    progressed = True  # the attempt itself is progress; order stops here
                    break
                progressed = True
        return progressed, wait

    def _queue(self, head: OutboxOp) -> list[OutboxOp]:
        if head.incident_id is None:
            return [head]
        return self._outbox.batch(head.incident_id, BATCH)

    def _due_in(self, op: OutboxOp) -> float:
        if op.next_attempt_at is None:
            return 0.0
        return max(0.0, (op.next_attempt_at - self._clock()).total_seconds())

    def _link(self, op: OutboxOp, account: Account) -> RemoteLink | None:
        if op.incident_id is None:
            return None
        return self._outbox.link(account.id, op.incident_id)

    def _one(
        self,
        driver: Driver,
        account: Account,
        op: OutboxOp,
        link: RemoteLink | None,
        report: PassReport,
    ) -> bool:
        """Send one operation. True when it is finished (done, superseded, failed)."""
        self._outbox.claim(op.id)
        self._last_reply = None
        try:
            result = driver.apply(op, link)
        except RefusedError as refused:
            return self._failed(op, str(refused), report)
        except VENDOR_SURPRISES as surprise:
            # a reply the driver could not read (a field missing, of another type …):
            # an error on this one operation, never the end of the pass
            log.warning("%s operation %s: unreadable reply", self._vendor, op.id, exc_info=True)
            return self._failed(op, self._unreadable(surprise), report)
        except RateLimitedError as limited:
            self._back(op, maybe_applied=False, retry_in=limited.wait, error=str(limited))
            report.deferred += 1
            return False
        except RetryableError as retry:
            delay = self._backoff.delay(op.attempts + 1)
            self._back(op, maybe_applied=retry.maybe_applied, retry_in=delay, error=str(retry))
            self._accounts.errored(account.id, str(retry))
            report.deferred += 1
            if retry.unreachable:
                raise _UnreachableError(str(retry), delay) from None
            return False
        except AuthRefusedError:
            self._back(op, maybe_applied=False, retry_in=None, error=None)
            raise
        if isinstance(result, Superseded):
            self._outbox.supersede(op, self._reason(op, result), actor=self._actor)
            report.superseded += 1
            return True
        assert op.incident_id is not None or result.link is None
        try:
            self._outbox.confirm(
                op.id,
                remote_id=result.remote_id,
                link=(account.id, result.link)
                if result.link is not None and link is None
                else None,
            )
        except LinkConflictError as conflict:
            title = self._title()
            return self._failed(
                op,
                f"{title} answered that this incident is its {result.remote_id}, but "
                f"{conflict}; nothing was linked. Look at {result.remote_id} in {title} "
                "(a merge, or an alias or key shared by two incidents?), then retry or "
                "discard this operation",
                report,
            )
        report.pushed += 1
        return True

    def _reason(self, op: OutboxOp, superseded: Superseded) -> str:
        """The driver's reason, unless the remote incident is over because this console
        ended it: then when and by whom (not "resolved there meanwhile")."""
        over = superseded.over
        here = None if over is None else self._outbox.ended_here(op)
        if over is None or here is None:
            return superseded.reason
        cannot = f" and {over.cannot}" if over.cannot else ""
        return f"{over.remote} was {here.describe()}{cannot}; the {over.what} was not sent"

    def _failed(self, op: OutboxOp, message: str, report: PassReport) -> bool:
        self._outbox.fail(op.id, message)
        report.failed += 1
        report.errors.append(f"operation {op.id} ({op.operation}): {message}")
        log.warning("%s operation %s refused: %s", self._vendor, op.id, message)
        # a refused creation holds its incident back; a refused note does not
        return op.operation != "incident.create"

    def _title(self) -> str:
        return VENDOR_NAMES.get(self._vendor or "", self._vendor or "the vendor")

    def _unreadable(self, surprise: Exception) -> str:
        """What a reply the driver could not read looked like (its shape, never its
        values: a vendor's text may echo what it was sent) and what to do."""
        title = self._title()
        last = self._last_reply
        if last is None:
            where = f"{title}'s reply"
        else:
            method, path, reply = last
            where = (
                f"{title}'s reply to {method} {path} (HTTP {reply.status}, {_shape(reply.body)})"
            )
        return (
            f"{where} is not what the console expects ({type(surprise).__name__}: "
            f"{surprise}). The operation may have been applied there: check the incident "
            f"in {title}, then retry or discard this operation"
        )

    def _back(
        self, op: OutboxOp, *, maybe_applied: bool, retry_in: float | None, error: str | None
    ) -> None:
        retry_at = None if retry_in is None else self._clock() + timedelta(seconds=retry_in)
        if maybe_applied or op.outcome_unknown:
            self._outbox.defer(op.id, retry_at=retry_at or self._clock(), error=error or "")
        else:
            self._outbox.release(op.id, retry_at=retry_at, error=error)

    # --------------------------------------------------------------- requests

    def _caller(self, transport: Transport, report: PassReport, vendor: str) -> Call:
        def counted() -> None:
            report.requests += 1

        paced = paced_call(
            transport,
            self._pacer,
            self._sleep,
            vendor=vendor,
            max_inline_wait=self._policy.max_inline_wait,
            counted=counted,
        )

        def remembered(
            method: str, path: str, params: Mapping[str, Any] | None, body: Any
        ) -> Reply:
            reply = paced(method, path, params, body)
            self._last_reply = (method, path, reply)
            return reply

        return remembered


def _shape(body: Any) -> str:
    """A reply body's shape in words: "a JSON object with data, requestId"."""
    if isinstance(body, dict):
        keys = ", ".join(str(key) for key in list(body)[:8])
        return f"a JSON object with {keys}" if keys else "an empty JSON object"
    if isinstance(body, list):
        return f"a JSON list of {len(body)}"
    if body is None:
        return "no JSON body"
    return f"a JSON {type(body).__name__}"
