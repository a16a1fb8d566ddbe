"""Importers: files from outside (runbooks; later catalog, contacts, on-call) into storage."""

from console.importers.runbooks import ImportReport, import_runbooks, parse_runbook

__all__ = ["ImportReport", "import_runbooks", "parse_runbook"]
