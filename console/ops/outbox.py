"""The outbox's writer path: what the sync engine records about each operation.

States of an outbox row::

    pending ──claim──▶ sent ──confirm──▶ done
       ▲                 │ ├──fail────▶ failed   (vendor refused it; retry or discard)
       └──release────────┘ └──supersede▶ superseded (remote incident gone/resolved)

``sent`` is written (durably) *before* a request leaves, so a row found in
``sent`` after a crash or a lost reply has an unknown outcome: the pusher
reconciles with a read before sending it again. ``release`` puts a row back to
``pending`` only when the vendor certainly did not apply it (connection
refused, 429, 401/403).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from console.domain.clock import Clock, utc_now
from console.domain.errors import InvalidInputError, NotFoundError
from console.domain.incident import EntryKind, Status
from console.domain.vendors import VENDOR_NAMES
from console.ops.incidents import _append_raw, _raw
from console.storage.db import Database
from console.storage.models import (
    Incident,
    OutboxRow,
    RemoteIncidentRow,
    SyncAccount,
    TimelineEntryRow,
)

#: states in which a row still waits to reach the vendor
WAITING = ("pending", "sent")
FINISHED = ("done", "superseded")


@dataclass(frozen=True)
class OutboxOp:
    """One outbox row as the sync engine sees it."""

    id: int
    uuid: uuid.UUID
    incident_id: int | None
    operation: str
    payload: Mapping[str, Any]
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_error: str | None
    remote_id: str | None

    @property
    def outcome_unknown(self) -> bool:
        """A request for it may have been applied: reconcile before sending again."""
        return self.state == "sent"


@dataclass(frozen=True)
class RemoteLink:
    incident_id: int
    remote_id: str
    dedup_key: str
    html_url: str | None


@dataclass(frozen=True)
class EndedHere:
    """This console's own resolution (or closing) of an incident, as it was sent."""

    #: "resolved" or "closed"
    verb: str
    at: datetime
    actor: str

    def describe(self) -> str:
        """ "resolved here at 2026-12-07 22:14 UTC by alice"."""
        at = self.at.astimezone(UTC) if self.at.tzinfo is not None else self.at
        return f"{self.verb} here at {at:%Y-%m-%d %H:%M} UTC by {self.actor}"


class LinkConflictError(Exception):
    """A vendor named, as an incident's remote id, one already linked here to another
    incident (or the incident is linked to another remote id already): recording it
    would tie two incidents to one remote object. The message says which."""


@dataclass(frozen=True)
class Blocked:
    """An incident whose waiting operations cannot be sent until a person decides:
    derived from the outbox (its creation's state) and the remote links, never stored."""

    incident_id: int
    #: the operation whose decision releases them: the creation (None: there is none)
    cause: OutboxOp | None
    #: why, in words a person can act on
    reason: str
    #: how many waiting operations it holds back
    waiting: int


class DependantsError(InvalidInputError):
    """Discarding an incident's creation would strand its later operations: the
    caller must say whether they go too (``with_dependants``)."""

    def __init__(self, message: str, dependants: Sequence[OutboxOp]) -> None:
        super().__init__(message)
        self.dependants = tuple(dependants)


def _op(row: OutboxRow) -> OutboxOp:
    return OutboxOp(
        id=row.id,
        uuid=row.uuid,
        incident_id=row.incident_id,
        operation=row.operation,
        payload=dict(row.payload),
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        remote_id=row.remote_id,
    )


