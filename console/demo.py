"""Seed the demo workspace into an empty database.

``resources/demo/catalog.yaml`` (the service catalog, through the catalog
importer like any team's), the project's sample runbooks (``runbooks/``, when the
source tree is there), and people and incidents from
``resources/demo/workspace.yaml``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import yaml
from sqlalchemy import func, select

from console.domain.clock import ManualClock
from console.domain.incident import Role, parse_role, parse_severity, parse_status
from console.importers.catalog import import_catalog
from console.importers.runbooks import import_runbooks
from console.ops.incidents import IncidentService
from console.ops.workspace import Workspace
from console.resources import resources_dir
from console.storage.models import CacheSet, Incident, Person

log = logging.getLogger(__name__)


def load_demo_document() -> dict[str, Any]:
    path = resources_dir() / "demo" / "workspace.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("version") != 1:
        raise ValueError(f"{path}: not a version-1 demo workspace")
    return document


def ensure_demo(workspace: Workspace) -> bool:
    """Seed the demo data if the database has no incidents yet. True when seeded."""
    with workspace.db.reader() as session:
        if session.scalar(select(func.count()).select_from(Incident)):
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
    with workspace.db.writer() as session:
        for raw in document["people"]:
            session.add(
                Person(
                    uuid=uuid.uuid4(),
                    name=raw["name"],
                    email=raw.get("email"),
                    team=raw.get("team"),
                    reach={"methods": raw.get("reach", [])},
                    source="demo",
                )
            )
        session.add(CacheSet(name="people", fetched_at=now, source="demo workspace"))
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
