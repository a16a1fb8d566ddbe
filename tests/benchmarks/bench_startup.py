"""Startup: process spawn to the first painted main window, app vs a bare PySide6 window."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.benchmarks.fixtures import (
    BenchResult,
    Target,
    build_demo_with_large_incident,
    log,
    median,
    now_ms,
    quick_mode,
    summary,
    temp_folder,
)

FIRST_PAINT = "first-paint"
FIRST_PAINT_ENV = "RESPONDER_CONSOLE_BENCH_FIRST_PAINT"
BARE_WINDOW = Path(__file__).with_name("bare_window.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 60.0


class StartupError(RuntimeError):
    pass


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]


def app_available() -> bool:
    try:
        return importlib.util.find_spec("ui.app") is not None
    except ModuleNotFoundError:
        return False


def bench_env(home: Path, pycache: Path) -> dict[str, str]:
    """The same environment for the app and the floor; nothing touches the real home.

    Bytecode is cached (as in an installed app) under ``pycache``, never in the
    repository, even when the caller runs with PYTHONDONTWRITEBYTECODE: the
    warm-up runs fill it.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        {
            "PYTHONPYCACHEPREFIX": str(pycache),
            "QT_QPA_PLATFORM": "offscreen",
            FIRST_PAINT_ENV: "1",
            "PYTHONUNBUFFERED": "1",  # the first-paint line arrives when printed
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "RESPONDER_CONSOLE_USER": "bench",
        }
    )
    env.pop("RESPONDER_CONSOLE_DATA_DIR", None)
    return env


def time_to_first_paint(
    command: Command,
    env: dict[str, str],
    after: list[str] | None = None,
    *,
    marker: str = FIRST_PAINT,
) -> float:
    """Wall time (ms) from spawning ``command`` to its ``first-paint`` (``marker``) stdout
    line. ``after`` collects the stdout lines printed after it (a child's own timings)."""
    start = now_ms()
    process = subprocess.Popen(
        command.argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=REPO_ROOT,
        text=True,
    )
    assert process.stdout is not None
    elapsed: float | None = None
    try:
        for line in process.stdout:
            if line.strip() == marker:
                elapsed = now_ms() - start
                break
        rest, errors = process.communicate(timeout=RUN_TIMEOUT_S)
        if after is not None and rest:
            after.extend(rest.splitlines())
    except subprocess.TimeoutExpired:
        process.kill()
        _, errors = process.communicate()
        raise StartupError(f"{command.label}: no exit within {RUN_TIMEOUT_S:.0f} s") from None
    if elapsed is None or process.returncode != 0:
        tail = " | ".join(errors.strip().splitlines()[-5:])
        raise StartupError(
            f"{command.label}: exit {process.returncode}, "
            f"{'painted' if elapsed is not None else 'never printed first-paint'}; "
            f"stderr: {tail}"
        )
    return elapsed


def interleaved_first_paints(
    name: str,
    commands: list[Command],
    env: dict[str, str],
    *,
    runs: int,
    warmups: int,
    after: dict[str, list[str]] | None = None,
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """First-paint times of each command, run in turn (floor, app, floor, app, …) so
    both see the same machine weather. A command that fails once is dropped, its
    error kept. ``after`` collects each command's lines printed after first-paint."""
    samples: dict[str, list[float]] = {c.label: [] for c in commands}
    errors: dict[str, str] = {}
    for index in range(warmups + runs):
        for command in commands:
            if command.label in errors:
                continue
            lines: list[str] = []
            try:
                elapsed = time_to_first_paint(command, env, lines)
            except StartupError as error:
                log.error("%s: %s", name, error)
                errors[command.label] = str(error)
                continue
            if index >= warmups:
                samples[command.label].append(elapsed)
                if after is not None:
                    after.setdefault(command.label, []).extend(lines)
            log.info("%s: %s %.1f ms", name, command.label, elapsed)
    return samples, errors


def compare_first_paints(
    floor_samples: list[float], app_samples: list[float], detail: dict[str, Any]
) -> tuple[float | None, float | None]:
    """(value, floor) as medians, with the spread and pair ratios written to ``detail``."""
    floor = median(floor_samples) if floor_samples else None
    if floor_samples:
        detail["floor_ms"] = summary(floor_samples)
    if not app_samples:
        return None, floor
    detail["app_ms"] = summary(app_samples)
    detail["app_samples_ms"] = [round(s, 1) for s in app_samples]
    if floor_samples:
        detail["ratio_of_minimums"] = round(min(app_samples) / min(floor_samples), 4)
        pairs = [a / f for a, f in zip(app_samples, floor_samples, strict=False)]
        detail["median_of_pair_ratios"] = round(median(pairs), 4)
    return median(app_samples), floor


def startup() -> BenchResult:
    quick = quick_mode()
    # This VM's timing noise is large (a bare window takes 140-270 ms from run to
    # run), so take many interleaved pairs; medians are reported as the figure and
    # the ratio of minimums (noise only ever adds time) beside it.
    runs, warmups = (1, 0) if quick else (15, 2)
    n = 1_000 if quick else 100_000
    floor_cmd = Command("bare window", [sys.executable, str(BARE_WINDOW)])
    detail: dict[str, Any] = {"runs": runs, "warmups": warmups, "entries": n}
    with temp_folder() as folder:
        data = folder / "data"
        home = folder / "home"
        home.mkdir()
        env = bench_env(home, folder / "pycache")
        commands = [floor_cmd]
        app_cmd: Command | None = None
        if app_available():
            log.info("startup: building the demo workspace with a %d-entry incident", n)
            large = build_demo_with_large_incident(data, n)
            detail["incident_id"] = large.incident_id
            app_cmd = Command("app", [sys.executable, "-m", "ui.entry", "--data-dir", str(data)])
            commands.append(app_cmd)
        else:
            detail["note"] = "ui/app.py does not exist yet: only the floor is measured"
        samples, errors = interleaved_first_paints(
            "startup", commands, env, runs=runs, warmups=warmups
        )
    value, floor = compare_first_paints(
        samples[floor_cmd.label], samples[app_cmd.label] if app_cmd else [], detail
    )
    if value is not None:
        detail["command"] = "python -m ui.entry --data-dir DIR"
    if errors:
        detail["errors"] = errors
    return BenchResult(
        name="startup",
        value=value,
        unit="ms",
        floor=floor,
        target=Target("ratio", 2.0),
        samples=runs,
        detail=detail,
    )
