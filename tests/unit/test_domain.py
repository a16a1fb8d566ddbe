"""Pure domain rules: severities, triage helper, roles, statuses, quick entry, templates."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.domain import commands
from console.domain.checklist import (
    ChecklistTemplate,
    TemplateItem,
    next_due,
    parse_templates,
    templates_for,
)
from console.domain.clock import ensure_utc
from console.domain.errors import ConsoleError, InvalidInputError
from console.domain.incident import (
    SEVERITY_DEFINITIONS,
    EntryKind,
    Role,
    Severity,
    Status,
    TriageAnswers,
    UsersAffected,
    parse_role,
    parse_severity,
    parse_status,
    suggest_severity,
)
from console.ops.templates import load_templates

# ----------------------------------------------------------------- severities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", Severity.SEV1),
        ("2", Severity.SEV2),
        ("sev-2", Severity.SEV2),
        ("SEV3", Severity.SEV3),
        ("sev4", Severity.SEV4),
        (" Sev 1 ", Severity.SEV1),
        ("S3", Severity.SEV3),
        ("s4", Severity.SEV4),
        ("SEV-1", Severity.SEV1),
    ],
)
def test_parse_severity_accepts_common_spellings(text: str, expected: Severity) -> None:
    assert parse_severity(text) is expected


@pytest.mark.parametrize("text", ["", "0", "5", "sev5", "S", "S0", "critical", "SEV", "1.5", "S-"])
def test_parse_severity_refuses_with_usage_error(text: str) -> None:
    with pytest.raises(InvalidInputError, match="unknown severity") as caught:
        parse_severity(text)
    assert repr(text) in str(caught.value)
    assert "SEV1, SEV2, SEV3 or SEV4" in str(caught.value)
    assert caught.value.exit_code == 2


def test_every_severity_has_a_written_definition_and_rank() -> None:
    assert set(SEVERITY_DEFINITIONS) == set(Severity)
    for severity in Severity:
        assert len(severity.definition) > 40
        assert severity.definition == SEVERITY_DEFINITIONS[severity]
    assert [s.rank for s in Severity] == [1, 2, 3, 4]
    first_words = [Severity(s).definition.split(":")[0] for s in Severity]
    assert first_words == ["Critical", "Major", "Minor", "Low"]


# --------------------------------------------------------------- triage helper


def _answers(
    users: UsersAffected,
    *,
    revenue: bool = False,
    data: bool = False,
    workaround: bool = False,
) -> TriageAnswers:
    return TriageAnswers(
        users, revenue_at_risk=revenue, data_at_risk=data, workaround_exists=workaround
    )


@pytest.mark.parametrize(
    ("answers", "severity", "reason_words"),
    [
        (_answers(UsersAffected.NONE, data=True), Severity.SEV1, "data"),
        (_answers(UsersAffected.ALL, workaround=True), Severity.SEV1, "all customers"),
        (_answers(UsersAffected.MANY, revenue=True), Severity.SEV1, "revenue"),
        (_answers(UsersAffected.MANY, workaround=True), Severity.SEV3, "workaround"),
        (_answers(UsersAffected.MANY), Severity.SEV2, "no workaround"),
        (_answers(UsersAffected.NONE, revenue=True), Severity.SEV2, "revenue is at risk"),
        (_answers(UsersAffected.FEW, revenue=True), Severity.SEV2, "revenue is at risk"),
        (_answers(UsersAffected.FEW), Severity.SEV3, "small group"),
        (_answers(UsersAffected.FEW, workaround=True), Severity.SEV3, "small group"),
        (_answers(UsersAffected.NONE), Severity.SEV4, "no customer impact"),
        (_answers(UsersAffected.NONE, workaround=True), Severity.SEV4, "no customer impact"),
    ],
)
def test_triage_helper_branches(
    answers: TriageAnswers, severity: Severity, reason_words: str
) -> None:
    suggestion = suggest_severity(answers)
    assert suggestion.severity is severity
    assert reason_words in suggestion.reason


def test_triage_helper_is_monotonic_in_impact() -> None:
    """More impact never suggests a milder severity (exhaustive over all answers)."""
    order = [UsersAffected.NONE, UsersAffected.FEW, UsersAffected.MANY, UsersAffected.ALL]
    for revenue, data, workaround in itertools.product([False, True], repeat=3):
        ranks = [
            suggest_severity(
                _answers(u, revenue=revenue, data=data, workaround=workaround)
            ).severity.rank
            for u in order
        ]
        assert ranks == sorted(ranks, reverse=True), (revenue, data, workaround, ranks)
    for users, workaround in itertools.product(order, [False, True]):
        calm = suggest_severity(_answers(users, workaround=workaround)).severity.rank
        with_data = suggest_severity(_answers(users, data=True, workaround=workaround))
        with_revenue = suggest_severity(_answers(users, revenue=True, workaround=workaround))
        assert with_data.severity is Severity.SEV1
        assert with_revenue.severity.rank <= calm


# ---------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ic", Role.INCIDENT_COMMANDER),
        ("IC", Role.INCIDENT_COMMANDER),
        ("commander", Role.INCIDENT_COMMANDER),
        ("incident commander", Role.INCIDENT_COMMANDER),
        ("incident-commander", Role.INCIDENT_COMMANDER),
        ("comms", Role.COMMUNICATIONS_LEAD),
        ("cl", Role.COMMUNICATIONS_LEAD),
        ("communications", Role.COMMUNICATIONS_LEAD),
        ("communications_lead", Role.COMMUNICATIONS_LEAD),
        ("ops", Role.OPERATIONS_LEAD),
        ("ol", Role.OPERATIONS_LEAD),
        ("Operations Lead", Role.OPERATIONS_LEAD),
        ("scribe", Role.SCRIBE),
        (" Scribe ", Role.SCRIBE),
    ],
)
def test_parse_role(text: str, expected: Role) -> None:
    assert parse_role(text) is expected


@pytest.mark.parametrize("text", ["", "boss", "lead", "i c"])
def test_parse_role_refuses(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"unknown role .*use ic, comms, ops or scribe"):
        parse_role(text)


def test_role_labels() -> None:
    assert {r.short for r in Role} == {"IC", "Comms", "Ops", "Scribe"}
    assert Role.INCIDENT_COMMANDER.label == "Incident commander"
    assert all(r.label for r in Role)


# ------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("open", Status.OPEN),
        ("Triage", Status.TRIAGE),
        ("MITIGATING", Status.MITIGATING),
        ("resolved", Status.RESOLVED),
        ("post-incident", Status.POST_INCIDENT),
        ("post_incident", Status.POST_INCIDENT),
        ("post incident", Status.POST_INCIDENT),
        ("postincident", Status.POST_INCIDENT),
        ("post", Status.POST_INCIDENT),
        (" closed ", Status.CLOSED),
    ],
)
def test_parse_status(text: str, expected: Status) -> None:
    assert parse_status(text) is expected


def test_parse_status_refuses_and_lists_the_choices() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_status("done")
    message = str(caught.value)
    assert "'done'" in message
    for status in Status:
        assert status.value in message


def test_status_labels_and_activity() -> None:
    assert Status.POST_INCIDENT.label == "Post incident"
    assert {s for s in Status if s.is_active} == {Status.OPEN, Status.TRIAGE, Status.MITIGATING}


def test_entry_kind_labels() -> None:
    assert EntryKind.STATUS_CHANGE.label == "status change"
    assert len({k.value for k in EntryKind}) == len(EntryKind)


def test_ensure_utc_refuses_naive_and_converts_aware() -> None:
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1))  # a naive datetime: the point of the test
    from datetime import timezone

    plus_two = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    converted = ensure_utc(plus_two)
    assert converted.tzinfo is UTC
    assert converted.hour == 10


# ----------------------------------------------------------------- quick entry


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("db is slow", commands.AddNote("db is slow")),
        ("   padded note  ", commands.AddNote("padded note")),
        ("//etc/hosts was edited", commands.AddNote("/etc/hosts was edited")),
        ("// slash with space", commands.AddNote("/ slash with space")),
        ("/sev 1", commands.SetSeverity(Severity.SEV1)),
        ("/SEV sev-2", commands.SetSeverity(Severity.SEV2)),
        ("/severity S3", commands.SetSeverity(Severity.SEV3)),
        ("/status mitigating", commands.SetStatus(Status.MITIGATING)),
        ("/st post incident", commands.SetStatus(Status.POST_INCIDENT)),
        ("/resolve", commands.SetStatus(Status.RESOLVED)),
        ("/resolved", commands.SetStatus(Status.RESOLVED)),
        ("/ic Alex Doe", commands.AssignRole(Role.INCIDENT_COMMANDER, "Alex Doe")),
        ("/comms  Bea", commands.AssignRole(Role.COMMUNICATIONS_LEAD, "Bea")),
        ("/cl Bea", commands.AssignRole(Role.COMMUNICATIONS_LEAD, "Bea")),
        ("/ops Cy", commands.AssignRole(Role.OPERATIONS_LEAD, "Cy")),
        ("/scribe Dee", commands.AssignRole(Role.SCRIBE, "Dee")),
        ("/role ops Cy Young", commands.AssignRole(Role.OPERATIONS_LEAD, "Cy Young")),
        ("/role ic  Alex", commands.AssignRole(Role.INCIDENT_COMMANDER, "Alex")),
        ("/done 2", commands.TickItem(2)),
        ("/tick 10", commands.TickItem(10)),
        ("/fix the real text", commands.CorrectLast("the real text")),
        ("/correct x", commands.CorrectLast("x")),
    ],
)
def test_quick_entry_commands(line: str, expected: commands.QuickCommand) -> None:
    assert commands.parse_quick_entry(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "nothing to log"),
        ("   ", "nothing to log"),
        ("/sev", r"needs a value, e\.g\. /sev 1"),
        ("/sev 7", "unknown severity"),
        ("/status", "needs a value"),
        ("/status sideways", "unknown status"),
        ("/ic", r"needs a value, e\.g\. /ic Alex Doe"),
        ("/comms   ", "needs a value"),
        ("/role", "needs a value"),
        ("/role ic", "needs a value"),
        ("/role chef Gordon", "unknown role"),
        ("/done", "needs a value"),
        ("/done two", "checklist item number, not 'two'"),
        ("/done 0", "checklist item number"),
        ("/done -1", "checklist item number"),
        ("/fix", "needs a value"),
        ("/frobnicate now", r"unknown command /frobnicate\. Type a note"),
        ("/", "unknown command /\\."),
    ],
)
def test_quick_entry_errors(line: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        commands.parse_quick_entry(line)


def test_help_names_every_command() -> None:
    for name in ("/sev", "/status", "/ic", "/comms", "/ops", "/scribe", "/done", "/fix", "//"):
        assert name in commands.HELP


# -------------------------------------------------------------------- templates

GOOD: dict[str, Any] = {
    "version": 1,
    "templates": [
        {
            "id": "base",
            "title": "Base",
            "items": ["Say hello", {"title": "Update", "every_minutes": 15, "key": "base.upd"}],
        },
        {
            "id": "ic-only",
            "role": "ic",
            "severities": ["SEV1", "2"],
            "items": [{"title": "Check in"}],
        },
    ],
}


def test_parse_templates_good_document() -> None:
    parsed = parse_templates(GOOD, source="team.yaml")
    assert [t.id for t in parsed] == ["base", "ic-only"]
    base, ic_only = parsed
    assert base.title == "Base"
    assert base.severities == frozenset(Severity)
    assert base.role is None
    assert base.items == (
        TemplateItem("base.1", "Say hello"),
        TemplateItem("base.upd", "Update", every_minutes=15),
    )
    assert ic_only.title == "ic-only"  # defaults to the id
    assert ic_only.role is Role.INCIDENT_COMMANDER
    assert ic_only.severities == {Severity.SEV1, Severity.SEV2}
    assert ic_only.items == (TemplateItem("ic-only.1", "Check in"),)
    assert base.applies(Severity.SEV4, None)
    assert not base.applies(Severity.SEV4, Role.SCRIBE)
    assert ic_only.applies(Severity.SEV2, Role.INCIDENT_COMMANDER)
    assert not ic_only.applies(Severity.SEV3, Role.INCIDENT_COMMANDER)
    assert templates_for(parsed, Severity.SEV1, None) == [base]
    assert templates_for(parsed, Severity.SEV1, Role.INCIDENT_COMMANDER) == [ic_only]
    assert templates_for(parsed, Severity.SEV4, Role.INCIDENT_COMMANDER) == []


def _with_template(**changes: Any) -> dict[str, Any]:
    template: dict[str, Any] = {"id": "t", "items": ["a"]}
    for key, value in changes.items():
        if value is _DROP:
            template.pop(key, None)
        else:
            template[key] = value
    return {"version": 1, "templates": [template]}


_DROP = object()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "expected a mapping with 'version' and 'templates'"),
        (["a"], "expected a mapping"),
        ("text", "expected a mapping"),
        ({"templates": []}, "unsupported template version None"),
        ({"version": 2, "templates": []}, "unsupported template version 2"),
        ({"version": "1", "templates": []}, "unsupported template version '1'"),
        ({"version": 1}, "'templates' must be a list"),
        ({"version": 1, "templates": {"id": "x"}}, "'templates' must be a list"),
        ({"version": 1, "templates": ["x"]}, r"template #1: expected a mapping"),
        (_with_template(id=_DROP), r"template #1: 'id' is required"),
        (_with_template(id="  "), r"template #1: 'id' is required"),
        (_with_template(id=5), r"template #1: 'id' is required and must be text"),
        (_with_template(severities=[]), r"template 't': 'severities' must be a non-empty list"),
        (_with_template(severities="SEV1"), "'severities' must be a non-empty list"),
        (_with_template(severities=["SEV9"]), "unknown severity 'SEV9'"),
        (_with_template(role="chef"), "unknown role 'chef'"),
        (_with_template(items=_DROP), r"template 't': 'items' must be a non-empty list"),
        (_with_template(items=[]), "'items' must be a non-empty list"),
        (_with_template(items=[3]), r"template 't' item #1: expected text or a mapping"),
        (_with_template(items=[{"every_minutes": 5}]), r"item #1: 'title' is required"),
        (_with_template(items=[{"title": "x", "every_minutes": 0}]), "whole number ≥ 1"),
        (_with_template(items=[{"title": "x", "every_minutes": -5}]), "whole number ≥ 1"),
        (_with_template(items=[{"title": "x", "every_minutes": 1.5}]), "whole number ≥ 1"),
        (_with_template(items=[{"title": "x", "every_minutes": "30"}]), "whole number ≥ 1"),
        (_with_template(items=[{"title": "x", "every_minutes": True}]), "whole number ≥ 1"),
        (
            _with_template(items=[{"title": "x", "key": "k"}, {"title": "y", "key": "k"}]),
            r"template 't': item keys must be unique",
        ),
        (
            {"version": 1, "templates": [{"id": "t", "items": ["a"]}, {"id": "t", "items": ["b"]}]},
            "template ids must be unique",
        ),
    ],
)
def test_parse_templates_errors_name_the_source(document: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        parse_templates(document, source="/teams/blue/checklists.yaml")
    assert str(caught.value).startswith("/teams/blue/checklists.yaml")
    assert isinstance(caught.value, ConsoleError)


def test_load_templates_from_folder_names_the_broken_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\ntemplates:\n  - id: a\n    items: [x]\n")
    (tmp_path / "ignored.txt").write_text("not yaml: [")
    assert [t.id for t in load_templates(tmp_path)] == ["a"]

    (tmp_path / "b.yaml").write_text("version: 1\ntemplates: [ {id: b, items: [x]\n")
    with pytest.raises(InvalidInputError, match="not valid YAML") as caught:
        load_templates(tmp_path)
    assert str(tmp_path / "b.yaml") in str(caught.value)

    (tmp_path / "b.yaml").write_text("version: 1\ntemplates:\n  - id: a\n    items: [y]\n")
    with pytest.raises(InvalidInputError, match="template ids used twice: a") as caught:
        load_templates(tmp_path)
    assert str(tmp_path) in str(caught.value)

    (tmp_path / "b.yaml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        load_templates(tmp_path)


def test_shipped_templates_parse_and_cover_every_severity() -> None:
    shipped: list[ChecklistTemplate] = load_templates()
    for severity in Severity:
        assert templates_for(shipped, severity, None), severity
    keys = [item.key for t in shipped for item in t.items]
    assert len(keys) == len(set(keys)), "item keys are unique across templates"


def test_next_due_is_anchored_on_completion() -> None:
    done = datetime(2026, 3, 1, 10, 7, tzinfo=UTC)
    assert next_due(None, done, 30) == done + timedelta(minutes=30)
    late_previous = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert next_due(late_previous, done, 30) == datetime(2026, 3, 1, 10, 37, tzinfo=UTC)
    early_previous = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert next_due(early_previous, done, 1) == done + timedelta(minutes=1)


def test_freshness_names_a_path_source_by_its_file_for_a_label() -> None:
    from datetime import UTC, datetime

    from console.domain.freshness import Freshness

    now = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    fresh = Freshness("catalog", now, "team/catalogs/catalog.yaml")
    assert fresh.describe(now, short=True) == "imported just now from catalog.yaml"
    assert fresh.describe(now).endswith("team/catalogs/catalog.yaml")
    assert Freshness("catalog", now, "C:\\team\\catalog.yaml").source_name == "catalog.yaml"
    assert (
        Freshness("catalog", now, "https://api.example/v2").source_name == "https://api.example/v2"
    )
    assert Freshness("catalog", now, "demo workspace").source_name == "demo workspace"
