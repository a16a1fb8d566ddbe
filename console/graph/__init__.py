"""Graph algorithms over the service catalog: pure Python, no storage, no Qt.

* :mod:`console.graph.traversal` — breadth-first reach with depth (blast radius,
  suspects), strongly connected components and cycles.
* :mod:`console.graph.layout` — the layered drawing of the dependency map
  (longest-path layering, cycle-safe, barycentre ordering).
"""

from console.graph.layout import Layout, count_crossings, layered_layout
from console.graph.traversal import Graph, Reach, find_cycles, reach, strongly_connected

__all__ = [
    "Graph",
    "Layout",
    "Reach",
    "count_crossings",
    "find_cycles",
    "layered_layout",
    "reach",
    "strongly_connected",
]
