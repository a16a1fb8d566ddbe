"""The pack file: a zip of stored (uncompressed) entries with ``manifest.json``, signed whole.

``PACK.minisig`` is a minisign signature of the whole zip file, so ``minisign -Vm PACK -p PUB``
checks everything; the manifest inside lists every other entry with its SHA-256 and size.
Entries are stored, not deflated: no decompression bomb exists by construction, and one
streaming pass over the file computes the signature's BLAKE2b and every entry's SHA-256
(two threads; hashlib releases the GIL).

Nothing is trusted before it checks out, and the cheap checks come first so a pack that will
be refused is refused before it is read: the signer's key id (from the small detached
signature), then the central directory (entry count, sizes, names), then the manifest (read
alone: bounds, the layout rules, the listing against the directory, times, and the caller's
check, e.g. the version), then the pass, the signature and each entry. Nothing is written
during verification; :func:`extract` copies a verified pack's entries out afterwards,
re-checking each one's SHA-256 against the signed manifest.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
import struct
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any

from console.files import fsync_folder
from console.signing import (
    CHUNK,
    PublicKey,
    SignatureError,
    signature_path_for,
    trusted_signer,
    verify_file,
)

FORMAT = "responder-console-pack/1"
MANIFEST = "manifest.json"
#: the content folders a pack may hold, and what reads each
SECTIONS = ("runbooks", "catalog", "contacts", "oncall", "templates/checklists", "templates/comms")
MAX_PACK_BYTES = 2 * 1024**3
MAX_ENTRIES = 100_000
MAX_ENTRY_BYTES = 64 * 1024**2
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_MANIFEST_BYTES = 64 * 1024**2
#: the largest pack version: 2^32 - 1 (the default, seconds since 1970, fits until 2106);
#: versions only ever grow, so an unbounded one could block a publisher's packs for good
MAX_VERSION = 2**32 - 1
#: how far in the future a pack's ``created`` may lie (the two machines' clocks differ)
MAX_CLOCK_SKEW = timedelta(hours=24)
#: the longest publisher name (it is shown in the status bar and stored per install)
MAX_PUBLISHER_CHARS = 200
#: the longest validity ``pack build --expires`` gives (days)
MAX_EXPIRES_DAYS = 36_500
#: folders whose files are read from the folder itself (no sub-folders), and the suffix read
FLAT_SECTIONS = {"templates/checklists": ".yaml", "templates/comms": ".md"}
#: the central directory's largest size (100,000 entries of 670 bytes): zipfile builds an
#: object per entry before the entry count can be checked, so the directory is bounded first
MAX_DIRECTORY_BYTES = 64 * 1024**2
#: an expiry this close is shown as a warning (days)
EXPIRY_WARNING_DAYS = 14

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_MAGIC = b"PK\x03\x04"
_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END_MAGIC = b"PK\x05\x06"
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64_LOCATOR_MAGIC = b"PK\x06\x07"
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_MAGIC = b"PK\x06\x06"


def format_utc(value: datetime) -> str:
    """A manifest time: ISO 8601 UTC to the second (``2026-11-23T15:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no zone")
    return value.astimezone(UTC)


class PackError(Exception):
    """A pack refused: the message names the file and the reason."""


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: int
    publisher: str
    created: datetime
    expires: datetime | None
    files: tuple[ManifestEntry, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "publisher": self.publisher,
            "created": format_utc(self.created),
            "expires": format_utc(self.expires) if self.expires else None,
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files],
        }


@dataclass(frozen=True)
class _Member:
    name: str
    start: int
    size: int


@dataclass(frozen=True)
class VerifiedPack:
    path: Path
    manifest: Manifest
    key_id: str
    digest: str  # BLAKE2b-512 of the pack file, hex
    #: where each entry's bytes lie in the file (for :func:`extract`)
    members: tuple[_Member, ...] = field(default=(), repr=False, compare=False)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.manifest.files)


