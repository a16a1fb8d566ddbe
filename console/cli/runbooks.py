"""``responder-console sources …`` and ``runbook list|show``: the runbook library's
sources (each imported folder) and its runbooks, as the window's runbooks area shows
them (issue 15)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from console.cli.common import (
    EXIT_NOTHING_FOUND,
    EXIT_OK,
    Parser,
    emit,
    import_exit,
    open_workspace,
)


def add_parsers(commands: Any, importing: Any) -> None:
    sources = commands.add_parser(
        "sources",
        help="the runbook library's sources: each imported folder (list, add, refresh, remove)",
        description="Each folder of runbooks imported is a source: its runbooks' ids are "
        "unique within it, refreshing it reports new / updated / unchanged / removed "
        "runbooks, and removing it removes exactly its runbooks.",
    ).add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    listed = sources.add_parser("list", help="every source with its counts and age")
    listed.add_argument("--json", action="store_true")
    add = sources.add_parser("add", help="import a folder (or file) of runbooks as a new source")
    add.add_argument("path", metavar="PATH")
    add.add_argument("--name", metavar="NAME", help="its name (default: the folder's name)")
    add.add_argument("--json", action="store_true")
    refresh = sources.add_parser("refresh", help="import a source's folder again")
    refresh.add_argument("names", nargs="*", metavar="SOURCE", help="name or path (default: all)")
    refresh.add_argument("--json", action="store_true")
    remove = sources.add_parser("remove", help="remove a source and exactly its runbooks")
    remove.add_argument("name", metavar="SOURCE", help="its name or path")
    remove.add_argument("--json", action="store_true")

    runbook = commands.add_parser(
        "runbook", help="list the runbooks, or show one (metadata, warnings, where it came from)"
    ).add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    books = runbook.add_parser("list", help="every runbook: id, title, source, review state")
    books.add_argument("--source", metavar="S", help="only this source's (name or path)")
    books.add_argument("--overdue", action="store_true", help="only runbooks past their review")
    books.add_argument("--json", action="store_true")
    show = runbook.add_parser("show", help="one runbook: metadata, warnings, format, source")
    show.add_argument("id", metavar="ID", help="its id, or SOURCE:ID (its id within its source)")
    show.add_argument("--body", action="store_true", help="print its Markdown too")
    show.add_argument("--json", action="store_true")


def _library(args: argparse.Namespace, folder: Path) -> Any:
    from console.library import library_for

    workspace = open_workspace(args, folder)
    return workspace, library_for(workspace)


# ------------------------------------------------------------------ sources


def _age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never imported as a source"
    seconds = max(0, int((now - when).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def _sources(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    workspace, library = _library(args, folder)
    try:
        if args.action == "list":
            return _list_sources(args, library, workspace.clock(), out)
        if args.action == "add":
            report = library.add_source(Path(args.path), name=args.name)
            return _report(args, report, out)
        if args.action == "refresh":
            names = args.names or [s.name for s in library.sources()]
            if not names:
                emit(out, args.json, {"sources": []}, "No runbook sources to refresh.")
                return EXIT_OK
            return _refresh(args, library, names, out)
        source, removed = library.remove_source(args.name)
        emit(
            out,
            args.json,
            {"removed": source.name, "path": source.path, "runbooks_removed": removed},
            f"Removed source '{source.name}' ({source.path}) and its {removed} "
            f"runbook{'' if removed == 1 else 's'}.",
        )
        return EXIT_OK
    finally:
        workspace.close()


def _list_sources(args: argparse.Namespace, library: Any, now: datetime, out: TextIO) -> int:
    sources = library.sources()
    lines = []
    for source in sources:
        gone = "" if source.exists else "  (folder gone)"
        extra = []
        if source.warned:
            extra.append(f"{source.warned} with warnings")
        if source.overdue:
            extra.append(f"{source.overdue} overdue")
        origin = {"legacy": ", imported before sources", "pack": ", from a pack"}.get(
            source.origin, ""
        )
        lines.append(
            f"{source.name}  {source.kind}{origin}  {source.runbooks} runbook"
            f"{'' if source.runbooks == 1 else 's'}"
            + (f" ({', '.join(extra)})" if extra else "")
            + f"  imported {_age(source.imported_at, now)}{gone}\n  {source.path}"
        )
    emit(
        out,
        args.json,
        {"sources": [s.as_json() for s in sources]},
        "\n".join(lines)
        if lines
        else "No runbook sources yet: 'responder-console sources add FOLDER' imports one.",
    )
    return EXIT_OK


def _refresh(args: argparse.Namespace, library: Any, names: list[str], out: TextIO) -> int:
    from console.importers.runbooks import ImportReport

    merged = ImportReport()
    for name in names:
        report = library.refresh_source(name)
        merged.imported += report.imported
        merged.updated += report.updated
        merged.unchanged += report.unchanged
        merged.removed += report.removed
        merged.refused.extend(report.refused)
        merged.skipped.extend(report.skipped)
        merged.warnings.extend(report.warnings)
        merged.nothing_found.extend(report.nothing_found)
        merged.sources.extend(report.sources)
        for kind, count in report.formats.items():
            merged.formats[kind] = merged.formats.get(kind, 0) + count
    return _report(args, merged, out)


def _report(args: argparse.Namespace, report: Any, out: TextIO) -> int:
    """An import's result per source, refusals and warnings on stderr; the exit code of
    ``import runbooks``."""
    code = report_problems(report)
    emit(out, args.json, report_json(report), "\n".join(source_lines(report)) or "Nothing read.")
    return code


def report_problems(report: Any) -> int:
    """A runbook import's warnings, site notes, skips and empty folders on stderr; its
    exit code (refusals, nothing read, nothing recognised)."""
    code = import_exit(report.refused, report.read_any)
    for warning in report.warnings:
        print(f"{warning.path}: warning: {warning.reason}", file=sys.stderr)
    for problem in report.site_problems:
        print(f"note: {problem}", file=sys.stderr)
    for skip in report.skipped:
        print(f"{skip.path}: skipped: {skip.reason}", file=sys.stderr)
    for nothing in report.nothing_found:
        print(nothing.describe(), file=sys.stderr)
    return EXIT_NOTHING_FOUND if report.nothing_found else code


def source_lines(report: Any) -> list[str]:
    """One line per source an import read: its counts."""
    lines = []
    for source in report.sources:
        made = "new source" if source.created else "source"
        lines.append(
            f"{made} '{source.name}' ({source.kind}, {source.path}): {source.imported} new, "
            f"{source.updated} updated, {source.unchanged} unchanged, {source.removed} removed, "
            f"{source.refused} refused"
            + (f", {source.skipped} skipped" if source.skipped else "")
            + (f", {source.warnings} warnings" if source.warnings else "")
            + "."
        )
    return lines


def sources_json(report: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "path": s.path,
            "kind": s.kind,
            "created": s.created,
            **s.counts(),
        }
        for s in report.sources
    ]


def report_json(report: Any) -> dict[str, Any]:
    return {
        "sources": sources_json(report),
        "imported": report.imported,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "refused": [{"path": r.path, "reason": r.reason} for r in report.refused],
        "skipped": [{"path": r.path, "reason": r.reason} for r in report.skipped],
        "warnings": [{"path": w.path, "warning": w.reason} for w in report.warnings],
        "formats": dict(sorted(report.formats.items())),
        "nothing_found": [
            {"folder": n.folder, "found": dict(n.found)} for n in report.nothing_found
        ],
    }


# ------------------------------------------------------------------ runbooks


def _runbook(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    workspace, library = _library(args, folder)
    try:
        if args.action == "list":
            return _list_runbooks(args, library, out)
        return _show(args, library, out)
    finally:
        workspace.close()


def _list_runbooks(args: argparse.Namespace, library: Any, out: TextIO) -> int:
    entries = library.runbooks(source=args.source, overdue=args.overdue)
    documents = [
        {
            "id": e.id,
            "source": e.source,
            "local_id": e.local_id,
            "title": e.title,
            "path": e.path,
            "format": e.format,
            "landing": e.landing,
            "warnings": e.warnings,
            "owner": e.owner,
            "last_reviewed": e.last_reviewed.isoformat() if e.last_reviewed else None,
            "review_due": e.review_due.isoformat(),
            "overdue": e.overdue,
        }
        for e in entries
    ]
    width = max((len(e.id) for e in entries), default=0)
    lines = []
    for e in entries:
        flags = []
        if e.landing:
            flags.append("landing page")
        if e.overdue:
            flags.append(
                f"review overdue since {e.review_due.isoformat()}"
                if e.last_reviewed
                else "never reviewed"
            )
        if e.warnings:
            flags.append(f"{e.warnings} warning{'' if e.warnings == 1 else 's'}")
        lines.append(
            f"{e.id:<{width}}  {e.title}  [{e.source}]"
            + (f"  ({'; '.join(flags)})" if flags else "")
        )
    empty = (
        "No runbooks"
        + (" overdue for review" if args.overdue else "")
        + (f" in source {args.source!r}" if args.source else "")
    )
    emit(out, args.json, {"runbooks": documents}, "\n".join(lines) if lines else empty + ".")
    return EXIT_OK


def _show(args: argparse.Namespace, library: Any, out: TextIO) -> int:
    doc = library.get(args.id)
    document = {
        "id": doc.slug,
        "title": doc.title,
        "source": doc.source,
        "source_path": doc.source_path,
        "local_id": doc.local_id,
        "path": doc.path,
        "format": doc.format,
        "landing": doc.landing,
        "owner": doc.owner,
        "services": list(doc.services),
        "symptoms": list(doc.symptoms),
        "alerts": list(doc.alerts),
        "severity_hint": doc.severity_hint,
        "last_reviewed": doc.last_reviewed.isoformat() if doc.last_reviewed else None,
        "review_every_days": doc.review_every_days,
        "review_due": doc.review_due.isoformat(),
        "overdue": doc.overdue,
        "warnings": list(doc.warnings),
        "nav_order": doc.nav_order,
    }
    if args.body:
        document["body"] = doc.body
    review = (
        f"last reviewed {doc.last_reviewed.isoformat()}, due {doc.review_due.isoformat()}"
        if doc.last_reviewed
        else "never reviewed"
    ) + (" (overdue)" if doc.overdue else "")
    lines = [
        doc.title,
        f"  id        {doc.slug}",
        f"  source    {doc.source} ({doc.source_path}), id there: {doc.local_id}",
        f"  file      {doc.path}",
        f"  format    {doc.format}" + ("  (landing page)" if doc.landing else ""),
        f"  review    {review}, every {doc.review_every_days} days",
    ]
    for label, values in (
        ("owner", [doc.owner] if doc.owner else []),
        ("services", list(doc.services)),
        ("alerts", list(doc.alerts)),
        ("symptoms", list(doc.symptoms)),
        ("severity", [doc.severity_hint] if doc.severity_hint else []),
    ):
        if values:
            lines.append(f"  {label:<9} {', '.join(values)}")
    if doc.warnings:
        lines.append(f"  warnings  {len(doc.warnings)} (fix them in the file, then refresh):")
        lines.extend(f"    - {warning}" for warning in doc.warnings)
    else:
        lines.append("  warnings  none")
    if args.body:
        lines += ["", doc.body]
    emit(out, args.json, document, "\n".join(lines))
    return EXIT_OK


HANDLERS = {"sources": _sources, "runbook": _runbook}
