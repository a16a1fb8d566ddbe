"""Runbook search over the FTS5 indexes: whatever a person types, never an error.

The query is split on white space; every term becomes an FTS5 string literal
(quotes doubled), so ``SEV-1``, ``"unclosed``, ``a OR``, ``*``, ``C++``,
``()`` and ``NEAR`` are words to look for, never syntax. Terms are joined with
AND; the last term matches as a prefix while the person is still typing (no
trailing space). When the exact words do not fill the page, other forms of
each word fill it (after the exact hits); when they find fewer than
:data:`FEW` runbooks, a word no runbook holds is corrected to the library's
closest word (:mod:`console.search.forgiving`; the result says which query it
answers); then the terms the index knows, then any term (OR).
Of the best :data:`RERANK_WINDOW`, the runbooks whose title or path hold every
word come first (:func:`_names_first`).

One index, ``runbooks_fts`` (unicode61), ranks everything. Text in scripts
written without spaces (Japanese, Chinese, Korean) is in two of its columns as
character pairs (migration 0015, :func:`console.domain.runbook.cjk_bigrams`):
a term's CJK runs become phrases of pairs on those columns, its other pieces
words, all in one MATCH ("Podが再起動" finds the runbooks holding the word "pod"
and the text "が再起動"). When the index finds nothing, substrings of the short
columns are tried with LIKE (``filesys`` inside ``NodeFilesystemSpaceFillingUp``).

Snippets mark matches with ``[[`` and ``]]`` (:data:`MARK_START`,
:data:`MARK_END`): readable in a terminal and in JSON, and a client that
renders HTML escapes the snippet first, then swaps the markers for tags.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from console.domain.runbook import CJK_CLASS, cjk_query, is_overdue, script_runs
from console.search.forgiving import Vocabulary, stem, vocabulary
from console.storage.db import Database

log = logging.getLogger(__name__)

MARK_START, MARK_END = "[[", "]]"
#: the substring fallback (not an index: LIKE over these columns)
NAMES = "names"
NAME_COLUMNS = ("title", "slug", "alerts", "symptoms")
#: bm25 weights, in the FTS column order of migration 0015:
#: title, slug (an alert runbook's file is named after the alert), symptoms,
#: alerts, services, owner, body, and the CJK text of the names (weighed as a
#: symptom: titles and symptoms are most of it) and of the body
WEIGHTS = (10.0, 8.0, 6.0, 8.0, 5.0, 2.0, 1.0, 6.0, 1.0)


@dataclass(frozen=True)
class SearchHit:
    id: int
    slug: str
    title: str
    path: str
    snippet: str
    #: higher is better (negated bm25); comparable within one result list only
    score: float
    owner: str | None
    services: tuple[str, ...]
    last_reviewed: date | None
    overdue: bool


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    #: the query the hits answer when a word was corrected ("patroni" for
    #: "patroin"): the client shows "showing results for …"; None otherwise
    corrected: str | None = None
    #: wall time of the search, milliseconds
    elapsed_ms: float = 0.0


#: fewer exact results than this and a word no runbook holds is corrected (one
#: slip, two in long words). Word forms (fail, failing, failure) are added
#: whenever the exact words do not fill the page, after the exact hits.
FEW = 3
#: how many of the index's best are reranked by their names (a runbook whose
#: title or path holds every word of the query comes first): the issue's "disk
#: full" runbook was 6th; 50 cost 2-4 ms more a search than 30 over 10k runbooks
RERANK_WINDOW = 30
#: words a name need not hold for the query to be "all in the name"
_STOPWORDS = frozenset(
    ("a", "an", "and", "at", "by", "for", "from", "how", "in", "is", "it", "my", "of", "on",
     "or", "the", "to", "what", "when", "with")
)  # fmt: skip


def terms_of(query: str) -> list[str]:
    """The words of a query; pieces with no letter or digit are dropped (``*``, ``()``)."""
    return [t for t in query.split() if any(ch.isalnum() for ch in t)]


def _literal(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


#: A still-typed last word matches as a prefix only from this many characters:
#: "p*" or "1*" (the "1" of "SEV-1") expands to thousands of index terms and
#: costs 5-10x a whole-word query over 10k runbooks, for results nobody wants;
#: a three-letter stem ("pod*": pod, pods, podman, poddisruptionbudget, …) still
#: cost 1.5x the whole word ("restart pod" 4.2 vs 2.9 ms) once the word index
#: lost its prefix index (migration 0010). Until the fourth letter the word
#: counts as typed: "pod" finds pod, "pods" then finds pods*.
MIN_PREFIX_CHARS = 4
_TOKEN = re.compile(r"[^\W_]+")


def _like_pattern(term: str) -> str:
    """``%term%`` for ``LIKE … ESCAPE '\\'``, the term's own % _ \\ taken literally."""
    return "%" + re.sub(r"([%_\\])", r"\\\1", term) + "%"


