"""A workspace: one data folder, its database, and the services bound to it."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from console.domain.checklist import ChecklistTemplate
from console.domain.clock import Clock, utc_now
from console.ops.incidents import IncidentService
from console.ops.queries import Queries
from console.ops.templates import load_templates
from console.paths import database_path
from console.storage.db import Database, open_database

ACTOR_ENV = "RESPONDER_CONSOLE_USER"


def default_actor() -> str:
    """Who is writing: $RESPONDER_CONSOLE_USER, else the OS login name."""
    named = os.environ.get(ACTOR_ENV, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "responder"


@dataclass
class Workspace:
    folder: Path
    db: Database
    incidents: IncidentService
    queries: Queries
    templates: tuple[ChecklistTemplate, ...]
    clock: Clock

    @classmethod
    def open(
        cls,
        folder: Path,
        *,
        actor: str | None = None,
        clock: Clock = utc_now,
        templates: list[ChecklistTemplate] | None = None,
    ) -> Workspace:
        db = open_database(database_path(folder), clock=clock)
        if templates is None:
            # a team's checklists (installed by a content pack) replace the shipped ones
            team = folder / "templates" / "checklists"
            templates = load_templates(team if any(team.glob("*.yaml")) else None)
        loaded = tuple(templates)
        return cls(
            folder=folder,
            db=db,
            incidents=IncidentService(
                db, actor=actor or default_actor(), templates=loaded, clock=clock
            ),
            queries=Queries(db),
            templates=loaded,
            clock=clock,
        )

    def close(self) -> None:
        self.db.close()
