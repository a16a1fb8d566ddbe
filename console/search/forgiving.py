"""What a search forgives: slips of the finger and English word endings.

Both work over the library's own vocabulary, the words of the word index as
FTS5 lists them (a ``temp`` fts5vocab table: nothing stored, no migration), so
a correction is always a word some runbook holds.

* :func:`stem` — a light English stemmer (fail / fails / failed / failing /
  failure → ``fail``; expire / expiring / expiration → ``expir``). It only has
  to map the forms of one word to one key: the key is never shown or searched.
* :meth:`Vocabulary.correct` — the closest word at edit distance 1 (a word of
  five letters or more) or 2 (nine or more), a transposition counting as one
  slip; ties go to the word more runbooks hold.

Reading the vocabulary walks the whole index (fts5vocab counts every term's
documents): 70-80 ms for the 800-runbook corpus, 0.16-0.5 s for 10,000
runbooks on a busy two-core machine, and the deletion index as much again. It
is read once per state of the index (the key is FTS5's structure record, which
every write changes, whoever made it) and kept per database;
:func:`vocabulary` is called only when the exact query found too little, and
by ``RunbookLibrary.import_paths`` after an import.
"""

from __future__ import annotations

import bisect
import functools
import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from console.domain.runbook import CJK_CLASS

#: a query word is corrected from this many letters (one slip), and from
#: TWO_SLIPS_FROM letters by up to two
ONE_SLIP_FROM = 5
TWO_SLIPS_FROM = 9
#: at most this many forms of a word are searched for it (the commonest)
MAX_FORMS = 8
#: the temp table listing the word index's terms with how many runbooks hold each
VOCAB_TABLE = "temp.runbooks_fts_vocab"

_CJK = re.compile(CJK_CLASS)
_VOWEL = re.compile("[aeiouy]")
#: suffixes tried longest-first; the first that leaves a stem of three letters or
#: more with a vowel is removed (one suffix: "failures" → "fail", not further)
_SUFFIXES = (
    "ations",
    "ation",
    "ments",
    "ment",
    "ating",
    "ings",
    "ing",
    "ions",
    "ion",
    "ures",
    "ure",
    "ated",
    "ates",
    "ate",
    "ied",
    "ies",
    "ed",
    "es",
    "s",
)


@functools.lru_cache(maxsize=1 << 15)
def stem(word: str) -> str:
    """The key the forms of an English word share (lower case). Cached: the rerank
    stems the words of up to 50 runbooks' names a search, mostly the same words."""
    w = word.lower()
    if len(w) <= 3:
        return w
    for suffix in _SUFFIXES:
        if not w.endswith(suffix):
            continue
        rest = w[: -len(suffix)]
        if suffix in ("ies", "ied"):
            rest += "y"
        elif suffix == "es" and not rest.endswith(("s", "x", "z", "ch", "sh")):
            rest = w[:-1]  # "expires" → "expire" (then the e goes below)
        elif suffix == "s" and w.endswith(("ss", "us", "is")):
            continue  # class, status, analysis
        if len(rest) < 3 or not _VOWEL.search(rest):
            continue
        w = rest
        break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouylsz":
        w = w[:-1]  # running → runn → run; stopped → stopp → stop
    return w


def slips_allowed(word: str) -> int:
    """How many slips a query word of this length may hold (0: never corrected)."""
    if len(word) >= TWO_SLIPS_FROM:
        return 2
    return 1 if len(word) >= ONE_SLIP_FROM else 0


def edit_distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap two
    neighbours: each one slip); ``bound + 1`` as soon as it must exceed ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return previous[-1]


