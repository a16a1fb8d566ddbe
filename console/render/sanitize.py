"""An allow-list HTML sanitizer over the HTML python-markdown produces (stdlib ``html.parser``).

Every byte of a rendered runbook goes through :class:`Sanitizer`, the markup
the renderer generates itself included, so the result is safe even in a naive
viewer: no script, no event handler, no remote load, no link with a scheme
other than http(s)/mailto/tel, relative paths and in-document anchors.

* Allowed tags keep only allowed attributes (no ``style``, no ``on*``).
* Script-like elements (:data:`DROP_WITH_CONTENT`) go with their content;
  dangerous void or wrapper tags (:data:`DROP_TAG`) go, their content stays.
* Any other tag is shown as text (``<hostname>`` in prose stays readable).
* ``<a href>``: http(s)/mailto/tel get ``class="external"``, the full URL as
  ``title`` and a ``↗`` mark (the UI confirms before it opens them); any other
  scheme becomes a non-navigating ``<span class="blocked-link">``.
* ``<img src>``: remote (http, https, ``//host``) images are never loaded,
  they become the text ``[image: alt — remote image not loaded: URL]``.
* Markup the renderer generates itself carries ``data-rc="<nonce>"`` (a
  fresh secret per render): only that markup may use ``action:`` links (copy
  a code block) and name a code block anchor. Authored HTML cannot forge it.

Before Markdown runs, :func:`neutralise_raw_html` takes the author's script-like
elements out of the source (see there): an unclosed ``<script>`` would otherwise
turn the rest of the runbook into one raw HTML block, or into content this
sanitizer drops with the element.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from typing import Literal

from console.render.chunks import fenced_lines

LinkKind = Literal["web", "mail", "tel", "anchor", "relative", "template", "blocked"]

#: Tags kept (with filtered attributes).
ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
)
VOID_TAGS = frozenset({"br", "hr", "img"})
#: Removed together with everything inside them.
DROP_WITH_CONTENT = frozenset(
    [
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "noscript",
        "noembed",
        "template",
        "svg",
        "math",
        "textarea",
        "select",
        "video",
        "audio",
        "canvas",
        "applet",
        "title",
        "head",
        "xml",
        # raw-text elements of HTML5 (a browser shows the rest of the page as their text)
        "xmp",
        "plaintext",
        "listing",
        "noframes",
    ]
)
#: Removed; their content (sanitised) stays.
DROP_TAG = frozenset(
    [
        "object",
        "embed",
        "form",
        "input",
        "button",
        "link",
        "meta",
        "base",
        "param",
        "source",
        "track",
        "area",
        "map",
        "option",
        "optgroup",
        "label",
        "fieldset",
        "legend",
        "html",
        "body",
    ]
)
#: Known harmless HTML whose tag is dropped silently, content kept (not shown as text).
UNWRAP_SILENTLY = frozenset(
    [
        "center",
        "font",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "main",
        "aside",
        "figure",
        "figcaption",
        "picture",
        "big",
        "tt",
        "nobr",
        "mark",
        "cite",
        "q",
        "var",
        "samp",
        "time",
        "wbr",
        "col",
        "colgroup",
    ]
)
_WARN_DROPPED_TAG = DROP_TAG - {"html", "body", "option", "optgroup", "label", "legend"}

_GLOBAL_ATTRS = frozenset({"id", "class", "title"})
_TAG_ATTRS: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "name"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "td": frozenset({"colspan", "rowspan", "align", "valign", "bgcolor", "width"}),
    "th": frozenset({"colspan", "rowspan", "align", "valign", "bgcolor", "width"}),
    "tr": frozenset({"align", "valign", "bgcolor"}),
    "table": frozenset({"width", "cellpadding", "cellspacing", "border", "bgcolor", "align"}),
    "ol": frozenset({"start"}),
    "details": frozenset({"open"}),
    "p": frozenset({"align"}),
    "div": frozenset({"align"}),
    **{f"h{level}": frozenset({"align"}) for level in range(1, 7)},
}
_NUMBER = re.compile(r"\d{1,4}%?\Z")
_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}\Z")
_ALIGN = frozenset({"left", "right", "center", "justify", "top", "middle", "bottom"})
_NAME_CHARS = re.compile(r"[^\w\-:.]", re.ASCII)
_CLASS_CHARS = re.compile(r"[^\w\- ]", re.ASCII)

#: Browsers ignore ASCII whitespace and control characters anywhere in a scheme.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|jpg|gif);base64,[A-Za-z0-9+/=\s]*\Z", re.I)
_CSS_URL = re.compile(r"url\s*\(|expression\s*\(", re.I)

#: Anchor names the renderer owns; authored HTML and heading slugs never get them.
RESERVED_ANCHOR = re.compile(r"(?:step|code)-\d", re.ASCII)

#: Template placeholders (Hugo, Go/Helm, Jinja) as written, and a code span on one line
TEMPLATE_PLACEHOLDER = re.compile(r"\{\{[<%].*?[%>]\}\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
CODE_SPAN = re.compile(r"(`+)(?!`).*?[^`]\1(?!`)")
#: Template placeholders are protected before markdown sees them (see markdown.py).
TEMPLATE_TOKEN = re.compile("\ue000(\\d+)\ue001")
#: Fenced code blocks are rendered by the renderer itself and spliced in by token.
CODE_TOKEN = re.compile("\ue002(\\d+)\ue003")

_CODE_CONTEXT = frozenset({"code", "pre", "kbd"})


@dataclass(frozen=True)
class Link:
    """A link target found in the runbook: ``kind`` says what the UI may do with it."""

    target: str
    text: str
    kind: LinkKind


def classify_url(raw: str) -> tuple[LinkKind, str]:
    """``(kind, url)``: the kind of a link target and the URL to keep (stripped)."""
    url = raw.strip()
    squeezed = _IGNORED_IN_SCHEME.sub("", url)
    if TEMPLATE_TOKEN.search(squeezed) or "{{" in squeezed or "{%" in squeezed:
        return "template", url
    if not squeezed:
        return "relative", url
    if squeezed.startswith("#"):
        return "anchor", url
    if squeezed[:2] in ("//", "\\\\", "/\\", "\\/"):
        return "blocked", url  # protocol-relative: a remote host without saying so
    match = _SCHEME.match(squeezed)
    if match is None:
        return "relative", url
    scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        return "web", url
    if scheme == "mailto":
        return "mail", url
    if scheme == "tel":
        return "tel", url
    return "blocked", url


def short(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


class Sanitizer(HTMLParser):
    """Feed HTML, read :attr:`html`, :attr:`links`, :attr:`warnings` and :attr:`code_order`."""

    def __init__(
        self,
        *,
        nonce: str,
        templates: Sequence[str],
        code_block: Callable[[int, int], str],
    ) -> None:
        super().__init__(convert_charrefs=True)
        self._nonce = nonce
        self._code_block = code_block  # (block key, final index) → its trusted HTML
        self._templates = templates  # template placeholder texts, by token number
        self._out: list[str] = []
        self._skip: str | None = None  # tag being dropped with its content
        self._skip_depth = 0
        self._open: dict[str, int] = {}
        self._closers: list[str] = []  # what </a> turns into, innermost last
        self._link_text: list[list[str]] = []
        self._link_meta: list[tuple[str, LinkKind] | None] = []
        self._code_depth = 0
        self.links: list[Link] = []
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        #: code block key (from the formatter) → final index, in document order
        self.code_order: dict[int, int] = {}

    # ------------------------------------------------------------------ output

    @property
    def html(self) -> str:
        return "".join(self._out)

    def mark(self) -> int:
        """A position in the output, for :meth:`html_since` (feeding goes on in parts)."""
        return len(self._out)

    def html_since(self, mark: int) -> str:
        return "".join(self._out[mark:])

    def finish(self) -> None:
        self.close()
        for closer in reversed(self._closers):
            self._out.append(closer)
        self._closers.clear()

    def warn(self, message: str) -> None:
        """Add a warning found before sanitising (see :func:`neutralise_raw_html`)."""
        self._warn(message)

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.warnings.append(message)

    # ------------------------------------------------------------------ events

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip is not None:
            if tag == self._skip:
                self._skip_depth += 1
            return
        if tag in DROP_WITH_CONTENT:
            self._warn(f"removed <{tag}>")
            if tag not in VOID_TAGS:
                self._skip, self._skip_depth = tag, 1
            return
        if tag in DROP_TAG:
            if tag in _WARN_DROPPED_TAG:
                self._warn(f"removed <{tag}>")
            return
        if tag in UNWRAP_SILENTLY:
            return
        if tag not in ALLOWED_TAGS:
            self._text(self.get_starttag_text() or f"<{tag}>")
            return
        trusted = any(name == "data-rc" and value == self._nonce for name, value in attrs)
        kept = self._attributes(tag, attrs, trusted)
        if tag == "a":
            self._start_link(kept, trusted)
            return
        if tag == "img":
            self._image(kept)
            return
        self._emit_start(tag, kept)
        if tag in VOID_TAGS:
            return
        self._open[tag] = self._open.get(tag, 0) + 1
        if tag in _CODE_CONTEXT:
            self._code_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if (tag not in VOID_TAGS and tag in ALLOWED_TAGS and self._skip is None) or (
            tag in DROP_WITH_CONTENT and self._skip == tag
        ):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip is not None:
            if tag == self._skip:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip = None
            return
        if tag in DROP_WITH_CONTENT or tag in DROP_TAG or tag in UNWRAP_SILENTLY:
            return
        if tag not in ALLOWED_TAGS:
            self._text(f"</{tag}>")
            return
        if tag in VOID_TAGS:
            return
        if tag == "a":
            self._end_link()
            return
        if not self._open.get(tag):
            return  # a stray end tag: dropped
        self._open[tag] -= 1
        if tag in _CODE_CONTEXT:
            self._code_depth -= 1
        self._out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._skip is None:
            self._text(data)

    def handle_comment(self, data: str) -> None:
        pass  # comments (and conditional comments with what they hide) are dropped

    def handle_decl(self, decl: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        pass

    # ------------------------------------------------------------------ pieces

    def _untoken(self, text: str) -> str:
        """``text`` with template tokens put back as the literal placeholders."""
        if "\ue000" not in text:
            return text
        return TEMPLATE_TOKEN.sub(lambda m: self._template_text(int(m.group(1))), text)

    def _template_text(self, number: int) -> str:
        return self._templates[number] if number < len(self._templates) else "\ufffd"

    def _text(self, data: str) -> None:
        if self._link_text:
            self._link_text[-1].append(self._untoken(data))
        if "\ue002" in data:
            self._code_tokens(data)
            return
        if "\ue000" not in data:
            self._out.append(escape(data, quote=False))
            return
        position = 0
        in_code = self._code_depth > 0
        for match in TEMPLATE_TOKEN.finditer(data):
            self._out.append(escape(data[position : match.start()], quote=False))
            literal = escape(self._untoken(match.group(0)), quote=False)
            self._out.append(literal if in_code else f'<code class="template">{literal}</code>')
            position = match.end()
        self._out.append(escape(data[position:], quote=False))

    def _attributes(
        self, tag: str, attrs: list[tuple[str, str | None]], trusted: bool
    ) -> dict[str, str]:
        allowed = _TAG_ATTRS.get(tag, frozenset())
        kept: dict[str, str] = {}
        for name, raw_value in attrs:
            value = "" if raw_value is None else self._untoken(raw_value)
            if name.startswith("on"):
                self._warn(f"removed event handler {name} on <{tag}>")
                continue
            if name == "style":
                if _CSS_URL.search(value):
                    self._warn(f"removed style with url() on <{tag}>")
                continue
            if name == "data-rc":
                continue
            if name not in _GLOBAL_ATTRS and name not in allowed:
                continue
            clean = _clean_attribute(name, value)
            if not trusted and name in ("id", "name") and clean and RESERVED_ANCHOR.match(clean):
                continue  # step-N / code-N anchors belong to the renderer
            if clean is not None:
                kept[name] = clean
        if trusted:
            kept["data-rc"] = self._nonce
        return kept

    def _emit_start(self, tag: str, attrs: dict[str, str]) -> None:
        parts = [f"<{tag}"]
        for name, value in attrs.items():
            if name == "data-rc":
                continue
            parts.append(f' {name}="{escape(value, quote=True)}"')
        parts.append(">")
        self._out.append("".join(parts))

    def _start_link(self, attrs: dict[str, str], trusted: bool) -> None:
        href = attrs.pop("href", None)
        if trusted:
            self._trusted_link(attrs, href)
            return
        if href is None:
            self._emit_start("a", attrs)  # a bare named anchor
            self._push_link("</a>", None)
            return
        kind, url = classify_url(href)
        if kind in ("web", "mail", "tel"):
            attrs["class"] = (attrs.get("class", "") + " external").strip()
            attrs["title"] = url
            self._emit_start("a", {"href": url, **attrs})
            self._push_link(" ↗</a>", (url, kind))
        elif kind in ("anchor", "relative"):
            self._emit_start("a", {"href": url, **attrs})
            self._push_link("</a>", (url, kind))
        else:
            if kind == "template":
                self._warn(f"template link not resolved: {short(url)}")
            else:
                self._warn(f"blocked link {short(url)}")
            attrs.pop("name", None)
            attrs["class"] = "blocked-link"
            attrs["title"] = f"not opened: {url}"
            self._emit_start("span", attrs)
            self._push_link("</span>", (url, kind))

    def _trusted_link(self, attrs: dict[str, str], href: str | None) -> None:
        # The renderer's own anchors (step-N): a name, never an href.
        self._emit_start("a", attrs)
        self._push_link("</a>", None)

    def _code_tokens(self, data: str) -> None:
        position = 0
        for match in CODE_TOKEN.finditer(data):
            self._text(data[position : match.start()])
            key = int(match.group(1))
            if key not in self.code_order:  # a block appears once; a repeated token is dropped
                index = self.code_order[key] = len(self.code_order)
                self._out.append(self._code_block(key, index))
            position = match.end()
        self._text(data[position:])

    def _push_link(self, closer: str, meta: tuple[str, LinkKind] | None) -> None:
        self._closers.append(closer)
        self._link_meta.append(meta)
        self._link_text.append([])

    def _end_link(self) -> None:
        if not self._closers:
            return
        self._out.append(self._closers.pop())
        meta = self._link_meta.pop()
        text = " ".join("".join(self._link_text.pop()).split())
        if self._link_text:
            self._link_text[-1].append(text)
        if meta is not None:
            self.links.append(Link(meta[0], text, meta[1]))

    def _image(self, attrs: dict[str, str]) -> None:
        src = attrs.get("src", "")
        alt = attrs.get("alt", "")
        kind, url = classify_url(src)
        if kind == "relative" and url:
            self._emit_start("img", attrs)
            return
        if kind == "blocked" and _DATA_IMAGE.match(_IGNORED_IN_SCHEME.sub("", url)):
            self._emit_start("img", attrs)
            return
        if kind == "web" or url.startswith(("//", "\\\\")):
            note = f"remote image not loaded: {url}"
            self._warn(f"blocked remote image {short(url)}")
        elif not url:
            note = "no image source"
        else:
            note = f"image not loaded: {short(url)}"
            self._warn(f"blocked image {short(url)}")
        placeholder = escape(f"[image: {alt} — {note}]", quote=False)
        self._out.append(f'<span class="image-placeholder">{placeholder}</span>')


def _clean_attribute(name: str, value: str) -> str | None:
    if name in ("id", "name"):
        clean = _NAME_CHARS.sub("", value)[:200]
        return clean or None
    if name == "class":
        return _CLASS_CHARS.sub("", value)[:200] or None
    if name in ("colspan", "rowspan", "cellpadding", "cellspacing", "border", "start"):
        return value.strip() if value.strip().isdigit() and len(value.strip()) <= 4 else None
    if name in ("width", "height"):
        return value.strip() if _NUMBER.match(value.strip()) else None
    if name == "bgcolor":
        return value.strip() if _COLOR.match(value.strip()) else None
    if name in ("align", "valign"):
        return value.strip().lower() if value.strip().lower() in _ALIGN else None
    if name == "open":
        return "open"
    return value  # href, src, alt, title: escaped on output, URLs checked by the caller


# ------------------------------------------------------------ before Markdown

_DANGER_TAG = re.compile(
    r"<(/?)(" + "|".join(sorted(DROP_WITH_CONTENT, key=len, reverse=True)) + r")(?=[\s/>]|$)"
    r"[^>\n]*>?",
    re.IGNORECASE,
)


def neutralise_raw_html(text: str) -> tuple[str, list[str]]:
    """``text`` with the author's script-like elements (:data:`DROP_WITH_CONTENT`)
    removed, and a warning for each kind removed. Code (fenced blocks, code spans)
    and template placeholders are left as written: they are shown escaped.

    An element goes with its content, as the sanitizer drops it, but its content
    never reaches past its paragraph (the next blank line): one the author did not
    close there ends there, and what follows stays Markdown. Before, an unclosed
    ``<script>``, ``<style>``, ``<iframe>``, ``<textarea>``, ``<title>`` or
    ``<noscript>`` made Markdown read the rest of the document as one raw HTML
    block, and an HTML parser (an HTML5 one too: most are raw-text elements)
    reads the rest as the element's text, so the steps and code blocks after it
    were lost from the view. A stray end tag is dropped.
    """
    if _DANGER_TAG.search(text) is None:  # nearly every runbook: one C-speed scan
        return text, []
    lines = text.split("\n")
    fenced = fenced_lines(lines)
    warnings: list[str] = []
    out: list[str] = []
    block: list[str] = []
    for line, in_fence in zip(lines, fenced, strict=True):
        if in_fence:
            if block:
                out.append(_neutralise_block("\n".join(block), warnings))
                block = []
            out.append(line)
        else:
            block.append(line)
    if block:
        out.append(_neutralise_block("\n".join(block), warnings))
    return "\n".join(out), warnings


def _neutralise_block(text: str, warnings: list[str]) -> str:
    """One stretch of lines outside fences (paragraphs split at blank lines here)."""
    if _DANGER_TAG.search(text) is None:
        return text
    return "".join(
        _neutralise_paragraph(part, warnings) if index % 2 == 0 else part
        for index, part in enumerate(_BLANK_SPLIT.split(text))
    )


_BLANK_SPLIT = re.compile(r"(\n[ \t]*\n)")


def _neutralise_paragraph(text: str, warnings: list[str]) -> str:
    if _DANGER_TAG.search(text) is None:
        return text
    # code spans and template placeholders are shown as written: left alone
    code = [(m.start(), m.end()) for m in CODE_SPAN.finditer(text)]
    if "{" in text:
        code += [(m.start(), m.end()) for m in TEMPLATE_PLACEHOLDER.finditer(text)]

    def in_code(position: int) -> bool:
        return any(start <= position < end for start, end in code)

    out: list[str] = []
    position = 0
    while True:
        found = _DANGER_TAG.search(text, position)
        while found is not None and in_code(found.start()):
            found = _DANGER_TAG.search(text, found.end())
        if found is None:
            break
        out.append(text[position : found.start()])
        position = found.end()
        name = found.group(2).lower()
        if found.group(1):
            continue  # a stray end tag: dropped
        message = f"removed <{name}>"
        if message not in warnings:
            warnings.append(message)
        closer = re.compile(rf"</{name}\s*>", re.IGNORECASE)
        close = closer.search(text, position)
        while close is not None and in_code(close.start()):
            close = closer.search(text, close.end())
        # the element goes with its content, which ends at its end tag or, never
        # closed there, at the end of its paragraph
        position = close.end() if close is not None else len(text)
    out.append(text[position:])
    return "".join(out)