def _prefix_worthy(term: str) -> bool:
    """The term's last token (as the word index splits it) is long enough for a prefix."""
    tokens = _TOKEN.findall(term)
    return bool(tokens) and len(tokens[-1]) >= MIN_PREFIX_CHARS


#: the word index's columns holding CJK text as character pairs (migration 0015)
CJK_COLUMNS = "{cjk_names cjk_body}"


def term_pieces(term: str) -> list[tuple[str, bool]]:
    """(piece, is_cjk) of a term as the index holds it: its CJK runs, and the text
    between them that has a letter or digit ("(の)" → [("の", True)])."""
    return [
        (piece, cjk) for piece, cjk in script_runs(term) if cjk or any(ch.isalnum() for ch in piece)
    ]


def _term_expression(term: str, *, prefix: bool) -> str:
    """One term: a string literal (a prefix if asked), each CJK run the phrase of its
    pairs on :data:`CJK_COLUMNS`, the pieces of a mixed term AND-ed in parentheses."""
    pieces = term_pieces(term)
    parts = []
    for number, (piece, cjk) in enumerate(pieces, 1):
        if cjk:
            phrase, one_character = cjk_query(piece)
            parts.append(f"{CJK_COLUMNS} : {_literal(phrase)}" + ("*" if one_character else ""))
        else:
            parts.append(_literal(piece) + ("*" if prefix and number == len(pieces) else ""))
    return parts[0] if len(parts) == 1 else "(" + " ".join(parts) + ")"


def fts_expression(terms: list[str], *, prefix_last: bool, join: str = " ") -> str:
    """FTS5 MATCH text: each term a string literal, the last one a prefix if asked;
    CJK text as phrases of character pairs (:func:`_term_expression`). ``join`` " "
    is an explicit AND: FTS5 refuses an implicit one before a parenthesis (a word
    then a term mixing scripts, ``incident Podが再起動``)."""
    last = len(terms) - 1
    join = " AND " if join == " " else join
    return join.join(
        _term_expression(term, prefix=prefix_last and number == last)
        for number, term in enumerate(terms)
    )


def search(
    db: Database,
    query: str,
    *,
    today: date,
    limit: int = 20,
    service: str | None = None,
    owner: str | None = None,
    stale: bool | None = None,
) -> list[SearchHit]:
    """Runbooks matching ``query``, best first (:func:`search_runbooks`, hits only)."""
    return search_runbooks(
        db, query, today=today, limit=limit, service=service, owner=owner, stale=stale
    ).hits


def search_runbooks(
    db: Database,
    query: str,
    *,
    today: date,
    limit: int = 20,
    service: str | None = None,
    owner: str | None = None,
    stale: bool | None = None,
) -> SearchResult:
    """Runbooks matching ``query``, best first. ``stale``: True only overdue, False only
    current, None both. An empty query (or one with no words) returns nothing.

    The exact words first; when they do not fill ``limit``, the forms of each word
    (failing: fail, failed, failure) after them; when they find fewer than
    :data:`FEW`, for a word no runbook holds, the closest word of the library (the
    result then says which query it answers); then the fallbacks of
    :func:`_attempts` and the names' substrings."""
    started = time.perf_counter()
    terms = terms_of(query)
    if not terms or limit <= 0:
        return SearchResult([], None, 0.0)
    # Still typing the last word: no trailing space, and it ends in a letter or
    # digit ("C++" is a finished word, not the start of "connection").
    typing = query[-1:].isalnum() and _prefix_worthy(terms[-1])
    with db.raw_reader() as raw:
        hits, corrected = _search(
            raw,
            str(db.path),
            terms,
            typing=typing,
            filters=_Filters(today, limit, service, owner, stale),
        )
    shown = None
    if corrected is not None:
        replaced = {
            term: _as_written(word, term, hits) if word != term else word
            for term, word in zip(terms, corrected, strict=True)
        }
        shown = " ".join(replaced.get(word, word) for word in query.split())
    return SearchResult(hits, shown, (time.perf_counter() - started) * 1000)


