"""Fixtures of the sync integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.ops.workspace import Workspace
from tests.integration.sync_support import workspace


@pytest.fixture
def ws(data_dir: Path) -> Iterator[Workspace]:
    """A workspace in the test's data folder, closed afterwards."""
    opened = workspace(data_dir)
    yield opened
    opened.close()
