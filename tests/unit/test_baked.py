"""An installer's baked keys and pack, applied at start (console.packs.baked)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.packs import build_pack, installed_packs, trust_key, trusted_keys
from console.packs.baked import KEYS, PACKS, apply_baked
from console.signing import INTERACTIVE, PublicKey, SecretKey, generate_keypair
from console.storage.db import Database, open_database

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keypair() -> tuple[PublicKey, SecretKey]:
    return generate_keypair("pw", INTERACTIVE)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_database(tmp_path / "data" / "console.db")


def bake(
    baked: Path, keypair: tuple[PublicKey, SecretKey], version: int | None = None
) -> Path | None:
    """The layout packaging/build.py writes: keys/team.pub and packs/FILE + FILE.minisig."""
    public, secret = keypair
    (baked / KEYS).mkdir(parents=True)
    public.save(baked / KEYS / "team.pub")
    if version is None:
        return None
    (baked / PACKS).mkdir(exist_ok=True)
    out = baked / PACKS / f"team-v{version}.rcpack"
    files = {"runbooks/disk-full.md": REPO / "runbooks" / "disk-full.md"}
    build_pack(out, files, secret, version=version, publisher="Team", now=NOW)
    return out


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as raw:
        return list(raw.iterdump())


def test_nothing_baked_changes_nothing(tmp_path: Path, db: Database) -> None:
    report = apply_baked(db, tmp_path / "data", NOW, tmp_path / "absent")
    assert (report.pinned, report.imported, report.refused) == ([], [], [])
    assert report.summary() == ""


def test_key_pinned_once_and_pack_imported_once(
    tmp_path: Path, db: Database, keypair: tuple[PublicKey, SecretKey]
) -> None:
    baked = tmp_path / "baked"
    bake(baked, keypair, version=1)
    first = apply_baked(db, tmp_path / "data", NOW, baked)
    assert first.pinned == [keypair[0].id_hex]
    assert [r.pack.manifest.version for r in first.imported] == [1]
    assert first.refused == []
    assert "imported the installer's pack 'Team' v1" in first.summary()
    assert [k.key_id for k in trusted_keys(db)] == [keypair[0].id_hex]
    # the next start: the key is pinned and the pack's file is installed: nothing to do
    again = apply_baked(db, tmp_path / "data", NOW, baked)
    assert (again.pinned, again.imported, again.refused) == ([], [], [])
    assert [(p.publisher, p.version) for p in installed_packs(db)] == [("Team", 1)]


def test_tampered_pack_refused_with_reason_database_unchanged(
    tmp_path: Path, db: Database, keypair: tuple[PublicKey, SecretKey]
) -> None:
    baked = tmp_path / "baked"
    pack = bake(baked, keypair, version=2)
    assert pack is not None
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.write_bytes(bytes(data))
    trust_key(db, keypair[0], NOW)  # pinned before: only the pack is left to refuse
    before = dump(db.path)
    report = apply_baked(db, tmp_path / "data", NOW, baked)
    assert report.imported == []
    assert len(report.refused) == 1
    assert str(pack) in report.refused[0]
    assert "refused the installer's pack" in report.summary()
    assert dump(db.path) == before


def test_unreadable_key_refused_and_the_rest_goes_on(
    tmp_path: Path, db: Database, keypair: tuple[PublicKey, SecretKey]
) -> None:
    baked = tmp_path / "baked"
    bake(baked, keypair)
    (baked / KEYS / "broken.pub").write_text("untrusted comment: x\nnot base64 at all\n")
    report = apply_baked(db, tmp_path / "data", NOW, baked)
    assert report.pinned == [keypair[0].id_hex]
    assert len(report.refused) == 1
    assert "broken.pub" in report.refused[0]


def test_pack_without_a_pinned_key_is_refused(
    tmp_path: Path, db: Database, keypair: tuple[PublicKey, SecretKey]
) -> None:
    baked = tmp_path / "baked"
    bake(baked, keypair, version=1)
    shutil.rmtree(baked / KEYS)
    report = apply_baked(db, tmp_path / "data", NOW, baked)
    assert report.imported == []
    assert "no trusted keys" in report.refused[0]
    assert installed_packs(db) == []
