"""Runbooks as values: a parsed file, a refusal, review staleness, slugs.

Pure: the YAML and file reading live in :mod:`console.importers.runbooks`;
this module holds what both the importer and the search agree on.
"""

from __future__ import annotations

import operator
import re
import sys
from array import array
from collections.abc import Iterator, Mapping
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
#: ideographs (+ extension A, compatibility), Hangul, half-width Katakana. A word
#: index cannot find words in them; their runs are indexed as character pairs
#: (:func:`cjk_bigrams`; migrations 0003, 0006 and 0015 copy this class).
CJK_CLASS = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
#: text cut into its CJK runs and what stands between them
_CJK_SPLIT = re.compile(f"({CJK_CLASS}+)")
#: code points four bytes wide, in the machine's order (what the array holds)
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_FOUR_BYTES = next(code for code in "IL" if array(code).itemsize == 4)
_SPACES = array(_FOUR_BYTES, [ord(" ")] * 3)
_AFTER_NUL = re.compile("\0[^\0 ]")


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


def cjk_bigrams(*texts: str) -> str:
    """What the word index's CJK columns hold of ``texts``: every run of CJK
    characters as its overlapping pairs, then its last character alone
    ("インシデント" → "イン ンシ シデ デン ント ト"), runs in order; then the words
    glued to CJK text ("Pod" of "Podが再起動"), which the index's tokenizer would
    otherwise keep only as part of one long token with it.

    A run of two or more characters is then found exactly by the phrase of its
    pairs (:func:`cjk_query`): the pairs of a run are consecutive positions, and
    the single character that ends each run keeps a phrase of pairs from reaching
    into the next run. One character is found by the prefix of a token: it either
    starts a pair or ends a run. This is the CJK bigram scheme of Lucene's
    CJKAnalyzer, in the unicode61 index the Latin words use.
    """
    out: list[str] = []
    for text in texts:
        if not text or text.isascii():
            continue
        parts = _CJK_SPLIT.split(text)  # other text, a run, other text, …, other text
        if len(parts) == 1:
            continue
        out.append(_pairs(parts[1::2]))
        out.extend(_glued_words(parts))
    return " ".join(out)


def _glued_words(parts: list[str]) -> Iterator[str]:
    """The words glued to the runs of ``parts`` (what ``_CJK_SPLIT`` made), in order:
    the letters right before and right after each run, a word between two runs once."""
    for number in range(1, len(parts), 2):
        before, after = parts[number - 1], parts[number + 1]
        if before[-1:].isalnum():
            start = len(before) - 1
            while start and before[start - 1].isalnum():
                start -= 1
            if start or number == 1:  # else all of it followed the run before
                yield before[start:]
        if after[:1].isalnum():
            end = 1
            while end < len(after) and after[end].isalnum():
                end += 1
            yield after[:end]


def _pairs(runs: list[str]) -> str:
    """The runs' pairs and last characters, space-separated, built without a Python
    object per pair (a third of the parser's time for Japanese runbooks when it
    made one): the runs joined by NUL and ending in one are laid out as code points
    so that every character stands beside its successor ("ab␀" → "ab b␀ "), the
    pairs that start at a NUL are dropped and the NULs that end a run removed."""
    joined = "\0".join(runs) + "\0"
    points = array(_FOUR_BYTES)
    points.frombytes(joined.encode(_UTF32))
    count = len(points) - 1
    laid = _SPACES * count
    laid[0::3] = points[:-1]
    laid[1::3] = points[1:]
    return _AFTER_NUL.sub("", laid.tobytes().decode(_UTF32)).replace("\0", "")


def cjk_query(run: str) -> tuple[str, bool]:
    """(FTS5 phrase text, whether it is a prefix) that finds the CJK ``run`` in
    text indexed by :func:`cjk_bigrams`: its pairs, or one character as a prefix."""
    if len(run) == 1:
        return run, True
    return " ".join(map(operator.add, run, run[1:])), False


def script_runs(text: str) -> list[tuple[str, bool]]:
    """``text`` cut where it changes between CJK and other scripts: (piece, is_cjk),
    in order ("PostgreSQLの接続" → [("PostgreSQL", False), ("の接続", True)])."""
    if text.isascii():
        return [(text, False)]
    # the split alternates other text and runs: the odd places are the runs
    return [
        (piece, number % 2 == 1) for number, piece in enumerate(_CJK_SPLIT.split(text)) if piece
    ]


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
    #: the format the file was read as (console.importers.runbook_formats.FORMATS)
    format: str = "markdown"
    #: a folder's README or index page (a landing page), not an incident's runbook
    landing: bool = False
    #: what was wrong with the file but shown anyway, each a sentence with its line
    warnings: tuple[str, ...] = ()
    #: the page's place in its site's navigation, None without one
    nav_order: int | None = None


def review_due(last_reviewed: date | None, every_days: int, today: date) -> date:
    """The date the next review is due. A runbook never reviewed is due today."""
    if last_reviewed is None:
        return today
    return last_reviewed + timedelta(days=every_days)


def is_overdue(
    last_reviewed: date | None, every_days: int, today: date, *, landing: bool = False
) -> bool:
    """Past its review date (the due day itself is not overdue), or never reviewed
    (a landing page, which indexes a folder, is not overdue until it has a date)."""
    if last_reviewed is None:
        return not landing
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
