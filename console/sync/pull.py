"""Pull (remote → local): one engine, one source per vendor.

The puller is the pusher's mirror image. For every configured account (or the
vendors asked for) it opens the same ``Transport`` + ``Pacer`` +
``Backoff`` (console.sync.session), hands the source a call that already waits
out pacing, 429 and 5xx/network failures (up to ``PullPolicy.attempts`` tries,
cancellable), and lets the source fetch what it knows into a :class:`PullSink`.

Public shape (stable: the Opsgenie source is written against it)
----------------------------------------------------------------

``PullSource`` (a Protocol), one per vendor, built by a ``SourceFactory``
``(account, options) -> PullSource`` registered in :data:`SOURCES`::

    vendor: str
    def pull(self, call: Call, since: datetime | None, sink: PullSink,
             report: PullReport, cancelled: Callable[[], bool]) -> None

- ``call(method, path, params, body) -> Reply``: paced and retried; returns 2xx
  and 4xx replies; raises ``AuthRefusedError`` (401/403: the puller stops the
  account and ends), ``RetryableError`` / ``RateLimitedError`` when the tries
  are spent (the source gives up that set). A refused connection ends the
  whole pull at once (the network is not there; nothing is retried).
- ``since``: when this account's last incident pull ended (None: never);
  sources fetch incident changes from there (with a small overlap; the sink
  deduplicates).
- A source fetches each set *whole* before handing it to the sink: a page that
  fails or does not parse refuses the set (``report.fail(set, why)``) and
  nothing of it is written; the other sets go on. :meth:`PullReport.attempt`
  does this bookkeeping.
- ``cancelled()``: True once :meth:`Puller.cancel` was called; check it between
  pages.

``PullSink`` writes through the existing writers, each set in one transaction,
and records ``cache_sets`` (``<vendor>.<set>`` plus the shared ``people`` /
``schedules`` / ``catalog`` set) with the account as the source:

- ``store(set_name, parsed, report)``: a :class:`~console.importers.schedules.ParsedFile`
  (contacts, schedules with shifts and window, policies) as the vendor parsers
  (console.importers.vendors) produce it; what was stored and what the parser
  refused are counted in ``report``.
- ``services(set_name, services, edges)``: vendor services and their
  dependencies into the catalog (console.importers.catalog).
- ``incident_for(remote_id)``: the local incident a remote one is, via the
  ids the pusher recorded (None: not ours).
- ``own_ids()``: remote ids our own pushes created (notes), not to be pulled back.
- ``timeline(incident_id, entries)``: merge remote log entries, deduplicated
  by (vendor, remote id) in ``timeline_entries`` (a unique index).
- ``mark(set_name)``: record a set as fetched (the incident watermark).
- ``now()``: the puller's clock.

``PullReport``: per set ``{"fetched", "stored", ...}`` counts, ``requests``,
``errors``, ``stopped``; ``as_json()`` is the CLI's ``pulled`` entry.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import requests

from console.domain.clock import Clock, utc_now
from console.domain.errors import InvalidInputError, NotFoundError
from console.importers.catalog import CatalogImportReport, store_documents
from console.importers.contacts import store_contacts
from console.importers.oncall import PEOPLE_SET, SCHEDULES_SET, record_cache_set
from console.importers.schedules import ParsedFile, store_policies, store_schedules
from console.ops.incidents import IncidentService, RemoteEntry
from console.storage.db import Database
from console.storage.models import CacheSet, format_utc
from console.sync.accounts import Account, Accounts
from console.sync.http import Backoff, Pacer, Reply, Sleep, Timeouts
from console.sync.outcomes import AuthRefusedError, Call, RateLimitedError, RetryableError
from console.sync.session import open_account, paced_call
from console.sync.tokens import Tokens

log = logging.getLogger(__name__)

#: the set that carries the incident watermark (``since``)
INCIDENTS_SET = "incidents"
#: vendor services into the catalog
SERVICES_SET = "services"


@dataclass(frozen=True)
class PullPolicy:
    timeouts: Timeouts = field(default_factory=Timeouts)
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    #: tries per request before the set is given up (5xx, network, 429)
    attempts: int = 5
    #: the longest wait slept before a retry; longer ones give the set up
    max_inline_wait: float = 60.0


@dataclass(frozen=True)
class PullOptions:
    #: how far ahead on-calls are fetched (PagerDuty serves at most 90 days at once)
    days: int = 28
    #: how far back incidents are looked at on an account's first pull
    first_days: int = 7
    #: page size (PagerDuty's maximum is 100)
    limit: int = 100
    #: records a listing serves by offset (PagerDuty: 10,000)
    offset_cap: int = 10_000
    #: the phone region for national numbers (``GB``)
    region: str | None = None


class PullFailedError(Exception):
    """A page could not be fetched or read: its set is refused, nothing of it written."""


@dataclass
class PullReport:
    vendor: str
    #: per set: counts (fetched, stored, added, known, skipped …)
    sets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: sets refused (nothing written), with why
    failed: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None
    cancelled: bool = False

    def count(self, set_name: str, what: str, n: int = 1) -> None:
        counts = self.sets.setdefault(set_name, {})
        counts[what] = counts.get(what, 0) + n

    def fail(self, set_name: str, why: str) -> None:
        self.failed[set_name] = why
        self.errors.append(f"{self.vendor} {set_name}: {why}")
        log.warning("%s pull of %s refused: %s", self.vendor, set_name, why)

    @contextmanager
    def attempt(self, set_name: str) -> Iterator[None]:
        """Run one set's fetch: a failed or unreadable page refuses the set and the pull
        goes on; 401/403 and cancellation end the whole pull."""
        try:
            yield
        except PullFailedError as error:
            self.fail(set_name, str(error))
        except (RetryableError, RateLimitedError) as error:
            self.fail(set_name, f"gave up after retries: {error}")
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            # a reply of an unexpected shape the source did not check: this set is
            # refused (nothing of it written), the other sets go on
            log.warning("%s pull of %s: unreadable reply", self.vendor, set_name, exc_info=True)
            self.fail(
                set_name,
                f"a reply is not what the console expects ({type(error).__name__}: {error}); "
                "nothing of this set was stored, the next pull tries again",
            )

    def summary(self) -> str:
        """One line per account for people, then the errors."""
        sets = "; ".join(
            f"{name} " + ", ".join(f"{what} {n}" for what, n in counts.items() if n)
            for name, counts in sorted(self.sets.items())
        )
        lines = [f"Pulled from {self.vendor} ({self.requests} requests): {sets or 'nothing'}."]
        if self.stopped:
            lines.append(f"Stopped: {self.stopped}")
        lines += self.errors
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "sets": {name: dict(counts) for name, counts in sorted(self.sets.items())},
            "failed": dict(self.failed),
            "requests": self.requests,
            "errors": list(self.errors),
            "stopped": self.stopped,
            "cancelled": self.cancelled,
        }


class PullSink:
    """Where a source's sets go: the existing writers, one transaction per set."""

    def __init__(self, db: Database, account: Account, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._account = account
        self._clock = clock
        self._incidents = IncidentService(db, actor=account.vendor, clock=clock)
        self.source = f"{account.vendor}: {account.base_url}"

    @property
    def vendor(self) -> str:
        return self._account.vendor

    def _set_name(self, set_name: str) -> str:
        return f"{self._account.vendor}.{set_name}"[:32]

    def now(self) -> datetime:
        """The puller's clock (sources date their windows by it)."""
        return self._clock()

    def last_fetched(self, set_name: str) -> datetime | None:
        with self._db.reader() as session:
            row = session.get(CacheSet, self._set_name(set_name))
            return None if row is None else row.fetched_at

    def mark(self, set_name: str, at: datetime | None = None) -> None:
        with self._db.raw_writer() as raw:
            record_cache_set(
                raw, self._set_name(set_name), self.source, format_utc(at or self._clock())
            )

    def store(self, set_name: str, parsed: ParsedFile, report: PullReport) -> None:
        """Write one fetched set (contacts, schedules, policies) in one transaction, and
        count in ``report`` what it stored and what the parser refused (each refusal
        also one error line)."""
        for refusal in parsed.refused:
            report.errors.append(f"{report.vendor} {set_name}: {refusal.reason}")
        report.count(set_name, "refused", len(parsed.refused))
        for what, n in self._write(set_name, parsed).items():
            report.count(set_name, what, n)

    def _write(self, set_name: str, parsed: ParsedFile) -> dict[str, int]:
        now = format_utc(self._clock())
        counts: dict[str, int] = {}
        with self._db.raw_writer() as raw:
            if parsed.contacts:
                merged = store_contacts(raw, parsed.contacts, source=self.source, now=now)
                counts.update(
                    contacts_new=merged.new,
                    contacts_updated=merged.updated,
                    contacts_unchanged=merged.unchanged,
                    contacts_unknown=len(merged.unknown),
                )
                record_cache_set(raw, PEOPLE_SET, self.source, now)
            if parsed.schedules:
                stored = store_schedules(raw, parsed.schedules, source=self.source, now=now)
                counts.update(schedules=stored.schedules, shifts=stored.shifts)
            if parsed.policies:
                policies = store_policies(raw, parsed.policies, source=self.source, now=now)
                counts["policies"] = policies.policies
            if parsed.schedules or parsed.policies:
                record_cache_set(raw, SCHEDULES_SET, self.source, now)
            record_cache_set(raw, self._set_name(set_name), self.source, now)
        return counts

    def services(
        self, set_name: str, documents: Sequence[tuple[str, dict[str, Any]]]
    ) -> CatalogImportReport:
        """Vendor services as Backstage entity documents ((where, document)) into the
        catalog, replacing what this account brought last time; one transaction.
        Returns the catalog import's report (counts, problems)."""
        stored = store_documents(self._db, documents, root=self.source, clock=self._clock)
        self.mark(set_name)
        return stored

    def incident_for(self, remote_id: str) -> int | None:
        with self._db.raw_reader() as raw:
            row = raw.execute(
                "SELECT incident_id FROM remote_incidents WHERE account_id = ? AND remote_id = ?",
                (self._account.id, remote_id),
            ).fetchone()
        return None if row is None else int(row[0])

    def own_ids(self) -> set[str]:
        """Remote ids of what our pushes made (notes, status updates)."""
        with self._db.raw_reader() as raw:
            return {
                str(rid)
                for (rid,) in raw.execute(
                    "SELECT remote_id FROM outbox WHERE remote_id IS NOT NULL AND state = 'done'"
                )
            }

    def timeline(self, incident_id: int, entries: Sequence[RemoteEntry]) -> tuple[int, int]:
        """(added, already there). A closed or deleted local incident takes nothing."""
        try:
            added, known = self._incidents.merge_remote(incident_id, self.vendor, entries)
        except (InvalidInputError, NotFoundError):
            return 0, len(entries)
        return len(added), known


class PullSource(Protocol):
    vendor: str

    def pull(
        self,
        call: Call,
        since: datetime | None,
        sink: PullSink,
        report: PullReport,
        cancelled: Callable[[], bool],
    ) -> None: ...


SourceFactory = Callable[[Account, PullOptions], PullSource]


def _sources() -> dict[str, SourceFactory]:
    from console.sync.opsgenie_pull import OpsgenieSource
    from console.sync.pagerduty_pull import PagerDutySource

    return {"pagerduty": PagerDutySource, "opsgenie": OpsgenieSource}


#: vendor → source factory (filled lazily: the sources import this module)
SOURCES: dict[str, SourceFactory] = {}


class Puller:
    """Pulls every configured account (or ``vendors``) once per :meth:`run`."""

    def __init__(
        self,
        db: Database,
        tokens: Tokens,
        *,
        vendors: Sequence[str] | None = None,
        http: requests.Session | None = None,
        policy: PullPolicy = PullPolicy(),
        options: PullOptions = PullOptions(),
        clock: Clock = utc_now,
        sleep: Sleep | None = None,
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sources: Mapping[str, SourceFactory] | None = None,
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._vendors = vendors
        self._http = http or requests.Session()
        self._policy = policy
        self._options = options
        self._clock = clock
        self._cancel = threading.Event()
        self._sleep: Sleep = sleep or self._interruptible_sleep
        self._backoff = backoff or Backoff(policy.backoff_base, policy.backoff_cap, random.Random())
        self._monotonic = monotonic
        self._accounts = Accounts(db, clock=clock)
        if sources is None:
            if not SOURCES:
                SOURCES.update(_sources())
            sources = SOURCES
        self._sources = sources

    def cancel(self) -> None:
        """Cooperative: the pull ends after the request in flight; nothing half-written."""
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _interruptible_sleep(self, seconds: float) -> bool:
        return not self._cancel.wait(seconds)

    def run(self) -> list[PullReport]:
        vendors = self._vendors or [a.vendor for a in self._accounts.list()]
        return [self.pull(vendor) for vendor in vendors]

    def pull(self, vendor: str) -> PullReport:
        report = PullReport(vendor)
        account, transport, stopped, error = open_account(
            self._accounts, self._tokens, vendor, self._http, self._policy.timeouts
        )
        if error is not None:
            report.errors.append(error)
        report.stopped = stopped
        if account is None or transport is None:
            return report
        factory = self._sources.get(vendor)
        if factory is None:
            report.errors.append(f"pulling from {vendor} is not available in this version")
            return report

        def counted() -> None:
            report.requests += 1

        paced = paced_call(
            transport,
            Pacer(monotonic=self._monotonic),
            self._sleep,
            vendor=vendor,
            max_inline_wait=self._policy.max_inline_wait,
            counted=counted,
        )
        sink = PullSink(self._db, account, clock=self._clock)
        source = factory(account, self._options)
        try:
            source.pull(
                self._retrying(paced),
                sink.last_fetched(INCIDENTS_SET),
                sink,
                report,
                self.cancelled,
            )
        except AuthRefusedError as refused:
            message = f"{vendor} refused the token: {refused}; pull stopped"
            self._accounts.stop(account.id, message)
            report.stopped = message
            log.warning("%s", message)
        except _CancelledError:
            pass
        except _UnreachableError as unreachable:
            # connection refused: the network (or the vendor) is not there; no set is
            # tried further and nothing was written for the set in hand
            report.errors.append(f"{vendor} unreachable: {unreachable}")
        report.cancelled = self.cancelled()
        if report.sets and not report.failed and not report.cancelled:
            self._accounts.succeeded(account.id)
        return report

    def _retrying(self, call: Call) -> Call:
        def retried(method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> Reply:
            attempt = 0
            while True:
                if self._cancel.is_set():
                    raise _CancelledError
                attempt += 1
                try:
                    return call(method, path, params, body)
                except RateLimitedError as limited:
                    if attempt >= self._policy.attempts:
                        raise
                    wait = limited.wait
                except RetryableError as retry:
                    if retry.unreachable:
                        raise _UnreachableError(str(retry)) from None
                    if attempt >= self._policy.attempts:
                        raise
                    wait = self._backoff.delay(attempt)
                if wait > self._policy.max_inline_wait:
                    raise RetryableError(
                        f"{method} {path}: asked to wait {wait:.0f} s", maybe_applied=False
                    )
                if not self._sleep(wait):
                    raise _CancelledError

        return retried


class _CancelledError(Exception):
    pass


class _UnreachableError(Exception):
    pass