def _as_written(word: str, typed: str, hits: list[SearchHit]) -> str:
    """A corrected word (lower case, as the index holds it) in the case the person
    typed, or as the best hits' titles or file names write a name with capitals
    inside ("KubePodCrashLooping", not "kubepodcrashlooping")."""
    for hit in hits[:3]:
        tokens: list[str] = _TOKEN.findall(f"{hit.title} {os.path.basename(hit.path)}")
        for token in tokens:
            if token.lower() == word and not token[1:].islower():
                return token
    return word.capitalize() if typed[:1].isupper() else word


@dataclass(frozen=True)
class _Filters:
    today: date
    limit: int
    service: str | None
    owner: str | None
    stale: bool | None


def _search(
    raw: sqlite3.Connection, key: str, terms: list[str], *, typing: bool, filters: _Filters
) -> tuple[list[SearchHit], list[str] | None]:
    """(hits, the corrected terms when a correction found them)."""
    index = "runbooks_fts"
    exact = _run(raw, index, terms, join=" ", prefix_last=typing, filters=filters)
    if len(exact) >= filters.limit:
        return exact, None  # a full page: nothing to widen
    vocab = vocabulary(raw, key)
    # Spelling only when the exact words found too little; only a word no runbook
    # holds is corrected, so in practice when they found nothing.
    corrected = _corrected(vocab, terms, typing=typing) if len(exact) < FEW else terms
    changed = corrected != terms
    # the forms of whole words (a word still being typed is a prefix already)
    forms = {
        term: vocab.forms(term)
        for number, term in enumerate(corrected, 1)
        if _is_word(term) and len(term) > 3 and not (typing and number == len(corrected))
    }
    widens = changed or any(set(found) - {term.lower()} for term, found in forms.items())
    if widens:
        widened = _run(
            raw, index, corrected, join=" ", prefix_last=typing, filters=filters, forms=forms
        )
        if changed and widened:
            return widened, corrected
        seen = {hit.id for hit in exact}
        more = [hit for hit in widened if hit.id not in seen]
        if more:
            return (exact + more)[: filters.limit], None
    if exact:
        return exact, None
    base = corrected if changed else terms
    for words, join in _attempts(raw, index, base, prefix_last=typing):
        if words == base and join == " ":
            continue  # the first attempt, run above
        hits = _run(
            raw, index, words, join=join, prefix_last=typing and words[-1] == base[-1],
            filters=filters,
        )  # fmt: skip
        if hits:
            return hits, (corrected if changed else None)
    # substrings of names (LIKE on the short columns), of what was typed
    for words, join in _attempts(raw, NAMES, terms, prefix_last=False):
        hits = _run(raw, NAMES, words, join=join, prefix_last=False, filters=filters)
        if hits:
            return hits, None
    return [], None


def _is_word(term: str) -> bool:
    """Letters only, none of a script written without spaces (CJK text is searched
    as character pairs: it has no forms and no slips to forgive here)."""
    return term.isalpha() and _CJK_CHAR.search(term) is None


_CJK_CHAR = re.compile(CJK_CLASS)


def _corrected(vocab: Vocabulary, terms: list[str], *, typing: bool) -> list[str]:
    """The terms with each word the index does not hold replaced by its closest
    word (when one is near enough); a word still being typed that starts an
    indexed word is kept."""
    corrected = []
    for number, term in enumerate(terms, 1):
        replacement = None
        still_typed = typing and number == len(terms) and vocab.starts(term)
        if _is_word(term) and not vocab.knows(term) and not still_typed:
            replacement = vocab.correct(term)
        corrected.append(replacement if replacement is not None else term)
    return corrected


