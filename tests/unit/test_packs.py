"""Content packs: build, verify, import, and every refusal leaving the database as it was."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.ops.workspace import Workspace
from console.packs import (
    PackError,
    build_pack,
    expiry_notice,
    folder_files,
    import_pack,
    installed_packs,
    trust_key,
    trusted_keys,
    verify_pack,
    workspace_files,
)
from console.packs import archive as archive_module
from console.packs.archive import FORMAT, MANIFEST
from console.signing import INTERACTIVE, PublicKey, SecretKey, generate_keypair, sign_file
from console.storage.db import Database, open_database

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keypair() -> tuple[PublicKey, SecretKey]:
    return generate_keypair("pw", INTERACTIVE)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A pack folder: sample runbooks, the demo catalog, templates."""
    folder = tmp_path / "source"
    (folder / "runbooks").mkdir(parents=True)
    for name in ("disk-full.md", "dns-failure.md", "cache-outage.md"):
        shutil.copy(REPO / "runbooks" / name, folder / "runbooks" / name)
    (folder / "catalog").mkdir()
    shutil.copy(REPO / "resources/demo/catalog.yaml", folder / "catalog" / "catalog.yaml")
    (folder / "templates/checklists").mkdir(parents=True)
    checklist = (REPO / "resources/checklists/incident.yaml").read_text()
    (folder / "templates/checklists/team.yaml").write_text(checklist)
    (folder / "templates/comms").mkdir(parents=True)
    shutil.copy(REPO / "resources/comms/internal-update.md", folder / "templates/comms/team.md")
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    folder = tmp_path / "data"
    folder.mkdir()
    db = open_database(folder / "console.db")
    yield db, folder
    db.close()


def build(source: Path, out: Path, secret: SecretKey, version: int = 1, **options: Any) -> Path:
    built = build_pack(
        out, folder_files(source), secret, version=version, publisher="SRE", now=NOW, **options
    )
    return built.path


def dump(db: Database) -> str:
    """Every row of the database (what a refusal must leave unchanged)."""
    connection = sqlite3.connect(db.path)
    try:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    finally:
        connection.close()


