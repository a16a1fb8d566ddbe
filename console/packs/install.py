"""Pinned keys, and ``pack import``: check everything, then apply all or nothing.

Two phases. **Check**: :func:`verify_pack` refuses an untrusted signer before reading the
pack, then checks the manifest (bounds, layout, times, a version newer than the installed
one) before the one pass over the file, then the signature and every entry; nothing is
written. **Apply**: the entries are copied into a staging folder beside the installed
content (``<data>/pack/content``), re-checked and fsynced, the templates are parsed, and the
team's template files are staged beside where the window reads them
(``<data>/templates/<section>/.pack-incoming-*``). Then ONE write transaction: the staged
content takes the content's place, the importers (runbooks, catalog, contacts, on-call) run
on it, the staged templates are renamed into place (each file they replace kept aside), and
the ``pack_installs`` row is written; the commit ends it. Anything failing before the commit
has returned — the database rolls back and every rename is undone from what was kept aside —
so the pack is either installed whole or not at all.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from console.comms.templating import load_folders
from console.comms.updates import VARIABLES
from console.domain.errors import InvalidInputError, StorageError
from console.domain.runbook import slugify
from console.files import fsync_folder
from console.importers.catalog import import_catalog
from console.importers.oncall import import_people_and_schedules
from console.importers.runbook_sources import PACK as PACK_SOURCE
from console.importers.runbooks import import_runbooks
from console.ops.templates import load_templates
from console.packs.archive import (
    EXPIRY_WARNING_DAYS,
    FLAT_SECTIONS,
    Manifest,
    PackError,
    VerifiedPack,
    extract,
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
    finish_interrupted(db, folder)
    keys = [k.public_key for k in trusted_keys(db)]
    if not keys:
        raise PackError(f"{path}: no trusted keys (pin the team's key with 'pack trust PUB')")
    if progress:
        progress("verifying")

    def newer(manifest: Manifest) -> None:
        with db.raw_reader() as raw:
            _check_newer(raw, path, manifest)

    pack = verify_pack(path, keys, now=now, signature_path=signature_path, check=newer)
    if progress:
        progress("applying")
    base = folder / PACK_DIR
    made_base = not base.exists()
    staging = base / f".incoming-{secrets.token_hex(4)}"
    applied = False
    try:
        try:
            staging.mkdir(parents=True, mode=0o700)
        except OSError as error:
            raise PackError(f"{base}: cannot write ({error.strerror or error})") from error
        extract(pack, staging)
        _check_templates(staging)
        report = _apply(db, folder, base, staging, pack, now)
        applied = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if made_base and not applied and not (base / JOURNAL).exists():
            shutil.rmtree(base, ignore_errors=True)  # a refused first import leaves no trace
    log.info("pack %s v%d applied from %s", pack.manifest.publisher, pack.manifest.version, path)
    return report


def _check_newer(raw: sqlite3.Connection, path: Path, manifest: Manifest) -> None:
    (newest,) = raw.execute(
        "SELECT MAX(version) FROM pack_installs WHERE publisher = ?", (manifest.publisher,)
    ).fetchone()
    if newest is not None and manifest.version <= newest:
        raise PackError(
            f"{path}: version {manifest.version} is not newer than the installed "
            f"version {newest} of '{manifest.publisher}' (rollback refused)"
        )


def _check_templates(staging: Path) -> None:
    """Parse the pack's templates as the window will (strict: a broken checklist would stop
    the window opening); the message names the entry, not the staging folder."""
    prefix = f"{staging}{os.sep}"
    checklists = staging / "templates" / "checklists"
    if checklists.is_dir():
        try:
            load_templates(checklists)
        except InvalidInputError as error:
            raise PackError(
                f"checklist template refused: {str(error).replace(prefix, '')}"
            ) from error
    comms = staging / "templates" / "comms"
    _, refused = load_folders([(comms, True)], VARIABLES)
    if refused:
        first = refused[0]
        raise PackError(
            f"communication template refused: {first.path.replace(prefix, '')}: {first.reason}"
        )


JOURNAL = ".applying.json"


@dataclass(frozen=True)
class _Move:
    staged: Path
    target: Path
    backup: Path  # where ``target`` is kept while the transaction is open
    existed: bool


class _Plan:
    """The renames an import makes inside its open transaction, written down (fsynced) in
    ``<data>/pack/.applying.json`` before the first one, so that whatever stops the import
    — an error, or a crash of the process — they can be undone when it did not commit and
    finished (the kept files removed) when it did: the pack is applied whole or not at all.

    Undoing is renames back, never a copy a full disk could stop."""

    def __init__(
        self, journal: Path, digest: str, moves: list[_Move], incoming: list[Path],
        aside: list[Path],
    ) -> None:  # fmt: skip
        self.journal, self.digest, self.moves = journal, digest, moves
        self.incoming, self.aside = incoming, aside

    def write(self) -> None:
        document = {
            "digest": self.digest,
            "moves": [[str(m.staged), str(m.target), str(m.backup), m.existed] for m in self.moves],
            "incoming": [str(p) for p in self.incoming],
            "aside": [str(p) for p in self.aside],
        }
        temporary = self.journal.with_name(self.journal.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.journal)
        fsync_folder(self.journal.parent)

    @classmethod
    def load(cls, journal: Path) -> _Plan:
        document = json.loads(journal.read_text(encoding="utf-8"))
        moves = [
            _Move(Path(staged), Path(target), Path(backup), bool(existed))
            for staged, target, backup, existed in document["moves"]
        ]
        return cls(
            journal,
            str(document["digest"]),
            moves,
            [Path(p) for p in document["incoming"]],
            [Path(p) for p in document["aside"]],
        )

    @staticmethod
    def put(move: _Move) -> None:
        if move.existed:
            move.target.rename(move.backup)
        move.staged.rename(move.target)

    def undo(self) -> bool:
        """Put every target back as it was; False when one could not be (its file stays
        where it was kept, and the journal stays for the next attempt)."""
        whole = True
        for move in reversed(self.moves):
            try:
                if move.existed:
                    if os.path.lexists(move.backup):
                        if os.path.lexists(move.target):
                            _remove(move.target)
                        move.backup.rename(move.target)
                elif os.path.lexists(move.target) and not os.path.lexists(move.staged):
                    _remove(move.target)
            except OSError:
                whole = False
                log.exception("pack import: could not put %s back", move.target)
        return whole

    def close(self, committed: bool, undone: bool = True) -> None:
        """After the commit: remove the kept files; either way: the scratch folders and,
        when nothing is left to undo, the journal."""
        for move in self.moves if committed else ():
            if move.existed:
                with contextlib.suppress(OSError):
                    _remove(move.backup)
        for folder in self.incoming:
            shutil.rmtree(folder, ignore_errors=True)
        for folder in self.aside:
            if committed:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):  # empty unless a rename could not be undone
                    folder.rmdir()
        if committed or undone:
            self.journal.unlink(missing_ok=True)


def finish_interrupted(db: Database, folder: Path) -> str | None:
    """Finish, or undo, a pack import that a crash stopped while it renamed files (its
    journal is still there): finished when its install row committed, else undone.
    Returns what was done (for the log), or None when nothing was interrupted."""
    journal = folder / PACK_DIR / JOURNAL
    if not journal.exists():
        return None
    with db.raw_writer() as raw:  # no other import is inside its transaction meanwhile
        try:
            plan = _Plan.load(journal)
        except FileNotFoundError:
            return None  # another process finished it first
        except (OSError, ValueError, KeyError, TypeError) as error:
            kept = journal.with_name(".applying-unreadable.json")
            with contextlib.suppress(OSError):
                journal.replace(kept)
            log.error("pack import journal %s unreadable (%s), kept as %s", journal, error, kept)
            return f"an interrupted pack import's journal was unreadable; kept as {kept}"
        committed = (
            raw.execute("SELECT 1 FROM pack_installs WHERE digest = ?", (plan.digest,)).fetchone()
            is not None
        )
        undone = committed or plan.undo()
        plan.close(committed, undone)
    done = (
        "an interrupted pack import had committed: its clean-up was finished"
        if committed
        else "an interrupted pack import was undone: the files are as before it"
    )
    log.warning("%s (%s)", done, journal)
    return done


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _stage_templates(content: Path, folder: Path, token: str) -> list[tuple[Path, Path]]:
    """Copy the pack's template files (fsynced) into a hidden folder beside where the window
    reads them; returns (staged, destination) pairs for the transaction to rename."""
    moves: list[tuple[Path, Path]] = []
    for section in FLAT_SECTIONS:
        source = content / section
        if not source.is_dir():
            continue
        target = folder / TEMPLATES / section.removeprefix(f"{TEMPLATES}/")
        staged = _incoming(target, token)
        try:
            staged.mkdir(parents=True, mode=0o700)
            _aside(target, token).mkdir(mode=0o700)
            for item in sorted(source.iterdir()):
                destination = target / item.name
                if destination.is_dir() and not destination.is_symlink():
                    raise PackError(
                        f"{destination}: a folder where the pack's template "
                        f"{section}/{item.name} goes (move it away and import again)"
                    )
                with item.open("rb") as reader, (staged / item.name).open("xb") as writer:
                    shutil.copyfileobj(reader, writer)
                    writer.flush()
                    os.fsync(writer.fileno())
                moves.append((staged / item.name, destination))
            fsync_folder(staged)
        except OSError as error:
            raise PackError(
                f"{target}: cannot write the pack's templates ({error.strerror or error}); "
                "nothing was applied"
            ) from error
    return moves


def _apply(
    db: Database, folder: Path, base: Path, staging: Path, pack: VerifiedPack, now: datetime
) -> PackImportReport:
    token = secrets.token_hex(4)
    content = base / CONTENT
    targets = [folder / TEMPLATES / s.removeprefix(f"{TEMPLATES}/") for s in FLAT_SECTIONS]
    plan: _Plan | None = None
    committed = False
    undone = True
    try:
        templates = _stage_templates(staging, folder, token)
        with db.raw_writer() as raw:
            _check_newer(raw, pack.path, pack.manifest)  # again: another import may have won
            moves = [
                _Move(staging, content, base / f".previous-{token}", content.exists()),
                *(
                    _Move(staged, target, _aside(target.parent, token) / staged.name,
                          os.path.lexists(target))
                    for staged, target in templates
                ),
            ]  # fmt: skip
            plan = _Plan(
                base / JOURNAL, pack.digest, moves,
                [_incoming(t, token) for t in targets], [_aside(t, token) for t in targets],
            )  # fmt: skip
            plan.write()
            plan.put(moves[0])  # the content first: the importers read it
            report = _import_all(_Enlisted(db, raw), content, pack, now)
            for move in moves[1:]:
                plan.put(move)
            for directory in {base, *(t.parent for _, t in templates)}:
                fsync_folder(directory)
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
        committed = True  # from here on the pack is installed, whatever the clean-up does
    except BaseException as error:
        if plan is not None:
            undone = plan.undo()
        if isinstance(error, (sqlite3.Error, StorageError)):  # rolled back: say so
            raise StorageError(
                f"{db.path}: applying {pack.path.name} failed and was rolled back, "
                f"nothing changed ({error})"
            ) from error
        if isinstance(error, OSError):
            raise PackError(
                f"{pack.path}: applying it failed and was rolled back, nothing changed "
                f"({error.strerror or error}: {error.filename or ''})"
            ) from error
        raise
    finally:
        if plan is not None:
            plan.close(committed, undone)
        else:
            for target in targets:
                shutil.rmtree(_incoming(target, token), ignore_errors=True)
                with contextlib.suppress(OSError):
                    _aside(target, token).rmdir()
    return report


def _incoming(target: Path, token: str) -> Path:
    return target / f".pack-incoming-{token}"


def _aside(target: Path, token: str) -> Path:
    return target / f".pack-previous-{token}"


def _import_all(db: Database, content: Path, pack: VerifiedPack, now: datetime) -> PackImportReport:
    def clock() -> datetime:
        return now

    refused: list[tuple[str, str]] = []
    base = f"{content}/"

    def note(path: str, reason: str) -> None:
        refused.append((path.removeprefix(base), reason))

    runbooks = services = contacts = schedules = policies = 0
    if (content / "runbooks").is_dir():
        # one source per publisher: the content folder is the pack's, a pack of another
        # publisher takes it over (and renames the source)
        books = import_runbooks(
            db,
            [content / "runbooks"],
            clock=clock,
            name=f"pack-{slugify(pack.manifest.publisher)}",
            origin=PACK_SOURCE,
        )
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
