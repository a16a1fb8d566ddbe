"""The layered drawing of the dependency map (Sugiyama's method, kept small).

1. **Cycles**: a depth-first search in the given node order marks the edges that
   close a cycle; they are drawn but ignored for layering (``reversed_edges``).
2. **Layers** by longest path: a node with no dependencies sits on the bottom
   layer, every other one just above its highest dependency, so databases and
   queues end up at the bottom and customer-facing services at the top.
   Nodes with no edge at all get a row of their own below everything.
3. **Order** within layers: barycentre sweeps (down using the dependents above,
   up using the dependencies below, positions normalised by layer width so long
   edges count too), keeping the order with the fewest crossings between
   adjacent layers (counted exactly by inversion counting).
4. **Coordinates**: one row per layer, wrapped after ``max_row`` nodes so a layer of
   500 databases does not make the map 80,000 pixels wide; rows centred.

Pure Python over hashable node ids; 2,000 nodes and 8,000 edges take well under
a second (tests/benchmarks ``graph_first_paint_2k`` reports the figure).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

N = TypeVar("N", bound=Hashable)

NODE_WIDTH = 168.0
NODE_HEIGHT = 40.0
X_GAP = 28.0
ROW_GAP = 26.0
LAYER_GAP = 90.0
MAX_ROW = 36
SWEEPS = 6
#: above this many nodes a sweep costs ~40 ms and gains little after the third
LARGE = 600
LARGE_SWEEPS = 3


@dataclass
class Layout(Generic[N]):
    #: centre of each node
    positions: dict[N, tuple[float, float]] = field(default_factory=dict)
    #: layer index of each node (0 = top); isolated nodes are on the last layer
    layer_of: dict[N, int] = field(default_factory=dict)
    #: nodes of each layer, left to right (before wrapping into rows)
    layers: list[list[N]] = field(default_factory=list)
    #: edges (dependent, dependency) ignored for layering because they close a cycle
    reversed_edges: set[tuple[N, N]] = field(default_factory=set)
    width: float = 0.0
    height: float = 0.0
    #: crossings between adjacent layers before and after ordering
    crossings_before: int = 0
    crossings: int = 0


def layered_layout(
    nodes: Sequence[N],
    edges: Iterable[tuple[N, N]],
    *,
    max_row: int = MAX_ROW,
    sweeps: int | None = None,
    node_width: float = NODE_WIDTH,
    node_height: float = NODE_HEIGHT,
) -> Layout[N]:
    """Lay out ``nodes`` with ``edges`` as (dependent, dependency) pairs."""
    known = dict.fromkeys(nodes)
    down: dict[N, list[N]] = defaultdict(list)
    up: dict[N, list[N]] = defaultdict(list)
    pairs: list[tuple[N, N]] = []
    for dependent, dependency in edges:
        if dependent == dependency or dependent not in known or dependency not in known:
            continue
        pairs.append((dependent, dependency))
        down[dependent].append(dependency)
        up[dependency].append(dependent)
    layout: Layout[N] = Layout()
    layout.reversed_edges = _back_edges(nodes, down)
    rank = _longest_path_ranks(nodes, down, layout.reversed_edges)
    connected = [n for n in nodes if down.get(n) or up.get(n)]
    isolated = [n for n in nodes if not (down.get(n) or up.get(n))]
    top = max((rank[n] for n in connected), default=0)
    layers: list[list[N]] = [[] for _ in range(top + 1)] if connected else []
    for node in _initial_order(connected, up, down):
        layers[top - rank[node]].append(node)
    if isolated:
        layers.append(sorted(isolated, key=_name_key))
    for index, layer in enumerate(layers):
        for node in layer:
            layout.layer_of[node] = index
    between = _adjacent(pairs, layout.layer_of)
    layout.crossings_before = _crossings(layers, between)
    if sweeps is None:
        sweeps = SWEEPS if len(known) <= LARGE else LARGE_SWEEPS
    layout.layers, layout.crossings = _order(
        layers, up, down, between, layout.crossings_before, layout.layer_of, sweeps
    )
    _place(layout, max_row, node_width, node_height)
    return layout


def _name_key(node: object) -> str:
    return str(node)


def _back_edges(nodes: Sequence[N], down: Mapping[N, Sequence[N]]) -> set[tuple[N, N]]:
    """Edges to a node still on the depth-first stack (they close a cycle)."""
    state: dict[N, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[N, N]] = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[N, int]] = [(root, 0)]
        while stack:
            node, at = stack[-1]
            children = down.get(node, ())
            if at < len(children):
                stack[-1] = (node, at + 1)
                child = children[at]
                seen = state.get(child)
                if seen is None:
                    state[child] = 1
                    stack.append((child, 0))
                elif seen == 1:
                    back.add((node, child))
            else:
                state[node] = 2
                stack.pop()
    return back


def _longest_path_ranks(
    nodes: Sequence[N], down: Mapping[N, Sequence[N]], ignored: set[tuple[N, N]]
) -> dict[N, int]:
    """0 for nodes without (kept) dependencies, else 1 + the highest dependency's rank."""
    rank: dict[N, int] = {}
    for root in nodes:
        if root in rank:
            continue
        stack: list[tuple[N, int]] = [(root, 0)]
        while stack:
            node, at = stack[-1]
            children = [c for c in down.get(node, ()) if (node, c) not in ignored]
            if at < len(children):
                stack[-1] = (node, at + 1)
                child = children[at]
                if child not in rank:
                    stack.append((child, 0))
                continue
            stack.pop()
            rank[node] = 1 + max((rank[c] for c in children), default=-1)
    return rank