def check_name(name: str) -> str | None:
    """Why an archive entry name is unsafe, or None."""
    if not name or "\\" in name or "\x00" in name:
        return "a name with a backslash or NUL"
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if any(part in ("..", ".", "") for part in name.split("/")):
        return "a path that climbs out of the pack ('..') or is not normal"
    return None


def check_layout(names: Iterable[str]) -> None:
    """Refuse a pack whose entries could not all be installed where they go (PackError
    naming the entry): outside the pack's folders, in a sub-folder of a template folder
    (templates are read from the folder itself), a template of the wrong kind, a name that
    is both a file and a folder, or two names that differ only in case."""
    names = sorted(names)
    folders: set[str] = set()
    folded: dict[str, str] = {}
    for name in names:
        section = next((s for s in SECTIONS if name.startswith(s + "/")), None)
        if section is None:
            raise PackError(f"entry {name!r} is outside the pack's folders ({', '.join(SECTIONS)})")
        rest = name[len(section) + 1 :]
        suffix = FLAT_SECTIONS.get(section)
        if suffix is not None and "/" in rest:
            raise PackError(
                f"entry {name!r} is in a sub-folder of {section}/ (templates are read from "
                f"{section}/ itself: move the file up or leave it out)"
            )
        if suffix is not None and not rest.endswith(suffix):
            raise PackError(f"entry {name!r} is not a *{suffix} file ({section}/ holds those)")
        parts = name.split("/")
        folders.update("/".join(parts[:end]) for end in range(1, len(parts)))
        other = folded.setdefault(name.casefold(), name)
        if other != name:
            raise PackError(
                f"entries {other!r} and {name!r} differ only in case (one file on Windows "
                "and macOS)"
            )
    clash = next((name for name in names if name in folders), None)
    if clash is not None:
        raise PackError(f"entry {clash!r} is both a file and a folder")


def _check_directory(path: Path, handle: IO[bytes], size: int) -> None:
    """Bound the entry count and the central directory's size as the zip's end record
    declares them, before zipfile reads the directory (a small read at the end)."""
    tail = min(size, _END.size + 0xFFFF)
    handle.seek(size - tail)
    data = handle.read(tail)
    at = data.rfind(_END_MAGIC)
    if at < 0 or len(data) - at < _END.size:
        raise PackError(f"{path}: not a zip file (no end of central directory record)")
    fields = _END.unpack_from(data, at)
    entries, directory = fields[4], fields[5]
    if entries == 0xFFFF or directory == 0xFFFFFFFF:  # Zip64: the numbers are elsewhere
        if at < _END64_LOCATOR.size:
            raise PackError(f"{path}: not a zip file (Zip64 locator missing)")
        magic, _, offset, _ = _END64_LOCATOR.unpack_from(data, at - _END64_LOCATOR.size)
        if magic != _END64_LOCATOR_MAGIC or offset > size - _END64.size:
            raise PackError(f"{path}: not a zip file (Zip64 locator damaged)")
        handle.seek(offset)
        record = handle.read(_END64.size)
        if len(record) != _END64.size or record[:4] != _END64_MAGIC:
            raise PackError(f"{path}: not a zip file (Zip64 record damaged)")
        values = _END64.unpack(record)
        entries, directory = values[7], values[8]
    if entries > MAX_ENTRIES:
        raise PackError(f"{path}: {entries} entries (more than {MAX_ENTRIES})")
    if directory > MAX_DIRECTORY_BYTES:
        raise PackError(
            f"{path}: a central directory of {directory} bytes (more than {MAX_DIRECTORY_BYTES})"
        )


