"""Import runbooks from the window: :class:`ui.importer.BackgroundImport` over the library."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from console.importers.runbooks import ImportReport
from console.library import RunbookLibrary
from ui.context import UiContext
from ui.importer import BackgroundImport, ImportKind, ImportProgress

__all__ = ["ImportProgress", "RunbookImporter", "note_lines", "refusal_lines", "summary_text"]


def summary_text(report: ImportReport) -> str:
    head = "Runbook import cancelled" if report.cancelled else "Runbooks imported"
    counts = (
        f"{report.imported} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {len(report.refused)} refused"
    )
    if report.skipped:
        counts += f", {len(report.skipped)} skipped"
    if report.warnings:
        warned = len({w.path for w in report.warnings})
        counts += f"; {len(report.warnings)} warnings in {warned} runbooks (shown on each)"
    if report.nothing_found:
        counts += "; nothing recognised as a runbook in " + ", ".join(
            n.folder for n in report.nothing_found
        )
    if report.sources:  # each folder imported is a source
        counts += "; " + ", ".join(
            f"{'new source' if s.created else 'source'} '{s.name}' ({s.kind})"
            for s in report.sources
        )
    return f"{head}: {counts}."


def refusal_lines(report: ImportReport) -> list[str]:
    """Refusals, and folders named in which nothing was recognised as a runbook."""
    return [
        *(f"{refusal.path}: {refusal.reason}" for refusal in report.refused),
        *(nothing.describe() for nothing in report.nothing_found),
    ]


def note_lines(report: ImportReport) -> list[str]:
    """Imported with warnings (shown on each runbook too), and files passed over."""
    return [
        *(f"{w.path}: {w.reason}" for w in report.warnings),
        *(f"{skip.path}: skipped: {skip.reason}" for skip in report.skipped),
        *report.site_problems,
    ]


RUNBOOKS = ImportKind(
    noun="runbooks",
    title="Runbook import",
    unit="files",
    summary=summary_text,
    refusals=refusal_lines,
    notes=note_lines,
)


class RunbookImporter(BackgroundImport):
    def __init__(self, context: UiContext, library: RunbookLibrary, parent: QWidget) -> None:
        super().__init__(
            context,
            lambda paths, progress, cancel: library.import_paths(
                paths, progress=progress, cancel=cancel
            ),
            RUNBOOKS,
            parent,
        )
