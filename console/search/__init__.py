"""Search: full-text queries over the local data (runbooks)."""

from console.search.runbooks import (
    MARK_END,
    MARK_START,
    SearchHit,
    SearchResult,
    search,
    search_runbooks,
)

__all__ = ["MARK_END", "MARK_START", "SearchHit", "SearchResult", "search", "search_runbooks"]
