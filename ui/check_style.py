"""Fusion with check boxes drawn from the palette (installed after the first paint).

Kept apart from ui/theme.py: the first QStyle access from Python costs about
15 ms of enum and option-type wrappers, which start-up does not pay before the
window is on screen.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleOption, QWidget


class ConsoleStyle(QProxyStyle):
    """Fusion, with check boxes drawn from the palette's text and accent colours.

    Fusion outlines its check boxes with a darker shade of the window colour
    unless the *platform* reports dark mode, so on our dark palette (chosen in
    the app, or on a platform without a colour-scheme API) the empty boxes of
    the checklist vanish. Drawing them from Text/Highlight keeps them visible
    in both palettes.
    """

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(  # noqa: N802 - Qt override
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element not in (
            QStyle.PrimitiveElement.PE_IndicatorCheckBox,
            QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
        ):
            super().drawPrimitive(element, option, painter, widget)
            return
        palette = option.palette
        state = option.state
        enabled = bool(state & QStyle.StateFlag.State_Enabled)
        group = QPalette.ColorGroup.Normal if enabled else QPalette.ColorGroup.Disabled
        text = palette.color(group, QPalette.ColorRole.Text)
        accent = palette.color(group, QPalette.ColorRole.Highlight)
        rect = QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5)
        side = min(rect.width(), rect.height())
        box = QRectF(0, 0, side, side)
        box.moveCenter(rect.center())
        checked = bool(state & QStyle.StateFlag.State_On)
        partial = bool(state & QStyle.StateFlag.State_NoChange)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QColor(accent if checked or partial else text)
        if not (checked or partial):
            border.setAlpha(190)
        painter.setPen(QPen(border, 1.5))
        painter.setBrush(
            accent if checked or partial else palette.color(group, QPalette.ColorRole.Base)
        )
        painter.drawRoundedRect(box, 2.5, 2.5)
        mark = QPen(palette.color(group, QPalette.ColorRole.HighlightedText), max(side / 8, 1.6))
        mark.setCapStyle(Qt.PenCapStyle.RoundCap)
        mark.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(mark)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if checked:
            path = QPainterPath(QPointF(box.left() + side * 0.22, box.top() + side * 0.52))
            path.lineTo(box.left() + side * 0.42, box.top() + side * 0.72)
            path.lineTo(box.left() + side * 0.78, box.top() + side * 0.30)
            painter.drawPath(path)
        elif partial:
            y = box.center().y()
            painter.drawLine(
                QPointF(box.left() + side * 0.25, y), QPointF(box.right() - side * 0.25, y)
            )
        painter.restore()
