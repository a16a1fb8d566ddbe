"""Render a runbook's Markdown into a safe, self-contained HTML document (no Qt).

python-markdown with tables, toc, admonition, attr_list, sane_lists and
pymdown-extensions' superfences (fences nested in list items, which is where
runbook commands live) and details (MkDocs ``???`` collapsible admonitions).
Pygments highlights fenced code with class-based spans styled by the
embedded stylesheet. Then :class:`~console.render.sanitize.Sanitizer` passes
over the whole output: see that module for the safety rules.

What the UI gets besides the HTML:

* ``steps``: the top-level numbered list items under Diagnosis / Resolution /
  Rollback headings (also Mitigation, Remediation: see
  :data:`STEP_SECTION`), numbered 1..N through the document so they match
  "go to step N". Each ``<li>`` carries ``id``/``<a name>`` ``step-N`` and its
  ``<ol start>`` shows the same numbers.
* ``code_blocks``: every fenced block in document order, with anchor
  ``code-I`` and a copy link ``action:copy/I`` (I = index), and the step it
  belongs to.
* ``toc``, ``links`` (every link target and what it is) and ``warnings``.

Template placeholders (Hugo ``{{< … >}}``/``{{% … %}}``, Go/Helm ``{{ … }}``,
Jinja ``{% … %}``/``{# … #}``) are swapped for private-use tokens before
markdown runs, so markdown never mangles them, and come back verbatim: as
inline code in prose, as plain text inside code.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape, unescape
from typing import Any, NamedTuple
from xml.etree.ElementTree import Element, SubElement

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from console.render.sanitize import (
    CODE_TOKEN,
    RESERVED_ANCHOR,
    TEMPLATE_TOKEN,
    Link,
    Sanitizer,
)
from console.render.style import palette, stylesheet

#: Headings whose top-level numbered lists are steps (case-insensitive, leading numbering ok).
STEP_SECTION = re.compile(
    r"^[\W\d_]*(diagnos\w*|resol\w*|rollback|roll[ -]back\w*|mitigat\w*|remediat\w*)\b",
    re.IGNORECASE,
)

_TEMPLATE = re.compile(r"\{\{[<%].*?[%>]\}\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?[^`]\1(?!`)")
_FENCE_OPEN = re.compile(r"[ \t>]*(`{3,}|~{3,})")
_UNSAFE_INPUT = re.compile("[\x00\x02\x03\ue000-\ue003]")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block: ``index`` is its place in the document (anchor ``code-<index>``)."""

    index: int
    language: str
    code: str
    step: int | None = None


@dataclass(frozen=True)
class Step:
    number: int
    section: str
    text: str
    commands: tuple[CodeBlock, ...] = ()


class TocEntry(NamedTuple):
    level: int
    title: str
    anchor: str


@dataclass(frozen=True)
class RenderedRunbook:
    html: str
    toc: tuple[TocEntry, ...]
    steps: tuple[Step, ...]
    code_blocks: tuple[CodeBlock, ...]
    links: tuple[Link, ...]
    warnings: tuple[str, ...]


# ----------------------------------------------------------------- rendering


def render_runbook(markdown_text: str, *, dark: bool = False) -> RenderedRunbook:
    """Render ``markdown_text`` (the body, front matter already removed) safely; never raises
    on any text."""
    text = _UNSAFE_INPUT.sub("\ufffd", markdown_text.replace("\r\n", "\n").replace("\r", "\n"))
    templates: list[str] = []
    text = protect_templates(text, templates)
    state = _RenderState(nonce=secrets.token_hex(8), dark=dark)
    md = _markdown(state)
    body = md.convert(text)

    sanitizer = Sanitizer(nonce=state.nonce, templates=templates, code_block=state.code_html)
    sanitizer.feed(body)
    sanitizer.finish()

    order = sanitizer.code_order  # provisional key → final index, in document order
    step_of: dict[int, int] = {}
    for number, _section, _text, keys in state.steps:
        for key in keys:
            step_of.setdefault(key, number)
    blocks: list[CodeBlock | None] = [None] * len(order)
    for key, index in order.items():
        language, code = state.blocks[key]
        blocks[index] = CodeBlock(index, language, code, step_of.get(key))
    code_blocks = tuple(block for block in blocks if block is not None)
    by_key = {key: code_blocks[index] for key, index in order.items()}
    steps = tuple(
        Step(
            number,
            section,
            _untoken(text, templates),
            tuple(by_key[key] for key in keys if key in by_key),
        )
        for number, section, text, keys in state.steps
    )
    toc = tuple(
        TocEntry(level, _untoken(title, templates), anchor)
        for level, title, anchor in _flatten_toc(getattr(md, "toc_tokens", []))
    )
    html = (
        "<html><head><style>"
        + stylesheet(dark)
        + '</style></head><body class="runbook">'
        + sanitizer.html
        + "</body></html>"
    )
    return RenderedRunbook(
        html=html,
        toc=toc,
        steps=steps,
        code_blocks=code_blocks,
        links=tuple(sanitizer.links),
        warnings=tuple(sanitizer.warnings),
    )


