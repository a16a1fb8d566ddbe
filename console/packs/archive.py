"""The pack file: a zip of stored (uncompressed) entries with ``manifest.json``, signed whole.

``PACK.minisig`` is a minisign signature of the whole zip file, so ``minisign -Vm PACK -p PUB``
checks everything; the manifest inside lists every other entry with its SHA-256 and size.
Entries are stored, not deflated: no decompression bomb exists by construction, and one
streaming pass over the file computes the signature's BLAKE2b and every entry's SHA-256
(two threads; hashlib releases the GIL), copying each entry out when installing.

Nothing is trusted before it checks out: the central directory is read with limits (entry
count, sizes, names), then the pass, then the signature, then the manifest, then each entry.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import stat
import struct
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from console.signing import CHUNK, PublicKey, SignatureError, signature_path_for, verify_file

FORMAT = "responder-console-pack/1"
MANIFEST = "manifest.json"
#: the content folders a pack may hold, and what reads each
SECTIONS = ("runbooks", "catalog", "contacts", "oncall", "templates/checklists", "templates/comms")
MAX_PACK_BYTES = 2 * 1024**3
MAX_ENTRIES = 100_000
MAX_ENTRY_BYTES = 64 * 1024**2
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_MANIFEST_BYTES = 64 * 1024**2
#: an expiry this close is shown as a warning (days)
EXPIRY_WARNING_DAYS = 14

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_MAGIC = b"PK\x03\x04"


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
class VerifiedPack:
    path: Path
    manifest: Manifest
    key_id: str
    digest: str  # BLAKE2b-512 of the pack file, hex

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.manifest.files)


@dataclass(frozen=True)
class _Member:
    name: str
    start: int
    size: int


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


Sink = Callable[[str], IO[bytes] | None]


def _stream(
    path: Path, handle: IO[bytes], members: Sequence[_Member], sink: Sink | None
) -> tuple[bytes, dict[str, str], bytes]:
    """One pass: BLAKE2b of the file (a worker thread), SHA-256 per entry (this one).

    Entries are sorted and do not overlap, so at most one output file is open at a time.
    Returns the file digest, the entries' hex SHA-256, and the manifest's bytes."""
    whole = hashlib.blake2b(digest_size=64)
    digests = {m.name: hashlib.sha256() for m in members}
    manifest = bytearray()
    out: IO[bytes] | None = None
    index = 0
    position = 0
    handle.seek(0)
    buffers = [bytearray(CHUNK), bytearray(CHUNK)]
    try:
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
                chunk = memoryview(buffer)[:read]
                pending = pool.submit(whole.update, chunk)
                end = position + read
                while index < len(members) and members[index].start < end:
                    member = members[index]
                    if out is None and sink is not None and member.name != MANIFEST:
                        out = sink(member.name)
                    low = max(member.start, position)
                    high = min(member.start + member.size, end)
                    if high > low:
                        piece = chunk[low - position : high - position]
                        digests[member.name].update(piece)
                        if member.name == MANIFEST:
                            manifest += piece
                        elif out is not None:
                            out.write(piece)
                    if member.start + member.size > end:
                        break
                    if out is not None:
                        out.close()
                        out = None
                    index += 1
                position = end
            if pending is not None:
                pending.result()
    finally:
        if out is not None:
            out.close()
    if position > MAX_PACK_BYTES:
        raise PackError(f"{path}: larger than {MAX_PACK_BYTES} bytes")
    return whole.digest(), {n: d.hexdigest() for n, d in digests.items()}, bytes(manifest)


def parse_manifest(data: bytes, source: str) -> Manifest:
    """The manifest's JSON, checked field by field (PackError names what is wrong)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PackError(f"{source}: malformed manifest ({error})") from error
    if not isinstance(document, dict):
        raise PackError(f"{source}: malformed manifest (not a JSON object)")
    if document.get("format") != FORMAT:
        raise PackError(f"{source}: malformed manifest (format is not {FORMAT!r})")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PackError(f"{source}: malformed manifest (version must be a positive integer)")
    publisher = document.get("publisher")
    if not isinstance(publisher, str) or not publisher.strip():
        raise PackError(f"{source}: malformed manifest (publisher missing)")
    created = _when(document.get("created"), "created", source)
    expires = (
        None if document.get("expires") is None else _when(document["expires"], "expires", source)
    )
    files = document.get("files")
    if not isinstance(files, list):
        raise PackError(f"{source}: malformed manifest (files must be a list)")
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
        entries.append(ManifestEntry(name, digest, size))
    return Manifest(version, publisher.strip(), created, expires, tuple(entries))


def _when(value: object, field: str, source: str) -> datetime:
    if not isinstance(value, str):
        raise PackError(f"{source}: malformed manifest ({field} missing)")
    try:
        return parse_utc(value)
    except ValueError as error:
        raise PackError(f"{source}: malformed manifest ({field}: {error})") from error


def verify_pack(
    path: Path,
    keys: PublicKey | Sequence[PublicKey],
    *,
    now: datetime,
    sink: Sink | None = None,
    signature_path: Path | None = None,
) -> VerifiedPack:
    """Check a pack completely (signature, manifest, every entry, expiry) or raise PackError.

    ``sink(name)`` gets a writable file for each content entry as it streams past (installing);
    what it wrote is only to be used when this returns."""
    signature_path = signature_path or signature_path_for(path)
    try:
        size = path.stat().st_size
        handle = path.open("rb", buffering=0)
    except OSError as error:
        raise PackError(f"{path}: cannot read ({error.strerror or error})") from error
    if size > MAX_PACK_BYTES:
        handle.close()
        raise PackError(f"{path}: {size} bytes (larger than {MAX_PACK_BYTES})")
    if not signature_path.is_file():
        handle.close()
        raise PackError(f"{signature_path}: signature missing")
    with handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise PackError(f"{path}: not a zip file ({error})") from error
        with archive:
            members = _members(path, archive, handle, size)
            try:
                digest, actual, manifest_bytes = _stream(path, handle, members, sink)
            except OSError as error:  # reading the pack, or unpacking it (a name clash)
                raise PackError(f"{path}: cannot read or unpack ({error})") from error
    try:
        verified = verify_file(path, keys, signature_path, digest=digest)
    except SignatureError as error:
        raise PackError(str(error)) from error
    if MANIFEST not in actual:
        raise PackError(f"{path}: malformed manifest ({MANIFEST} missing)")
    manifest = parse_manifest(manifest_bytes, f"{path}: {MANIFEST}")
    listed = {f.path: f for f in manifest.files}
    present = set(actual) - {MANIFEST}
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
        if actual[entry.path] != entry.sha256:
            raise PackError(f"{path}: {entry.path} was altered (SHA-256 differs from the manifest)")
    if manifest.expires is not None and manifest.expires <= now:
        raise PackError(f"{path}: expired on {format_utc(manifest.expires)}")
    return VerifiedPack(path, manifest, verified.key_id, digest.hex())