def _attempts(
    raw: sqlite3.Connection, table: str, terms: list[str], *, prefix_last: bool
) -> Iterator[tuple[list[str], str]]:
    """What to try on one index, in order: every term (AND); on the word index, the
    terms it knows at all (AND), which drops a misspelt or absent word; with three
    or more known terms, all but the commonest (AND); any term (OR).

    "postgres connection pool exhausted" with no runbook holding all four: the AND
    of "postgres pool exhausted" (dropping "connection", in 1,800 of 10,000
    runbooks) finds the two runbooks about exactly that, in a fifth of the time an
    OR of all four takes to rank 2,700 runbooks."""
    yield terms, " "
    if len(terms) == 1:
        return
    if table == "runbooks_fts":
        # How many runbooks hold each term; whether any does is enough below three
        # terms, where no commonest term is dropped (a full count reads the whole list).
        matching = "SELECT {} FROM runbooks_fts WHERE runbooks_fts MATCH ?{}"
        probe = (
            matching.format("count(*)", "")
            if len(terms) >= 3
            else f"SELECT count(*) FROM ({matching.format('1', ' LIMIT 1')})"
        )
        counts = {
            term: raw.execute(
                probe, (fts_expression([term], prefix_last=prefix_last and term == terms[-1]),)
            ).fetchone()[0]
            for term in terms
        }
        known = [term for term in terms if counts[term]]
        if not known:
            return  # no word is in the index: OR finds nothing either
        if len(known) < len(terms):
            yield known, " "
        if len(known) >= 3:
            commonest = max(known, key=lambda term: counts[term])
            yield [term for term in known if term != commonest], " "
    yield terms, " OR "


