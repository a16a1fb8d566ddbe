"""A small, strict template language for communication and postmortem templates.

A template is a Markdown file with a flat front matter block::

    ---
    title: Status page — investigating
    audience: status page
    ---
    **Investigating** — we are looking into {{ title }} ...

``{{ name }}`` inserts a variable; ``{{{{`` and ``}}}}`` would be hard to read, so a
literal brace pair is not supported. Anything else is refused with the file and
line: an unknown variable, a ``{{`` never closed on its line, a stray ``}}``, a
name that is not a variable name, a front matter never closed or without title.
Refusing at load time means a template that would print ``{{ sevrity }}`` to a
customer never reaches the picker.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from console.domain.oncall import Refusal
from console.domain.times import parse_zone

MAX_TEMPLATE_BYTES = 256 * 1024
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Template:
    id: str  # the file name without .md: a user file of the same name overrides
    title: str
    audience: str
    body: str
    path: str
    user: bool = False  # from the user's folder, not the shipped one
    #: front matter ``timezone:`` (local, UTC or an IANA name) for the times its
    #: readers see; empty: the zone the person drafting chose
    timezone: str = ""

    def render(self, values: Mapping[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1).strip(), ""), self.body)


def parse_template(
    text: str, *, path: str, known: Iterable[str], template_id: str | None = None
) -> Template:
    """Parse one template; raise :class:`TemplateError` naming the line on any problem."""
    names = frozenset(known)
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise TemplateError(path, 1, "expected front matter ('---', then 'title: ...')")
    meta: dict[str, str] = {}
    end = None
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            end = number
            break
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon or not _NAME.match(key.strip()):
            raise TemplateError(path, number, f"front matter line is not 'key: value': {line!r}")
        meta[key.strip()] = value.strip().strip("\"'")
        if key.strip() == "timezone":
            try:
                parse_zone(meta["timezone"])
            except ValueError as error:
                raise TemplateError(path, number, str(error)) from error
    if end is None:
        raise TemplateError(path, 1, "front matter opened on line 1 is never closed with '---'")
    if not meta.get("title"):
        raise TemplateError(path, 1, "front matter has no 'title'")
    body_lines = lines[end:]
    for offset, line in enumerate(body_lines):
        _check_line(line, end + 1 + offset, path, names)
    body = "\n".join(body_lines).strip("\n") + "\n"
    return Template(
        id=template_id or Path(path).stem,
        title=meta["title"],
        audience=meta.get("audience", ""),
        body=body,
        path=path,
        timezone=meta.get("timezone", ""),
    )


def _check_line(line: str, number: int, path: str, names: frozenset[str]) -> None:
    position = 0
    for match in _PLACEHOLDER.finditer(line):
        if "}}" in line[position : match.start()]:
            raise TemplateError(path, number, "'}}' without an opening '{{'")
        name = match.group(1).strip()
        if "{{" in name:
            raise TemplateError(path, number, "'{{' is not closed before the next '{{'")
        if not _NAME.match(name):
            raise TemplateError(path, number, f"'{match.group(0)}' is not a variable name")
        if name not in names:
            raise TemplateError(
                path,
                number,
                f"unknown variable '{name}'; known: {', '.join(sorted(names))}",
            )
        position = match.end()
    rest = line[position:]
    if "{{" in rest:
        raise TemplateError(path, number, "'{{' is not closed with '}}' on the same line")
    if "}}" in rest:
        raise TemplateError(path, number, "'}}' without an opening '{{'")


class TemplateError(Exception):
    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.refusal = Refusal(path, reason, line)


def load_folders(
    folders: Sequence[tuple[Path, bool]], known: Iterable[str]
) -> tuple[list[Template], list[Refusal]]:
    """Every ``*.md`` template in ``folders`` (``(folder, is_user)``, shipped first):
    a later folder's file of the same name replaces an earlier one. A bad file is
    refused (file and line) and the shipped one of the same name, if any, stays."""
    names = frozenset(known)
    chosen: dict[str, Template] = {}
    refused: list[Refusal] = []
    for folder, user in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            try:
                if path.stat().st_size > MAX_TEMPLATE_BYTES:
                    raise TemplateError(str(path), 1, "larger than 256 KB")
                text = path.read_text(encoding="utf-8")
                template = parse_template(text, path=str(path), known=names)
            except TemplateError as error:
                refused.append(error.refusal)
                continue
            except UnicodeDecodeError:
                refused.append(Refusal(str(path), "not UTF-8 text"))
                continue
            except OSError as error:
                refused.append(Refusal(str(path), f"cannot be read ({error.strerror})"))
                continue
            chosen[template.id] = dataclasses.replace(template, user=user)
    return list(chosen.values()), refused


_MD_INLINE = re.compile(r"(\*\*|__|`)(.+?)\1")
_MD_EMPHASIS = re.compile(r"(?<![\w*])[*_](?![\s*_])(.+?)(?<![\s*_])[*_](?![\w*])")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def markdown_to_plain(text: str) -> str:
    """Markdown as plain text for a status page or e-mail box that takes no markup:
    headings, bold, italics and code marks dropped, links as ``text (url)``."""
    text = _MD_HEADING.sub("", text)
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _MD_INLINE.sub(lambda m: m.group(2), text)
    return _MD_EMPHASIS.sub(lambda m: m.group(1), text)
