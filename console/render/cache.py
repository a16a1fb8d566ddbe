"""A bounded in-memory cache of whole rendered runbooks (no Qt).

Keyed by (SHA-256 of the Markdown, dark): re-opening a runbook or switching the
theme back is a dictionary look-up instead of a render (a 1 MB runbook takes ~3 s).
Thread-safe: renders finish on reader threads, look-ups happen there too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from console.render.markdown import RenderedRunbook

#: runbooks kept (a rendered 1 MB runbook is ~4 MB of HTML)
CACHE_ENTRIES = 16


def render_key(markdown_text: str, dark: bool) -> tuple[str, bool]:
    return hashlib.sha256(markdown_text.encode("utf-8", "surrogatepass")).hexdigest(), dark


class RenderCache:
    """Least-recently-used: :meth:`get` refreshes an entry, :meth:`put` evicts the oldest."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self._entries = entries
        self._items: OrderedDict[tuple[str, bool], RenderedRunbook] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get(self, key: tuple[str, bool]) -> RenderedRunbook | None:
        with self._lock:
            rendered = self._items.get(key)
            if rendered is not None:
                self._items.move_to_end(key)
            return rendered

    def put(self, key: tuple[str, bool], rendered: RenderedRunbook) -> None:
        with self._lock:
            self._items[key] = rendered
            self._items.move_to_end(key)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)
