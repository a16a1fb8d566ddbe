"""Seed the demo workspace into an empty database.

``resources/demo/catalog.yaml`` (the service catalog, through the catalog
importer like any team's), the project's sample runbooks (``runbooks/``, when the
source tree is there), and people and incidents from
``resources/demo/workspace.yaml``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from console import safe_yaml
from console.domain.clock import ManualClock
from console.domain.incident import Role, parse_role, parse_severity, parse_status
from console.domain.oncall import ReachKind, Shift, TargetKind, rotation
from console.domain.runbook import slugify
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
from console.ops.incidents import IncidentService
from console.ops.workspace import Workspace
from console.resources import resources_dir
from console.storage.models import CacheSet, Incident, format_utc

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo workspace"


def load_demo_document() -> dict[str, Any]:
    path = resources_dir() / "demo" / "workspace.yaml"
    document = safe_yaml.load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("version") != 1:
        raise ValueError(f"{path}: not a version-1 demo workspace")
    return document


#: the demo's shifts are relative to when they were seeded: older ones are seeded again
DEMO_SHIFTS_FRESH = timedelta(hours=12)


def ensure_demo(workspace: Workspace) -> bool:
    """Seed the demo data if the database has no incidents yet. True when seeded.

    A demo seeded earlier gets its on-call shifts again (relative to now) once they
    are older than :data:`DEMO_SHIFTS_FRESH`, so the demo always has a live answer."""
    with workspace.db.reader() as session:
        if session.scalar(select(func.count()).select_from(Incident)):
            seeded = session.get(CacheSet, SCHEDULES_SET)
            stale = seeded is None or (
                seeded.source == DEMO_SOURCE
                and workspace.clock() - seeded.fetched_at > DEMO_SHIFTS_FRESH
            )
            if stale:
                seed_people_and_schedules(workspace, load_demo_document(), workspace.clock())
            return False
    document = load_demo_document()
    now = workspace.clock()
    catalog = import_catalog(
        workspace.db, [resources_dir() / "demo" / "catalog.yaml"], clock=workspace.clock
    )
    if catalog.refused or catalog.problems:  # the shipped file is kept clean by a test
        log.warning("demo catalog: %s", catalog.summary())
    samples = resources_dir().parent / "runbooks"
    if samples.is_dir():  # the source tree's sample runbooks name the demo services
        import_runbooks(workspace.db, [samples], clock=workspace.clock)
    seed_people_and_schedules(workspace, document, now)
    for raw in reversed(document["incidents"]):
        start = now - timedelta(minutes=raw["declared_minutes_ago"])
        clock = ManualClock(start)
        declarer = IncidentService(
            workspace.db, actor=raw["declared_by"], templates=workspace.templates, clock=clock
        )
        outcome = declarer.declare(
            raw["title"],
            parse_severity(raw["severity"]),
            summary=raw.get("summary", ""),
            declared_at=start,
            services=raw.get("services", ()),
        )
        assert outcome.incident is not None
        incident_id = outcome.incident.id
        for step in raw.get("steps", []):
            clock.now = start + timedelta(minutes=step["at"])
            actor = IncidentService(
                workspace.db, actor=step["as"], templates=workspace.templates, clock=clock
            )
            kind = step["do"]
            if kind == "note":
                actor.add_note(incident_id, step["text"])
            elif kind == "status":
                actor.change_status(incident_id, parse_status(step["status"]))
            elif kind == "role":
                role: Role = parse_role(step["role"])
                actor.assign_role(incident_id, role, step["person"])
    log.info("seeded the demo workspace in %s", workspace.folder)
    return True


def seed_people_and_schedules(
    workspace: Workspace, document: dict[str, Any], now: datetime
) -> None:
    """Contacts, schedules (shifts relative to ``now``) and escalation policies of the demo,
    written through the same writers as the importers."""
    people = []
    for raw in document["people"]:
        draft = ContactDraft(name=raw["name"], email=raw.get("email"))
        if raw.get("team"):
            draft.add_team(raw["team"])
        for item in raw.get("reach", []):
            draft.add(method(ReachKind(item["kind"]), str(item["value"]), region=None))
        people.append(draft)
    emails = {d.name: d.email for d in people}
    schedules = [_demo_schedule(raw, emails, now) for raw in document.get("schedules", [])]
    keys = {raw["name"]: f"demo:{slugify(raw['name'])}" for raw in document.get("schedules", [])}
    policies = [_demo_policy(raw, keys) for raw in document.get("escalation_policies", [])]
    stamp = format_utc(now)
    with workspace.db.raw_writer() as raw_conn:
        store_contacts(raw_conn, people, source=DEMO_SOURCE, now=stamp)
        store_schedules(raw_conn, schedules, source=DEMO_SOURCE, now=stamp)
        store_policies(raw_conn, policies, source=DEMO_SOURCE, now=stamp)
        for name in (PEOPLE_SET, SCHEDULES_SET):
            record_cache_set(raw_conn, name, DEMO_SOURCE, stamp)


def _demo_schedule(
    raw: dict[str, Any], emails: dict[str, str | None], now: datetime
) -> ScheduleDraft:
    zone = ZoneInfo(raw["time_zone"])
    names = list(raw["people"])
    start = now - timedelta(days=raw.get("days_before", 2))
    end = now + timedelta(days=raw.get("days_ahead", 21))
    shifts = rotation(
        names,
        zone=zone,
        handoff=time.fromisoformat(raw.get("handoff", "09:00")),
        every=timedelta(hours=raw["every_hours"]),
        start=start,
        end=end,
        length=timedelta(hours=raw["hours"]) if raw.get("hours") else None,
        layer="rotation",
        emails=[emails.get(n) for n in names],
    )
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    for item in raw.get("overrides", []):
        begin = hour + timedelta(hours=item["starts_in_hours"])
        shifts.append(
            Shift(
                begin,
                begin + timedelta(hours=item["hours"]),
                item["person"],
                email=emails.get(item["person"]),
                layer="override",
                override=True,
            )
        )
    return ScheduleDraft(
        key=f"demo:{slugify(raw['name'])}",
        name=raw["name"],
        time_zone=raw["time_zone"],
        shifts=shifts,
        window=(start - timedelta(days=7), end + timedelta(days=7)),
    )


def _demo_policy(raw: dict[str, Any], schedule_keys: dict[str, str]) -> PolicyDraft:
    policy = PolicyDraft(
        key=f"demo:{slugify(raw['name'])}",
        name=raw["name"],
        services=list(raw.get("services", [])),
        repeat=int(raw.get("repeat", 0)),
    )
    for level in raw["levels"]:
        draft = LevelDraft(delay_minutes=int(level["delay"]))
        for target in level["targets"]:
            if "schedule" in target:
                name = target["schedule"]
                draft.targets.append(TargetDraft(TargetKind.SCHEDULE, schedule_keys[name], name))
            elif "person" in target:
                draft.targets.append(
                    TargetDraft(TargetKind.PERSON, target["person"], target["person"])
                )
            else:
                draft.targets.append(TargetDraft(TargetKind.TEAM, target["team"], target["team"]))
        policy.levels.append(draft)
    return policy
