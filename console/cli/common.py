"""What every command module shares: exit codes, the parser class, the workspace, output.

Command areas with their own module (``console/cli/<area>.py``) import from here only,
and register in ``console.cli.commands.AREAS``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
#: ``import runbooks``: a folder named held nothing recognised as a runbook (what it
#: holds instead is listed on stderr); before 3 and 1, which say what was refused
EXIT_NOTHING_FOUND = 4


@dataclass(frozen=True)
class GuiRequest:
    folder: Path
    demo: bool
    actor: str | None
    no_error_windows: bool


GuiLauncher = Callable[[GuiRequest], int]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit 2 with the usage, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def open_workspace(args: argparse.Namespace, folder: Path) -> Any:
    from console.ops.workspace import Workspace

    workspace = Workspace.open(folder, actor=args.actor)
    if args.demo:
        from console.demo import ensure_demo

        ensure_demo(workspace)
    return workspace


def emit(out: TextIO, as_json: bool, document: Any, text: str) -> None:
    if as_json:
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(text + ("\n" if text and not text.endswith("\n") else ""))


def import_with(
    args: argparse.Namespace, folder: Path, run: Callable[[Any, list[Path]], Any]
) -> Any:
    """Run an import on the workspace of ``folder`` over the paths given."""
    workspace = open_workspace(args, folder)
    try:
        return run(workspace, [Path(p) for p in args.paths])
    finally:
        workspace.close()


def import_exit(refused: Sequence[Any], read_any: bool, notes: Sequence[str] = ()) -> int:
    """Refusals (``PATH: reason``) and notes on stderr; 0 all read, 3 some refused, 1 none."""
    for refusal in refused:
        line = getattr(refusal, "line", None)
        where = f"{refusal.path}:{line}" if line else refusal.path
        print(f"{where}: {refusal.reason}", file=sys.stderr)
    for note in notes:
        print(note, file=sys.stderr)
    if refused:
        return EXIT_PARTIAL if read_any else EXIT_FAILED
    return EXIT_OK
