"""The Draft update dialog, the postmortem editor (with PDF export checked by pypdf),
and the overdue banner: real widgets on a real workspace, inline runner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from console.comms.actions import ActionItems
from console.comms.kit import CommsKit
from console.domain.incident import EntryKind, Severity, Status
from console.ops.incidents import Outcome
from tests.ui.helpers_secondary import OFFSCREEN_NOTICES, Setup, make_setup
from ui.comms.draft_dialog import DraftUpdateDialog
from ui.comms.overdue import OverdueBanner
from ui.comms.postmortem_dialog import PostmortemDialog
from ui.context import UiContext
from ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    made = make_setup(tmp_path)  # SEV1, declared at START (03:00 UTC)
    yield made
    made.workspace.close()


def cell(dialog: PostmortemDialog, row: int, column: int) -> str:
    item = dialog.table.item(row, column)
    assert item is not None
    return item.text()


def test_draft_dialog_fills_previews_copies_and_logs(qtbot: QtBot, setup: Setup) -> None:
    sent: list[Outcome] = []
    dialog = DraftUpdateDialog(setup.context, setup.incident_id, on_sent=sent.append)
    qtbot.addWidget(dialog)
    dialog.show()
    titles = [dialog.template_combo.itemText(i) for i in range(dialog.template_combo.count())]
    assert "Status page — Investigating" in titles
    assert "Conditions–Actions–Needs report" in titles
    dialog.select_template("status-investigating")
    text = dialog.editor.toPlainText()
    assert text.startswith("**Investigating** — Checkout failing for EU")
    assert "2026-03-01 03:30 UTC" in text  # the SEV1 cadence
    assert dialog.next_label.text() == "Next update due 03:30 UTC"
    assert "Investigating" in dialog.preview.toPlainText()
    assert "**" not in dialog.preview.toPlainText()

    text = text.replace("[fill in: affected services]", "checkout")  # none were named
    dialog.editor.setPlainText(text + "\nWe have rolled back the deploy.")
    assert "rolled back" in dialog.preview.toPlainText()
    dialog.copy_as_markdown()
    assert QGuiApplication.clipboard().text().startswith("**Investigating**")
    dialog.copy_as_plain()
    assert QGuiApplication.clipboard().text().startswith("Investigating — Checkout")

    dialog.send_button.click()
    assert len(sent) == 1
    entry = sent[0].entry
    assert entry is not None
    assert entry.kind is EntryKind.STATUS_UPDATE
    assert entry.text.endswith("We have rolled back the deploy.")
    assert not dialog.isVisible()


def test_draft_dialog_lists_refused_user_templates(qtbot: QtBot, setup: Setup) -> None:
    folder = setup.workspace.folder / "templates" / "comms"
    folder.mkdir(parents=True)
    (folder / "ours.md").write_text("---\ntitle: Ours\n---\nHi {{ custmer }}\n", encoding="utf-8")
    dialog = DraftUpdateDialog(setup.context, setup.incident_id)
    qtbot.addWidget(dialog)
    assert not dialog.refused_label.isHidden()
    assert "ours.md:4: unknown variable 'custmer'" in dialog.refused_label.text()
    assert dialog.template_combo.findData("ours") == -1


def test_postmortem_dialog_edits_saves_exports_pdf_and_tracks_items(
    qtbot: QtBot, setup: Setup, tmp_path: Path
) -> None:
    workspace = setup.workspace
    workspace.incidents.add_note(setup.incident_id, "Rolled back orders-api to v2.3.0")
    dialog = PostmortemDialog(setup.context, setup.incident_id)
    qtbot.addWidget(dialog)
    dialog.show()
    text = dialog.editor.toPlainText()
    assert text.startswith("# Postmortem: Checkout failing for EU")
    assert "Five whys" in dialog.preview.toPlainText()
    assert dialog.save_button.text() == "&Save"  # not dirty

    dialog.editor.setPlainText(text.replace("_(The technical cause", "Pool exhausted. _(The"))
    assert dialog.dirty
    assert dialog.save_button.text() == "&Save*"
    dialog.save()
    assert dialog.save_button.text() == "&Save"  # saved: no longer dirty

    stored = CommsKit.of(workspace).postmortems.get(setup.incident_id)
    assert stored is not None
    assert "Pool exhausted." in stored.markdown

    dialog.title_edit.setText("Alert on pool saturation")
    dialog.owner_edit.setText("Bob")
    dialog.kind_combo.setCurrentText("detect")
    dialog.add_button.click()
    assert dialog.table.rowCount() == 1
    assert cell(dialog, 0, 0) == "Alert on pool saturation"
    assert cell(dialog, 0, 4) == "detect"
    dialog.table.selectRow(0)
    dialog.mark_done()
    assert cell(dialog, 0, 5) == "done"
    csv_path = tmp_path / "items.csv"
    dialog.export_csv(csv_path)
    assert "Alert on pool saturation,Bob" in csv_path.read_text(encoding="utf-8")

    pdf = tmp_path / "postmortem.pdf"
    dialog.export("pdf", pdf)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 2  # the template alone runs past one A4 page
    # Qt's PDFs place words apart (tabs, line breaks inside a heading): compare letters
    letters = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert "Postmortem:CheckoutfailingforEU" in letters
    assert "Poolexhausted." in letters
    assert "Timetodetect" in letters
    assert "Rolledbackorders-apitov2.3.0" in letters
    html = tmp_path / "postmortem.html"
    dialog.export("html", html)
    assert "<h1" in html.read_text(encoding="utf-8")
    markdown = tmp_path / "postmortem.md"
    dialog.export("md", markdown)
    assert markdown.read_text(encoding="utf-8") == dialog.editor.toPlainText()


def test_export_to_missing_folder_reports_an_error(
    qtbot: QtBot, setup: Setup, tmp_path: Path
) -> None:
    shown: list[str] = []
    setup.context.events.error_shown.connect(shown.append)
    dialog = PostmortemDialog(setup.context, setup.incident_id)
    qtbot.addWidget(dialog)
    dialog.export("pdf", tmp_path / "absent" / "x.pdf")
    dialog.export("md", tmp_path / "absent" / "x.md")
    assert len(shown) == 2
    assert all(s.startswith("Export failed:") for s in shown)


def test_overdue_banner_shows_on_start_and_opens_postmortem(qtbot: QtBot, setup: Setup) -> None:
    items = ActionItems(setup.workspace.db, actor="tester")
    items.add("Old item", owner="Bob", incident_id=setup.incident_id, due_on=date(2026, 2, 1))
    items.add("Later", owner="Cleo", due_on=date(2026, 3, 9))
    opened: list[int] = []
    banner = OverdueBanner(setup.context, opened.append)
    qtbot.addWidget(banner)
    banner.start()
    assert not banner.isHidden()
    assert banner.label.text() == "1 action item is overdue: “Old item” — Bob, due 2026-02-01"
    banner.open_button.click()
    assert opened == [setup.incident_id]
    banner.dismiss_button.click()
    assert banner.isHidden()


def test_main_window_actions_have_shortcuts_and_open_the_dialogs(
    qtbot: QtBot, setup: Setup
) -> None:
    window = MainWindow.for_context(setup.context)
    qtbot.addWidget(window)
    window.select_incident(setup.incident_id)
    draft = window.actions_by_name["draft_update"]
    postmortem = window.actions_by_name["postmortem"]
    assert draft.shortcut().toString() == "Ctrl+U"
    assert postmortem.shortcut().toString() == "Ctrl+Shift+M"
    draft.trigger()
    postmortem.trigger()
    dialogs = {d.objectName() for d in window.findChildren(DraftUpdateDialog)} | {
        d.objectName() for d in window.findChildren(PostmortemDialog)
    }
    assert dialogs == {"draftUpdateDialog", "postmortemDialog"}
    for dialog in [*window.findChildren(DraftUpdateDialog), *window.findChildren(PostmortemDialog)]:
        dialog.close()


def test_pdf_export_on_the_real_reader_thread(
    qtbot: QtBot, pool_context: UiContext, tmp_path: Path
) -> None:
    """The PDF is drawn off the GUI thread (QTextDocument + QPrinter on the reader lane)."""
    declared = pool_context.workspace.incidents.declare("Threads", Severity.SEV2)
    assert declared.incident is not None
    dialog = PostmortemDialog(pool_context, declared.incident.id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.editor.toPlainText().startswith("# Postmortem: Threads"))
    pdf = tmp_path / "threads.pdf"
    dialog.export("pdf", pdf)
    qtbot.waitUntil(lambda: dialog.state_label.text() == f"Exported to {pdf}")
    letters = "".join(PdfReader(str(pdf)).pages[0].extract_text().split())
    assert "Postmortem:Threads" in letters


def test_a_draft_never_promises_a_passed_time_and_fits_the_status(
    qtbot: QtBot, setup: Setup
) -> None:
    """Issue 16 item 2: Ctrl+U at 03:42 on a SEV1 whose 30-minute update was due at
    03:30 said "by 03:30"; it opened on the CAN report whatever the status; and a
    status page said "problems with none named yet"."""
    setup.clock.advance(minutes=42)
    setup.workspace.incidents.change_status(setup.incident_id, Status.MITIGATING)
    dialog = DraftUpdateDialog(setup.context, setup.incident_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.template is not None
    assert dialog.template.id == "status-identified"  # mitigating → "Identified"
    text = dialog.editor.toPlainText()
    assert "by 2026-03-01 04:12 UTC" in text  # a cadence from now, not 03:30
    assert dialog.next_label.text() == "Next update due 04:12 UTC"
    assert "none named yet" not in text
    assert "[fill in: affected services]" in text
    assert dialog.missing_label.isVisible()
    # Copy asks for the missing fact first: nothing copied, the gap selected to type over
    QGuiApplication.clipboard().setText("before")
    dialog.copy_markdown.click()
    assert QGuiApplication.clipboard().text() == "before"
    assert dialog.editor.textCursor().selectedText() == "[fill in: affected services]"
    QTest.keyClicks(dialog.editor, "checkout")
    assert not dialog.missing_label.isVisible()
    dialog.copy_plain.click()
    assert "problems with checkout" in QGuiApplication.clipboard().text()
    # responders' own reports keep the plain words
    dialog.select_template("can-report")
    assert "Services: none named yet" in dialog.editor.toPlainText()
