"""The task runner: core functions off the GUI thread, one callback back on it.

Modelled on Anki's ``CollectionOp``/``QueryOp`` and Picard's ``run_task``: a
plain core function runs on a pool; exactly one of ``on_done`` / ``on_error``
runs later on the GUI thread, delivered by a queued signal on a GUI-owned
QObject. Two lanes: a one-thread *writer* lane (SQLite has one writer, and
timeline entries must commit in the order they were typed) and a small
parallel *reader* lane for network and read-only work.

Tests can construct ``TaskRunner(inline=True)`` to run everything at once on
the calling thread (Picard's ``FakeThreadPool``); callbacks still go through
the same delivery path.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")


class CancelToken:
    """Cooperative cancellation: the core checks ``cancelled`` between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class _Callbacks(Generic[T]):
    on_done: Callable[[T], None] | None
    on_error: Callable[[BaseException], None] | None


class _Deliverer(QObject):
    """Lives on the GUI thread; the queued signal hops results back onto it.

    The callbacks stay here, keyed by job, and are only ever referenced from the
    GUI thread: a job deleted on a pool thread must not drop the last reference
    to a widget (a bound method of a closed view), or the widget's C++
    destructor would run off the GUI thread and crash."""

    delivered = Signal(int, object, object)

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: dict[int, _Callbacks[Any]] = {}
        self._keys = itertools.count(1)
        self.delivered.connect(self._deliver)

    def register(self, callbacks: _Callbacks[Any]) -> int:
        key = next(self._keys)
        self._callbacks[key] = callbacks
        return key

    @Slot(int, object, object)
    def _deliver(self, key: int, value: Any, error: BaseException | None) -> None:
        callbacks = self._callbacks.pop(key, None)
        if callbacks is None:
            log.error("task %d delivered twice or never registered", key)
            return
        try:
            if error is not None:
                if callbacks.on_error is not None:
                    callbacks.on_error(error)
                else:
                    log.error("unhandled task failure", exc_info=error)
            elif callbacks.on_done is not None:
                callbacks.on_done(value)
        except Exception:  # a slot boundary: route to logging, never lose it
            log.exception("task callback failed")


class _Job(QRunnable, Generic[T]):
    def __init__(self, fn: Callable[[], T], key: int, deliverer: _Deliverer) -> None:
        super().__init__()
        self._fn: Callable[[], T] | None = fn
        self._key = key
        self._deliverer = deliverer

    def run(self) -> None:
        fn, self._fn = self._fn, None
        assert fn is not None
        try:
            value = fn()
        except BaseException as error:
            self._deliverer.delivered.emit(self._key, None, error)
        else:
            self._deliverer.delivered.emit(self._key, value, None)


class TaskRunner:
    def __init__(self, *, inline: bool = False, readers: int = 3) -> None:
        self._inline = inline
        self._deliverer = _Deliverer()
        self._writer = QThreadPool()
        self._writer.setMaxThreadCount(1)
        self._reader = QThreadPool()
        self._reader.setMaxThreadCount(readers)
        self._closed = False

    @property
    def closed(self) -> bool:
        """Shut down: new work is refused (a timer firing while the app quits checks this)."""
        return self._closed

    def write(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn`` on the single writer thread, in submission order."""
        self._submit(self._writer, fn, on_done, on_error)

    def read(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn`` on the parallel lane (read-only queries, network).

        Once the runner is shut down a read is dropped (logged), never raised: a timer
        or a late signal of a closing window that asks for a read has nothing to show it
        in, and nothing is lost. A write after shutdown still raises (it would be lost)."""
        if self._closed:
            log.debug("read after shutdown dropped: %r", fn)
            return
        self._submit(self._reader, fn, on_done, on_error)

    def _submit(
        self,
        pool: QThreadPool,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        if self._closed:
            raise RuntimeError("the task runner is shut down")
        key = self._deliverer.register(_Callbacks(on_done, on_error))
        job: _Job[T] = _Job(fn, key, self._deliverer)
        if self._inline:
            job.run()
        else:
            pool.start(job)

    def wait(self, msecs: int = -1) -> bool:
        """Block until both lanes are idle (on quit, in tests)."""
        return self._writer.waitForDone(msecs) and self._reader.waitForDone(msecs)

    def shutdown(self) -> None:
        """Finish queued writes (never drop a typed entry), then refuse new work."""
        self._closed = True
        self._reader.clear()
        self.wait()
