"""Schedules (as concrete shifts) and escalation policies: drafts and their one writer.

A schedule import replaces the shifts of that schedule that *start inside the
window the file covers* (a PagerDuty ``since``/``until`` range, an Opsgenie
timeline's start/end, the expansion window of a calendar): newer data wins
where it speaks, older shifts outside it stay. A policy import replaces the
policy's levels and targets, and links the services it names.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from console.domain.oncall import FOREVER_END, Refusal, Shift, TargetKind, name_key
from console.importers.contacts import ContactDraft
from console.storage.models import format_utc


@dataclass
class ScheduleDraft:
    key: str
    name: str
    time_zone: str | None = None
    shifts: list[Shift] = field(default_factory=list)
    #: shifts of this schedule starting in [start, end) are replaced; None: only added
    window: tuple[datetime, datetime] | None = None

    def covering_window(self) -> tuple[datetime, datetime] | None:
        """The explicit window, else the span of the shifts (None without shifts)."""
        if self.window is not None:
            return self.window
        if not self.shifts:
            return None
        return min(s.start for s in self.shifts), max(s.start for s in self.shifts) + _EPSILON


@dataclass(frozen=True)
class TargetDraft:
    kind: TargetKind
    #: person: vendor ref or e-mail; schedule: schedule key; team: team name
    ref: str
    name: str


@dataclass
class LevelDraft:
    delay_minutes: int
    targets: list[TargetDraft] = field(default_factory=list)


@dataclass
class PolicyDraft:
    key: str
    name: str
    levels: list[LevelDraft] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    repeat: int = 0


@dataclass
class ParsedFile:
    """What one file holds, parsed: its kind (README, "On-call files") and the drafts."""

    kind: str
    contacts: list[ContactDraft] = field(default_factory=list)
    schedules: list[ScheduleDraft] = field(default_factory=list)
    policies: list[PolicyDraft] = field(default_factory=list)
    #: rows, cards or events not taken (the rest of the file is)
    refused: list[Refusal] = field(default_factory=list)
    #: taken, with a note (a floating time read in a zone, a snapshot's assumed length)
    notes: list[Refusal] = field(default_factory=list)


@dataclass
class StoreCounts:
    schedules: int = 0
    shifts: int = 0
    policies: int = 0
    #: the schedules and policies written (two files of the same one: one key)
    keys: set[str] = field(default_factory=set)


_SHIFT_COLUMNS = (
    "schedule_id, start_at, end_at, person_name, person_key, person_email, person_ref, layer, "
    "priority, override"
)


def store_schedules(
    raw: sqlite3.Connection, drafts: Iterable[ScheduleDraft], *, source: str, now: str
) -> StoreCounts:
    """Upsert each schedule by key and replace its shifts inside the draft's window."""
    counts = StoreCounts()
    for draft in drafts:
        row = raw.execute("SELECT id FROM schedules WHERE key = ?", (draft.key,)).fetchone()
        if row is None:
            cursor = raw.execute(
                "INSERT INTO schedules (uuid, key, name, time_zone, source, imported_at, "
                "longest_shift_s, has_permanent, covered_until) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, 0, NULL)",
                (uuid.uuid4().hex, draft.key, draft.name, draft.time_zone, source, now),
            )
            assert cursor.lastrowid is not None
            schedule_id = cursor.lastrowid
        else:
            schedule_id = int(row[0])
            raw.execute(
                "UPDATE schedules SET name = ?, time_zone = coalesce(?, time_zone), source = ?, "
                "imported_at = ? WHERE id = ?",
                (draft.name, draft.time_zone, source, now, schedule_id),
            )
        window = draft.covering_window()
        if window is not None:
            raw.execute(
                "DELETE FROM shifts WHERE schedule_id = ? AND start_at >= ? AND start_at < ?",
                (schedule_id, format_utc(window[0]), format_utc(window[1])),
            )
        raw.executemany(
            f"INSERT INTO shifts ({_SHIFT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    schedule_id,
                    format_utc(s.start),
                    format_utc(s.end),
                    s.person,
                    name_key(s.person),
                    s.email.lower() if s.email else None,
                    s.ref,
                    s.layer,
                    s.priority,
                    s.override,
                )
                for s in draft.shifts
            ],
        )
        merged = merge_overlapping(raw, schedule_id)
        refresh_extent(raw, schedule_id)
        counts.schedules += 1
        counts.shifts += len(draft.shifts) - merged
        counts.keys.add(draft.key)
    return counts


