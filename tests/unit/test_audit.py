"""The readiness audit: a clean workspace has no finding; each hand-made gap gives exactly
its finding (objects, severity, fix); the demo workspace's findings; scores, trend, exports.

Every workspace here is written through the real writers (catalog and runbook
importers, the contacts/schedules/policies store, IncidentService, comms)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from console.audit import Auditor
from console.audit.checks import alert_mentions
from console.audit.export import export, report_json, to_html, to_markdown
from console.comms.actions import ActionItems
from console.comms.postmortem import Postmortems
from console.demo import ensure_demo
from console.domain.audit import Area, AuditReport, Finding, ObjectKind, Severity
from console.domain.clock import ManualClock
from console.domain.incident import Severity as IncidentSeverity
from console.domain.incident import Status
from console.domain.oncall import ReachKind, Shift, TargetKind
from console.importers.catalog import import_catalog
from console.importers.contacts import ContactDraft, store_contacts
from console.importers.oncall import PEOPLE_SET, SCHEDULES_SET, record_cache_set
from console.importers.reach import method
from console.importers.runbooks import import_runbooks
from console.importers.schedules import (
    LevelDraft,
    PolicyDraft,
    ScheduleDraft,
    TargetDraft,
    store_policies,
    store_schedules,
)
from console.ops.workspace import Workspace
from console.storage.models import format_utc

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ORDERS = "component:default/orders-api"

CATALOG = """\
catalog: 1
teams:
  - {name: team-orders, email: orders@example.com}
services:
  - name: orders-api
    owner: team-orders
    tier: tier-1
    depends_on: [orders-db]
  - name: orders-db
    kind: resource
    owner: team-orders
  - name: checkout
    kind: system
"""

RUNBOOK = """\
---
id: {slug}
title: {title}
services: [{services}]
alerts: [{alerts}]
owner: team-orders
{reviewed}review_every_days: {every}
---
# {title}

## Diagnosis

