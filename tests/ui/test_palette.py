"""Command palette: pure ranking, the list model, keyboard selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.ui.helpers_secondary import OFFSCREEN_NOTICES, check_model, key_click, key_clicks
from ui.palette import SHORTCUT_ROLE, CommandPalette, PaletteEntry, PaletteModel, rank

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)

ENTRIES = [
    PaletteEntry("declare", "Declare incident", "Start a new incident", "Ctrl+N"),
    PaletteEntry("open", "Open incident", "Jump to an incident"),
    PaletteEntry("compact", "Toggle compact checklist", "", "Ctrl+Shift+K"),
    PaletteEntry("status", "Copy status update", "For the status page"),
    PaletteEntry("note", "Add note", "Log to the timeline", "Ctrl+L"),
    PaletteEntry("list", "Incident list"),
    PaletteEntry("severity", "Change severity", "SEV1 to SEV4"),
]


def keys(entries: list[PaletteEntry]) -> list[str]:
    return [e.key for e in entries]


# ---------------------------------------------------------------- pure ranking


def test_empty_query_keeps_the_given_order() -> None:
    assert rank("", ENTRIES) == ENTRIES
    assert rank("   ", ENTRIES) == ENTRIES


def test_prefix_beats_word_start_beats_scattered() -> None:
    ranked = keys(rank("inc", ENTRIES))
    assert ranked[0] == "list"  # "Incident list" starts with it
    assert set(ranked[1:3]) == {"declare", "open"}  # "…incident" at a word start


def test_acronym_of_word_starts_matches() -> None:
    assert keys(rank("tcc", ENTRIES))[0] == "compact"
    assert keys(rank("csu", ENTRIES))[0] == "status"


def test_subsequence_is_required() -> None:
    assert rank("xyz", ENTRIES) == []
    assert rank("tsil", ENTRIES) == []  # letters present, wrong order


def test_case_insensitive_and_spaces_ignored_for_fuzzy() -> None:
    assert keys(rank("ADD NO", ENTRIES))[0] == "note"
    assert keys(rank("addno", ENTRIES))[0] == "note"


def test_subtitle_matches_rank_after_title_matches() -> None:
    ranked = keys(rank("timeline", ENTRIES))
    assert ranked == ["note"]  # only its subtitle matches
    ranked = keys(rank("sev", ENTRIES))
    assert ranked[0] == "severity"


def test_ties_keep_the_given_order() -> None:
    twins = [PaletteEntry("a", "Page on-call"), PaletteEntry("b", "Page on-call")]
    assert keys(rank("page", twins)) == ["a", "b"]


# ---------------------------------------------------------------- model & dialog


@pytest.mark.gui
def test_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = PaletteModel(ENTRIES)
    check_model(qtmodeltester, model)
    model.set_query("inc")
    check_model(qtmodeltester, model)
    assert model.index(0, 0).data() == "Incident list"
    model.set_query("declare")
    assert model.index(0, 0).data(SHORTCUT_ROLE) == "Ctrl+N"
    model.set_query("nothing matches this")
    assert model.rowCount() == 0


@pytest.mark.gui
def test_typing_filters_and_enter_returns_the_first(qtbot: QtBot) -> None:
    palette = CommandPalette(None, ENTRIES)
    qtbot.addWidget(palette)
    palette.show()
    key_clicks(qtbot, palette.search, "sev")
    assert palette.model.rowCount() >= 1
    assert palette.current_entry() == ENTRIES[6]
    with qtbot.waitSignal(palette.accepted):
        key_click(qtbot, palette.search, Qt.Key.Key_Return)
    assert palette.chosen() == ENTRIES[6]


@pytest.mark.gui
def test_arrow_keys_move_and_wrap(qtbot: QtBot) -> None:
    palette = CommandPalette(None, ENTRIES)
    qtbot.addWidget(palette)
    palette.show()
    key_clicks(qtbot, palette.search, "incident")
    first_three = [palette.model.entry(r) for r in range(3)]
    key_click(qtbot, palette.search, Qt.Key.Key_Down)
    assert palette.current_entry() == first_three[1]
    key_click(qtbot, palette.search, Qt.Key.Key_Up)
    key_click(qtbot, palette.search, Qt.Key.Key_Up)  # wraps to the last
    assert palette.current_entry() == palette.model.entry(palette.model.rowCount() - 1)
    assert palette.search.hasFocus() or not palette.isActiveWindow()
    assert palette.search.text() == "incident"  # arrows never edit the query


@pytest.mark.gui
def test_escape_returns_none(qtbot: QtBot) -> None:
    palette = CommandPalette(None, ENTRIES)
    qtbot.addWidget(palette)
    palette.show()
    with qtbot.waitSignal(palette.rejected):
        key_click(qtbot, palette.search, Qt.Key.Key_Escape)
    assert palette.chosen() is None


@pytest.mark.gui
def test_ask_is_modal_and_returns_the_keyboard_choice(qtbot: QtBot) -> None:
    def drive() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, CommandPalette)
        key_clicks(qtbot, dialog.search, "note")
        key_click(qtbot, dialog.search, Qt.Key.Key_Enter)

    QTimer.singleShot(0, drive)
    assert CommandPalette.ask(None, ENTRIES) == ENTRIES[4]


@pytest.mark.gui
def test_ask_with_nothing_matching_enter_does_nothing(qtbot: QtBot) -> None:
    def drive() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, CommandPalette)
        key_clicks(qtbot, dialog.search, "zzz")
        key_click(qtbot, dialog.search, Qt.Key.Key_Return)
        assert dialog.isVisible()
        dialog.reject()

    QTimer.singleShot(0, drive)
    assert CommandPalette.ask(None, ENTRIES) is None
