"""Ready: process spawn until the window accepts Ctrl+N with the catalog loaded.

What an IC waits for after launching at 03:00: the first paint is not enough, the
window must take a declaration whose services complete from the catalog (issue 16,
Performance). The app runs on the demo workspace (``--demo``: catalog, runbooks,
people, incidents) with ``RESPONDER_CONSOLE_BENCH_READY`` set: it prints ``ready``
once the declare action is enabled and the catalog's service names are loaded
(``ui.app._Startup._watch_ready``); the workspace opens on a worker thread meanwhile
(the dialog's Declare waits for it). It then prints ``attached MS`` when the
workspace is attached (writes work), MS after ``ready``: ``detail.attached_ms`` is
the median of ready + MS, reported beside the value, and exits. The floor is the bare window's first
paint (tests/benchmarks/bare_window.py), run interleaved with it.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

from tests.benchmarks.bench_startup import (
    BARE_WINDOW,
    FIRST_PAINT_ENV,
    Command,
    StartupError,
    app_available,
    bench_env,
    compare_first_paints,
    time_to_first_paint,
)
from tests.benchmarks.fixtures import BenchResult, Target, log, quick_mode, temp_folder

READY = "ready"
READY_ENV = "RESPONDER_CONSOLE_BENCH_READY"
#: the absolute target beside the ratio one (ms)
VALUE_TARGET_MS = 800.0


def ready() -> BenchResult:
    quick = quick_mode()
    runs, warmups = (1, 0) if quick else (11, 2)  # quick: the one run also seeds the demo
    detail: dict[str, Any] = {"runs": runs, "warmups": warmups, "workspace": "demo"}
    floor_cmd = Command("bare window", [sys.executable, str(BARE_WINDOW)])
    floor_samples: list[float] = []
    app_samples: list[float] = []
    attached_samples: list[float] = []
    errors: dict[str, str] = {}
    with temp_folder() as folder:
        home = folder / "home"
        home.mkdir()
        env = bench_env(home, folder / "pycache")
        app_env = dict(env)
        app_env.pop(FIRST_PAINT_ENV, None)
        app_env[READY_ENV] = "1"
        data = folder / "data"
        app_cmd = Command(
            "app", [sys.executable, "-m", "ui.entry", "--demo", "--data-dir", str(data)]
        )
        for index in range(warmups + runs):  # the first warm-up also seeds the demo
            try:
                floor_ms = time_to_first_paint(floor_cmd, env)
                after: list[str] = []
                app_ms = _time_to_ready(app_cmd, app_env, after) if app_available() else None
            except StartupError as error:
                log.error("ready: %s", error)
                errors["run"] = str(error)
                break
            log.info("ready: bare %.1f ms, app %s ms", floor_ms, app_ms)
            if index >= warmups:
                floor_samples.append(floor_ms)
                if app_ms is not None:
                    app_samples.append(app_ms)
                    attached_samples += [app_ms + ms for ms in _attached_after(after)]
    value, floor = compare_first_paints(floor_samples, app_samples, detail)
    if errors:
        detail["errors"] = errors
    if attached_samples:
        detail["attached_ms"] = round(statistics.median(attached_samples), 1)
    detail["value_target_ms"] = VALUE_TARGET_MS
    detail["meets_value_target"] = value is not None and value <= VALUE_TARGET_MS
    detail["command"] = "python -m ui.entry --demo --data-dir DIR (RESPONDER_CONSOLE_BENCH_READY=1)"
    return BenchResult(
        name="ready",
        value=value,
        unit="ms",
        floor=floor,
        target=Target("ratio", 3.0),
        samples=len(app_samples),
        detail=detail,
    )


def _time_to_ready(command: Command, env: dict[str, str], after: list[str]) -> float:
    return time_to_first_paint(command, env, after, marker=READY)


def _attached_after(lines: list[str]) -> list[float]:
    """The ``attached MS`` line the app prints after ``ready``."""
    return [float(line.split()[1]) for line in lines if line.startswith("attached ")]
