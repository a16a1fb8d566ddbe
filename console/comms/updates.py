"""Communication updates: the incident's facts as template variables, the
templates (shipped in resources/comms, overridden from ``<data>/templates/comms``),
and "log as sent" through :meth:`IncidentService.post_update`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from console.comms.templating import Template, load_folders, markdown_to_plain
from console.domain.checklist import STATUS_UPDATE_ITEM, ChecklistTemplate, update_cadence
from console.domain.clock import Clock, utc_now
from console.domain.errors import NotFoundError
from console.domain.incident import Role, Status
from console.domain.oncall import Refusal
from console.domain.times import DisplayZone, Zone, format_time, parse_zone
from console.domain.views import IncidentSummary
from console.ops.incidents import IncidentService, Outcome
from console.ops.queries import Queries
from console.resources import resources_dir
from console.storage.db import Database

#: The variables a communication template may use, with what they hold.
VARIABLES: dict[str, str] = {
    "incident_id": "the incident's number",
    "title": "the incident's title",
    "severity": "SEV1..SEV4",
    "severity_definition": "the severity's written definition",
    "impact": "the impact / summary written when it was declared",
    "status": "open, triage, mitigating, resolved, …",
    "status_label": "the status as a word (Investigating, Identified, Monitoring, Resolved)",
    "started_at": "when it was declared (in the template's time zone, labelled)",
    "duration": "time since declared, or until resolved",
    "services": "the affected services, comma separated",
    "commander": "the incident commander",
    "comms_lead": "the communications lead",
    "cadence": "how often updates go out at this severity",
    "next_update": "when the next update is due (template's zone, labelled)",
    "now": "the time of drafting (template's zone, labelled)",
}

#: status-page words for the lifecycle (what customers read)
STATUS_PAGE_WORDS = {
    Status.OPEN: "Investigating",
    Status.TRIAGE: "Investigating",
    Status.MITIGATING: "Identified",
    Status.RESOLVED: "Resolved",
    Status.POST_INCIDENT: "Resolved",
    Status.CLOSED: "Resolved",
}
#: the shipped template that fits each status: the one the Draft dialog opens with
DEFAULT_TEMPLATE = {
    Status.OPEN: "status-investigating",
    Status.TRIAGE: "status-investigating",
    Status.MITIGATING: "status-identified",
    Status.RESOLVED: "status-resolved",
    Status.POST_INCIDENT: "status-resolved",
    Status.CLOSED: "status-resolved",
}
#: audiences outside the response team: their text never says "none named yet"
CUSTOMER_AUDIENCES = frozenset({"status page", "customers"})
#: what an empty fact becomes in customer-facing text: to be filled in before Copy
MISSING = re.compile(r"\[fill in: ([^\]]+)\]")
USER_TEMPLATES = Path("templates") / "comms"


@dataclass(frozen=True)
class Draft:
    template: Template
    markdown: str
    next_update: datetime | None

    @property
    def plain(self) -> str:
        return markdown_to_plain(self.markdown)

    @property
    def missing(self) -> tuple[str, ...]:
        """Facts the text still asks for (``[fill in: …]``), to complete before it is sent."""
        return missing_facts(self.markdown)


def missing_facts(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(1) for m in MISSING.finditer(text)))


def is_customer_facing(template: Template) -> bool:
    return template.audience.strip().lower() in CUSTOMER_AUDIENCES


def shipped_dir() -> Path:
    return resources_dir() / "comms"


def format_minutes(minutes: float) -> str:
    whole = int(minutes)
    hours, rest = divmod(whole, 60)
    if hours and rest:
        return f"{hours} h {rest:02d} min"
    return f"{hours} h" if hours else f"{rest} min"


class Communications:
    """Templates and updates for one workspace (data folder)."""

    def __init__(
        self,
        db: Database,
        incidents: IncidentService,
        *,
        folder: Path,
        checklists: Sequence[ChecklistTemplate],
        clock: Clock = utc_now,
        shipped: Path | None = None,
    ) -> None:
        self._db = db
        self._queries = Queries(db)
        self._incidents = incidents
        self._checklists = tuple(checklists)
        self._clock = clock
        self._folders = [(shipped or shipped_dir(), False), (folder / USER_TEMPLATES, True)]

    @property
    def user_folder(self) -> Path:
        return self._folders[-1][0]

    def templates(self) -> tuple[list[Template], list[Refusal]]:
        """Every usable template (user files replace shipped ones of the same name),
        and the refused files with their line and reason."""
        return load_folders(self._folders, VARIABLES)

    def template(self, name: str) -> Template:
        found, refused = self.templates()
        for template in found:
            if template.id == name:
                return template
        for refusal in refused:
            if Path(refusal.path).stem == name:
                raise NotFoundError(f"template {name!r} was refused: {refusal}")
        names = ", ".join(sorted(t.id for t in found))
        raise NotFoundError(f"there is no template {name!r}; the templates are: {names}")

    def values(self, incident_id: int, zone: Zone = DisplayZone.UTC) -> dict[str, str]:
        return self._facts(incident_id, zone)[0]

    def default_template(self, incident_id: int) -> str:
        """The template that fits the incident's status now (investigating, identified,
        resolved), for the Draft dialog to open with."""
        return DEFAULT_TEMPLATE[self._queries.incident(incident_id).status]

    def _facts(
        self, incident_id: int, zone: Zone, *, customers: bool = False
    ) -> tuple[dict[str, str], datetime | None]:
        """The template values, times in ``zone``. ``customers``: an unknown fact is not
        papered over with "none named yet" / "not assigned" but marked ``[fill in: …]``
        for the sender."""
        incident = self._queries.incident(incident_id)
        now = self._clock()
        with self._db.raw_reader() as raw:
            row = raw.execute("SELECT summary FROM incidents WHERE id = ?", (incident_id,))
            summary = (row.fetchone() or ("",))[0]
            due = raw.execute(
                "SELECT min(due_at) FROM checklist_items WHERE incident_id = ? "
                "AND due_at IS NOT NULL AND item_key LIKE ?",
                (incident_id, f"%.{STATUS_UPDATE_ITEM}"),
            ).fetchone()[0]
        cadence = update_cadence(self._checklists, incident.severity)
        next_update = _next_update(incident, due, cadence, now)
        end = incident.resolved_at or now
        values = {
            "incident_id": str(incident.id),
            "title": incident.title,
            "severity": incident.severity.value,
            "severity_definition": incident.severity.definition,
            "impact": summary or "We are assessing the impact.",
            "status": incident.status.value,
            "status_label": STATUS_PAGE_WORDS[incident.status],
            "started_at": format_time(incident.declared_at, zone, "datetime"),
            "duration": format_minutes((end - incident.declared_at).total_seconds() / 60),
            "services": ", ".join(s.name for s in incident.services)
            or ("[fill in: affected services]" if customers else "none named yet"),
            "commander": incident.holder(Role.INCIDENT_COMMANDER)
            or ("[fill in: incident commander]" if customers else "not assigned"),
            "comms_lead": incident.holder(Role.COMMUNICATIONS_LEAD)
            or ("[fill in: communications lead]" if customers else "not assigned"),
            "cadence": f"every {format_minutes(cadence)}" if cadence else "as needed",
            "next_update": (
                format_time(next_update, zone, "datetime") if next_update else "when there is news"
            ),
            "now": format_time(now, zone, "datetime"),
        }
        return values, next_update

    def draft(
        self, incident_id: int, template: str | Template, zone: Zone = DisplayZone.UTC
    ) -> Draft:
        """The template filled in. Times are in the zone the template asks for (its
        ``timezone:``, e.g. UTC for customers anywhere), else in ``zone``."""
        chosen = template if isinstance(template, Template) else self.template(template)
        if chosen.timezone:
            zone = parse_zone(chosen.timezone)
        values, next_update = self._facts(incident_id, zone, customers=is_customer_facing(chosen))
        return Draft(chosen, chosen.render(values), next_update)

    def send(self, incident_id: int, template: Template, text: str) -> Outcome:
        """Log the (possibly edited) update as sent: timeline, outbox, cadence."""
        return self._incidents.post_update(
            incident_id, text, template=template.id, audience=template.audience
        )


def _next_update(
    incident: IncidentSummary, due: str | None, cadence: int | None, now: datetime
) -> datetime | None:
    if not incident.status.is_active:
        return None
    if due is not None:
        slot = datetime.fromisoformat(due)
        if slot > now:
            return slot
        # overdue: never promise a time that has passed; sending this update restarts
        # the cadence from now, so the next slot is a cadence from now
        return now + timedelta(minutes=cadence) if cadence else None
    return now + timedelta(minutes=cadence) if cadence else None
