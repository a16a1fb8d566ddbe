"""The runbook viewer: safe rendered HTML, copy buttons, guarded links, follow mode.

* Nothing is fetched: :class:`RunbookBrowser` never follows a link by itself and
  returns nothing for any remote resource; relative images load only from the
  runbook's own folder.
* ``action:copy/N`` copies code block N; ``#anchor`` scrolls; web, mail and
  phone links open only after :meth:`ConfirmOpenLink.ask` showed the full URL;
  every other scheme is refused with a message.
* Rendering runs on the read lane ("Rendering…"); the HTML is set on the GUI thread.
* Following an incident, the steps panel ticks steps into the incident's
  timeline (``runbook_step``) and copies are logged (``command_copied``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QShowEvent,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.domain.incident import EntryKind
from console.library import RUNBOOK_SUFFIXES, RunbookDocument, RunbookLibrary
from console.render.cache import RenderCache
from ui.context import UiContext
from ui.incident_view import report_failure
from ui.models.roles import ItemRole
from ui.runbooks.models import StepsModel
from ui.tasks import CancelToken
from ui.theme import alert_color, is_dark

if TYPE_CHECKING:
    from collections.abc import Iterator

    from console.ops.incidents import Outcome
    from console.render import RenderedPart, RenderedRunbook, RunbookAssembly

log = logging.getLogger(__name__)

#: schemes a runbook link may open (after the confirm dialog)
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MAX_IMAGE_BYTES = 10 * 1024 * 1024
NOTICE_MS = 5000
LOGGED_COMMAND_CHARS = 120
#: HTML appended to the view per batch of parts (~50 ms of Qt layout; ~5 parts)
BATCH_HTML_CHARS = 300_000


@dataclass(frozen=True)
class _Opened:
    """What the read lane hands back when a runbook is opened."""

    document: RunbookDocument
    key: tuple[str, bool]  # the render cache key
    cached: RenderedRunbook | None  # the whole render, when cached
    first: RenderedPart | None  # otherwise the first part …
    parts: Iterator[RenderedPart] | None  # … and the rest, rendered on demand
    done: frozenset[int]
    today: Any


def staleness_text(document: RunbookDocument, today: Any) -> str:
    """The review line of the header, e.g. ``Last reviewed 2026-03-10 (every 90 days) —
    overdue by 168 days`` or ``Reviewed 12 days ago (every 90 days)``."""
    every = f"every {document.review_every_days} days"
    last = document.last_reviewed
    if last is None:
        return f"Never reviewed ({every}) — check each step before you run it"
    if document.overdue:
        late = (today - document.review_due).days
        return f"Last reviewed {last.isoformat()} ({every}) — overdue by {late} days"
    days = (today - last).days
    ago = "today" if days <= 0 else ("1 day ago" if days == 1 else f"{days} days ago")
    return f"Reviewed {ago} ({every}; next review {document.review_due.isoformat()})"


def path_text(document: RunbookDocument) -> str:
    """The source it came from, the file, the format it was read as, and whether it
    is a landing page."""
    parts = [f"source {document.source}"] if document.source else []
    parts += [document.path, f"read as {document.format}"]
    if document.landing:
        parts.append("landing page of its folder")
    return "   ·   ".join(parts)


def import_warnings_text(document: RunbookDocument) -> str:
    """``Import warnings (fix in the file): line 6: code fence never closed …``."""
    if not document.warnings:
        return ""
    return "Import warnings (fix in the file): " + "; ".join(document.warnings)


def muted_color() -> str:
    """Secondary text (paths, warnings), readable on the palette in use."""
    return "#9198a1" if is_dark() else "#59636e"


def open_external(url: QUrl) -> bool:
    """Hand a confirmed link to the desktop (monkeypatched in tests)."""
    return QDesktopServices.openUrl(url)


class ConfirmOpenLink:
    """The question asked before a runbook link leaves the application."""

    @classmethod
    def ask(cls, parent: QWidget | None, url: str) -> bool:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Open link?")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText("This runbook link opens outside Responder Console:")
        box.setInformativeText(url)
        box.setStandardButtons(QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Open


class RunbookBrowser(QTextBrowser):
    """A QTextBrowser that follows no link and fetches nothing by itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.base_folder: Path | None = None

    def loadResource(self, type: int, url: QUrl | str) -> Any:  # noqa: N802 - Qt override
        if isinstance(url, str):
            url = QUrl(url)
        scheme = url.scheme().lower()
        if scheme == "data" and type == int(QTextDocument.ResourceType.ImageResource):
            return super().loadResource(type, url)
        if scheme or url.host():
            return None  # remote (or any other scheme): nothing is fetched
        if type != int(QTextDocument.ResourceType.ImageResource) or self.base_folder is None:
            return None
        relative = url.path()
        if not relative or relative.startswith(("/", "\\")):
            return None
        folder = self.base_folder.resolve()
        try:
            path = (folder / relative).resolve()
            if not path.is_relative_to(folder) or not path.is_file():
                return None
            if path.stat().st_size > MAX_IMAGE_BYTES:
                return None
        except OSError:
            return None
        image = QImage(str(path))
        return None if image.isNull() else image