def _pairs(word: str) -> frozenset[str]:
    return frozenset(word[i : i + 2] for i in range(len(word) - 1))


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class Vocabulary:
    """The words of the index (letters only, no CJK: those are character pairs)
    with how many runbooks hold each."""

    docs: dict[str, int]
    _forms: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: every word of four letters or more, and each of it with one letter deleted
    _deleted: dict[str, list[str]] | None = field(default=None, repr=False)
    #: words of seven letters or more by length, with their letter pairs
    _lengths: dict[int, list[tuple[str, frozenset[str]]]] | None = field(default=None, repr=False)
    _sorted: list[str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, rows: Iterable[tuple[str, int]]) -> Vocabulary:
        docs = {
            term: count
            for term, count in rows
            if len(term) >= 3 and term.isalpha() and not _CJK.search(term)
        }
        forms: dict[str, list[str]] = defaultdict(list)
        for term in docs:
            forms[stem(term)].append(term)
        return cls(docs, dict(forms))

    def knows(self, word: str) -> bool:
        return word.lower() in self.docs

    def starts(self, prefix: str) -> bool:
        """Whether an indexed word starts with ``prefix`` (a word still being typed)."""
        with self._lock:
            if self._sorted is None:
                self._sorted = sorted(self.docs)
            words = self._sorted
        lower = prefix.lower()
        at = bisect.bisect_left(words, lower)
        return at < len(words) and words[at].startswith(lower)

    def forms(self, word: str) -> tuple[str, ...]:
        """The words of the index sharing ``word``'s stem, commonest first (the word
        itself included when the index holds it)."""
        found = self._forms.get(stem(word), [])
        return tuple(sorted(found, key=lambda w: (-self.docs[w], w))[:MAX_FORMS])

    def correct(self, word: str) -> str | None:
        """The index's word closest to ``word`` within its allowed slips (fewest slips,
        then the word more runbooks hold), or None (known, too short, nothing near).

        One slip: the words sharing ``word`` or one of its one-letter deletions in
        the deletion index (exact for one slip, a transposition included: 0.2 ms).
        Two slips, tried only when no word is one slip away: the words of about
        the same length missing at most six of its letter pairs (each slip breaks
        at most three), checked with the distance."""
        lower = word.lower()
        bound = slips_allowed(lower)
        if not bound or lower in self.docs or not lower.isalpha():
            return None
        deleted = self._deletion_index()
        keys = {lower} | _deletes(lower)
        best = self._closest(lower, {w for key in keys for w in deleted.get(key, ())}, 1)
        if best is None and bound == 2:
            best = self._closest(lower, self._near(lower, 2), 2)
        return best

    def _closest(self, word: str, candidates: Iterable[str], bound: int) -> str | None:
        best: tuple[int, int, str] | None = None
        for candidate in candidates:
            distance = edit_distance(word, candidate, bound)
            if distance <= bound:
                rank = (distance, -self.docs[candidate], candidate)
                if best is None or rank < best:
                    best = rank
        return None if best is None else best[2]

    def _near(self, word: str, slips: int) -> list[str]:
        """Words that may be ``slips`` away: length within ``slips``, and at most three
        letter pairs per slip missing on either side."""
        pairs = _pairs(word)
        most = 3 * slips
        by_length = self._by_length()
        return [
            other
            for length in range(len(word) - slips, len(word) + slips + 1)
            for other, other_pairs in by_length.get(length, ())
            if len(pairs - other_pairs) <= most and len(other_pairs - pairs) <= most
        ]

    def _by_length(self) -> dict[int, list[tuple[str, frozenset[str]]]]:
        with self._lock:
            if self._lengths is None:
                lengths: dict[int, list[tuple[str, frozenset[str]]]] = defaultdict(list)
                for term in self.docs:
                    if len(term) >= TWO_SLIPS_FROM - 2:
                        lengths[len(term)].append((term, _pairs(term)))
                self._lengths = dict(lengths)
            return self._lengths

    def prepare(self) -> None:
        """Build what corrections use now rather than on the first one."""
        self._deletion_index()
        self._by_length()

    def _deletion_index(self) -> dict[str, list[str]]:
        """Built on the first correction (0.1 s for 15,000 words), not with the
        vocabulary: stems need only the words."""
        with self._lock:
            if self._deleted is None:
                index: dict[str, list[str]] = defaultdict(list)
                for term in self.docs:
                    if len(term) >= ONE_SLIP_FROM - 1:
                        index[term].append(term)
                        for key in _deletes(term):
                            index[key].append(term)
                self._deleted = dict(index)
            return self._deleted


_cache: dict[str, tuple[bytes, Vocabulary]] = {}
_cache_lock = threading.Lock()
#: databases whose vocabulary is kept (a process opens one library, tests many)
_CACHE_SIZE = 4


def _state(raw: sqlite3.Connection) -> bytes:
    """FTS5's structure record: it changes with every write to the index."""
    row = raw.execute("SELECT block FROM runbooks_fts_data WHERE id = 10").fetchone()
    return bytes(row[0]) if row else b""


def vocabulary(raw: sqlite3.Connection, key: str) -> Vocabulary:
    """The vocabulary of the word index ``raw`` sees, read once per index state
    (``key`` names the database: its path)."""
    state = _state(raw)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == state:
        return cached[1]
    raw.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {VOCAB_TABLE} USING fts5vocab(main, runbooks_fts, row)"
    )
    made = Vocabulary.of(raw.execute(f"SELECT term, doc FROM {VOCAB_TABLE}"))
    with _cache_lock:
        _cache.pop(key, None)
        while len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (state, made)
    return made


def forget(key: str) -> None:
    """Drop the vocabulary kept for a database (it is closed or removed)."""
    with _cache_lock:
        _cache.pop(key, None)
