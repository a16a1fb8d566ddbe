"""Shared test setup: no test touches the real user folders or the real keyring."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import hypothesis
import pytest

from tests import shared
from tests.emulators import loopback

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Hypothesis fails an example that takes more than 200 ms by default: a timing in a
# pass/fail test, which a loaded 2-core machine trips. Timings belong to benchmarks.
hypothesis.settings.register_profile("console", deadline=None)
hypothesis.settings.load_profile("console")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point HOME, XDG dirs and the data dir at a temp folder for every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("RESPONDER_CONSOLE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("RESPONDER_CONSOLE_USER", "tester")
    # the window opens the default keyring (ui.sync): keyring's own "none here" backend
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    return folder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    loopback.STARTED.clear()  # the emulators this test starts are checked after it
    for mark in item.iter_markers(shared.MARKER):
        if mark.args and mark.args[0] is not None:
            shared.settle(str(mark.args[0]))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """A test fails when a vendor emulator received a request the vendor's spec does
    not allow (tests/emulators/spec_check.py): every request the console sends,
    dropped and refused ones included."""
    result = yield
    problems = [problem for emulator in loopback.STARTED for problem in emulator.violations()]
    loopback.STARTED.clear()
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(f"requests the vendor's spec does not allow:\n  {shown}{more}")
    return result
