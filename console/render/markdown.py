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

import itertools
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape, unescape
from typing import Any, NamedTuple
from xml.etree.ElementTree import Element, SubElement

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode, unique
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from console.render.chunks import CHUNK_CHARS, fenced_lines, split_runbook
from console.render.sanitize import (
    CODE_SPAN,
    CODE_TOKEN,
    RESERVED_ANCHOR,
    TEMPLATE_PLACEHOLDER,
    TEMPLATE_TOKEN,
    Link,
    Sanitizer,
    neutralise_raw_html,
)
from console.render.style import palette, stylesheet

#: Headings whose top-level numbered lists are steps (case-insensitive, leading numbering ok).
STEP_SECTION = re.compile(
    r"^[\W\d_]*(diagnos\w*|resol\w*|rollback|roll[ -]back\w*|mitigat\w*|remediat\w*)\b",
    re.IGNORECASE,
)

_TEMPLATE = TEMPLATE_PLACEHOLDER
_CODE_SPAN = CODE_SPAN
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


@dataclass(frozen=True)
class RenderedPart:
    """One chunk of a runbook, rendered: parts 0..N concatenated are the whole body.

    ``html`` is a sanitised body fragment (no ``<html>``/``<style>``: see
    :func:`page_head`); its code blocks, steps and toc anchors are numbered through
    the whole document. A step's ``commands`` hold the blocks known when the part
    was rendered; :class:`RunbookAssembly` completes them."""

    number: int
    html: str
    source_end: int  # characters of the (normalised) source rendered so far
    source_total: int
    toc: tuple[TocEntry, ...]
    steps: tuple[Step, ...]
    code_blocks: tuple[CodeBlock, ...]
    links: tuple[Link, ...]
    warnings: tuple[str, ...]

    @property
    def last(self) -> bool:
        return self.source_end >= self.source_total

    @property
    def progress(self) -> float:
        """0..1: the share of the source rendered once this part is shown."""
        return self.source_end / self.source_total if self.source_total else 1.0

    def anchors(self) -> frozenset[str]:
        """The renderer's anchors in this part: headings, steps and code blocks."""
        return frozenset(
            [entry.anchor for entry in self.toc]
            + [f"step-{step.number}" for step in self.steps]
            + [f"code-{block.index}" for block in self.code_blocks]
        )


# ----------------------------------------------------------------- rendering


def render_runbook(markdown_text: str, *, dark: bool = False) -> RenderedRunbook:
    """Render ``markdown_text`` (the body, front matter already removed) safely; never raises
    on any text. The whole document at once: :func:`render_progressively`, assembled."""
    assembly = RunbookAssembly(dark=dark)
    for part in render_progressively(markdown_text, dark=dark):
        assembly.add(part)
    return assembly.result()


def render_progressively(
    markdown_text: str, *, dark: bool = False, chunk_chars: int = CHUNK_CHARS
) -> Iterator[RenderedPart]:
    """Render ``markdown_text`` chunk by chunk (see :mod:`console.render.chunks`), the
    first screen first. One markdown instance, one sanitiser and one numbering run
    through all chunks, so the parts together equal the whole-document render."""
    text = _UNSAFE_INPUT.sub("\ufffd", markdown_text.replace("\r\n", "\n").replace("\r", "\n"))
    # before the split: an unclosed <script> is a raw HTML block the split cannot cut
    text, removed = neutralise_raw_html(text)
    split = split_runbook(text, limit=chunk_chars)
    renderer = _ChunkRenderer(dark=dark, total=len(text), warnings=removed)
    for number in range(len(split)):
        yield renderer.render(
            number, split.source(number), split.end(number), last=number == len(split) - 1
        )


def page_head(dark: bool) -> str:
    """What comes before the parts' HTML in a whole page (the stylesheet)."""
    return "<html><head><style>" + stylesheet(dark) + '</style></head><body class="runbook">'


PAGE_TAIL = "</body></html>"


class RunbookAssembly:
    """Collects parts in order; :meth:`result` is the runbook as far as rendered
    (the whole :class:`RenderedRunbook` once the last part is in)."""

    def __init__(self, *, dark: bool = False) -> None:
        self.dark = dark
        self._html: list[str] = []
        self._toc: list[TocEntry] = []
        self._steps: list[Step] = []
        self._blocks: list[CodeBlock] = []
        self._links: list[Link] = []
        self._warnings: list[str] = []
        self.anchors: set[str] = set()
        self.source_end = 0
        self.source_total = 0
        self.complete = False

    @property
    def parts(self) -> int:
        return len(self._html)

    def add(self, part: RenderedPart) -> None:
        self._html.append(part.html)
        self._toc.extend(part.toc)
        self._steps.extend(part.steps)
        self._blocks.extend(part.code_blocks)
        self._links.extend(part.links)
        self._warnings.extend(part.warnings)
        self.anchors |= part.anchors()
        self.source_end, self.source_total = part.source_end, part.source_total
        self.complete = part.last

    def steps(self) -> tuple[Step, ...]:
        """The steps so far, each with every code block tied to it so far."""
        commands: dict[int, list[CodeBlock]] = {}
        for block in self._blocks:
            if block.step is not None:
                commands.setdefault(block.step, []).append(block)
        return tuple(
            step
            if len(step.commands) == len(commands.get(step.number, ()))
            else Step(step.number, step.section, step.text, tuple(commands[step.number]))
            for step in self._steps
        )

    def result(self) -> RenderedRunbook:
        return RenderedRunbook(
            html=page_head(self.dark) + "".join(self._html) + PAGE_TAIL,
            toc=tuple(self._toc),
            steps=self.steps(),
            code_blocks=tuple(self._blocks),
            links=tuple(self._links),
            warnings=tuple(self._warnings),
        )


