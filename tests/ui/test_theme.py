"""Theme: Fusion with readable light/dark palettes; "system" follows the OS scheme."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QCheckBox
from pytestqt.qtbot import QtBot

from console.domain.incident import Severity
from ui.check_style import ConsoleStyle
from ui.theme import (
    alert_color,
    apply_theme,
    contrast_ratio,
    dark_palette,
    is_dark,
    light_palette,
    severity_color,
    severity_text_color,
)

pytestmark = pytest.mark.gui


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The shared application, put back as it was (other tests share it)."""
    palette, style = QPalette(qapp.palette()), qapp.style().name()
    yield qapp
    apply_theme(qapp, "light")  # detaches the system follower
    qapp.setProperty("responderConsoleDark", None)
    qapp.setPalette(palette)
    qapp.setStyle(style)


def test_light_and_dark_set_fusion_and_palette(app: QApplication) -> None:
    apply_theme(app, "dark")
    style = app.style()
    assert isinstance(style, ConsoleStyle)
    assert style.baseStyle().name().lower() == "fusion"
    assert is_dark(app)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    apply_theme(app, "light")
    assert not is_dark(app)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200


def test_unknown_mode_is_refused(app: QApplication) -> None:
    with pytest.raises(ValueError, match="unknown theme"):
        apply_theme(app, "sepia")


def test_system_follows_color_scheme_changes(app: QApplication) -> None:
    apply_theme(app, "system")
    hints = app.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert is_dark(app)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not is_dark(app)
    apply_theme(app, "dark")  # an explicit choice stops following
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert is_dark(app)


@pytest.mark.parametrize("palette", [light_palette(), dark_palette()], ids=["light", "dark"])
def test_body_text_meets_wcag_aa(palette: QPalette) -> None:
    role = QPalette.ColorRole
    for fg, bg in [
        (role.Text, role.Base),
        (role.WindowText, role.Window),
        (role.ButtonText, role.Button),
        (role.HighlightedText, role.Highlight),
    ]:
        assert contrast_ratio(palette.color(fg), palette.color(bg)) >= 4.5, (fg, bg)


@pytest.mark.parametrize("dark", [False, True])
def test_severity_colours_readable_and_distinct(dark: bool) -> None:
    background = (dark_palette() if dark else light_palette()).color(QPalette.ColorRole.Base)
    colours = [severity_color(s, dark) for s in Severity]
    assert len({c.name() for c in colours}) == 4
    for severity, colour in zip(Severity, colours, strict=True):
        # as text on the page (3:1, large/bold badge text) and as a filled badge
        assert contrast_ratio(colour, background) >= 3.0, severity
        assert contrast_ratio(severity_text_color(severity, dark), colour) >= 4.5, severity
    assert colours[0].hue() < 15 or colours[0].hue() > 345  # SEV1 is red


def test_is_dark_without_explicit_theme_reads_the_palette(app: QApplication) -> None:
    app.setProperty("responderConsoleDark", None)
    app.setPalette(dark_palette())
    assert is_dark(app)
    app.setPalette(light_palette())
    assert not is_dark(app)


@pytest.mark.parametrize("dark", [False, True])
def test_alert_colour_is_readable(dark: bool) -> None:
    palette = dark_palette() if dark else light_palette()
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        assert contrast_ratio(alert_color(dark), palette.color(role)) >= 4.5


def test_check_boxes_paint_without_warnings(app: QApplication, qtbot: QtBot) -> None:
    apply_theme(app, "dark")
    box = QCheckBox("visible on dark")
    qtbot.addWidget(box)
    for state in (Qt.CheckState.Unchecked, Qt.CheckState.Checked, Qt.CheckState.PartiallyChecked):
        box.setTristate(True)
        box.setCheckState(state)
        image = box.grab().toImage()
        assert not image.isNull()
