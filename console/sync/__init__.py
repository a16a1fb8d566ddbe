"""Sync with PagerDuty (and, next, Opsgenie): accounts, tokens, the outbox drain, the pull.

Public API: :class:`Accounts`, :class:`Tokens`, :class:`Pusher` with
:class:`SyncPolicy` and :class:`PassReport`, :class:`Puller` with
:class:`PullPolicy`, :class:`PullOptions` and :class:`PullReport` (the source
protocol is in console.sync.pull), and :func:`sync_status`. Both engines share
the account set-up, transport and pacing (console.sync.session).
"""

from console.sync.accounts import Account, Accounts
from console.sync.pull import Puller, PullOptions, PullPolicy, PullReport
from console.sync.pusher import PassReport, Pusher, SyncPolicy
from console.sync.status import sync_status
from console.sync.tokens import NoKeyringError, Tokens

__all__ = [
    "Account",
    "Accounts",
    "NoKeyringError",
    "PassReport",
    "PullOptions",
    "PullPolicy",
    "PullReport",
    "Puller",
    "Pusher",
    "SyncPolicy",
    "Tokens",
    "sync_status",
]
