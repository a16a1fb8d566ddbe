"""Vendor text made safe to store or show: never the account's token, nor anything
shaped like a credential.

Vendors (or a proxy in front of them) sometimes echo a request back in an error,
headers included. Every reply enters the console through one door,
``console.sync.http.Transport.call``; it removes the request's credentials, in every
form below, from the whole reply (:func:`strip`), so no field of it — an error, a
request id, a pulled note — can carry the token into the database, its backups or
an export. Every vendor word that becomes a message (an operation's or an account's
``last_error``, a pass's errors, ``sync status``, ``account list``, a log line) is
made by ``Reply.vendor_message`` or ``Reply.quote``, which also remove what is
*shaped* like a credential (:func:`scrub`): header values (``Authorization``,
``GenieKey``, ``Bearer``, ``Token token=``), ``token=``/``api_key:`` pairs, long hex
strings and long mixed-case letter-and-digit strings. Ordinary words, paths, ids
(``Q000001``) and request UUIDs stay.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from console.logs import redact

REDACTED = "[redacted]"
#: a secret shorter than this is not searched for verbatim (it would hit ordinary text)
MIN_SECRET = 8

_SHAPES = [
    # a credential after its scheme: GenieKey 4e1a…, Bearer eyJ…, Basic dXNl… (with a digit,
    # so "Basic authentication" stays)
    (
        re.compile(r"(?i)\b(geniekey|bearer|basic)(\s+)(?=[^\s,;'\"]*\d)[^\s,;'\"]{8,}"),
        rf"\1\2{REDACTED}",
    ),
    # JSON or form pairs: "token": "…", access_token=…, "password": "…"
    (
        re.compile(
            r"(?i)((?:access_|refresh_|api_|auth_)?(?:token|secret|password|api[_-]?key)"
            r"['\"]?\s*[:=]\s*['\"]?)[^\s,;'\"&}]+"
        ),
        rf"\1{REDACTED}",
    ),
    # long hex: API keys, HMACs
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), REDACTED),
    # long opaque strings with digits and both cases (PagerDuty tokens, base64 secrets);
    # lower-case UUIDs (request ids, aliases) have no capitals and stay
    (
        re.compile(
            r"(?<![A-Za-z0-9_+=-])(?=[A-Za-z0-9_+-]*[0-9])(?=[A-Za-z0-9_+-]*[a-z])"
            r"(?=[A-Za-z0-9_+-]*[A-Z])[A-Za-z0-9_+-]{20,}={0,2}(?![A-Za-z0-9_+=-])"
        ),
        REDACTED,
    ),
]


def forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Each secret as it may come back: as is, URL-encoded, JSON-escaped, base64.
    Longest first, so a longer form is replaced before a shorter one inside it."""
    found: set[str] = set()
    for secret in secrets:
        if len(secret) < MIN_SECRET:
            continue
        found.update(
            (
                secret,
                quote(secret, safe=""),
                quote_plus(secret),
                json.dumps(secret)[1:-1],
                json.dumps(secret)[1:-1].replace("/", "\\/"),
                base64.b64encode(secret.encode()).decode(),
            )
        )
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str, secret_forms: Iterable[str] = ()) -> str:
    """``text`` without the given secret forms and without credential-shaped strings."""
    for form in secret_forms:
        text = text.replace(form, REDACTED)
    text = redact(text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def strip(value: Any, secret_forms: tuple[str, ...]) -> Any:
    """A parsed JSON reply with every secret form replaced, keys and strings alike."""
    if isinstance(value, str):
        for form in secret_forms:
            value = value.replace(form, REDACTED)
        return value
    if isinstance(value, dict):
        return {strip(k, secret_forms): strip(v, secret_forms) for k, v in value.items()}
    if isinstance(value, list):
        return [strip(item, secret_forms) for item in value]
    return value


def carries(raw: bytes, secret_forms: tuple[str, ...]) -> bool:
    """Whether the raw reply holds any secret form (most replies do not: no walk)."""
    return any(form.encode() in raw for form in secret_forms)
