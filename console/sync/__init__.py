"""Sync with PagerDuty and Opsgenie: accounts, tokens, the outbox drain.

Public API: :class:`Accounts`, :class:`Tokens`, :class:`Pusher` with
:class:`SyncPolicy` and :class:`PassReport`, and :func:`sync_status`.
Pull (remote → local) will be a second engine beside the pusher, sharing the
transport, pacer and accounts.
"""

from console.sync.accounts import Account, Accounts
from console.sync.pusher import PassReport, Pusher, SyncPolicy
from console.sync.status import sync_status
from console.sync.tokens import NoKeyringError, Tokens

__all__ = [
    "Account",
    "Accounts",
    "NoKeyringError",
    "PassReport",
    "Pusher",
    "SyncPolicy",
    "Tokens",
    "sync_status",
]