class RunbookViewer(QWidget):
    #: RunbookDocument — a runbook was rendered and shown
    loaded = Signal(object)
    #: str — the inline notice changed ("Copied …", "Not opened: …"); tests and the status bar
    notice_shown = Signal(str)
    #: int — parts of the runbook shown so far (the first part, then after each batch)
    part_shown = Signal(int)

    def __init__(
        self,
        context: UiContext,
        library: RunbookLibrary,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._library = library
        self._document: RunbookDocument | None = None
        self._rendered: RenderedRunbook | None = None
        self._rendered_dark = False
        self._incident_id: int | None = None
        self._pending_step: int | None = None  # the step whose outcome line is open
        #: (incident, runbook title, step, entry uuid) of the step the outcome line is for
        self._outcome_for: tuple[int, str, int, Any] | None = None
        #: an outcome typed before its step's entry came back from the writer
        self._note_waiting: tuple[int, str] | None = None
        self._render_seq = 0
        self._pending_anchor = ""  # scroll here once the part holding it is shown
        self._render_cache = RenderCache()
        self._render_token = CancelToken()
        self._assembly: RunbookAssembly | None = None  # parts shown so far (None: cached)
        self._done_seq = 0

        # header ------------------------------------------------------------------
        self.title_label = QLabel("No runbook open", self)
        self.title_label.setObjectName("runbookTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        title_font = QFont(self.title_label.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.45)
        title_font.setBold(True)
        self.title_label.setFont(title_font)
        self.meta_label = QLabel(self)
        self.meta_label.setWordWrap(True)
        self.staleness_label = QLabel(self)
        self.staleness_label.setObjectName("runbookStaleness")
        self.staleness_label.setWordWrap(True)
        self.path_label = self._small_label()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings_label = self._small_label()
        #: what the import found wrong in the file but showed anyway (issue 15)
        self.import_warnings_label = self._small_label()
        self.import_warnings_label.setObjectName("runbookImportWarnings")
        self.import_warnings_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.notice_label = QLabel(self)
        self.notice_label.setObjectName("runbookNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.hide()
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.setInterval(NOTICE_MS)
        self._notice_timer.timeout.connect(self.notice_label.hide)

        self.follow_bar = QFrame(self)
        self.follow_bar.setObjectName("followBar")
        self.follow_label = QLabel(self.follow_bar)
        self.follow_label.setWordWrap(True)
        self.stop_follow_button = QPushButton("Stop following", self.follow_bar)
        self.stop_follow_button.clicked.connect(self._stop_following)
        follow_layout = QHBoxLayout(self.follow_bar)
        follow_layout.setContentsMargins(8, 4, 8, 4)
        follow_layout.addWidget(self.follow_label, 1)
        follow_layout.addWidget(self.stop_follow_button)
        self.follow_bar.hide()

        # body: document | steps --------------------------------------------------------
        self.browser = RunbookBrowser(self)
        self.browser.setObjectName("runbookBrowser")
        self.browser.setAccessibleName("Runbook")
        self.browser.anchorClicked.connect(self.handle_link)
        self.browser.document().setDocumentMargin(14)
        self._show_placeholder()

        self.steps_model = StepsModel(self)
        self.steps_model.tick_requested.connect(self._on_tick_requested)
        self.steps_view = QListView(self)
        self.steps_view.setObjectName("runbookSteps")
        self.steps_view.setAccessibleName("Runbook steps")
        self.steps_view.setModel(self.steps_model)
        self.steps_view.setWordWrap(True)
        self.steps_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.steps_panel_width = 340
        self.steps_view.setSpacing(2)
        self.steps_view.clicked.connect(self._on_step_clicked)
        self.note_prompt = QLabel(self)
        self.note_prompt.setWordWrap(True)
        self.note_edit = QLineEdit(self)
        self.note_edit.setObjectName("stepOutcome")
        self.note_edit.setPlaceholderText("Outcome (optional): Enter adds it, Esc skips")
        self.note_edit.setAccessibleName("Step outcome")
        self.note_edit.returnPressed.connect(self.confirm_step)
        self.note_edit.installEventFilter(self)
        self.log_button = QPushButton("Add outcome", self)
        self.log_button.clicked.connect(self.confirm_step)
        self.note_row = QWidget(self)
        note_layout = QVBoxLayout(self.note_row)
        note_layout.setContentsMargins(0, 0, 0, 0)
        note_layout.addWidget(self.note_prompt)
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.note_edit, 1)
        edit_row.addWidget(self.log_button)
        note_layout.addLayout(edit_row)
        self.note_row.hide()
        self.steps_panel = QWidget(self)
        steps_layout = QVBoxLayout(self.steps_panel)
        steps_layout.setContentsMargins(0, 0, 0, 0)
        steps_title = QLabel("Steps", self.steps_panel)
        steps_title.setObjectName("paneTitle")
        steps_layout.addWidget(steps_title)
        steps_layout.addWidget(self.steps_view, 1)
        steps_layout.addWidget(self.note_row)
        self.steps_panel.hide()

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.steps_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.title_label)
        layout.addWidget(self.meta_label)
        layout.addWidget(self.staleness_label)
        layout.addWidget(self.path_label)
        layout.addWidget(self.warnings_label)
        layout.addWidget(self.import_warnings_label)
        layout.addWidget(self.follow_bar)
        layout.addWidget(self.notice_label)
        layout.addWidget(self.splitter, 1)
        for label in (
            self.meta_label,
            self.staleness_label,
            self.path_label,
            self.warnings_label,
            self.import_warnings_label,
        ):
            label.hide()

    def _small_label(self) -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.88)
        label.setFont(font)
        return label

    # ------------------------------------------------------------------ state

    @property
    def document(self) -> RunbookDocument | None:
        return self._document

    @property
    def rendered(self) -> RenderedRunbook | None:
        return self._rendered

    @property
    def following(self) -> int | None:
        return self._incident_id

    @property
    def pending_step(self) -> int | None:
        return self._pending_step

    # ------------------------------------------------------------------ open

    def open_runbook(self, runbook_id: int | str) -> None:
        """Read a runbook and render its first part on the read lane; the rest follows in
        batches (:meth:`_on_batch`). A newer request cancels the stale work."""
        self._render_seq += 1
        seq = self._render_seq
        self._render_token.cancel()
        self._render_token = token = CancelToken()
        dark = is_dark()
        library = self._library
        queries = self._context.workspace.queries
        incident_id = self._incident_id
        cache = self._render_cache

        def work() -> _Opened:
            # markdown + pygments load off the GUI thread
            from console.render import render_key, render_progressively

            document = library.get(runbook_id)
            key = render_key(document.body, dark)
            cached = cache.get(key)
            parts = None if cached is not None else render_progressively(document.body, dark=dark)
            first = None if parts is None or token.cancelled else next(parts)
            done = (
                queries.runbook_steps_done(incident_id, document.slug)
                if incident_id is not None
                else frozenset()
            )
            return _Opened(document, key, cached, first, parts, done, library.today())

        self.show_notice("Rendering…", alert=False, sticky=True)
        self._context.runner.read(
            work,
            lambda result: self._on_rendered(seq, dark, incident_id, result),
            self._on_render_failed,
        )

    def _on_rendered(self, seq: int, dark: bool, incident_id: int | None, result: _Opened) -> None:
        if seq != self._render_seq:
            return  # another runbook was asked for since
        document = result.document
        keep_scroll = self._document is not None and self._document.id == document.id
        scroll = self.browser.verticalScrollBar().value() if keep_scroll else 0
        in_flight = self.steps_model.pending() if keep_scroll else frozenset()
        if not keep_scroll:  # the same runbook re-rendered (theme, refresh) keeps its outcome line
            self._cancel_pending()
        from console.render import PAGE_TAIL, RunbookAssembly, page_head
        from console.render.style import stylesheet

        self._document, self._rendered_dark = document, dark
        self.browser.base_folder = document.folder
        self.browser.document().setDefaultStyleSheet(stylesheet(dark))  # for appended parts
        done = result.done
        if incident_id != self._incident_id:  # follow() changed while rendering
            done = frozenset()
            self._load_done_steps()
        if result.cached is not None:
            self._assembly = None
            rendered = result.cached
            self.browser.setHtml(rendered.html)
        else:
            assert result.first is not None
            assert result.parts is not None
            self._assembly = RunbookAssembly(dark=dark)
            self._assembly.add(result.first)
            rendered = self._assembly.result()
            self.browser.setHtml(page_head(dark) + result.first.html + PAGE_TAIL)
        self._rendered = rendered
        self.browser.verticalScrollBar().setValue(scroll)
        self._fill_header(document, rendered, result.today)
        self.steps_model.set_steps(rendered.steps, done, pending=in_flight)
        self._update_follow()
        self._scroll_to_pending_anchor()
        if self._assembly is None:
            self._finish_render()
            return
        if self._assembly.complete:
            self.part_shown.emit(self._assembly.parts)
            self._render_cache.put(result.key, rendered)
            self._finish_render()
            return
        self._show_progress()
        self.part_shown.emit(self._assembly.parts)
        assert result.parts is not None
        self._next_batch(seq, result.key, result.parts)

    def _next_batch(self, seq: int, key: tuple[str, bool], parts: Iterator[RenderedPart]) -> None:
        token = self._render_token

        def work() -> list[RenderedPart]:
            batch: list[RenderedPart] = []
            size = 0
            for part in parts:  # one part at a time: a newer runbook stops it early
                batch.append(part)
                size += len(part.html)
                if token.cancelled or size >= BATCH_HTML_CHARS or part.last:
                    break
            return batch

        self._context.runner.read(
            work,
            lambda batch: self._on_batch(seq, key, parts, batch),
            self._on_render_failed,
        )

    def _on_batch(
        self,
        seq: int,
        key: tuple[str, bool],
        parts: Iterator[RenderedPart],
        batch: list[RenderedPart],
    ) -> None:
        assembly = self._assembly
        if seq != self._render_seq or assembly is None:
            return
        bar = self.browser.verticalScrollBar()
        scroll = bar.value()
        cursor = QTextCursor(self.browser.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml("".join(part.html for part in batch))  # one layout per batch
        bar.setValue(scroll)  # the text above did not move: neither does the view
        for part in batch:
            assembly.add(part)
        rendered = assembly.result()
        self._rendered = rendered
        self.steps_model.extend_steps(rendered.steps)
        self._update_follow()
        self._scroll_to_pending_anchor()
        if assembly.complete:
            self.part_shown.emit(assembly.parts)
            self._render_cache.put(key, rendered)
            if self._document is not None:
                self._fill_header(self._document, rendered, self._library.today())
            self._finish_render()
            return
        self._show_progress()
        self.part_shown.emit(assembly.parts)
        self._next_batch(seq, key, parts)

    def _show_progress(self) -> None:
        assembly = self._assembly
        if assembly is not None and assembly.source_total:
            percent = int(100 * assembly.source_end / assembly.source_total)
            self.show_notice(f"Rendering… {percent}%", alert=False, sticky=True)

    def _finish_render(self) -> None:
        self.hide_notice()
        if self._document is not None:
            self.loaded.emit(self._document)

    @property
    def rendering(self) -> bool:
        """Parts of the open runbook are still being rendered."""
        return self._assembly is not None and not self._assembly.complete

    def _scroll_to_pending_anchor(self) -> None:
        """Scroll to the anchor asked for once the part holding it is shown."""
        anchor = self._pending_anchor
        if not anchor:
            return
        if self.rendering and self._assembly is not None and anchor not in self._assembly.anchors:
            return  # not rendered yet: the next batch tries again
        self._pending_anchor = ""
        self.browser.scrollToAnchor(anchor)

    def _on_render_failed(self, error: BaseException) -> None:
        self.hide_notice()
        report_failure(self._context.events, error, "Opening the runbook")

    def _fill_header(
        self, document: RunbookDocument, rendered: RenderedRunbook, today: Any
    ) -> None:
        self.title_label.setText(document.title)
        meta = [f"Owner: {document.owner or 'none named'}"]
        if document.services:
            meta.append("Services: " + ", ".join(document.services))
        if document.severity_hint:
            meta.append(f"Severity hint: {document.severity_hint}")
        self.meta_label.setText("   ·   ".join(meta))
        self.staleness_label.setText(staleness_text(document, today))
        muted = muted_color()
        self.path_label.setStyleSheet(f"color: {muted};")
        self.warnings_label.setStyleSheet(f"color: {muted};")
        if document.overdue:
            colour = alert_color(is_dark()).name()
            self.staleness_label.setStyleSheet(f"color: {colour}; font-weight: 600;")
        else:
            self.staleness_label.setStyleSheet(f"color: {muted};")
        self.path_label.setText(path_text(document))
        self.path_label.setToolTip(document.path)
        self.import_warnings_label.setStyleSheet(f"color: {alert_color(is_dark()).name()};")
        self.import_warnings_label.setText(import_warnings_text(document))
        self.import_warnings_label.setToolTip("\n".join(document.warnings))
        self.import_warnings_label.setVisible(bool(document.warnings))
        if rendered.warnings:
            shown = "; ".join(rendered.warnings[:4])
            more = f" (+{len(rendered.warnings) - 4} more)" if len(rendered.warnings) > 4 else ""
            self.warnings_label.setText(f"Not shown, for safety: {shown}{more}")
            self.warnings_label.setToolTip("\n".join(rendered.warnings))
        self.warnings_label.setVisible(bool(rendered.warnings))
        for label in (self.meta_label, self.staleness_label, self.path_label):
            label.show()

    def _show_placeholder(self) -> None:
        self.browser.setHtml(
            "<p style='color: gray'>Choose a runbook from the list (Ctrl+Shift+F searches).</p>"
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.isVisible():
            self._rerender_for_theme()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._rerender_for_theme()  # the theme may have changed while hidden

    def _rerender_for_theme(self) -> None:
        """The HTML carries its colours: render again when the palette turned light/dark."""
        if self._document is not None and is_dark() != self._rendered_dark:
            self._rendered_dark = is_dark()  # one re-render per change
            self.open_runbook(self._document.id)

    # ------------------------------------------------------------------ links

    @Slot(QUrl)
    def handle_link(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == "action":
            kind, _, number = url.path().partition("/")
            if kind == "copy" and number.isdigit():
                self.copy_code(int(number))
            else:
                self.show_notice(f"Unknown action: {url.toString()}")
            return
        if not scheme and not url.path() and url.hasFragment():
            self._pending_anchor = url.fragment()
            self._scroll_to_pending_anchor()  # or once its part arrives
            return
        if scheme in EXTERNAL_SCHEMES:
            shown = url.toString()
            encoded = url.toString(QUrl.ComponentFormattingOption.FullyEncoded)
            if encoded != shown:
                shown += f"\n\n(as sent: {encoded})"
            if ConfirmOpenLink.ask(self, shown):
                open_external(url)
            return
        if not scheme:
            target = url.path()
            if self._document is not None and target.lower().endswith(RUNBOOK_SUFFIXES):
                self.open_linked(self._document, target, url.fragment())
            else:
                self.show_notice(
                    f"Only links to other runbooks are opened from a runbook: {url.toString()}"
                )
            return
        self.show_notice(f"Not opened: {scheme}: links are refused ({url.toString()[:120]})")

    def open_linked(self, source: RunbookDocument, target: str, anchor: str = "") -> None:
        """Open the imported runbook a relative link points at, at its ``anchor``."""
        library = self._library

        def found(runbook_id: int) -> None:
            self._pending_anchor = anchor
            self.open_runbook(runbook_id)

        self._context.runner.read(
            lambda: library.linked(source.path, target),
            found,
            lambda error: self.show_notice(f"Not opened: {error}"),
        )

    def copy_code(self, index: int) -> None:
        rendered, document = self._rendered, self._document
        if rendered is None or document is None or not 0 <= index < len(rendered.code_blocks):
            self.show_notice(f"No code block {index} in this runbook")
            return
        block = rendered.code_blocks[index]
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(block.code)
        where = f" (step {block.step})" if block.step is not None else ""
        incident_id = self._incident_id
        logged = f"; logged to incident #{incident_id}" if incident_id is not None else ""
        self.show_notice(
            f"Copied {block.language or 'code'} block{where} to the clipboard{logged}", alert=False
        )
        if incident_id is not None:
            self._log_copy(incident_id, document, block.step, block.code)

    # ------------------------------------------------------------------ notices

    def show_notice(self, text: str, *, alert: bool = True, sticky: bool = False) -> None:
        colour = alert_color(is_dark()).name() if alert else "palette(text)"
        self.notice_label.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.notice_label.setText(text)
        self.notice_label.show()
        if sticky:
            self._notice_timer.stop()
        else:
            self._notice_timer.start()
        self.notice_shown.emit(text)

    def hide_notice(self) -> None:
        self._notice_timer.stop()
        self.notice_label.hide()

    # ------------------------------------------------------------------ follow mode

    def follow(self, incident_id: int | None) -> None:
        """Log ticked steps and copied commands to ``incident_id``; None stops following."""
        if incident_id != self._incident_id:
            self._cancel_pending()
        self._incident_id = incident_id
        if incident_id is None:
            self.steps_model.set_done(())
        else:
            self._load_done_steps()
        self._update_follow()

    @Slot()
    def _stop_following(self) -> None:
        self.follow(None)

    def _update_follow(self) -> None:
        following = self._incident_id is not None
        self.steps_model.set_checkable(following)
        self.follow_bar.setVisible(following)
        if following:
            self.follow_label.setText(
                f"Following in incident #{self._incident_id}: a ticked step or a copied "
                "command is logged to its timeline at once (undo a tick with /fix)."
            )
        has_steps = self.steps_model.rowCount() > 0
        show_steps = following and self._document is not None
        if show_steps and not self.steps_panel.isVisibleTo(self):
            total = max(self.splitter.width(), 600)
            width = max(220, min(self.steps_panel_width, total // 3))
            self.steps_panel.show()
            self.splitter.setSizes([total - width, width])
        self.steps_panel.setVisible(show_steps)
        if following and self._document is not None and not has_steps:
            self.note_prompt.setText("This runbook has no numbered steps.")

    def _load_done_steps(self) -> None:
        document, incident_id = self._document, self._incident_id
        if document is None or incident_id is None:
            return
        self._done_seq += 1
        seq = self._done_seq
        queries = self._context.workspace.queries
        self._context.runner.read(
            lambda: queries.runbook_steps_done(incident_id, document.slug),
            lambda done: self._on_done_steps(seq, document.slug, incident_id, done),
            lambda error: report_failure(self._context.events, error, "Reading the done steps"),
        )

    def _on_done_steps(self, seq: int, slug: str, incident_id: int, done: frozenset[int]) -> None:
        document = self._document
        if (
            seq == self._done_seq
            and document is not None
            and document.slug == slug
            and incident_id == self._incident_id
        ):
            self.steps_model.set_done(done | self.steps_model.done())

    @Slot(QModelIndex)
    def _on_step_clicked(self, index: QModelIndex) -> None:
        number = index.data(ItemRole.NUMBER)
        if isinstance(number, int):
            self.browser.scrollToAnchor(f"step-{number}")

    def tick_step(self, number: int) -> bool:
        """Tick step ``number`` as a click on its box would (keyboard and tests)."""
        row = self.steps_model.row_of(number)
        if row is None:
            return False
        return self.steps_model.setData(
            self.steps_model.index(row, 0), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole
        )

    @Slot(int)
    def _on_tick_requested(self, number: int) -> None:
        """A ticked step is logged at once (as the follow bar promises; undo with /fix);
        the outcome line below then lets the responder add what they saw to that entry."""
        document, incident_id = self._document, self._incident_id
        if document is None or incident_id is None:
            self.steps_model.clear_pending(number)
            return
        self._finish_outcome()  # an open outcome line for an earlier step is added first
        self._pending_step = number
        step = self._step(number)
        text = f"Runbook {document.title}: step {number} done"
        data = {"runbook_id": document.slug, "step": number, "outcome": ""}
        service = self._context.workspace.incidents
        slug = document.slug
        self._context.runner.write(
            lambda: service.log(incident_id, EntryKind.RUNBOOK_STEP, text, data),
            lambda outcome: self._step_logged(slug, incident_id, number, outcome),
            lambda error: self._step_failed(slug, number, error),
        )
        self.note_prompt.setText(
            f"Step {number} logged: {step.text if step is not None else ''}\n"
            "Add the outcome (optional); undo with /fix in the quick entry."
        )
        self.note_edit.clear()
        self.note_row.show()
        self.note_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def confirm_step(self) -> None:
        """Add the outcome typed to the logged step's entry (a correction; the tick
        itself was logged when it was made). Nothing typed: nothing more is written."""
        self._finish_outcome()

    def _finish_outcome(self) -> None:
        number, logged = self._pending_step, self._outcome_for
        note = " ".join(self.note_edit.text().split())
        self._pending_step = None
        self._outcome_for = None
        self.note_edit.clear()
        self.note_row.hide()
        if number is None or not note:
            return
        if logged is None or logged[2] != number:  # the step's entry is still being written
            self._note_waiting = (number, note)
            return
        self._add_outcome(logged, note)

    def _add_outcome(self, logged: tuple[int, str, int, Any], note: str) -> None:
        incident_id, title, number, entry_uuid = logged
        text = f"Runbook {title}: step {number} done — {note}"
        service = self._context.workspace.incidents
        self._context.runner.write(
            lambda: service.correct(incident_id, entry_uuid, text),
            lambda outcome: self._context.events.changes_applied.emit(outcome.changes),
            lambda error: report_failure(
                self._context.events, error, f"Adding the outcome of step {number}"
            ),
        )

    def cancel_step(self) -> None:
        self._cancel_pending()

    def _cancel_pending(self) -> None:
        """Close the outcome line. The tick stays: it was logged when it was made."""
        self._pending_step = None
        self.note_row.hide()
        self.note_edit.clear()

    def _step_logged(self, slug: str, incident_id: int, number: int, outcome: Outcome) -> None:
        document = self._document
        if document is not None and document.slug == slug:
            # marked even if the view re-rendered meanwhile: a tick is never dropped
            self.steps_model.mark_done(number)
        if outcome.entry is not None:
            title = document.title if document is not None else slug
            logged = (incident_id, title, number, outcome.entry.uuid)
            waiting, self._note_waiting = self._note_waiting, None
            if waiting is not None and waiting[0] == number:
                self._add_outcome(logged, waiting[1])
            elif self._pending_step == number:
                self._outcome_for = logged
        self._context.events.changes_applied.emit(outcome.changes)

    def _step_failed(self, slug: str, number: int, error: BaseException) -> None:
        document = self._document
        if document is not None and document.slug == slug:
            self.steps_model.clear_pending(number)
        report_failure(self._context.events, error, f"Logging step {number}")

    def _log_copy(
        self, incident_id: int, document: RunbookDocument, step: int | None, code: str
    ) -> None:
        lines = code.strip().splitlines()
        first = lines[0] if lines else ""
        if len(first) > LOGGED_COMMAND_CHARS:
            first = first[: LOGGED_COMMAND_CHARS - 1] + "…"
        elif len(lines) > 1:
            first += " …"
        where = f" (step {step})" if step is not None else ""
        text = f"Runbook {document.title}: copied command{where}: {first}"
        data = {"runbook_id": document.slug, "step": step, "command": code}
        service = self._context.workspace.incidents
        self._context.runner.write(
            lambda: service.log(incident_id, EntryKind.COMMAND_COPIED, text, data),
            lambda outcome: self._context.events.changes_applied.emit(outcome.changes),
            lambda error: report_failure(self._context.events, error, "Logging the copied command"),
        )

    def _step(self, number: int) -> Any:
        for step in self.steps_model.steps():
            if step.number == number:
                return step
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.note_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self._cancel_pending()
            self.steps_view.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        return super().eventFilter(watched, event)
