"""The emergency view: for a chosen service, the escalation chain as it stands right now.

One screen, readable under stress: each level with how long to wait at it, who
that is now (through its schedules), their numbers and other ways to reach
them with one-click copy and call/text/mail, how old the cached data is, and
the warnings that matter (a gap in coverage, a cache about to run out). Print
or save it as PDF: the page you would pin to the wall.

Every read runs on the reader lane; a reply older than the one on screen is
dropped. The answer is re-read every minute so "now" stays now.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, QStringListModel, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.domain.errors import FileWriteError
from console.domain.oncall import LevelStatus, OnCallAnswer, TargetStatus
from console.oncall import OnCallDirectory
from console.oncall.export import cache_ages, gap_notices, local_time
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.oncall.printout import chain_html, print_page, save_pdf
from ui.oncall.widgets import BODY_SCALE, NAME_SCALE, PersonBlock, scaled
from ui.theme import alert_color, is_dark, theme_notifier
from ui.times import display_zone, hover, notifier

log = logging.getLogger(__name__)

REFRESH_MS = 60_000
_SERVICE_KEY = "oncall/service"


class EmergencyView(QWidget):
    #: the answer on screen changed (tests, the window's status)
    answer_shown = Signal()

    def __init__(
        self, context: UiContext, directory: OnCallDirectory, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("emergencyView")
        self._context = context
        self._directory = directory
        self._issued = 0
        self._shown = 0
        self.answer: OnCallAnswer | None = None
        self.blocks: list[PersonBlock] = []

        title = QLabel("Who to call", self)
        title.setObjectName("paneTitle")
        title.setFont(scaled(self.font(), NAME_SCALE, bold=True))
        self.service_combo = QComboBox(self)
        self.service_combo.setObjectName("serviceCombo")
        self.service_combo.setEditable(True)
        self.service_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.service_combo.setAccessibleName("Service")
        self.service_combo.setToolTip("Type a few letters of the service that is down")
        self._line().setPlaceholderText("Service that is down…")
        self.service_combo.setFont(scaled(self.font(), BODY_SCALE))
        self.service_combo.setMinimumContentsLength(22)
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.service_combo.setCompleter(completer)
        self.service_combo.activated.connect(self._on_service_chosen)
        self._line().returnPressed.connect(self._on_service_typed)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("Read the cache again")
        self.refresh_button.clicked.connect(self.refresh)
        self.print_button = QPushButton("Print…", self)
        self.print_button.setObjectName("printButton")
        self.print_button.clicked.connect(self.print_chain)
        self.pdf_button = QPushButton("Save as PDF…", self)
        self.pdf_button.setObjectName("pdfButton")
        self.pdf_button.clicked.connect(self.choose_pdf)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.service_combo, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.print_button)
        top.addWidget(self.pdf_button)

        self.freshness = QLabel(self)
        self.freshness.setObjectName("freshness")
        self.freshness.setFont(scaled(self.font(), BODY_SCALE))
        self.freshness.setWordWrap(True)
        self.warnings = QLabel(self)
        self.warnings.setObjectName("oncallWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setFont(scaled(self.font(), BODY_SCALE, bold=True))
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings.hide()

        self.chain_area = QScrollArea(self)
        self.chain_area.setWidgetResizable(True)
        self.chain_area.setFrameShape(QFrame.Shape.NoFrame)
        self.chain = QWidget()
        self.chain.setObjectName("chain")
        self.chain_area.setWidget(self.chain)

        self.status = QLabel(self)
        self.status.setObjectName("oncallStatus")
        self.status.setFont(scaled(self.font(), BODY_SCALE))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.freshness)
        layout.addWidget(self.warnings)
        layout.addWidget(self.chain_area, 1)
        layout.addWidget(self.status)
        self._show_placeholder("Choose the service that is down to see who to call.")

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        # re-rendered from the answer shown (no read): times in the chosen zone, and
        # cards and alert colours after a live theme switch
        notifier().changed.connect(self._rerender)
        theme_notifier().changed.connect(self._rerender)

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        """First read: the services that have a policy, then the last service chosen."""
        self._context.runner.read(self._directory.services, self._on_services, self._on_failed)
        self._timer.start()

    def focus_service(self) -> None:
        self.service_combo.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._line().selectAll()

    def _line(self) -> QLineEdit:
        line = self.service_combo.lineEdit()
        assert line is not None  # the combo is editable
        return line

    def current_service(self) -> str | None:
        text = self.service_combo.currentText().strip()
        return text or None

    def show_service(self, name: str) -> None:
        """Show ``name``'s chain (the palette, the dependency map, a test)."""
        self.service_combo.setCurrentText(name)
        QSettings().setValue(_SERVICE_KEY, name)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        service = self.current_service()
        if service is None:
            return
        self._issued += 1
        seq = self._issued
        directory = self._directory
        self._context.runner.read(
            lambda: directory.who_is_on_call(service=service),
            lambda answer: self._on_answer(seq, answer),
            self._on_failed,
        )

    def page_html(self) -> str | None:
        if self.answer is None or self.answer.service is None:
            return None
        return chain_html(self.answer, now=self._directory.now())

    @Slot()
    def print_chain(self) -> None:
        html = self.page_html()
        if html is None:
            self.status.setText("Choose a service first: there is nothing to print yet.")
            return
        if print_page(html, self):
            self.status.setText("Sent to the printer.")

    @Slot()
    def choose_pdf(self) -> None:
        if self.page_html() is None:
            self.status.setText("Choose a service first: there is nothing to save yet.")
            return
        from PySide6.QtWidgets import QFileDialog  # loads its enums on first use

        settings = QSettings()
        folder = Path(str(settings.value("oncall/pdf_folder", str(Path.home()))))
        name = f"escalation-{self.current_service()}.pdf"
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save the escalation chain as PDF", str(folder / name), "PDF (*.pdf)"
        )
        if chosen:
            settings.setValue("oncall/pdf_folder", str(Path(chosen).parent))
            self.save_pdf(Path(chosen))

    def save_pdf(self, path: Path) -> Path | None:
        html = self.page_html()
        if html is None:
            return None
        try:
            save_pdf(html, path)
        except FileWriteError as error:
            self.status.setText(str(error))
            return None
        self.status.setText(f"Saved {path}")
        return path

    # ------------------------------------------------------------------ slots

    def _on_services(self, names: list[str]) -> None:
        self._names.setStringList(names)
        current = self.service_combo.currentText()
        self.service_combo.blockSignals(True)
        try:
            self.service_combo.clear()
            self.service_combo.addItems(names)
            remembered = str(QSettings().value(_SERVICE_KEY, "") or "")
            chosen = current or remembered
            if chosen:
                self.service_combo.setCurrentText(chosen)
            else:
                self.service_combo.setCurrentIndex(-1)
        finally:
            self.service_combo.blockSignals(False)
        if self.current_service():
            self.refresh()

    @Slot(int)
    def _on_service_chosen(self, _index: int) -> None:
        self.show_service(self.service_combo.currentText())

    @Slot()
    def _on_service_typed(self) -> None:
        text = self.service_combo.currentText().strip()
        matches = [n for n in self._names.stringList() if text.casefold() in n.casefold()]
        if text and text not in self._names.stringList() and len(matches) == 1:
            text = matches[0]
        if text:
            self.show_service(text)

    def _on_failed(self, error: BaseException) -> None:
        report_failure(self._context.events, error, "Reading the on-call cache")

    def _on_answer(self, seq: int, answer: OnCallAnswer) -> None:
        if seq <= self._shown:
            log.debug("dropped on-call answer %d (showing %d)", seq, self._shown)
            return
        self._shown = seq
        self._show_answer(answer)

    def _show_answer(self, answer: OnCallAnswer) -> None:
        self.answer = answer
        now = self._directory.now()
        zone = display_zone()
        self.freshness.setText(f"As of {local_time(answer.at, zone)}. {cache_ages(answer, now)}")
        self.freshness.setToolTip(hover(answer.at))
        lines = list(answer.warnings)
        for status in answer.schedules:
            lines += [f"{status.name}: {notice}" for notice in gap_notices(status, zone)]
        self.warnings.setText("\n".join(f"⚠ {line}" for line in lines))
        self.warnings.setStyleSheet(f"color: {alert_color(is_dark()).name()};")
        self.warnings.setVisible(bool(lines))
        self._build_chain(answer)
        self.answer_shown.emit()

    @Slot()
    def _rerender(self) -> None:
        if self.answer is not None:
            self._show_answer(self.answer)

    # ------------------------------------------------------------------ build

    def _show_placeholder(self, text: str) -> None:
        holder = QWidget()
        layout = QVBoxLayout(holder)
        label = QLabel(text, holder)
        label.setObjectName("chainPlaceholder")
        label.setFont(scaled(self.font(), BODY_SCALE))
        label.setWordWrap(True)
        layout.addWidget(label)
        layout.addStretch(1)
        self._replace_chain(holder)

    def _replace_chain(self, widget: QWidget) -> None:
        old = self.chain_area.takeWidget()
        if old is not None:
            old.deleteLater()
        widget.setObjectName("chain")
        self.chain = widget
        self.chain_area.setWidget(widget)

    def _build_chain(self, answer: OnCallAnswer) -> None:
        self.blocks = []
        if not answer.levels:
            self._show_placeholder(
                f"No escalation policy is linked to {answer.service!r}. Import the "
                "escalation policies (responder-console import oncall FILE) or choose "
                "another service."
            )
            return
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(10)
        policy = QLabel(f"Escalation policy: {answer.policy}", holder)
        policy.setFont(scaled(self.font(), BODY_SCALE))
        layout.addWidget(policy)
        for level in answer.levels:
            layout.addWidget(self._level_card(level, holder))
        layout.addStretch(1)
        self._replace_chain(holder)

    def _level_card(self, level: LevelStatus, parent: QWidget) -> QFrame:
        card = QFrame(parent)
        card.setObjectName(f"level{level.level}")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        # the application's palette: a widget's own copy follows a theme switch only
        # after the posted palette events, later than the switch's restyle runs
        palette = QApplication.palette()
        card.setStyleSheet(
            f"QFrame#{card.objectName()} {{ border: 2px solid {palette.mid().color().name()}; "
            f"border-radius: 6px; background: {palette.base().color().name()}; }}"
        )
        layout = QVBoxLayout(card)
        layout.setContentsMargins(14, 10, 14, 10)
        when = (
            "page first"
            if level.starts_after_minutes == 0
            else f"paged {level.starts_after_minutes} min after the first page"
        )
        last = self.answer is not None and level is self.answer.levels[-1]
        wait = "last level" if last else f"wait {level.delay_minutes} min before the next level"
        head = QLabel(f"Level {level.level} — {when} · {wait}", card)
        head.setObjectName("levelHead")
        head.setFont(scaled(self.font(), BODY_SCALE, bold=True))
        head.setWordWrap(True)
        layout.addWidget(head)
        for target in level.targets:
            self._add_target(target, card, layout)
        return card

    def _add_target(self, target: TargetStatus, card: QFrame, layout: QVBoxLayout) -> None:
        what = {"schedule": "schedule", "team": "team", "person": "person"}[target.kind.value]
        label = QLabel(f"{target.name} ({what})", card)
        label.setFont(scaled(self.font(), BODY_SCALE))
        layout.addWidget(label)
        for person in target.people:
            block = PersonBlock(person, card, show_shift=target.kind.value == "schedule")
            block.copied.connect(self._on_copied)
            block.notice.connect(self.status.setText)
            layout.addWidget(block)
            self.blocks.append(block)
        if target.problem:
            problem = QLabel(f"⚠ {target.problem}", card)
            problem.setObjectName("targetProblem")
            problem.setFont(scaled(self.font(), BODY_SCALE, bold=True))
            problem.setStyleSheet(f"color: {alert_color(is_dark()).name()};")
            layout.addWidget(problem)

    @Slot(str)
    def _on_copied(self, text: str) -> None:
        self.status.setText(f"Copied {text}")
