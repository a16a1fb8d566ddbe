"""Postmortems: a draft built from the timeline, stored per incident as editable
Markdown, and exported as Markdown or safe HTML (PDF is drawn by the window).

The draft is the template ``resources/postmortem/postmortem.md`` (a user copy in
``<data>/templates/postmortem.md`` replaces it) filled with sections computed
here: impact, response times from the lifecycle entries, and the timeline with
key events pinned and everything else folded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from console.comms.actions import ActionItems, export_markdown
from console.comms.response import ResponseTimes, response_times
from console.comms.templating import Template, TemplateError, markdown_to_plain, parse_template
from console.comms.updates import format_minutes
from console.domain.clock import Clock, utc_now
from console.domain.errors import InvalidInputError, NotFoundError
from console.domain.incident import EntryKind
from console.domain.views import TimelineEntry
from console.ops.queries import Queries
from console.render import render_runbook
from console.resources import resources_dir
from console.storage.db import Database
from console.storage.models import format_utc

VARIABLES = (
    "title",
    "incident_id",
    "summary",
    "severity",
    "severity_definition",
    "services",
    "started_at",
    "declared_at",
    "resolved_at",
    "duration",
    "roles",
    "metrics",
    "timeline",
    "action_items",
)
#: pinned in the drafted timeline; every other kind folds into runs
KEY_KINDS = frozenset(
    {
        EntryKind.DECLARED,
        EntryKind.STATUS_CHANGE,
        EntryKind.SEVERITY_CHANGE,
        EntryKind.ROLE_CHANGE,
        EntryKind.STATUS_UPDATE,
        EntryKind.COMMUNICATION,
        EntryKind.RUNBOOK_STEP,
    }
)
#: a run of this many folded entries or fewer is listed in full
FOLD_ABOVE = 3
MAX_MARKDOWN = 2_000_000
USER_TEMPLATE = Path("templates") / "postmortem.md"
TIME = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class Postmortem:
    incident_id: int
    markdown: str
    drafted_at: datetime
    updated_at: datetime
    updated_by: str


def _duration(span: timedelta | None) -> str:
    if span is None:
        return "—"
    return format_minutes(max(span.total_seconds(), 0) / 60)


def _metrics_markdown(times: ResponseTimes) -> str:
    lines = [
        f"Measured from the first recorded sign, {times.started:{TIME}}.",
        "",
        "| Measure | At | After |",
        "|---|---|---|",
    ]
    for label, moment, span in times.spans():
        at = f"{moment:%Y-%m-%d %H:%M}" if moment else "not reached"
        lines.append(f"| {label} | {at} | {_duration(span)} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _timeline_markdown(entries: Sequence[TimelineEntry]) -> str:
    """Key events as rows; runs of other entries folded into one row each."""
    superseded = {e.supersedes for e in entries if e.supersedes is not None}
    shown = sorted(
        (e for e in entries if e.uuid not in superseded),
        key=lambda e: (e.occurred_at, e.seq),
    )
    lines = ["| Time | Who | Event |", "|---|---|---|"]
    run: list[TimelineEntry] = []

    def flush() -> None:
        if len(run) <= FOLD_ABOVE:
            lines.extend(_row(e) for e in run)
        else:
            counts: dict[str, int] = {}
            for e in run:
                counts[e.kind.label] = counts.get(e.kind.label, 0) + 1
            what = ", ".join(f"{n} × {label}" for label, n in counts.items())
            first, last = run[0], run[-1]
            lines.append(
                f"| {first.occurred_at:%H:%M}–{last.occurred_at:%H:%M} | "
                f"{_cell(', '.join(sorted({e.author for e in run})))} | "
                f"_folded: {what}; first: “{_cell(_short(first.text))}”, "
                f"last: “{_cell(_short(last.text))}”_ |"
            )
        run.clear()

    for entry in shown:
        if entry.kind in KEY_KINDS:
            if run:
                flush()
            lines.append(_row(entry, key=True))
        else:
            run.append(entry)
    if run:
        flush()
    return "\n".join(lines)


def _row(entry: TimelineEntry, *, key: bool = False) -> str:
    text = _cell(entry.text)
    if entry.kind is EntryKind.STATUS_UPDATE:
        first = next((line for line in entry.text.splitlines() if line.strip()), "")
        template = entry.data.get("template", "update")
        text = f"Update sent ({template}): {_cell(_short(markdown_to_plain(first)))}"
    elif entry.kind is EntryKind.IMPORTED and entry.data.get("source"):
        text = f"[{_cell(str(entry.data['source']))}] {text}"
    return (
        f"| {entry.occurred_at:%m-%d %H:%M:%S} | {_cell(entry.author)} | "
        f"{f'**{text}**' if key else text} |"
    )


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Postmortems:
    def __init__(
        self,
        db: Database,
        *,
        actor: str,
        folder: Path | None = None,
        clock: Clock = utc_now,
        template: Path | None = None,
    ) -> None:
        self._db = db
        self._queries = Queries(db)
        self._actor = actor
        self._clock = clock
        user = folder / USER_TEMPLATE if folder else None
        self._template_path = template or (
            user if user and user.is_file() else resources_dir() / "postmortem" / "postmortem.md"
        )

    def template(self) -> Template:
        """The postmortem template; a broken user copy raises naming its line."""
        path = self._template_path
        try:
            text = path.read_text(encoding="utf-8")
            return parse_template(text, path=str(path), known=VARIABLES)
        except TemplateError as error:
            raise InvalidInputError(str(error)) from None
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInputError(f"{path}: cannot be read ({error})") from None

    def draft(self, incident_id: int) -> str:
        """A fresh draft from the incident as it is now (nothing stored)."""
        incident = self._queries.incident(incident_id)
        entries = self._queries.timeline(incident_id)
        with self._db.raw_reader() as raw:
            summary = raw.execute(
                "SELECT summary FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()[0]
        items = ActionItems(self._db, actor=self._actor, clock=self._clock)
        today = self._clock().date()
        times = response_times(incident.declared_at, entries)
        end = incident.resolved_at or self._clock()
        roles = "; ".join(f"{h.role.label}: {h.person}" for h in incident.roles)
        values = {
            "title": incident.title,
            "incident_id": str(incident.id),
            "summary": summary or "_(What happened, in two or three sentences.)_",
            "severity": incident.severity.value,
            "severity_definition": incident.severity.definition,
            "services": ", ".join(s.name for s in incident.services) or "none named",
            "started_at": f"{times.started:{TIME}}",
            "declared_at": f"{incident.declared_at:{TIME}}",
            "resolved_at": f"{incident.resolved_at:{TIME}}" if incident.resolved_at else "not yet",
            "duration": _duration(end - times.started),
            "roles": roles or "none assigned",
            "metrics": _metrics_markdown(times),
            "timeline": _timeline_markdown(entries),
            "action_items": export_markdown(items.items(incident_id=incident_id), today).strip(),
        }
        return self.template().render(values)

    def get(self, incident_id: int) -> Postmortem | None:
        with self._db.raw_reader() as raw:
            row = raw.execute(
                "SELECT markdown, drafted_at, updated_at, updated_by FROM postmortems "
                "WHERE incident_id = ?",
                (incident_id,),
            ).fetchone()
        if row is None:
            return None
        return Postmortem(
            incident_id,
            row[0],
            datetime.fromisoformat(row[1]),
            datetime.fromisoformat(row[2]),
            row[3],
        )

    def open(self, incident_id: int) -> Postmortem:
        """The stored postmortem, drafted and stored first if there is none."""
        found = self.get(incident_id)
        return found if found is not None else self.save(incident_id, self.draft(incident_id))

    def save(self, incident_id: int, markdown: str) -> Postmortem:
        if len(markdown) > MAX_MARKDOWN:
            raise InvalidInputError(
                f"the postmortem is {len(markdown)} characters; the limit is {MAX_MARKDOWN}"
            )
        now = format_utc(self._clock())
        with self._db.raw_writer() as raw:
            if not raw.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone():
                raise NotFoundError(f"there is no incident {incident_id}")
            raw.execute(
                "INSERT INTO postmortems (uuid, incident_id, markdown, drafted_at, updated_at, "
                "updated_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET "
                "markdown = excluded.markdown, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                (uuid.uuid4().hex, incident_id, markdown, now, now, self._actor),
            )
        saved = self.get(incident_id)
        assert saved is not None
        return saved

    def export(self, incident_id: int, fmt: str) -> str:
        """``markdown`` or ``html`` (safe, self-contained: console.render)."""
        markdown = self.open(incident_id).markdown
        if fmt == "markdown":
            return markdown
        if fmt == "html":
            return to_html(markdown)
        raise InvalidInputError(f"unknown format {fmt!r}; use markdown or html")


def to_html(markdown: str) -> str:
    return render_runbook(markdown).html
