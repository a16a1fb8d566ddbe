"""The dependency map's view: zoom (wheel, Ctrl+= / Ctrl+- / Ctrl+0 fit), drag to pan,
click a service to select it, Escape or a click on the background to clear."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from ui.services.scene import LABEL_SCALE, ServiceScene

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 4.0
CLICK_SLOP = 4  # pixels a press may move and still be a click, not a drag


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

    def map_scene(self) -> ServiceScene | None:
        scene = self.scene()
        return scene if isinstance(scene, ServiceScene) else None

    # ------------------------------------------------------------------ zoom

    def scale_factor(self) -> float:
        return float(self.transform().m11())

    def zoom_by(self, factor: float) -> None:
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
        self.resetTransform()
        self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        if self.scale_factor() > 1.0:
            self.resetTransform()
        self._level_of_detail()

    def reading_zoom(self) -> None:
        """A scale where names can be read (after centring on a found service)."""
        if self.scale_factor() < 0.8:
            self.zoom_by(1.0 / self.scale_factor())

    def centre_on(self, rect: QRectF) -> None:
        self.centerOn(rect.center())

    def _level_of_detail(self) -> None:
        scene = self.map_scene()
        if scene is not None:
            scene.set_labels_visible(self.scale_factor() >= LABEL_SCALE)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
        event.accept()

    # ------------------------------------------------------------------ clicks

    def mousePressEvent(self, event: QMouseEvent) -> None:
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
        self.painted.emit()
