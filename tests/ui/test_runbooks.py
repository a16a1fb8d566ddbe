"""The runbooks area: search-as-you-type, the safe viewer, follow mode, GUI import."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QImage, QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from console.domain.clock import ManualClock
from console.domain.errors import ConsoleError
from console.domain.incident import EntryKind, Severity
from console.library import RunbookLibrary, library_for
from console.ops.workspace import Workspace
from console.search.runbooks import SearchResult
from tests.ui.conftest import OFFSCREEN_NOTICE, check_model
from ui.context import UiContext
from ui.events import AppEvents
from ui.main_window import MainWindow
from ui.models.roles import ItemRole
from ui.runbooks import viewer as viewer_module
from ui.runbooks.area import RunbooksArea
from ui.runbooks.library_view import RunbookLibraryView
from ui.runbooks.models import (
    RunbookResultsModel,
    clean_snippet,
    snippet_html,
    snippet_segments,
)
from ui.runbooks.viewer import ConfirmOpenLink, RunbookViewer, staleness_text
from ui.tasks import TaskRunner
from ui.theme import alert_color, is_dark

if TYPE_CHECKING:
    from pytestqt.modeltest import ModelTester

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICE)

REPO_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MALICIOUS = """---
id: evil
title: Evil runbook
owner: team-red
last_reviewed: 2026-11-01
---
# Evil runbook

<script>alert("pwned")</script>

