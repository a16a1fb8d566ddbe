"""Import runbooks from the window: :class:`ui.importer.BackgroundImport` over the library."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from console.importers.runbooks import ImportReport
from console.library import RunbookLibrary
from ui.context import UiContext
from ui.importer import BackgroundImport, ImportKind, ImportProgress

__all__ = ["ImportProgress", "RunbookImporter", "refusal_lines", "summary_text"]


def summary_text(report: ImportReport) -> str:
    head = "Runbook import cancelled" if report.cancelled else "Runbooks imported"
    counts = (
        f"{report.imported} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {len(report.refused)} refused"
    )
    if report.skipped:
        counts += f", {len(report.skipped)} folder READMEs skipped"
    return f"{head}: {counts}."


def refusal_lines(report: ImportReport) -> list[str]:
    return [f"{refusal.path}: {refusal.reason}" for refusal in report.refused]


RUNBOOKS = ImportKind(
    noun="runbooks",
    title="Runbook import",
    unit="files",
    summary=summary_text,
    refusals=refusal_lines,
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
