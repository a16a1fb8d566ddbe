"""Build a signed pack from a folder laid out by section, or from the workspace's sources."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from console.domain.errors import FileWriteError
from console.files import check_destination, fsync_folder, refusal
from console.packs.archive import (
    MANIFEST,
    MAX_ENTRIES,
    MAX_ENTRY_BYTES,
    MAX_EXPIRES_DAYS,
    MAX_VERSION,
    SECTIONS,
    Manifest,
    ManifestEntry,
    PackError,
    check_layout,
    check_name,
    format_utc,
)
from console.signing import SecretKey, blake2b_file, sign_digest, signature_path_for

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BuiltPack:
    path: Path
    signature: Path
    manifest: Manifest
    key_id: str


def folder_files(folder: Path) -> dict[str, Path]:
    """``FOLDER/<section>/...`` → archive names (links and unknown folders refused)."""
    if not folder.is_dir():
        raise PackError(f"{folder}: not a folder")
    files: dict[str, Path] = {}
    found_section = False
    for section in SECTIONS:
        root = folder / section
        if root.is_symlink():
            raise PackError(f"{root}: a link (packs hold regular files only)")
        if not root.is_dir():
            continue
        found_section = True
        for directory, subdirs, names in os.walk(root):
            subdirs.sort()
            for name in sorted(names):
                source = Path(directory, name)
                if source.is_symlink() or not source.is_file():
                    raise PackError(f"{source}: a link or special file (packs hold regular files)")
                files[source.relative_to(folder).as_posix()] = source
            for sub in subdirs:
                if Path(directory, sub).is_symlink():
                    raise PackError(f"{Path(directory, sub)}: a link (packs hold regular files)")
    if not found_section:
        raise PackError(f"{folder}: none of the pack folders ({', '.join(SECTIONS)})")
    return files


def workspace_files(
    raw: sqlite3.Connection, data_folder: Path, checklists: Path
) -> dict[str, Path]:
    """The files the workspace was filled from, still on disk: runbooks (by import root),
    catalog files, contact files, calendar/vendor files of schedules and policies, the
    team's communication templates and the checklist templates in use."""
    files: dict[str, Path] = {}
    for path, root in raw.execute("SELECT path, source_root FROM runbooks ORDER BY path"):
        base = Path(root)
        source = Path(path)
        relative = source.name if base == source else source.relative_to(base).as_posix()
        files[f"runbooks/{base.name or 'root'}/{relative}"] = source
    catalog = raw.execute(
        "SELECT source_file FROM services WHERE source_file IS NOT NULL "
        "UNION SELECT source_file FROM catalog_owners WHERE source_file IS NOT NULL"
    )
    _add_by_name(files, "catalog", (Path(row[0]) for row in catalog))
    # the people/on-call importer records "file:PATH" (vendor pulls record other sources)
    oncall = _file_sources(
        raw, "SELECT source FROM schedules UNION SELECT source FROM escalation_policies"
    )
    people = _file_sources(raw, "SELECT DISTINCT source FROM people") - oncall
    _add_by_name(files, "oncall", sorted(oncall))
    _add_by_name(files, "contacts", sorted(people))
    comms = data_folder / "templates" / "comms"
    _add_by_name(files, "templates/comms", sorted(comms.glob("*.md")) if comms.is_dir() else [])
    _add_by_name(files, "templates/checklists", sorted(checklists.glob("*.yaml")))
    return {name: path for name, path in files.items() if path.is_file()}


def _file_sources(raw: sqlite3.Connection, query: str) -> set[Path]:
    return {
        Path(source.removeprefix("file:"))
        for (source,) in raw.execute(query)
        if isinstance(source, str) and source.startswith("file:")
    }