def merge_overlapping(raw: sqlite3.Connection, schedule_id: int) -> int:
    """Join the shifts of one person in one layer of a schedule that overlap one
    another into one (shifts that only touch stay apart: a handover), so that two
    saved copies of the same roster (an on-call snapshot saved at 10:00 and again
    at 10:20) list each person once. Returns the number of shifts merged away."""
    rows = raw.execute(
        "SELECT id, start_at, end_at, person_key, layer, priority, override FROM shifts "
        "WHERE schedule_id = ? ORDER BY person_key, layer, priority, override, start_at, id",
        (schedule_id,),
    ).fetchall()
    gone: list[tuple[int]] = []
    grown: list[tuple[str, int]] = []
    keep: tuple[int, str, tuple[object, ...]] | None = None  # (id, end, identity)
    for row_id, start, end, *identity in rows:
        who = tuple(identity)
        if keep is not None and keep[2] == who and start < keep[1]:
            gone.append((row_id,))
            if end > keep[1]:
                keep = (keep[0], end, who)
                grown.append((end, keep[0]))
            continue
        keep = (row_id, end, who)
    if gone:
        raw.executemany("DELETE FROM shifts WHERE id = ?", gone)
        raw.executemany("UPDATE shifts SET end_at = ? WHERE id = ?", grown)
    return len(gone)


def refresh_extent(raw: sqlite3.Connection, schedule_id: int) -> None:
    """Recompute what the lookup relies on: the longest finite shift, whether one never
    ends, and how far the cache reaches."""
    forever = format_utc(FOREVER_END)
    longest, until = raw.execute(
        "SELECT max(CAST(round((julianday(end_at) - julianday(start_at)) * 86400) AS INTEGER)),"
        " max(end_at) FROM shifts WHERE schedule_id = ? AND end_at < ?",
        (schedule_id, forever),
    ).fetchone()
    permanent = raw.execute(
        "SELECT EXISTS (SELECT 1 FROM shifts WHERE schedule_id = ? AND end_at >= ?)",
        (schedule_id, forever),
    ).fetchone()[0]
    raw.execute(
        "UPDATE schedules SET longest_shift_s = ?, has_permanent = ?, covered_until = ? "
        "WHERE id = ?",
        (int(longest or 0) + 1, bool(permanent), until, schedule_id),
    )


def store_policies(
    raw: sqlite3.Connection, drafts: Iterable[PolicyDraft], *, source: str, now: str
) -> StoreCounts:
    """Upsert each policy by key; its levels and targets are replaced, its services linked."""
    counts = StoreCounts()
    for draft in drafts:
        row = raw.execute(
            "SELECT id FROM escalation_policies WHERE key = ?", (draft.key,)
        ).fetchone()
        if row is None:
            cursor = raw.execute(
                "INSERT INTO escalation_policies (uuid, key, name, repeat, source, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, draft.key, draft.name, draft.repeat, source, now),
            )
            assert cursor.lastrowid is not None
            policy_id = cursor.lastrowid
        else:
            policy_id = int(row[0])
            raw.execute(
                "UPDATE escalation_policies SET name = ?, repeat = ?, source = ?, "
                "imported_at = ? WHERE id = ?",
                (draft.name, draft.repeat, source, now, policy_id),
            )
            raw.execute("DELETE FROM escalation_levels WHERE policy_id = ?", (policy_id,))
        for number, level in enumerate(draft.levels, start=1):
            cursor = raw.execute(
                "INSERT INTO escalation_levels (policy_id, level, delay_minutes) VALUES (?, ?, ?)",
                (policy_id, number, level.delay_minutes),
            )
            level_id = cursor.lastrowid
            raw.executemany(
                "INSERT INTO escalation_targets (level_id, position, kind, ref, name) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (level_id, position, target.kind.value, target.ref, target.name)
                    for position, target in enumerate(level.targets)
                ],
            )
        for service in draft.services:
            raw.execute(
                "INSERT INTO service_policies (service_name, policy_id) VALUES (?, ?) "
                "ON CONFLICT (service_name) DO UPDATE SET policy_id = excluded.policy_id",
                (service, policy_id),
            )
        counts.policies += 1
        counts.keys.add(draft.key)
    return counts


_EPSILON = datetime.resolution
