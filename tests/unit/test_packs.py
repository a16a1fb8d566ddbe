"""Content packs: build, verify, import, and every refusal leaving the database as it was."""

from __future__ import annotations

import base64
import hashlib
import io
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
    # the pack's runbooks are one source, the publisher's; version 2 refreshed it
    with db.raw_reader() as raw:
        sources = raw.execute("SELECT name, origin, last_import FROM runbook_sources").fetchall()
        (in_it,) = raw.execute(
            "SELECT count(*) FROM runbooks r JOIN runbook_sources s ON s.id = r.source_id "
            "WHERE s.name = 'pack-sre'"
        ).fetchone()
    assert [(name, origin) for name, origin, _ in sources] == [("pack-sre", "pack")]
    assert json.loads(sources[0][2])["removed"] == 1
    assert in_it == 2
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
    refused(db, folder, craft(tmp_path / "c", secret, clash), "'runbooks/a' is both a file and")
    case = {"runbooks/A.md": RUNBOOK, "runbooks/a.md": RUNBOOK}
    refused(db, folder, craft(tmp_path / "d", secret, case), "differ only in case")


# ------------------------------------------- issue 14: checked whole, then all or nothing

COMMS = (REPO / "resources/comms/internal-update.md").read_bytes()
CHECKLIST = (REPO / "resources/checklists/incident.yaml").read_bytes()


