"""Runbooks as values: a parsed file, a refusal, review staleness, slugs.

Pure: the YAML and file reading live in :mod:`console.importers.runbooks`;
this module holds what both the importer and the search agree on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from console.domain.errors import ConsoleError

#: A runbook without ``review_every_days`` (or an alias) is due for review this
#: many days after ``last_reviewed`` (docs/RUNBOOK_FORMAT.md).
DEFAULT_REVIEW_DAYS = 180

_INTERVAL = re.compile(
    r"^\s*(\d+)\s*(d|day|days|w|wk|week|weeks|m|mo|month|months|y|yr|year|years)?\s*$",
    re.IGNORECASE,
)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}

#: Scripts written without spaces between words: Hiragana, Katakana, CJK
#: ideographs (+ extension A, compatibility), Hangul, half-width Katakana. Only
#: a trigram index finds words in them (migration 0003 copies this class).
CJK_CLASS = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
_CJK = re.compile(CJK_CLASS)


def has_cjk(text: str) -> bool:
    """True when ``text`` holds any character of :data:`CJK_CLASS`."""
    return not text.isascii() and _CJK.search(text) is not None


#: the first byte of every character of :data:`CJK_CLASS` in UTF-8: E3-ED for
#: U+3040-U+D7AF, EF for U+F900-U+FF9F (a test checks every character)
CJK_LEAD_BYTES = (*range(0xE3, 0xEE), 0xEF)
_CJK_LEADS = tuple(bytes([lead]) for lead in CJK_LEAD_BYTES)


def may_hold_cjk(data: bytes) -> bool:
    """False when the UTF-8 ``data`` cannot hold a character of :data:`CJK_CLASS`: it
    has no byte that starts one. A dozen memchr scans: a quarter of the time the
    regex takes over the decoded text, and most English runbooks hold some
    non-ASCII character (a typographic quote, an arrow), so ``isascii`` rarely
    settles it."""
    return not data.isascii() and any(lead in data for lead in _CJK_LEADS)


def cjk_lines(text: str) -> str:
    """The lines of ``text`` that hold CJK text (what the trigram index takes of a body)."""
    if text.isascii() or _CJK.search(text) is None:  # one C scan for most bodies
        return ""
    return "\n".join(line for line in text.split("\n") if not line.isascii() and _CJK.search(line))


class RunbookError(ConsoleError):
    """One runbook file was refused. Carries the file and the reason a person can act on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class RunbookRefusal:
    """A file (or folder) the import did not take, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class ParsedRunbook:
    """One runbook file, parsed and normalised (aliases resolved), ready to store."""

    slug: str
    title: str
    path: str
    source_root: str
    content_hash: str
    mtime_ns: int
    size: int
    body: str
    services: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    severity_hint: str | None = None
    owner: str | None = None
    last_reviewed: date | None = None
    review_every_days: int = DEFAULT_REVIEW_DAYS
    #: front-matter keys this version does not know, kept as given (JSON-safe values)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


def review_due(last_reviewed: date | None, every_days: int, today: date) -> date:
    """The date the next review is due. A runbook never reviewed is due today."""
    if last_reviewed is None:
        return today
    return last_reviewed + timedelta(days=every_days)


def is_overdue(last_reviewed: date | None, every_days: int, today: date) -> bool:
    """Past its review date (the due day itself is not overdue), or never reviewed."""
    if last_reviewed is None:
        return True
    return review_due(last_reviewed, every_days, today) < today


def parse_interval_days(value: object) -> int:
    """``90``, ``"90d"``, ``"12w"``, ``"3 months"``, ``"1y"`` → days. ValueError otherwise.

    A month counts 30 days and a year 365: a review interval, not a calendar.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number of days")
    if isinstance(value, int):
        days = value
    elif isinstance(value, str):
        match = _INTERVAL.match(value)
        if match is None:
            raise ValueError(
                f'{value!r} is not an interval (write e.g. 90, "90d", "12w", "3 months")'
            )
        unit = (match.group(2) or "d").lower()
        days = int(match.group(1)) * _UNIT_DAYS[unit[0]]
    else:
        raise ValueError(f"{value!r} is not a number of days")
    if days < 1:
        raise ValueError(f"{value!r}: the review interval must be at least one day")
    return days


def slugify(text: str) -> str:
    """Lower-case words joined by ``-``: ``Node/Disk Full.md`` → ``node-disk-full-md``."""
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-_") or "runbook"
