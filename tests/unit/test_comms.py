"""Communication templates, status updates, postmortems, action items and timeline
import: the core, on a real migrated database and a manual clock."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from console.comms.actions import ActionItems, export_csv, export_markdown
from console.comms.postmortem import Postmortems, to_html
from console.comms.templating import TemplateError, load_folders, markdown_to_plain, parse_template
from console.comms.timeline_import import import_timeline, read_events
from console.comms.updates import VARIABLES, Communications
from console.domain.checklist import ChecklistTemplate, update_cadence
from console.domain.errors import InvalidInputError, NotFoundError
from console.domain.incident import EntryKind, Role, Severity, Status
from console.ops.incidents import IncidentService
from console.ops.queries import Queries
from console.storage.db import Database
from tests.unit.support import FakeClock, raw_rows, raw_scalar

GOLDEN = Path(__file__).parent.parent / "fixtures" / "comms" / "postmortem_golden.md"


@pytest.fixture
def comms(
    db: Database,
    service: IncidentService,
    data_dir: Path,
    templates: list[ChecklistTemplate],
    clock: FakeClock,
) -> Communications:
    return Communications(db, service, folder=data_dir, checklists=templates, clock=clock)


def declare(service: IncidentService, severity: Severity = Severity.SEV1) -> int:
    outcome = service.declare(
        "Checkout failing",
        severity,
        summary="Card payments fail for about 30% of customers.",
        commander="Ana",
    )
    assert outcome.incident is not None
    return outcome.incident.id


# ------------------------------------------------------------------ templates


def test_every_shipped_template_loads(comms: Communications) -> None:
    found, refused = comms.templates()
    assert refused == []
    assert {t.id for t in found} == {
        "status-investigating",
        "status-identified",
        "status-monitoring",
        "status-resolved",
        "customer-email",
        "internal-update",
        "can-report",
    }
    assert all(t.title and not t.user for t in found)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("no front matter\n", 1, "expected front matter"),
        ("---\ntitle: x\n\n", 1, "never closed"),
        ("---\naudience: a\n---\nbody\n", 1, "no 'title'"),
        ("---\ntitle: x\nnot a pair\n---\n", 3, "not 'key: value'"),
        ("---\ntitle: x\n---\nok {{ title }}\nhi {{ sevrity }}\n", 5, "unknown variable 'sevrity'"),
        ("---\ntitle: x\n---\n\n\nhi {{ title\n", 6, "not closed"),
        ("---\ntitle: x\n---\nhi }} there\n", 4, "without an opening"),
        ("---\ntitle: x\n---\nhi {{ title }} }}\n", 4, "without an opening"),
        ("---\ntitle: x\n---\n{{ 1x }}\n", 4, "not a variable name"),
        ("---\ntitle: x\n---\n{{ a {{ title }}\n", 4, "not closed before"),
        ("---\ntitle: x\n---\n{{}}\n", 4, "not a variable name"),
    ],
)
def test_bad_templates_are_refused_with_file_and_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(text, path="t/bad.md", known=VARIABLES)
    assert caught.value.refusal.line == line
    assert reason in caught.value.refusal.reason
    assert str(caught.value).startswith(f"t/bad.md:{line}: ")


def test_user_folder_overrides_and_bad_user_file_keeps_shipped(
    comms: Communications, data_dir: Path
) -> None:
    folder = comms.user_folder
    folder.mkdir(parents=True)
    (folder / "status-resolved.md").write_text(
        "---\ntitle: Ours — resolved\n---\nAll good: {{ title }}\n", encoding="utf-8"
    )
    (folder / "status-monitoring.md").write_text(
        "---\ntitle: Broken\n---\n{{ nope }}\n", encoding="utf-8"
    )
    (folder / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    found, refused = comms.templates()
    by_id = {t.id: t for t in found}
    assert by_id["status-resolved"].title == "Ours — resolved"
    assert by_id["status-resolved"].user
    assert by_id["status-monitoring"].title == "Status page — Monitoring"  # shipped kept
    assert sorted((Path(r.path).name, r.line) for r in refused) == [
        ("latin1.md", None),
        ("status-monitoring.md", 4),
    ]
    with pytest.raises(NotFoundError, match="no template 'nope'"):
        comms.template("nope")
    with pytest.raises(NotFoundError, match=r"latin1\.md: not UTF-8"):
        comms.template("latin1")


def test_load_folders_skips_missing_folder(tmp_path: Path) -> None:
    assert load_folders([(tmp_path / "absent", True)], VARIABLES) == ([], [])


def test_plain_text_drops_markup() -> None:
    text = "## Head\n**Bold** and _it_ and `code`, [site](https://x.test) snake_case_name\n"
    assert markdown_to_plain(text) == (
        "Head\nBold and it and code, site (https://x.test) snake_case_name\n"
    )


# --------------------------------------------------------------- updates, cadence


def test_cadence_per_severity(templates: list[ChecklistTemplate]) -> None:
    # SEV3 every 2 h, SEV4 daily (resources/checklists/incident.yaml)
    assert [update_cadence(templates, s) for s in Severity] == [30, 60, 120, 1440]
    assert update_cadence([t for t in templates if t.id != "sev4-cadence"], Severity.SEV4) is None


def test_draft_fills_the_incident_facts(
    comms: Communications, service: IncidentService, clock: FakeClock
) -> None:
    incident_id = declare(service)
    service.assign_role(incident_id, Role.COMMUNICATIONS_LEAD, "Cleo")
    clock.advance(minutes=12)
    values = comms.values(incident_id)
    assert values["severity"] == "SEV1"
    assert values["severity_definition"] == Severity.SEV1.definition
    assert values["impact"] == "Card payments fail for about 30% of customers."
    assert values["commander"] == "Ana"
    assert values["comms_lead"] == "Cleo"
    assert values["started_at"] == "2026-03-01 09:00 UTC"
    assert values["duration"] == "12 min"
    assert values["cadence"] == "every 30 min"
    assert values["next_update"] == "2026-03-01 09:30 UTC"  # the SEV1 cadence item's due time
    assert values["status_label"] == "Investigating"
    draft = comms.draft(incident_id, "status-investigating")
    assert draft.next_update == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert "{{" not in draft.markdown
    assert draft.markdown.startswith("**Investigating** — Checkout failing")
    assert draft.plain.startswith("Investigating — Checkout failing")
    assert "by 2026-03-01 09:30 UTC" in draft.plain


def test_sev3_updates_every_two_hours(comms: Communications, service: IncidentService) -> None:
    values = comms.values(declare(service, Severity.SEV3))
    assert (values["cadence"], values["next_update"]) == ("every 2 h", "2026-03-01 11:00 UTC")


def test_sev4_updates_daily_and_resolved_has_no_next_update(
    comms: Communications, service: IncidentService
) -> None:
    incident_id = declare(service, Severity.SEV4)
    values = comms.values(incident_id)
    assert (values["cadence"], values["next_update"]) == ("every 24 h", "2026-03-02 09:00 UTC")
    service.change_status(incident_id, Status.RESOLVED)
    assert comms.values(incident_id)["status_label"] == "Resolved"
    assert comms.draft(incident_id, "status-resolved").next_update is None


def test_sending_logs_status_update_outbox_and_restarts_cadence(
    comms: Communications,
    service: IncidentService,
    queries: Queries,
    clock: FakeClock,
    db_path: Path,
) -> None:
    incident_id = declare(service)
    clock.advance(minutes=40)  # the update is 10 min late: a reminder is due
    assert "Post a status update" in [r.title for r in queries.reminders(clock.now)]
    draft = comms.draft(incident_id, "status-investigating")
    outcome = comms.send(incident_id, draft.template, draft.markdown + "\nEdited.")
    entry = outcome.entry
    assert entry is not None
    assert entry.kind is EntryKind.STATUS_UPDATE
    assert entry.text.endswith("Edited.")
    assert entry.data["template"] == "status-investigating"
    assert entry.data["audience"] == "status page"
    assert entry.data["next_due"] == (clock.now + timedelta(minutes=30)).isoformat()
    assert outcome.changes.outbox
    assert outcome.changes.checklist == {incident_id}
    operation, payload = raw_rows(
        db_path, "SELECT operation, payload FROM outbox WHERE entry_uuid = ?", (entry.uuid.hex,)
    )[0]
    assert operation == "incident.status_update"
    assert json.loads(payload)["template"] == "status-investigating"
    assert "Post a status update" not in [r.title for r in queries.reminders(clock.now)]
    assert comms.values(incident_id)["next_update"] == "2026-03-01 10:10 UTC"


def test_sending_refuses_empty_text_and_closed_incident(
    comms: Communications, service: IncidentService, db_path: Path
) -> None:
    incident_id = declare(service)
    template = comms.template("status-resolved")
    with pytest.raises(InvalidInputError, match="update is empty"):
        comms.send(incident_id, template, "   ")
    with pytest.raises(InvalidInputError, match="written by their own operation"):
        service.log(incident_id, EntryKind.STATUS_UPDATE, "x")
    service.change_status(incident_id, Status.RESOLVED)
    service.change_status(incident_id, Status.CLOSED)
    before = raw_scalar(db_path, "SELECT count(*) FROM timeline_entries")
    with pytest.raises(InvalidInputError, match="closed"):
        comms.send(incident_id, template, "late")
    assert raw_scalar(db_path, "SELECT count(*) FROM timeline_entries") == before


# ----------------------------------------------------------------- timeline import


def test_import_jsonl_and_csv_with_aliases_then_reimport_adds_nothing(
    db: Database, service: IncidentService, queries: Queries, tmp_path: Path, db_path: Path
) -> None:
    incident_id = declare(service)
    jsonl = tmp_path / "alerts.jsonl"
    jsonl.write_text(
        '{"@timestamp": "2026-03-01T08:41:00Z", "service": "alertmanager", '
        '"msg": "HighErrorRate firing", "severity": "page"}\n'
        "\n"
        '{"time": 1772354580, "message": "epoch seconds, no source"}\n'
        '{"ts": "2026-03-01T08:44:00Z"}\n'
        "[not json\n"
        '["an", "array"]\n'
        '{"ts": "yesterday", "msg": "x"}\n',
        encoding="utf-8",
    )
    table = tmp_path / "deploys.csv"
    table.write_text(
        "\ufeffWhen;Host;Description\n"
        "2026-03-01 08:30:00;deployer;Deploy orders-api v2.3.1\n"
        "2026-03-01T09:30:00+01:00;deployer;offset honoured\n"
        "2026-03-01 08:35:00;deployer;too;many;cells\n"
        ";deployer;no time\n",
        encoding="utf-8",
    )
    report = import_timeline(db, service, incident_id, [jsonl, table])
    assert sorted((Path(r.path).name, r.line) for r in report.refused) == [
        ("alerts.jsonl", 4),
        ("alerts.jsonl", 5),
        ("alerts.jsonl", 6),
        ("alerts.jsonl", 7),
        ("deploys.csv", 4),
        ("deploys.csv", 5),
    ]
    reasons = {r.line: r.reason for r in report.refused if r.path.endswith("jsonl")}
    assert "no message" in reasons[4]
    assert "not ISO 8601" in reasons[7]
    assert report.read_any
    assert report.duplicates == 0
    added = [(e.occurred_at.strftime("%H:%M"), e.data["source"], e.text) for e in report.added]
    assert added == [  # merged in time order
        ("08:30", "deployer", "Deploy orders-api v2.3.1"),
        ("08:30", "deployer", "offset honoured"),
        ("08:41", "alertmanager", "HighErrorRate firing"),
        ("08:43", "alerts", "epoch seconds, no source"),
    ]
    assert all(e.kind is EntryKind.IMPORTED and e.source == "imported" for e in report.added)
    assert report.added[2].data["severity"] == "page"
    # no outbox rows for imported events; the import is recorded in cache_sets
    assert raw_scalar(db_path, "SELECT count(*) FROM outbox WHERE operation = 'incident.note'") == 1
    assert raw_scalar(db_path, "SELECT source FROM cache_sets WHERE name='timeline_import'")
    count = queries.timeline_count(incident_id)
    again = import_timeline(db, service, incident_id, [table, jsonl])
    assert (again.added, again.duplicates) == ([], 4)
    assert queries.timeline_count(incident_id) == count


def test_import_refuses_whole_files_that_cannot_be_read(tmp_path: Path) -> None:
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"time,message\n\xff\xfe\n")
    assert "not UTF-8" in read_events(binary).refused[0].reason
    headerless = tmp_path / "y.csv"
    headerless.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = read_events(headerless)
    assert not refused.read_any
    assert "no timestamp column" in refused.refused[0].reason
    assert read_events(tmp_path / "missing.csv").refused[0].reason.startswith("cannot be read")
    broken = tmp_path / "z.json"
    broken.write_text('[{"time": 1}', encoding="utf-8")
    assert "not valid JSON" in read_events(broken).refused[0].reason


def test_naive_times_read_in_the_zone_given(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    path = tmp_path / "e.csv"
    path.write_text("time,message\n2026-07-01 09:00:00,summer\n", encoding="utf-8")
    (event,) = read_events(path, zone=ZoneInfo("Europe/London")).events
    assert event.occurred_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_import_into_missing_incident_changes_nothing(
    db: Database, service: IncidentService, tmp_path: Path, db_path: Path
) -> None:
    path = tmp_path / "e.csv"
    path.write_text("time,message\n2026-03-01T08:00:00Z,x\n", encoding="utf-8")
    with pytest.raises(NotFoundError):
        import_timeline(db, service, 99, [path])
    assert raw_scalar(db_path, "SELECT count(*) FROM timeline_entries") == 0


# --------------------------------------------------------------------- action items


def test_action_items_add_done_overdue_and_exports(db: Database, service: IncidentService) -> None:
    clock = FakeClock()
    incident_id = declare(service)
    items = ActionItems(db, actor="alice", clock=clock)
    late = items.add(
        "=HYPERLINK(evil)",
        owner="Bob",
        incident_id=incident_id,
        due_on=date(2026, 2, 27),
        priority="p1",
        kind="Detect",
    )
    today = items.add("Runbook for pool exhaustion", owner="Cleo", due_on=date(2026, 3, 1))
    later = items.add("Load test checkout", owner="Dee", kind="prevent")
    assert (late.priority, late.kind, late.status) == ("P1", "detect", "open")
    assert [i.id for i in items.overdue(date(2026, 3, 1))] == [late.id]
    done = items.done(today.id)
    assert (done.status, done.done_at) == ("done", clock.now)
    with pytest.raises(InvalidInputError, match="already done"):
        items.done(today.id)
    listed = items.items()
    assert [i.id for i in listed] == [late.id, later.id, today.id]
    assert [i.id for i in items.items(open_only=True)] == [late.id, later.id]
    assert [i.id for i in items.items(incident_id=incident_id)] == [late.id]

    rows = list(csv.reader(io.StringIO(export_csv(listed))))
    assert rows[0] == ["id", "incident", "title", "owner", "due", "priority", "type", "status",
                       "done_at"]  # fmt: skip
    assert rows[1][2] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet
    assert rows[3][7] == "done"
    markdown = export_markdown(listed, date(2026, 3, 1))
    assert markdown.splitlines() == [
        "- [ ] =HYPERLINK(evil) — Bob (P1, detect, due 2026-02-27) **overdue**",
        "- [ ] Load test checkout — Dee (P2, prevent)",
        "- [x] Runbook for pool exhaustion — Cleo (P2, prevent, due 2026-03-01)",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": " ", "owner": "a"}, "title is empty"),
        ({"title": "t", "owner": ""}, "needs an owner"),
        ({"title": "t", "owner": "a", "priority": "P9"}, "unknown priority"),
        ({"title": "t", "owner": "a", "kind": "fix"}, "unknown type"),
        ({"title": "t", "owner": "a", "incident_id": 42}, "no incident 42"),
    ],
)
def test_action_item_refusals_change_nothing(
    db: Database, db_path: Path, kwargs: dict[str, object], message: str
) -> None:
    items = ActionItems(db, actor="alice")
    with pytest.raises((InvalidInputError, NotFoundError), match=message):
        items.add(**kwargs)  # type: ignore[arg-type]
    assert raw_scalar(db_path, "SELECT count(*) FROM action_items") == 0
    with pytest.raises(NotFoundError):
        items.done(7)


# ----------------------------------------------------------------------- postmortem


def script_incident(
    db: Database, service: IncidentService, clock: FakeClock, tmp_path: Path
) -> int:
    """A scripted SEV2: alert before declaration, triage, notes, a severity raise,
    a runbook step, an update sent, mitigation, resolution, and an action item."""
    comms = Communications(db, service, folder=tmp_path, checklists=(), clock=clock)
    incident_id = service.declare(
        "Checkout failing", Severity.SEV2, summary="Card payments fail for 30% of customers."
    ).incident.id  # type: ignore[union-attr]
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text(
        '{"ts": "2026-03-01T08:52:00Z", "source": "alertmanager", "msg": "5xx rate > 5%"}\n',
        encoding="utf-8",
    )
    import_timeline(db, service, incident_id, [alerts], clock=clock)
    clock.advance(minutes=3)
    service.assign_role(incident_id, Role.INCIDENT_COMMANDER, "Ana")
    clock.advance(minutes=2)
    service.change_status(incident_id, Status.TRIAGE)
    for n in range(6):
        clock.advance(minutes=1)
        service.add_note(incident_id, f"checked pool metrics on db-{n} | no change")
    clock.advance(minutes=1)
    service.change_severity(incident_id, Severity.SEV1)
    clock.advance(minutes=2)
    service.log(incident_id, EntryKind.RUNBOOK_STEP, "Step 3: raise max_connections", {})
    note = service.add_note(incident_id, "typo here").entry
    assert note is not None
    service.correct(incident_id, note.uuid, "pool raised to 400")
    clock.advance(minutes=1)
    template = comms.template("status-identified")
    comms.send(incident_id, template, comms.draft(incident_id, template).markdown)
    clock.advance(minutes=4)
    service.change_status(incident_id, Status.MITIGATING)
    clock.advance(minutes=20)
    service.change_status(incident_id, Status.RESOLVED)
    ActionItems(db, actor="alice", clock=clock).add(
        "Alert on pool saturation", owner="Bob", incident_id=incident_id,
        due_on=date(2026, 3, 15), kind="detect",
    )  # fmt: skip
    return incident_id


def test_postmortem_draft_matches_golden_file(
    db: Database, service: IncidentService, clock: FakeClock, tmp_path: Path
) -> None:
    incident_id = script_incident(db, service, clock, tmp_path)
    draft = Postmortems(db, actor="alice", clock=clock).draft(incident_id)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(draft, encoding="utf-8")
    assert draft == GOLDEN.read_text(encoding="utf-8")


def test_postmortem_is_stored_editable_and_exported(
    db: Database, service: IncidentService, clock: FakeClock, tmp_path: Path, db_path: Path
) -> None:
    incident_id = script_incident(db, service, clock, tmp_path)
    postmortems = Postmortems(db, actor="alice", clock=clock)
    assert postmortems.get(incident_id) is None
    opened = postmortems.open(incident_id)
    assert opened.markdown.startswith("# Postmortem: Checkout failing")
    clock.advance(hours=1)
    edited = postmortems.save(incident_id, opened.markdown + "\n<script>alert(1)</script>\n")
    assert edited.drafted_at == opened.drafted_at
    assert edited.updated_at == clock.now
    assert postmortems.open(incident_id).markdown.endswith("</script>\n")  # kept as written
    assert raw_scalar(db_path, "SELECT count(*) FROM postmortems") == 1
    html = postmortems.export(incident_id, "html")
    assert "<script" not in html
    assert "Time to resolve" in html
    assert "<table" in html
    with pytest.raises(InvalidInputError, match="unknown format"):
        postmortems.export(incident_id, "pdf")
    with pytest.raises(NotFoundError):
        postmortems.save(404, "x")
    assert "<h1" in to_html("# x")


def test_broken_user_postmortem_template_is_refused_with_line(
    db: Database, service: IncidentService, data_dir: Path
) -> None:
    incident_id = declare(service)
    (data_dir / "templates").mkdir()
    (data_dir / "templates" / "postmortem.md").write_text(
        "---\ntitle: ours\n---\n# {{ title }}\n{{ root_cause }}\n", encoding="utf-8"
    )
    postmortems = Postmortems(db, actor="alice", folder=data_dir)
    with pytest.raises(InvalidInputError, match=r"postmortem\.md:5: unknown variable"):
        postmortems.draft(incident_id)
