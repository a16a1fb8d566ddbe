"""Light and dark palettes on the Fusion style, following the system scheme on request.

Colours are chosen for contrast first (the console is read at 03:00 on a dim laptop):
body text against its background stays above WCAG AA in both palettes, and the
severity colours are tuned per palette so a badge stays readable on either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, NamedTuple

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from console.domain.incident import Severity

log = logging.getLogger(__name__)

MODES: Final = ("system", "light", "dark")

#: severity → (colour on a light background, colour on a dark background)
_SEVERITY: Final[dict[Severity, tuple[str, str]]] = {
    Severity.SEV1: ("#c62828", "#ff6b6b"),  # red
    Severity.SEV2: ("#d84315", "#ff9e5e"),  # orange
    Severity.SEV3: ("#9a6b00", "#ffd54f"),  # amber (dark enough to read on white)
    Severity.SEV4: ("#3d5a80", "#8fb3de"),  # slate blue
}

_ACCENT_LIGHT: Final = "#1565c0"
_ACCENT_DARK: Final = "#5aa9ff"

_PROPERTY_DARK: Final = "responderConsoleDark"
_FOLLOWER_NAME: Final = "responderConsoleThemeFollower"


def severity_color(severity: Severity, dark: bool) -> QColor:
    """The badge colour of ``severity`` for a light or dark palette."""
    light_hex, dark_hex = _SEVERITY[severity]
    return QColor(dark_hex if dark else light_hex)


def severity_text_color(severity: Severity, dark: bool) -> QColor:
    """Text to draw on a filled badge of :func:`severity_color` (black or white)."""
    fill = severity_color(severity, dark)
    black, white = QColor("#000000"), QColor("#ffffff")
    return black if contrast_ratio(fill, black) >= contrast_ratio(fill, white) else white


def alert_color(dark: bool) -> QColor:
    """Red for "overdue" and "not saved" text, readable on the palette's background."""
    return QColor("#ff6b6b" if dark else "#c62828")


def muted_color(dark: bool) -> QColor:
    """Grey for done or superseded text, still ≥ 4.5:1 on the palette's base."""
    return QColor("#9ca3af" if dark else "#6b7280")


def is_dark(app: QGuiApplication | None = None) -> bool:
    """Whether the palette in use is dark (judged by the window colour, so it is
    right whether the theme was chosen, followed from the system or left alone)."""
    target = app if app is not None else QGuiApplication.instance()
    if not isinstance(target, QGuiApplication):
        return False
    marked = target.property(_PROPERTY_DARK)
    if isinstance(marked, bool):
        return marked
    return target.palette().color(QPalette.ColorRole.Window).lightness() < 128


def light_palette() -> QPalette:
    return _palette(
        window="#f3f4f6",
        window_text="#111827",
        base="#ffffff",
        alternate="#eef0f3",
        text="#111827",
        button="#e5e7eb",
        button_text="#111827",
        tooltip_base="#111827",
        tooltip_text="#f9fafb",
        placeholder="#6b7280",
        disabled="#9ca3af",
        accent=_ACCENT_LIGHT,
        highlighted_text="#ffffff",
        link="#0b57d0",
        mid="#c4c8cf",
    )


def dark_palette() -> QPalette:
    return _palette(
        window="#1e1f22",
        window_text="#e8e8e8",
        base="#141517",
        alternate="#1b1c1f",
        text="#ececec",
        button="#2b2d31",
        button_text="#e8e8e8",
        tooltip_base="#f3f4f6",
        tooltip_text="#111827",
        placeholder="#9ca3af",
        disabled="#6b7280",
        accent=_ACCENT_DARK,
        highlighted_text="#0b0c0e",
        link="#8ab4f8",
        mid="#3a3d42",
    )


def apply_theme(app: QApplication, mode: str = "system", *, install_style: bool = True) -> None:
    """Fusion with our light or dark palette. ``system`` keeps following the OS scheme.

    ``install_style=False`` sets only the palette: start-up passes it and installs
    the style after the first paint (see :func:`install_console_style`).
    """
    if mode not in MODES:
        raise ValueError(f"unknown theme {mode!r}; use one of: {', '.join(MODES)}")
    if install_style:
        install_console_style(app)
    follower = app.findChild(_SchemeFollower, _FOLLOWER_NAME)
    if mode == "system":
        if follower is None:
            follower = _SchemeFollower(app)
        follower.follow()
        return
    if follower is not None:
        follower.stop()
        follower.deleteLater()
    _set_palette(app, dark=mode == "dark")


def install_console_style(app: QApplication) -> None:
    """Put :class:`ui.check_style.ConsoleStyle` (Fusion + readable check boxes) in place.

    It lives in its own module because touching ``QStyle`` from Python builds
    PySide6's wrappers for every QStyle enum and option type (about 15 ms): the
    window paints first with the stock Fusion style (chosen by ``-style Fusion``
    at start, see ui/app.py) and gets this one right after.
    """
    from ui.check_style import ConsoleStyle

    if not isinstance(app.style(), ConsoleStyle):
        app.setStyle(ConsoleStyle())


