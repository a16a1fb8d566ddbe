"""Building blocks of the on-call views: a reach method with copy and call, a person, fonts.

Made to be read under stress: large type, plain words, every number with a Copy
button (the E.164 form, which any phone or dialler takes) and, where the
platform has a handler, a Call / Text / Mail button that opens the
``tel:``/``sms:``/``mailto:`` link. When nothing handles the link the number
is copied instead and the view says so.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from console.domain.oncall import OnCallPerson, ReachKind, ReachMethod
from console.oncall.export import local_time
from ui.theme import alert_color, is_dark
from ui.times import display_zone, hover

#: text size multipliers over the application font (the view is read from a distance)
NAME_SCALE = 1.55
NUMBER_SCALE = 1.45
BODY_SCALE = 1.2

#: as wide as most international numbers are written grouped
NUMBER_COLUMN = "+000 00 0000 0000"
_ACTION_WORDS = {"tel": "Call", "sms": "Text", "mailto": "Mail"}


def scaled(base: QFont, factor: float, *, bold: bool = False) -> QFont:
    font = QFont(base)
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    font.setPointSizeF(size * factor)
    font.setBold(bold)
    return font


def number_font(base: QFont) -> QFont:
    font = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    font.setPointSizeF(size * NUMBER_SCALE)
    font.setBold(True)
    return font


def open_link(url: str) -> bool:
    """Open a ``tel:``/``sms:``/``mailto:`` link with the platform's handler."""
    return QDesktopServices.openUrl(QUrl(url))


class ElidedLabel(QLabel):
    """A one-line value that, when narrower than its text, shows it elided in the middle
    (``hanna.berg…@larkspur.example``: both ends of an address stay readable); ``text()``
    and the tooltip keep the whole value, and the row's Copy copies it."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(
            min(hint.width(), self.fontMetrics().horizontalAdvance("M" * 8)), hint.height()
        )

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def shown_text(self) -> str:
        """What is drawn: the text, or its middle-elided form when it does not fit."""
        return self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideMiddle, self.contentsRect().width()
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.is_elided():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(
            self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
            self.shown_text(),
        )  # fmt: skip
        painter.end()


class ReachRow(QWidget):
    """``Mobile   +44 20 7946 0456   [Copy] [Call]`` — one way to reach someone."""

    #: str — what was copied (the view shows it in its status line)
    copied = Signal(str)
    #: str — a message for the status line (no handler for a link)
    notice = Signal(str)

    def __init__(self, method: ReachMethod, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.method = method
        self.setObjectName(f"reach_{method.kind.value}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        kind = QLabel(method.kind.label, self)
        kind.setFont(scaled(self.font(), BODY_SCALE))
        kind.setMinimumWidth(kind.fontMetrics().horizontalAdvance("Backup__"))
        self.value_label = ElidedLabel(method.display, self)
        self.value_label.setObjectName("reachValue")
        phone_like = method.kind.is_phone and method.e164 is not None
        self.value_label.setFont(
            number_font(self.font()) if phone_like else scaled(self.font(), BODY_SCALE, bold=True)
        )
        self.value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value_label.setAccessibleName(f"{method.kind.label} {method.display}")
        # one column for every number, so the Copy buttons line up down the page
        column = QFontMetrics(number_font(self.font())).horizontalAdvance(NUMBER_COLUMN)
        if phone_like:  # an address may be narrower than its text: elided, not cut off
            self.value_label.setMinimumWidth(column)
        layout.addWidget(kind)
        layout.addWidget(self.value_label)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("copyButton")
        self.copy_button.setToolTip(f"Copy {method.copy_text}")
        self.copy_button.setAccessibleName(f"Copy {method.kind.label} {method.display}")
        self.copy_button.clicked.connect(self.copy)
        layout.addWidget(self.copy_button)
        url = method.url
        self.open_button: QPushButton | None = None
        if url is not None:
            word = _ACTION_WORDS[url.split(":", 1)[0]]
            self.open_button = QPushButton(word, self)
            self.open_button.setObjectName("openButton")
            self.open_button.setToolTip(f"Open {url}")
            self.open_button.setAccessibleName(f"{word} {method.display}")
            self.open_button.clicked.connect(self.open)
            layout.addWidget(self.open_button)
        if method.problem:
            flag = QLabel(f"⚠ {method.problem}", self)
            flag.setObjectName("reachProblem")
            flag.setStyleSheet(f"color: {alert_color(is_dark()).name()};")
            flag.setWordWrap(True)
            layout.addWidget(flag, 1)
        else:
            layout.addStretch(1)

    def copy(self) -> None:
        text = self.method.copy_text
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)

    def open(self) -> None:
        url = self.method.url
        if url is None:
            return
        if not open_link(url):
            self.copy()
            self.notice.emit(
                f"Nothing on this computer opens {url.split(':', 1)[0]}: links; "
                f"{self.method.copy_text} is copied instead"
            )


class PersonBlock(QWidget):
    """A person in large type, the shift they hold, and every way to reach them."""

    copied = Signal(str)
    notice = Signal(str)

    def __init__(
        self, person: OnCallPerson, parent: QWidget | None = None, *, show_shift: bool = True
    ) -> None:
        super().__init__(parent)
        self.person = person
        self.setObjectName("personBlock")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 6)
        layout.setSpacing(4)
        head = QHBoxLayout()
        name = QLabel(person.name, self)
        name.setObjectName("personName")
        name.setFont(scaled(self.font(), NAME_SCALE, bold=True))
        head.addWidget(name)
        if person.override:
            badge = QLabel("OVERRIDE", self)
            badge.setStyleSheet(
                "QLabel { background: #6a1b9a; color: white; border-radius: 3px; "
                "padding: 1px 6px; font-weight: 700; }"
            )
            head.addWidget(badge)
        if show_shift and person.shift_end is not None:
            until = QLabel(f"on call until {local_time(person.shift_end, display_zone())}", self)
            until.setToolTip(hover(person.shift_end))
            until.setFont(scaled(self.font(), BODY_SCALE))
            head.addWidget(until)
        head.addStretch(1)
        layout.addLayout(head)
        self.rows: list[ReachRow] = []
        for method in person.reach:
            row = ReachRow(method, self)
            row.copied.connect(self.copied)
            row.notice.connect(self.notice)
            layout.addWidget(row)
            self.rows.append(row)
        if not person.reach:
            unknown = QLabel("No numbers known: not in the contacts (import them)", self)
            unknown.setObjectName("noNumbers")
            unknown.setFont(scaled(self.font(), BODY_SCALE))
            unknown.setStyleSheet(f"color: {alert_color(is_dark()).name()};")
            layout.addWidget(unknown)

    def row(self, kind: ReachKind) -> ReachRow | None:
        return next((r for r in self.rows if r.method.kind is kind), None)
