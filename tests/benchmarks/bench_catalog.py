"""Service catalog benchmarks on a 2,000-service, 8,000-edge graph (quick: 120 / 480).

* ``blast_radius_2k`` — transitive dependents of the most depended-on data store
  through ``ServiceCatalog.dependents`` (breadth-first, one indexed query per level,
  depth and ``via`` kept) vs a raw SQLite recursive CTE doing the same traversal
  (``UNION``, no depth): the floor.
* ``graph_first_paint_2k`` — open the dependency map in a fresh process until its
  first paint (``tests/benchmarks/map_window.py``) vs the bare PySide6 window's
  first paint (``bare_window.py``), interleaved as ``startup`` does.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import sys
from collections import deque
from pathlib import Path
from typing import Any

from console.catalog import ServiceCatalog
from console.graph.traversal import Graph
from console.paths import database_path
from console.storage.db import open_database
from tests.benchmarks.bench_startup import (
    BARE_WINDOW,
    Command,
    bench_env,
    compare_first_paints,
    interleaved_first_paints,
)
from tests.benchmarks.fixtures import (
    BenchResult,
    Target,
    catalog_workspace,
    log,
    median,
    percentile,
    quick_mode,
    summary,
    temp_folder,
    time_ms,
)

MAP_WINDOW = Path(__file__).with_name("map_window.py")
CTE = (
    "WITH RECURSIVE up(id) AS (SELECT ? UNION "
    "SELECT d.service_id FROM service_dependencies d JOIN up ON d.depends_on_id = up.id) "
    "SELECT count(*) - 1 FROM up"
)


def bare_bfs(adjacency: dict[int, list[int]], start: int) -> int:
    """The simplest in-memory traversal: a BFS over a dict, no depth, no via."""
    seen = {start}
    queue = deque([start])
    while queue:
        for neighbour in adjacency.get(queue.popleft(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return len(seen) - 1


def blast_radius_2k() -> BenchResult:
    quick = quick_mode()
    shared = catalog_workspace()
    reps = 50 if quick else 300
    db = open_database(database_path(shared.folder))
    raw = sqlite3.connect(db.path)
    try:
        catalog = ServiceCatalog(db)
        hub = catalog.find(shared.catalog.hub)
        reached = catalog.dependents(hub.id)
        floor_count = raw.execute(CTE, (hub.id,)).fetchone()[0]
        if floor_count != len(reached):
            raise RuntimeError(f"the CTE reaches {floor_count}, the catalog {len(reached)}")
        view = catalog.graph()
        graph = Graph([(a, b) for a, b, _ in view.edges], [n.id for n in view.nodes])
        upward: dict[int, list[int]] = {}
        for dependent, dependency, _kind in view.edges:
            upward.setdefault(dependency, []).append(dependent)
        for _ in range(5):  # warm: page cache, statement cache
            catalog.dependents(hub.id)
            raw.execute(CTE, (hub.id,)).fetchone()
        gc.collect()
        value: list[float] = []
        floor: list[float] = []
        memory: list[float] = []
        memory_floor: list[float] = []
        whole: list[float] = []
        for rep in range(reps):
            if rep % 2:  # alternate the order: both see the same cache weather
                value.append(time_ms(lambda: catalog.dependents(hub.id)))
                floor.append(time_ms(lambda: raw.execute(CTE, (hub.id,)).fetchone()))
            else:
                floor.append(time_ms(lambda: raw.execute(CTE, (hub.id,)).fetchone()))
                value.append(time_ms(lambda: catalog.dependents(hub.id)))
            memory.append(time_ms(lambda: graph.blast_radius(hub.id)))
            memory_floor.append(time_ms(lambda: bare_bfs(upward, hub.id)))
            if rep % 10 == 0:
                whole.append(time_ms(lambda: catalog.blast_radius(hub.display_ref)))
    finally:
        raw.close()
        db.close()
    depth = max((r.depth for r in reached), default=0)
    return BenchResult(
        name="blast_radius_2k",
        value=median(value),
        unit="ms",
        floor=median(floor),
        target=Target("value", 5.0),
        samples=reps,
        detail={
            "catalog": shared.describe(),
            "service": hub.display_ref,
            "dependents": len(reached),
            "max_depth": depth,
            "value_ms": summary(value),
            "value_p95_ms": round(percentile(value, 95), 4),
            "floor_ms": summary(floor),
            "floor": "raw SQLite recursive CTE (UNION, no depth) on the same file",
            "in_memory_graph_ms": summary(memory),
            "in_memory_floor_bare_bfs_dict_ms": summary(memory_floor),
            "in_memory_ratio": round(median(memory) / median(memory_floor), 2),
            "cli_blast_radius_ms": summary(whole),
            "what": "ServiceCatalog.dependents(id): breadth-first over service_dependencies, "
            "one indexed query per level, shortest depth and via kept (what blast-radius "
            "and the side panel use); in_memory_graph: the map's Graph.blast_radius on every "
            "click; cli_blast_radius: dependents + suspects + node rows + freshness",
        },
    )


def graph_first_paint_2k() -> BenchResult:
    quick = quick_mode()
    shared = catalog_workspace()
    runs, warmups = (1, 0) if quick else (7, 1)
    detail: dict[str, Any] = {"catalog": shared.describe(), "runs": runs, "warmups": warmups}
    floor_cmd = Command("bare window", [sys.executable, str(BARE_WINDOW)])
    map_cmd = Command("map", [sys.executable, str(MAP_WINDOW), str(shared.folder)])
    with temp_folder("rc-bench-map-") as folder:
        home = folder / "home"
        home.mkdir()
        env = bench_env(home, folder / "pycache")
        after: dict[str, list[str]] = {}
        samples, errors = interleaved_first_paints(
            "graph_first_paint_2k",
            [floor_cmd, map_cmd],
            env,
            runs=runs,
            warmups=warmups,
            after=after,
        )
    timings = [
        json.loads(line.split(" ", 1)[1])
        for line in after.get(map_cmd.label, [])
        if line.startswith("map-timings ")
    ]
    opened = [t["map_open_to_paint_ms"] for t in timings]
    _, floor = compare_first_paints(samples[floor_cmd.label], [], detail)
    detail["spawn_to_map_paint_ms"] = (
        summary(samples[map_cmd.label]) if samples[map_cmd.label] else None
    )
    if timings:
        last = timings[-1]
        keys = "workspace_open_ms read_ms layout_ms edges_ms scene_ms map_shown_at_ms"
        keys += " painted_at_ms services edges"
        detail["breakdown_last_run_ms"] = {k: last[k] for k in keys.split() if k in last}
        detail["map_open_to_paint_ms"] = summary(opened)
    if errors:
        detail["errors"] = errors
    detail["what"] = (
        "value: from ServicesArea.start() (the Services tab exists, the workspace is open, as "
        "after MainWindow.attach) to the end of the first paint showing every service, in a "
        "fresh process (read + layout on the reader lane, scene and paint on the GUI thread); "
        "floor: spawn to first paint of a bare PySide6 window; spawn_to_map_paint adds Python, "
        "Qt and the workspace's own start"
    )
    log.info("graph_first_paint_2k: %s", detail.get("map_open_to_paint_ms"))
    return BenchResult(
        name="graph_first_paint_2k",
        value=median(opened) if opened else None,
        unit="ms",
        floor=floor,
        target=Target("value", 1000.0),
        samples=len(opened),
        detail=detail,
    )
