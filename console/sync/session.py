"""What the pusher and the puller share: opening an account's transport and the
paced, classified call.

One account, one token, one ``Transport`` and one ``Pacer`` per engine run; the
call spaces requests by the vendor's rate-limit headers and turns replies and
network failures into the outcomes of console.sync.outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from console.sync import opsgenie, pagerduty
from console.sync.accounts import Account, Accounts
from console.sync.http import NetworkError, Pacer, Reply, Sleep, Timeouts, Transport
from console.sync.outcomes import AuthRefusedError, Call, RateLimitedError, RetryableError
from console.sync.tokens import ENV_VARS, Tokens

#: the vendor's request headers (token, version, From)
HEADERS: dict[str, Callable[[Account, str], dict[str, str]]] = {
    "pagerduty": pagerduty.headers,
    "opsgenie": opsgenie.headers,
}


def open_account(
    accounts: Accounts,
    tokens: Tokens,
    vendor: str,
    http: requests.Session,
    timeouts: Timeouts,
) -> tuple[Account | None, Transport | None, str | None, str | None]:
    """(account, transport, stopped reason, error): a transport when the account
    exists, is not stopped and has a token; else why not."""
    account = accounts.find(vendor)
    if account is None:
        return None, None, None, f"no {vendor} account"
    if account.stopped_reason:
        return account, None, account.stopped_reason, None
    token = tokens.get(vendor)
    if token is None:
        stopped = (
            f"no {vendor} token: store one with `responder-console account add "
            f"{vendor}` or set {ENV_VARS[vendor]}"
        )
        return account, None, stopped, None
    if vendor not in HEADERS:
        return account, None, None, f"{vendor} sync is not available in this version"
    transport = Transport(
        http,
        base_url=account.base_url,
        headers=HEADERS[vendor](account, token),
        timeouts=timeouts,
        secrets=(token,),
    )
    return account, transport, None, None


def paced_call(
    transport: Transport,
    pacer: Pacer,
    sleep: Sleep,
    *,
    vendor: str,
    max_inline_wait: float,
    counted: Callable[[], None],
) -> Call:
    """One request: wait for the pacer (up to ``max_inline_wait``), send, classify.

    Returns 2xx and 4xx (other than 401/403/429) replies; raises RateLimitedError,
    AuthRefusedError or RetryableError (5xx, network)."""

    def call(method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> Reply:
        pace = pacer.wait_time()
        if pace > max_inline_wait:
            raise RateLimitedError(f"pacing for the {vendor} rate limit", pace)
        if pace > 0:
            sleep(pace)
        pacer.sent()
        counted()
        try:
            reply = transport.call(method, path, params=params, body=body)
        except NetworkError as error:
            raise RetryableError(
                str(error),
                maybe_applied=error.maybe_applied,
                unreachable=not error.maybe_applied,
            ) from None
        pacer.observe(reply)
        if reply.status == 429:
            raise RateLimitedError(reply.vendor_message(), pacer.wait_time())
        if reply.status in (401, 403):
            raise AuthRefusedError(reply.vendor_message())
        if reply.status >= 500:
            raise RetryableError(f"{method} {path}: {reply.vendor_message()}", maybe_applied=True)
        return reply

    return call
