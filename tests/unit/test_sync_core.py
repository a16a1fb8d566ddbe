"""Sync building blocks without a network: pacing, back-off, Retry-After, accounts, tokens."""

from __future__ import annotations

import random

import pytest

from console.domain.errors import InvalidInputError, NotFoundError
from console.storage.db import Database
from console.sync import Accounts, NoKeyringError, Pusher, Tokens
from console.sync.http import Backoff, Pacer, Reply, retry_after
from tests.emulators.keyrings import MemoryKeyring, NoKeyring


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_spreads_the_remaining_budget_over_the_window() -> None:
    clock = Ticker()
    pacer = Pacer(monotonic=clock)
    assert pacer.wait_time() == 0
    pacer.observe(
        Reply(
            200,
            {},
            {"ratelimit-limit": "100", "ratelimit-remaining": "50", "ratelimit-reset": "10"},
        )
    )
    pacer.sent()
    assert pacer.wait_time() == pytest.approx(0.2)
    clock.now += 0.2
    assert pacer.wait_time() == 0


def test_pacer_waits_out_an_empty_budget_and_a_429s_retry_after() -> None:
    clock = Ticker()
    pacer = Pacer(monotonic=clock)
    pacer.observe(Reply(200, {}, {"ratelimit-remaining": "0", "ratelimit-reset": "7"}))
    assert pacer.wait_time() == pytest.approx(7)
    clock.now += 7
    pacer.observe(Reply(429, {}, {"Retry-After": "30"}))
    assert pacer.wait_time() == pytest.approx(30)


def test_opsgenie_rate_limit_headers_are_read_too() -> None:
    pacer = Pacer(monotonic=Ticker())
    pacer.observe(Reply(200, {}, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}))
    assert pacer.wait_time() == pytest.approx(3)


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    assert retry_after({"Retry-After": "12"}, 0) == 12
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, 1445412480) == 10
    assert retry_after({"Retry-After": "soon"}, 0) is None
    assert retry_after({}, 0) is None


def test_backoff_doubles_with_jitter_and_stops_at_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=60.0, rng=random.Random(1))
    for attempts, ceiling in ((1, 1), (2, 2), (3, 4), (7, 60), (5000, 60)):
        delay = backoff.delay(attempts)
        assert ceiling / 2 <= delay <= ceiling


def test_vendor_message_keeps_the_vendors_words() -> None:
    body = {"error": {"code": 2001, "message": "Invalid Input Provided", "errors": ["bad id"]}}
    assert Reply(400, body, {}).vendor_message() == "HTTP 400: Invalid Input Provided; bad id"
    assert Reply(422, {"message": "Alias too long"}, {}).vendor_message() == (
        "HTTP 422: Alias too long"
    )
    assert Reply(502, None, {}).vendor_message() == "HTTP 502"


def test_accounts_validate_what_pagerduty_needs(db: Database) -> None:
    accounts = Accounts(db)
    with pytest.raises(InvalidInputError, match="--from EMAIL"):
        accounts.add("pagerduty", default_service="P1")
    with pytest.raises(InvalidInputError, match="--default-service"):
        accounts.add("pagerduty", from_email="a@example.com")
    with pytest.raises(InvalidInputError, match="plain http is allowed for a loopback"):
        accounts.add(
            "pagerduty",
            base_url="http://api.eu.pagerduty.com",
            from_email="a@b.c",
            default_service="P",
        )
    with pytest.raises(InvalidInputError, match="unknown vendor"):
        accounts.add("statuspage")
    added = accounts.add(
        "pagerduty",
        base_url="https://api.eu.pagerduty.com/",
        from_email="a@example.com",
        default_service="PABC123",
    )
    assert added.base_url == "https://api.eu.pagerduty.com"
    assert [a.vendor for a in accounts.list()] == ["pagerduty"]
    accounts.add("opsgenie")
    assert accounts.get("opsgenie").base_url == "https://api.opsgenie.com"
    accounts.remove("opsgenie")
    with pytest.raises(NotFoundError, match="account add opsgenie"):
        accounts.get("opsgenie")


