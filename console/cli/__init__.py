"""The command line: the same core as the window, scriptable and head-less.

Exit codes: 0 done · 1 failed (message on stderr) · 2 usage error · 3 done in part.
Every listing command has ``--json`` with a stable shape (documented in the README).
``commands`` holds the parser and the dispatch; ``common`` what every command module
shares; an area with many commands has its own module, registered in ``commands.AREAS``.
"""

from console.cli.commands import build_parser, main
from console.cli.common import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, GuiRequest

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "GuiRequest",
    "build_parser",
    "main",
]
