"""Safe runbook rendering (core, no Qt): Markdown → self-contained HTML for a QTextBrowser."""

from console.render.cache import CACHE_ENTRIES, RenderCache, render_key
from console.render.chunks import CHUNK_CHARS, SplitRunbook, split_runbook
from console.render.markdown import (
    PAGE_TAIL,
    STEP_SECTION,
    CodeBlock,
    RenderedPart,
    RenderedRunbook,
    RunbookAssembly,
    Step,
    TocEntry,
    page_head,
    render_progressively,
    render_runbook,
)
from console.render.sanitize import Link, LinkKind, classify_url

__all__ = [
    "CACHE_ENTRIES",
    "CHUNK_CHARS",
    "PAGE_TAIL",
    "STEP_SECTION",
    "CodeBlock",
    "Link",
    "LinkKind",
    "RenderCache",
    "RenderedPart",
    "RenderedRunbook",
    "RunbookAssembly",
    "SplitRunbook",
    "Step",
    "TocEntry",
    "classify_url",
    "page_head",
    "render_key",
    "render_progressively",
    "render_runbook",
    "split_runbook",
]
