"""Incident export as JSON (stable shape) and Markdown."""

from __future__ import annotations

import json
from typing import Any

from console import __version__
from console.domain.views import IncidentSummary, TimelineEntry
from console.ops.queries import Queries

EXPORT_FORMAT_VERSION = 1


def incident_json(incident: IncidentSummary) -> dict[str, Any]:
    return {
        "id": incident.id,
        "uuid": str(incident.uuid),
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "declared_at": incident.declared_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "entries": incident.entry_count,
        "roles": {held.role.value: held.person for held in incident.roles},
        "services": [{"name": s.name, "ref": s.ref} for s in incident.services],
    }


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "uuid": str(entry.uuid),
        "seq": entry.seq,
        "kind": entry.kind.value,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "author": entry.author,
        "text": entry.text,
        "data": dict(entry.data),
        "supersedes": str(entry.supersedes) if entry.supersedes else None,
        "superseded_by": str(entry.superseded_by) if entry.superseded_by else None,
        "source": entry.source,
    }


def export_json(queries: Queries, incident_id: int) -> str:
    incident = queries.incident(incident_id)
    document = {
        "format": "responder-console/incident",
        "version": EXPORT_FORMAT_VERSION,
        "exported_by": f"responder-console {__version__}",
        "incident": incident_json(incident),
        "role_history": [
            {
                "role": a.role.value,
                "person": a.person,
                "assigned_at": a.assigned_at.isoformat(),
                "assigned_by": a.assigned_by,
                "ended_at": a.ended_at.isoformat() if a.ended_at else None,
            }
            for a in queries.role_history(incident_id)
        ],
        "checklist": [
            {
                "uuid": str(i.uuid),
                "title": i.title,
                "role": i.role.value if i.role else None,
                "every_minutes": i.every_minutes,
                "due_at": i.due_at.isoformat() if i.due_at else None,
                "done_at": i.done_at.isoformat() if i.done_at else None,
                "done_by": i.done_by,
            }
            for i in queries.checklist(incident_id)
        ],
        "timeline": [entry_json(e) for e in queries.timeline(incident_id)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def export_markdown(queries: Queries, incident_id: int) -> str:
    incident = queries.incident(incident_id)
    lines = [
        f"# {incident.title}",
        "",
        f"- **Severity:** {incident.severity.value} — {incident.severity.definition}",
        f"- **Status:** {incident.status.value}",
        f"- **Declared:** {incident.declared_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    if incident.resolved_at:
        duration = incident.resolved_at - incident.declared_at
        lines.append(
            f"- **Resolved:** {incident.resolved_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(after {_duration(duration.total_seconds())})"
        )
    for held in incident.roles:
        lines.append(f"- **{held.role.label}:** {held.person}")
    if incident.services:
        lines.append(f"- **Services:** {', '.join(s.name for s in incident.services)}")
    lines += [
        "",
        "## Timeline (UTC)",
        "",
        "| # | Time | Who | Kind | Entry |",
        "|---|------|-----|------|-------|",
    ]
    for entry in queries.timeline(incident_id):
        text = _md_escape(entry.text)
        if entry.superseded_by:
            text = f"~~{text}~~ (corrected below)"
        lines.append(
            f"| {entry.seq} | {entry.occurred_at:%H:%M:%S} | {_md_escape(entry.author)} "
            f"| {entry.kind.label} | {text} |"
        )
    checklist = queries.checklist(incident_id)
    if checklist:
        lines += ["", "## Checklist", ""]
        for item in checklist:
            mark = "x" if item.done_at else " "
            suffix = f" (every {item.every_minutes} min)" if item.every_minutes else ""
            lines.append(f"- [{mark}] {item.title}{suffix}")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
