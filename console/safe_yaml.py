"""The one way the console reads YAML: safe tags only, and aliases on a budget.

Every YAML file the console reads (runbook front matter, catalogs, checklist
templates, packs' copies of those, the shipped demo workspace) is loaded by the
loaders here. They are PyYAML's safe loaders (libyaml's when PyYAML was built
with it) with one check added between composing a document and constructing it:

An alias (``*name``) makes the node it names appear once more wherever it is
used. PyYAML composes it as one shared node, so composing stays O(input), but
whatever walks the constructed value afterwards (``json.dumps`` of front
matter, the catalog's readers, a merge key ``<<:`` flattening its sources)
sees every copy: nine lines of "billion laughs" (421 bytes) become 10^9 values
and gigabytes of memory. So, before anything is constructed, the composed node
graph is walked once (each distinct node visited once, its expanded size
remembered) and a document whose aliases add more than
:data:`MAX_ALIAS_NODES` nodes to what the file itself holds, or that holds an
alias to a node that contains it (a loop), is refused with the line of the
node where it happens. Small anchors, like ``<<: *defaults`` merges in
Kubernetes and catalog files, are far below the budget.

The check runs after composition rather than counting aliases inside the
composer because libyaml's composer is C code a subclass cannot hook; the
walk works the same for both loaders (the pure one re-parses refused text for
its better error marks, see :func:`yaml_error_reason`) and is skipped when the
text holds no ``*`` at all (no alias possible).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

#: Nodes that aliases may add to one file (all its documents together) beyond
#: the nodes the file holds. 10,000 is a few MB of values at most, and a hundred
#: times what the largest real catalog file's merges need.
MAX_ALIAS_NODES = 10_000

#: what loading a document can raise besides success: the parser's errors (an
#: alias bomb is one of them, :class:`AliasExpansionError`), deep nesting, and a
#: constructor's ValueError (a timestamp such as 2026-13-45)
LOAD_ERRORS = (yaml.YAMLError, RecursionError, ValueError)


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


class AliasExpansionError(yaml.MarkedYAMLError):
    """A document whose aliases expand beyond the budget, or loop."""


def check_aliases(root: Node, budget: int) -> int:
    """Raise :class:`AliasExpansionError` when expanding ``root``'s aliases adds
    more than ``budget`` nodes or loops; else return what is left of the budget.

    O(distinct nodes) time and memory: each node's expanded size is computed once
    (iteratively, so a deep document cannot exhaust the stack here)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    distinct = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in children)
            sizes[key] = size
            if size - distinct > budget:
                # the nodes below this one, each copy counted, outnumber every
                # distinct node read so far by more than the budget
                raise AliasExpansionError(
                    problem=(
                        f"aliases (*name) here take the file past {MAX_ALIAS_NODES:,}"
                        " nodes more than it holds (an alias bomb?); refused"
                    ),
                    problem_mark=node.start_mark,
                )
            continue
        if key in sizes:
            continue  # a node seen before: an alias, its size already known
        if key in on_path:
            raise AliasExpansionError(
                problem="an alias (*name) refers to a node that contains it (a loop); refused",
                problem_mark=node.start_mark,
            )
        distinct += 1
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            child_key = id(child)
            if child_key in on_path:
                raise AliasExpansionError(
                    problem="an alias (*name) refers to a node that contains it (a loop); refused",
                    problem_mark=child.start_mark,
                )
            if child_key not in sizes:
                stack.append((child, False))
    return budget - max(0, sizes[id(root)] - distinct)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


class _Bounded:
    """Mixin for a PyYAML loader: every composed document passes
    :func:`check_aliases` (the file's budget shared by its documents)."""

    def _start_budget(self, stream: object) -> None:
        self.alias_budget = MAX_ALIAS_NODES
        # no '*' in the text: no alias, nothing to walk (bytes and files are walked)
        self.may_alias = not isinstance(stream, str) or "*" in stream

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)  # type: ignore[call-arg]  # the loader after this mixin
        self._start_budget(stream)

    def _checked(self, node: Node | None) -> Node | None:
        if node is not None and self.may_alias:
            self.alias_budget = check_aliases(node, self.alias_budget)
        return node

    def get_node(self) -> Node | None:
        return self._checked(super().get_node())  # type: ignore[misc]

    def get_single_node(self) -> Node | None:
        return self._checked(super().get_single_node())  # type: ignore[misc]


class PureSafeLoader(_Bounded, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, aliases bounded (its error marks are the
    precise ones)."""


_CSafeLoader: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)

if _CSafeLoader is not None:

    class FastSafeLoader(_Bounded, _CSafeLoader):  # type: ignore[valid-type,misc]
        """libyaml's safe loader (7x faster on a 10k runbook import), aliases bounded."""

    SAFE_LOADER: type[yaml.SafeLoader] = FastSafeLoader
else:  # pragma: no cover - PyYAML without libyaml
    SAFE_LOADER = PureSafeLoader


class NestingError(yaml.YAMLError):
    """Flow collections nested deeper than :data:`MAX_NESTING`."""


def load(text: str) -> Any:
    """The value of the single YAML document in ``text``: safe tags, aliases bounded,
    nesting bounded. Raises one of :data:`LOAD_ERRORS`; describe it to the user with
    :func:`yaml_error_reason` (or ``str()`` for a :class:`NestingError`)."""
    deep = too_deep(text)
    if deep is not None:
        raise NestingError(deep)
    return yaml.load(text, Loader=SAFE_LOADER)


def yaml_error_reason(source: str, *, first_line: int = 1, single: bool = True) -> str:
    """``" on line N: problem"`` for YAML that :data:`SAFE_LOADER` refused; ``first_line``
    is the file line of the source's first line (front matter starts on line 2);
    ``single``: the source must hold one document (front matter), else any number.

    The text is parsed again by the pure loader, whose marks point at the line the
    author got wrong (libyaml's errors point at the end of the stream)."""
    try:
        loader = PureSafeLoader(source)
        try:
            if single:
                loader.get_single_data()
            else:
                while loader.check_node():
                    loader.construct_document(loader.get_node())
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f" on line {mark.line + first_line}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return f"{where}: {problem}"
    except RecursionError:
        return ": nested too deeply"
    except ValueError as error:
        return f": {error} (a date or time that does not exist?)"
    return ": libyaml refused it"  # the two loaders disagree