def leftovers(folder: Path) -> list[str]:
    """Hidden staging/backup names an import leaves behind (none, whatever happened)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.name != ".")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("templates/comms/sub/x.md", "'templates/comms/sub/x.md' is in a sub-folder"),
        ("templates/checklists/more/y.yaml", "'templates/checklists/more/y.yaml' is in a sub"),
        ("templates/comms/notes.txt", "'templates/comms/notes.txt' is not a [*].md file"),
        ("extras/readme.md", "'extras/readme.md' is outside the pack's folders"),
    ],
)
def test_a_pack_the_templates_cannot_take_is_refused_before_anything_is_applied(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey], name: str, reason: str
) -> None:
    """Was: the sub-folder was found after the commit (IsADirectoryError), the pack listed
    as installed with its templates half copied, and the fixed pack refused as a rollback."""
    db, folder, secret = trusted
    good = {"runbooks/a.md": RUNBOOK, "templates/comms/team.md": COMMS}
    refused(db, folder, craft(tmp_path / "bad", secret, {**good, name: COMMS}), reason)
    assert installed_packs(db) == []
    assert not (folder / "pack").exists()
    assert leftovers(folder) == []
    # the corrected pack, same version, is not taken for a rollback
    report = import_pack(db, folder, craft(tmp_path / "good", secret, good), now=NOW)
    assert (report.runbooks, report.templates) == (1, 1)
    assert (folder / "templates/comms/team.md").read_bytes() == COMMS


def test_build_refuses_what_an_import_would(
    tmp_path: Path, source: Path, keypair: tuple[PublicKey, SecretKey]
) -> None:
    (source / "templates/comms/drafts").mkdir()
    (source / "templates/comms/drafts/later.md").write_bytes(COMMS)
    with pytest.raises(PackError, match=r"'templates/comms/drafts/later\.md' is in a sub-folder"):
        build(source, tmp_path / "p", keypair[1])
    assert not (tmp_path / "p").exists()


def test_a_template_destination_that_cannot_be_written_changes_nothing(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    """Was: the checklist was copied after the commit, then the comms folder failed: the
    pack was listed as installed with half its templates."""
    db, folder, secret = trusted
    (folder / "templates").mkdir()
    (folder / "templates/comms").write_text("a file where the comms folder goes\n")
    pack = {
        "runbooks/a.md": RUNBOOK,
        "templates/checklists/team.yaml": CHECKLIST,
        "templates/comms/team.md": COMMS,
    }
    refused(db, folder, craft(tmp_path / "p", secret, pack), "cannot write the pack's templates")
    assert installed_packs(db) == []
    assert not (folder / "templates/checklists/team.yaml").exists()
    assert leftovers(folder) == []
    (folder / "templates/comms").unlink()
    (folder / "templates/comms").mkdir()
    (folder / "templates/comms/team.md").mkdir()  # a folder where the template goes
    refused(db, folder, craft(tmp_path / "q", secret, pack), "a folder where the pack's template")
    assert installed_packs(db) == []


def test_a_commit_that_fails_puts_every_file_back(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    """The templates are renamed into place inside the open transaction; when the commit
    itself fails (here a deferred foreign key the test adds), the renames are undone from
    the files kept aside and the previous content folder comes back."""
    from console.domain.errors import StorageError

    db, folder, secret = trusted
    first = {
        "runbooks/a.md": RUNBOOK,
        "templates/checklists/team.yaml": CHECKLIST,
        "templates/comms/team.md": COMMS,
    }
    import_pack(db, folder, craft(tmp_path / "v5", secret, first), now=NOW)
    installed, before = files_of(folder), dump(db)
    second = {
        "runbooks/b.md": RUNBOOK.replace(b"id: disk-full", b"id: other"),
        "templates/checklists/team.yaml": CHECKLIST.replace(b"title:", b"title: v2", 1),
        "templates/comms/team.md": COMMS + b"\nSecond edition.\n",
        "templates/comms/new.md": COMMS.replace(b"id: internal-update", b"id: new-one"),
    }
    manifest = {
        "format": FORMAT, "version": 6, "publisher": "SRE", "created": "2026-11-23T12:00:00Z",
        "files": [{"path": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                  for n, d in second.items()],
    }  # fmt: skip
    pack = craft(tmp_path / "v6", secret, second, manifest)
    with db.raw_writer() as raw:  # the commit fails: a row pointing nowhere, checked at COMMIT
        raw.execute("CREATE TABLE t_parent (id INTEGER PRIMARY KEY)")
        raw.execute(
            "CREATE TABLE t_child (parent INTEGER REFERENCES t_parent (id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )
        raw.execute(
            "CREATE TRIGGER late AFTER INSERT ON pack_installs "
            "BEGIN INSERT INTO t_child VALUES (42); END"
        )
    before = dump(db)
    with pytest.raises(StorageError, match="rolled back, nothing changed"):
        import_pack(db, folder, pack, now=NOW)
    assert dump(db) == before
    assert files_of(folder) == installed
    assert leftovers(folder) == []
    assert [p.version for p in installed_packs(db)] == [5]


# ------------------------------------------------- issue 14: bounded manifest values

BIG = 2**62


def manifest_with(**fields: Any) -> dict[str, Any]:
    document = {
        "format": FORMAT, "version": 5, "publisher": "SRE", "created": "2026-11-23T12:00:00Z",
        "expires": None, "files": [{"path": "runbooks/a.md",
                                    "sha256": hashlib.sha256(RUNBOOK).hexdigest(),
                                    "size": len(RUNBOOK)}],
    }  # fmt: skip
    document.update(fields)
    return document


@pytest.mark.parametrize("version", [2**70, BIG, archive_module.MAX_VERSION + 1])
def test_a_version_past_the_bound_is_refused_and_blocks_nothing(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey], version: int
) -> None:
    """Was: 2^70 ended in OverflowError; 2^62 was installed and refused every later pack."""
    db, folder, secret = trusted
    entries = {"runbooks/a.md": RUNBOOK}
    huge = craft(tmp_path / "huge", secret, entries, manifest_with(version=version))
    refused(db, folder, huge, f"version {version} is larger than the largest allowed")
    assert installed_packs(db) == []
    largest = manifest_with(version=archive_module.MAX_VERSION)
    import_pack(db, folder, craft(tmp_path / "max", secret, entries, largest), now=NOW)
    assert [p.version for p in installed_packs(db)] == [archive_module.MAX_VERSION]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"created": "2026-11-25T12:00:01Z"}, "created 2026-11-25T12:00:01Z, in the future"),
        ({"created": "9999-12-31T23:59:59Z"}, "in the future"),
        ({"expires": "2026-11-23T11:00:00Z"}, "expires is not after created"),
        ({"publisher": "x" * 201}, "publisher: more than 200 characters"),
        ({"publisher": "SRE\nforged line"}, "a control character"),
        (
            {"files": [{"path": "runbooks/a.md", "sha256": "0" * 64, "size": 2**70}]},
            f"size {2**70} is over the limit",
        ),
    ],
)
def test_manifest_values_are_bounded(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey], fields: dict[str, Any], reason: str
) -> None:
    db, folder, secret = trusted
    pack = craft(tmp_path / "p", secret, {"runbooks/a.md": RUNBOOK}, manifest_with(**fields))
    refused(db, folder, pack, reason)


def test_created_within_the_clock_skew_allowance_is_accepted(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    ahead = manifest_with(created="2026-11-24T11:00:00Z")  # 23 h ahead of this clock
    import_pack(db, folder, craft(tmp_path / "p", secret, {"runbooks/a.md": RUNBOOK}, ahead),
                now=NOW)  # fmt: skip
    assert [p.version for p in installed_packs(db)] == [5]


def test_a_manifest_nested_past_the_stack_is_refused(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    """Was: RecursionError out of json.loads (a traceback, not a refusal)."""
    db, folder, secret = trusted
    deep = b"[" * 200_000 + b"]" * 200_000
    refused(db, folder, craft(tmp_path / "p", secret, {}, deep), "nested too deeply")


def test_build_refuses_versions_and_validity_past_the_bounds(
    tmp_path: Path, source: Path, keypair: tuple[PublicKey, SecretKey]
) -> None:
    with pytest.raises(PackError, match="from 1 to 4294967295"):
        build(source, tmp_path / "p", keypair[1], version=2**62)
    with pytest.raises(PackError, match="from 1 to 36500 days"):
        build(source, tmp_path / "p", keypair[1], expires_days=10**12)
    assert not (tmp_path / "p").exists()


# ----------------------------------- issue 14: an untrusted or tampered pack stops early

BIG_ENTRY = 50 * 1024**2
ZEROS = bytes(1 << 20)


class _Sparse(io.FileIO):
    """Writes ZEROS as a hole: a 200 MB pack costs no disk and little time."""

    def write(self, data: Any) -> int:
        if data is ZEROS:
            self.seek(len(ZEROS), io.SEEK_CUR)
            return len(ZEROS)
        return super().write(data)


def sparse_pack(path: Path, secret: SecretKey, entries: int = 4) -> Path:
    """A real pack (stored entries, manifest, minisign signature) of ``entries`` × 50 MiB."""
    digest = hashlib.sha256()
    for _ in range(BIG_ENTRY // len(ZEROS)):
        digest.update(ZEROS)
    names = [f"runbooks/big-{n}.md" for n in range(entries)]
    manifest = manifest_with(
        files=[{"path": n, "sha256": digest.hexdigest(), "size": BIG_ENTRY} for n in names]
    )
    with _Sparse(path, "w+") as raw, zipfile.ZipFile(raw, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            with archive.open(info, "w") as out:
                for _ in range(BIG_ENTRY // len(ZEROS)):
                    out.write(ZEROS)
        info = zipfile.ZipInfo(MANIFEST)
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        archive.writestr(info, json.dumps(manifest).encode())
        raw.seek(0, io.SEEK_END)  # the central directory follows the last hole
    sign_file(path, secret)
    return path


@pytest.fixture(scope="module")
def big_pack(
    tmp_path_factory: pytest.TempPathFactory, keypair: tuple[PublicKey, SecretKey]
) -> Path:
    """200 MiB signed by the trusted key; ``.stranger.minisig`` by a key nobody pinned,
    ``.forged.minisig`` by the trusted key over other bytes (the pack as if tampered with)."""
    from console.signing import sign_digest

    pack = sparse_pack(tmp_path_factory.mktemp("big") / "big.pack", keypair[1])
    _, stranger = generate_keypair("s", INTERACTIVE)
    pack.with_name("big.pack.stranger.minisig").write_text(
        sign_digest(hashlib.blake2b(pack.name.encode(), digest_size=64).digest(), stranger, "t")
    )
    pack.with_name("big.pack.forged.minisig").write_text(
        sign_digest(hashlib.blake2b(b"other", digest_size=64).digest(), keypair[1], "t")
    )
    assert pack.stat().st_size > 200 * 1024**2
    return pack


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch, big_pack: Path) -> list[int]:
    """Bytes read from the big pack, counted at the file object the code opens."""
    counted: list[int] = []
    original = Path.open

    class Counting(io.FileIO):
        def read(self, size: int | None = -1, /) -> bytes:
            data = super().read(size)
            counted.append(len(data))
            return data

        def readinto(self, buffer: Any, /) -> int:
            read = super().readinto(buffer)
            counted.append(read or 0)
            return read or 0

    def open_counting(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self == big_pack and mode == "rb":
            return Counting(self, "rb")
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_counting)
    return counted


def test_an_untrusted_pack_is_refused_before_it_is_read(
    big_pack: Path, trusted: tuple[Database, Path, SecretKey], reads: list[int]
) -> None:
    """Was: the whole pack was read and copied into <data>/pack before the signer was checked."""
    db, folder, _ = trusted
    signature = big_pack.with_name("big.pack.stranger.minisig")
    before = dump(db)
    with pytest.raises(PackError, match="not by a trusted key"):
        import_pack(db, folder, big_pack, now=NOW, signature_path=signature)
    assert sum(reads) == 0
    assert not (folder / "pack").exists()
    assert dump(db) == before


def test_a_tampered_pack_is_read_once_and_nothing_written(
    big_pack: Path, trusted: tuple[Database, Path, SecretKey], reads: list[int]
) -> None:
    db, folder, _ = trusted
    signature = big_pack.with_name("big.pack.forged.minisig")
    with pytest.raises(PackError, match="signature does not match the file"):
        import_pack(db, folder, big_pack, now=NOW, signature_path=signature)
    assert sum(reads) <= big_pack.stat().st_size + 2 * 1024**2  # one pass, plus the directory
    assert not (folder / "pack").exists()
    assert installed_packs(db) == []


def test_a_pack_its_manifest_refuses_is_not_read_past_the_manifest(
    tmp_path: Path, big_pack: Path, trusted: tuple[Database, Path, SecretKey], reads: list[int]
) -> None:
    db, folder, secret = trusted
    newer = manifest_with(version=9)
    import_pack(db, folder, craft(tmp_path / "v9", secret, {"runbooks/a.md": RUNBOOK}, newer),
                now=NOW)  # fmt: skip
    with pytest.raises(PackError, match="rollback refused"):
        import_pack(db, folder, big_pack, now=NOW)  # v5 of the same publisher
    assert 0 < sum(reads) < 1024**2
    with pytest.raises(PackError, match="in the future"):
        verify_pack(big_pack, secret.public_key(), now=NOW - timedelta(days=2))
    assert sum(reads) < 2 * 1024**2


def test_the_big_pack_itself_installs(
    big_pack: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    """The control: the same 200 MiB pack, signed by the pinned key, goes in whole."""
    db, folder, _ = trusted
    report = import_pack(db, folder, big_pack, now=NOW)
    assert report.pack.bytes == 4 * BIG_ENTRY
    assert (folder / "pack/content/runbooks/big-3.md").stat().st_size == BIG_ENTRY
    assert leftovers(folder) == []


# -------------------------------------- issue 14: a crash while applying is undone or finished

DIES = """
import os, sys
from datetime import UTC, datetime
from pathlib import Path
from console.packs import install
from console.storage.db import open_database