def _members(path: Path, archive: zipfile.ZipFile, handle: IO[bytes], size: int) -> list[_Member]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise PackError(f"{path}: {len(infos)} entries (more than {MAX_ENTRIES})")
    members: list[_Member] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        reason = check_name(name)
        if reason:
            raise PackError(f"{path}: entry {name!r} is {reason}")
        mode = info.external_attr >> 16
        if info.is_dir() or (mode and not stat.S_ISREG(mode)):
            kind = "a link" if stat.S_ISLNK(mode) else "not a regular file"
            raise PackError(f"{path}: entry {name!r} is {kind}")
        if name in seen:
            raise PackError(f"{path}: entry {name!r} appears twice")
        seen.add(name)
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise PackError(f"{path}: entry {name!r} is compressed or encrypted (not stored)")
        if info.file_size != info.compress_size:
            raise PackError(f"{path}: entry {name!r} declares two sizes")
        limit = MAX_MANIFEST_BYTES if name == MANIFEST else MAX_ENTRY_BYTES
        if info.file_size > limit:
            raise PackError(f"{path}: entry {name!r} is {info.file_size} bytes (limit {limit})")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise PackError(f"{path}: entries add up to more than {MAX_TOTAL_BYTES} bytes")
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_MAGIC:
            raise PackError(f"{path}: entry {name!r} has no local header (damaged zip)")
        fields = _LOCAL_HEADER.unpack(header)
        start = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]
        if start + info.file_size > size:
            raise PackError(f"{path}: entry {name!r} runs past the end of the file")
        members.append(_Member(name, start, info.file_size))
    members.sort(key=lambda m: m.start)
    for before, after in itertools.pairwise(members):
        if before.start + before.size > after.start:
            raise PackError(f"{path}: entries {before.name!r} and {after.name!r} overlap")
    return members


