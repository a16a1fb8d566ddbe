"""Import contacts, schedules and escalation policies from files: the one writer path for them.

``import contacts`` and ``import oncall`` both end here. Each file's type is
recognised from its content: a vCard (``BEGIN:VCARD``), an iCalendar
(``BEGIN:VCALENDAR``), a saved PagerDuty or Opsgenie JSON response (see
:mod:`console.importers.vendors`), else a CSV with a name or e-mail column.
Every file is parsed before anything is written; a file that cannot be read
changes nothing and is listed with its reason, and a bad row, card, entry or
event is listed with its line while the rest of its file imports. The good
parts of all files are written in one transaction, people first (so a
PagerDuty contact-methods file finds the users imported beside it), and the
``people`` / ``schedules`` rows of ``cache_sets`` record when and from where.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from console.domain.clock import Clock, utc_now
from console.domain.oncall import Refusal
from console.importers.calendar import DEFAULT_WEEKS, parse_calendar
from console.importers.cassettes import looks_like_cassette, parse_cassette
from console.importers.contacts import decode_text, parse_csv, parse_vcard, store_contacts
from console.importers.schedules import ParsedFile, store_policies, store_schedules
from console.importers.vendors import ShapeError, parse_vendor_json
from console.storage.db import Database
from console.storage.models import format_utc

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
#: read when a folder is given (a file named on the command line is read whatever its name)
SUFFIXES = (".csv", ".tsv", ".vcf", ".vcard", ".ics", ".ical", ".ifb", ".json")
#: read from a folder only when they are recorded HTTP (a VCR cassette)
CASSETTE_SUFFIXES = (".yaml", ".yml")
_PEEK = 64 * 1024
#: the cache_sets rows this importer keeps
PEOPLE_SET, SCHEDULES_SET = "people", "schedules"
_SOURCE_NAMES = 6


@dataclass(frozen=True)
class FileResult:
    path: str
    kind: str
    contacts: int
    schedules: int
    shifts: int
    policies: int


@dataclass
class PeopleImportReport:
    """What one import did. Counts are over every file read."""

    files: list[FileResult] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    notes: list[Refusal] = field(default_factory=list)
    contacts_new: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    schedules: int = 0
    shifts: int = 0
    policies: int = 0

    @property
    def read_any(self) -> bool:
        return bool(self.files)


def import_people_and_schedules(
    db: Database,
    paths: Sequence[Path | str],
    *,
    region: str | None = None,
    weeks: int = DEFAULT_WEEKS,
    local: tzinfo | None = None,
    clock: Clock = utc_now,
) -> PeopleImportReport:
    """Import contacts, schedules and policies from ``paths`` (files or folders).

    ``region`` reads national phone numbers (``GB``); ``weeks`` is how far ahead
    calendars are expanded; ``local`` the zone for a calendar's floating times
    (None: this machine's)."""
    report = PeopleImportReport()
    now = clock()
    parsed_files: list[tuple[str, ParsedFile]] = []
    for path in _files(paths, report.refused):
        parsed = _parse(path, report.refused, region=region, weeks=weeks, local=local, now=now)
        if parsed is None:
            continue
        report.refused.extend(parsed.refused)
        report.notes.extend(parsed.notes)
        if parsed.contacts or parsed.schedules or parsed.policies:
            parsed_files.append((path, parsed))
        elif not parsed.refused:
            report.refused.append(Refusal(path, f"nothing to import in this {parsed.kind} file"))
    if parsed_files:
        _write(db, parsed_files, report, format_utc(now))
    log.info(
        "people/on-call import: %d files, %d new and %d updated contacts, %d schedules with "
        "%d shifts, %d policies, %d refused",
        len(report.files),
        report.contacts_new,
        report.contacts_updated,
        report.schedules,
        report.shifts,
        report.policies,
        len(report.refused),
    )
    return report


def _files(paths: Sequence[Path | str], refused: list[Refusal]) -> list[str]:
    found: list[str] = []
    for given in paths:
        absolute = os.path.abspath(os.fspath(given))
        if os.path.isdir(absolute):
            for folder, dirs, names in os.walk(absolute):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    full = os.path.join(folder, name)
                    if name.lower().endswith(SUFFIXES) or (
                        name.lower().endswith(CASSETTE_SUFFIXES) and _is_cassette(full)
                    ):
                        found.append(full)
        elif os.path.exists(absolute):
            found.append(absolute)
        else:
            refused.append(Refusal(absolute, "no such file or folder"))
    return found


def _is_cassette(path: str) -> bool:
    """A YAML file in a folder that holds recorded HTTP (other YAML is not ours)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_PEEK)
    except OSError:
        return True  # named in the refusals with its reason
    return looks_like_cassette(head.decode("utf-8", "replace"))


def _parse(
    path: str,
    refused: list[Refusal],
    *,
    region: str | None,
    weeks: int,
    local: tzinfo | None,
    now: datetime,
) -> ParsedFile | None:
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            refused.append(
                Refusal(path, f"too large ({size // 1024 // 1024} MB; the limit is 20 MB)")
            )
            return None
        with open(path, "rb") as handle:
            data = handle.read()
        saved_at = datetime.fromtimestamp(os.path.getmtime(path), UTC)
    except OSError as error:
        refused.append(Refusal(path, f"cannot be read: {error.strerror or error}"))
        return None
    if not data.strip():
        refused.append(Refusal(path, "empty file"))
        return None
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        refused.append(Refusal(path, "binary file, not CSV, vCard, iCalendar or JSON"))
        return None
    try:
        text = decode_text(data)
    except ValueError as error:
        refused.append(Refusal(path, str(error)))
        return None
    head = text.lstrip()[:32].upper()
    try:
        if head.startswith("BEGIN:VCALENDAR"):
            return parse_calendar(text, path, now=now, weeks=weeks, local=local)
        if head.startswith("BEGIN:VCARD"):
            drafts, bad = parse_vcard(text, path, region=region)
            return ParsedFile(kind="vcard", contacts=drafts, refused=bad)
        if looks_like_cassette(text):
            cassette = parse_cassette(text, path, saved_at=saved_at, region=region)
            if isinstance(cassette, Refusal):
                refused.append(cassette)
                return None
            return cassette
        if head.startswith(("{", "[")):
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                refused.append(
                    Refusal(path, f"invalid JSON: {error.msg} (column {error.colno})", error.lineno)
                )
                return None
            return parse_vendor_json(document, path, saved_at=saved_at, region=region)
        drafts, bad = parse_csv(text, path, region=region)
        return ParsedFile(kind="csv", contacts=drafts, refused=bad)
    except (ShapeError, ValueError) as error:
        refused.append(Refusal(path, str(error)))
        return None


#: people before anything that attaches to them
_ORDER = {"pagerduty-contact-methods": 1}


def _write(
    db: Database,
    parsed_files: list[tuple[str, ParsedFile]],
    report: PeopleImportReport,
    now: str,
) -> None:
    ordered = sorted(parsed_files, key=lambda item: _ORDER.get(item[1].kind, 0))
    people_sources: list[str] = []
    schedule_sources: list[str] = []
    # counted once each however many files hold them (two saved copies of a roster)
    schedule_keys: set[str] = set()
    policy_keys: set[str] = set()
    with db.raw_writer() as raw:
        for path, parsed in ordered:
            source = f"file:{path}"
            merged = store_contacts(raw, parsed.contacts, source=source, now=now)
            for draft in merged.unknown:
                report.refused.append(
                    Refusal(
                        path,
                        f"contact methods of {draft.vendor_ref}, who is not known: import "
                        "the users response first (or in the same command)",
                    )
                )
            stored = store_schedules(raw, parsed.schedules, source=source, now=now)
            policies = store_policies(raw, parsed.policies, source=source, now=now)
            report.contacts_new += merged.new
            report.contacts_updated += merged.updated
            report.contacts_unchanged += merged.unchanged
            schedule_keys |= stored.keys
            policy_keys |= policies.keys
            report.shifts += stored.shifts
            taken = len(parsed.contacts) - len(merged.unknown)
            if taken:
                people_sources.append(path)
            if stored.schedules or policies.policies:
                schedule_sources.append(path)
            report.files.append(
                FileResult(
                    path,
                    parsed.kind,
                    taken,
                    stored.schedules,
                    stored.shifts,
                    policies.policies,
                )
            )
        report.schedules = len(schedule_keys)
        report.policies = len(policy_keys)
        for name, sources in ((PEOPLE_SET, people_sources), (SCHEDULES_SET, schedule_sources)):
            if sources:
                record_cache_set(raw, name, _describe(sources), now)


def _describe(sources: list[str]) -> str:
    shown = ", ".join(sources[:_SOURCE_NAMES])
    more = len(sources) - _SOURCE_NAMES
    return f"import: {shown}" + (f" and {more} more" if more > 0 else "")


def record_cache_set(raw: sqlite3.Connection, name: str, source: str, now: str) -> None:
    """Record when and from where a cached set was (re)filled."""
    raw.execute(
        "INSERT INTO cache_sets (name, fetched_at, source) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET fetched_at = excluded.fetched_at, "
        "source = excluded.source",
        (name, now, source),
    )
