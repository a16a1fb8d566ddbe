"""Core unit tests: the core must work without Qt, so importing PySide6 fails the run."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.domain.checklist import ChecklistTemplate
from console.ops.incidents import IncidentService
from console.ops.queries import Queries
from console.ops.templates import load_templates
from console.storage.db import Database, open_database
from tests.unit.support import FakeClock

QT_PREFIXES = ("PySide6", "shiboken6", "ui.")


def _qt_modules() -> set[str]:
    return {name for name in sys.modules if name.startswith(QT_PREFIXES) or name == "ui"}


@pytest.fixture(autouse=True)
def _no_qt() -> Iterator[None]:
    # pytest-qt (installed for tests/ui) imports PySide6 when pytest configures
    # itself, so "is PySide6 in sys.modules" is always true here. What a core test
    # must not do is load *more* of Qt or ui/: compare before and after each test.
    # The fresh-interpreter check is tests/unit/test_no_qt.py.
    before = _qt_modules()
    yield
    leaked = sorted(_qt_modules() - before)
    if leaked and not _qt_loaded_by_other_layers():
        pytest.fail(f"a core unit test imported Qt or ui/: {leaked[:3]}")


def _qt_loaded_by_other_layers() -> bool:
    # When the whole suite runs in one process, tests/ui imports PySide6 modules
    # too; then the check is made by tests/unit/test_no_qt.py in a subprocess.
    return any(name.startswith("tests.ui") for name in sys.modules)


# ------------------------------------------------------------------ database


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built once per session by the real migrations (Anki's template copy)."""
    path = tmp_path_factory.mktemp("template") / "console.db"
    open_database(path).close()  # closing the last connection checkpoints the WAL away
    assert not Path(f"{path}-wal").exists()
    return path


def copy_template(template: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / "console.db"
    shutil.copyfile(template, target)
    target.chmod(0o600)
    return target


@pytest.fixture
def db_path(data_dir: Path, migrated_template: Path) -> Path:
    return copy_template(migrated_template, data_dir)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(db_path: Path, clock: FakeClock) -> Iterator[Database]:
    database = open_database(db_path, clock=clock)
    yield database
    database.close()


@pytest.fixture(scope="session")
def templates() -> list[ChecklistTemplate]:
    """The shipped checklist templates (resources/checklists)."""
    return load_templates()


@pytest.fixture
def service(db: Database, clock: FakeClock, templates: list[ChecklistTemplate]) -> IncidentService:
    return IncidentService(db, actor="alice", templates=templates, clock=clock)


@pytest.fixture
def queries(db: Database) -> Queries:
    return Queries(db)