def _stream(
    path: Path, handle: IO[bytes], size: int, members: Sequence[_Member]
) -> tuple[bytes, dict[str, str]]:
    """One pass: BLAKE2b of the file (a worker thread), SHA-256 per entry (this one).

    Reads ``size`` bytes (the size the central directory was checked against) and stops
    when the file grew past it. Returns the file digest and the entries' hex SHA-256."""
    whole = hashlib.blake2b(digest_size=64)
    digests = {m.name: hashlib.sha256() for m in members}
    index = 0
    position = 0
    handle.seek(0)
    buffers = [bytearray(CHUNK), bytearray(CHUNK)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-hash") as pool:
        pending = None
        turn = 0
        while True:
            buffer = buffers[turn]
            turn ^= 1
            read = handle.readinto(buffer)  # type: ignore[attr-defined]
            if pending is not None:
                pending.result()  # the other buffer is free again
                pending = None
            if not read:
                break
            end = position + read
            if end > size:
                raise PackError(f"{path}: the file grew while it was read (read it again)")
            chunk = memoryview(buffer)[:read]
            pending = pool.submit(whole.update, chunk)
            while index < len(members) and members[index].start < end:
                member = members[index]
                low = max(member.start, position)
                high = min(member.start + member.size, end)
                if high > low:
                    digests[member.name].update(chunk[low - position : high - position])
                if member.start + member.size > end:
                    break
                index += 1
            position = end
        if pending is not None:
            pending.result()
    if position != size:
        raise PackError(f"{path}: the file shrank while it was read (read it again)")
    return whole.digest(), {n: d.hexdigest() for n, d in digests.items()}


def parse_manifest(data: bytes, source: str) -> Manifest:
    """The manifest's JSON, checked field by field and bounded (PackError names what is wrong)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PackError(f"{source}: malformed manifest ({error})") from error
    except RecursionError as error:  # [[[[…]]]] nested past Python's stack
        raise PackError(f"{source}: malformed manifest (nested too deeply)") from error
    if not isinstance(document, dict):
        raise PackError(f"{source}: malformed manifest (not a JSON object)")
    if document.get("format") != FORMAT:
        raise PackError(f"{source}: malformed manifest (format is not {FORMAT!r})")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PackError(f"{source}: malformed manifest (version must be a positive integer)")
    if version > MAX_VERSION:
        raise PackError(
            f"{source}: version {version} is larger than the largest allowed ({MAX_VERSION}); "
            "ask the publisher to rebuild the pack with a smaller --pack-version"
        )
    publisher = document.get("publisher")
    if not isinstance(publisher, str) or not publisher.strip():
        raise PackError(f"{source}: malformed manifest (publisher missing)")
    publisher = publisher.strip()
    if len(publisher) > MAX_PUBLISHER_CHARS or not publisher.isprintable():
        raise PackError(
            f"{source}: malformed manifest (publisher: more than {MAX_PUBLISHER_CHARS} "
            "characters or a control character)"
        )
    created = _when(document.get("created"), "created", source)
    expires = (
        None if document.get("expires") is None else _when(document["expires"], "expires", source)
    )
    if expires is not None and expires <= created:
        raise PackError(f"{source}: malformed manifest (expires is not after created)")
    files = document.get("files")
    if not isinstance(files, list):
        raise PackError(f"{source}: malformed manifest (files must be a list)")
    if len(files) >= MAX_ENTRIES:
        raise PackError(f"{source}: malformed manifest ({len(files)} files, limit {MAX_ENTRIES})")
    entries: list[ManifestEntry] = []
    for number, item in enumerate(files, 1):
        if not isinstance(item, dict):
            raise PackError(f"{source}: malformed manifest (file {number} is not an object)")
        name, digest, size = item.get("path"), item.get("sha256"), item.get("size")
        if not isinstance(name, str) or check_name(name) or name == MANIFEST:
            raise PackError(f"{source}: malformed manifest (file {number}: bad path {name!r})")
        if not isinstance(digest, str) or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise PackError(f"{source}: malformed manifest ({name}: sha256 is not 64 hex digits)")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise PackError(f"{source}: malformed manifest ({name}: size is not a whole number)")
        if size > MAX_ENTRY_BYTES:
            raise PackError(
                f"{source}: malformed manifest ({name}: size {size} is over the limit of "
                f"{MAX_ENTRY_BYTES} bytes an entry)"
            )
        entries.append(ManifestEntry(name, digest, size))
    return Manifest(version, publisher, created, expires, tuple(entries))


def _when(value: object, field: str, source: str) -> datetime:
    if not isinstance(value, str):
        raise PackError(f"{source}: malformed manifest ({field} missing)")
    try:
        return parse_utc(value)
    except (ValueError, OverflowError) as error:
        raise PackError(f"{source}: malformed manifest ({field}: {error})") from error


def check_times(manifest: Manifest, now: datetime, source: Path) -> None:
    """Refuse a pack made in the future (past the clock-skew allowance) or expired."""
    if manifest.created > now + MAX_CLOCK_SKEW:
        raise PackError(
            f"{source}: created {format_utc(manifest.created)}, in the future (this computer's "
            f"clock says {format_utc(now)}); check the clock here and on the machine that "
            "built the pack"
        )
    if manifest.expires is not None and manifest.expires <= now:
        raise PackError(f"{source}: expired on {format_utc(manifest.expires)}")


def _check_listing(path: Path, manifest: Manifest, members: Sequence[_Member]) -> None:
    """The manifest lists exactly the archive's entries, with their sizes, in the layout."""
    listed = {f.path: f for f in manifest.files}
    present = {m.name for m in members} - {MANIFEST}
    missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
    if missing:
        raise PackError(
            f"{path}: missing file {missing[0]} (listed in the manifest)"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
        )
    if extra:
        raise PackError(
            f"{path}: extra file {extra[0]} (not in the manifest)"
            + (f" and {len(extra) - 1} more" if len(extra) > 1 else "")
        )
    sizes = {m.name: m.size for m in members}
    for entry in manifest.files:
        if sizes[entry.path] != entry.size:
            raise PackError(
                f"{path}: {entry.path} is {sizes[entry.path]} bytes, the manifest says {entry.size}"
            )
    try:
        check_layout(listed)
    except PackError as error:
        raise PackError(f"{path}: {error}") from None


def verify_pack(
    path: Path,
    keys: PublicKey | Sequence[PublicKey],
    *,
    now: datetime,
    signature_path: Path | None = None,
    check: Callable[[Manifest], None] | None = None,
) -> VerifiedPack:
    """Check a pack completely (signer, manifest, layout, signature, every entry, times) or
    raise PackError. Writes nothing.

    Cheapest first: a pack signed by a key not in ``keys`` is refused before the pack file
    is opened; a manifest that is malformed, out of bounds, expired or refused by ``check``
    (the installer's version rule) before the pass over the whole file."""
    signature_path = signature_path or signature_path_for(path)
    try:
        trusted_signer(keys, signature_path)
    except SignatureError as error:
        raise PackError(str(error)) from error
    try:
        size = path.stat().st_size
        handle = path.open("rb", buffering=0)
    except OSError as error:
        raise PackError(f"{path}: cannot read ({error.strerror or error})") from error
    with handle:
        if size > MAX_PACK_BYTES:
            raise PackError(f"{path}: {size} bytes (larger than {MAX_PACK_BYTES})")
        try:
            _check_directory(path, handle, size)
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError, struct.error) as error:
            raise PackError(f"{path}: not a zip file ({error})") from error
        try:
            with archive:
                members = _members(path, archive, handle, size)
                entry = next((m for m in members if m.name == MANIFEST), None)
                if entry is None:
                    raise PackError(f"{path}: malformed manifest ({MANIFEST} missing)")
                handle.seek(entry.start)
                manifest_bytes = handle.read(entry.size)
                manifest = parse_manifest(manifest_bytes, f"{path}: {MANIFEST}")
                _check_listing(path, manifest, members)
                check_times(manifest, now, path)
                if check is not None:
                    check(manifest)
                digest, actual = _stream(path, handle, size, members)
        except OSError as error:
            raise PackError(f"{path}: cannot read ({error.strerror or error})") from error
    try:
        verified = verify_file(path, keys, signature_path, digest=digest)
    except SignatureError as error:
        raise PackError(str(error)) from error
    if actual[MANIFEST] != hashlib.sha256(manifest_bytes).hexdigest():
        raise PackError(f"{path}: the file changed while it was read (read it again)")
    for item in manifest.files:
        if actual[item.path] != item.sha256:
            raise PackError(f"{path}: {item.path} was altered (SHA-256 differs from the manifest)")
    return VerifiedPack(path, manifest, verified.key_id, digest.hex(), tuple(members))


def extract(pack: VerifiedPack, into: Path) -> None:
    """Copy a verified pack's entries into the folder ``into`` (made by the caller), each
    file fsynced, each entry's SHA-256 checked again against the signed manifest (the file
    may have been changed since it was verified). PackError when anything differs or fails."""
    expected = {f.path: f.sha256 for f in pack.manifest.files}
    folders = {into}
    try:
        with pack.path.open("rb", buffering=0) as handle:
            for member in pack.members:
                if member.name == MANIFEST:
                    continue
                target = into.joinpath(*member.name.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
                digest = hashlib.sha256()
                handle.seek(member.start)
                left = member.size
                with target.open("xb") as out:
                    while left:
                        chunk = handle.read(min(CHUNK, left))
                        if not chunk:
                            break
                        digest.update(chunk)
                        out.write(chunk)
                        left -= len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                if left or digest.hexdigest() != expected[member.name]:
                    raise PackError(
                        f"{pack.path}: {member.name} changed after the pack was verified "
                        "(nothing was applied; import it again)"
                    )
        for folder in folders:
            fsync_folder(folder)
    except OSError as error:
        raise PackError(
            f"{pack.path}: cannot unpack into {into} ({error.strerror or error}); "
            "nothing was applied"
        ) from error
