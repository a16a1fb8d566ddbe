"""An audit report as JSON (the CLI's stable shape), Markdown and self-contained HTML.

The HTML has its style inline and no script, image or remote reference; every
piece of data passes through :func:`html.escape` (service names and fixes come
from imported files).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from console.domain.audit import (
    SEVERITY_ORDER,
    Area,
    AreaScore,
    AuditReport,
    Finding,
)

FORMATS = ("markdown", "html")
_TIME = "%Y-%m-%d %H:%M UTC"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def report_json(report: AuditReport) -> dict[str, Any]:
    return {
        "ran_at": _iso(report.ran_at),
        "scores": [
            {
                "area": s.area.value,
                "score": s.score,
                "checked": s.checked,
                "flagged": s.flagged,
                "previous": s.previous,
                "change": s.change,
                "definition": s.area.definition,
            }
            for s in report.scores
        ],
        "counts": report.counts(),
        "findings": [
            {
                "id": f.id,
                "check": f.check,
                "area": f.area.value,
                "severity": f.severity.value,
                "title": f.title,
                "objects": [
                    {"kind": o.kind.value, "key": o.key, "label": o.label} for o in f.objects
                ],
                "fix": f.fix,
            }
            for f in report.findings
        ],
        "history": [
            {"ran_at": _iso(run.ran_at), "scores": dict(run.scores), "findings": run.findings}
            for run in report.history
        ],
    }


def score_text(score: AreaScore) -> str:
    """``82.5 (+4.0)``, ``100.0``, ``—`` (nothing checked)."""
    if score.score is None:
        return "—"
    change = score.change
    return f"{score.score:.1f}" + ("" if change is None else f" ({change:+.1f})")


def grouped(report: AuditReport) -> Iterator[tuple[Area, list[tuple[str, list[Finding]]]]]:
    """Findings by area, then severity (high first); empty groups left out."""
    for area in Area:
        in_area = report.in_area(area)
        groups = [(sev.value, [f for f in in_area if f.severity is sev]) for sev in SEVERITY_ORDER]
        yield area, [(sev, items) for sev, items in groups if items]


def summary_line(report: AuditReport) -> str:
    counts = report.counts()["severity"]
    return f"{len(report.findings)} findings: " + ", ".join(
        f"{n} {sev}" for sev, n in counts.items()
    )


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def to_markdown(report: AuditReport) -> str:
    lines = [
        "# Readiness audit",
        "",
        f"Run {report.ran_at:{_TIME}}. {summary_line(report)}.",
        "",
        "| Area | Score | Checked | Flagged | Measures |",
        "|---|---|---|---|---|",
    ]
    for s in report.scores:
        lines.append(
            f"| {s.area.value} | {score_text(s)} | {s.checked} | {s.flagged} "
            f"| {_md(s.area.definition)} |"
        )
    if report.history:
        lines += ["", "Earlier audits: " + "; ".join(
            f"{run.ran_at:{_TIME}} ({run.findings} findings)" for run in report.history[:5]
        ) + "."]  # fmt: skip
    for area, groups in grouped(report):
        lines += ["", f"## {area.value.capitalize()}", ""]
        if not groups:
            lines.append("No findings.")
        for severity, items in groups:
            lines += [f"### {severity.capitalize()} ({len(items)})", ""]
            for item in items:
                named = ", ".join(f"{o.kind.value} {_md(o.label)}" for o in item.objects)
                lines.append(f"- **{_md(item.title)}**  ")
                lines.append(f"  Objects: {named}  ")
                lines.append(f"  Fix: {_md(item.fix)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #1b1b1b; background: #fff; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 4px 8px; text-align: left; vertical-align: top; }
.high { color: #a40000; } .medium { color: #8a5a00; } .low { color: #35608a; }
li { margin-bottom: 0.6em; } .fix { color: #333; } .objects { color: #555; }
"""


def to_html(report: AuditReport) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Readiness audit</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Readiness audit</h1>",
        f"<p>Run {e(f'{report.ran_at:{_TIME}}')}. {e(summary_line(report))}.</p>",
        "<table><tr><th>Area</th><th>Score</th><th>Checked</th><th>Flagged</th>"
        "<th>Measures</th></tr>",
    ]
    for s in report.scores:
        out.append(
            f"<tr><td>{e(s.area.value)}</td><td>{e(score_text(s))}</td><td>{s.checked}</td>"
            f"<td>{s.flagged}</td><td>{e(s.area.definition)}</td></tr>"
        )
    out.append("</table>")
    for area, groups in grouped(report):
        out.append(f"<h2>{e(area.value.capitalize())}</h2>")
        if not groups:
            out.append("<p>No findings.</p>")
        for severity, items in groups:
            out.append(f'<h3 class="{e(severity)}">{e(severity.capitalize())} ({len(items)})</h3>')
            out.append("<ul>")
            for item in items:
                named = ", ".join(f"{e(o.kind.value)} {e(o.label)}" for o in item.objects)
                out.append(
                    f'<li><strong class="{e(severity)}">{e(item.title)}</strong><br>'
                    f'<span class="objects">Objects: {named}</span><br>'
                    f'<span class="fix">Fix: {e(item.fix)}</span></li>'
                )
            out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def export(report: AuditReport, fmt: str) -> str:
    if fmt == "markdown":
        return to_markdown(report)
    if fmt == "html":
        return to_html(report)
    raise ValueError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
