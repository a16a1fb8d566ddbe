"""``sync status``: accounts, their health, the outbox's counts and what needs a decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from console.domain.clock import Clock, utc_now
from console.domain.freshness import describe_age
from console.ops.outbox import Outbox
from console.storage.db import Database
from console.storage.models import CacheSet
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
    return {
        "accounts": accounts,
        "pulled": pulled_sets(db, now),
        "keyring": tokens.keyring_name if tokens.keyring_available() else None,
        "outbox": {
            state: counts.get(state, 0)
            for state in ("pending", "sent", "done", "failed", "superseded")
        },
        "failed": [
            {
                "id": op.id,
                "incident_id": op.incident_id,
                "operation": op.operation,
                "attempts": op.attempts,
                "error": op.last_error,
            }
            for op in outbox.listing(("failed",), LISTED)
        ],
        "superseded": [
            {
                "id": op.id,
                "incident_id": op.incident_id,
                "operation": op.operation,
                "reason": op.last_error,
            }
            for op in outbox.listing(("superseded",), LISTED)
        ],
    }


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
