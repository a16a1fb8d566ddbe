"""Smoke test of the benchmark harness: tiny sizes, JSON line shape only.

Never assert timings here: benchmarks report, they do not pass or fail. The
harness runs in a subprocess (as ``./dev bench`` runs it), so its
QApplication and child processes stay out of the pytest process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks.__main__ import REGISTRY
from tests.benchmarks.fixtures import QUICK_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"name": str, "unit": str}
NUMBER_OR_NULL = ("value", "floor", "ratio")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env[QUICK_ENV] = "1"
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def lines() -> dict[str, dict[str, Any]]:
    result = _run()
    assert result.returncode == 0, result.stderr[-3000:]
    parsed = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(isinstance(line, dict) for line in parsed), result.stdout
    by_name = {line["name"]: line for line in parsed}
    assert len(by_name) == len(parsed), "one line per benchmark"
    return by_name


def test_every_benchmark_reports_once(lines: dict[str, dict[str, Any]]) -> None:
    assert list(lines) == list(REGISTRY)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_line_shape(lines: dict[str, dict[str, Any]], name: str) -> None:
    line = lines[name]
    for key, kind in REQUIRED.items():
        assert isinstance(line[key], kind), (key, line)
    for key in NUMBER_OR_NULL:
        assert key in line, (key, line)
        assert line[key] is None or isinstance(line[key], int | float), (key, line)
    assert line["floor"] is not None, "the floor is always measured"
    if line["value"] is not None:
        assert line["ratio"] is not None
    target = line["target"]
    assert set(target) - {"and"} == {"metric", "max"}
    assert target["metric"] in ("ratio", "value")
    if "and" in target:  # a second condition that must hold too (search vs ripgrep)
        assert set(target["and"]) == {"metric", "min", "measured"}
        measured = target["and"]["measured"]
        assert measured is None or isinstance(measured, int | float)
    assert isinstance(line["meets_target"], bool)
    assert isinstance(line.get("detail", {}), dict)
    assert isinstance(line.get("samples", 0), int)


def test_runbook_benchmarks_share_one_library(lines: dict[str, dict[str, Any]]) -> None:
    names = ("import_10k", "search_p95_10k", "reimport_10k_unchanged")
    libraries = [lines[name]["detail"]["library"] for name in names]
    assert all(library == libraries[0] for library in libraries), libraries
    assert libraries[0]["files"] > 0
    assert lines["import_10k"]["detail"]["imported"] == libraries[0]["files"]
    assert lines["reimport_10k_unchanged"]["detail"]["unchanged"] == libraries[0]["files"]
    ripgrep = lines["search_p95_10k"]["detail"]["ripgrep"]
    assert "skipped" in ripgrep or ripgrep["ripgrep_p95_ms"] > 0
    fuzzy = lines["search_fuzzy_p95_10k"]["detail"]
    assert fuzzy["library"] == libraries[0]
    assert fuzzy["queries"] > 0


def test_named_run_and_unknown_name() -> None:
    listed = _run("--list")
    assert listed.returncode == 0
    assert listed.stdout.split() == list(REGISTRY)
    unknown = _run("no_such_benchmark")
    assert unknown.returncode == 2
    assert unknown.stdout == ""