def craft(
    path: Path,
    secret: SecretKey,
    entries: dict[str, bytes],
    manifest: Any = None,
    *,
    listed: dict[str, bytes] | None = None,
    mode: dict[str, int] | None = None,
    compress: bool = False,
) -> Path:
    """A pack made by hand (what a forger or a broken tool could produce), signed by ``secret``."""
    if manifest is None:
        manifest = {
            "format": FORMAT,
            "version": 5,
            "publisher": "SRE",
            "created": "2026-11-23T12:00:00Z",
            "expires": None,
            "files": [
                {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                for name, data in (entries if listed is None else listed).items()
            ],
        }
    text = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in {**entries, MANIFEST: text}.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            info.external_attr = (mode or {}).get(name, stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    sign_file(path, secret)
    return path


RUNBOOK = (REPO / "runbooks/disk-full.md").read_bytes()


def test_build_verify_and_the_stock_tool(
    tmp_path: Path, source: Path, keypair: tuple[PublicKey, SecretKey]
) -> None:
    public, secret = keypair
    pack = build(source, tmp_path / "team.pack", secret, expires_days=30)
    verified = verify_pack(pack, public, now=NOW)
    assert verified.manifest.version == 1
    assert verified.manifest.publisher == "SRE"
    assert verified.manifest.expires == NOW + timedelta(days=30)
    names = {f.path for f in verified.manifest.files}
    assert "runbooks/disk-full.md" in names
    assert "templates/comms/team.md" in names
    with zipfile.ZipFile(pack) as archive:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
    minisign = shutil.which("minisign")
    if minisign is None:
        pytest.skip("the stock minisign tool is not installed (apt-get install -y minisign)")
    public_path = public.save(tmp_path / "team.pub")
    subprocess.run([minisign, "-Vm", str(pack), "-p", str(public_path)], check=True,
                   capture_output=True)  # fmt: skip


def test_import_applies_everything_in_one_go(
    tmp_path: Path,
    source: Path,
    keypair: tuple[PublicKey, SecretKey],
    workspace: tuple[Database, Path],
) -> None:
    public, secret = keypair
    db, folder = workspace
    pack = build(source, tmp_path / "team.pack", secret, expires_days=10)
    trust_key(db, public, NOW)
    report = import_pack(db, folder, pack, now=NOW)
    assert report.runbooks == 3
    assert report.services > 0
    assert report.templates == 2
    with db.raw_reader() as raw:
        (runbooks,) = raw.execute("SELECT COUNT(*) FROM runbooks").fetchone()
        (services,) = raw.execute("SELECT COUNT(*) FROM services").fetchone()
    assert runbooks == 3
    assert services == report.services
    [installed] = installed_packs(db)
    assert (installed.publisher, installed.version, installed.files) == ("SRE", 1, 6)
    assert (folder / "templates/comms/team.md").is_file()
    db.close()
    opened = Workspace.open(folder)
    try:  # the pack's checklist replaces the shipped one
        assert opened.templates
    finally:
        opened.close()
    db = open_database(folder / "console.db")
    # a newer version replaces the content: a runbook gone from the pack leaves the library
    (source / "runbooks/dns-failure.md").unlink()
    newer = build(source, tmp_path / "team2.pack", secret, version=2)
    assert import_pack(db, folder, newer, now=NOW).runbooks == 2
    with db.raw_reader() as raw:
        (runbooks,) = raw.execute("SELECT COUNT(*) FROM runbooks").fetchone()
    assert runbooks == 2
    assert [p.version for p in installed_packs(db)] == [2, 1]
    db.close()


def test_the_importers_write_inside_the_pack_transaction_only(
    tmp_path: Path,
    source: Path,
    trusted: tuple[Database, Path, SecretKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runbook importer writes through a connection of its own outside a pack; inside
    one it must use the pack's transaction, or its rows would commit (or wait for the
    lock) apart from the rest of the pack."""

    def no_own_connection(self: Database) -> object:
        raise AssertionError("an importer opened a connection of its own inside a pack")

    monkeypatch.setattr(Database, "own_connection", no_own_connection)
    db, folder, secret = trusted
    report = import_pack(db, folder, build(source, tmp_path / "v1", secret, version=1), now=NOW)
    assert report.runbooks == 3


def test_expiry_notice(
    tmp_path: Path,
    source: Path,
    keypair: tuple[PublicKey, SecretKey],
    workspace: tuple[Database, Path],
) -> None:
    public, secret = keypair
    db, folder = workspace
    assert expiry_notice(db, NOW) is None
    trust_key(db, public, NOW)
    import_pack(db, folder, build(source, tmp_path / "p", secret, expires_days=30), now=NOW)
    assert expiry_notice(db, NOW) is None
    notice = expiry_notice(db, NOW + timedelta(days=25))
    assert notice is not None
    assert "expires in 5 days" in notice
    late = expiry_notice(db, NOW + timedelta(days=31))
    assert late is not None
    assert "expired" in late


def test_trusted_keys_allow_rotation(
    keypair: tuple[PublicKey, SecretKey], workspace: tuple[Database, Path]
) -> None:
    db, _ = workspace
    other, _ = generate_keypair("x", INTERACTIVE)
    assert trust_key(db, keypair[0], NOW)
    assert not trust_key(db, keypair[0], NOW)
    assert trust_key(db, other, NOW)
    assert [k.key_id for k in trusted_keys(db)] == [keypair[0].id_hex, other.id_hex]


# ------------------------------------------------------------------ refusals


def files_of(folder: Path) -> list[str]:
    """The installed content and templates, by name and bytes."""
    return sorted(
        f"{p.relative_to(folder)}:{hashlib.sha256(p.read_bytes()).hexdigest()}"
        for section in ("pack", "templates")
        for p in (folder / section).rglob("*")
        if p.is_file()
    )


def refused(db: Database, folder: Path, pack: Path, match: str, *, now: datetime = NOW) -> None:
    before, content = dump(db), files_of(folder)
    with pytest.raises(PackError, match=match):
        import_pack(db, folder, pack, now=now)
    assert dump(db) == before
    assert files_of(folder) == content


@pytest.fixture
def trusted(
    keypair: tuple[PublicKey, SecretKey], workspace: tuple[Database, Path]
) -> tuple[Database, Path, SecretKey]:
    db, folder = workspace
    trust_key(db, keypair[0], NOW)
    return db, folder, keypair[1]


def test_refuses_without_pinned_keys(
    tmp_path: Path, source: Path, keypair: tuple[PublicKey, SecretKey],
    workspace: tuple[Database, Path],
) -> None:  # fmt: skip
    db, folder = workspace
    refused(db, folder, build(source, tmp_path / "p", keypair[1]), "no trusted keys")


def test_refuses_unknown_key(
    tmp_path: Path, source: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, _ = trusted
    _, stranger = generate_keypair("s", INTERACTIVE)
    refused(db, folder, build(source, tmp_path / "p", stranger), "not by a trusted key")


def test_refuses_bad_and_missing_signature(
    tmp_path: Path, source: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    pack = build(source, tmp_path / "p", secret)
    signature = pack.with_name("p.minisig")
    lines = signature.read_text().splitlines()
    raw = bytearray(base64.b64decode(lines[1]))
    raw[-1] ^= 1
    lines[1] = base64.b64encode(bytes(raw)).decode()
    signature.write_text("\n".join(lines) + "\n")
    refused(db, folder, pack, "signature does not match")
    signature.write_text("not a signature\n")
    refused(db, folder, pack, "malformed signature")
    signature.unlink()
    refused(db, folder, pack, "signature missing")


def test_refuses_tampered_file(
    tmp_path: Path, source: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    pack = build(source, tmp_path / "p", secret)
    data = bytearray(pack.read_bytes())
    at = data.index(b"Disk full")
    data[at] = ord("d")
    pack.write_bytes(bytes(data))
    refused(db, folder, pack, "signature does not match the file")
    # the same change made by someone holding the key but not updating the manifest
    forged = {"runbooks/disk-full.md": RUNBOOK.replace(b"Disk full", b"disk full")}
    honest = {"runbooks/disk-full.md": RUNBOOK}
    pack = craft(tmp_path / "q", secret, forged, listed=honest)
    refused(db, folder, pack, "disk-full.md was altered")


def test_refuses_missing_and_extra_files(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    both = {"runbooks/a.md": RUNBOOK, "runbooks/b.md": RUNBOOK}
    one = {"runbooks/a.md": RUNBOOK}
    refused(db, folder, craft(tmp_path / "m", secret, one, listed=both), "missing file runbooks/b")
    refused(db, folder, craft(tmp_path / "x", secret, both, listed=one), "extra file runbooks/b")


def test_refuses_rollback_and_same_version(
    tmp_path: Path, source: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    import_pack(db, folder, build(source, tmp_path / "v3", secret, version=3), now=NOW)
    refused(db, folder, build(source, tmp_path / "v3b", secret, version=3), "not newer")
    refused(db, folder, build(source, tmp_path / "v2", secret, version=2), "rollback refused")


def test_refuses_expired(
    tmp_path: Path, source: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    pack = build(source, tmp_path / "p", secret, expires_days=1)
    refused(db, folder, pack, "expired on 2026-11-24", now=NOW + timedelta(days=2))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.md", "climbs out"),
        ("runbooks/../../evil.md", "climbs out"),
        ("/etc/evil.md", "absolute path"),
        ("C:/evil.md", "absolute path"),
        ("runbooks\\evil.md", "backslash"),
    ],
)
def test_refuses_escaping_paths(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey], name: str, reason: str
) -> None:
    db, folder, secret = trusted
    refused(db, folder, craft(tmp_path / "p", secret, {name: RUNBOOK}), reason)
    assert not (tmp_path / "evil.md").exists()


def test_refuses_links_and_directories(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    link = craft(
        tmp_path / "l", secret, {"runbooks/x.md": b"/etc/passwd"},
        mode={"runbooks/x.md": stat.S_IFLNK | 0o777},
    )  # fmt: skip
    refused(db, folder, link, "is a link")


def test_refuses_compressed_and_oversized_entries(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, folder, secret = trusted
    bomb = craft(tmp_path / "b", secret, {"runbooks/a.md": b"\0" * 1_000_000}, compress=True)
    refused(db, folder, bomb, "compressed or encrypted")
    monkeypatch.setattr(archive_module, "MAX_ENTRY_BYTES", 1000)
    big = craft(tmp_path / "o", secret, {"runbooks/a.md": b"#" * 1001})
    refused(db, folder, big, r"1001 bytes \(limit 1000\)")
    monkeypatch.setattr(archive_module, "MAX_ENTRIES", 3)
    many = craft(tmp_path / "n", secret, {f"runbooks/{i}.md": b"# x\n" for i in range(3)})
    refused(db, folder, many, "4 entries")


def test_refuses_size_that_differs_from_the_manifest(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    manifest = {
        "format": FORMAT, "version": 1, "publisher": "SRE", "created": "2026-11-23T12:00:00Z",
        "files": [{"path": "runbooks/a.md", "sha256": hashlib.sha256(RUNBOOK).hexdigest(),
                   "size": 10}],
    }  # fmt: skip
    pack = craft(tmp_path / "s", secret, {"runbooks/a.md": RUNBOOK}, manifest)
    refused(db, folder, pack, "the manifest says 10")


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        (b"{not json", "malformed manifest"),
        (b"[]", "not a JSON object"),
        ({"format": "other"}, "format is not"),
        ({"format": FORMAT, "version": "7"}, "version must be a positive integer"),
        ({"format": FORMAT, "version": 1, "publisher": ""}, "publisher missing"),
        (
            {"format": FORMAT, "version": 1, "publisher": "p", "created": "yesterday"},
            "created",
        ),
        (
            {
                "format": FORMAT,
                "version": 1,
                "publisher": "p",
                "created": "2026-11-23T12:00:00Z",
                "files": [{"path": "a", "sha256": "zz", "size": 1}],
            },
            "sha256 is not 64 hex digits",
        ),
    ],
)
def test_refuses_malformed_manifest(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey], manifest: Any, reason: str
) -> None:
    db, folder, secret = trusted
    refused(db, folder, craft(tmp_path / "p", secret, {}, manifest), reason)


def test_refuses_not_a_zip(tmp_path: Path, trusted: tuple[Database, Path, SecretKey]) -> None:
    db, folder, secret = trusted
    pack = tmp_path / "p"
    pack.write_bytes(b"just text")
    sign_file(pack, secret)
    refused(db, folder, pack, "not a zip file")


def test_a_bad_file_inside_a_signed_pack_is_listed_and_the_rest_applied(
    tmp_path: Path, source: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    # binary: refused (front matter that is not YAML is imported with a warning, issue 15)
    (source / "runbooks/broken.md").write_bytes(b"# Broken\n\x00")
    report = import_pack(db, folder, build(source, tmp_path / "v1", secret), now=NOW)
    assert report.runbooks == 3
    [(path, reason)] = report.refused
    assert path == "runbooks/broken.md"
    assert reason


def test_a_failure_while_applying_rolls_back_everything(
    tmp_path: Path, source: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    """The importers' writes and the install row are one transaction: a failure at the
    last statement (here the database refusing the install row) leaves nothing behind."""
    from console.domain.errors import StorageError

    db, folder, secret = trusted
    import_pack(db, folder, build(source, tmp_path / "v1", secret, version=1), now=NOW)
    installed = files_of(folder)
    with db.raw_writer() as raw:
        raw.execute(
            "CREATE TRIGGER no_more BEFORE INSERT ON pack_installs "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    (source / "runbooks/disk-full.md").unlink()
    (source / "runbooks/new-one.md").write_bytes(RUNBOOK.replace(b"id: disk-full", b"id: new"))
    before = dump(db)
    with pytest.raises(StorageError):
        import_pack(db, folder, build(source, tmp_path / "v2", secret, version=2), now=NOW)
    assert dump(db) == before
    assert files_of(folder) == installed


def test_workspace_files_collects_the_sources(
    tmp_path: Path, source: Path, workspace: tuple[Database, Path]
) -> None:
    from console.importers.catalog import import_catalog
    from console.importers.runbooks import import_runbooks

    db, folder = workspace
    import_runbooks(db, [source / "runbooks"])
    import_catalog(db, [source / "catalog"])
    from console.importers.oncall import import_people_and_schedules

    import_people_and_schedules(db, [REPO / "tests/fixtures/oncall/contacts.vcf"])
    with db.raw_reader() as raw:
        files = workspace_files(raw, folder, source / "templates/checklists")
    assert files["runbooks/runbooks/disk-full.md"] == source / "runbooks/disk-full.md"
    assert files["catalog/catalog.yaml"] == source / "catalog/catalog.yaml"
    assert files["templates/checklists/team.yaml"] == source / "templates/checklists/team.yaml"
    assert files["contacts/contacts.vcf"] == REPO / "tests/fixtures/oncall/contacts.vcf"


def test_a_pack_of_the_workspace_fills_another(
    tmp_path: Path, source: Path, keypair: tuple[PublicKey, SecretKey]
) -> None:
    from console.importers.oncall import import_people_and_schedules
    from console.importers.runbooks import import_runbooks

    lead = open_database(tmp_path / "lead.db")
    import_runbooks(lead, [source / "runbooks"])
    import_people_and_schedules(lead, [REPO / "tests/fixtures/oncall/contacts.vcf"])
    with lead.raw_reader() as raw:
        files = workspace_files(raw, tmp_path, source / "templates/checklists")
    lead.close()
    pack = build_pack(tmp_path / "p", files, keypair[1], version=9, publisher="lead", now=NOW)
    folder = tmp_path / "responder"
    folder.mkdir()
    responder = open_database(folder / "console.db")
    try:
        trust_key(responder, keypair[0], NOW)
        report = import_pack(responder, folder, pack.path, now=NOW)
        assert report.runbooks == 3
        assert report.contacts > 0
    finally:
        responder.close()


def test_refuses_a_file_where_a_folder_must_go(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    clash = {"runbooks/a": RUNBOOK, "runbooks/a/b.md": RUNBOOK}
    refused(db, folder, craft(tmp_path / "c", secret, clash), "cannot read or unpack")
