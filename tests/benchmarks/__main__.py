"""``python -m tests.benchmarks [NAME...]``: run benchmarks, one JSON object per line on stdout.

Each line: {"name", "value", "unit", "floor", "ratio", "target", "meets_target",
"samples", "detail"}. Progress goes to stderr. The exit status is 0 when every
benchmark ran (missed targets included), 1 when one crashed, 2 for an unknown name.
RESPONDER_CONSOLE_BENCH_QUICK=1 runs them on tiny sizes (smoke test).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence

from tests.benchmarks.bench_audit import audit_full
from tests.benchmarks.bench_catalog import blast_radius_2k, graph_first_paint_2k
from tests.benchmarks.bench_metrics import metrics_1k
from tests.benchmarks.bench_oncall import oncall_lookup
from tests.benchmarks.bench_packs import pack_build_10k, pack_verify_100mb
from tests.benchmarks.bench_postmortem import postmortem_draft_10k
from tests.benchmarks.bench_pull import pull_large
from tests.benchmarks.bench_pull_opsgenie import pull_large_opsgenie
from tests.benchmarks.bench_ready import ready
from tests.benchmarks.bench_render import render_large
from tests.benchmarks.bench_runbooks import (
    import_10k,
    reimport_10k_unchanged,
    search_fuzzy_p95_10k,
    search_p95_10k,
)
from tests.benchmarks.bench_startup import startup
from tests.benchmarks.bench_sync import sync_drain_10k, sync_drain_10k_opsgenie
from tests.benchmarks.bench_syncui import sync_panel_read_10k
from tests.benchmarks.bench_timeline import timeline_open_100k, timeline_write_p99
from tests.benchmarks.fixtures import BenchResult, log

#: Benchmark name → function. Names are stable: dashboards key on them.
REGISTRY: dict[str, Callable[[], BenchResult]] = {
    "timeline_write_p99": timeline_write_p99,
    "timeline_open_100k": timeline_open_100k,
    "startup": startup,
    # spawn until Ctrl+N takes a declaration with the catalog loaded (demo workspace)
    "ready": ready,
    "render_large": render_large,
    # The runbook benchmarks share one 10k-file library and its imported database
    # (built once per run); import_10k first lets the others reuse its import.
    "import_10k": import_10k,
    "search_p95_10k": search_p95_10k,
    "search_fuzzy_p95_10k": search_fuzzy_p95_10k,
    "reimport_10k_unchanged": reimport_10k_unchanged,
    # The catalog benchmarks share one 2,000-service workspace (built once per run).
    "blast_radius_2k": blast_radius_2k,
    "graph_first_paint_2k": graph_first_paint_2k,
    "oncall_lookup": oncall_lookup,
    # the PagerDuty emulator enforcing 3,000 requests/min (tests/benchmarks/bench_sync.py)
    "sync_drain_10k": sync_drain_10k,
    # the same against the Opsgenie emulator, which tells no budget until it throttles
    "sync_drain_10k_opsgenie": sync_drain_10k_opsgenie,
    # 5,000 users + contacts, 200 schedules × 90 days from the Opsgenie emulator: requests
    "pull_large_opsgenie": pull_large_opsgenie,
    # the Sync tab's read against the status bar's, 10,000 waiting over 200 incidents
    "sync_panel_read_10k": sync_panel_read_10k,
    # 5,000 users and 90 days of on-calls for 200 schedules from the emulator (bench_pull.py)
    "pull_large": pull_large,
    "postmortem_draft_10k": postmortem_draft_10k,
    # content packs: verify against sha256sum of the same file; build of the shared library
    "pack_verify_100mb": pack_verify_100mb,
    "pack_build_10k": pack_build_10k,
    "audit_full": audit_full,
    "metrics_1k": metrics_1k,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description="Run the benchmarks (all, or the named ones); JSON lines on stdout.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(REGISTRY))
    parser.add_argument("--list", action="store_true", help="list the benchmark names")
    args = parser.parse_args(argv)
    if args.list:
        sys.stdout.write("".join(f"{name}\n" for name in REGISTRY))
        return 0
    unknown = [name for name in args.names if name not in REGISTRY]
    if unknown:
        parser.print_usage(sys.stderr)
        sys.stderr.write(
            f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}\n"
        )
        return 2
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations of the temp databases
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    status = 0
    for name in args.names or list(REGISTRY):
        log.info("running %s", name)
        try:
            line = REGISTRY[name]().as_json()
        except Exception as error:
            log.exception("%s crashed", name)
            line = {
                "name": name,
                "value": None,
                "unit": None,
                "floor": None,
                "ratio": None,
                "error": f"{type(error).__name__}: {error}",
            }
            status = 1
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