def _run(
    raw: sqlite3.Connection,
    table: str,
    terms: list[str],
    *,
    join: str,
    prefix_last: bool,
    filters: _Filters,
    forms: dict[str, tuple[str, ...]] | None = None,
) -> list[SearchHit]:
    """One attempt. ``forms``: other words to accept for a term (OR-ed with it)."""
    limit = filters.limit
    params: list[object] = []
    where: list[str] = []
    source = f"{table} JOIN runbooks r ON r.id = {table}.rowid"
    score = f"-bm25({table}, {_weights()})"
    others: list[str] = []
    if table == NAMES:
        # Substrings of the names a responder types from an alert or a dashboard
        # ("filesys" in NodeFilesystemSpaceFillingUp): LIKE over the short columns
        # of every runbook, a scan of well under 1 MB for 10k runbooks.
        source, score = "runbooks r", "0.0"
        matches = []
        for term in terms:
            pattern = _like_pattern(term)
            matches.append(
                "(" + " OR ".join(f"r.{c} LIKE ? ESCAPE '\\'" for c in NAME_COLUMNS) + ")"
            )
            params += [pattern] * len(NAME_COLUMNS)
        where.append("(" + (" AND " if join == " " else " OR ").join(matches) + ")")
        expression = None
    elif forms:
        parts = []
        for number, term in enumerate(terms, 1):
            prefix = prefix_last and number == len(terms)
            alike = [form for form in forms.get(term, ()) if form != term.lower()]
            others += alike
            part = _term_expression(term, prefix=prefix)
            parts.append("(" + " OR ".join([part, *map(_literal, alike)]) + ")" if alike else part)
        expression = (" AND " if join == " " else join).join(parts)
    else:
        expression = fts_expression(terms, prefix_last=prefix_last, join=join)
    if expression is not None:
        where.insert(0, f"{table} MATCH ?")
        params.insert(0, expression)
    clauses, filter_params = filter_clauses(
        service=filters.service, owner=filters.owner, stale=filters.stale, today=filters.today
    )
    where += clauses
    params += filter_params
    if source != "runbooks r" and len(where) == 1:
        # Only the MATCH: rank in the index alone. The join (and a tie-break on the
        # title) would read a runbooks row for every match, 2-4x the cost of a
        # broad query; ties keep rowid order, which is import order.
        source = table
        order = "score DESC, rowid"
        select = "rowid"
    else:
        order = "score DESC, r.title"
        select = "r.id"
    # Rank with ids and scores only: anything in the SELECT list (a snippet(), the
    # body) would be computed for every match before LIMIT — 8x slower for broad
    # queries over 10k runbooks. The few winners are then read by id.
    words = table == "runbooks_fts"
    window = max(limit, RERANK_WINDOW) if words else limit
    sql = (
        f"SELECT {select}, {score} AS score FROM {source} "
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    )
    params.append(window)
    try:
        ranked = raw.execute(sql, params).fetchall()
    except sqlite3.OperationalError as error:
        # The literals above cannot be FTS5 syntax errors, so this is a bug worth
        # seeing in the log; a person's search still returns (with nothing).
        if "fts5" not in str(error).lower():
            raise
        log.warning("FTS5 refused %r: %s", params, error)
        return []
    if not ranked:
        return []
    if words and len(ranked) > 1:
        ranked = (
            _names_first(raw, ranked[:RERANK_WINDOW], terms, prefix_last=prefix_last)
            + ranked[RERANK_WINDOW:]
        )
    ranked = ranked[:limit]
    ids = [row_id for row_id, _ in ranked]
    details = {
        row[0]: row
        for row in raw.execute(
            "SELECT id, slug, title, path, body, owner, services, last_reviewed, "
            f"review_every_days, landing FROM runbooks WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
    }
    marked = [*others, *terms]  # the last term stays last: it may be a prefix
    marker = _marker(marked, prefix_last=prefix_last, words=words)
    needles = tuple(
        piece.lower()
        for term in marked
        for piece in ([p for p, _ in term_pieces(term)] if words else [term])
    )
    hits = []
    for row_id, score_value in ranked:
        _, slug, title, path, body, row_owner, services, reviewed, every, landing = details[row_id]
        last = date.fromisoformat(reviewed) if reviewed else None
        hits.append(
            SearchHit(
                id=row_id,
                slug=slug,
                title=title,
                path=path,
                snippet=make_snippet(body, marker, needles),
                score=float(score_value),
                owner=row_owner,
                services=tuple(json.loads(services or "[]")),
                last_reviewed=last,
                overdue=is_overdue(last, every, filters.today, landing=bool(landing)),
            )
        )
    return hits


#: the words of a name: runs of letters or digits, and the parts of a CamelCase run
#: ("KubePodCrashLooping": kube pod crash looping; "VirtAPIDown": virt api down)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
#: file endings left out of a path's words
_ENDINGS = re.compile(r"(\.(md|markdown|html|erb|txt))+$", re.IGNORECASE)


def name_words(title: str, slug: str, path: str, root: str | None) -> set[str]:
    """The lower-case words of a runbook's title, id and path (inside the folder it
    was imported from), CamelCase runs split."""
    relative = path[len(root) :] if root and path.startswith(root) else path
    return set(_words(title) | _words(slug) | _words(_ENDINGS.sub("", relative)))


@functools.lru_cache(maxsize=1 << 12)
def _row_names(
    title: str, slug: str, path: str, root: str | None
) -> tuple[frozenset[str], frozenset[str]]:
    """(:func:`name_words`, the words of the title and file name alone). Cached: the
    same runbooks come up search after search while a person types."""
    return (
        frozenset(name_words(title, slug, path, root)),
        _words(title) | _words(_ENDINGS.sub("", os.path.basename(path))),
    )


@functools.lru_cache(maxsize=1 << 12)
def _stems(words: frozenset[str]) -> frozenset[str]:
    return frozenset(stem(word) for word in words)


@functools.lru_cache(maxsize=1 << 12)
def _words(text: str) -> frozenset[str]:
    """The lower-case words of ``text``, CamelCase runs split as well as whole.
    Cached: the same titles come up search after search."""
    words: set[str] = set()
    for token in _TOKEN.findall(text):
        words.add(token.lower())
        words.update(part.lower() for part in _CAMEL.findall(token))
    return frozenset(words)


def _names_first(
    raw: sqlite3.Connection,
    ranked: list[tuple[int, float]],
    terms: list[str],
    *,
    prefix_last: bool,
) -> list[tuple[int, float]]:
    """``ranked`` with the runbooks whose names (title, id, path) hold every word of
    the query first, each group in the index's order. bm25 weighs a title word more
    than a body word, but two long pages holding all the words many times can
    still outscore the runbook named exactly by them."""
    tokens = [
        token.lower()
        for term in terms
        for piece, cjk in term_pieces(term)
        if not cjk
        for token in _TOKEN.findall(piece)
    ]
    last = len(tokens) - 1 if prefix_last else -1
    places = [place for place, word in enumerate(tokens) if word not in _STOPWORDS]
    if not places:
        return ranked
    wanted = [tokens[place] for place in places]
    wanted_stems = {stem(word) for word in wanted}
    # A piece every form of each word holds (its stem; "polic" of "policy"): a
    # substring test on the lower-cased names rules out most rows before their
    # words are split and stemmed (50 rows: 10 ms → well under 1 ms).
    cores = [
        tokens[place] if place == last else stem(tokens[place]).removesuffix("y")
        for place in places
    ]
    ids = [row_id for row_id, _ in ranked]
    marks = ",".join("?" * len(ids))
    candidates: dict[int, tuple[str, str, str, str | None]] = {}
    for row_id, title, slug, path, root in raw.execute(
        f"SELECT id, title, slug, path, source_root FROM runbooks WHERE id IN ({marks})", ids
    ):
        text = f"{title} {slug} {path}".lower()
        if all(core in text for core in cores):
            candidates[row_id] = (title, slug, path, root)
    if not candidates:
        return ranked

    def holds(words: frozenset[str], place: int) -> bool:
        word = tokens[place]
        if word in words or stem(word) in _stems(words):
            return True
        # written as one word with its neighbour: "on call" in "whos_oncall",
        # "fail over" in "db-failover"
        if place > 0 and tokens[place - 1] + word in words:
            return True
        if place + 1 < len(tokens) and word + tokens[place + 1] in words:
            return True
        return place == last and any(name.startswith(word) for name in words)

    named: list[tuple[int, int, tuple[int, float]]] = []
    rest: list[tuple[int, float]] = []
    for place, row in enumerate(ranked):
        found = candidates.get(row[0])
        if found is not None:
            words, own = _row_names(*found)
            if all(holds(words, place) for place in places):
                # fewer words of its own title and file name that the query lacks
                # first: "KubeAPIDown" before "KubeAggregatedAPIDown" for
                # "kubernetes api down"
                extra = sum(1 for name in own if stem(name) not in wanted_stems)
                named.append((extra, place, row))
                continue
        rest.append(row)
    if not named:
        return ranked
    named.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in named] + rest


