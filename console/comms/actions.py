"""Action items: the follow-ups a postmortem produces, tracked to done.

One small operation per change (add, set status), each its own ``BEGIN
IMMEDIATE``; reads return frozen :class:`ActionItem` values. Due dates are
calendar dates: an item due today is not overdue until tomorrow.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from console.domain.clock import Clock, utc_now
from console.domain.errors import InvalidInputError, NotFoundError
from console.storage.db import Database
from console.storage.models import format_utc

KINDS = ("detect", "prevent", "mitigate")
PRIORITIES = ("P1", "P2", "P3", "P4")
STATUSES = ("open", "in_progress", "done", "dropped")
OPEN_STATUSES = ("open", "in_progress")
MAX_TITLE = 500

_COLUMNS = (
    "id, uuid, incident_id, title, owner, due_on, priority, kind, status, "
    "created_at, created_by, done_at"
)


@dataclass(frozen=True)
class ActionItem:
    id: int
    uuid: str
    incident_id: int | None
    title: str
    owner: str
    due_on: date | None
    priority: str
    kind: str
    status: str
    created_at: datetime
    created_by: str
    done_at: datetime | None

    def overdue(self, today: date) -> bool:
        return self.status in OPEN_STATUSES and self.due_on is not None and self.due_on < today


def parse_day(text: str | None, what: str = "due date") -> date | None:
    """A calendar day as typed (``YYYY-MM-DD``); blank is none; ``what`` names it in
    the refusal (a due date here, ``--since``/``--until`` for the metrics)."""
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{what} {text!r} is not a date like 2026-12-31") from None


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    cleaned = value.strip()
    for option in allowed:
        if cleaned.lower() == option.lower():
            return option
    raise InvalidInputError(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}")


class ActionItems:
    def __init__(self, db: Database, *, actor: str, clock: Clock = utc_now) -> None:
        self._db = db
        self._actor = actor
        self._clock = clock

    def add(
        self,
        title: str,
        *,
        owner: str,
        incident_id: int | None = None,
        due_on: date | None = None,
        priority: str = "P2",
        kind: str = "prevent",
    ) -> ActionItem:
        title, owner = title.strip(), owner.strip()
        if not title:
            raise InvalidInputError("the action item's title is empty")
        if len(title) > MAX_TITLE:
            raise InvalidInputError(f"the title is {len(title)} characters; the limit is 500")
        if not owner:
            raise InvalidInputError("an action item needs an owner")
        priority = _choice(priority, PRIORITIES, "priority")
        kind = _choice(kind, KINDS, "type")
        now = format_utc(self._clock())
        with self._db.raw_writer() as raw:
            if (
                incident_id is not None
                and not raw.execute(
                    "SELECT 1 FROM incidents WHERE id = ?", (incident_id,)
                ).fetchone()
            ):
                raise NotFoundError(f"there is no incident {incident_id}")
            cursor = raw.execute(
                "INSERT INTO action_items (uuid, incident_id, title, owner, due_on, priority, "
                "kind, status, created_at, created_by, done_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, NULL)",
                (
                    uuid.uuid4().hex,
                    incident_id,
                    title,
                    owner,
                    due_on.isoformat() if due_on else None,
                    priority,
                    kind,
                    now,
                    self._actor,
                ),
            )
            new_id = cursor.lastrowid
        assert new_id is not None
        return self.get(new_id)

    def set_status(self, item_id: int, status: str) -> ActionItem:
        status = _choice(status, STATUSES, "status")
        done_at = format_utc(self._clock()) if status == "done" else None
        with self._db.raw_writer() as raw:
            row = raw.execute("SELECT status FROM action_items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"there is no action item {item_id}")
            if row[0] == status:
                raise InvalidInputError(f"action item {item_id} is already {status}")
            raw.execute(
                "UPDATE action_items SET status = ?, done_at = ? WHERE id = ?",
                (status, done_at, item_id),
            )
        return self.get(item_id)

    def done(self, item_id: int) -> ActionItem:
        return self.set_status(item_id, "done")

    def get(self, item_id: int) -> ActionItem:
        with self._db.raw_reader() as raw:
            row = raw.execute(
                f"SELECT {_COLUMNS} FROM action_items WHERE id = ?", (item_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"there is no action item {item_id}")
        return _item(row)

    def items(self, *, incident_id: int | None = None, open_only: bool = False) -> list[ActionItem]:
        where, params = [], []
        if incident_id is not None:
            where.append("incident_id = ?")
            params.append(incident_id)
        if open_only:
            where.append("status IN ('open', 'in_progress')")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._db.raw_reader() as raw:
            rows = raw.execute(
                f"SELECT {_COLUMNS} FROM action_items{clause} "
                "ORDER BY status IN ('done', 'dropped'), due_on IS NULL, due_on, priority, id",
                params,
            ).fetchall()
        return [_item(r) for r in rows]

    def overdue(self, today: date) -> list[ActionItem]:
        """Open items whose due date has passed (index on status, due_on)."""
        with self._db.raw_reader() as raw:
            rows = raw.execute(
                f"SELECT {_COLUMNS} FROM action_items WHERE status IN ('open', 'in_progress') "
                "AND due_on < ? ORDER BY due_on, priority, id",
                (today.isoformat(),),
            ).fetchall()
        return [_item(r) for r in rows]


def _item(row: Sequence[object]) -> ActionItem:
    (item_id, item_uuid, incident_id, title, owner, due_on, priority, kind, status) = row[:9]
    created_at, created_by, done_at = row[9:]
    return ActionItem(
        id=int(str(item_id)),
        uuid=str(item_uuid),
        incident_id=None if incident_id is None else int(str(incident_id)),
        title=str(title),
        owner=str(owner),
        due_on=date.fromisoformat(str(due_on)) if due_on else None,
        priority=str(priority),
        kind=str(kind),
        status=str(status),
        created_at=datetime.fromisoformat(str(created_at)),
        created_by=str(created_by),
        done_at=datetime.fromisoformat(str(done_at)) if done_at else None,
    )


def action_json(item: ActionItem, today: date) -> dict[str, object]:
    return {
        "id": item.id,
        "uuid": item.uuid,
        "incident_id": item.incident_id,
        "title": item.title,
        "owner": item.owner,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "priority": item.priority,
        "type": item.kind,
        "status": item.status,
        "overdue": item.overdue(today),
        "created_at": item.created_at.isoformat(),
        "created_by": item.created_by,
        "done_at": item.done_at.isoformat() if item.done_at else None,
    }


CSV_HEADER = ("id", "incident", "title", "owner", "due", "priority", "type", "status", "done_at")


def export_csv(items: Sequence[ActionItem]) -> str:
    """RFC 4180 CSV (CRLF line ends, quoted where needed) an issue tracker imports.
    Cells starting with = + - @ are prefixed with ' so a spreadsheet does not run them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for item in items:
        writer.writerow(
            [
                item.id,
                item.incident_id or "",
                _cell(item.title),
                _cell(item.owner),
                item.due_on.isoformat() if item.due_on else "",
                item.priority,
                item.kind,
                item.status,
                item.done_at.isoformat() if item.done_at else "",
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def export_markdown(items: Sequence[ActionItem], today: date) -> str:
    """A Markdown task list (GitHub/GitLab issue checklists)."""
    if not items:
        return "_No action items yet._\n"
    lines = []
    for item in items:
        mark = "x" if item.status == "done" else " "
        title = item.title.replace("\n", " ")
        if item.status == "dropped":
            title = f"~~{title}~~ (dropped)"
        due = f", due {item.due_on.isoformat()}" if item.due_on else ""
        late = " **overdue**" if item.overdue(today) else ""
        lines.append(f"- [{mark}] {title} — {item.owner} ({item.priority}, {item.kind}{due}){late}")
    return "\n".join(lines) + "\n"
