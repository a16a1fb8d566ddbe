"""Pinned keys, and ``pack import``: verify everything, then apply in one transaction.

The pack's entries are copied out while they are hashed (one pass) into a staging folder
beside the installed content (``<data>/pack/content``); nothing else is touched until the
signature, manifest, every entry, the version and the expiry have checked out. Then the
staged folder takes the content's place and the importers (runbooks, catalog, contacts and
on-call) run on it inside ONE write transaction, with the ``pack_installs`` row; any refusal
rolls all of it back and puts the previous content folder back. Templates (files the window
reads) are copied into ``<data>/templates`` only after the commit.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from console.comms.templating import load_folders
from console.comms.updates import VARIABLES
from console.domain.errors import InvalidInputError, StorageError
from console.importers.catalog import import_catalog
from console.importers.oncall import import_people_and_schedules
from console.importers.runbooks import import_runbooks
from console.ops.templates import load_templates
from console.packs.archive import (
    EXPIRY_WARNING_DAYS,
    PackError,
    VerifiedPack,
    verify_pack,
)
from console.signing import PublicKey
from console.storage.db import Database
from console.storage.models import format_utc as storage_time
from console.storage.models import parse_utc

log = logging.getLogger(__name__)

PACK_DIR = "pack"
CONTENT = "content"
#: where the window reads a team's templates (console.comms.updates, console.ops.workspace)
TEMPLATES = Path("templates")


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    public_key: PublicKey
    comment: str
    added_at: datetime


@dataclass(frozen=True)
class InstalledPack:
    publisher: str
    version: int
    key_id: str
    file_name: str
    files: int
    created: datetime
    expires: datetime | None
    installed_at: datetime


@dataclass(frozen=True)
class PackImportReport:
    pack: VerifiedPack
    runbooks: int
    services: int
    contacts: int
    schedules: int
    policies: int
    templates: int
    #: what the importers refused inside the pack (``PATH: reason``), as ``import`` lists it;
    #: the rest of the pack is applied (a signed pack is the lead's data, refusals included)
    refused: tuple[tuple[str, str], ...] = ()


def trust_key(db: Database, key: PublicKey, now: datetime) -> bool:
    """Pin ``key``; False when it was pinned already."""
    with db.raw_writer() as raw:
        cursor = raw.execute(
            "INSERT INTO trusted_pack_keys (key_id, public_key, comment, added_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING",
            (key.id_hex, key.encoded(), key.comment, storage_time(now)),
        )
        return cursor.rowcount == 1


def untrust_key(db: Database, key_id: str) -> bool:
    with db.raw_writer() as raw:
        return (
            raw.execute(
                "DELETE FROM trusted_pack_keys WHERE key_id = ?", (key_id.upper(),)
            ).rowcount
            == 1
        )


def trusted_keys(db: Database) -> list[TrustedKey]:
    with db.raw_reader() as raw:
        rows = raw.execute(
            "SELECT key_id, public_key, comment, added_at FROM trusted_pack_keys ORDER BY added_at"
        ).fetchall()
    return [
        TrustedKey(
            key_id, PublicKey.parse(encoded, f"pinned key {key_id}"), comment, parse_utc(added)
        )
        for key_id, encoded, comment, added in rows
    ]


def installed_packs(db: Database) -> list[InstalledPack]:
    """Every pack applied, newest first."""
    with db.raw_reader() as raw:
        rows = raw.execute(
            "SELECT publisher, version, key_id, file_name, files, created, expires, installed_at "
            "FROM pack_installs ORDER BY installed_at DESC, id DESC"
        ).fetchall()
    return [
        InstalledPack(
            publisher,
            version,
            key_id,
            file_name,
            files,
            parse_utc(created),
            parse_utc(expires) if expires else None,
            parse_utc(installed),
        )
        for publisher, version, key_id, file_name, files, created, expires, installed in rows
    ]


def expiry_notice(db: Database, now: datetime) -> str | None:
    """A sentence for the status bar when the installed pack is expired or expires soon."""
    newest: dict[str, InstalledPack] = {}
    for pack in installed_packs(db):
        if pack.publisher not in newest or pack.version > newest[pack.publisher].version:
            newest[pack.publisher] = pack
    notices = []
    for pack in sorted(newest.values(), key=lambda p: p.publisher):
        if pack.expires is None:
            continue
        left = pack.expires - now
        when = pack.expires.strftime("%Y-%m-%d %H:%M UTC")
        if left <= timedelta(0):
            notices.append(
                f"Content pack '{pack.publisher}' v{pack.version} expired on {when}: "
                "ask for a new one"
            )
        elif left <= timedelta(days=EXPIRY_WARNING_DAYS):
            days = max(1, round(left / timedelta(days=1)))
            notices.append(
                f"Content pack '{pack.publisher}' v{pack.version} expires in {days} "
                f"day{'s' if days != 1 else ''} ({when})"
            )
    return " · ".join(notices) or None


class _Enlisted(Database):
    """The database as the importers see it during a pack import: every ``raw_reader`` and
    ``raw_writer`` is the one open transaction, so the whole pack commits or none of it."""

    def __init__(self, db: Database, raw: sqlite3.Connection) -> None:
        super().__init__(db.path, db.engine)
        self._raw = raw

    @contextlib.contextmanager
    def raw_reader(self) -> Iterator[sqlite3.Connection]:
        yield self._raw

    @contextlib.contextmanager
    def raw_writer(
        self, connection: sqlite3.Connection | None = None
    ) -> Iterator[sqlite3.Connection]:
        yield self._raw

    @contextlib.contextmanager
    def own_connection(self) -> Iterator[sqlite3.Connection]:
        yield self._raw  # not a connection of the importer's own: the pack's transaction


def import_pack(
    db: Database,
    folder: Path,
    path: Path,
    *,
    now: datetime,
    signature_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> PackImportReport:
    """Verify ``path`` against the pinned keys and apply it; PackError changes nothing."""
    keys = [k.public_key for k in trusted_keys(db)]
    if not keys:
        raise PackError(f"{path}: no trusted keys (pin the team's key with 'pack trust PUB')")
    base = folder / PACK_DIR
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = base / f".incoming-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        if progress:
            progress("verifying")
        pack = verify_pack(
            path, keys, now=now, sink=_sink_into(staging), signature_path=signature_path
        )
        _check_newer(db, pack)
        _check_templates(staging)
        if progress:
            progress("applying")
        report = _apply(db, base, staging, pack, now)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _install_templates(base / CONTENT, folder)
    log.info("pack %s v%d applied from %s", pack.manifest.publisher, pack.manifest.version, path)
    return report


def _sink_into(staging: Path) -> Callable[[str], IO[bytes] | None]:
    def sink(name: str) -> IO[bytes]:
        target = staging.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("xb")

    return sink


def _check_newer(db: Database, pack: VerifiedPack) -> None:
    with db.raw_reader() as raw:
        (newest,) = raw.execute(
            "SELECT MAX(version) FROM pack_installs WHERE publisher = ?",
            (pack.manifest.publisher,),
        ).fetchone()
    if newest is not None and pack.manifest.version <= newest:
        raise PackError(
            f"{pack.path}: version {pack.manifest.version} is not newer than the installed "
            f"version {newest} of '{pack.manifest.publisher}' (rollback refused)"
        )


def _check_templates(staging: Path) -> None:
    checklists = staging / "templates" / "checklists"
    if checklists.is_dir():
        try:
            load_templates(checklists)
        except InvalidInputError as error:
            raise PackError(f"checklist template refused: {error}") from error
    comms = staging / "templates" / "comms"
    _, refused = load_folders([(comms, True)], VARIABLES)
    if refused:
        first = refused[0]
        raise PackError(f"communication template refused: {first.path}: {first.reason}")


def _apply(
    db: Database, base: Path, staging: Path, pack: VerifiedPack, now: datetime
) -> PackImportReport:
    content = base / CONTENT
    previous = base / f".previous-{secrets.token_hex(4)}"
    if content.exists():
        content.rename(previous)
    staging.rename(content)
    try:
        with db.raw_writer() as raw:
            report = _import_all(_Enlisted(db, raw), content, pack, now)
            manifest = pack.manifest
            raw.execute(
                "INSERT INTO pack_installs (publisher, version, key_id, digest, file_name, "
                "files, created, expires, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    manifest.publisher,
                    manifest.version,
                    pack.key_id,
                    pack.digest,
                    pack.path.name,
                    len(manifest.files),
                    storage_time(manifest.created),
                    storage_time(manifest.expires) if manifest.expires else None,
                    storage_time(now),
                ),
            )
    except BaseException as error:
        shutil.rmtree(content, ignore_errors=True)
        if previous.exists():
            previous.rename(content)
        if isinstance(error, sqlite3.Error):  # rolled back: say so, never a traceback
            raise StorageError(
                f"{db.path}: applying {pack.path.name} failed and was rolled back, "
                f"nothing changed ({error})"
            ) from error
        raise
    shutil.rmtree(previous, ignore_errors=True)
    return report


def _import_all(db: Database, content: Path, pack: VerifiedPack, now: datetime) -> PackImportReport:
    def clock() -> datetime:
        return now

    refused: list[tuple[str, str]] = []
    base = f"{content}/"

    def note(path: str, reason: str) -> None:
        refused.append((path.removeprefix(base), reason))

    runbooks = services = contacts = schedules = policies = 0
    if (content / "runbooks").is_dir():
        books = import_runbooks(db, [content / "runbooks"], clock=clock)
        for r in books.refused:
            note(r.path, r.reason)
        runbooks = books.imported + books.updated + books.unchanged
    if (content / "catalog").is_dir():
        catalog = import_catalog(db, [content / "catalog"], clock=clock)
        for c in catalog.refused:
            note(c.path, c.reason)
        services = catalog.services
    people_paths = [content / s for s in ("contacts", "oncall") if (content / s).is_dir()]
    if people_paths:
        people = import_people_and_schedules(db, people_paths, clock=clock)
        for p in people.refused:
            note(p.path, p.reason)
        contacts = people.contacts_new + people.contacts_updated
        schedules, policies = people.schedules, people.policies
    templates = sum(
        1
        for section in ("checklists", "comms")
        if (content / "templates" / section).is_dir()
        for _ in (content / "templates" / section).iterdir()
    )
    return PackImportReport(
        pack, runbooks, services, contacts, schedules, policies, templates, tuple(refused)
    )


def _install_templates(content: Path, folder: Path) -> None:
    """Copy the pack's templates where the window reads a team's own (after the commit)."""
    for section in ("checklists", "comms"):
        source = content / "templates" / section
        if not source.is_dir():
            continue
        target = folder / TEMPLATES / section
        target.mkdir(parents=True, exist_ok=True)
        for item in source.iterdir():
            shutil.copyfile(item, target / item.name)