class _ChunkRenderer:
    """Renders the chunks of one document in order, keeping its numbering global."""

    def __init__(self, *, dark: bool, total: int, warnings: list[str]) -> None:
        self._total = total
        self._early_warnings = warnings  # from before Markdown: the first part's
        self._templates: list[str] = []
        self._state = _RenderState(nonce=secrets.token_hex(8), dark=dark)
        self._md = _markdown(self._state)
        self._sanitizer = Sanitizer(
            nonce=self._state.nonce, templates=self._templates, code_block=self._state.code_html
        )
        self._code_seen = 0
        self._fed = False

    def render(self, number: int, source: str, end: int, *, last: bool) -> RenderedPart:
        state, sanitizer, templates = self._state, self._sanitizer, self._templates
        steps_before = len(state.steps)
        links_before, warnings_before = len(sanitizer.links), len(sanitizer.warnings)
        html_before = sanitizer.mark()
        for message in self._early_warnings:
            sanitizer.warn(message)
        self._early_warnings = []
        self._md.reset()
        body = self._md.convert(protect_templates(source, templates))
        toc = tuple(
            TocEntry(level, _untoken(title, templates), anchor)
            for level, title, anchor in _flatten_toc(getattr(self._md, "toc_tokens", []))
        )
        state.used_ids.update(entry.anchor for entry in toc)
        if body and self._fed:  # markdown puts a newline between blocks, chunks too
            body = "\n" + body
        self._fed = self._fed or bool(body)
        sanitizer.feed(body)
        if last:
            sanitizer.finish()

        step_of: dict[int, int] = {}
        for step_number, _section, _text, keys in state.steps:
            for key in keys:
                step_of.setdefault(key, step_number)
        new_order = list(itertools.islice(sanitizer.code_order.items(), self._code_seen, None))
        self._code_seen += len(new_order)
        by_key: dict[int, CodeBlock] = {}
        for key, index in new_order:
            language, code = state.blocks[key]
            by_key[key] = CodeBlock(index, language, code, step_of.get(key))
        steps = tuple(
            Step(
                step_number,
                section,
                _untoken(text, templates),
                tuple(by_key[key] for key in keys if key in by_key),
            )
            for step_number, section, text, keys in state.steps[steps_before:]
        )
        return RenderedPart(
            number=number,
            html=sanitizer.html_since(html_before),
            source_end=end,
            source_total=self._total,
            toc=toc,
            steps=steps,
            code_blocks=tuple(by_key[key] for key, _index in new_order),
            links=tuple(sanitizer.links[links_before:]),
            warnings=tuple(sanitizer.warnings[warnings_before:]),
        )


def protect_templates(text: str, templates: list[str]) -> str:
    """Swap template placeholders outside code for tokens; ``templates[n]`` is token n's text."""
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text

    def token(match: re.Match[str]) -> str:
        templates.append(match.group(0))
        return f"\ue000{len(templates) - 1}\ue001"

    lines = text.split("\n")
    fenced = fenced_lines(lines)  # the code blocks superfences will see
    out: list[str] = []
    for index, line in enumerate(lines):
        if fenced[index]:
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
    # carried from chunk to chunk: the step section we are in, the last step number,
    # the code keys of the step a following block joins, the anchors taken
    section: str | None = None
    section_level: int = 0
    number: int = 0
    open_step: list[int] | None = None
    used_ids: set[str] = field(default_factory=set)

    def slugify(self, value: str, separator: str) -> str:
        """toc's slugify, unique through the whole document (toc only sees one chunk)."""
        return unique(_slugify(value, separator), self.used_ids)

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
            "toc": {"slugify": state.slugify},
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
        step or heading) — the layout plain-Markdown runbooks use. The section, the
        numbering and the open step carry over from the previous chunk (in the state)."""
        state = self._state
        for element in root:
            if element.tag in _HEADINGS:
                state.open_step = None
                level = int(element.tag[1])
                title = " ".join("".join(element.itertext()).split())
                if STEP_SECTION.match(title):
                    state.section, state.section_level = title, level
                elif state.section is not None and level <= state.section_level:
                    state.section = None
            elif element.tag == "ol" and state.section is not None:
                items = [child for child in element if child.tag == "li"]
                if not items:
                    continue
                element.set("start", str(state.number + 1))
                for item in items:
                    state.number += 1
                    number = state.number
                    raw = "".join(item.itertext())
                    keys = self._code_keys(raw)
                    # code spans are stored escaped (&lt;pid&gt;): the step text is plain text
                    text = " ".join(unescape(HTML_PLACEHOLDER_RE.sub(" ", raw)).split())
                    state.steps.append((number, state.section, text, keys))
                    state.open_step = keys
                    anchor = f"step-{number}"
                    item.set("id", anchor)
                    item.set("data-rc", state.nonce)
                    _prepend_anchor(item, {"name": anchor, "data-rc": state.nonce})
            elif state.open_step is not None and state.section is not None:
                state.open_step.extend(self._code_keys("".join(element.itertext())))

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
