"""console.graph: reach with depth, strongly connected components, cycles, layered layout."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.graph.layout import Layout, count_crossings, layered_layout
from console.graph.traversal import Graph, find_cycles, reach, strongly_connected

#   web ──▶ api ──▶ db
#    │       └────▶ cache
#    └────▶ cdn
EDGES = [("web", "api"), ("api", "db"), ("api", "cache"), ("web", "cdn")]


def test_blast_radius_and_suspects_with_depth_and_via() -> None:
    graph = Graph(EDGES)
    radius = graph.blast_radius("db")
    assert [(r.node, r.depth, r.via) for r in radius] == [("api", 1, "db"), ("web", 2, "api")]
    suspects = graph.suspects("web")
    assert [(r.node, r.depth) for r in suspects] == [
        ("api", 1),
        ("cdn", 1),
        ("db", 2),
        ("cache", 2),
    ]
    assert graph.blast_radius("web") == []
    assert graph.suspects("db") == []
    assert graph.blast_radius("not-there") == []


def test_max_depth_stops_the_walk() -> None:
    graph = Graph(EDGES)
    assert [r.node for r in graph.blast_radius("db", max_depth=1)] == ["api"]
    assert [r.node for r in graph.suspects("web", max_depth=1)] == ["api", "cdn"]
    assert graph.suspects("web", max_depth=0) == []


def test_cycles_are_visited_once_at_their_shortest_depth() -> None:
    graph = Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("a", "d")])
    assert [(r.node, r.depth) for r in graph.suspects("a")] == [("b", 1), ("d", 1), ("c", 2)]
    assert sorted(r.node for r in graph.blast_radius("a")) == ["b", "c"]


def test_diamond_reports_each_node_once_via_the_first_parent() -> None:
    graph = Graph([("top", "left"), ("top", "right"), ("left", "db"), ("right", "db")])
    radius = graph.blast_radius("db")
    assert [(r.node, r.depth, r.via) for r in radius] == [
        ("left", 1, "db"),
        ("right", 1, "db"),
        ("top", 2, "left"),
    ]


def test_reach_asks_for_whole_frontiers() -> None:
    asked: list[list[int]] = []
    edges = {1: [2, 3], 2: [4], 3: [4, 5]}

    def step(frontier: Sequence[int]) -> list[tuple[int, int]]:
        asked.append(list(frontier))
        return [(n, m) for n in frontier for m in edges.get(n, [])]

    found = reach(1, step)
    assert [(r.node, r.depth) for r in found] == [(2, 1), (3, 1), (4, 2), (5, 2)]
    assert asked == [[1], [2, 3], [4, 5]]  # one call per level: one SQL query per level


def test_strongly_connected_components() -> None:
    successors = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["e"], "e": ["d"], "f": []}
    components = strongly_connected(["a", "b", "c", "d", "e", "f"], successors)
    assert sorted(sorted(c) for c in components) == [["a", "b", "c"], ["d", "e"], ["f"]]
    # reverse topological: d/e (reached from c) come before a/b/c
    order = [sorted(c) for c in components]
    assert order.index(["d", "e"]) < order.index(["a", "b", "c"])


def test_find_cycles_gives_a_closed_path_per_component() -> None:
    successors = {"a": ["b"], "b": ["c", "a"], "c": ["a"], "x": ["y"], "y": ["x"], "z": ["z"]}
    cycles = find_cycles(["a", "b", "c", "x", "y", "z"], successors)
    assert len(cycles) == 2  # the self-loop is the caller's to report
    for cycle in cycles:
        for current, following in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
            assert following in successors[current]
    assert find_cycles(["a", "b"], {"a": ["b"]}) == []


def test_a_long_chain_needs_no_recursion() -> None:
    n = 5000
    successors = {i: [i + 1] for i in range(n)}
    successors[n] = [0]  # one cycle through all of them
    components = strongly_connected(range(n + 1), successors)
    assert len(components) == 1
    assert len(components[0]) == n + 1
    assert len(find_cycles(range(n + 1), successors)[0]) == n + 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), max_size=60))
def test_reach_matches_a_plain_bfs(edges: list[tuple[int, int]]) -> None:
    graph = Graph(edges, range(16))
    for start in range(16):
        expected: dict[int, int] = {}
        frontier, depth, seen = [start], 0, {start}
        while frontier:
            depth += 1
            following = []
            for node in frontier:
                for a, b in edges:
                    if a == node and b not in seen:
                        seen.add(b)
                        expected[b] = depth
                        following.append(b)
            frontier = following
        assert {r.node: r.depth for r in graph.suspects(start)} == expected


# ------------------------------------------------------------------ layout


def test_layers_put_dependencies_below_their_dependents() -> None:
    layout = layered_layout(["web", "api", "db", "cache", "cdn", "lonely"], EDGES)
    layer = layout.layer_of
    for dependent, dependency in EDGES:
        assert layer[dependent] < layer[dependency]
    assert layer["db"] == layer["cache"]  # both have no dependencies: the bottom layer
    assert layer["lonely"] == max(layer.values())  # isolated nodes get a row below all
    assert layout.layers[layer["lonely"]] == ["lonely"]
    for dependent, dependency in EDGES:  # drawn top to bottom
        assert layout.positions[dependent][1] < layout.positions[dependency][1]
    assert layout.width > 0
    assert layout.height > 0


def test_cycles_are_laid_out_with_the_closing_edge_reversed() -> None:
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
    layout = layered_layout(nodes, edges)
    assert set(layout.positions) == set(nodes)
    assert len(layout.reversed_edges) == 1
    kept = [e for e in edges if e not in layout.reversed_edges]
    for dependent, dependency in kept:
        assert layout.layer_of[dependent] < layout.layer_of[dependency]


def test_self_loops_and_unknown_nodes_are_ignored() -> None:
    layout = layered_layout(["a", "b"], [("a", "a"), ("a", "b"), ("a", "ghost")])
    assert set(layout.positions) == {"a", "b"}
    assert layout.layer_of["a"] < layout.layer_of["b"]


def test_barycentre_ordering_removes_avoidable_crossings() -> None:
    # Two independent stacks, interleaved in the initial order: top1 over bottom1,
    # top2 over bottom2, but the bottoms start swapped.
    nodes = ["t1", "t2", "b2", "b1"]
    edges = [("t1", "b1"), ("t2", "b2")]
    layers = [["t1", "t2"], ["b2", "b1"]]
    assert count_crossings(layers, edges) == 1
    layout = layered_layout(nodes, edges)
    assert layout.crossings == 0
    assert count_crossings(layout.layers, edges) == 0


def test_ordering_never_ends_worse_than_it_started() -> None:
    rng = random.Random(7)
    tiers = [[f"n{t}-{i}" for i in range(25)] for t in range(5)]
    edges: set[tuple[str, str]] = set()
    while len(edges) < 300:
        t = rng.randrange(4)
        edges.add((rng.choice(tiers[t]), rng.choice(tiers[t + 1])))
    nodes = [n for tier in tiers for n in tier]
    layout = layered_layout(nodes, sorted(edges))
    assert layout.crossings <= layout.crossings_before
    assert layout.crossings < layout.crossings_before  # a random order is always improvable
    assert layout.crossings == count_crossings(layout.layers, sorted(edges))


def test_wide_layers_wrap_into_rows() -> None:
    nodes = ["top"] + [f"db{i}" for i in range(10)]
    edges = [("top", f"db{i}") for i in range(10)]
    layout = layered_layout(nodes, edges, max_row=4)
    rows = {layout.positions[f"db{i}"][1] for i in range(10)}
    assert len(rows) == 3  # 4 + 4 + 2
    assert layout.width == pytest.approx(4 * 168 + 3 * 28)


def test_inversion_count_matches_brute_force() -> None:
    rng = random.Random(3)
    for _ in range(30):
        lower = [rng.randrange(10) for _ in range(rng.randrange(0, 25))]
        upper = list(range(len(lower)))
        edges = [(f"u{i}", f"l{v}") for i, v in zip(upper, lower, strict=True)]
        layers = [[f"u{i}" for i in range(len(lower))], [f"l{v}" for v in range(10)]]
        brute = sum(
            1 for i in range(len(lower)) for j in range(i + 1, len(lower)) if lower[i] > lower[j]
        )
        assert count_crossings(layers, edges) == brute


def test_empty_graph() -> None:
    layout: Layout[str] = layered_layout([], [])
    assert layout.positions == {}
    assert layout.width == 0
    assert layout.height == 0
