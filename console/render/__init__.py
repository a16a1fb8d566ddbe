"""Safe runbook rendering (core, no Qt): Markdown → self-contained HTML for a QTextBrowser."""

from console.render.markdown import (
    STEP_SECTION,
    CodeBlock,
    RenderedRunbook,
    Step,
    TocEntry,
    render_runbook,
)
from console.render.sanitize import Link, LinkKind, classify_url

__all__ = [
    "STEP_SECTION",
    "CodeBlock",
    "Link",
    "LinkKind",
    "RenderedRunbook",
    "Step",
    "TocEntry",
    "classify_url",
    "render_runbook",
]
