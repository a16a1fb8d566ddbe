"""Where the data lives: platformdirs, overridden by --data-dir or the environment."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "responder-console"
DATA_DIR_ENV = "RESPONDER_CONSOLE_DATA_DIR"
DATABASE_NAME = "console.db"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``override``, else ``$RESPONDER_CONSOLE_DATA_DIR``, else the platform's."""
    if override:
        return Path(override).expanduser().resolve()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    import platformdirs  # imported late: only needed when nothing overrides it

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def demo_dir(base: Path) -> Path:
    """The demo workspace lives beside, never inside, the real data."""
    return base / "demo"


def database_path(folder: Path) -> Path:
    return folder / DATABASE_NAME


def backups_dir(folder: Path) -> Path:
    return folder / "backups"


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) with mode 0700; tighten it if it already exists."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
