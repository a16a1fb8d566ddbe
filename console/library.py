"""The runbook library: the one read/import API a client (the window) uses for runbooks.

It sits above both :mod:`console.search` and :mod:`console.importers` (its own
layer in pyproject's import-linter contract: the two are independent siblings,
and ``ops`` is below both), so the UI never opens a session or names SQL:
``library_for(workspace)`` hands it a ready object.

* :meth:`RunbookLibrary.search` — FTS5 search; an empty query lists every
  runbook (title order) with the same filters.
* :meth:`RunbookLibrary.get` — one runbook with its body and review state.
* :meth:`RunbookLibrary.facets` — services and owners, for filter choices.
* :meth:`RunbookLibrary.import_paths` — :func:`import_runbooks`, unchanged.
* :meth:`RunbookLibrary.sources`, :meth:`~RunbookLibrary.add_source`,
  :meth:`~RunbookLibrary.refresh_source`, :meth:`~RunbookLibrary.remove_source` —
  the imported folders (console.importers.runbook_sources).
* :meth:`RunbookLibrary.runbooks` — the listing of ``runbook list``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.clock import Clock, utc_now
from console.domain.errors import InvalidInputError, NotFoundError, StorageError
from console.domain.runbook import is_overdue, review_due
from console.importers import runbook_sources
from console.importers.runbook_sources import SEPARATOR, Source
from console.importers.runbooks import (
    SUFFIXES,
    CancelToken,
    ImportReport,
    Progress,
    import_runbooks,
)
from console.search.forgiving import vocabulary
from console.search.runbooks import SearchHit, SearchResult, filter_clauses, search_runbooks
from console.storage.db import Database

if TYPE_CHECKING:
    from console.ops.workspace import Workspace

log = logging.getLogger(__name__)

#: file endings of runbooks (a relative link to one opens it in the viewer): Markdown,
#: Middleman's ``.md.erb``, MDX
RUNBOOK_SUFFIXES = SUFFIXES

#: characters of the body shown as the "snippet" of a listed (not searched) runbook
LISTING_SNIPPET = 160


@dataclass(frozen=True)
class RunbookDocument:
    """One stored runbook, ready to render: the body has no front matter."""

    id: int
    slug: str
    title: str
    path: str
    body: str
    owner: str | None
    services: tuple[str, ...]
    symptoms: tuple[str, ...]
    alerts: tuple[str, ...]
    severity_hint: str | None
    last_reviewed: date | None
    review_every_days: int
    review_due: date
    overdue: bool
    #: the format it was read as (console.importers.runbook_formats.FORMATS)
    format: str = "markdown"
    #: a folder's README or index page
    landing: bool = False
    #: what its import found wrong but showed anyway (to fix in the file)
    warnings: tuple[str, ...] = ()
    #: its place in its site's navigation
    nav_order: int | None = None
    #: the source it came from (its name and path) and its id within it
    source: str = ""
    source_path: str = ""
    local_id: str = ""

    @property
    def folder(self) -> Path:
        """The folder the file was imported from (relative images resolve against it)."""
        return Path(self.path).parent


@dataclass(frozen=True)
class RunbookEntry:
    """One runbook as ``runbook list`` shows it."""

    #: the library-wide id (what ``runbook show`` and timeline entries name it by)
    id: str
    row_id: int
    source: str
    #: its id within its source
    local_id: str
    title: str
    path: str
    format: str
    landing: bool
    #: how many warnings its import found
    warnings: int
    owner: str | None
    last_reviewed: date | None
    review_due: date
    overdue: bool


class RunbookLibrary:
    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def today(self) -> date:
        return self._clock().date()

    # ------------------------------------------------------------------ reads

    def search(
        self,
        query: str,
        *,
        limit: int = 50,
        service: str | None = None,
        owner: str | None = None,
        stale: bool | None = None,
    ) -> list[SearchHit]:
        """Matches best first; a query with no words lists every runbook by title."""
        return self.find(query, limit=limit, service=service, owner=owner, stale=stale).hits

    def find(
        self,
        query: str,
        *,
        limit: int = 50,
        service: str | None = None,
        owner: str | None = None,
        stale: bool | None = None,
    ) -> SearchResult:
        """:meth:`search` with what the client shows beside the hits: the corrected
        query when a slip was forgiven ("showing results for …")."""
        today = self.today()
        if query.strip():
            result = search_runbooks(
                self._db,
                query,
                today=today,
                limit=limit,
                service=service,
                owner=owner,
                stale=stale,
            )
            if result.hits or any(ch.isalnum() for ch in query):
                return result
        listing = self._listing(today, limit=limit, service=service, owner=owner, stale=stale)
        return SearchResult(listing)

    def _listing(
        self,
        today: date,
        *,
        limit: int,
        service: str | None,
        owner: str | None,
        stale: bool | None,
    ) -> list[SearchHit]:
        where, params = filter_clauses(service=service, owner=owner, stale=stale, today=today)
        sql = (
            "SELECT r.id, r.slug, r.title, r.path, r.symptoms, r.owner, r.services, "
            "r.last_reviewed, r.review_every_days, r.landing FROM runbooks r"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY r.title COLLATE NOCASE, r.id LIMIT ?"
        )
        params.append(max(limit, 0))
        with self._db.raw_reader() as raw:
            rows = raw.execute(sql, params).fetchall()
        hits = []
        for (
            row_id,
            slug,
            title,
            path,
            symptoms,
            row_owner,
            services,
            reviewed,
            every,
            landing,
        ) in rows:
            last = date.fromisoformat(reviewed) if reviewed else None
            snippet = " · ".join(json.loads(symptoms or "[]"))
            if len(snippet) > LISTING_SNIPPET:
                snippet = snippet[: LISTING_SNIPPET - 1] + "…"
            hits.append(
                SearchHit(
                    id=row_id,
                    slug=slug,
                    title=title,
                    path=path,
                    snippet=snippet,
                    score=0.0,
                    owner=row_owner,
                    services=tuple(json.loads(services or "[]")),
                    last_reviewed=last,
                    overdue=is_overdue(last, every, today, landing=bool(landing)),
                )
            )
        return hits

    def linked(self, source_path: str, target: str) -> int:
        """The id of the runbook a relative link (``../db/failover.md``) in the file at
        ``source_path`` points at. NotFoundError names the file when it was never
        imported (or was removed)."""
        wanted = os.path.normpath(os.path.join(os.path.dirname(source_path), target))
        with self._db.raw_reader() as raw:
            row = raw.execute("SELECT id FROM runbooks WHERE path = ?", (wanted,)).fetchone()
        if row is None:
            raise NotFoundError(
                f"{wanted} is not in the runbook library: import its folder "
                "(File → Import runbooks) to follow links to it"
            )
        return int(row[0])

    def get(self, runbook_id: int | str) -> RunbookDocument:
        """A runbook by row id, by its id (``slug``: what timeline entries store), or as
        ``<source>:<id within it>``. NotFoundError if gone."""
        columns = (
            "r.id, r.slug, r.title, r.path, r.body, r.owner, r.services, r.symptoms, "
            "r.alerts, r.severity_hint, r.last_reviewed, r.review_every_days, r.format, "
            "r.landing, r.warnings, r.nav_order, coalesce(s.name, ''), coalesce(s.path, ''), "
            "r.local_id FROM runbooks r LEFT JOIN runbook_sources s ON s.id = r.source_id"
        )
        column = "r.id" if isinstance(runbook_id, int) else "r.slug"
        with self._db.raw_reader() as raw:
            row = raw.execute(f"SELECT {columns} WHERE {column} = ?", (runbook_id,)).fetchone()
            if row is None and isinstance(runbook_id, str) and SEPARATOR in runbook_id:
                source, _, local = runbook_id.partition(SEPARATOR)
                row = raw.execute(
                    f"SELECT {columns} WHERE s.name = ? AND r.local_id = ?", (source, local)
                ).fetchone()
        if row is None:
            raise NotFoundError(
                f"no runbook {runbook_id!r} (it may have been removed; "
                "'responder-console runbook list' shows the ids there are)"
            )
        (
            row_id,
            slug,
            title,
            path,
            body,
            owner,
            services,
            symptoms,
            alerts,
            hint,
            reviewed,
            every,
            fmt,
            landing,
            warnings,
            nav_order,
            source,
            source_path,
            local_id,
        ) = row
        today = self.today()
        last = date.fromisoformat(reviewed) if reviewed else None
        return RunbookDocument(
            id=row_id,
            slug=slug,
            title=title,
            path=path,
            body=body,
            owner=owner,
            services=tuple(json.loads(services or "[]")),
            symptoms=tuple(json.loads(symptoms or "[]")),
            alerts=tuple(json.loads(alerts or "[]")),
            severity_hint=hint,
            last_reviewed=last,
            review_every_days=every,
            review_due=review_due(last, every, today),
            overdue=is_overdue(last, every, today, landing=bool(landing)),
            format=fmt,
            landing=bool(landing),
            warnings=tuple(json.loads(warnings or "[]")),
            nav_order=nav_order,
            source=source,
            source_path=source_path,
            local_id=local_id,
        )

    def runbooks(self, *, source: str | None = None, overdue: bool = False) -> list[RunbookEntry]:
        """Every runbook (of one source, by name or path), by source then id; ``overdue``:
        only those past their review date. NotFoundError names the sources there are."""
        today = self.today()
        where, params = "", []
        if source is not None:
            chosen = runbook_sources.find_source(self._db, source, today=today)
            where, params = " WHERE r.source_id = ?", [chosen.id]
        with self._db.raw_reader() as raw:
            rows = raw.execute(
                "SELECT r.id, r.slug, r.local_id, coalesce(s.name, ''), r.title, r.path, "
                "r.format, r.landing, r.warnings, r.owner, r.last_reviewed, "
                "r.review_every_days FROM runbooks r "
                "LEFT JOIN runbook_sources s ON s.id = r.source_id"
                + where
                + " ORDER BY s.name, r.local_id, r.id",
                params,
            ).fetchall()
        entries = []
        for (
            row_id,
            slug,
            local,
            name,
            title,
            path,
            fmt,
            landing,
            warnings,
            owner,
            rev,
            every,
        ) in rows:
            last = date.fromisoformat(rev) if rev else None
            late = is_overdue(last, every, today, landing=bool(landing))
            if overdue and not late:
                continue
            entries.append(
                RunbookEntry(
                    id=slug,
                    row_id=row_id,
                    source=name,
                    local_id=local,
                    title=title,
                    path=path,
                    format=fmt,
                    landing=bool(landing),
                    warnings=len(json.loads(warnings or "[]")),
                    owner=owner,
                    last_reviewed=last,
                    review_due=review_due(last, every, today),
                    overdue=late,
                )
            )
        return entries

    # ------------------------------------------------------------------ sources

    def sources(self) -> list[Source]:
        """Every source, by name, with its runbooks counted now."""
        return runbook_sources.list_sources(self._db, today=self.today())

    def source(self, name_or_path: str) -> Source:
        return runbook_sources.find_source(self._db, name_or_path, today=self.today())

    def add_source(
        self,
        path: Path | str,
        *,
        name: str | None = None,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
    ) -> ImportReport:
        """Import a folder (or file) as a new source. InvalidInputError when it already is
        one (refresh it) or is not there."""
        absolute = os.path.abspath(os.fspath(path))
        if not os.path.exists(absolute):
            raise InvalidInputError(f"{absolute}: no such folder or file")
        for source in self.sources():
            if source.path == absolute:
                raise InvalidInputError(
                    f"{absolute} is already the runbook source '{source.name}': refresh it "
                    f"('responder-console sources refresh {source.name}')"
                )
            if absolute.startswith(source.path.rstrip(os.sep) + os.sep):
                raise InvalidInputError(
                    f"{absolute} is inside the runbook source '{source.name}' "
                    f"({source.path}): its runbooks are that source's; refresh it, or remove "
                    "it first to split the folder into sources"
                )
        if name is not None and (not name.strip() or SEPARATOR in name):
            raise InvalidInputError(f"source name {name!r}: give a name without ':'")
        return import_runbooks(
            self._db, [absolute], progress=progress, cancel=cancel, clock=self._clock, name=name
        )

    def refresh_source(
        self,
        name_or_path: str,
        *,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
    ) -> ImportReport:
        """Import a source's folder again: new, updated, unchanged and removed runbooks
        (files gone from the folder leave the library; only this source's)."""
        source = self.source(name_or_path)
        if not source.exists:
            raise InvalidInputError(
                f"{source.path}: the folder of source '{source.name}' is gone; restore it, or "
                f"remove the source ('responder-console sources remove {source.name}')"
            )
        return import_runbooks(
            self._db, [source.path], progress=progress, cancel=cancel, clock=self._clock
        )

    def remove_source(self, name_or_path: str) -> tuple[Source, int]:
        """Remove a source and exactly its runbooks: (the source, runbooks removed)."""
        source = self.source(name_or_path)
        return source, runbook_sources.remove_source(self._db, source.id)

    def facets(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(services, owners)`` named by any runbook, sorted case-insensitively."""
        with self._db.raw_reader() as raw:
            services = [
                row[0]
                for row in raw.execute(
                    "SELECT DISTINCT j.value FROM runbooks r, json_each(r.services) j "
                    "WHERE j.value IS NOT NULL AND j.value != ''"
                )
            ]
            owners = [
                row[0]
                for row in raw.execute(
                    "SELECT DISTINCT owner FROM runbooks WHERE owner IS NOT NULL AND owner != ''"
                )
            ]
        return (
            tuple(sorted(set(services), key=str.casefold)),
            tuple(sorted(set(owners), key=str.casefold)),
        )

    def count(self) -> int:
        with self._db.raw_reader() as raw:
            return int(raw.execute("SELECT count(*) FROM runbooks").fetchone()[0])

    # ------------------------------------------------------------------ import

    def import_paths(
        self,
        paths: Sequence[Path | str],
        *,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
    ) -> ImportReport:
        """Import (incrementally) folders or files; one bad file never stops it. The
        search vocabulary of the new index is read here, on the importing thread,
        not by the first search that needs it (0.6-0.8 s for 10,000 runbooks on a
        busy machine, 0.1 s for 800)."""
        report = import_runbooks(
            self._db, paths, progress=progress, cancel=cancel, clock=self._clock
        )
        try:
            self.warm()
        except StorageError as error:
            # The import is done and saved; the vocabulary is a cache the first
            # search that needs it reads again (and reports, if it still fails).
            log.warning("the search vocabulary was not read after the import: %s", error)
        return report

    def warm(self) -> None:
        """Read the search vocabulary of the index as it is now, if not read yet, and
        build what spelling corrections look words up in."""
        with self._db.raw_reader() as raw:
            vocab = vocabulary(raw, str(self._db.path))
        vocab.prepare()


def library_for(workspace: Workspace) -> RunbookLibrary:
    """The library of an open workspace (same database, same clock)."""
    return RunbookLibrary(workspace.db, clock=workspace.clock)
