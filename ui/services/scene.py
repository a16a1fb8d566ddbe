"""The dependency map's scene: data work off the GUI thread, items on it.

:func:`prepare_map` runs on the reader lane: it reads the catalog, lays it out
(:func:`console.graph.layered_layout`) and builds the background edge paths
(``QPainterPath`` is a reentrant value class, safe to build on a worker).
:class:`ServiceScene` then creates the items on the GUI thread: one path item
and one text item per service, and a handful of path items for all the edges
(8,000 edges as one path each for "depends/api" and "part" edges, instead of
8,000 items), so a 2,000-service map is built and painted in well under a second.

Selecting a service recolours its blast radius (everything that depends on it,
vermillion) and its suspects (everything it depends on, blue) — the Okabe–Ito
pair, told apart with any colour vision — dims the rest, and draws the edges
between them on top with arrowheads. The shape tells the kind: rounded box =
component, capsule = resource, cut corners = API, dashed = system or domain.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from console.catalog import ServiceCatalog
from console.domain.catalog import CatalogGraph, ServiceNode
from console.graph.layout import NODE_HEIGHT, NODE_WIDTH, Layout, layered_layout
from console.graph.traversal import Graph, Reach

log = logging.getLogger(__name__)

#: below this zoom the labels are unreadable: hidden, which also keeps zoomed-out
#: repaints of 2,000 services fast
LABEL_SCALE = 0.4
#: below this zoom the background edges are drawn without antialiasing
EDGE_DETAIL = 0.6
NODE_Z, EDGE_Z, VEIL_Z, HIGHLIGHT_Z, RING_Z = 2.0, 0.0, 0.5, 1.0, 3.0
ARROW = 7.0


@dataclass(frozen=True)
class MapColours:
    background: str
    node: str
    node_text: str
    border: str
    edge: str
    selected: str
    selected_text: str
    blast: str
    suspect: str
    highlight_text: str
    dimmed_opacity: float = 0.22


LIGHT = MapColours(
    background="#f7f8fa",
    node="#ffffff",
    node_text="#111827",
    border="#8a94a3",
    edge="#9aa3af",
    # the selected service: ink, unlike either highlight colour
    selected="#111827",
    selected_text="#ffffff",
    blast="#b84f00",  # Okabe–Ito vermillion, darkened: white names on it ≥ 4.5:1
    suspect="#0072b2",  # Okabe–Ito blue
    highlight_text="#ffffff",
)
DARK = MapColours(
    background="#16171a",
    node="#2b2d31",
    node_text="#ececec",
    border="#6b7280",
    edge="#565c66",
    selected="#f3f4f6",
    selected_text="#0b0c0e",
    blast="#ff8a4c",
    suspect="#56b4e9",  # Okabe–Ito sky blue
    highlight_text="#0b0c0e",
)


@dataclass
class MapData:
    """Everything the GUI thread needs to build the scene, prepared on a worker."""

    graph: CatalogGraph
    layout: Layout[int]
    #: the edges grouped by their dependent's row: (dashed?, path) — a zoomed-in view
    #: strokes only the groups whose bounds it shows
    tiles: list[tuple[bool, QPainterPath]]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def nodes(self) -> dict[int, ServiceNode]:
        return {n.id: n for n in self.graph.nodes}


def prepare_map(catalog: ServiceCatalog) -> MapData:
    """Read, lay out and route the edges (reader lane: no widget is touched here)."""
    started = time.perf_counter()
    graph = catalog.graph()
    read = time.perf_counter()
    layout = layered_layout([n.id for n in graph.nodes], [(a, b) for a, b, _ in graph.edges])
    laid = time.perf_counter()
    tiles: dict[tuple[bool, float], QPainterPath] = {}
    for dependent, dependency, kind in graph.edges:
        if dependent == dependency:
            continue
        start, end = layout.positions[dependent], layout.positions[dependency]
        key = (kind == "part", start[1])
        path = tiles.get(key)
        if path is None:
            path = tiles[key] = QPainterPath()
        edge_path(path, start, end)
    routed = time.perf_counter()
    timings = {
        "read_ms": (read - started) * 1000,
        "layout_ms": (laid - read) * 1000,
        "edges_ms": (routed - laid) * 1000,
    }
    log.info(
        "service map prepared: %d services, %d edges (%s)",
        len(graph.nodes),
        len(graph.edges),
        ", ".join(f"{k} {v:.0f}" for k, v in timings.items()),
    )
    return MapData(graph, layout, [(key[0], path) for key, path in tiles.items()], timings)


def edge_path(
    path: QPainterPath, dependent: tuple[float, float], dependency: tuple[float, float]
) -> tuple[QPointF, QPointF]:
    """A curve from the dependent's edge to the dependency's (down when the dependency
    is below, as the layering puts it; up for an edge that closes a cycle)."""
    (x1, y1), (x2, y2) = dependent, dependency
    half = NODE_HEIGHT / 2
    if y2 > y1:
        start, end = QPointF(x1, y1 + half), QPointF(x2, y2 - half)
    elif y2 < y1:
        start, end = QPointF(x1, y1 - half), QPointF(x2, y2 + half)
    else:  # same row: over the top
        start, end = QPointF(x1, y1 - half), QPointF(x2, y2 - half)
    bend = max(abs(end.y() - start.y()) / 2, 30.0) * (1 if end.y() >= start.y() else -1)
    if y2 == y1:
        bend = -40.0
    path.moveTo(start)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return start, end


def node_shape(kind: str) -> QPainterPath:
    """The outline of a node centred on (0, 0): the shape says the kind."""
    rect = QRectF(-NODE_WIDTH / 2, -NODE_HEIGHT / 2, NODE_WIDTH, NODE_HEIGHT)
    path = QPainterPath()
    if kind == "resource":
        path.addRoundedRect(rect, NODE_HEIGHT / 2, NODE_HEIGHT / 2)
    elif kind == "api":
        cut = 12.0
        path.moveTo(rect.left() + cut, rect.top())
        path.lineTo(rect.right() - cut, rect.top())
        path.lineTo(rect.right(), rect.center().y())
        path.lineTo(rect.right() - cut, rect.bottom())
        path.lineTo(rect.left() + cut, rect.bottom())
        path.lineTo(rect.left(), rect.center().y())
        path.closeSubpath()
    else:
        path.addRoundedRect(rect, 6, 6)
    return path


class EdgeLayer(QGraphicsPathItem):
    """Many edges as one path item. Zoomed out they are drawn without antialiasing: a
    web of thin lines either way, in about two thirds of the time. (Device-pixel
    caching was measured and dropped: the cache is rebuilt on every zoom and
    selection, so it only added work.)"""

    def __init__(self, path: QPainterPath | None = None) -> None:
        super().__init__(path if path is not None else QPainterPath())
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        detail = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, detail >= EDGE_DETAIL)
        super().paint(painter, option, widget)


class ServiceScene(QGraphicsScene):
    """The items of one map; ``highlight`` answers from the in-memory graph."""

    def __init__(self, data: MapData, colours: MapColours) -> None:
        super().__init__()
        started = time.perf_counter()
        self.data = data
        self.colours = colours
        self.nodes = data.nodes
        self.graph: Graph[int] = Graph(
            [(a, b) for a, b, _ in data.graph.edges], [n.id for n in data.graph.nodes]
        )
        self.node_items: dict[int, QGraphicsPathItem] = {}
        self.label_items: dict[int, QGraphicsSimpleTextItem] = {}
        self._painted: dict[int, tuple[str, float]] = {}
        self._text: dict[int, str] = {}  # label colour per node, for labels made later
        self.selected: int | None = None
        self.dependents: list[Reach[int]] = []
        self.suspects: list[Reach[int]] = []
        self.setBackgroundBrush(QColor(colours.background))
        margin = 60.0
        self.setSceneRect(
            QRectF(-margin, -margin, data.layout.width + 2 * margin,
                   data.layout.height + 2 * margin)
        )  # fmt: skip
        self._build_edges()
        self._build_nodes()
        self.blast_edges = self._overlay(colours.blast)
        self.suspect_edges = self._overlay(colours.suspect)
        self.ring = QGraphicsRectItem(
            QRectF(-NODE_WIDTH / 2 - 7, -NODE_HEIGHT / 2 - 7, NODE_WIDTH + 14, NODE_HEIGHT + 14)
        )
        ring_pen = QPen(QColor(colours.selected), 3, Qt.PenStyle.DashLine)
        ring_pen.setCosmetic(True)
        self.ring.setPen(ring_pen)
        self.ring.setZValue(RING_Z)
        self.ring.hide()
        self.addItem(self.ring)
        self.labels_visible = False
        data.timings["scene_ms"] = (time.perf_counter() - started) * 1000

    # ------------------------------------------------------------------ building

    def _build_edges(self) -> None:
        solid = QPen(QColor(self.colours.edge), 1.0)
        solid.setCosmetic(True)
        dashed = QPen(solid)
        dashed.setStyle(Qt.PenStyle.DashLine)
        self.edge_items: list[EdgeLayer] = []
        for is_dashed, path in self.data.tiles:
            item = EdgeLayer(path)
            item.setPen(dashed if is_dashed else solid)
            item.setZValue(EDGE_Z)
            self.addItem(item)
            self.edge_items.append(item)
        # Dimming the edges by a veil above them, not by their opacity: their cached
        # pixels stay valid, so selecting does not stroke every edge again.
        self.veil = QGraphicsRectItem(self.sceneRect())
        self.veil.setPen(Qt.PenStyle.NoPen)
        veil = QColor(self.colours.background)
        veil.setAlphaF(1 - self.colours.dimmed_opacity)
        self.veil.setBrush(veil)
        self.veil.setZValue(VEIL_Z)
        self.veil.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.veil.hide()
        self.addItem(self.veil)

    def _build_nodes(self) -> None:
        shapes = {kind: node_shape(kind) for kind in ("component", "resource", "api", "other")}
        pen = QPen(QColor(self.colours.border), 1.2)
        pen.setCosmetic(True)
        dashed = QPen(pen)
        dashed.setStyle(Qt.PenStyle.DashLine)
        brush = QBrush(QColor(self.colours.node))
        positions = self.data.layout.positions
        for node in self.data.graph.nodes:
            x, y = positions[node.id]
            item = QGraphicsPathItem(shapes.get(node.kind, shapes["other"]))
            item.setPos(x, y)
            item.setPen(dashed if node.kind in ("system", "domain") else pen)
            item.setBrush(brush)
            item.setZValue(NODE_Z)
            item.setData(0, node.id)
            item.setToolTip(_tooltip(node))
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
            self.addItem(item)
            self.node_items[node.id] = item

    def _make_labels(self) -> None:
        """The names, made the first time they are shown: a 2,000-service map opens
        zoomed out, where names are unreadable, so its first paint does without them."""
        font = QFont()
        metrics = QFontMetricsF(font)
        width = NODE_WIDTH - 16
        for node in self.data.graph.nodes:
            item = self.node_items[node.id]
            label = QGraphicsSimpleTextItem(
                metrics.elidedText(node.label, Qt.TextElideMode.ElideMiddle, width), item
            )
            label.setFont(font)
            text = self._text.get(node.id, self.colours.node_text)
            label.setBrush(QColor(text))
            bounds = label.boundingRect()
            label.setPos(-bounds.width() / 2, -bounds.height() / 2)
            label.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.label_items[node.id] = label

    def _overlay(self, colour: str) -> QGraphicsPathItem:
        pen = QPen(QColor(colour), 2.2)
        pen.setCosmetic(True)
        item = EdgeLayer()
        item.setPen(pen)
        item.setZValue(HIGHLIGHT_Z)
        self.addItem(item)
        return item

    # ------------------------------------------------------------------ highlight

    def highlight(self, node_id: int | None) -> None:
        """Select ``node_id`` (None clears): recolour its blast radius and suspects."""
        colours = self.colours
        if node_id is None or node_id not in self.node_items:
            self.selected = None
            self.dependents, self.suspects = [], []
            for item in self.node_items.values():
                self._paint(item, colours.node, colours.node_text, 1.0)
            self.veil.hide()
            self.blast_edges.setPath(QPainterPath())
            self.suspect_edges.setPath(QPainterPath())
            return
        self.selected = node_id
        self.dependents = self.graph.blast_radius(node_id)
        self.suspects = self.graph.suspects(node_id)
        blast = {r.node for r in self.dependents}
        suspect = {r.node for r in self.suspects}
        for other, item in self.node_items.items():
            if other == node_id:
                self._paint(item, colours.selected, colours.selected_text, 1.0)
            elif other in blast:
                self._paint(item, colours.blast, colours.highlight_text, 1.0)
            elif other in suspect:
                self._paint(item, colours.suspect, colours.highlight_text, 1.0)
            else:
                self._paint(item, colours.node, colours.node_text, colours.dimmed_opacity)
        self.veil.show()
        self.blast_edges.setPath(self._path_of(self.dependents, upward=True))
        self.suspect_edges.setPath(self._path_of(self.suspects, upward=False))

    def _paint(self, item: QGraphicsPathItem, fill: str, text: str, opacity: float) -> None:
        """Recolour one node; a node already so coloured is left alone (a new selection
        changes a few hundred of 2,000 nodes, and every change schedules a repaint)."""
        node_id = int(item.data(0))
        if self._painted.get(node_id) == (fill, opacity):
            return
        self._painted[node_id] = (fill, opacity)
        item.setBrush(QColor(fill))
        item.setOpacity(opacity)
        self._text[node_id] = text
        label = self.label_items.get(node_id)
        if label is not None:
            label.setBrush(QColor(text))

    def _path_of(self, reached: list[Reach[int]], *, upward: bool) -> QPainterPath:
        """The way each highlighted service is reached: the edge to it from its ``via``
        (one per service, the shortest way back to the selection), arrowhead at the
        dependency end."""
        positions = self.data.layout.positions
        path = QPainterPath()
        for item in reached:
            # blast radius: the reached service depends on its via; suspects: the reverse
            dependent, dependency = (item.node, item.via) if upward else (item.via, item.node)
            start, end = edge_path(path, positions[dependent], positions[dependency])
            _arrow(path, end, downward=end.y() >= start.y())
        return path

    def recolour(self, colours: MapColours) -> None:
        """A live theme switch: every colour of the map, the selection kept."""
        self.colours = colours
        self.setBackgroundBrush(QColor(colours.background))
        for item in (*self.edge_items, self.ring, self.blast_edges, self.suspect_edges):
            pen = item.pen()
            pen.setColor(
                QColor(
                    colours.blast
                    if item is self.blast_edges
                    else colours.suspect
                    if item is self.suspect_edges
                    else colours.selected
                    if item is self.ring
                    else colours.edge
                )
            )
            item.setPen(pen)
        veil = QColor(colours.background)
        veil.setAlphaF(1 - colours.dimmed_opacity)
        self.veil.setBrush(veil)
        for node in self.node_items.values():
            pen = node.pen()
            pen.setColor(QColor(colours.border))
            node.setPen(pen)
        self._painted.clear()
        self._text.clear()
        self.highlight(self.selected)

    def set_labels_visible(self, visible: bool) -> None:
        if visible == self.labels_visible:
            return
        if visible and not self.label_items:
            self._make_labels()
        self.labels_visible = visible
        for label in self.label_items.values():
            label.setVisible(visible)

    def show_ring(self, node_id: int | None) -> None:
        item = self.node_items.get(node_id) if node_id is not None else None
        if item is None:
            self.ring.hide()
            return
        self.ring.setPos(item.pos())
        self.ring.show()


def _arrow(path: QPainterPath, tip: QPointF, *, downward: bool) -> None:
    direction = -1 if downward else 1
    path.moveTo(tip.x() - ARROW / 2, tip.y() + direction * ARROW)
    path.lineTo(tip)
    path.lineTo(tip.x() + ARROW / 2, tip.y() + direction * ARROW)


def _tooltip(node: ServiceNode) -> str:
    parts = [node.display_ref]
    if node.title and node.title != node.name:
        parts.append(node.title)
    facts = [f"owner {node.owner}" if node.owner else "no owner"]
    if node.system_label:
        facts.append(f"system {node.system_label}")
    if node.tier:
        facts.append(node.tier)
    parts.append(" · ".join(facts))
    return "\n".join(parts)
