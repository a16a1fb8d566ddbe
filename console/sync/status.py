"""``sync status``: accounts, their health, the outbox's counts and what needs a decision
(failed operations, and the operations they block, each with the reason)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from console.domain.clock import Clock, utc_now
from console.domain.freshness import describe_age
from console.ops.outbox import WAITING, Outbox
from console.storage.db import Database
from console.storage.models import CacheSet, Incident, OutboxRow
from console.sync.accounts import VENDORS, Accounts
from console.sync.tokens import Tokens

#: failed and superseded operations listed (the counts cover all)
LISTED = 50


def sync_status(db: Database, tokens: Tokens, *, clock: Clock = utc_now) -> dict[str, Any]:
    outbox = Outbox(db, clock=clock)
    now = clock()
    accounts = []
    for account in Accounts(db, clock=clock).list():
        document = account.as_json()
        document["token"] = tokens.source(account.vendor)
        document["last_success_age"] = describe_age(account.last_success_at, now)
        accounts.append(document)
    counts = outbox.counts()
    failed = outbox.listing(("failed",), LISTED)
    superseded = outbox.listing(("superseded",), LISTED)
    held = outbox.blocked(limit=100_000)
    reasons = {item.incident_id: item for item in held}
    blocked = [
        (reasons[op.incident_id], op)
        for op in outbox.held_operations(held, LISTED)
        if op.incident_id is not None
    ]
    titles = _titles(
        db, {op.incident_id for op in failed + superseded} | {item.incident_id for item in held}
    )
    queued = queued_by_incident(db, LISTED)
    for group in queued:
        hold = reasons.get(group["incident_id"])
        group["blocked"] = None if hold is None else hold.reason
        group["cause"] = None if hold is None or hold.cause is None else hold.cause.id
    return {
        "accounts": accounts,
        "pulled": pulled_sets(db, now),
        "keyring": tokens.keyring_name if tokens.keyring_available() else None,
        "outbox": {
            state: counts.get(state, 0)
            for state in ("pending", "sent", "done", "failed", "superseded")
        }
        # pending and sent include the blocked ones; "blocked" says how many of them
        | {"blocked": sum(item.waiting for item in held)},
        "queued": queued,
        "failed": [
            {
                "id": op.id,
                "incident_id": op.incident_id,
                "title": titles.get(op.incident_id),
                "operation": op.operation,
                "attempts": op.attempts,
                "error": op.last_error,
            }
            for op in failed
        ],
        # held back until a person decides; "cause" is the operation whose retry
        # releases them, or whose discard (with its dependants) gives them up
        "blocked": [
            {
                "id": op.id,
                "incident_id": op.incident_id,
                "title": titles.get(op.incident_id),
                "operation": op.operation,
                "reason": item.reason,
                "cause": None if item.cause is None else item.cause.id,
                "cause_state": None if item.cause is None else item.cause.state,
            }
            for item, op in blocked
        ],
        "superseded": [
            {
                "id": op.id,
                "incident_id": op.incident_id,
                "title": titles.get(op.incident_id),
                "operation": op.operation,
                "reason": op.last_error,
            }
            for op in superseded
        ],
    }


def _titles(db: Database, incident_ids: set[int | None]) -> dict[int | None, str]:
    wanted = [incident_id for incident_id in incident_ids if incident_id is not None]
    if not wanted:
        return {}
    with db.reader() as session:
        rows = session.execute(select(Incident.id, Incident.title).where(Incident.id.in_(wanted)))
        return {incident_id: title for incident_id, title in rows}


def queued_by_incident(db: Database, limit: int) -> list[dict[str, Any]]:
    """Waiting operations per incident, the incident with the oldest first.

    ``oldest``, ``retry_at`` and ``error`` are the incident's head operation's: the
    one the pusher sends next, which holds the rest back. The grouping reads only
    the ``(state, incident_id, id)`` index; rows are fetched for the heads listed.
    """
    with db.reader() as session:
        groups = session.execute(
            select(OutboxRow.incident_id, func.count(), func.min(OutboxRow.id))
            .where(OutboxRow.state.in_(WAITING))
            .group_by(OutboxRow.incident_id)
            .order_by(func.min(OutboxRow.id))
            .limit(limit)
        ).all()
        # columns, not entities: the ORM's per-query row set-up costs more than the rows
        heads = {
            head: (created_at, retry_at, error, title)
            for head, created_at, retry_at, error, title in session.execute(
                select(
                    OutboxRow.id,
                    OutboxRow.created_at,
                    OutboxRow.next_attempt_at,
                    OutboxRow.last_error,
                    Incident.title,
                )
                .outerjoin(Incident, Incident.id == OutboxRow.incident_id)
                .where(OutboxRow.id.in_([head for _, _, head in groups]))
            )
        }
    queued = []
    for incident_id, count, head in groups:
        created_at, retry_at, error, title = heads[head]
        queued.append(
            {
                "incident_id": incident_id,
                "title": title,
                "waiting": count,
                "oldest": created_at.isoformat(),
                "retry_at": None if retry_at is None else retry_at.isoformat(),
                "error": error,
            }
        )
    return queued


def pulled_sets(db: Database, now: datetime) -> dict[str, dict[str, str | None]]:
    """The sets a pull filled (``<vendor>.<set>`` rows of cache_sets): when, from where,
    and how long ago."""
    with db.reader() as session:
        rows = session.scalars(
            select(CacheSet).where(
                or_(*(CacheSet.name.startswith(f"{vendor}.") for vendor in VENDORS))
            )
        ).all()
        return {
            row.name: {
                "fetched_at": row.fetched_at.isoformat(),
                "age": describe_age(row.fetched_at, now),
                "source": row.source,
            }
            for row in sorted(rows, key=lambda r: r.name)
        }