1. Look at the dashboard.
"""


def write_runbook(
    folder: Path,
    slug: str,
    *,
    title: str | None = None,
    services: str = "orders-api, orders-db",
    alerts: str = "OrdersDown",
    reviewed: str | None = "2026-02-20",
    every: int = 90,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{slug}.md").write_text(
        RUNBOOK.format(
            slug=slug,
            title=title or slug,
            services=services,
            alerts=alerts,
            reviewed=f"last_reviewed: {reviewed}\n" if reviewed else "",
            every=every,
        ),
        encoding="utf-8",
    )


def person(name: str, email: str | None, *kinds: tuple[ReachKind, str]) -> ContactDraft:
    draft = ContactDraft(name=name, email=email)
    for kind, value in kinds:
        found = method(kind, value, region=None)
        assert found is not None
        draft.reach.append(found)
    return draft


def shifts(names: list[str], start: datetime, end: datetime, hours: int = 12) -> list[Shift]:
    out, at, turn = [], start, 0
    while at < end:
        who = names[turn % len(names)]
        out.append(Shift(at, min(at + timedelta(hours=hours), end), who, email=_email(who)))
        at, turn = at + timedelta(hours=hours), turn + 1
    return out


def _email(name: str) -> str:
    return f"{name.lower()}@example.com"


class World:
    """A small workspace where every check passes; tests add one gap each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.clock = ManualClock(NOW)
        self.workspace = Workspace.open(folder / "data", actor="tester", clock=self.clock)
        self.db = self.workspace.db
        self.catalog = folder / "catalog.yaml"
        self.runbooks = folder / "runbooks"
        self.set_catalog(CATALOG)
        write_runbook(self.runbooks, "orders-down")
        self.import_runbooks()
        self.store(
            people=[
                person("Ann", _email("Ann"), (ReachKind.MOBILE, "+44 7700 900001")),
                person("Bob", _email("Bob"), (ReachKind.MOBILE, "+44 7700 900002")),
            ],
            schedules=[self.schedule("Orders primary", ["Ann", "Bob"])],
            policies=[self.policy("Orders", ["orders-api", "orders-db"])],
        )

    def close(self) -> None:
        self.workspace.close()

    def set_catalog(self, text: str) -> None:
        self.catalog.write_text(text, encoding="utf-8")
        report = import_catalog(self.db, [self.catalog], clock=self.clock)
        assert not report.refused, report.refused

    def import_runbooks(self) -> None:
        report = import_runbooks(self.db, [self.runbooks], clock=self.clock)
        assert not report.refused, report.refused

    def schedule(
        self, name: str, names: list[str], *, ahead: timedelta = timedelta(days=20)
    ) -> ScheduleDraft:
        start = NOW - timedelta(days=1)
        return ScheduleDraft(
            key=f"test:{name.lower().replace(' ', '-')}",
            name=name,
            time_zone="UTC",
            shifts=shifts(names, start, NOW + ahead),
            window=(start - timedelta(days=30), NOW + timedelta(days=60)),
        )

    def policy(
        self, name: str, services: list[str], levels: list[list[TargetDraft]] | None = None
    ) -> PolicyDraft:
        if levels is None:
            levels = [
                [TargetDraft(TargetKind.SCHEDULE, "test:orders-primary", "Orders primary")],
                [TargetDraft(TargetKind.PERSON, _email("Bob"), "Bob")],
            ]
        return PolicyDraft(
            key=f"test:{name.lower()}",
            name=name,
            services=services,
            levels=[LevelDraft(10, targets) for targets in levels],
        )

    def store(
        self,
        *,
        people: list[ContactDraft] = (),  # type: ignore[assignment]
        schedules: list[ScheduleDraft] = (),  # type: ignore[assignment]
        policies: list[PolicyDraft] = (),  # type: ignore[assignment]
    ) -> None:
        stamp = format_utc(self.clock())
        with self.db.raw_writer() as raw:
            store_contacts(raw, people, source="test", now=stamp)
            store_schedules(raw, schedules, source="test", now=stamp)
            store_policies(raw, policies, source="test", now=stamp)
            for name in (PEOPLE_SET, SCHEDULES_SET):
                record_cache_set(raw, name, "test", stamp)

    def audit(self, *, save: bool = False) -> AuditReport:
        return Auditor(self.db, actor="tester", clock=self.clock).run(save=save)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.close()


