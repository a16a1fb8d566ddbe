"""Reach (blast radius and suspects, with depth), strongly connected components, cycles.

One breadth-first :func:`reach` serves every caller: it asks a ``step`` function
for the edges leaving a whole frontier, so the same traversal runs over an
in-memory :class:`Graph` (the map, on every click) and over SQLite one indexed
query per level (the CLI and the side panel, see ``console.catalog``). Each node
is visited once, at its shortest depth, so cycles cost nothing extra.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

N = TypeVar("N", bound=Hashable)

#: frontier → the edges leaving it, as (node in the frontier, neighbour) pairs
Step = Callable[[Sequence[N]], Iterable[tuple[N, N]]]


@dataclass(frozen=True)
class Reach(Generic[N]):
    """``node`` is ``depth`` steps away; ``via`` is its neighbour one step closer."""

    node: N
    depth: int
    via: N


def reach(start: N, step: Step[N], *, max_depth: int | None = None) -> list[Reach[N]]:
    """Everything reachable from ``start`` (itself excluded), nearest first.

    ``via`` is the first neighbour (in ``step``'s order) that reached the node,
    so a deterministic ``step`` gives a deterministic answer.
    """
    seen = {start}
    frontier: list[N] = [start]
    found: list[Reach[N]] = []
    depth = 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        following: list[N] = []
        for source, target in step(frontier):
            if target not in seen:
                seen.add(target)
                found.append(Reach(target, depth, source))
                following.append(target)
        frontier = following
    return found


class Graph(Generic[N]):
    """Dependency edges ``(dependent, dependency)`` held both ways for fast reach."""

    def __init__(self, edges: Iterable[tuple[N, N]], nodes: Iterable[N] = ()) -> None:
        self._down: dict[N, list[N]] = defaultdict(list)  # dependent → its dependencies
        self._up: dict[N, list[N]] = defaultdict(list)  # dependency → its dependents
        self._nodes: dict[N, None] = dict.fromkeys(nodes)
        for dependent, dependency in edges:
            self._down[dependent].append(dependency)
            self._up[dependency].append(dependent)
            self._nodes.setdefault(dependent)
            self._nodes.setdefault(dependency)

    @property
    def nodes(self) -> list[N]:
        return list(self._nodes)

    def dependencies(self, node: N) -> list[N]:
        return list(self._down.get(node, ()))

    def dependents(self, node: N) -> list[N]:
        return list(self._up.get(node, ()))

    def blast_radius(self, node: N, *, max_depth: int | None = None) -> list[Reach[N]]:
        """Everything that depends on ``node``, transitively: what breaks with it."""
        return reach(node, _stepper(self._up), max_depth=max_depth)

    def suspects(self, node: N, *, max_depth: int | None = None) -> list[Reach[N]]:
        """Everything ``node`` depends on, transitively: what could have caused it."""
        return reach(node, _stepper(self._down), max_depth=max_depth)

    def successors(self) -> Mapping[N, Sequence[N]]:
        return self._down


def _stepper(adjacency: Mapping[N, Sequence[N]]) -> Step[N]:
    def step(frontier: Sequence[N]) -> Iterator[tuple[N, N]]:
        for node in frontier:
            for neighbour in adjacency.get(node, ()):
                yield node, neighbour

    return step


def strongly_connected(nodes: Iterable[N], successors: Mapping[N, Sequence[N]]) -> list[list[N]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit on a
    2,000-deep chain). Components come in reverse topological order."""
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    on_stack: set[N] = set()
    stack: list[N] = []
    components: list[list[N]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[N, Iterator[N]]] = [(root, iter(successors.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[N] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def find_cycles(nodes: Iterable[N], successors: Mapping[N, Sequence[N]]) -> list[list[N]]:
    """One cycle (as a path ``a, b, c`` meaning a → b → c → a) per strongly connected
    component of two or more nodes. Self-loops are left to the caller."""
    cycles: list[list[N]] = []
    for component in strongly_connected(nodes, successors):
        if len(component) < 2:
            continue
        members = set(component)
        start = component[-1]  # the component's root in Tarjan's order
        # Shortest way back to start inside the component (BFS), as a path.
        parents: dict[N, N] = {}
        frontier = [start]
        closing: N | None = None
        while frontier and closing is None:
            following: list[N] = []
            for node in frontier:
                for child in successors.get(node, ()):
                    if child == start and node != start:
                        closing = node
                        break
                    if child in members and child not in parents:
                        parents[child] = node
                        following.append(child)
                if closing is not None:
                    break
            frontier = following
        if closing is None:  # cannot happen in a component of two or more
            continue
        path = [closing]
        while path[-1] != start:
            path.append(parents[path[-1]])
        cycles.append(list(reversed(path)))
    return cycles