def protect_templates(text: str, templates: list[str]) -> str:
    """Swap template placeholders outside code for tokens; ``templates[n]`` is token n's text."""
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text

    def token(match: re.Match[str]) -> str:
        templates.append(match.group(0))
        return f"\ue000{len(templates) - 1}\ue001"

    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is not None:
            stripped = line.lstrip(" \t>")
            if stripped.startswith(fence) and not stripped.lstrip(fence[0]).strip():
                fence = None
            out.append(line)
            continue
        if ("`" in line or "~" in line) and (opened := _FENCE_OPEN.match(line)):
            marker = opened.group(1)
            if marker[0] == "~" or "`" not in line[opened.end() :]:
                fence = marker
                out.append(line)
                continue
        if "{" not in line:
            out.append(line)
        elif "`" not in line:
            out.append(_TEMPLATE.sub(token, line))
        else:
            parts: list[str] = []
            position = 0
            for span in _CODE_SPAN.finditer(line):
                parts.append(_TEMPLATE.sub(token, line[position : span.start()]))
                parts.append(span.group(0))
                position = span.end()
            parts.append(_TEMPLATE.sub(token, line[position:]))
            out.append("".join(parts))
    return "\n".join(out)


def _untoken(text: str, templates: list[str]) -> str:
    if "\ue000" not in text:
        return text
    return TEMPLATE_TOKEN.sub(
        lambda m: templates[int(m.group(1))] if int(m.group(1)) < len(templates) else "",
        text,
    )


def _flatten_toc(tokens: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    flat: list[tuple[int, str, str]] = []
    for token in tokens:
        flat.append((int(token["level"]), unescape(str(token["name"])), str(token["id"])))
        flat.extend(_flatten_toc(token.get("children", [])))
    return flat


# ------------------------------------------------------------ markdown setup


@dataclass
class _RenderState:
    nonce: str
    dark: bool
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (language, code) by key
    steps: list[tuple[int, str, str, list[int]]] = field(default_factory=list)

    def fence(
        self,
        source: str,
        language: str,
        class_name: str,
        options: dict[str, Any],
        md: markdown.Markdown,
        **kwargs: Any,
    ) -> str:
        """superfences' formatter for every fenced block (custom fence ``*``)."""
        code = source[:-1] if source.endswith("\n") else source
        language = (language or "").strip()
        key = len(self.blocks)
        self.blocks.append((language, code))
        # The block's HTML is trusted (escaped by pygments) and spliced in after sanitising,
        # so the sanitiser does not re-parse every highlighted span.
        return f'<div class="codeblock">\ue002{key}\ue003</div>'

    def code_html(self, key: int, index: int) -> str:
        language, code = self.blocks[key]
        colours = palette(self.dark)
        label = escape(language or "text")
        return (
            f'<table class="code" width="100%" cellpadding="6" cellspacing="0" border="0" '
            f'bgcolor="{colours.code_background}">'
            # left: a long line widens the table, and a right-aligned Copy would scroll away
            f'<tr><td class="code-actions" align="left">'
            f'<a name="code-{index}" id="code-{index}"></a>{label} · '
            f'<a href="action:copy/{index}">Copy</a></td></tr>'
            f'<tr><td><pre class="hl"><code class="language-{escape(_css_word(language))}">'
            f"{_highlight(code, language)}</code></pre></td></tr></table>"
        )


def _css_word(language: str) -> str:
    return re.sub(r"[^\w\-]", "", language, flags=re.ASCII) or "text"


_FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=128)
def _lexer(language: str) -> Lexer:
    if language:
        try:
            lexer: Lexer = get_lexer_by_name(language.lower(), stripnl=False, ensurenl=False)
            return lexer
        except ClassNotFound:
            pass
    plain: Lexer = TextLexer(stripnl=False, ensurenl=False)
    return plain


def _highlight(code: str, language: str) -> str:
    if not language or not code:
        return escape(code, quote=False)
    return str(highlight(code, _lexer(language), _FORMATTER))


def _slugify(value: str, separator: str) -> str:
    slug = str(slugify_unicode(value, separator))
    return f"section-{slug}" if RESERVED_ANCHOR.match(slug) else slug