def _initial_order(
    connected: Sequence[N], up: Mapping[N, Sequence[N]], down: Mapping[N, Sequence[N]]
) -> list[N]:
    """Depth-first from the nodes nobody depends on: related nodes start close together."""
    order: list[N] = []
    seen: set[N] = set()
    roots = [n for n in connected if not up.get(n)] + list(connected)
    for root in roots:
        if root in seen:
            continue
        stack = [root]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            order.append(node)
            stack.extend(reversed(down.get(node, ())))
    return order


def count_crossings(
    layers: Sequence[Sequence[N]],
    edges: Iterable[tuple[N, N]],
    layer_of: Mapping[N, int] | None = None,
) -> int:
    """Crossings between edges joining adjacent layers (inversion count per layer pair)."""
    if layer_of is None:
        layer_of = {n: i for i, layer in enumerate(layers) for n in layer}
    return _crossings(layers, _adjacent(edges, layer_of))


def _adjacent(
    edges: Iterable[tuple[N, N]], layer_of: Mapping[N, int]
) -> dict[int, list[tuple[N, N]]]:
    """The edges joining adjacent layers as (upper, lower), by the upper layer's index:
    fixed while only the order within layers changes, so computed once."""
    between: dict[int, list[tuple[N, N]]] = defaultdict(list)
    for a, b in edges:
        la, lb = layer_of.get(a), layer_of.get(b)
        if la is None or lb is None or abs(la - lb) != 1:
            continue
        between[min(la, lb)].append((a, b) if la < lb else (b, a))
    return between


def _crossings(layers: Sequence[Sequence[N]], between: Mapping[int, list[tuple[N, N]]]) -> int:
    position = {n: p for layer in layers for p, n in enumerate(layer)}
    total = 0
    for pairs in between.values():
        placed = sorted((position[upper], position[lower]) for upper, lower in pairs)
        total += _inversions([lower for _, lower in placed])
    return total


def _inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j] (a Fenwick tree, O(n log n))."""
    if len(values) < 2:
        return 0
    size = max(values) + 2
    tree = [0] * (size + 1)
    count = 0
    for seen, value in enumerate(values):
        # how many seen so far are <= value
        i, not_greater = value + 1, 0
        while i > 0:
            not_greater += tree[i]
            i -= i & -i
        count += seen - not_greater
        i = value + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _order(
    layers: list[list[N]],
    up: Mapping[N, Sequence[N]],
    down: Mapping[N, Sequence[N]],
    between: Mapping[int, list[tuple[N, N]]],
    crossings: int,
    layer_of: Mapping[N, int],
    sweeps: int,
) -> tuple[list[list[N]], int]:
    best = [list(layer) for layer in layers]
    best_crossings = crossings
    current = [list(layer) for layer in layers]
    misses = 0
    for _ in range(sweeps):
        if best_crossings == 0:
            break
        for index in range(1, len(current)):  # top to bottom: look at the dependents above
            current[index] = _barycentre(current[index], up, current, layer_of, index, above=True)
        for index in range(len(current) - 2, -1, -1):  # bottom up: the dependencies below
            current[index] = _barycentre(
                current[index], down, current, layer_of, index, above=False
            )
        crossings = _crossings(current, between)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in current], crossings
            misses = 0
        else:
            misses += 1
            if misses == 2:  # twice no better: further sweeps only oscillate
                break
    return best, best_crossings


def _barycentre(
    layer: list[N],
    neighbours: Mapping[N, Sequence[N]],
    layers: Sequence[Sequence[N]],
    layer_of: Mapping[N, int],
    index: int,
    *,
    above: bool,
) -> list[N]:
    """``layer`` sorted by the mean normalised position of its neighbours on the side
    looked at; a node without such neighbours keeps its own normalised position."""
    width = max(len(layer) - 1, 1)
    relative: dict[N, float] = {}
    for other in {layer_of[n] for node in layer for n in neighbours.get(node, ())}:
        if (other < index) if above else (other > index):
            members = layers[other]
            span = max(len(members) - 1, 1)
            relative.update((n, p / span) for p, n in enumerate(members))
    keyed: list[tuple[float, int, N]] = []
    for position, node in enumerate(layer):
        seen = [relative[n] for n in neighbours.get(node, ()) if n in relative]
        key = sum(seen) / len(seen) if seen else position / width
        keyed.append((key, position, node))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [node for _, _, node in keyed]


def _place(layout: Layout[N], max_row: int, node_width: float, node_height: float) -> None:
    rows: list[tuple[int, list[N]]] = []  # (layer index, nodes)
    for index, layer in enumerate(layout.layers):
        for start in range(0, len(layer), max_row):
            rows.append((index, layer[start : start + max_row]))
    widest = max((len(row) for _, row in rows), default=0)
    full = widest * node_width + max(widest - 1, 0) * X_GAP
    y = node_height / 2
    previous_layer: int | None = None
    for index, row in rows:
        if previous_layer is not None:
            y += node_height + (LAYER_GAP if index != previous_layer else ROW_GAP)
        previous_layer = index
        used = len(row) * node_width + max(len(row) - 1, 0) * X_GAP
        x = (full - used) / 2 + node_width / 2
        for node in row:
            layout.positions[node] = (x, y)
            x += node_width + X_GAP
    layout.width = full
    layout.height = y + node_height / 2 if rows else 0.0