def only(report: AuditReport, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def objects(item: Finding) -> list[tuple[ObjectKind, str]]:
    return [(o.kind, o.key) for o in item.objects]


# ------------------------------------------------------------------ baseline


def test_a_clean_workspace_has_no_findings_and_full_scores(world: World) -> None:
    report = world.audit()
    assert report.findings == ()
    scores = {s.area: (s.score, s.checked) for s in report.scores}
    # owned: 2 services + the catalog cache; reachable: 1 policy, 1 schedule, 2 people,
    # 2 caches; runbooked: 2 services, 1 runbook (alerts only a runbook names are not
    # counted: they are covered by definition); nothing to learn or improve yet
    assert scores == {
        Area.OWNED: (100.0, 3),
        Area.REACHABLE: (100.0, 6),
        Area.RUNBOOKED: (100.0, 3),
        Area.LEARNING: (None, 0),
        Area.IMPROVING: (None, 0),
    }


# ------------------------------------------------------------------ services


def test_service_without_owner(world: World) -> None:
    world.set_catalog(
        CATALOG.replace("    owner: team-orders\n    tier: tier-1\n", "    tier: tier-1\n")
    )
    [item] = world.audit().findings
    assert (item.check, item.area, item.severity) == (
        "service-without-owner",
        Area.OWNED,
        Severity.HIGH,  # tier 1
    )
    assert objects(item) == [(ObjectKind.SERVICE, ORDERS)]
    assert item.id == f"service-without-owner:service:{ORDERS}"
    assert "`owner:`" in item.fix
    assert "orders-api" in item.fix


def test_service_without_escalation_policy(world: World) -> None:
    world.set_catalog(CATALOG + "  - {name: billing, owner: team-orders, tier: tier-2}\n")
    write_runbook(world.runbooks, "billing-down", services="billing", alerts="BillingDown")
    world.import_runbooks()
    [item] = world.audit().findings
    assert (item.check, item.area, item.severity) == (
        "service-without-escalation-policy",
        Area.OWNED,
        Severity.MEDIUM,  # not tier 1
    )
    assert objects(item) == [(ObjectKind.SERVICE, "component:default/billing")]
    assert "escalation policy" in item.fix


def test_service_without_runbook_and_with_only_a_link(world: World) -> None:
    write_runbook(world.runbooks, "orders-down", services="orders-db")
    world.import_runbooks()
    [item] = world.audit().findings
    assert (item.check, item.area, item.severity) == (
        "service-without-runbook",
        Area.RUNBOOKED,
        Severity.HIGH,
    )
    assert objects(item) == [(ObjectKind.SERVICE, ORDERS)]
    assert "`services: [orders-api]`" in item.fix
    world.set_catalog(
        CATALOG.replace(
            "    tier: tier-1\n", "    tier: tier-1\n    runbook: https://wiki/orders\n"
        )
    )
    [linked] = world.audit().findings
    assert "only a link" in linked.title
    assert "https://wiki/orders" in linked.fix


def test_systems_and_apis_are_not_audited_as_services(world: World) -> None:
    report = world.audit()
    audited = {o.key for f in report.findings for o in f.objects}
    assert "system:default/checkout" not in audited
    owned = next(s for s in report.scores if s.area is Area.OWNED)
    assert owned.checked == 3  # orders-api, orders-db, the catalog cache


# ------------------------------------------------------------------ runbooks


def test_runbooks_past_review_date(world: World) -> None:
    write_runbook(world.runbooks, "late", reviewed="2025-11-01", every=90)  # due 2026-01-30
    write_runbook(world.runbooks, "very-late", reviewed="2025-06-01", every=90)  # 2025-08-30
    write_runbook(world.runbooks, "never", reviewed=None)
    write_runbook(world.runbooks, "due-today", reviewed="2025-12-01", every=90)  # 2026-03-01
    world.import_runbooks()
    found = {f.objects[0].label: f for f in only(world.audit(), "runbook-review-overdue")}
    assert set(found) == {"late", "very-late", "never"}
    assert found["late"].severity is Severity.LOW
    assert "30 days past its review date (2026-01-30)" in found["late"].title
    assert found["very-late"].severity is Severity.MEDIUM  # later than a whole interval
    assert found["never"].severity is Severity.MEDIUM
    assert found["never"].title.endswith("was never reviewed")
    assert found["late"].objects[0].kind is ObjectKind.RUNBOOK
    assert found["late"].objects[0].key.isdigit()  # the runbook's id: the viewer opens it
    assert "last_reviewed: 2026-03-01" in found["late"].fix
    assert {f.area for f in found.values()} == {Area.RUNBOOKED}


def test_runbooks_imported_with_warnings_are_listed_to_fix(world: World) -> None:
    """Issue 15: a file every renderer shows is imported; its problems are things to fix."""
    write_runbook(world.runbooks, "clean")
    world.runbooks.mkdir(parents=True, exist_ok=True)
    (world.runbooks / "open-fence.md").write_text(
        "---\nlast_reviewed: 2026-02-20\nreview_in: soon\n---\n# Open fence\n\n```sh\nls\n",
        encoding="utf-8",
    )
    world.import_runbooks()
    [item] = only(world.audit(), "runbook-import-warnings")
    assert item.title == "Runbook Open fence was imported with 2 warnings"
    assert (item.severity, item.area) == (Severity.LOW, Area.RUNBOOKED)
    assert item.objects[0].kind is ObjectKind.RUNBOOK
    assert "'review_in': 'soon' is not an interval" in item.fix
    assert "line 7: code fence never closed" in item.fix
    assert item.fix.startswith(f"Fix {world.runbooks / 'open-fence.md'} (open-fence): ")


# ------------------------------------------------------------------ alerts


def test_alert_mentions_need_a_camel_case_name() -> None:
    assert alert_mentions("Alert OrdersApi5xxRate fired: 31 %") == ["OrdersApi5xxRate"]
    assert alert_mentions("alert: KubePodCrashLooping and alertname=HighCPU") == [
        "KubePodCrashLooping",
        "HighCPU",
    ]
    assert alert_mentions("the alert fired again; Alert Fired") == []


def test_alerts_from_the_catalog_and_incidents_without_a_runbook(world: World) -> None:
    world.set_catalog(
        CATALOG.replace(
            "    tier: tier-1\n",
            "    tier: tier-1\n    annotations:\n"
            '      prometheus.io/alerts: "OrdersDown, OrdersLatencyHigh"\n',
        )
    )
    service = world.workspace.incidents
    declared = service.declare("Orders slow", IncidentSeverity.SEV3).incident
    assert declared is not None
    service.add_note(declared.id, "Alert PaymentsTimeout fired on the checkout path")
    service.add_note(declared.id, "alert: PaymentsTimeout again; and OrdersDown")
    service.add_note(declared.id, "the alert fired")
    found = {f.objects[0].key: f for f in only(world.audit(), "alert-without-runbook")}
    assert set(found) == {"OrdersLatencyHigh", "PaymentsTimeout"}  # OrdersDown has one
    latency, timeout = found["OrdersLatencyHigh"], found["PaymentsTimeout"]
    assert latency.severity is Severity.MEDIUM
    assert objects(latency) == [
        (ObjectKind.ALERT, "OrdersLatencyHigh"),
        (ObjectKind.SERVICE, ORDERS),
    ]
    assert "`alerts: [OrdersLatencyHigh]`" in latency.fix
    assert "`services: [orders-api]`" in latency.fix
    assert timeout.severity is Severity.HIGH  # it fired in an incident
    assert objects(timeout) == [
        (ObjectKind.ALERT, "PaymentsTimeout"),
        (ObjectKind.INCIDENT, str(declared.id)),
    ]
    assert "fired in 1 incident" in timeout.title
    runbooked = next(s for s in world.audit().scores if s.area is Area.RUNBOOKED)
    assert runbooked.checked == 2 + 1 + 3  # services, runbook, three known alerts


# ------------------------------------------------------------ people and paging


def test_policy_with_a_single_level(world: World) -> None:
    single = [[TargetDraft(TargetKind.SCHEDULE, "test:orders-primary", "Orders primary")]]
    world.store(policies=[world.policy("Orders", ["orders-api", "orders-db"], single)])
    [item] = world.audit().findings
    assert (item.check, item.area, item.severity) == (
        "policy-single-level",
        Area.REACHABLE,
        Severity.HIGH,
    )
    assert objects(item) == [(ObjectKind.POLICY, "test:orders")]
    assert "orders-api, orders-db" in item.title
    assert "second level" in item.fix


def test_policy_paging_a_single_person(world: World) -> None:
    bob = TargetDraft(TargetKind.PERSON, _email("Bob"), "Bob")
    world.store(policies=[world.policy("Orders", ["orders-api", "orders-db"], [[bob], [bob]])])
    [item] = world.audit().findings
    assert (item.check, item.severity) == ("policy-single-person", Severity.HIGH)
    assert objects(item) == [(ObjectKind.POLICY, "test:orders")]
    assert "pages only Bob" in item.title


def test_schedule_gaps_in_the_next_14_days(world: World) -> None:
    holed = world.schedule("Holed", ["Ann", "Bob"])
    hole = (NOW + timedelta(days=3), NOW + timedelta(days=3, hours=12))
    holed.shifts = [s for s in holed.shifts if not (s.start >= hole[0] and s.end <= hole[1])]
    soon = world.schedule("Soon", ["Ann"])
    soon.shifts = [s for s in soon.shifts if not (s.start <= NOW + timedelta(hours=6) < s.end)]
    short = world.schedule("Short", ["Bob"], ahead=timedelta(days=5))
    world.store(schedules=[holed, soon, short])
    found = {f.objects[0].label: f for f in only(world.audit(), "schedule-gap")}
    assert set(found) == {"Holed", "Soon", "Short"}
    assert found["Holed"].severity is Severity.MEDIUM
    assert "1 gap in the next 14 days (12 h uncovered; first Wed 04 Mar 09:00 UTC" in (
        found["Holed"].title
    )
    assert "import a fresh schedule" not in found["Holed"].fix
    assert found["Soon"].severity is Severity.HIGH  # starts within 24 h
    assert found["Short"].severity is Severity.MEDIUM
    assert "cached shifts end Fri 06 Mar 09:00 UTC: import a fresh schedule" in found["Short"].fix
    assert objects(found["Short"]) == [(ObjectKind.SCHEDULE, "test:short")]


def test_a_schedule_with_no_shifts_ahead_is_one_whole_gap(world: World) -> None:
    empty = ScheduleDraft(key="test:empty", name="Empty", shifts=[])
    world.store(schedules=[empty])
    [item] = world.audit().findings
    assert item.check == "schedule-gap"
    assert "336 h uncovered" in item.title
    assert "none cached" in item.fix


def test_contacts_with_one_or_no_reach_method(world: World) -> None:
    world.store(
        people=[
            person("Cleo", "cleo@example.com"),
            person("Dan", None, (ReachKind.MOBILE, "+44 7700 900003")),
            person("Eve", None),
            person("Fay", "fay@example.com", (ReachKind.EMAIL, "fay@example.com")),
        ]
    )
    found = {f.objects[0].label: f for f in only(world.audit(), "contact-single-reach-method")}
    assert set(found) == {"Cleo", "Dan", "Eve", "Fay"}
    assert found["Cleo"].severity is Severity.MEDIUM
    assert found["Cleo"].title == "Cleo can be reached only by email"
    assert found["Dan"].title == "Dan can be reached only by mobile"
    assert found["Fay"].title == "Fay can be reached only by email"  # not counted twice
    assert (found["Eve"].severity, found["Eve"].title) == (
        Severity.HIGH,
        "Eve has no way to be reached",
    )
    assert found["Eve"].objects[0].kind is ObjectKind.PERSON
    assert found["Eve"].objects[0].key.isdigit()


# --------------------------------------------------------- learning, improving


def _resolved(world: World, title: str, severity: IncidentSeverity) -> int:
    service = world.workspace.incidents
    incident = service.declare(title, severity).incident
    assert incident is not None
    service.change_status(incident.id, Status.RESOLVED)
    return incident.id


def test_major_incident_without_postmortem(world: World) -> None:
    sev1 = _resolved(world, "Login down", IncidentSeverity.SEV1)
    sev2 = _resolved(world, "Checkout slow", IncidentSeverity.SEV2)
    _resolved(world, "Typo on a page", IncidentSeverity.SEV3)
    world.workspace.incidents.declare("Still open", IncidentSeverity.SEV1)
    found = {int(f.objects[0].key): f for f in only(world.audit(), "incident-without-postmortem")}
    assert set(found) == {sev1, sev2}
    assert found[sev1].severity is Severity.HIGH
    assert found[sev2].severity is Severity.MEDIUM
    assert found[sev1].area is Area.LEARNING
    assert f"incident export {sev1} --postmortem" in found[sev1].fix


def test_postmortem_without_action_items(world: World) -> None:
    incident_id = _resolved(world, "Login down", IncidentSeverity.SEV1)
    Postmortems(world.db, actor="tester", folder=world.folder, clock=world.clock).save(
        incident_id, "# Postmortem\n\nWhat happened."
    )
    report = world.audit()
    [item] = report.findings
    assert (item.check, item.severity) == ("postmortem-without-action-items", Severity.MEDIUM)
    assert objects(item) == [(ObjectKind.INCIDENT, str(incident_id))]
    learning = next(s for s in report.scores if s.area is Area.LEARNING)
    assert (learning.checked, learning.flagged, learning.score) == (1, 1, 0.0)
    ActionItems(world.db, actor="tester", clock=world.clock).add(
        "Alert on Redis memory",
        owner="Ann",
        incident_id=incident_id,
        due_on=date.fromisoformat("2026-04-01"),
    )
    after = world.audit()
    assert after.findings == ()
    assert next(s for s in after.scores if s.area is Area.LEARNING).score == 100.0


def test_overdue_action_items(world: World) -> None:
    items = ActionItems(world.db, actor="tester", clock=world.clock)
    urgent = items.add(
        "Fix the pool limit", owner="Ann", due_on=date.fromisoformat("2026-02-27"), priority="P1"
    )
    minor = items.add(
        "Tidy the dashboard", owner="Bob", due_on=date.fromisoformat("2026-02-28"), priority="P3"
    )
    items.add("Due today", owner="Bob", due_on=date.fromisoformat("2026-03-01"))
    finished = items.add("Done already", owner="Bob", due_on=date.fromisoformat("2026-01-01"))
    items.done(finished.id)
    report = world.audit()
    found = {int(f.objects[0].key): f for f in only(report, "action-item-overdue")}
    assert set(found) == {urgent.id, minor.id}
    assert found[urgent.id].severity is Severity.HIGH
    assert found[minor.id].severity is Severity.MEDIUM
    assert "is 2 days overdue (Ann)" in found[urgent.id].title
    assert found[urgent.id].objects[0].kind is ObjectKind.ACTION_ITEM
    improving = next(s for s in report.scores if s.area is Area.IMPROVING)
    assert (improving.checked, improving.flagged, improving.score) == (4, 2, 50.0)


def test_stale_and_missing_caches(world: World) -> None:
    world.clock.advance(days=8)
    found = {f.objects[0].key: f for f in only(world.audit(), "cache-stale")}
    assert set(found) == {"schedules"}
    assert found["schedules"].severity is Severity.MEDIUM
    assert "8 days old (limit 7 days; from test)" in found["schedules"].title
    world.clock.advance(days=7)  # 15 days: people past 14, schedules past twice 7
    found = {f.objects[0].key: f for f in only(world.audit(), "cache-stale")}
    assert set(found) == {"schedules", "people"}
    assert found["schedules"].severity is Severity.HIGH
    assert found["people"].severity is Severity.MEDIUM
    assert found["people"].area is Area.REACHABLE


def test_an_empty_workspace_says_nothing_was_imported(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path, actor="tester", clock=ManualClock(NOW))
    try:
        report = Auditor(workspace.db, actor="tester", clock=workspace.clock).run()
    finally:
        workspace.close()
    assert [(f.check, f.objects[0].key, f.severity) for f in report.findings] == [
        ("cache-stale", "catalog", Severity.HIGH),
        ("cache-stale", "people", Severity.HIGH),
        ("cache-stale", "schedules", Severity.HIGH),
    ]
    assert report.findings[0].title == "No catalog were ever imported"


# ------------------------------------------------------------ scores and trend


def test_scores_are_stored_and_the_next_audit_shows_the_trend(world: World) -> None:
    world.set_catalog(
        CATALOG.replace("    owner: team-orders\n    tier: tier-1\n", "    tier: tier-1\n")
    )
    first = world.audit(save=True)
    owned = next(s for s in first.scores if s.area is Area.OWNED)
    assert (owned.checked, owned.flagged, owned.score, owned.previous) == (3, 1, 66.7, None)
    assert first.history == ()
    world.clock.advance(hours=1)
    world.set_catalog(CATALOG)
    second = world.audit(save=True)
    owned = next(s for s in second.scores if s.area is Area.OWNED)
    assert (owned.score, owned.previous, owned.change) == (100.0, 66.7, 33.3)
    assert [run.findings for run in second.history] == [1]
    assert second.history[0].ran_at == NOW
    third = world.audit(save=False)
    assert [run.ran_at for run in third.history] == [NOW + timedelta(hours=1), NOW]
    assert len(Auditor(world.db, actor="x", clock=world.clock).history()) == 2


# ------------------------------------------------------------------ exports


def test_exports_escape_what_came_from_files(world: World) -> None:
    write_runbook(world.runbooks, "xss", title="<script>alert(1)</script> | *bold*", reviewed=None)
    world.import_runbooks()
    report = world.audit()
    page = to_html(report)
    assert "<script>" not in page
    assert html.escape("<script>alert(1)</script>") in page
    assert "src=" not in page
    assert "http" not in page
    assert page.startswith("<!DOCTYPE html>")
    text = to_markdown(report)
    assert "\\<script\\>alert(1)\\</script\\> \\| \\*bold\\*" in text
    assert "| runbooked | 75.0 | 4 | 1 |" in text  # 2 services, 2 runbooks
    assert "## Learning\n\nNo findings." in text
    assert export(report, "markdown") == text
    with pytest.raises(ValueError, match="unknown format"):
        export(report, "pdf")


def test_json_shape(world: World) -> None:
    world.set_catalog(
        CATALOG.replace("    owner: team-orders\n    tier: tier-1\n", "    tier: tier-1\n")
    )
    document = json.loads(json.dumps(report_json(world.audit())))
    assert set(document) == {"ran_at", "scores", "counts", "findings", "history"}
    assert document["ran_at"] == "2026-03-01T09:00:00Z"
    assert [s["area"] for s in document["scores"]] == [a.value for a in Area]
    assert set(document["scores"][0]) == {
        "area", "score", "checked", "flagged", "previous", "change", "definition",
    }  # fmt: skip
    assert document["counts"]["severity"] == {"high": 1, "medium": 0, "low": 0}
    [item] = document["findings"]
    assert item == {
        "id": f"service-without-owner:service:{ORDERS}",
        "check": "service-without-owner",
        "area": "owned",
        "severity": "high",
        "title": "Service orders-api has no owner",
        "objects": [{"kind": "service", "key": ORDERS, "label": "orders-api"}],
        "fix": item["fix"],
    }


# ------------------------------------------------------------------ the demo


def test_the_demo_workspace(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    workspace = Workspace.open(tmp_path / "demo", actor="tester", clock=clock)
    try:
        assert ensure_demo(workspace)
        report = Auditor(workspace.db, actor="tester", clock=clock).run()
    finally:
        workspace.close()
    by_check: dict[str, dict[str, Severity]] = {}
    for item in report.findings:
        by_check.setdefault(item.check, {})[item.objects[0].label] = item.severity
    no_policy = {
        "card-processor", "cdn-edge", "email-provider", "feature-flags", "fraud-check",
        "image-resizer", "inventory-service", "object-store", "opensearch", "pricing-engine",
        "recommendations", "shipping-api", "sms-provider",
    }  # fmt: skip
    assert set(by_check["service-without-escalation-policy"]) == no_policy
    assert by_check["service-without-escalation-policy"]["card-processor"] is Severity.HIGH
    assert by_check["service-without-escalation-policy"]["feature-flags"] is Severity.MEDIUM
    assert set(by_check["service-without-runbook"]) == no_policy
    assert by_check["runbook-review-overdue"] == {
        "TLS certificate expired or about to expire": Severity.MEDIUM,
        "Disk full on a node or database host": Severity.LOW,
    }
    # the payments gateway's annotation names one alert no runbook handles; the
    # OrdersApi5xxRate alert of the checkout incident has one
    assert by_check["alert-without-runbook"] == {"PaymentsGatewayPoolSaturated": Severity.MEDIUM}
    # the business-hours schedule's nights, the schedule with two days cached
    assert by_check["schedule-gap"] == {
        "Platform follow-the-sun": Severity.HIGH,
        "Data primary": Severity.MEDIUM,
    }
    assert by_check["incident-without-postmortem"] == {
        "#1 Login outage — auth-service cannot reach Redis": Severity.HIGH
    }
    assert set(by_check) == {
        "service-without-escalation-policy",
        "service-without-runbook",
        "runbook-review-overdue",
        "alert-without-runbook",
        "schedule-gap",
        "incident-without-postmortem",
    }
    owned, *_, improving = report.scores
    assert owned.checked == 27
    assert owned.flagged == 13
    assert improving.score is None
