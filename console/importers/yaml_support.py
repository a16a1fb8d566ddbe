"""YAML loading shared by the importers: the fast loader, and errors with line numbers.

libyaml's safe loader is used when PyYAML was built with it (7x faster on a 10k
runbook import), else the pure-Python one. A refused document is parsed again by
the pure loader, whose marks point at the line the author got wrong (libyaml's
point at the end of the stream).
"""

from __future__ import annotations

import re

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Flow collections nested deeper than this are refused before parsing: libyaml
#: recurses on the C stack and crashes the process at about 30,000 levels (a
#: 60 kB file of brackets), the pure loader hits Python's recursion limit sooner.
MAX_NESTING = 500
_BRACKETS = re.compile(r"""[\[\]{}"'#\n]""")


def flow_nesting(text: str) -> int:
    """The deepest ``[``/``{`` nesting outside quoted strings and comments (an
    estimate good enough to refuse hostile input; real files stay below 10)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return 0  # cannot be deeper than the number of openers
    depth = deepest = 0
    quote: str | None = None
    comment = False
    for match in _BRACKETS.finditer(text):
        char = match.group()
        if comment:
            comment = char != "\n"
        elif quote is not None:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def too_deep(text: str) -> str | None:
    """A refusal reason when ``text`` nests flow collections beyond :data:`MAX_NESTING`."""
    depth = flow_nesting(text)
    if depth > MAX_NESTING:
        return f"nested too deeply ({depth} levels of [ ] or {{ }}; the limit is {MAX_NESTING})"
    return None


def yaml_error_reason(source: str, *, first_line: int = 1) -> str:
    """``" on line N: problem"`` for YAML that ``SAFE_LOADER`` refused; ``first_line`` is
    the file line of the source's first line (front matter starts on line 2)."""
    try:
        yaml.load(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f" on line {mark.line + first_line}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return f"{where}: {problem}"
    except RecursionError:
        return ": nested too deeply"
    return ": libyaml refused it"  # the two loaders disagree
