"""The dependency map's view: zoom (wheel, Ctrl+= / Ctrl+- / Ctrl+0 fit), drag to pan,
click a service to select it, Escape or a click on the background to clear."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QFont,
    QFontInfo,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from ui.services.scene import LABEL_SCALE, ServiceScene

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 4.0
CLICK_SLOP = 4  # pixels a press may move and still be a click, not a drag
#: names are never drawn smaller than this many pixels on screen: below it they
#: are hidden (and the view says how to read them) instead of drawn as 5 px smudges
MIN_LABEL_PX = 10.0
#: room around a framed selection, in view pixels
FRAME_MARGIN = 36
HIDDEN_NOTE = "Names are hidden at this zoom — Ctrl+= zooms in, selecting a service frames it"


class ServiceMapView(QGraphicsView):
    #: int service id — a service was clicked
    service_clicked = Signal(int)
    #: the background was clicked, or Escape pressed
    cleared = Signal()
    #: the viewport finished painting (first paint after a new scene: tests, benchmark)
    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serviceMap")
        self.setAccessibleName("Service dependency map")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pressed_at: QPoint | None = None
        #: the last framed selection, kept while the user has not zoomed or panned:
        #: the view is framed again when it is resized (the panel beside it fills in
        #: after the selection, and a narrower view would cut the selection off)
        self._framed: tuple[QRectF, list[QRectF]] | None = None
        #: the whole map was fitted and the user has not zoomed, panned or framed since:
        #: fitted again on resize (a tab built before it is shown has no size yet)
        self._whole = False

    def map_scene(self) -> ServiceScene | None:
        scene = self.scene()
        return scene if isinstance(scene, ServiceScene) else None

    # ------------------------------------------------------------------ zoom

    def scale_factor(self) -> float:
        return float(self.transform().m11())

    def zoom_by(self, factor: float) -> None:
        self._framed = None
        self._whole = False
        current = self.scale_factor()
        target = min(MAX_SCALE, max(MIN_SCALE, current * factor))
        if current > 0 and target != current:
            self.scale(target / current, target / current)
        self._level_of_detail()

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        """The whole map in view (Ctrl+0), never magnified beyond 1:1."""
        scene = self.map_scene()
        if scene is None:
            return
        self._framed = None
        self.resetTransform()
        self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        if self.scale_factor() > 1.0:
            self.resetTransform()
        self._whole = True
        self._level_of_detail()

    def reading_zoom(self) -> None:
        """A scale where names can be read (after centring on a found service)."""
        if self.scale_factor() < 0.8:
            self.zoom_by(1.0 / self.scale_factor())

    def legible_scale(self) -> float:
        """The smallest zoom at which names are drawn at least :data:`MIN_LABEL_PX` high."""
        pixels = QFontInfo(QFont()).pixelSize() or 13
        return max(LABEL_SCALE, MIN_LABEL_PX / pixels)

    def labels_legible(self) -> bool:
        return self.scale_factor() >= self.legible_scale() - 1e-9

    def frame(self, focus: QRectF, others: Sequence[QRectF]) -> None:
        """Show ``focus`` with as much of ``others`` as fits at a zoom where names can be
        read: all of them when they fit (never magnified beyond 1:1), else centred on
        ``focus`` at the smallest legible zoom."""
        self._framed = (QRectF(focus), [QRectF(r) for r in others])
        self._whole = False
        whole = QRectF(focus)
        for rect in others:
            whole = whole.united(rect)
        viewport = (
            self.viewport()
            .rect()
            .adjusted(FRAME_MARGIN, FRAME_MARGIN, -FRAME_MARGIN, -FRAME_MARGIN)
        )
        if viewport.width() <= 0 or viewport.height() <= 0:
            return
        fits = min(viewport.width() / whole.width(), viewport.height() / whole.height())
        legible = self.legible_scale()
        scale = min(1.0, max(fits, legible))
        self.resetTransform()
        self.scale(scale, scale)
        centre = whole.center() if fits >= legible else self._towards(focus, whole, scale)
        self.centerOn(centre)
        self._level_of_detail()

    def _towards(self, focus: QRectF, whole: QRectF, scale: float) -> QPointF:
        """A centre that keeps ``focus`` in view and shows as much of ``whole`` as it can."""
        half_w = (self.viewport().width() / scale) / 2 - FRAME_MARGIN / scale
        half_h = (self.viewport().height() / scale) / 2 - FRAME_MARGIN / scale
        x = min(max(whole.center().x(), focus.right() - half_w), focus.left() + half_w)
        y = min(max(whole.center().y(), focus.bottom() - half_h), focus.top() + half_h)
        return QPointF(x, y)

    def centre_on(self, rect: QRectF) -> None:
        self.centerOn(rect.center())

    def _level_of_detail(self) -> None:
        scene = self.map_scene()
        if scene is not None:
            scene.set_labels_visible(self.labels_legible())
            self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
        event.accept()

    # ------------------------------------------------------------------ clicks

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._framed is not None:
            self.frame(*self._framed)
        elif self._whole:
            self.fit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._framed = None  # a drag pans: the user's view from here on
        self._whole = False
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed_at = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pressed, self._pressed_at = self._pressed_at, None
        super().mouseReleaseEvent(event)
        if pressed is None or event.button() != Qt.MouseButton.LeftButton:
            return
        where = event.position().toPoint()
        if (where - pressed).manhattanLength() > CLICK_SLOP:
            return  # a drag, not a click
        service = self.service_at(where)
        if service is None:
            self.cleared.emit()
        else:
            self.service_clicked.emit(service)

    def service_at(self, point: QPoint) -> int | None:
        item: QGraphicsItem | None = self.itemAt(point)
        while item is not None:
            value = item.data(0)
            if isinstance(value, int):
                return value
            item = item.parentItem()
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cleared.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        scene = self.map_scene()
        if scene is not None and scene.node_items and not scene.labels_visible:
            self._paint_hidden_note()
        self.painted.emit()

    def _paint_hidden_note(self) -> None:
        """Say why there are no names, and how to get them (instead of 5 px text)."""
        painter = QPainter(self.viewport())
        palette = self.palette()
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(HIDDEN_NOTE) + 16
        box = self.viewport().rect()
        rect = QRectF(
            box.left() + 8, box.bottom() - metrics.height() - 14, width, metrics.height() + 8
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.ToolTipBase))
        painter.setOpacity(0.9)
        painter.drawRoundedRect(rect, 4, 4)
        painter.setOpacity(1.0)
        painter.setPen(palette.color(QPalette.ColorRole.ToolTipText))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), HIDDEN_NOTE)
        painter.end()