def _add_by_name(files: dict[str, Path], section: str, paths: Iterable[Path]) -> None:
    for path in paths:
        if not path.is_absolute() or not path.is_file():
            continue  # a vendor id (pulled over the network), not a file
        name, number = f"{section}/{path.name}", 1
        while name in files and files[name] != path:
            number += 1
            name = f"{section}/{path.stem}-{number}{path.suffix}"
        files[name] = path


def build_pack(
    out: Path,
    files: dict[str, Path],
    secret_key: SecretKey,
    *,
    version: int,
    publisher: str,
    now: datetime,
    expires_days: int | None = None,
    progress: Progress | None = None,
) -> BuiltPack:
    """Write ``out`` (zip, stored entries, manifest) and ``out.minisig``."""
    if not files:
        raise PackError("nothing to pack (no runbooks, catalog, contacts, schedules or templates)")
    if len(files) >= MAX_ENTRIES:
        raise PackError(f"{len(files)} files (a pack holds fewer than {MAX_ENTRIES})")
    if not 1 <= version <= MAX_VERSION:
        raise PackError(f"the pack version must be a whole number from 1 to {MAX_VERSION}")
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise PackError(f"the validity must be from 1 to {MAX_EXPIRES_DAYS} days")
    publisher = " ".join(publisher.split())
    if not publisher:
        raise PackError("the publisher must not be empty")
    for name in files:
        reason = check_name(name)
        if reason or name == MANIFEST:
            raise PackError(f"{name}: not a usable name in a pack ({reason or 'reserved'})")
    check_layout(files)  # what an import would refuse, the lead hears of now
    stamp = now.timetuple()[:6]
    entries: list[ManifestEntry] = []
    try:  # a missing folder, or a folder given as --out: said before any work
        check_destination(out, what="the pack")
    except FileWriteError as error:
        raise PackError(str(error)) from error
    temporary = out.with_name(out.name + ".partial")
    signature = signature_path_for(out)
    pending = signature.with_name(signature.name + ".partial")
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
            for number, (name, source) in enumerate(sorted(files.items()), 1):
                try:
                    if source.stat().st_size > MAX_ENTRY_BYTES:
                        raise PackError(f"{source}: larger than {MAX_ENTRY_BYTES} bytes")
                    data = source.read_bytes()
                except OSError as error:
                    raise PackError(f"{source}: cannot read ({error.strerror or error})") from error
                archive.writestr(_info(name, stamp), data)
                entries.append(ManifestEntry(name, hashlib.sha256(data).hexdigest(), len(data)))
                if progress is not None:
                    progress(number, len(files))
            manifest = Manifest(
                version=version,
                publisher=publisher,
                created=now,
                expires=now + timedelta(days=expires_days) if expires_days else None,
                files=tuple(entries),
            )
            import json

            text = json.dumps(manifest.as_json(), indent=1, ensure_ascii=False) + "\n"
            archive.writestr(_info(MANIFEST, stamp), text.encode("utf-8"))
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        # signed, and the signature written, before the pack replaces a previous one: a
        # failure leaves that pack and its signature as they were
        expiry = format_utc(manifest.expires) if manifest.expires else "never"
        signed = sign_digest(
            blake2b_file(temporary),
            secret_key,
            f"responder-console pack\tpublisher:{publisher}\tversion:{version}"
            f"\tcreated:{format_utc(now)}\texpires:{expiry}\tfile:{out.name}",
        )
        with pending.open("w", encoding="utf-8") as handle:
            handle.write(signed)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, out)
        os.replace(pending, signature)
        # the rename of both is durable too
        with contextlib.suppress(OSError):
            fsync_folder(out.parent)
    except OSError as error:
        # the console's words for a full disk, a read-only or missing folder (console.files)
        failed = Path(error.filename) if isinstance(error.filename, str) else out
        raise PackError(str(refusal(failed, error, what="the pack"))) from error
    finally:
        for leftover in (temporary, pending):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
    return BuiltPack(out, signature, manifest, secret_key.id_hex)


def _info(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(max(stamp[0], 1980), *stamp[1:6]))  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info
