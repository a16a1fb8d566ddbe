"""What the command palette finds beyond its fixed entries: runbooks and people.

Runs on the reader lane (it reads the workspace); runbooks come through the
core's runbook search, people through the on-call contacts.
"""

from __future__ import annotations

from typing import Final

from console.library import library_for
from console.oncall import directory_for
from console.ops.workspace import Workspace
from ui.palette import PaletteEntry

RUNBOOK_LIMIT: Final = 8
PEOPLE_LIMIT: Final = 5


def find_entries(workspace: Workspace, query: str) -> list[PaletteEntry]:
    """Runbooks (best first), then people, matching ``query``."""
    if not any(ch.isalnum() for ch in query):
        return []  # the library would list every runbook
    hits = library_for(workspace).search(query, limit=RUNBOOK_LIMIT)
    entries = [
        PaletteEntry(
            key=f"runbook:{hit.id}",
            title=f"Runbook: {hit.title}",
            subtitle=" · ".join(p for p in (", ".join(hit.services), hit.owner or "") if p),
        )
        for hit in hits
    ]
    for contact in directory_for(workspace).contacts(query, limit=PEOPLE_LIMIT):
        entries.append(
            PaletteEntry(
                key=f"person:{contact.name}",
                title=f"Person: {contact.name}",
                subtitle=" · ".join(part for part in (contact.email or "", *contact.teams) if part),
            )
        )
    return entries