def test_tokens_come_from_the_environment_first_then_the_keyring() -> None:
    keyring = MemoryKeyring()
    tokens = Tokens(keyring, environ={"RESPONDER_CONSOLE_PAGERDUTY_TOKEN": "from-env"})
    tokens.store("pagerduty", "from-keyring")
    assert tokens.get("pagerduty") == "from-env"
    assert tokens.source("pagerduty") == "environment"
    plain = Tokens(keyring, environ={})
    assert plain.get("pagerduty") == "from-keyring"
    plain.forget("pagerduty")
    assert plain.get("pagerduty") is None
    assert plain.source("opsgenie") is None


def test_without_a_keyring_the_user_is_told_and_offered_a_session_token() -> None:
    tokens = Tokens(NoKeyring(), environ={})
    assert not tokens.keyring_available()
    with pytest.raises(NoKeyringError) as refused:
        tokens.store("pagerduty", "secret")
    message = str(refused.value)
    assert "no OS keyring is available" in message
    assert "tests.emulators.keyrings.NoKeyring" in message  # the backend is named
    assert "RESPONDER_CONSOLE_PAGERDUTY_TOKEN" in message
    assert "this session only" in message
    tokens.keep_for_session("pagerduty", "secret")
    assert tokens.get("pagerduty") == "secret"
    assert tokens.source("pagerduty") == "session"


def test_pacer_learns_opsgenies_budget_from_a_throttle() -> None:
    """Opsgenie tells no budget, only THROTTLED and the period: what was sent within the
    period, less the refused request, is taken as the budget from then on."""
    clock = Ticker()
    pacer = Pacer(monotonic=clock)
    pacer.sent()  # outside the period: not counted
    clock.now += 5
    for _ in range(11):
        pacer.sent()
        clock.now += 0.05
    throttled = {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "1"}
    pacer.observe(Reply(429, {"message": "too many"}, throttled))
    assert pacer.wait_time() == pytest.approx(1.0)  # no Retry-After: the period
    clock.now += 1.0
    pacer.sent()
    assert pacer.wait_time() == pytest.approx(1.0 / 10 * Pacer.SAFETY)
    pacer.observe(Reply(202, {}, {"X-RateLimit-State": "OK"}))  # OK changes nothing
    assert pacer.wait_time() == pytest.approx(1.0 / 10 * Pacer.SAFETY)


def test_opsgenie_accounts_push_alerts_or_incidents(db: Database) -> None:
    accounts = Accounts(db)
    assert accounts.add("opsgenie").mode == "alert"
    with pytest.raises(InvalidInputError, match="--default-service ID"):
        accounts.add("opsgenie", mode="incident")
    with pytest.raises(InvalidInputError, match="unknown Opsgenie mode 'page'"):
        accounts.add("opsgenie", mode="page")
    with pytest.raises(InvalidInputError, match="--mode is an Opsgenie setting"):
        accounts.add("pagerduty", from_email="a@example.com", default_service="P", mode="alert")
    added = accounts.add("opsgenie", mode="incident", default_service="svc-1")
    assert added.as_json()["mode"] == "incident"
    assert accounts.get("opsgenie").default_service == "svc-1"


def test_the_pusher_picks_the_one_account_and_asks_when_there_are_two(db: Database) -> None:
    tokens = Tokens(MemoryKeyring(), environ={})
    assert Pusher(db, tokens).run_pass().errors == [
        "no sync account: add one with `responder-console account add`"
    ]
    Accounts(db).add("opsgenie", base_url="http://127.0.0.1:9")
    report = Pusher(db, tokens).run_pass()
    assert report.vendor == "opsgenie"
    assert report.stopped is not None
    assert "no opsgenie token" in report.stopped
    Accounts(db).add("pagerduty", from_email="a@example.com", default_service="P")
    report = Pusher(db, tokens).run_pass()
    assert report.requests == 0
    assert "several accounts (opsgenie, pagerduty)" in report.errors[0]
    assert Pusher(db, tokens, vendor="pagerduty").run_pass().vendor == "pagerduty"
