"""Guard against the PySide6 6.12.0 reference-count bug (pinned away in requirements).

Under CPython 3.11, PySide6 6.12.0 drops one reference to ``None``/``True``/``False``
on every Python slot return, ``Signal.emit()`` and empty-QVariant read. A window
open through a long incident (a 1 s elapsed-time timer, model ``data()`` calls)
then drives the count to zero and the interpreter aborts. These checks fail on
such a build long before that happens.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from PySide6.QtCore import QModelIndex, QObject, QStringListModel, Signal, Slot
from pytestqt.qtbot import QtBot

CALLS = 2000


class _Emitter(QObject):
    fired = Signal()
    carried = Signal(object)


class _Receiver(QObject):
    @Slot()
    def returns_none(self) -> None:
        return None


def _drift(action: Callable[[], object]) -> tuple[int, int, int]:
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(CALLS):
        action()
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    return after[0] - before[0], after[1] - before[1], after[2] - before[2]


def _assert_no_loss(drift: tuple[int, int, int]) -> None:
    # Small positive noise (caches) is fine; a loss proportional to CALLS is the bug.
    assert min(drift) > -CALLS // 2, f"PySide6 lost references to None/True/False: {drift}"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="immortal singletons since 3.12")
def test_slot_return_and_emit_keep_refcounts(qtbot: QtBot) -> None:
    emitter, receiver = _Emitter(), _Receiver()
    emitter.fired.connect(receiver.returns_none)
    emitter.carried.connect(receiver.returns_none)
    _assert_no_loss(_drift(emitter.fired.emit))
    _assert_no_loss(_drift(lambda: emitter.carried.emit(True)))


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="immortal singletons since 3.12")
def test_empty_variant_reads_keep_refcounts(qtbot: QtBot) -> None:
    model = QStringListModel(["a"])
    index = model.index(0, 0, QModelIndex())
    _assert_no_loss(_drift(lambda: model.data(index, 1000)))