def _markdown(state: _RenderState) -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            "tables",
            "toc",
            "admonition",
            "attr_list",
            "sane_lists",
            "pymdownx.details",
            "pymdownx.superfences",
            _RunbookExtension(state),
        ],
        extension_configs={
            "tables": {"use_align_attribute": True},
            "toc": {"slugify": _slugify},
            "pymdownx.superfences": {
                "custom_fences": [{"name": "*", "class": "code", "format": state.fence}],
            },
        },
        output_format="html",
    )


class _RunbookExtension(Extension):
    def __init__(self, state: _RenderState) -> None:
        super().__init__()
        self._state = state

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (markdown's API)
        # After inline (20), attr_list (8) and toc (5): links, ids and slugs are in place.
        md.treeprocessors.register(_RunbookTree(md, self._state), "responder_runbook", 4)


class _RunbookTree(Treeprocessor):
    """Steps, heading anchors, admonitions as tables, bordered markdown tables."""

    def __init__(self, md: markdown.Markdown, state: _RenderState) -> None:
        super().__init__(md)
        self._state = state

    def run(self, root: Element) -> None:
        elements = list(root.iter())
        for element in elements:
            if element.tag == "table" and not element.get("class"):
                element.attrib.update(
                    {"class": "grid", "border": "1", "cellspacing": "0", "cellpadding": "4"}
                )
            elif element.tag in _HEADINGS and element.get("id"):
                _prepend_anchor(element, {"name": element.get("id", "")})
        for element in elements:
            classes = (element.get("class") or "").split()
            if element.tag == "div" and "admonition" in classes:
                kind = next((c for c in classes if c != "admonition"), "note")
                title = next(
                    (c for c in element if c.tag == "p" and c.get("class") == "admonition-title"),
                    None,
                )
                self._as_table(element, kind.lower(), title)
            elif element.tag == "details":
                kind = classes[0].lower() if classes else "note"
                self._as_table(element, kind, element.find("summary"))
        self._steps(root)

    def _as_table(self, element: Element, kind: str, title: Element | None) -> None:
        children = [child for child in element if child is not title]
        text, tail = element.text, element.tail
        element.clear()
        element.tag = "table"
        element.attrib.update(
            {
                "class": f"admonition {_css_word(kind)}",
                "width": "100%",
                "cellpadding": "8",
                "cellspacing": "0",
                "border": "0",
                "bgcolor": palette(self._state.dark).admonition(kind),
            }
        )
        if title is not None and (title.text or len(title)):
            cell = SubElement(SubElement(element, "tr"), "td")
            cell.set("class", "admonition-title")
            cell.text = title.text
            cell.extend(list(title))
        body = SubElement(SubElement(element, "tr"), "td")
        body.text = text
        body.extend(children)
        element.tail = tail

    def _steps(self, root: Element) -> None:
        """Number the steps and tie each code block to its step: a block inside the
        step's list item, or one written after the step's list (before the next
        step or heading) — the layout plain-Markdown runbooks use."""
        section: str | None = None
        section_level = 0
        number = 0
        open_step: list[int] | None = None  # code keys of the step a block may follow
        for element in root:
            if element.tag in _HEADINGS:
                open_step = None
                level = int(element.tag[1])
                title = " ".join("".join(element.itertext()).split())
                if STEP_SECTION.match(title):
                    section, section_level = title, level
                elif section is not None and level <= section_level:
                    section = None
            elif element.tag == "ol" and section is not None:
                items = [child for child in element if child.tag == "li"]
                if not items:
                    continue
                element.set("start", str(number + 1))
                for item in items:
                    number += 1
                    raw = "".join(item.itertext())
                    keys = self._code_keys(raw)
                    # code spans are stored escaped (&lt;pid&gt;): the step text is plain text
                    text = " ".join(unescape(HTML_PLACEHOLDER_RE.sub(" ", raw)).split())
                    self._state.steps.append((number, section, text, keys))
                    open_step = keys
                    anchor = f"step-{number}"
                    item.set("id", anchor)
                    item.set("data-rc", self._state.nonce)
                    _prepend_anchor(item, {"name": anchor, "data-rc": self._state.nonce})
            elif open_step is not None and section is not None:
                open_step.extend(self._code_keys("".join(element.itertext())))

    def _code_keys(self, raw: str) -> list[int]:
        """Indexes of the code blocks whose stash placeholders appear in ``raw``."""
        stash = self.md.htmlStash.rawHtmlBlocks
        return [
            int(code.group(1))
            for placeholder in HTML_PLACEHOLDER_RE.finditer(raw)
            if int(placeholder.group(1)) < len(stash)
            for code in CODE_TOKEN.finditer(str(stash[int(placeholder.group(1))]))
        ]


def _prepend_anchor(element: Element, attributes: dict[str, str]) -> None:
    anchor = Element("a", attributes)
    anchor.tail = element.text
    element.text = None
    element.insert(0, anchor)
