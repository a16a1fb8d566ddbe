"""The pull engine without a network: the offset-cap split, the report, and the
protocol a vendor source implements (a source written here, as the Opsgenie one is)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.domain.incident import EntryKind, Severity
from console.importers.schedules import ParsedFile, ScheduleDraft
from console.ops.incidents import RemoteEntry
from console.ops.workspace import Workspace
from console.sync import Accounts, Tokens
from console.sync.accounts import Account
from console.sync.http import Reply
from console.sync.outcomes import Call
from console.sync.pagerduty_pull import OffsetPages
from console.sync.pull import (
    Puller,
    PullFailedError,
    PullOptions,
    PullReport,
    PullSink,
)
from tests.emulators.keyrings import MemoryKeyring

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _vendor(records: list[datetime], cap: int, log: list[dict[str, Any]]) -> Call:
    """PagerDuty's time-ranged listing semantics over ``records`` (one per time)."""

    def call(method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> Reply:
        assert params is not None
        log.append(dict(params))
        offset, limit = int(params["offset"]), int(params["limit"])
        if offset + limit > cap:
            return Reply(400, {"error": {"message": "Offset too large"}}, {})
        since = datetime.fromisoformat(params["since"])
        until = datetime.fromisoformat(params["until"])
        found = [{"at": t.isoformat()} for t in records if since <= t < until]
        page = found[offset : offset + limit]
        document = {"items": page, "more": offset + limit < len(found)}
        if params.get("total") == "true":
            document["total"] = len(found)
        return Reply(200, document, {})

    return call


def test_a_range_past_the_cap_is_split_and_nothing_is_lost_or_doubled() -> None:
    records = [T0 + timedelta(minutes=7 * n) for n in range(2_345)]
    log: list[dict[str, Any]] = []
    pages = OffsetPages(_vendor(records, 500, log), 50, 500)
    found = pages.ranged("/x", "items", {}, T0, T0 + timedelta(days=30))
    assert sorted(item["at"] for item in found) == [t.isoformat() for t in records]
    assert len(found) == len(records)
    # the minimum is 2,345 / 50 = 47 pages; the first page (that learns the total)
    # and each part's last page are the overhead
    assert len(log) <= 47 + 1 + 6
    assert all(int(p["offset"]) + 50 <= 500 for p in log)


def test_a_listing_that_reaches_the_cap_is_refused_not_cut_short() -> None:
    def call(method: str, path: str, params: Mapping[str, Any] | None, body: Any) -> Reply:
        assert params is not None
        return Reply(200, {"users": [{"id": "U"}] * int(params["limit"]), "more": True}, {})

    with pytest.raises(PullFailedError, match="more than 200 records"):
        OffsetPages(call, 100, 200).listing("/users", "users", {})


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, {"users": {"id": "U"}, "more": False}, {}), "not a PagerDuty list"),
        (Reply(200, None, {}), "not a PagerDuty list"),
        (Reply(200, {"users": []}, {}), "no 'more' flag"),
        (Reply(200, {"users": [], "more": True}, {}), "'more' with an empty page"),
        (Reply(404, {"error": {"message": "Not Found"}}, {}), "HTTP 404: Not Found"),
    ],
)
def test_a_malformed_page_is_refused_with_where_and_why(reply: Reply, reason: str) -> None:
    with pytest.raises(PullFailedError, match=reason):
        OffsetPages(lambda *_: reply, 100, 10_000).listing("/users", "users", {})


def _page_fails() -> None:
    raise PullFailedError("GET /schedules (offset 0): HTTP 400")


def test_the_report_keeps_counts_failures_and_a_stable_json_shape() -> None:
    report = PullReport("pagerduty")
    report.count("users", "contacts_new", 3)
    report.count("users", "contacts_new", 2)
    with report.attempt("schedules"):
        _page_fails()
    assert report.as_json() == {
        "vendor": "pagerduty",
        "sets": {"users": {"contacts_new": 5}},
        "failed": {"schedules": "GET /schedules (offset 0): HTTP 400"},
        "requests": 0,
        "errors": ["pagerduty schedules: GET /schedules (offset 0): HTTP 400"],
        "stopped": None,
        "cancelled": False,
    }
    assert "users contacts_new 5" in report.summary()


class _ScriptedSource:
    """A vendor source as another vendor would write one: a schedule and a remote note."""

    vendor = "pagerduty"

    def __init__(self, account: Account, options: PullOptions) -> None:
        self.remote_incident = "R1"

    def pull(
        self,
        call: Call,
        since: datetime | None,
        sink: PullSink,
        report: PullReport,
        cancelled: Callable[[], bool],
    ) -> None:
        with report.attempt("schedules"):
            draft = ScheduleDraft(key="og:ops", name="Ops", window=(T0, T0 + timedelta(days=1)))
            parsed = ParsedFile(kind="test", schedules=[draft])
            sink.store("schedules", parsed, report)
        local = sink.incident_for(self.remote_incident)
        if local is not None:
            entry = RemoteEntry("note:N1", T0, "from the vendor", {"type": "note"}, "Bob")
            added, known = sink.timeline(local, [entry, entry])
            report.count("incidents", "added", added)
            report.count("incidents", "known", known)
        sink.mark("incidents", T0)


def test_a_source_written_against_the_protocol_stores_through_the_sink(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "data", actor="alice", templates=[])
    try:
        tokens = Tokens(MemoryKeyring(), environ={})
        tokens.store("pagerduty", "token")
        account = Accounts(ws.db).add(
            "pagerduty", base_url="http://127.0.0.1:9", from_email="a@b.c", default_service="P1"
        )
        incident = ws.incidents.declare("Checkout down", Severity.SEV2).incident
        assert incident is not None
        with ws.db.raw_writer() as raw:
            raw.execute(
                "INSERT INTO remote_incidents (incident_id, account_id, remote_id, dedup_key, "
                "html_url, created_at) VALUES (?, ?, 'R1', 'k', NULL, ?)",
                (incident.id, account.id, "2026-03-01T00:00:00.000000Z"),
            )
        puller = Puller(ws.db, tokens, sources={"pagerduty": _ScriptedSource})
        (report,) = puller.run()
        assert report.sets == {
            "schedules": {"refused": 0, "schedules": 1, "shifts": 0},
            "incidents": {"added": 1, "known": 1},
        }
        assert report.requests == 0
        sink = PullSink(ws.db, account)
        assert sink.last_fetched("incidents") == T0
        assert sink.last_fetched("schedules") is not None
        remote = [e for e in ws.queries.timeline(incident.id) if e.kind is EntryKind.REMOTE]
        assert [(e.text, e.author, e.source) for e in remote] == [
            ("from the vendor", "Bob", "pagerduty")
        ]
        (again,) = Puller(ws.db, tokens, sources={"pagerduty": _ScriptedSource}).run()
        assert again.sets["incidents"] == {"added": 0, "known": 2}
    finally:
        ws.close()
