"""The embedded stylesheet: a QTextBrowser-friendly CSS 2.1 subset, light and dark.

Qt's rich text understands type, class and descendant selectors and a handful
of properties (colour, background-color, font-*, margin, padding on cells,
border on tables): no flex, no grid, no positioning. Admonitions and code
blocks are therefore tables with a ``bgcolor`` (see :data:`PALETTES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pygments.formatters import HtmlFormatter


@dataclass(frozen=True)
class Palette:
    text: str
    background: str
    link: str
    muted: str
    blocked: str
    code_background: str
    inline_code_background: str
    table_header: str
    template: str
    pygments_style: str
    admonitions: dict[str, str]  # admonition kind → background colour

    def admonition(self, kind: str) -> str:
        return self.admonitions.get(kind, self.admonitions["note"])


_LIGHT_ADMONITIONS = {
    "note": "#e8f1fb",
    "info": "#e8f1fb",
    "tip": "#e6f6ec",
    "success": "#e6f6ec",
    "question": "#eef0fb",
    "warning": "#fff4e0",
    "caution": "#fff4e0",
    "attention": "#fff4e0",
    "danger": "#fde8e8",
    "error": "#fde8e8",
    "failure": "#fde8e8",
    "bug": "#fde8e8",
    "important": "#f3e8fb",
    "example": "#f3e8fb",
    "quote": "#f2f2f2",
    "abstract": "#e6f5f8",
}
_DARK_ADMONITIONS = {
    "note": "#17283b",
    "info": "#17283b",
    "tip": "#15301f",
    "success": "#15301f",
    "question": "#22243b",
    "warning": "#3a2c10",
    "caution": "#3a2c10",
    "attention": "#3a2c10",
    "danger": "#3d1a1a",
    "error": "#3d1a1a",
    "failure": "#3d1a1a",
    "bug": "#3d1a1a",
    "important": "#2d1f3b",
    "example": "#2d1f3b",
    "quote": "#2a2a2a",
    "abstract": "#15303a",
}

PALETTES = {
    False: Palette(
        text="#1f2328",
        background="#ffffff",
        link="#0b5cad",
        muted="#59636e",
        blocked="#a40e26",
        code_background="#f6f8fa",
        inline_code_background="#eff1f3",
        table_header="#eef1f4",
        template="#6f42c1",
        pygments_style="default",
        admonitions=_LIGHT_ADMONITIONS,
    ),
    True: Palette(
        text="#e6edf3",
        background="#0d1117",
        link="#58a6ff",
        muted="#9198a1",
        blocked="#ff7b72",
        code_background="#161b22",
        inline_code_background="#262c36",
        table_header="#1c2128",
        template="#d2a8ff",
        pygments_style="github-dark",
        admonitions=_DARK_ADMONITIONS,
    ),
}


def palette(dark: bool) -> Palette:
    return PALETTES[dark]


@cache
def stylesheet(dark: bool) -> str:
    p = palette(dark)
    base = f"""
body {{ color: {p.text}; background-color: {p.background}; }}
a {{ color: {p.link}; }}
a.external {{ color: {p.link}; text-decoration: underline; }}
span.blocked-link {{ color: {p.blocked}; text-decoration: line-through; }}
span.image-placeholder {{ color: {p.muted}; font-style: italic; }}
code {{ font-family: monospace; background-color: {p.inline_code_background}; }}
code.template {{ color: {p.template}; }}
pre {{ font-family: monospace; margin-top: 0px; margin-bottom: 0px; white-space: pre-wrap; }}
pre code {{ background-color: {p.code_background}; }}
table.grid {{ border-collapse: collapse; border-color: {p.muted}; }}
th {{ background-color: {p.table_header}; font-weight: bold; }}
td.code-actions {{ color: {p.muted}; font-size: small; }}
td.admonition-title {{ font-weight: bold; }}
blockquote {{ color: {p.muted}; margin-left: 16px; }}
"""
    # types-Pygments leaves get_style_defs unannotated.
    highlight: str = HtmlFormatter(style=p.pygments_style).get_style_defs(".hl")  # type: ignore[no-untyped-call]
    # Pygments puts a background on the block and line-number rules Qt ignores: drop them.
    rules = [
        line
        for line in highlight.splitlines()
        if line.startswith(".hl .") and "linenos" not in line and ".hll" not in line
    ]
    return base + "\n".join(rules) + "\n"
