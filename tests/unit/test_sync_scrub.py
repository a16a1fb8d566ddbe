"""Vendor text loses the account's token (in any form) and anything shaped like a
credential before it is stored or shown; ordinary words, paths and ids stay."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from console.sync.http import Reply
from console.sync.scrub import REDACTED, forms, scrub, strip

TOKEN = "u+SeCrEt-TOKEN-4711-do-not-leak"


@pytest.mark.parametrize(
    "echoed",
    [
        f"Authorization: Token token={TOKEN}",
        f"your key {TOKEN} was refused",
        f"GET /incidents?token={quote(TOKEN, safe='')}",
        f"credentials {base64.b64encode(TOKEN.encode()).decode()}",
    ],
)
def test_the_accounts_token_is_gone_in_any_form(echoed: str) -> None:
    cleaned = scrub(echoed, forms([TOKEN]))
    assert TOKEN not in cleaned
    assert quote(TOKEN, safe="") not in cleaned
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("'Authorization': 'GenieKey eb243592-faa2-4ba2-a551-1afdf565c889'", "eb243592"),
        ("GenieKey eb243592-faa2-4ba2-a551-1afdf565c889 is not valid", "eb243592"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "eyJhbGci"),
        ("the key y_NbAkKc66ryYTWUXYEu was revoked", "y_NbAkKc66ryYTWUXYEu"),
        ('{"access_token": "abcd1234efgh"}', "abcd1234efgh"),
        ("hmac 0123456789abcdef0123456789abcdef01234567 did not match", "0123456789abcdef"),
        ("retry with token=abc123SECRET&limit=100", "abc123SECRET"),
    ],
)
def test_anything_shaped_like_a_credential_is_gone(text: str, secret: str) -> None:
    cleaned = scrub(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "HTTP 400: Invalid Input Provided; Open incident with matching dedup key already exists",
        "POST /incidents/Q000001/notes: timed out",
        "GET /v2/alerts/8f1e3d8c-4d4e-4b7b-8a66-4a1cbe3e4bd2/notes: connection refused",
        "Incident with id [8f1e3d8c-4d4e-4b7b-8a66-4a1cbe3e4bd2] does not exist",
        "HTTP 401: Basic authentication failed: the token is invalid",
        "HTTP 429: You are making too many requests! To avoid errors, we recommend you limit",
        "Status update: Identified a bad deploy of CheckoutService2 at 14:05 UTC",
        "Opsgenie did not create the alert: Alert with alias [3c3182df] is being processed",
    ],
)
def test_ordinary_vendor_words_stay(text: str) -> None:
    assert scrub(text, forms([TOKEN])) == text


def test_a_reply_quotes_the_vendor_without_the_requests_credentials() -> None:
    body = {"error": {"message": "Invalid", "errors": [f"Authorization: Token token={TOKEN}"]}}
    reply = Reply(400, body, {}, forms([TOKEN]))
    assert TOKEN not in reply.vendor_message()
    assert reply.vendor_message().startswith("HTTP 400: Invalid; Authorization: Token ")
    assert TOKEN not in reply.quote(f"status {TOKEN}")


def test_a_whole_reply_loses_the_token_keys_and_values_alike() -> None:
    echoed = {TOKEN: [f"x {TOKEN}", {"nested": TOKEN}], "n": 3}
    assert strip(echoed, forms([TOKEN])) == {
        REDACTED: [f"x {REDACTED}", {"nested": REDACTED}],
        "n": 3,
    }


def test_a_short_secret_is_not_searched_for_verbatim() -> None:
    """A test token like "abc" would otherwise eat every "abc" of ordinary text."""
    assert forms(["abc"]) == ()