class _SchemeFollower(QObject):
    """Re-applies the palette when the OS switches between light and dark."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName(_FOLLOWER_NAME)
        self._app = app
        self._connected = False

    def follow(self) -> None:
        if not self._connected:
            self._app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)
            self._connected = True
        self._on_scheme_changed(self._app.styleHints().colorScheme())

    def stop(self) -> None:
        if self._connected:
            self._app.styleHints().colorSchemeChanged.disconnect(self._on_scheme_changed)
            self._connected = False

    @Slot(Qt.ColorScheme)
    def _on_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        dark = scheme == Qt.ColorScheme.Dark  # Unknown → light: the safer default to read
        log.debug("following the system colour scheme: %s", scheme.name)
        _set_palette(self._app, dark=dark)


def _set_palette(app: QApplication, *, dark: bool) -> None:
    app.setProperty(_PROPERTY_DARK, dark)
    app.setPalette(dark_palette() if dark else light_palette())
    _relink_labels(app)
    theme_notifier().changed.emit(dark)


def link_css() -> str:
    """A document stylesheet putting links in the palette's link colour (rich text bakes
    the colour in when it is set, so a live switch must set the text again)."""
    app = QGuiApplication.instance()
    colour = (
        app.palette().color(QPalette.ColorRole.Link).name()
        if isinstance(app, QGuiApplication)
        else "#0b57d0"
    )
    return f"a {{ color: {colour}; }}"


def _relink_labels(app: QApplication) -> None:
    """Rich-text labels with links take the new link colour (their text set again)."""
    for widget in app.allWidgets():
        if isinstance(widget, QLabel) and widget.textFormat() != Qt.TextFormat.PlainText:
            text = widget.text()
            if "<a " in text:
                widget.clear()
                widget.setText(text)


# ------------------------------------------------------------- following a switch


class ThemeNotifier(QObject):
    """Emits :attr:`changed` (dark?) after the palette changed: views that baked
    colours into a stylesheet, a scene or rich text re-render from it."""

    changed = Signal(bool)


_notifier: ThemeNotifier | None = None


def theme_notifier() -> ThemeNotifier:
    global _notifier
    if _notifier is None:
        _notifier = ThemeNotifier()
    return _notifier


class _Restyler(QObject):
    """A child of the widget it restyles, so the connection dies with the widget."""

    def __init__(self, widget: QWidget, restyle: Callable[[], None]) -> None:
        super().__init__(widget)
        self._restyle = restyle
        theme_notifier().changed.connect(self._on_changed)

    @Slot(bool)
    def _on_changed(self, _dark: bool) -> None:
        self._restyle()


def follow_theme(widget: QWidget, restyle: Callable[[], None]) -> None:
    """Call ``restyle`` now and after every live theme switch while ``widget`` lives."""
    restyle()
    _Restyler(widget, restyle)


class BannerColours(NamedTuple):
    background: str
    border: str
    text: str


#: banner kind → (light, dark): text on background ≥ 7:1 in both (tests/ui/test_theme_live.py)
_BANNERS: Final[dict[str, tuple[BannerColours, BannerColours]]] = {
    "error": (
        BannerColours("#fdecea", "#d32f2f", "#611a15"),
        BannerColours("#3a1517", "#ef5350", "#ffd6d6"),
    ),
    "warning": (
        BannerColours("#fff4e5", "#e65100", "#4e2600"),
        BannerColours("#3a2412", "#ff9e5e", "#ffe3c4"),
    ),
    "notice": (
        BannerColours("#fff3cd", "#d4a017", "#5c4400"),
        BannerColours("#332a0e", "#d4a017", "#ffeab0"),
    ),
}


def banner_colours(kind: str, dark: bool | None = None) -> BannerColours:
    light, darker = _BANNERS[kind]
    return darker if (is_dark() if dark is None else dark) else light


def banner_style(object_name: str, kind: str, *, label_css: str = "", radius: int = 4) -> str:
    """The stylesheet of a banner (``#name`` frame, its labels) in the current theme."""
    c = banner_colours(kind)
    return (
        f"#{object_name} {{ background: {c.background}; border: 1px solid {c.border};"
        f" border-radius: {radius}px; }}"
        f"#{object_name} QLabel {{ color: {c.text}; {label_css} }}"
    )


def _palette(
    *,
    window: str,
    window_text: str,
    base: str,
    alternate: str,
    text: str,
    button: str,
    button_text: str,
    tooltip_base: str,
    tooltip_text: str,
    placeholder: str,
    disabled: str,
    accent: str,
    highlighted_text: str,
    link: str,
    mid: str,
) -> QPalette:
    role = QPalette.ColorRole
    palette = QPalette()
    colours = {
        role.Window: window,
        role.WindowText: window_text,
        role.Base: base,
        role.AlternateBase: alternate,
        role.Text: text,
        role.Button: button,
        role.ButtonText: button_text,
        role.ToolTipBase: tooltip_base,
        role.ToolTipText: tooltip_text,
        role.PlaceholderText: placeholder,
        role.BrightText: "#ff5252",
        role.Highlight: accent,
        role.HighlightedText: highlighted_text,
        role.Link: link,
        role.LinkVisited: link,
        role.Accent: accent,
        role.Mid: mid,
        role.Midlight: button,
        role.Dark: mid,
        role.Shadow: "#000000",
        role.Light: base,
    }
    for colour_role, value in colours.items():
        palette.setColor(colour_role, QColor(value))
    disabled_group = QPalette.ColorGroup.Disabled
    for colour_role in (role.WindowText, role.Text, role.ButtonText, role.PlaceholderText):
        palette.setColor(disabled_group, colour_role, QColor(disabled))
    palette.setColor(disabled_group, role.Highlight, QColor(mid))
    return palette


def _luminance(colour: QColor) -> float:
    """WCAG relative luminance of ``colour`` (0 black … 1 white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG contrast ratio between two colours (1 … 21)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)
