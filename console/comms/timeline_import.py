"""Timeline import: events from a JSON-lines log or a CSV export, merged into an
incident's timeline as backdated ``imported`` entries.

Columns/keys are matched by alias (``timestamp``/``time``/``@timestamp``/…,
``source``/``service``/``host``/…, ``message``/``msg``/``text``/…). A bad row is
refused with its line number and the rest of the file is imported; a file that
cannot be read at all is refused whole. Times: ISO 8601 (``Z`` or an offset),
or Unix epoch seconds/milliseconds; a time without an offset is read in the
zone given (UTC unless told). Dedupe is the writer's (IncidentService).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from console.domain.clock import Clock, utc_now
from console.domain.oncall import Refusal
from console.domain.views import TimelineEntry
from console.ops.incidents import MAX_TEXT, ImportedEvent, IncidentService
from console.storage.db import Database
from console.storage.models import format_utc

MAX_BYTES = 64 * 1024 * 1024
ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": (
        "timestamp", "time", "ts", "@timestamp", "date", "datetime", "occurred_at",
        "created_at", "event_time", "eventtime", "when",
    ),
    "source": (
        "source", "service", "host", "hostname", "origin", "logger", "app", "component",
        "system",
    ),
    "message": (
        "message", "msg", "text", "description", "summary", "event", "log", "body", "title",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class TimelineImport:
    events: list[ImportedEvent] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    read_any: bool = False


@dataclass(frozen=True)
class ImportReport:
    added: list[TimelineEntry]
    duplicates: int
    refused: list[Refusal]
    read_any: bool


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_").lstrip("\ufeff")


_FIELD_OF = {_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}


def parse_time(value: Any, zone: tzinfo) -> datetime:
    """ISO 8601 or epoch seconds/milliseconds → aware UTC; ValueError with the reason."""
    if isinstance(value, bool):
        raise ValueError("the timestamp is true/false, not a time")
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().replace(".", "", 1).isdigit()
    ):
        number = float(value)
        if number > 1e11:  # milliseconds (1e11 s is the year 5138)
            number /= 1000
        return datetime.fromtimestamp(number, UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the timestamp is empty")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace(" UTC", "Z"))
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not ISO 8601 or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _event(record: Mapping[str, Any], zone: tzinfo, default_source: str) -> ImportedEvent:
    found: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for raw_key, value in record.items():
        name = _FIELD_OF.get(_key(str(raw_key)))
        if name and name not in found and value not in (None, ""):
            found[name] = value
        elif value not in (None, "") and len(extra) < 20:
            extra[str(raw_key)] = (
                value if isinstance(value, str | int | float | bool) else str(value)
            )
    if "timestamp" not in found:
        raise ValueError(f"no timestamp (a column or key named one of: {_names('timestamp')})")
    if "message" not in found:
        raise ValueError(f"no message (a column or key named one of: {_names('message')})")
    message = str(found["message"]).strip()
    if not message:
        raise ValueError("the message is empty")
    if len(message) > MAX_TEXT:
        raise ValueError(f"the message is {len(message)} characters; the limit is {MAX_TEXT}")
    source = str(found.get("source", default_source)).strip()[:200] or default_source
    return ImportedEvent(parse_time(found["timestamp"], zone), source, message, extra)


def _names(name: str) -> str:
    return ", ".join(ALIASES[name][:5])


def read_events(path: Path, *, zone: tzinfo = UTC) -> TimelineImport:
    """Parse one file; never raises on its content."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return TimelineImport(refused=[Refusal(where, "larger than 64 MB")])
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return TimelineImport(refused=[Refusal(where, f"not UTF-8 text (byte {error.start})")])
    except OSError as error:
        return TimelineImport(refused=[Refusal(where, f"cannot be read ({error.strerror})")])
    default_source = path.stem
    first = text.lstrip()[:1]
    if first in ("{", "["):
        return _read_json(text, where, zone, default_source)
    return _read_csv(text, where, zone, default_source)


def _read_json(text: str, where: str, zone: tzinfo, default_source: str) -> TimelineImport:
    result = TimelineImport()
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array of events, one document
        try:
            loaded = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            line = getattr(error, "lineno", None)
            return TimelineImport(refused=[Refusal(where, f"not valid JSON ({error})", line)])
        records = [(1, r) for r in loaded]
        line_numbers = False
    else:
        records = []
        line_numbers = True
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except (json.JSONDecodeError, RecursionError) as error:
                result.refused.append(Refusal(where, f"not a JSON object ({error})", number))
    for number, record in records:
        if not isinstance(record, Mapping):
            result.refused.append(
                Refusal(where, "expected a JSON object", number if line_numbers else None)
            )
            continue
        try:
            result.events.append(_event(record, zone, default_source))
        except (ValueError, OverflowError, OSError) as error:
            result.refused.append(Refusal(where, str(error), number if line_numbers else None))
    return TimelineImport(result.events, result.refused, bool(result.events))


def _read_csv(text: str, where: str, zone: tzinfo, default_source: str) -> TimelineImport:
    # the header line decides the delimiter (csv.Sniffer guesses wrong on ragged rows)
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    result = TimelineImport()
    try:
        header = next(reader, None)
    except csv.Error as error:
        return TimelineImport(refused=[Refusal(where, f"not CSV ({error})", 1)])
    if not header:
        return TimelineImport(refused=[Refusal(where, "empty file")])
    columns = [_key(h) for h in header]
    if not any(_FIELD_OF.get(c) == "timestamp" for c in columns) or not any(
        _FIELD_OF.get(c) == "message" for c in columns
    ):
        return TimelineImport(
            refused=[
                Refusal(
                    where,
                    f"the header {header!r} names no timestamp column ({_names('timestamp')}) "
                    f"or no message column ({_names('message')})",
                    1,
                )
            ]
        )
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.refused.append(Refusal(where, f"bad CSV ({error})", line))
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            result.refused.append(
                Refusal(where, f"{len(row)} cells for {len(header)} columns", line)
            )
            continue
        try:
            result.events.append(_event(dict(zip(header, row, strict=False)), zone, default_source))
        except (ValueError, OverflowError, OSError) as error:
            result.refused.append(Refusal(where, str(error), line))
    return TimelineImport(result.events, result.refused, bool(result.events))


def import_timeline(
    db: Database,
    service: IncidentService,
    incident_id: int,
    paths: Sequence[Path],
    *,
    zone: tzinfo = UTC,
    clock: Clock = utc_now,
) -> ImportReport:
    """Read every file, then merge all good events in one transaction; record the
    import in ``cache_sets`` (``timeline_import``: when, and which files)."""
    events: list[ImportedEvent] = []
    refused: list[Refusal] = []
    read_any = False
    for path in paths:
        parsed = read_events(path, zone=zone)
        events += parsed.events
        refused += parsed.refused
        read_any = read_any or parsed.read_any
    added, duplicates = service.import_entries(incident_id, events) if events else ([], 0)
    if events:
        with db.raw_writer() as raw:
            raw.execute(
                "INSERT INTO cache_sets (name, fetched_at, source) "
                "VALUES ('timeline_import', ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET fetched_at = excluded.fetched_at, "
                "source = excluded.source",
                (format_utc(clock()), ", ".join(str(p) for p in paths)[:2000]),
            )
    return ImportReport(added, duplicates, refused, read_any)