where, count = sys.argv[4], int(sys.argv[5])
done = []
put = install._Plan.put

def put_then_die(move):
    put(move)
    done.append(move)
    if len(done) == count:
        os._exit(9)  # killed here: no except, no finally, no rollback

if where == "put":
    install._Plan.put = staticmethod(put_then_die)
else:  # committed, then killed before the clean-up
    install._Plan.close = lambda self, *args: os._exit(9)
db = open_database(Path(sys.argv[1]))
now = datetime(2026, 11, 23, 12, tzinfo=UTC)
install.import_pack(db, Path(sys.argv[2]), Path(sys.argv[3]), now=now)
"""


def second_edition(tmp_path: Path, secret: SecretKey) -> Path:
    second = {
        "runbooks/b.md": RUNBOOK.replace(b"id: disk-full", b"id: other"),
        "templates/checklists/team.yaml": CHECKLIST.replace(b"title:", b"title: v2", 1),
        "templates/comms/team.md": COMMS + b"\nSecond edition.\n",
        "templates/comms/new.md": COMMS.replace(b"id: internal-update", b"id: new-one"),
    }
    return craft(tmp_path / "v6", secret, second, manifest_with(version=6, files=[
        {"path": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
        for n, d in second.items()
    ]))  # fmt: skip


def first_edition(tmp_path: Path, db: Database, folder: Path, secret: SecretKey) -> None:
    first = {
        "runbooks/a.md": RUNBOOK,
        "templates/checklists/team.yaml": CHECKLIST,
        "templates/comms/team.md": COMMS,
    }
    import_pack(db, folder, craft(tmp_path / "v5", secret, first), now=NOW)


def kill_while_applying(db: Database, folder: Path, pack: Path, where: str, count: int) -> None:
    import sys

    died = subprocess.run(
        [sys.executable, "-c", DIES, str(db.path), str(folder), str(pack), where, str(count)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert died.returncode == 9, died.stderr
    assert (folder / "pack/.applying.json").is_file()


def test_a_crash_before_the_commit_is_undone(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    """Killed after the content and two templates were renamed into place, before the
    commit: the database rolled back by itself; the next import puts the files back."""
    from console.packs.install import finish_interrupted

    db, folder, secret = trusted
    first_edition(tmp_path, db, folder, secret)
    installed, before = files_of(folder), dump(db)
    pack = second_edition(tmp_path, secret)
    kill_while_applying(db, folder, pack, "put", 3)
    assert files_of(folder) != installed  # the crash left the new templates in place
    assert finish_interrupted(db, folder) == (
        "an interrupted pack import was undone: the files are as before it"
    )
    assert dump(db) == before
    assert files_of(folder) == installed
    assert leftovers(folder) == []
    assert import_pack(db, folder, pack, now=NOW).templates == 3  # not taken for a rollback


def test_a_crash_after_the_commit_is_finished(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey]
) -> None:
    db, folder, secret = trusted
    first_edition(tmp_path, db, folder, secret)
    kill_while_applying(db, folder, second_edition(tmp_path, secret), "close", 0)
    assert [p.version for p in installed_packs(db)] == [6, 5]
    # the next import (here one refused as a rollback) finishes the clean-up first
    with pytest.raises(PackError, match="rollback refused"):
        import_pack(db, folder, craft(tmp_path / "old", secret, {"runbooks/a.md": RUNBOOK}),
                    now=NOW)  # fmt: skip
    assert leftovers(folder) == []
    assert (folder / "templates/comms/new.md").is_file()
    assert (folder / "templates/comms/team.md").read_bytes().endswith(b"Second edition.\n")


def test_the_central_directory_is_bounded_before_zipfile_reads_it(
    tmp_path: Path, trusted: tuple[Database, Path, SecretKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    """zipfile makes an object per directory entry before the entry count can be looked at
    (a 2 GiB directory: tens of millions); the end record's numbers are checked first, in
    the plain and the Zip64 form."""
    db, folder, secret = trusted
    entries = {f"runbooks/{i}.md": b"# x\n" for i in range(4)}
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)  # write the Zip64 end records
    zip64 = craft(tmp_path / "z64", secret, entries)
    monkeypatch.undo()
    with zip64.open("rb") as handle:
        assert b"PK\x06\x06" in handle.read()
    assert verify_pack(zip64, secret.public_key(), now=NOW).manifest.version == 5
    plain = craft(tmp_path / "plain", secret, entries)
    monkeypatch.setattr(archive_module, "MAX_ENTRIES", 3)
    refused(db, folder, zip64, r"5 entries \(more than 3\)")
    refused(db, folder, plain, r"5 entries \(more than 3\)")
    monkeypatch.setattr(archive_module, "MAX_ENTRIES", 100)
    monkeypatch.setattr(archive_module, "MAX_DIRECTORY_BYTES", 200)
    refused(db, folder, plain, r"a central directory of \d+ bytes \(more than 200\)")
    refused(db, folder, zip64, r"a central directory of \d+ bytes \(more than 200\)")


def test_a_rebuild_that_fails_leaves_the_previous_pack_and_signature(
    tmp_path: Path, source: Path, keypair: tuple[PublicKey, SecretKey]
) -> None:
    """Was: the new zip replaced the previous pack before it was signed; a failure while
    signing left a pack beside the signature of another."""
    public, secret = keypair
    out = tmp_path / "team.pack"
    build(source, out, secret, version=1)
    before = (out.read_bytes(), out.with_name("team.pack.minisig").read_bytes())
    out.with_name("team.pack.minisig.partial").mkdir()  # the signature cannot be written
    with pytest.raises(PackError, match=r"(?i)cannot write"):
        build(source, out, secret, version=2)
    assert (out.read_bytes(), out.with_name("team.pack.minisig").read_bytes()) == before
    assert verify_pack(out, public, now=NOW).manifest.version == 1
    assert not out.with_name("team.pack.partial").exists()