![remote](https://evil.example/track.png) ![local](img/ok.png) ![escape](../outside.png)

[web link](https://status.example.com/page?q=1) and [js](javascript:alert(1)).

## Resolution

1. Restart the thing.

    ```bash
    systemctl restart thing && echo "done"
    ```
"""


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def rb_workspace(tmp_path: Path) -> Iterator[Workspace]:
    opened = Workspace.open(tmp_path / "data", actor="tester", clock=ManualClock(NOW))
    report = library_for(opened).import_paths([REPO_RUNBOOKS])
    assert report.refused == []
    yield opened
    opened.close()


@pytest.fixture
def rb_context(rb_workspace: Workspace) -> Iterator[UiContext]:
    runner = TaskRunner(inline=True)
    yield UiContext(
        workspace=rb_workspace, runner=runner, events=AppEvents(), clock=rb_workspace.clock
    )
    runner.shutdown()


@pytest.fixture
def rb_pool_context(rb_workspace: Workspace) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(
        workspace=rb_workspace, runner=runner, events=AppEvents(), clock=rb_workspace.clock
    )
    runner.shutdown()


@pytest.fixture
def library(rb_context: UiContext) -> RunbookLibrary:
    return library_for(rb_context.workspace)


def library_view(qtbot: QtBot, context: UiContext, library: RunbookLibrary) -> RunbookLibraryView:
    view = RunbookLibraryView(context, library)
    qtbot.addWidget(view)
    view.resize(420, 600)
    return view


def make_viewer(qtbot: QtBot, context: UiContext, library: RunbookLibrary) -> RunbookViewer:
    viewer = RunbookViewer(context, library)
    qtbot.addWidget(viewer)
    viewer.resize(900, 700)
    return viewer


def pending(viewer: RunbookViewer) -> int | None:
    return viewer.pending_step  # a call: mypy keeps no narrowing across it


def following(viewer: RunbookViewer) -> int | None:
    return viewer.following


def open_and_wait(qtbot: QtBot, viewer: RunbookViewer, runbook: int | str) -> None:
    with qtbot.waitSignal(viewer.loaded, timeout=5000):
        viewer.open_runbook(runbook)


@pytest.fixture
def evil(tmp_path: Path, library: RunbookLibrary) -> Path:
    folder = tmp_path / "evil"
    (folder / "img").mkdir(parents=True)
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(QColor("green"))
    assert image.save(str(folder / "img" / "ok.png"))
    assert image.save(str(tmp_path / "outside.png"))
    (folder / "evil.md").write_text(MALICIOUS, encoding="utf-8")
    report = library.import_paths([folder])
    assert report.refused == []
    return folder


# ------------------------------------------------------------------ search


def test_snippet_markers_become_bold() -> None:
    assert snippet_segments("a [[pool]] b [[x") == [
        ("a ", False),
        ("pool", True),
        (" b [[x", False),
    ]
    assert snippet_html("<i>[[pool]]</i>") == "&lt;i&gt;<b>pool</b>&lt;/i&gt;"


def test_search_as_you_type(qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary) -> None:
    view = library_view(qtbot, rb_context, library)
    view.refresh()
    assert view.model.rowCount() == 11  # every runbook, and the folder's README
    assert "11 runbooks" in view.count_label.text()

    QTest.keyClicks(view.search_line, "pool tim")
    qtbot.waitUntil(lambda: view.last_query is not None and view.last_query.text == "pool tim")
    first = view.model.hit(0)
    assert first is not None
    assert first.slug == "db-connection-exhaustion"
    assert view.model.index(0, 0).data(Qt.ItemDataRole.DisplayRole) == first.title

    # keyboard only: Down moves into the results, Enter opens the current one
    view.show()
    view.search_line.setFocus()
    qtbot.waitUntil(view.search_line.hasFocus)
    QTest.keyClick(view.search_line, Qt.Key.Key_Down)
    assert view.results.hasFocus()
    with qtbot.waitSignal(view.open_requested) as opened:
        QTest.keyClick(view.results, Qt.Key.Key_Return)
    assert opened.args == [first.id]
    with qtbot.waitSignal(view.open_requested) as opened:
        QTest.keyClick(view.search_line, Qt.Key.Key_Return)  # Enter in the search line too
    assert opened.args == [first.id]


def test_a_forgiven_slip_says_which_query_the_results_answer(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary
) -> None:
    view = library_view(qtbot, rb_context, library)
    QTest.keyClicks(view.search_line, "rollbak ")
    qtbot.waitUntil(lambda: view.last_query is not None and view.last_query.text == "rollbak ")
    first = view.model.hit(0)
    assert first is not None
    assert first.slug == "bad-deploy-rollback"
    assert view.corrected == "rollback"
    assert "showing results for “rollback”" in view.count_label.text()

    view.search_line.setText("rollback ")  # spelt right: nothing to say
    qtbot.waitUntil(
        lambda: (
            view.last_query is not None
            and view.last_query.text == "rollback "
            and view.corrected is None
        )
    )
    assert "showing results for" not in view.count_label.text()


def test_filters(qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary) -> None:
    view = library_view(qtbot, rb_context, library)
    view.refresh()
    assert view.owner_combo.findData("team-platform") > 0
    assert view.service_combo.findData("api-gateway") > 0
    view.overdue_check.setChecked(True)
    qtbot.waitUntil(lambda: view.last_query is not None and view.last_query.stale is True)
    assert {h.slug for h in view.model.hits()} == {"certificate-expiry", "disk-full"}
    view.overdue_check.setChecked(False)
    view.owner_combo.setCurrentIndex(view.owner_combo.findData("team-platform"))
    qtbot.waitUntil(lambda: view.last_query is not None and view.last_query.owner is not None)
    assert view.model.hits()
    assert all(h.owner == "team-platform" for h in view.model.hits())


def test_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, rb_context: UiContext, library: RunbookLibrary
) -> None:
    results = RunbookResultsModel()
    check_model(qtmodeltester, results)
    results.set_hits(library.search("certificate"), library.today())
    check_model(qtmodeltester, results)
    results.set_hits(library.search(""), library.today())
    check_model(qtmodeltester, results)

    viewer = make_viewer(qtbot, rb_context, library)
    open_and_wait(qtbot, viewer, "db-connection-exhaustion")
    check_model(qtmodeltester, viewer.steps_model)
    viewer.follow(1)
    check_model(qtmodeltester, viewer.steps_model)


def test_a_slow_earlier_query_never_overwrites_a_newer_one(
    qtbot: QtBot, rb_pool_context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = library_for(rb_pool_context.workspace)
    release = threading.Event()
    real = RunbookLibrary.find
    slow_done = threading.Event()

    def find(self: RunbookLibrary, query: str, **kwargs: Any) -> SearchResult:
        if query == "certificate":
            release.wait(10)
            try:
                return real(self, query, **kwargs)
            finally:
                slow_done.set()
        return real(self, query, **kwargs)

    monkeypatch.setattr(RunbookLibrary, "find", find)
    view = library_view(qtbot, rb_pool_context, library)
    view.search_line.setText("certificate")
    view.run_query()  # slow: held until released
    view.search_line.setText("disk full")
    with qtbot.waitSignal(view.results_shown, timeout=5000):
        view.run_query()
    assert view.last_query is not None
    assert view.last_query.text == "disk full"
    shown = [h.slug for h in view.model.hits()]
    assert shown[0] == "disk-full"

    release.set()
    assert slow_done.wait(10)
    assert rb_pool_context.runner.wait(5000)
    qtbot.wait(100)  # let the late reply be delivered (and dropped)
    assert view.last_query.text == "disk full"
    assert [h.slug for h in view.model.hits()] == shown


def test_debounce_sends_one_query_for_a_burst(
    qtbot: QtBot, rb_pool_context: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = library_for(rb_pool_context.workspace)
    seen: list[str] = []
    real = RunbookLibrary.find

    def find(self: RunbookLibrary, query: str, **kwargs: Any) -> SearchResult:
        seen.append(query)
        return real(self, query, **kwargs)

    monkeypatch.setattr(RunbookLibrary, "find", find)
    view = library_view(qtbot, rb_pool_context, library)
    with qtbot.waitSignal(view.results_shown, timeout=5000):
        QTest.keyClicks(view.search_line, "dns")
    assert seen == ["dns"]
    assert view.model.hits()[0].slug == "dns-failure"


def test_overdue_badge_on_certificate_expiry(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary
) -> None:
    view = library_view(qtbot, rb_context, library)
    view.search_line.setText("certificate expired")
    view.run_query()
    top = view.model.index(0, 0)
    assert top.data(ItemRole.VIEW).slug == "certificate-expiry"
    assert top.data(ItemRole.OVERDUE) is True
    assert "overdue" in top.data(Qt.ItemDataRole.ToolTipRole)
    view.results.clearSelection()
    view.results.setCurrentIndex(view.model.index(-1, -1))
    view.show()
    qtbot.waitExposed(view)
    rect = view.results.visualRect(top)
    image = view.results.viewport().grab(rect).toImage()
    badge = alert_color(is_dark())
    assert any(
        image.pixelColor(x, y) == badge
        for x in range(image.width() - 90, image.width())
        for y in range(0, 26)
    ), "no overdue badge drawn"
    view.search_line.setText("dns failure")
    view.run_query()
    assert view.model.index(0, 0).data(ItemRole.OVERDUE) is False


# ------------------------------------------------------------------ viewer


def test_viewer_header_and_staleness(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary
) -> None:
    viewer = make_viewer(qtbot, rb_context, library)
    open_and_wait(qtbot, viewer, "certificate-expiry")
    assert viewer.title_label.text() == "TLS certificate expired or about to expire"
    assert viewer.staleness_label.text() == (
        "Last reviewed 2026-03-10 (every 90 days) — overdue by 168 days"
    )
    assert "team-platform" in viewer.meta_label.text()
    assert viewer.path_label.text().endswith("certificate-expiry.md   ·   read as markdown")
    assert not viewer.import_warnings_label.isVisibleTo(viewer)
    document = library.get("dns-failure")
    assert staleness_text(document, library.today()).startswith("Reviewed 7 days ago")


def test_viewer_shows_the_import_warnings_of_a_runbook(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary, tmp_path: Path
) -> None:
    """Issue 15: an unclosed fence is imported, shown running to the end, and the
    runbook says what to fix in its file."""
    folder = tmp_path / "lenient"
    folder.mkdir()
    (folder / "README.md").write_text("# Lenient\n", encoding="utf-8")
    (folder / "open-fence.md").write_text(
        "# Open fence\n\n```sh\nkubectl get pods\n", encoding="utf-8"
    )
    report = library.import_paths([folder])
    assert (report.refused, len(report.warnings), report.landing) == ([], 1, 1)
    viewer = make_viewer(qtbot, rb_context, library)
    open_and_wait(qtbot, viewer, "open-fence")
    assert viewer.import_warnings_label.isVisibleTo(viewer)
    assert viewer.import_warnings_label.text() == (
        "Import warnings (fix in the file): line 3: code fence never closed: shown running "
        "to the end of the file, as Markdown renderers show it (add a line ``` where the "
        "code ends)"
    )
    assert viewer.rendered is not None
    assert [block.code for block in viewer.rendered.code_blocks] == ["kubectl get pods"]
    open_and_wait(qtbot, viewer, "lenient-readme")
    assert viewer.path_label.text().endswith("read as markdown   ·   landing page of its folder")
    assert not viewer.import_warnings_label.isVisibleTo(viewer)


def test_viewer_is_safe(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary, evil: Path
) -> None:
    viewer = make_viewer(qtbot, rb_context, library)
    open_and_wait(qtbot, viewer, "evil")
    html = viewer.browser.toHtml()
    assert "<script" not in html.lower()
    assert "pwned" not in html
    assert viewer.warnings_label.isVisibleTo(viewer)
    assert "script" in viewer.warnings_label.text()
    image = int(QTextDocument.ResourceType.ImageResource)
    browser = viewer.browser
    assert browser.loadResource(image, QUrl("https://evil.example/track.png")) is None
    assert browser.loadResource(image, QUrl("http://evil.example/x.css")) is None
    assert browser.loadResource(image, QUrl("ftp://evil.example/x.png")) is None
    assert browser.loadResource(image, QUrl("//evil.example/x.png")) is None
    assert browser.loadResource(image, QUrl("../outside.png")) is None
    assert browser.loadResource(image, QUrl(f"file://{evil / 'img' / 'ok.png'}")) is None
    local = browser.loadResource(image, QUrl("img/ok.png"))
    assert isinstance(local, QImage)
    assert not local.isNull()


def test_copy_puts_the_exact_code_in_the_clipboard(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary
) -> None:
    viewer = make_viewer(qtbot, rb_context, library)
    open_and_wait(qtbot, viewer, "db-connection-exhaustion")
    rendered = viewer.rendered
    assert rendered is not None
    assert 'href="action:copy/3"' in rendered.html
    with qtbot.waitSignal(viewer.notice_shown) as notice:
        viewer.browser.anchorClicked.emit(QUrl("action:copy/3"))
    assert QGuiApplication.clipboard().text() == rendered.code_blocks[3].code
    assert str(notice.args[0]).startswith("Copied")
    assert viewer.notice_label.isVisibleTo(viewer)
    # not following: nothing is written
    assert rb_context.workspace.queries.incidents() == []


def test_external_links_ask_first_and_other_schemes_are_refused(
    qtbot: QtBot,
    rb_context: UiContext,
    library: RunbookLibrary,
    evil: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    viewer = make_viewer(qtbot, rb_context, library)
    open_and_wait(qtbot, viewer, "evil")
    asked: list[str] = []
    answers = [False, True]
    opened: list[str] = []

    def ask(cls: type[ConfirmOpenLink], parent: object, url: str) -> bool:
        asked.append(url)
        return answers.pop(0)

    monkeypatch.setattr(ConfirmOpenLink, "ask", classmethod(ask))
    monkeypatch.setattr(viewer_module, "open_external", lambda url: opened.append(url.toString()))
    link = QUrl("https://status.example.com/page?q=1")
    viewer.browser.anchorClicked.emit(link)
    assert asked == ["https://status.example.com/page?q=1"]
    assert opened == []
    viewer.browser.anchorClicked.emit(link)
    assert opened == ["https://status.example.com/page?q=1"]

    with qtbot.waitSignal(viewer.notice_shown) as notice:
        viewer.browser.anchorClicked.emit(QUrl("javascript:alert(1)"))
    assert "refused" in str(notice.args[0])
    viewer.browser.anchorClicked.emit(QUrl("file:///etc/passwd"))
    assert len(asked) == 2
    assert len(opened) == 1
    # and the rendered javascript: link is not a link at all
    assert "javascript:" not in viewer.browser.toHtml().split("<body", 1)[1].split("title=")[0]


# ------------------------------------------------------------------ follow mode


def test_follow_mode_logs_steps_and_copies_and_restores_ticks(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary
) -> None:
    workspace = rb_context.workspace
    outcome = workspace.incidents.declare("Orders API 5xx", Severity.SEV2, commander="Ana")
    assert outcome.incident is not None
    incident_id = outcome.incident.id
    viewer = make_viewer(qtbot, rb_context, library)
    viewer.follow(incident_id)
    open_and_wait(qtbot, viewer, "db-connection-exhaustion")
    assert viewer.steps_panel.isVisibleTo(viewer)
    assert viewer.follow_bar.isVisibleTo(viewer)
    model = viewer.steps_model
    assert model.rowCount() == 14
    assert model.index(1, 0).data(Qt.ItemDataRole.DisplayRole).startswith("2. Check PgBouncer")

    with qtbot.waitSignal(rb_context.events.changes_applied) as changed:
        assert viewer.tick_step(2)  # logged at once, as the follow bar says
    assert incident_id in changed.args[0].timeline
    assert viewer.pending_step == 2  # the outcome line is open for it
    assert viewer.note_row.isVisibleTo(viewer)
    assert model.index(1, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    steps = [e for e in workspace.queries.timeline(incident_id) if e.kind == EntryKind.RUNBOOK_STEP]
    assert len(steps) == 1
    assert dict(steps[0].data) == {
        "runbook_id": "db-connection-exhaustion",
        "step": 2,
        "outcome": "",
    }
    QTest.keyClicks(viewer.note_edit, "cl_waiting 340 on orders")
    with qtbot.waitSignal(rb_context.events.changes_applied):
        QTest.keyClick(viewer.note_edit, Qt.Key.Key_Return)
    (fixed,) = [e for e in workspace.queries.timeline(incident_id) if e.supersedes]
    assert fixed.supersedes == steps[0].uuid  # the outcome is added to the step's entry
    assert "step 2 done — cl_waiting 340 on orders" in fixed.text
    assert 2 in model.done()
    assert not model.flags(model.index(1, 0)) & Qt.ItemFlag.ItemIsUserCheckable

    code = viewer.rendered.code_blocks[1].code if viewer.rendered else ""
    with qtbot.waitSignal(rb_context.events.changes_applied):
        viewer.browser.anchorClicked.emit(QUrl("action:copy/1"))
    copied = [
        e for e in workspace.queries.timeline(incident_id) if e.kind == EntryKind.COMMAND_COPIED
    ]
    assert len(copied) == 1
    assert dict(copied[0].data) == {
        "runbook_id": "db-connection-exhaustion",
        "step": 2,
        "command": code,
    }
    assert QGuiApplication.clipboard().text() == code

    # Esc on the outcome line skips the outcome; the tick stays logged (undo: /fix)
    assert viewer.tick_step(3)
    QTest.keyClick(viewer.note_edit, Qt.Key.Key_Escape)
    assert pending(viewer) is None
    assert model.index(2, 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked

    # reopened (a new viewer, as after a restart): step 2 is shown done
    again = make_viewer(qtbot, rb_context, library)
    again.follow(incident_id)
    open_and_wait(qtbot, again, "db-connection-exhaustion")
    assert again.steps_model.done() == frozenset({2, 3})
    row = again.steps_model.index(1, 0)
    assert row.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    # following after opening reads the done steps too
    third = make_viewer(qtbot, rb_context, library)
    open_and_wait(qtbot, third, "db-connection-exhaustion")
    assert third.steps_model.index(1, 0).data(Qt.ItemDataRole.CheckStateRole) is None
    third.follow(incident_id)
    assert third.steps_model.done() == frozenset({2, 3})
    third.follow(None)
    assert not third.steps_panel.isVisibleTo(third)


def test_a_failed_step_write_unticks_and_reports(
    qtbot: QtBot,
    rb_context: UiContext,
    library: RunbookLibrary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace = rb_context.workspace
    outcome = workspace.incidents.declare("Disk", Severity.SEV3, commander="Ana")
    assert outcome.incident is not None
    viewer = make_viewer(qtbot, rb_context, library)
    viewer.follow(outcome.incident.id)
    open_and_wait(qtbot, viewer, "disk-full")

    def refuse(*args: object, **kwargs: object) -> None:
        raise ConsoleError("the database is locked")

    monkeypatch.setattr(workspace.incidents, "log", refuse)
    with qtbot.waitSignal(rb_context.events.error_shown) as shown:
        assert viewer.tick_step(1)
    assert "Logging step 1 failed: the database is locked" in str(shown.args[0])
    index = viewer.steps_model.index(0, 0)
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert viewer.steps_model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable


# ------------------------------------------------------------------ GUI import


def _many(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"rb-{n:03}.md").write_text(
            f"---\nid: many-{n}\ntitle: Generated runbook {n}\nowner: team-gen\n---\n"
            f"# Generated {n}\n\n1. Do thing {n}.\n",
            encoding="utf-8",
        )
    (folder / "broken.md").write_bytes(b"# Broken\n\x00")  # binary: refused
    (folder / "warned.md").write_text("---\ntitle: [unclosed\n---\n# Warned\n", encoding="utf-8")
    return folder


def test_gui_import_shows_refused_files_and_refreshes(
    qtbot: QtBot, rb_pool_context: UiContext, tmp_path: Path
) -> None:
    area = RunbooksArea(rb_pool_context)
    qtbot.addWidget(area)
    with qtbot.waitSignal(area.library_view.results_shown, timeout=5000):
        area.start()
    assert area.library_view.model.rowCount() == 11
    folder = _many(tmp_path / "many", 300)
    with qtbot.waitSignal(area.importer.finished, timeout=30_000) as finished:
        assert area.importer.start([folder])
        assert area.importer.dialog is not None
        assert area.importer.dialog.minimumDuration() == 500
    report = finished.args[0]
    assert report.imported == 301
    assert [r.path for r in report.refused] == [str(folder / "broken.md")]
    box = area.importer.summary_box
    assert box is not None
    assert not box.isModal()
    assert "301 new" in box.text()
    assert "1 refused; 1 warnings in 1 runbooks (shown on each)" in box.text()
    assert f"{folder / 'broken.md'}: " in box.informativeText()
    assert f"Imported, but worth a look:\n{folder / 'warned.md'}: line 2: invalid YAML" in (
        box.informativeText()
    )
    qtbot.waitUntil(lambda: area.library_view.model.rowCount() == 312, timeout=5000)
    assert area.library_view.owner_combo.findData("team-gen") > 0
    box.close()


def test_gui_import_can_be_cancelled(
    qtbot: QtBot,
    rb_pool_context: UiContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    area = RunbooksArea(rb_pool_context)
    qtbot.addWidget(area)
    folder = _many(tmp_path / "many", 300)
    gate = threading.Event()
    real = RunbookLibrary.import_paths

    def import_paths(self: RunbookLibrary, paths: Any, *, progress: Any, cancel: Any) -> Any:
        def hold(done: int, total: int) -> None:
            progress(done, total)
            if done == 50:
                gate.wait(10)  # the test presses Cancel here

        return real(self, paths, progress=hold, cancel=cancel)

    monkeypatch.setattr(RunbookLibrary, "import_paths", import_paths)
    assert area.importer.start([folder])
    assert not area.importer.start([folder])  # one at a time
    progress = area.importer.progress
    assert progress is not None
    qtbot.waitUntil(lambda: progress.get()[0] >= 50, timeout=10_000)
    dialog = area.importer.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.value() >= 50, timeout=2000)  # the 150 ms poll
    assert dialog.maximum() == 302
    with qtbot.waitSignal(area.importer.finished, timeout=10_000) as finished:
        button = dialog.findChild(QPushButton)
        assert button is not None
        assert button.text() == "Cancel"
        button.click()
        gate.set()
    report = finished.args[0]
    assert report.cancelled
    assert report.imported < 300
    assert library_for(rb_pool_context.workspace).count() == 11 + report.imported
    box = area.importer.summary_box
    assert box is not None
    assert box.text().startswith("Runbook import cancelled")
    box.close()


# ------------------------------------------------------------------ main window


def test_main_window_runbooks_tab_and_actions(qtbot: QtBot, rb_context: UiContext) -> None:
    outcome = rb_context.workspace.incidents.declare("Cert", Severity.SEV1, commander="Ana")
    assert outcome.incident is not None
    window = MainWindow.for_context(rb_context)
    try:
        check_window(qtbot, window, rb_context, outcome.incident.id)
    finally:
        # delete it now: its reminder timer must not fire after the runner shut down
        window.close()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def check_window(qtbot: QtBot, window: MainWindow, rb_context: UiContext, incident_id: int) -> None:
    area = window.area("runbooks")  # the tab is built on first use
    qtbot.waitUntil(lambda: area.library_view.model.rowCount() == 11)
    actions = window.actions_by_name
    assert actions["search_runbooks"].shortcut().toString() == "Ctrl+Shift+F"
    assert actions["import_runbooks"].shortcut().toString() == "Ctrl+I"
    assert actions["follow_runbook"].shortcut().toString() == "Ctrl+Shift+R"
    assert all(actions[n].isEnabled() for n in ("search_runbooks", "import_runbooks"))

    window.run_palette_key("action:search_runbooks")
    assert window.tabs.currentWidget() is area
    window.follow_runbook()  # nothing open yet: says so, follows nothing
    assert area.viewer.following is None

    area.open_runbook(area.library_view.model.hits()[0].id)
    qtbot.waitUntil(lambda: area.viewer.document is not None)
    window.run_palette_key("action:follow_runbook")
    assert following(area.viewer) == incident_id
    assert area.viewer.steps_panel.isVisibleTo(window)
    window.focus_quick_entry()
    assert window.tabs.currentWidget() is window.incident_view


def test_first_paint_does_not_load_the_runbooks_or_services_areas() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import ui.main_window; "
        "print(any(m.startswith(('ui.runbooks', 'console.library', 'markdown', 'ui.services', "
        "'console.catalog', 'console.graph')) "
        "for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_list_snippets_drop_markdown_noise() -> None:
    assert clean_snippet("## Symptoms - Services log `[[pool]] timeout`, **bad** DB_POOL_SIZE") == (
        "Symptoms Services log [[pool]] timeout, bad DB_POOL_SIZE"
    )
    assert clean_snippet("you see | Likely cause | |---|---| | 5xx or [[timeouts]]") == (
        "you see · Likely cause · 5xx or [[timeouts]]"
    )


def test_relative_links_open_the_linked_runbook_at_its_anchor(
    qtbot: QtBot, rb_context: UiContext, library: RunbookLibrary, tmp_path: Path
) -> None:
    folder = tmp_path / "linked"
    (folder / "db").mkdir(parents=True)
    (folder / "start.md").write_text(
        "# Start here\n\nIf the pool is full, see [failover](db/failover.md#roll-back).\n",
        encoding="utf-8",
    )
    filler = "\n\n".join(f"Paragraph {n} of the diagnosis." for n in range(120))
    (folder / "db" / "failover.md").write_text(
        f"# Database failover\n\n## Diagnose\n\n{filler}\n\n"
        "## Roll back\n\nPromote the old primary.\n",
        encoding="utf-8",
    )
    assert library.import_paths([folder]).refused == []
    viewer = make_viewer(qtbot, rb_context, library)
    viewer.show()
    open_and_wait(qtbot, viewer, "start")

    with qtbot.waitSignal(viewer.loaded, timeout=5000) as opened:
        viewer.browser.anchorClicked.emit(QUrl("db/failover.md#roll-back"))
    document = opened.args[0]
    assert document.title == "Database failover"
    assert viewer.browser.verticalScrollBar().value() > 0  # scrolled to "Roll back"

    # a runbook link to a file that was never imported: said, nothing else happens
    with qtbot.waitSignal(viewer.notice_shown) as notice:
        viewer.browser.anchorClicked.emit(QUrl("../missing.md"))
    assert "is not in the runbook library" in str(notice.args[0])
    assert "missing.md" in str(notice.args[0])
    assert viewer.document is not None
    assert viewer.document.title == "Database failover"
    # links to other files are still not opened
    with qtbot.waitSignal(viewer.notice_shown) as notice:
        viewer.browser.anchorClicked.emit(QUrl("notes.txt"))
    assert "Only links to other runbooks" in str(notice.args[0])


# ------------------------------------------------------------ progressive rendering


@pytest.fixture
def large(tmp_path: Path, library: RunbookLibrary) -> str:
    """A ~120 KB runbook (the benchmark's sections): several parts, several batches."""
    from tests.benchmarks.bench_render import large_runbook

    folder = tmp_path / "large"
    folder.mkdir()
    body = large_runbook(120_000)
    (folder / "large.md").write_text(
        "---\nid: large-pool\ntitle: Large pool runbook\nowner: team-data\n---\n" + body,
        encoding="utf-8",
    )
    assert library.import_paths([folder]).refused == []
    return "large-pool"


def test_viewer_shows_the_first_part_then_appends_the_rest(
    qtbot: QtBot, rb_pool_context: UiContext, large: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.render import render_runbook

    library = library_for(rb_pool_context.workspace)
    viewer = make_viewer(qtbot, rb_pool_context, library)
    viewer.show()
    monkeypatch.setattr(viewer_module, "BATCH_HTML_CHARS", 1)  # one part per batch
    seen: list[tuple[int, int, int, str, bool]] = []

    def shown(parts: int) -> None:
        rendered = viewer.rendered
        assert rendered is not None
        seen.append(
            (
                parts,
                len(rendered.code_blocks),
                viewer.steps_model.rowCount(),
                viewer.notice_label.text(),
                viewer.notice_label.isVisible(),
            )
        )

    viewer.part_shown.connect(shown)
    with qtbot.waitSignal(viewer.loaded, timeout=20000):
        viewer.open_runbook(large)
    whole = render_runbook(library.get(large).body)
    parts = [entry[0] for entry in seen]
    assert parts == list(range(1, len(parts) + 1))
    assert len(parts) >= 5
    _one, first_blocks, first_rows, first_notice, first_visible = seen[0]
    assert 0 < first_blocks < len(whole.code_blocks)  # shown before the rest existed
    assert 0 < first_rows < len(whole.steps)
    assert first_notice.startswith("Rendering… ")
    assert first_notice.endswith("%")
    assert first_visible
    percents = [int(entry[3].split()[-1].rstrip("%")) for entry in seen[:-1]]
    assert percents == sorted(percents)
    assert not viewer.notice_label.isVisible()  # done: the notice is gone
    assert not viewer.rendering

    rendered = viewer.rendered
    assert rendered is not None
    assert rendered.code_blocks == whole.code_blocks
    assert rendered.steps == whole.steps
    assert rendered.toc == whole.toc
    assert viewer.steps_model.steps() == whole.steps
    text = viewer.browser.toPlainText()
    assert text.count("Copy") == len(whole.code_blocks)
    assert f"Resolution {len(whole.toc) // 2}" in text  # the last section arrived
    # the copy button of the last block (from the last part) works
    last = len(whole.code_blocks) - 1
    viewer.handle_link(QUrl(f"action:copy/{last}"))
    assert QGuiApplication.clipboard().text() == whole.code_blocks[last].code
    # follow mode sees every step, the last included
    viewer.follow(1)
    assert viewer.tick_step(whole.steps[-1].number)


def test_a_newer_runbook_cancels_the_stale_render_and_reopening_is_cached(
    qtbot: QtBot, rb_pool_context: UiContext, large: str
) -> None:
    library = library_for(rb_pool_context.workspace)
    viewer = make_viewer(qtbot, rb_pool_context, library)
    loaded: list[str] = []
    viewer.loaded.connect(lambda document: loaded.append(document.slug))
    viewer.open_runbook(large)
    with qtbot.waitSignal(viewer.loaded, timeout=20000):
        viewer.open_runbook("disk-full")
    rb_pool_context.runner.wait()
    QCoreApplication.processEvents()
    assert loaded == ["disk-full"]  # the large one never finished on screen
    assert viewer.document is not None
    assert viewer.document.slug == "disk-full"
    assert "Large pool runbook" not in viewer.title_label.text()

    with qtbot.waitSignal(viewer.loaded, timeout=20000):
        viewer.open_runbook(large)
    parts: list[int] = []
    viewer.part_shown.connect(parts.append)
    with qtbot.waitSignal(viewer.loaded, timeout=5000):
        viewer.open_runbook(large)  # again: from the cache, whole, no parts
    assert parts == []
    rendered = viewer.rendered
    assert rendered is not None
    assert viewer.browser.toPlainText().count("Copy") == len(rendered.code_blocks)


def test_an_anchor_to_a_later_section_scrolls_once_it_exists(
    qtbot: QtBot, rb_pool_context: UiContext, large: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = library_for(rb_pool_context.workspace)
    viewer = make_viewer(qtbot, rb_pool_context, library)
    viewer.show()
    monkeypatch.setattr(viewer_module, "BATCH_HTML_CHARS", 1)
    clicked: list[bool] = []

    def click_once(parts: int) -> None:
        if not clicked:  # the first part only: the anchor's section is not there yet
            clicked.append(True)
            rendered = viewer.rendered
            assert rendered is not None
            assert "resolution-40" not in {entry.anchor for entry in rendered.toc}
            viewer.handle_link(QUrl("#resolution-40"))
            assert viewer.browser.verticalScrollBar().value() == 0

    viewer.part_shown.connect(click_once)
    with qtbot.waitSignal(viewer.loaded, timeout=20000):
        viewer.open_runbook(large)
    assert clicked
    assert viewer.browser.verticalScrollBar().value() > 0


def test_a_ticked_step_is_logged_at_once_and_survives_a_re_render(
    qtbot: QtBot, rb_pool_context: UiContext
) -> None:
    """Issue 16 item 6: the follow bar says ticked steps are logged — they are, when
    ticked; a re-render while the write is in flight keeps the tick; /fix undoes it."""
    workspace = rb_pool_context.workspace
    declared = workspace.incidents.declare("Orders API 5xx", Severity.SEV2, commander="Ana")
    assert declared.incident is not None
    incident_id = declared.incident.id
    viewer = make_viewer(qtbot, rb_pool_context, library_for(workspace))
    viewer.follow(incident_id)
    open_and_wait(qtbot, viewer, "db-connection-exhaustion")
    viewer.show()
    viewer.steps_view.setFocus()
    viewer.steps_view.setCurrentIndex(viewer.steps_model.index(1, 0))
    QTest.keyClick(viewer.steps_view, Qt.Key.Key_Space)  # tick step 2 with the keyboard
    # the view re-renders (a theme switch, a refresh) before the write returned
    open_and_wait(qtbot, viewer, "db-connection-exhaustion")
    rb_pool_context.runner.wait()
    qtbot.waitUntil(lambda: 2 in viewer.steps_model.done())
    steps = [e for e in workspace.queries.timeline(incident_id) if e.kind == EntryKind.RUNBOOK_STEP]
    assert [dict(e.data)["step"] for e in steps] == [2]  # written without pressing Enter
    row = viewer.steps_model.index(1, 0)
    assert row.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    # a tick by mistake is undone with /fix, like a note
    fixed = workspace.incidents.run_quick(incident_id, "/fix step 2 not done: wrong pool")
    assert fixed.entry is not None
    assert fixed.entry.supersedes == steps[0].uuid
