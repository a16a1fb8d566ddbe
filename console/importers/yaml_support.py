"""YAML loading shared by the importers: nesting limits and the fast front-matter path.

Documents are loaded by :mod:`console.safe_yaml`'s loaders (libyaml's when
available, aliases bounded), and a refused one is described with its line by
:func:`console.safe_yaml.yaml_error_reason`; both are re-exported here.

Front matter in the plain subset nearly every runbook uses (``key: value``
lines, quoted scalars, ``[a, b]`` and ``- item`` lists) is read without
PyYAML's node graph by :func:`simple_mapping`, which still asks PyYAML's own
resolver and constructors what each scalar means; anything else goes to
PyYAML. It was half of an import's parsing time (1.6 s of 10,000 files).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from console.safe_yaml import (
    LOAD_ERRORS,
    MAX_NESTING,
    SAFE_LOADER,
    flow_nesting,
    too_deep,
    yaml_error_reason,
)

__all__ = [
    "LOAD_ERRORS",
    "MAX_NESTING",
    "SAFE_LOADER",
    "flow_nesting",
    "load_front_matter",
    "simple_mapping",
    "too_deep",
    "yaml_error_reason",
]

# ------------------------------------------------------------------ front matter, fast


#: A loader instance whose resolver and scalar constructors the fast path calls:
#: whatever it accepts gets PyYAML's own answer for every scalar.
_LOADER = SAFE_LOADER("")
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + kind for kind in ("str", "bool", "int", "float", "null", "timestamp")
)
#: a top-level ``key:`` line (the key plain and simple, its value on the line or below)
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?: +(.*))?")
#: a ``- item`` line of a block list, its indentation captured
_ITEM = re.compile(r"( *)- +(.*)")
_SINGLE = re.compile(r"'((?:[^']|'')*)' *")
_SINGLE_INSIDE = re.compile(r"(?:[^']|'')*")
_DOUBLE = re.compile(r'"([^"\\]*)" *')
#: characters a plain scalar cannot start with (or starts only in cases left to PyYAML)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`~")
#: what a plain item of a flow list must not hold (left to PyYAML)
_FLOW_UNSAFE = re.compile(r"[:#\[\]{}]")
#: anything the fast path leaves to PyYAML wherever it appears: tabs, carriage
#: returns and YAML 1.1's other line breaks, a BOM, characters YAML cannot hold
_ELSEWHERE = re.compile(
    "[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029]"
)


class _NotSimpleError(Exception):
    """The text is outside the subset :func:`simple_mapping` reads."""


def load_front_matter(source: str) -> Any:
    """``yaml.load(source, Loader=SAFE_LOADER)``, the same value, five times faster
    for the front matter real runbooks have (see :func:`simple_mapping`)."""
    simple = simple_mapping(source)
    if simple is not None:
        return simple
    return yaml.load(source, Loader=SAFE_LOADER)


def simple_mapping(source: str) -> dict[str, Any] | None:
    """The mapping ``source`` holds when it is written in the plain subset front
    matter nearly always is, else None (and then PyYAML reads it).

    The subset: ``key: value`` lines, keys of letters, digits, ``_.-``; values
    plain or 'single' quoted (continued on indented lines, as PyYAML writes long
    strings) or "double" quoted without escapes on one line, a flow list
    ``[a, b]`` of such scalars, or a block list of ``- item`` lines under an empty
    ``key:``; comment lines starting at the margin. Anything else (nesting,
    anchors, block scalars, blank lines inside a value, comments after a value,
    tabs) is not read here. Each scalar is resolved and constructed by PyYAML's own
    resolver and constructors, so ``yes``, ``010``, ``1:20`` and ``2026-01-02``
    mean what PyYAML says. A differential test holds the two to the same answer.
    """
    if _ELSEWHERE.search(source) is not None:
        return None
    try:
        return _read_mapping(source.split("\n"))
    except _NotSimpleError:
        return None


def _read_mapping(lines: list[str]) -> dict[str, Any] | None:
    mapping: dict[str, Any] = {}
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if not line.strip() or line[0] == "#":
            continue
        found = _KEY.fullmatch(line)
        if found is None:
            raise _NotSimpleError
        key = _plain(found.group(1))
        if not isinstance(key, str):
            raise _NotSimpleError  # yes:, null:, 12: are keys of other types
        value = (found.group(2) or "").rstrip(" ")
        if value:
            more = number  # indented lines right below continue a plain or 'quoted' value
            while number < len(lines) and lines[number][:1] == " " and lines[number].strip():
                number += 1
            if number > more:
                mapping[key] = _folded(value, lines[more:number])
            else:
                mapping[key] = _value(value, flow=False)
            continue
        items: list[Any] = []
        indent: str | None = None
        while number < len(lines):
            line = lines[number]
            if not line.strip():
                number += 1
                continue
            item = _ITEM.fullmatch(line)
            if item is None:
                if line[0] == " ":
                    raise _NotSimpleError  # nested mapping, continued scalar, indented comment
                break
            if indent is None:
                indent = item.group(1)
            elif item.group(1) != indent:
                raise _NotSimpleError
            items.append(_value(item.group(2).rstrip(" "), flow=False))
            number += 1
        mapping[key] = items if indent is not None else None
    return mapping or None


def _value(text: str, *, flow: bool) -> Any:
    """One scalar (or, outside a flow list, a flow list of scalars)."""
    first = text[:1]
    if first == "'":
        quoted = _SINGLE.fullmatch(text)
        if quoted is None:
            raise _NotSimpleError
        return quoted.group(1).replace("''", "'")
    if first == '"':
        quoted = _DOUBLE.fullmatch(text)
        if quoted is None:
            raise _NotSimpleError
        return quoted.group(1)
    if first == "[" and not flow and text.endswith("]"):
        inner = text[1:-1]
        if not inner.strip():
            return []
        # A quoted item holding a comma is cut in two, and its first half never
        # closes its quote: refused by the quoted patterns, as it should be.
        items = [item.strip(" ") for item in inner.split(",")]
        if not all(items):
            raise _NotSimpleError  # an empty item, a trailing comma
        return [_value(item, flow=True) for item in items]
    if not text or first in _INDICATORS or " #" in text or ": " in text or text.endswith(":"):
        raise _NotSimpleError
    if flow and _FLOW_UNSAFE.search(text) is not None:
        raise _NotSimpleError
    return _plain(text)


def _folded(first: str, more: list[str]) -> Any:
    """A plain or single-quoted value continued on indented lines (as PyYAML writes
    long strings): each line break between two lines is one space, the white space
    around it dropped."""
    if first[0] == "'":
        last = more[-1].rstrip(" ")
        if not last.endswith("'"):
            raise _NotSimpleError
        parts = [first[1:].rstrip(" "), *(m.strip(" ") for m in more[:-1]), last[:-1].lstrip(" ")]
        text = " ".join(parts)
        if not all(parts) or _SINGLE_INSIDE.fullmatch(text) is None:
            raise _NotSimpleError
        return text.replace("''", "'")
    parts = [first, *(m.strip(" ") for m in more)]
    if any(
        part[0] in _INDICATORS or " #" in part or ": " in part or part.endswith(":")
        for part in parts
    ):
        raise _NotSimpleError
    return _plain(" ".join(parts))


def _plain(text: str) -> Any:
    """A plain scalar as PyYAML resolves and constructs it (remembered: keys, service
    and alert names recur in most files, and every value constructed is immutable)."""
    try:
        return _PLAIN_SEEN[text]
    except KeyError:
        pass
    tag = _LOADER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if tag == _STR:
        value: Any = text
    elif tag in _SCALAR_TAGS:
        try:
            value = _LOADER.yaml_constructors[tag](_LOADER, yaml.ScalarNode(tag, text))
        except ValueError:
            raise _NotSimpleError from None  # 2026-13-45: PyYAML refuses it, in its own words
    else:
        raise _NotSimpleError  # '<<' and '=' (merge and value keys)
    if len(_PLAIN_SEEN) >= _PLAIN_SEEN_MAX:
        _PLAIN_SEEN.clear()
    _PLAIN_SEEN[text] = value
    return value


#: text → value of plain scalars already read (all of the few types above are
#: immutable, so one object can serve every file); a GIL-atomic dict, emptied
#: when full
_PLAIN_SEEN: dict[str, Any] = {}
_PLAIN_SEEN_MAX = 20_000
