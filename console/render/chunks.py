"""Split a runbook's Markdown into chunks that render independently (no Qt).

A chunk boundary is a place where python-markdown starts a new top-level block
whatever came before, so rendering the chunks one by one gives the same blocks
as rendering the whole text:

* preferably before a ``#``/``##`` heading at column 0 that follows a blank
  line (a top-level section);
* as a fallback, in a section longer than the limit, before a line that
  follows a blank line and cannot continue the block above it: not indented
  (list continuation, indented code, admonition body), not a list marker (the
  list's next item), not ``>`` (python-markdown merges adjacent quotes), not
  ``<`` / ``{`` / ``|`` / ``:`` (raw HTML, attribute lists, tables), not a
  link definition (it leaves no block, so a list before it and one after it
  are one list);
* never inside a fenced code block (superfences' rules: see :func:`_scan`), an
  HTML comment or a raw HTML block that begins at the start of a line (its tag
  counted until it closes). An unclosed comment or block runs to the end of the
  text, so nothing after it is ever a boundary: the rest is one chunk.

Sections are packed greedily into chunks of at most ``limit`` characters; a
chunk grows past the limit only when no boundary exists within it.

Reference-style link definitions (``[label]: url "title"``) are global in
Markdown: they are collected once (the last definition of a label wins, as in
python-markdown) and :meth:`SplitRunbook.source` appends to a chunk the ones
whose label appears in it in brackets. Abbreviations and footnotes are not
enabled in the renderer, so there is nothing else global to carry.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from markdown.blockprocessors import ReferenceProcessor
from markdown.util import BLOCK_LEVEL_ELEMENTS

#: Characters per chunk: ~50 ms of rendering on a laptop, more than a screen of text.
CHUNK_CHARS = 16_000

_FENCE_OPEN = re.compile(r"[ \t>]*(`{3,}|~{3,})")
_HTML_BLOCK = re.compile(r" {0,3}<([A-Za-z][A-Za-z0-9-]*)")
_LIST_MARKER = re.compile(r"(?:[*+-]|\d{1,9}[.)])(?:[ \t]|$)")
_REFERENCE_START = re.compile(r" {0,3}\[[^\[\]]*\]:")
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")
_UNSAFE_FIRST = frozenset(" \t>|<{:")
_RESCANS = 64  # abandoned fences re-scanned; past that the rest is one chunk (never wrong)
_VOID = frozenset({"hr", "br", "img", "input", "meta", "link", "area", "base", "col", "wbr"})
_BLOCK_TAGS = frozenset(BLOCK_LEVEL_ELEMENTS) - _VOID


@dataclass(frozen=True)
class SplitRunbook:
    """``text`` cut at ``cuts`` (offsets, first 0, last ``len(text)``) and its references."""

    text: str
    cuts: tuple[int, ...]
    references: dict[str, str]  # label (lower case) → the definition's source text
    open_end: bool  # the text ends inside a fence, comment or raw HTML block

    def __len__(self) -> int:
        return len(self.cuts) - 1

    def end(self, number: int) -> int:
        """Offset in :attr:`text` where chunk ``number`` ends."""
        return self.cuts[number + 1]

    def raw(self, number: int) -> str:
        return self.text[self.cuts[number] : self.cuts[number + 1]]

    def source(self, number: int) -> str:
        """Chunk ``number`` with the link definitions it uses from elsewhere."""
        raw = self.raw(number)
        if not self.references or "[" not in raw:
            return raw
        used: set[str] = set()
        for match in _BRACKETED.finditer(raw):
            label = match.group(1).lower().replace("\n", " ")
            used.add(label)
            used.add(label.strip())
        definitions = [self.references[label] for label in sorted(used & self.references.keys())]
        if not definitions:
            return raw
        block = "\n".join(definitions)
        last = number == len(self) - 1
        if last and self.open_end:  # after the chunk they would land inside its open fence
            return f"{block}\n\n{raw}"
        return f"{raw}\n\n{block}\n"


def split_runbook(text: str, *, limit: int = CHUNK_CHARS) -> SplitRunbook:
    """Cut ``text`` (newlines normalised to ``\\n``) into chunks of about ``limit`` characters."""
    sections, fallbacks, references, open_end = _scan(text)
    cuts = [0]
    start = 0
    total = len(text)
    while total - start > limit:
        bound = start + limit
        end = _last_between(sections, start, bound) or _last_between(fallbacks, start, bound)
        if end is None:
            end = _first_after(sections, fallbacks, bound)
            if end is None:
                break
        cuts.append(end)
        start = end
    cuts.append(total)
    if total == 0:
        cuts = [0, 0]
    return SplitRunbook(text, tuple(cuts), references, open_end)


def _last_between(points: list[int], start: int, bound: int) -> int | None:
    """The last point in (start, bound]."""
    index = bisect_right(points, bound) - 1
    return points[index] if index >= 0 and points[index] > start else None


def _first_after(sections: list[int], fallbacks: list[int], bound: int) -> int | None:
    found = [
        points[i]
        for points in (sections, fallbacks)
        if (i := bisect_left(points, bound)) < len(points)
    ]
    return min(found) if found else None


def _scan(text: str) -> tuple[list[int], list[int], dict[str, str], bool]:
    """One pass over the lines: section and fallback boundaries, link definitions, and
    whether the text ends inside a comment / raw HTML block.

    Fences follow superfences: the closing fence is the opening one exactly, at the
    same indentation; a less indented line abandons the fence, and so does the end
    of the text. An abandoned fence's lines (up to the one that abandoned it) are
    plain text where superfences opens no fence; a chunk starting among them could,
    so they hold no boundary. The scan goes over them again for comments, raw HTML
    and link definitions (at most :data:`_RESCANS` times; then a fence runs to the end)."""
    sections: list[int] = []
    fallbacks: list[int] = []
    references: dict[str, str] = {}
    lines = text.split("\n")
    starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    fence: tuple[str, re.Pattern[str], int] | None = None  # prefix, closing line, opened at
    plain_until = 0  # lines before it were in an abandoned fence: no fence, no boundary
    rescans = 0
    in_comment = False
    html_tag: str | None = None
    html_depth = 0
    after_blank = True
    number = 0
    while number < len(lines) or (fence is not None and rescans < _RESCANS):
        if number >= len(lines):  # the text ended inside a fence: it was no fence
            assert fence is not None
            plain_until, number = len(lines), _abandon(fence, sections, fallbacks, starts)
            fence, after_blank, rescans = None, False, rescans + 1
            continue
        line = lines[number]
        number += 1
        if fence is not None:
            if not line.strip():
                continue
            prefix, closing, _opened = fence
            if len(line) - len(line.lstrip(" \t>")) < len(prefix) and rescans < _RESCANS:
                plain_until, number = number, _abandon(fence, sections, fallbacks, starts)
                fence, after_blank, rescans = None, False, rescans + 1
            elif closing.match(line, len(prefix)):
                fence = None
            continue
        if in_comment:
            if "-->" in line:
                in_comment = False
                after_blank = False
            continue
        if html_tag is not None:
            html_depth += _tag_balance(html_tag, line)
            if html_depth <= 0:
                html_tag = None
                after_blank = False
            continue
        blank = not line.strip()
        if after_blank and not blank and number > 1 and number > plain_until:
            if line.startswith("#") and not line.startswith("###"):
                sections.append(starts[number - 1])
            elif (
                line[0] not in _UNSAFE_FIRST
                and not _LIST_MARKER.match(line)
                and not _REFERENCE_START.match(line)  # leaves no block: lists around it merge
            ):
                fallbacks.append(starts[number - 1])
        after_blank = blank
        if blank:
            continue
        if (
            ("`" in line or "~" in line)
            and number > plain_until
            and (opened := _FENCE_OPEN.match(line))
        ):
            marker = opened.group(1)
            if marker[0] == "~" or "`" not in line[opened.end() :]:
                closing = re.compile(re.escape(marker) + r"[ \t]*$")
                fence = (line[: opened.start(1)], closing, number - 1)
                continue
        if "<" not in line:
            if "[" in line and _REFERENCE_START.match(line):
                _reference(lines, number - 1, references)
            continue
        if (comment := line.rfind("<!--")) >= 0 and "-->" not in line[comment + 4 :]:
            in_comment = True
            continue
        if (block := _HTML_BLOCK.match(line)) and block.group(1).lower() in _BLOCK_TAGS:
            tag = block.group(1).lower()
            depth = _tag_balance(tag, line)
            if depth > 0:
                html_tag, html_depth = tag, depth
            continue
        if "[" in line and _REFERENCE_START.match(line):
            _reference(lines, number - 1, references)
    return sections, fallbacks, references, fence is not None or in_comment or html_tag is not None


def fenced_lines(lines: list[str]) -> list[bool]:
    """Which lines belong to a code block, by the fence rules of :func:`_scan`
    (superfences): a block closes only on its opening fence exactly, at the same
    indentation; a less indented line, or the end of the text, abandons it, and
    its lines up to there then open no fence."""
    inside = [False] * len(lines)
    plain_until = 0  # lines before it were in an abandoned fence: they open none
    number = 0
    while number < len(lines):
        line = lines[number]
        opened = (
            _FENCE_OPEN.match(line)
            if number >= plain_until and ("`" in line or "~" in line)
            else None
        )
        if opened is None or (opened.group(1)[0] == "`" and "`" in line[opened.end() :]):
            number += 1
            continue
        marker, prefix = opened.group(1), line[: opened.start(1)]
        closing = re.compile(re.escape(marker) + r"[ \t]*$")
        end = number + 1
        while end < len(lines):
            later = lines[end]
            if later.strip():
                if len(later) - len(later.lstrip(" \t>")) < len(prefix):
                    break  # abandoned by a less indented line
                if closing.match(later, len(prefix)):
                    inside[number : end + 1] = [True] * (end + 1 - number)
                    break
            end += 1
        if inside[number]:
            number = end + 1
        else:  # abandoned: plain text, the scan goes on after the opener
            plain_until, number = end + 1, number + 1
    return inside


def _abandon(
    fence: tuple[str, re.Pattern[str], int],
    sections: list[int],
    fallbacks: list[int],
    starts: list[int],
) -> int:
    """Forget the fence opened at ``fence[2]``; the line to scan next (the one after it)."""
    opened = fence[2]
    for points in (sections, fallbacks):  # none were recorded inside it: none at it either
        while points and points[-1] >= starts[opened]:
            points.pop()
    return opened + 1


def _tag_balance(tag: str, line: str) -> int:
    """Opening minus closing ``tag`` tags on ``line``."""
    lower = line.lower()
    if tag not in lower:
        return 0
    opened = len(re.findall(rf"<{tag}(?=[\s/>]|$)", lower))
    self_closed = len(re.findall(rf"<{tag}\b[^<>]*/>", lower))
    closed = len(re.findall(rf"</{tag}\s*>", lower))
    return opened - self_closed - closed


def _reference(lines: list[str], number: int, references: dict[str, str]) -> None:
    """Record the link definition starting at ``lines[number]`` (it may take 3 lines)."""
    candidate = "\n".join(lines[number : number + 3])
    match = ReferenceProcessor.RE.match(candidate)
    if match is None:
        match = ReferenceProcessor.RE.match(lines[number])
    if match is not None:
        references[match.group(1).strip().lower()] = match.group(0)
