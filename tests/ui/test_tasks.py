"""The task runner hands callbacks back on the GUI thread, and only there lets go of them."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from ui.tasks import TaskRunner


class _Owner:
    """Stands in for a view: its bound method is the callback."""

    def __init__(self) -> None:
        self.results: list[object] = []
        self.released_on: list[str] = []

    def on_done(self, value: object) -> None:
        self.results.append(value)

    def __del__(self) -> None:
        self.released_on.append(threading.current_thread().name)
        _RELEASED.append(threading.current_thread() is threading.main_thread())


_RELEASED: list[bool] = []


def test_callbacks_are_released_on_the_gui_thread(qtbot: QtBot) -> None:
    # A pool job is deleted on its worker thread after run(). Had it held the last
    # reference to a view's bound method (the result delivered and dropped on the
    # GUI thread first), the view's C++ destructor would run there and crash.
    runner = TaskRunner()
    try:
        _RELEASED.clear()
        for n in range(150):
            owner = _Owner()
            runner.read(lambda n=n: n, owner.on_done)  # type: ignore[misc]
            del owner
            QTest.qWait(n % 3)  # deliver while workers are still finishing their jobs
        assert runner.wait(5000)
        qtbot.waitUntil(lambda: len(_RELEASED) == 150, timeout=5000)
        assert all(_RELEASED), f"{_RELEASED.count(False)} callbacks released off the GUI thread"
    finally:
        runner.shutdown()


def test_exactly_one_callback_runs(qtbot: QtBot) -> None:
    runner = TaskRunner()
    done: list[object] = []
    failed: list[BaseException] = []

    def boom() -> int:
        raise ValueError("x")

    try:
        runner.write(lambda: 1, done.append, failed.append)
        runner.read(boom, done.append, failed.append)
        qtbot.waitUntil(lambda: len(done) + len(failed) == 2, timeout=5000)
        assert done == [1]
        assert [type(e) for e in failed] == [ValueError]
    finally:
        runner.shutdown()


def test_after_shutdown_a_read_is_dropped_and_a_write_refused(qtbot: QtBot) -> None:
    """A timer of a closing view (the emergency view's refresh, a poll) that asks for a
    read after the app shut the runner down raised in the Qt event loop; nothing of a
    read can be lost, so it is dropped. A write would be lost: it still raises."""
    runner = TaskRunner()
    runner.shutdown()
    ran: list[int] = []
    runner.read(lambda: ran.append(1), lambda _: ran.append(2), lambda _: ran.append(3))
    QTest.qWait(20)
    assert ran == []
    with pytest.raises(RuntimeError, match="shut down"):
        runner.write(lambda: 1)
