"""The ``responder-console`` entry point: CLI commands stay Qt-free; the window loads lazily."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from console.cli import GuiRequest
from console.cli import main as cli_main


def _launch(request: GuiRequest) -> int:
    from console.syslibs import missing_libraries_message, missing_platform_libraries

    # Before Qt is loaded: a missing xcb library would end in Qt's "could not load
    # the Qt platform plugin" abort, which names neither the library nor the fix.
    missing = missing_platform_libraries()
    if missing:
        print(missing_libraries_message(missing), file=sys.stderr)
        return 1
    from ui.app import run  # Qt is imported only when a window is wanted

    code: int = run(request)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(argv, gui=_launch)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