def filter_clauses(
    *, service: str | None, owner: str | None, stale: bool | None, today: date | None = None
) -> tuple[list[str], list[object]]:
    """SQL conditions (on ``runbooks r``) for the service, owner and staleness filters
    (``today`` is needed for the staleness one)."""
    where: list[str] = []
    params: list[object] = []
    if service is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(r.services) WHERE value = ? COLLATE NOCASE)")
        params.append(service)
    if owner is not None:
        where.append("r.owner = ? COLLATE NOCASE")
        params.append(owner)
    if stale is not None:
        if today is None:
            raise ValueError("filtering by staleness needs today's date")
        # a landing page (a folder's README) never reviewed indexes a folder: not overdue
        overdue = (
            "(r.last_reviewed IS NULL AND NOT r.landing OR "
            "date(r.last_reviewed, '+' || r.review_every_days || ' days') < ?)"
        )
        where.append(overdue if stale else f"NOT {overdue}")
        params.append(today.isoformat())
    return where, params


SNIPPET_BEFORE, SNIPPET_AFTER = 60, 140  # characters of context around the first match


#: a letter or digit of a script written with spaces: what bounds a word (CJK text
#: glued to a word, as in "Podが", does not)
_WORD_CHAR = "[^\\W" + CJK_CLASS[1:-1] + "]"


def _marker(terms: list[str], *, prefix_last: bool, words: bool) -> re.Pattern[str] | None:
    """A pattern for the query's terms as the index matched them: for the word
    index, whole words (the last one as a prefix while typing) and CJK runs as
    substrings; for the names' LIKE, every term as a substring."""
    if not terms:
        return None
    parts: list[tuple[int, str]] = []
    for number, term in enumerate(terms, 1):
        pieces = term_pieces(term) if words else [(term, True)]
        for count, (piece, substring) in enumerate(pieces, 1):
            escaped = re.escape(piece)
            if not substring:
                prefix = prefix_last and number == len(terms) and count == len(pieces)
                escaped = f"(?<!{_WORD_CHAR}){escaped}" + (
                    f"{_WORD_CHAR}*" if prefix else f"(?!{_WORD_CHAR})"
                )
            parts.append((len(piece), escaped))
    parts.sort(key=lambda part: part[0], reverse=True)
    return re.compile("|".join(pattern for _, pattern in parts), re.IGNORECASE)