class Outbox:
    """Reads and state changes of outbox rows; each method is one transaction."""

    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    # ------------------------------------------------------------------ reads

    def heads(self, limit: int = 200) -> list[OutboxOp]:
        """The oldest waiting row of each incident (at most ``limit`` incidents),
        oldest first: only a head may be sent, which keeps per-incident order."""
        with self._db.reader() as session:
            first = (
                select(func.min(OutboxRow.id))
                .where(OutboxRow.state.in_(WAITING))
                .group_by(OutboxRow.incident_id)
            )
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.id.in_(first)).order_by(OutboxRow.id).limit(limit)
            ).all()
            return [_op(row) for row in rows]

    def batch(self, incident_id: int, limit: int) -> list[OutboxOp]:
        """An incident's waiting rows, oldest first."""
        with self._db.reader() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.incident_id == incident_id, OutboxRow.state.in_(WAITING))
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
            return [_op(row) for row in rows]

    def get(self, op_id: int) -> OutboxOp:
        with self._db.reader() as session:
            row = session.get(OutboxRow, op_id)
            if row is None:
                raise NotFoundError(f"there is no outbox operation {op_id}")
            return _op(row)

    def listing(self, states: Sequence[str], limit: int = 100) -> list[OutboxOp]:
        with self._db.reader() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.state.in_(states))
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
            return [_op(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._db.reader() as session:
            return {
                state: count
                for state, count in session.execute(
                    select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
                )
            }

    def blocked(
        self,
        *,
        account_id: int | None = None,
        vendor: str | None = None,
        incident_id: int | None = None,
        limit: int = 200,
    ) -> list[Blocked]:
        """Incidents whose waiting operations cannot go until a person decides, the
        oldest first: their creation was refused (failed) or given up (superseded), or
        it went through but no remote id is known (to ``account_id``'s account, or to
        any account when None: the account it went through was removed). ``vendor``
        names the vendor in the reasons ("PagerDuty"; None: the one account's, if
        there is one). Reads the ``(state, incident_id, id)`` index, one creation row
        per held incident and a count: cheap enough for every pass and status read."""
        with self._db.reader() as session:
            if vendor is None:
                vendors = set(session.scalars(select(SyncAccount.vendor)))
                vendor = (
                    VENDOR_NAMES.get(vendors.pop(), "the vendor") if len(vendors) == 1 else None
                )
            heads = select(func.min(OutboxRow.id)).where(OutboxRow.state.in_(WAITING))
            if incident_id is not None:
                heads = heads.where(OutboxRow.incident_id == incident_id)
            # an incident's head is its creation unless that is decided (done, failed,
            # superseded): only incidents whose head is not a creation can be held
            candidates = [
                held
                for held in session.scalars(
                    select(OutboxRow.incident_id)
                    .where(
                        OutboxRow.id.in_(heads.group_by(OutboxRow.incident_id)),
                        OutboxRow.operation != "incident.create",
                        OutboxRow.incident_id.is_not(None),
                    )
                    .order_by(OutboxRow.id)
                )
                if held is not None
            ]
            if not candidates:
                return []
            creates: dict[int, OutboxRow] = {}
            for row in session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.state.in_(("done", "failed", "superseded")),
                    OutboxRow.incident_id.in_(candidates),
                    OutboxRow.operation == "incident.create",
                )
                .order_by(OutboxRow.id)
            ):
                assert row.incident_id is not None
                creates[row.incident_id] = row
            linked_query = select(RemoteIncidentRow.incident_id).where(
                RemoteIncidentRow.incident_id.in_(candidates)
            )
            if account_id is not None:
                linked_query = linked_query.where(RemoteIncidentRow.account_id == account_id)
            linked = set(session.scalars(linked_query))
            held: list[tuple[int, OutboxRow | None, str]] = []
            for candidate in candidates:
                cause = creates.get(candidate)
                reason = _held_because(cause, candidate in linked, vendor or "the vendor")
                if reason is not None:
                    held.append((candidate, cause, reason))
                    if len(held) >= limit:
                        break
            if not held:
                return []
            counts: dict[int | None, int] = {
                held_id: count
                for held_id, count in session.execute(
                    select(OutboxRow.incident_id, func.count())
                    .where(
                        OutboxRow.state.in_(WAITING),
                        OutboxRow.incident_id.in_([item[0] for item in held]),
                    )
                    .group_by(OutboxRow.incident_id)
                )
            }
            return [
                Blocked(
                    candidate,
                    None if cause is None else _op(cause),
                    reason,
                    counts.get(candidate, 0),
                )
                for candidate, cause, reason in held
            ]

    def held_operations(self, held: Sequence[Blocked], limit: int) -> list[OutboxOp]:
        """The waiting operations of the ``held`` incidents, oldest first (at most
        ``limit``): what ``sync status`` lists as blocked."""
        if not held:
            return []
        with self._db.reader() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.state.in_(WAITING),
                    OutboxRow.incident_id.in_([item.incident_id for item in held]),
                )
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
            return [_op(row) for row in rows]

    def dependants(self, op_id: int) -> list[OutboxOp]:
        """The waiting operations an incident's creation holds back (empty for any
        other operation)."""
        op = self.get(op_id)
        if op.operation != "incident.create" or op.incident_id is None:
            return []
        return [item for item in self.batch(op.incident_id, 10_000) if item.id != op.id]

    def ended_here(self, op: OutboxOp) -> EndedHere | None:
        """Whether the last status change of ``op``'s incident sent before it ended the
        incident (resolved, post-incident, closed) from here: then a remote incident
        found over is over because of us, not because someone there did it."""
        if op.incident_id is None:
            return None
        with self._db.reader() as session:
            row = session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.incident_id == op.incident_id,
                    OutboxRow.operation == "incident.status",
                    OutboxRow.id < op.id,
                    OutboxRow.state == "done",
                )
                .order_by(OutboxRow.id.desc())
                .limit(1)
            ).first()
            ended = (Status.RESOLVED.value, Status.POST_INCIDENT.value, Status.CLOSED.value)
            if row is None or row.payload.get("to") not in ended:
                return None
            entry = session.execute(
                select(TimelineEntryRow.occurred_at, TimelineEntryRow.author).where(
                    TimelineEntryRow.uuid == row.entry_uuid
                )
            ).first()
            at, actor = (row.created_at, "this console") if entry is None else entry
            verb = "closed" if row.payload["to"] == Status.CLOSED.value else "resolved"
            return EndedHere(verb, at, actor)

    def link(self, account_id: int, incident_id: int) -> RemoteLink | None:
        with self._db.reader() as session:
            row = session.scalars(
                select(RemoteIncidentRow).where(
                    RemoteIncidentRow.account_id == account_id,
                    RemoteIncidentRow.incident_id == incident_id,
                )
            ).first()
            if row is None:
                return None
            return RemoteLink(row.incident_id, row.remote_id, row.dedup_key, row.html_url)

    # ----------------------------------------------------------------- writes

    def claim(self, op_id: int) -> None:
        """Durably mark the row as on its way *before* the request leaves."""
        now = self._clock()
        with self._db.writer() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == op_id)
                .values(state="sent", attempts=OutboxRow.attempts + 1, updated_at=now)
            )

    def release(self, op_id: int, *, retry_at: datetime | None, error: str | None) -> None:
        """The vendor certainly did not apply it: back to pending."""
        self._set(op_id, state="pending", next_attempt_at=retry_at, last_error=error)

    def defer(self, op_id: int, *, retry_at: datetime, error: str) -> None:
        """The outcome is unknown (timeout, 5xx, dropped): stays ``sent`` to be reconciled."""
        self._set(op_id, state="sent", next_attempt_at=retry_at, last_error=error)

    def confirm(
        self,
        op_id: int,
        *,
        remote_id: str | None,
        link: tuple[int, RemoteLink] | None = None,
    ) -> None:
        """Done. ``link`` (account id, link) records the vendor's incident id with it.
        A remote id already linked to another incident raises :class:`LinkConflictError`
        and changes nothing (the vendor's answer is wrong or ambiguous: a person decides)."""
        now = self._clock()
        with self._db.writer() as session:
            if link is not None and not self._may_link(session, *link):
                link = None  # linked already, to the same remote object
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == op_id)
                .values(
                    state="done",
                    remote_id=remote_id,
                    updated_at=now,
                    next_attempt_at=None,
                    last_error=None,
                )
            )
            if link is not None:
                account_id, remote = link
                session.add(
                    RemoteIncidentRow(
                        incident_id=remote.incident_id,
                        account_id=account_id,
                        remote_id=remote.remote_id,
                        dedup_key=remote.dedup_key,
                        html_url=remote.html_url,
                        created_at=now,
                    )
                )

    @staticmethod
    def _may_link(session: Session, account_id: int, remote: RemoteLink) -> bool:
        """True when the link is new; False when it is there already; raises when the
        remote id (or the incident) is linked to something else."""
        rows = session.scalars(
            select(RemoteIncidentRow).where(
                RemoteIncidentRow.account_id == account_id,
                or_(
                    RemoteIncidentRow.remote_id == remote.remote_id,
                    RemoteIncidentRow.incident_id == remote.incident_id,
                ),
            )
        ).all()
        for row in rows:
            if row.incident_id == remote.incident_id and row.remote_id == remote.remote_id:
                return False
        for row in rows:
            if row.incident_id != remote.incident_id:
                title = session.scalar(select(Incident.title).where(Incident.id == row.incident_id))
                raise LinkConflictError(
                    f"{remote.remote_id} is already linked here to incident "
                    f"#{row.incident_id} {title!r}"
                )
            raise LinkConflictError(
                f"incident #{remote.incident_id} is already linked here to {row.remote_id}"
            )
        return True

    def fail(self, op_id: int, message: str) -> None:
        """The vendor refused this one operation; it waits for retry or discard."""
        self._set(op_id, state="failed", next_attempt_at=None, last_error=message)

    def supersede(self, op: OutboxOp, reason: str, *, actor: str) -> None:
        """The remote incident moved on; the reason goes on the incident's timeline."""
        now = self._clock()
        with self._db.writer() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == op.id)
                .values(state="superseded", last_error=reason, updated_at=now)
            )
            if op.incident_id is not None:
                # a closed incident's timeline takes no entries; the reason stays on
                # the outbox row, listed by `sync status`
                with contextlib.suppress(InvalidInputError):
                    _append_raw(
                        _raw(session),
                        now,
                        actor,
                        op.incident_id,
                        EntryKind.REMOTE,
                        f"Not sent: {reason}",
                        {"superseded_operation": str(op.uuid), "operation": op.operation},
                    )

    def retry(self, op_id: int) -> OutboxOp:
        """A failed operation goes back in the queue (the user's decision); so does a
        creation that holds its incident's operations back (given up, or gone through
        an account since removed: it is looked up by its dedup handle first). Its
        held operations then drain after it, in order."""
        op = self.get(op_id)
        if op.state == "failed":
            self._set(op_id, state="pending", next_attempt_at=None, last_error=None)
            return self.get(op_id)
        held = self._held(op)
        if held is not None and held.cause is not None and held.cause.id == op.id:
            # "sent": its outcome counts as unknown, so the driver looks for the remote
            # incident (by incident key, alias or tag) before making another
            state = "sent" if op.state == "done" else "pending"
            self._set(op_id, state=state, next_attempt_at=None, last_error=None)
            return self.get(op_id)
        if held is not None and held.cause is not None:
            raise InvalidInputError(
                f"operation {op_id} is blocked: {held.reason}. Retry operation "
                f"{held.cause.id} (the incident's creation) instead"
            )
        raise InvalidInputError(f"operation {op_id} is {op.state}, not failed or blocked")

    def discard(self, op_id: int, *, with_dependants: bool = False) -> OutboxOp:
        """A failed or blocked operation is given up (the user's decision, kept as
        superseded). Discarding an incident's creation that holds later operations
        back needs ``with_dependants`` (they are discarded with it, one transaction);
        without it :class:`DependantsError` names them and nothing changes."""
        op = self.get(op_id)
        held = self._held(op)
        dependants = self.dependants(op_id) if op.operation == "incident.create" else []
        is_cause = held is not None and held.cause is not None and held.cause.id == op.id
        if op.state != "failed" and not is_cause and held is None:
            raise InvalidInputError(f"operation {op_id} is {op.state}, not failed or blocked")
        if dependants and not with_dependants:
            listed = ", ".join(f"{d.id} ({d.operation})" for d in dependants[:10])
            more = f" and {len(dependants) - 10} more" if len(dependants) > 10 else ""
            raise DependantsError(
                f"operation {op_id} is the creation of incident #{op.incident_id}; its "
                f"{len(dependants)} later operation(s) {listed}{more} can never be sent "
                "without it and would be discarded too. Discard them with it "
                "(--with-dependants), or fix the cause and retry the creation",
                dependants,
            )
        now = self._clock()
        with self._db.writer() as session:
            # a creation given up already stays as it is; one that went through too
            if op.state == "failed" or op.state in WAITING:
                why = op.last_error if op.state == "failed" else None
                if why is None and held is not None:
                    why = held.reason
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id == op_id, OutboxRow.state == op.state)
                    .values(
                        state="superseded",
                        next_attempt_at=None,
                        updated_at=now,
                        last_error=f"discarded by the user: {why or 'no reason given'}",
                    )
                )
            if dependants:
                session.execute(
                    update(OutboxRow)
                    .where(
                        OutboxRow.id.in_([d.id for d in dependants]),
                        OutboxRow.state.in_(WAITING),
                    )
                    .values(
                        state="superseded",
                        next_attempt_at=None,
                        updated_at=now,
                        last_error="discarded by the user with the incident's creation "
                        f"(operation {op_id})",
                    )
                )
        return self.get(op_id)

    def _held(self, op: OutboxOp) -> Blocked | None:
        """The hold on ``op``'s incident when ``op`` is one of the held operations or
        the creation holding them."""
        if op.incident_id is None:
            return None
        for held in self.blocked(incident_id=op.incident_id):
            # every waiting operation of a held incident is held
            if op.state in WAITING or (held.cause is not None and held.cause.id == op.id):
                return held
        return None

    def _set(self, op_id: int, **values: Any) -> None:
        with self._db.writer() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == op_id)
                .values(updated_at=self._clock(), **values)
            )


def _held_because(create: OutboxRow | None, linked: bool, vendor: str) -> str | None:
    """Why an incident's waiting operations (its creation not among them) cannot go;
    None when they can (the creation went through and the remote id is known)."""
    if create is None:
        return "its incident's creation was never queued, so these cannot be sent"
    if create.state == "failed":
        return (
            f"waiting on the incident's creation (operation {create.id}), which {vendor} "
            f"refused: {create.last_error or 'no reason given'}"
        )
    if create.state == "superseded":
        return (
            f"waiting on the incident's creation (operation {create.id}), which was "
            f"given up ({create.last_error or 'discarded'})"
        )
    if create.state == "done" and not linked:
        return (
            f"the incident's creation (operation {create.id}) went through, but {vendor}'s "
            "id for it is not known here (was the account it went through removed?)"
        )
    return None
