"""The PagerDuty pull against the loopback emulator: directory sets through the
existing writers, remote incident activity into the timeline once, pagination
past the offset cap, and failures that write nothing half-way."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain.incident import EntryKind, Severity
from console.ops.outbox import Outbox
from console.ops.workspace import Workspace
from console.storage.models import CacheSet
from console.sync import Accounts, Tokens
from console.sync.http import Backoff, Timeouts
from console.sync.pull import Puller, PullOptions, PullPolicy, PullReport
from tests import shared
from tests.emulators.pagerduty import Fault, PagerDutyEmulator
from tests.integration.sync_support import (
    FAST,
    SPEC,
    connect,
    drain,
    pusher,
    validating_session,
    workspace,
)

DEFAULTS = PullOptions()
POLICY = PullPolicy(timeouts=FAST.timeouts, backoff_base=0.02, backoff_cap=0.2, attempts=4)


@pytest.fixture
def emulator() -> Iterator[PagerDutyEmulator]:
    server = PagerDutyEmulator().start()
    yield server
    server.stop()


@pytest.fixture
def ws(data_dir: Path) -> Iterator[Workspace]:
    opened = workspace(data_dir)
    yield opened
    opened.close()


def _pull(
    ws: Workspace,
    tokens: Tokens,
    *,
    options: PullOptions = DEFAULTS,
    policy: PullPolicy = POLICY,
    **kw: object,
) -> PullReport:
    puller = Puller(
        ws.db,
        tokens,
        policy=policy,
        options=options,
        backoff=Backoff(0.02, 0.2, random.Random(3)),
        **kw,  # type: ignore[arg-type]
    )
    (report,) = puller.run()
    return report


def _count(ws: Workspace, table: str) -> int:
    with ws.db.raw_reader() as raw:
        return int(raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _cache_sets(ws: Workspace) -> dict[str, str]:
    with ws.db.reader() as session:
        return {row.name: row.source for row in session.query(CacheSet)}


@shared.needs(SPEC, what="the PagerDuty spec")
def test_directory_sets_land_in_the_cache_and_match_the_spec(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.populate(users=230, schedules=4, days=14)
    emulator.depend(emulator.add_service("Shop", business=True), emulator.add_service("API"))
    tokens, _ = connect(ws, emulator)
    problems: list[str] = []
    # checking a 100-user page against the spec takes longer than FAST's deadline
    slow = PullPolicy(timeouts=Timeouts(connect=1.0, total=30.0), attempts=1)
    report = _pull(ws, tokens, policy=slow, http=validating_session(problems, emulator.base_url))
    assert problems == []
    assert report.errors == []
    assert report.failed == {}
    assert report.sets["users"]["contacts_new"] == 230
    assert report.sets["escalation_policies"]["policies"] == 4
    assert report.sets["schedules"]["schedules"] == 4
    # 4 weeks ahead of today's midnight: every day's shift that overlaps it
    assert report.sets["schedules"]["shifts"] == 4 * 14
    assert _count(ws, "people") == 230
    assert _count(ws, "reach_methods") == 230 * 2
    # users: 3 pages; policies, schedules, on-calls, services, business services,
    # the one service's dependencies and log entries: 1 each
    assert report.requests == 3 + 7, [(r.path, r.status) for r in emulator.requests]
    sets = _cache_sets(ws)
    for name in ("people", "schedules", "pagerduty.users", "pagerduty.schedules",
                 "pagerduty.escalation_policies", "pagerduty.incidents"):  # fmt: skip
        assert sets[name] == f"pagerduty: {emulator.base_url}"

    again = _pull(ws, tokens)
    assert again.sets["users"]["contacts_unchanged"] == 230
    assert _count(ws, "people") == 230
    assert _count(ws, "shifts") == 4 * 14


def test_remote_changes_appear_in_the_timeline_once(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.populate(users=3)
    emulator.users[0]["email"] = "alice@example.com"  # the account's From user: us
    tokens, _ = connect(ws, emulator)
    incident = ws.incidents.declare("Checkout down", Severity.SEV2).incident
    assert incident is not None
    ws.incidents.add_note(incident.id, "our own note")
    drain(lambda: pusher(ws, tokens))
    account = Accounts(ws.db).get("pagerduty")
    link = Outbox(ws.db).link(account.id, incident.id)
    assert link is not None
    bob = emulator.users[1]
    emulator.remote_note(link.remote_id, "restarted the pods", bob)
    emulator.remote_status(link.remote_id, "acknowledged", bob)
    other = emulator._create(  # an incident made in PagerDuty only
        {"incident": {"title": "Elsewhere", "service": {"id": "PSERVC1"}}}, emulator.api_user
    )
    assert other[0] == 201

    first = _pull(ws, tokens)
    counts = first.sets["incidents"]
    assert counts["added"] == 2
    assert counts["remote_only"] == 1
    remote = [e for e in ws.queries.timeline(incident.id) if e.kind is EntryKind.REMOTE]
    assert sorted(e.text for e in remote) == ["Acknowledge by User 1", "restarted the pods"]
    assert {e.author for e in remote} == {"User 1"}
    # our note went out once and did not come back
    texts = [e.text for e in ws.queries.timeline(incident.id)]
    assert texts.count("our own note") == 1

    second = _pull(ws, tokens)
    assert second.sets["incidents"].get("added", 0) == 0
    after = [e for e in ws.queries.timeline(incident.id) if e.kind is EntryKind.REMOTE]
    assert len(after) == 2

    emulator.remote_note(link.remote_id, "rolled back", bob)
    third = _pull(ws, tokens)
    assert third.sets["incidents"]["added"] == 1
    final = [e.text for e in ws.queries.timeline(incident.id) if e.kind is EntryKind.REMOTE]
    assert final.count("rolled back") == 1
    assert final.count("restarted the pods") == 1


def test_services_and_their_dependencies_land_in_the_catalog(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    checkout = emulator.add_service("Checkout API")
    payments = emulator.add_service("Payments")
    database = emulator.add_service("Orders DB")
    shop = emulator.add_service("Online shop", business=True)
    emulator.depend(checkout, payments)
    emulator.depend(payments, database)
    emulator.depend(shop, checkout)
    tokens, _ = connect(ws, emulator)
    report = _pull(ws, tokens)
    assert report.failed == {}
    assert report.sets["services"]["services"] == 4
    with ws.db.raw_reader() as raw:
        edges = sorted(
            raw.execute(
                "SELECT a.name, b.name FROM service_dependencies d "
                "JOIN services a ON a.id = d.service_id JOIN services b ON b.id = d.depends_on_id"
            ).fetchall()
        )
        annotations = dict(raw.execute("SELECT name, annotations FROM services").fetchall())
    assert edges == [
        ("checkout-api", "payments"),
        ("online-shop", "checkout-api"),
        ("payments", "orders-db"),
    ]
    assert '"pagerduty.com/service-id": "PV0000"' in annotations["checkout-api"]
    assert _cache_sets(ws)["catalog"] == f"pagerduty: {emulator.base_url}"
    # listings (2) + one relationships request per technical service (3)
    assert sum(1 for r in emulator.requests if "service" in r.path) == 2 + 3

    emulator.services.pop()  # Orders DB deleted in PagerDuty
    emulator.dependencies = [d for d in emulator.dependencies if d[0] != database]
    again = _pull(ws, tokens)
    assert again.sets["services"]["removed"] == 1
    assert _count(ws, "services") == 3


def test_on_calls_past_the_offset_cap_are_split_by_time(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.offset_cap = 300
    start = datetime.now(UTC) - timedelta(hours=1)
    emulator.populate(users=5, schedules=20, days=35, shift_hours=12, start=start)
    tokens, _ = connect(ws, emulator)
    options = PullOptions(limit=25, offset_cap=300, days=28)
    report = _pull(ws, tokens, options=options)
    assert report.failed == {}
    # 20 schedules × 2 shifts a day × 28 days, plus the one running now
    assert report.sets["schedules"]["shifts"] == 20 * 57
    assert _count(ws, "shifts") == 20 * 57
    oncall_pages = sum(1 for r in emulator.requests if r.path == "/oncalls")
    assert oncall_pages <= 1 + (20 * 56 * 1.1) // 25 + 5


def test_a_listing_past_the_cap_that_cannot_be_split_is_refused_whole(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.offset_cap = 100
    emulator.populate(users=120)
    tokens, _ = connect(ws, emulator)
    report = _pull(ws, tokens, options=PullOptions(limit=50, offset_cap=100))
    assert "more than 100 records" in report.failed["users"]
    assert _count(ws, "people") == 0
    assert "pagerduty.users" not in _cache_sets(ws)


def test_a_bad_page_refuses_its_set_and_writes_nothing_of_it(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.populate(users=250, schedules=2, days=3)
    emulator.bad_page = ("/users", 200)
    tokens, _ = connect(ws, emulator)
    report = _pull(ws, tokens)
    assert set(report.failed) == {"users"}
    assert "GET /users (offset 200)" in report.failed["users"]
    assert "not a PagerDuty list" in report.failed["users"]
    assert _count(ws, "people") == 0
    assert "pagerduty.users" not in _cache_sets(ws)
    # the other sets went on
    assert report.sets["schedules"]["schedules"] == 2
    assert "pagerduty.schedules" in _cache_sets(ws)


def test_server_errors_are_retried_and_401_stops_the_account(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.populate(users=10)
    tokens, _ = connect(ws, emulator)
    emulator.script(Fault.E500, Fault.E503, Fault.RESET)
    report = _pull(ws, tokens)
    assert report.failed == {}
    assert report.sets["users"]["contacts_new"] == 10
    assert report.requests == 4 + 6  # three failed tries of the first page, then the rest

    emulator.script(Fault.E401)
    stopped = _pull(ws, tokens)
    assert stopped.stopped is not None
    assert "refused the token" in stopped.stopped
    assert Accounts(ws.db).get("pagerduty").stopped_reason == stopped.stopped
    assert stopped.requests == 1
    # a stopped account is not called again until the token is fixed
    assert _pull(ws, tokens).requests == 0


def test_retries_are_bounded_and_give_the_set_up(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.populate(users=10)
    tokens, _ = connect(ws, emulator)
    emulator.script(Fault.E502, Fault.E502, Fault.E502, Fault.E502)
    report = _pull(ws, tokens)
    assert "gave up after retries" in report.failed["users"]
    assert _count(ws, "people") == 0
    assert "escalation_policies" in report.sets


def test_a_cancelled_puller_sends_nothing(ws: Workspace, emulator: PagerDutyEmulator) -> None:
    emulator.populate(users=10)
    tokens, _ = connect(ws, emulator)
    puller = Puller(ws.db, tokens, policy=POLICY)
    puller.cancel()
    (report,) = puller.run()
    assert report.cancelled
    assert report.requests == 0
    assert _count(ws, "people") == 0


def test_an_unreachable_vendor_ends_the_pull_at_once(
    ws: Workspace, emulator: PagerDutyEmulator
) -> None:
    emulator.populate(users=10)
    tokens, _ = connect(ws, emulator)
    with emulator.offline():
        report = _pull(ws, tokens)
    assert report.requests == 1
    assert any("connection refused" in e for e in report.errors)
    assert report.sets == {}
    assert _count(ws, "people") == 0
    assert Accounts(ws.db).get("pagerduty").stopped_reason is None