#: candidate places tried with an anchored match before a plain regex scan
_CANDIDATES = 64
#: the body is lower-cased a piece at a time: the first match is usually early
#: (title, summary), and lower-casing a whole 4 KB body was a quarter of a snippet
_CHUNK = 1024


def _first_match(
    body: str, marker: re.Pattern[str] | None, needles: tuple[str, ...], chunk: int = _CHUNK
) -> int:
    """Where the marker first matches in ``body`` (-1 when nowhere).

    Each needle's occurrences are found with ``str.find`` in a lower-cased piece of
    the body and tried with an anchored ``match`` (lookbehinds see the text before
    ``pos``): a scan of the body by the case-insensitive alternation costs ~25 µs, a
    few anchored tries a fraction of that. Pieces overlap by the longest needle, so
    an occurrence across a piece boundary is found in the piece where it starts."""
    if marker is None:
        return -1
    if not needles:
        found = marker.search(body)
        return found.start() if found else -1
    overlap = max(len(needle) for needle in needles)
    tries = 0
    for start in range(0, len(body), chunk):
        stop = min(start + chunk, len(body))  # occurrences starting before stop
        piece = body[start : stop + overlap]
        lower = piece.lower()
        if len(lower) != len(piece):  # a case change altered offsets: scan from here
            found = marker.search(body, start)
            return found.start() if found else -1
        best = stop
        for needle in needles:
            place = lower.find(needle)
            while place >= 0 and start + place < best:
                if marker.match(body, start + place):
                    best = start + place
                    break
                tries += 1
                if tries > _CANDIDATES:  # many false starts (a word inside others): scan
                    found = marker.search(body, start + place)
                    if found is not None and found.start() < best:
                        best = found.start()
                    break
                place = lower.find(needle, place + 1)
        if best < stop:
            return best
        if tries > _CANDIDATES:
            found = marker.search(body, stop)
            return found.start() if found else -1
    return -1


def make_snippet(body: str, marker: re.Pattern[str] | None, needles: tuple[str, ...] = ()) -> str:
    """About 200 characters of the body around the first match, matches marked.

    Only a window around the first match is normalised (white space folded):
    folding a whole 4 KB body for each of 20 hits was half of a search's time.
    ``needles`` (the terms, lower case) let ``str.find`` skip ahead to the first
    place the marker can match; the regex alone scans at 25 µs per body.
    """
    anchor = _first_match(body, marker, needles)
    found = anchor >= 0
    anchor = max(anchor, 0)
    low = max(0, anchor - 4 * SNIPPET_BEFORE)
    if low:  # start the window on a word
        space = body.find(" ", low, anchor)
        low = space + 1 if space >= 0 else low
    high = anchor + 4 * SNIPPET_AFTER
    cut_left, cut_right = low > 0, high < len(body)
    # Folded in two halves, so the match's place in the folded text is known
    # without searching it again (a regex scan of the window cost 13 µs a hit).
    left = " ".join(body[low:anchor].split())
    if left and body[anchor - 1].isspace():
        left += " "
    text = left + " ".join(body[anchor:high].split())
    start = len(left) if found else 0
    begin = max(0, start - SNIPPET_BEFORE)
    end = min(len(text), start + SNIPPET_AFTER)
    if begin:  # do not cut a word in half
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    window = _mark(text[begin:end], marker, needles)
    return (
        ("…" if begin or cut_left else "") + window + ("…" if end < len(text) or cut_right else "")
    )


def _mark(window: str, marker: re.Pattern[str] | None, needles: tuple[str, ...]) -> str:
    """``window`` with every match of ``marker`` between MARK_START and MARK_END, as
    ``marker.sub`` would mark them (left to right, no overlaps), but trying the
    marker only where a needle occurs instead of at every position."""
    if marker is None:
        return window
    lower = window.lower()
    if not needles or len(lower) != len(window):
        return marker.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", window)
    places: set[int] = set()
    for needle in needles:
        place = lower.find(needle)
        while place >= 0:
            places.add(place)
            place = lower.find(needle, place + 1)
    parts: list[str] = []
    done = 0
    for place in sorted(places):
        if place < done:
            continue
        match = marker.match(window, place)
        if match is not None:
            parts += (window[done:place], MARK_START, match.group(0), MARK_END)
            done = match.end()
    parts.append(window[done:])
    return "".join(parts)


def _weights() -> str:
    return ", ".join(str(w) for w in WEIGHTS)
