"""``responder-console audit``: the readiness audit, as text, JSON, Markdown or HTML."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from console.cli.common import EXIT_OK, emit, open_workspace
from console.files import write_file

FORMATS = ("text", "markdown", "html")
Handler = Callable[[argparse.Namespace, Path, TextIO], int]


def add_parsers(commands: Any, importing: Any) -> None:
    audit = commands.add_parser(
        "audit",
        help="readiness audit: where the team is exposed (scores, findings, fixes)",
    )
    audit.add_argument("--json", action="store_true", help="the report as JSON (README shape)")
    audit.add_argument(
        "--format", choices=FORMATS, default="text", help="text (default), markdown or html"
    )
    audit.add_argument("--out", metavar="FILE", help="write the report to FILE instead")
    audit.add_argument(
        "--no-save",
        action="store_true",
        help="do not store this run's scores (the trend counts stored runs)",
    )


def _text(report: Any) -> str:
    from console.audit.export import score_text, summary_line

    lines = [f"Readiness audit {report.ran_at:%Y-%m-%d %H:%M} UTC — {summary_line(report)}", ""]
    lines += [
        f"  {s.area.value:<10} {score_text(s):>14}   {s.checked - s.flagged}/{s.checked} ok"
        for s in report.scores
    ]
    for item in report.findings:
        lines += ["", f"[{item.severity.value}] {item.area.value}: {item.title}"]
        lines.append(f"  fix: {item.fix}")
    return "\n".join(lines)


def _audit(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.audit import audit_for
    from console.audit.export import export, report_json

    workspace = open_workspace(args, folder)
    try:
        report = audit_for(workspace).run(save=not args.no_save)
    finally:
        workspace.close()
    if args.json:
        text = json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    elif args.format == "text":
        text = _text(report) + "\n"
    else:
        text = export(report, args.format)
    if args.out is None:
        emit(out, False, None, text)
        return EXIT_OK
    target = write_file(Path(args.out), text, what="the audit report")
    out.write(f"Wrote the audit to {target} ({len(report.findings)} findings)\n")
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"audit": _audit}
