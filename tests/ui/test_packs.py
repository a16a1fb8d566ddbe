"""File → Import pack… and the pack-expiry label: real widgets on a real workspace."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.packs import build_pack, folder_files, installed_packs, trust_key
from console.signing import INTERACTIVE, PublicKey, generate_keypair
from tests.ui.helpers_secondary import OFFSCREEN_NOTICES
from ui.context import UiContext
from ui.main_window import MainWindow
from ui.packs import PackExpiryLabel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOTICES)]
REPO = Path(__file__).resolve().parents[2]


def make_pack(tmp_path: Path, version: int, expires_days: int | None) -> tuple[Path, PublicKey]:
    source = tmp_path / f"source{version}"
    (source / "runbooks").mkdir(parents=True)
    shutil.copy(REPO / "runbooks/disk-full.md", source / "runbooks/disk-full.md")
    public, secret = generate_keypair("pw", INTERACTIVE)
    pack = build_pack(
        tmp_path / f"team{version}.pack", folder_files(source), secret, version=version,
        publisher="SRE", now=datetime.now(UTC), expires_days=expires_days,
    ).path  # fmt: skip
    return pack, public


def test_import_pack_action_applies_and_warns_of_expiry(
    qtbot: QtBot, context: UiContext, tmp_path: Path
) -> None:
    pack, public = make_pack(tmp_path, 1, expires_days=3)
    trust_key(context.workspace.db, public, datetime.now(UTC))
    window = MainWindow.for_context(context)
    qtbot.addWidget(window)
    action = window.actions_by_name["import_pack"]
    assert action.shortcut().toString() == "Ctrl+Shift+K"
    importer = window.area("packs")  # built lazily: the one way in
    expiry = window.pack_expiry
    assert expiry is not None
    assert expiry.isHidden()
    importer.start(pack)
    assert [p.version for p in installed_packs(context.workspace.db)] == [1]
    assert "Imported content pack 'SRE' v1: 1 runbooks" in window.statusBar().currentMessage()
    assert not expiry.isHidden()
    assert "expires in 3 days" in expiry.text()
    assert not importer.running


def test_a_refused_pack_is_reported_and_changes_nothing(
    qtbot: QtBot, context: UiContext, tmp_path: Path
) -> None:
    pack, _ = make_pack(tmp_path, 1, expires_days=None)  # signed by a key nobody pinned
    shown: list[str] = []
    context.events.error_shown.connect(shown.append)
    window = MainWindow.for_context(context)
    qtbot.addWidget(window)
    window.area("packs").start(pack)
    assert installed_packs(context.workspace.db) == []
    assert shown
    assert shown[-1].startswith("Pack refused, nothing changed:")
    assert "no trusted keys" in shown[-1]


def test_expiry_label_on_the_reader_thread(
    qtbot: QtBot, pool_context: UiContext, tmp_path: Path
) -> None:
    pack, public = make_pack(tmp_path, 2, expires_days=1)
    db = pool_context.workspace.db
    trust_key(db, public, datetime.now(UTC))
    from console.packs import import_pack

    import_pack(db, pool_context.workspace.folder, pack, now=datetime.now(UTC))
    label = PackExpiryLabel(pool_context)
    qtbot.addWidget(label)
    label.start()
    qtbot.waitUntil(lambda: not label.isHidden())
    assert "expires in 1 day" in label.text()


def test_a_pack_with_a_template_sub_folder_is_refused_whole(
    qtbot: QtBot, context: UiContext, tmp_path: Path
) -> None:
    """Was: an IsADirectoryError after the commit — the pack listed as installed with its
    templates half copied, and the window said only that importing failed."""
    from tests.unit.test_packs import COMMS, RUNBOOK, craft

    public, secret = generate_keypair("pw", INTERACTIVE)
    trust_key(context.workspace.db, public, datetime.now(UTC))
    entries = {
        "runbooks/a.md": RUNBOOK,
        "templates/comms/team.md": COMMS,
        "templates/comms/drafts/team.md": COMMS,
    }
    pack = craft(tmp_path / "team.pack", secret, entries)
    shown: list[str] = []
    context.events.error_shown.connect(shown.append)
    window = MainWindow.for_context(context)
    qtbot.addWidget(window)
    importer = window.area("packs")
    importer.start(pack)
    qtbot.waitUntil(lambda: not importer.running)
    assert installed_packs(context.workspace.db) == []
    assert shown[-1].startswith("Pack refused, nothing changed:")
    assert "'templates/comms/drafts/team.md' is in a sub-folder" in shown[-1]
    assert not (context.workspace.folder / "templates/comms/team.md").exists()
