"""HTTP for the vendors: one call = one bounded attempt, classified for the pusher.

Every call has a connect and a total deadline (a body that trickles in slower
than the deadline is cut off: ``requests``' read timeout alone is per socket
read). Proxies come from the environment (``requests``' ``trust_env``) and TLS
verification is never turned off. The token goes in a header only; nothing here
logs a header or a URL with a query. A reply that echoes the token back loses it
here, before anything reads it (console.sync.scrub).
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from console.sync import scrub

log = logging.getLogger(__name__)

#: what the window's sync controller holds for a run of passes (it never imports requests)
HttpSession = requests.Session

Sleep = Callable[[float], bool]
"""Wait up to N seconds; False when cancelled (e.g. ``threading.Event().wait``)."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]
    #: the forms of the request's credentials (console.sync.scrub.forms): never repeated
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def quote(self, value: object) -> str:
        """A vendor's words as they may be stored or shown: without the request's
        credentials and without anything shaped like one. Every text taken from a
        reply into a message goes through here (or :meth:`vendor_message`)."""
        return scrub.scrub(str(value), self.secrets)

    def vendor_message(self) -> str:
        """The vendor's own words for a refusal (PagerDuty ``error``, Opsgenie
        ``message``), made safe to store and show (:meth:`quote`)."""
        return self.quote(self._vendor_words())

    def _vendor_words(self) -> str:
        body = self.body
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                parts = [str(error.get("message", ""))]
                errors = error.get("errors")
                if isinstance(errors, list):
                    parts += [str(item) for item in errors]
                text = "; ".join(part for part in parts if part)
                if text:
                    return f"HTTP {self.status}: {text}"
            if isinstance(body.get("message"), str):
                return f"HTTP {self.status}: {body['message']}"
        return f"HTTP {self.status}"


class NetworkError(Exception):
    """No usable reply. ``maybe_applied``: the request may have reached the vendor
    (timeout, connection dropped after sending) — False only when it certainly did
    not (connection refused, DNS failure)."""

    def __init__(self, message: str, *, maybe_applied: bool) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    #: the whole reply, body included
    total: float = 20.0


