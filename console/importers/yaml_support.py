"""YAML loading shared by the importers: the fast loader, and errors with line numbers.

libyaml's safe loader is used when PyYAML was built with it (7x faster on a 10k
runbook import), else the pure-Python one. A refused document is parsed again by
the pure loader, whose marks point at the line the author got wrong (libyaml's
point at the end of the stream).
"""

from __future__ import annotations

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
