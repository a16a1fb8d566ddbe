"""``sync status``: accounts, their health, the outbox's counts and what needs a decision."""

from __future__ import annotations

from typing import Any

from console.domain.clock import Clock, utc_now
from console.domain.freshness import describe_age
from console.ops.outbox import Outbox
from console.storage.db import Database
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
    return {
        "accounts": accounts,
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
