"""Core unit tests: the core must work without Qt, so importing PySide6 fails the run."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_qt() -> Iterator[None]:
    yield
    leaked = [name for name in sys.modules if name.startswith(("PySide6", "shiboken6"))]
    if leaked and not _qt_loaded_by_other_layers():
        pytest.fail(f"a core unit test imported Qt: {leaked[:3]}")


def _qt_loaded_by_other_layers() -> bool:
    # When the whole suite runs in one process, tests/ui has already imported
    # PySide6; then the check is made by tests/unit/test_no_qt.py in a subprocess.
    return "pytestqt" in sys.modules and any(name.startswith("tests.ui") for name in sys.modules)
