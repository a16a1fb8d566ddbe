"""The page you would print: a service's escalation chain as plain, high-contrast HTML,
printed or saved as PDF through QtPrintSupport (part of PySide6-Essentials)."""

from __future__ import annotations

import errno
from datetime import datetime, tzinfo
from html import escape
from pathlib import Path

from PySide6.QtGui import QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QWidget

from console.domain.freshness import describe_age
from console.domain.oncall import OnCallAnswer, OnCallPerson
from console.oncall.export import gap_notices, local_time


def _person_html(person: OnCallPerson) -> str:
    until = (
        f" <span class='muted'>until {escape(local_time(person.shift_end))}</span>"
        if person.shift_end is not None
        else ""
    )
    override = " <b>[override]</b>" if person.override else ""
    rows = (
        "".join(
            f"<tr><td class='kind'>{escape(m.kind.label)}</td>"
            f"<td class='num'>{escape(m.display)}</td>"
            f"<td class='muted'>{escape(m.problem or '')}</td></tr>"
            for m in person.reach
        )
        or "<tr><td colspan='3'><b>No numbers known</b></td></tr>"
    )
    return (
        f"<p class='name'>{escape(person.name)}{override}{until}</p>"
        f"<table cellpadding='3' cellspacing='0'>{rows}</table>"
    )


def chain_html(answer: OnCallAnswer, *, now: datetime, tz: tzinfo | None = None) -> str:
    """The escalation chain of ``answer`` (a service's) as a printable HTML page."""
    title = f"{answer.service} — {answer.policy or 'no escalation policy'}"
    parts = [
        "<html><head><style>"
        "body { color: #000; background: #fff; font-size: 12pt; }"
        "h1 { font-size: 20pt; margin-bottom: 2pt; }"
        "h2 { font-size: 15pt; margin-top: 14pt; border-bottom: 2px solid #000; }"
        ".name { font-size: 15pt; font-weight: bold; margin: 6pt 0 2pt 0; }"
        ".num { font-size: 14pt; font-weight: bold; font-family: monospace; padding-right: 16pt; }"
        ".kind { padding-right: 12pt; } .muted { color: #333; font-weight: normal; }"
        ".warn { font-weight: bold; }"
        "</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Who is on call at {escape(local_time(answer.at, tz))} "
        f"({answer.at:%Y-%m-%d %H:%M} UTC). Schedules cached "
        f"{escape(describe_age(answer.schedules_cached_at, now))} "
        f"({escape(answer.schedules_source or 'never')}); contacts cached "
        f"{escape(describe_age(answer.people_cached_at, now))}. "
        f"Printed {escape(local_time(now, tz))}.</p>",
    ]
    warnings = list(answer.warnings)
    for status in answer.schedules:
        warnings += [f"{status.name}: {notice}" for notice in gap_notices(status, tz)]
    if warnings:
        parts.append("<p class='warn'>" + "<br>".join(f"⚠ {escape(w)}" for w in warnings) + "</p>")
    for level in answer.levels:
        when = (
            "page first"
            if level.starts_after_minutes == 0
            else f"after {level.starts_after_minutes} min"
        )
        wait = (
            "the last level"
            if level is answer.levels[-1]
            else f"wait {level.delay_minutes} min before the next level"
        )
        parts.append(f"<br><h2>Level {level.level} — {when}; {wait}</h2>")
        for target in level.targets:
            parts.append(f"<p><i>{escape(target.kind.value)}: {escape(target.name)}</i></p>")
            parts.extend(_person_html(person) for person in target.people)
            if target.problem:
                parts.append(f"<p class='warn'>⚠ {escape(target.problem)}</p>")
    parts.append("</body></html>")
    return "".join(parts)


def _document(html: str) -> QTextDocument:
    document = QTextDocument()
    document.setHtml(html)
    return document


def save_pdf(html: str, path: Path) -> Path:
    """Write the page as a PDF (A4, portrait), whole or not at all (console.files):
    FileWriteError when it could not be written (QPrinter itself fails silently, so the
    result is checked before it is renamed into place)."""
    from console.files import atomic_target

    with atomic_target(path, what="the PDF") as temporary:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(temporary))
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        printer.setPageOrientation(QPageLayout.Orientation.Portrait)
        _document(html).print_(printer)
        if temporary.stat().st_size == 0:
            raise OSError(errno.EIO, "the PDF could not be written", str(path))
    return path


def print_page(html: str, parent: QWidget | None) -> bool:
    """Show the system print dialog and print; False when the person cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print the escalation chain")
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    _document(html).print_(printer)
    return True
