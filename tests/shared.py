"""Where the tests find ``../shared`` (the vendor specs and the real-data corpus).

One setting, ``RESPONDER_CONSOLE_SHARED``; by default the folder ``shared`` beside
the repository. A test that needs something in it is marked with :func:`needs`
(or calls :func:`require`): on a developer's machine without the folder it is
skipped with the setting's name; where ``CI`` is set it **fails**, so a CI run
that lost the folder cannot pass by skipping the contract and corpus tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SETTING = "RESPONDER_CONSOLE_SHARED"
REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get(SETTING) or REPOSITORY.parent / "shared")
CORPUS = SHARED / "corpus"
SPECS = SHARED / "specs"
#: the marker :func:`needs` sets; tests/conftest.py skips or fails on it
MARKER = "needs_shared"


def missing_reason(paths: tuple[Path, ...], what: str) -> str | None:
    """Why a test cannot run (``None`` when every path is there)."""
    for path in paths:
        if not path.exists():
            return f"{what} is not at {path} (set {SETTING} to the shared folder)"
    return None


def needs(*paths: Path, what: str) -> pytest.MarkDecorator:
    """Mark a test (or a module, as ``pytestmark``) that reads ``paths``."""
    mark: pytest.MarkDecorator = getattr(pytest.mark, MARKER)
    return mark(missing_reason(paths, what))


def require(*paths: Path, what: str) -> None:
    """Inside a test: skip (locally) or fail (in CI) when a path is missing."""
    reason = missing_reason(paths, what)
    if reason is not None:
        settle(reason)


def settle(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must have the shared folder", pytrace=False)
    pytest.skip(reason)