@dataclass
class Backoff:
    """Exponential back-off with full jitter (AWS architecture blog, "Exponential
    Backoff And Jitter"): wait a random time in [base·2ⁿ/2, base·2ⁿ], capped."""

    base: float = 1.0
    cap: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempts: int) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(max(0, attempts - 1), 40))
        return self.rng.uniform(ceiling / 2, ceiling)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class Pacer:
    """Spaces requests so a backlog does not run into the vendor's rate limit.

    It learns the budget from the reply headers — PagerDuty's ``ratelimit-limit``,
    ``ratelimit-remaining`` and ``ratelimit-reset`` (seconds until the window
    resets), or ``X-RateLimit-Remaining``/``-Reset`` — and spreads what remains of
    the window evenly over the time left. A 429's ``Retry-After`` blocks everything
    until then. Opsgenie tells no budget: only ``X-RateLimit-State: THROTTLED`` and
    ``X-RateLimit-Period-In-Sec`` once a limit is hit (docs.opsgenie.com, "Rate
    Limiting"; the spec lists the headers). Then the budget is taken to be what was
    sent within that period less the refused one, and requests are spread at that
    rate (2 % under it) from then on. ``monotonic`` is passed in so tests control time.
    """

    #: sends remembered to learn a budget from (more than a minute of any real limit)
    REMEMBERED = 20_000
    SAFETY = 1.02

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._not_before = 0.0
        self._interval = 0.0
        self._sends: deque[float] = deque(maxlen=self.REMEMBERED)

    def wait_time(self) -> float:
        return max(0.0, self._not_before - self._now())

    def sent(self) -> None:
        """A request leaves now: the next one waits one interval."""
        now = self._now()
        self._sends.append(now)
        self._not_before = max(self._not_before, now + self._interval)

    def observe(self, reply: Reply) -> None:
        now = self._now()
        headers = {key.lower(): value for key, value in reply.headers.items()}
        remaining = _number(
            headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining")
        )
        reset = _number(headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset"))
        if remaining is not None and reset is not None:
            # spread what is left of the window over its rest; an empty budget waits it out
            self._interval = reset / remaining if remaining >= 1 else 0.0
            if remaining < 1:
                self._not_before = max(self._not_before, now + reset)
        period = None
        if headers.get("x-ratelimit-state", "").upper() == "THROTTLED":
            period = _number(headers.get("x-ratelimit-period-in-sec"))
            if period is not None and period > 0:
                sent = sum(1 for at in self._sends if at > now - period)
                learned = period / max(1, sent - 1) * self.SAFETY
                self._interval = max(self._interval, learned)
        if reply.status == 429:
            wait = retry_after(reply.headers, time.time())
            if wait is None:
                wait = reset if reset is not None else (period or 1.0)
            self._not_before = max(self._not_before, now + wait)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


class Transport:
    """A ``requests`` session plus deadlines. One instance per account and pass."""

    def __init__(
        self,
        session: requests.Session,
        *,
        base_url: str,
        headers: Mapping[str, str],
        timeouts: Timeouts = Timeouts(),
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = dict(headers)
        self._timeouts = timeouts
        #: the token, in every form a reply may echo it
        self._secrets = scrub.forms(secrets)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Reply:
        deadline = time.monotonic() + self._timeouts.total
        try:
            response = self._session.request(
                method,
                self._base + path,
                params=params,
                data=None if body is None else json.dumps(body),
                headers=self._headers,
                timeout=(self._timeouts.connect, self._timeouts.total),
                stream=True,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as error:
            # The handshake failed, so nothing was sent. Verification is never turned off:
            # the person fixes the URL or trusts the proxy's CA (REQUESTS_CA_BUNDLE).
            raise NetworkError(
                f"{method} {path}: the vendor's TLS certificate did not verify "
                f"({_tls_reason(error)}). Check the account's base URL; behind a proxy that "
                "inspects TLS, add its CA with REQUESTS_CA_BUNDLE",
                maybe_applied=False,
            ) from None
        except requests.ConnectionError as error:
            refused = _refused(error)
            raise NetworkError(
                f"{method} {path}: "
                + ("connection refused" if refused else f"connection failed ({_reason(error)})"),
                maybe_applied=not refused,
            ) from None
        except requests.Timeout:
            raise NetworkError(f"{method} {path}: timed out", maybe_applied=True) from None
        except requests.RequestException as error:
            raise NetworkError(f"{method} {path}: {_reason(error)}", maybe_applied=True) from None
        with response:
            chunks: list[bytes] = []
            try:
                for chunk in response.iter_content(16_384):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise NetworkError(
                            f"{method} {path}: the reply took longer than "
                            f"{self._timeouts.total:g} s",
                            maybe_applied=True,
                        )
            except requests.RequestException as error:
                raise NetworkError(
                    f"{method} {path}: reply cut off ({_reason(error)})", maybe_applied=True
                ) from None
            raw = b"".join(chunks)
            headers = dict(response.headers)
            status = response.status_code
        parsed: Any = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        if self._secrets and scrub.carries(raw, self._secrets):
            parsed = scrub.strip(parsed, self._secrets)
        return Reply(status, parsed, headers, self._secrets)


def reachable(
    http: requests.Session, base_url: str, *, timeouts: Timeouts = Timeouts(3.0, 5.0)
) -> bool:
    """The cheap probe that confirms connectivity before a pass: one ``HEAD`` of the
    base URL without a token. Any HTTP reply (even 401 or 404) means the vendor is
    there; a refused, failed or timed-out connection means it is not."""
    try:
        Transport(http, base_url=base_url, headers={}, timeouts=timeouts).call("HEAD", "/")
    except NetworkError:
        return False
    return True


def _refused(error: requests.ConnectionError) -> bool:
    # urllib3 wraps the socket error in its message: "... [Errno 111] Connection refused"
    text = str(error)
    return "Connection refused" in text or "Errno 111" in text or "WinError 10061" in text


def _reason(error: BaseException) -> str:
    # the class name only: messages of urllib3 errors repeat the URL and pool
    return type(error).__name__


_TLS_REASON = re.compile(r"certificate verify failed: ([^(\]'\"]+)|(hostname mismatch[^(\]'\"]*)")


def _tls_reason(error: BaseException) -> str:
    """OpenSSL's words for a failed verification ("self-signed certificate", "certificate
    has expired"), never the rest of urllib3's message, which repeats the URL."""
    found = _TLS_REASON.search(str(error))
    if found is None:
        return "TLS handshake failed"
    return (found.group(1) or found.group(2)).strip()
