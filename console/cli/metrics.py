"""``responder-console metrics``: response times and counts across incidents."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from console.cli.common import EXIT_OK, emit, open_workspace


def add_parsers(commands: Any, importing: Any) -> None:
    metrics = commands.add_parser(
        "metrics",
        help="time to detect, acknowledge, mitigate, resolve; counts; action items",
        description="Response times (mean, median, p90) and counts by severity, service "
        "and month over the incidents declared in a date range (UTC days). Incidents "
        "still open are counted as open and left out of time to resolve; an incident "
        "with no acknowledgement is left out of time to acknowledge (and said so).",
    )
    metrics.add_argument("--since", metavar="DATE", help="declared on or after (YYYY-MM-DD)")
    metrics.add_argument("--until", metavar="DATE", help="declared on or before (YYYY-MM-DD)")
    metrics.add_argument("--severity", metavar="S", help="only this severity (SEV1..SEV4)")
    metrics.add_argument("--service", metavar="NAME", help="only incidents naming this service")
    metrics.add_argument("--json", action="store_true")


def _metrics(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.comms.actions import parse_day
    from console.domain.incident import parse_severity
    from console.metrics import MetricsFilter, read_metrics, report_json, report_text

    chosen = MetricsFilter(
        since=parse_day(args.since, "--since"),
        until=parse_day(args.until, "--until"),
        severity=parse_severity(args.severity) if args.severity else None,
        service=args.service,
    )
    workspace = open_workspace(args, folder)
    try:
        report = read_metrics(workspace.db, chosen, now=workspace.clock())
    finally:
        workspace.close()
    emit(out, args.json, report_json(report), report_text(report))
    return EXIT_OK


HANDLERS = {"metrics": _metrics}
