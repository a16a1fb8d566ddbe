"""``sync status``: accounts, their health, the outbox's counts and what needs a decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from console.domain.clock import Clock, utc_now
from console.domain.freshness import describe_age
from console.ops.outbox import WAITING, Outbox
from console.storage.db import Database
from console.storage.models import Incident, OutboxRow
from console.sync.accounts import Accounts
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
    titles = _titles(db, {op.incident_id for op in failed + superseded})
    return {
        "accounts": accounts,
        "keyring": tokens.keyring_name if tokens.keyring_available() else None,
        "outbox": {
            state: counts.get(state, 0)
            for state in ("pending", "sent", "done", "failed", "superseded")
        },
        "queued": queued_by_incident(db, LISTED),
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
    """Waiting operations per incident, the incident with the oldest first; the last
    error says why one is held back (back-off, unknown outcome being reconciled)."""
    with db.reader() as session:
        rows = session.execute(
            select(
                OutboxRow.incident_id,
                Incident.title,
                func.count(),
                func.min(OutboxRow.created_at),
                func.max(OutboxRow.next_attempt_at),
                func.max(OutboxRow.last_error),
            )
            .outerjoin(Incident, Incident.id == OutboxRow.incident_id)
            .where(OutboxRow.state.in_(WAITING))
            .group_by(OutboxRow.incident_id, Incident.title)
            .order_by(func.min(OutboxRow.id))
            .limit(limit)
        ).all()
    return [
        {
            "incident_id": incident_id,
            "title": title,
            "waiting": count,
            "oldest": oldest.isoformat(),
            "retry_at": None if retry_at is None else retry_at.isoformat(),
            "error": error,
        }
        for incident_id, title, count, oldest, retry_at, error in rows
    ]
