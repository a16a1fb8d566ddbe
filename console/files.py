"""The one way the console writes a file: whole or not at all.

Every file the console writes (exports, ``--out``, reports, calendars, pack builds,
signatures, backups) goes through :func:`write_file` or :func:`atomic_target`: the
content is written under a temporary name in the destination folder, flushed and
fsynced, renamed over the destination only when complete, and the folder is fsynced
so the rename itself survives a power loss. On any failure the temporary file is
removed and a :class:`~console.domain.errors.FileWriteError` says what happened and
what to do: a missing folder, a folder given as the file, a read-only folder, a full
disk. No 0-byte or half-written file is ever left behind, and an existing file at the
destination stays as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from console.domain.errors import FileWriteError

#: errno values that mean "the disk (or the user's quota) is full"
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
PARTIAL_SUFFIX = ".partial"


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def refusal(target: Path, error: OSError, *, what: str = "the file") -> FileWriteError:
    """The user's message for an OSError met while writing ``target``."""
    folder = target.parent
    code = error.errno
    if code in _FULL:
        reason = "disk-full"
        text = (
            f"Cannot write {what} {target}: the disk holding {folder} is full. Nothing was "
            "written (no partial file is left). Free some space on that disk, or choose "
            "another place, and try again."
        )
    elif code == errno.ENOENT:
        reason = "missing-folder"
        text = (
            f"Cannot write {what} {target}: the folder {folder} does not exist. Create it "
            "first, or choose an existing folder."
        )
    elif code == errno.ENOTDIR:
        reason = "missing-folder"
        text = (
            f"Cannot write {what} {target}: a part of {folder} is a file, not a folder. "
            "Choose a path inside an existing folder."
        )
    elif code == errno.EISDIR:
        reason = "is-a-folder"
        text = (
            f"Cannot write {what} {target}: that is a folder. Give a file name inside it, "
            f"for example {target / 'export.txt'}."
        )
    elif code in _READ_ONLY:
        reason = "read-only"
        text = (
            f"Cannot write {what} {target}: the folder {folder} is read-only "
            f"({error.strerror}). Give your user write access to it, or choose another folder."
        )
    else:
        reason = "io-error"
        text = (
            f"Cannot write {what} {target}: {error.strerror or error}. Nothing was written "
            "(no partial file is left)."
        )
    return FileWriteError(text, path=str(target), reason=reason)


def check_destination(target: Path, *, what: str = "the file") -> None:
    """Refuse a folder given as the file, a missing folder, or a file in place of one."""
    if target.is_dir():
        raise refusal(target, OSError(errno.EISDIR, os.strerror(errno.EISDIR)), what=what)
    folder = target.parent
    if not folder.exists():
        raise refusal(target, OSError(errno.ENOENT, os.strerror(errno.ENOENT)), what=what)
    if not folder.is_dir():
        raise refusal(target, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)), what=what)


def _temporary_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.urandom(4).hex()}{PARTIAL_SUFFIX}")


@contextlib.contextmanager
def atomic_target(target: Path, *, mode: int = 0o644, what: str = "the file") -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; renamed over ``target`` when the
    block ends without an error, removed otherwise.

    The temporary file exists (empty, with ``mode``) when the block starts, for writers
    that need a path (zipfile, SQLite's backup API). It is fsynced before the rename and
    the folder after it. An ``OSError`` from the block or the rename becomes a
    :class:`FileWriteError`; other errors pass through unchanged (the file is removed).
    """
    target = Path(target)
    check_destination(target, what=what)
    try:
        temporary = _temporary_name(target)
        descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
        os.close(descriptor)
    except OSError as error:
        raise refusal(target, error, what=what) from error
    try:
        try:
            yield temporary
            fsync_file(temporary)
            os.replace(temporary, target)
        except OSError as error:
            raise refusal(target, error, what=what) from error
        # the file is complete and in place; a failure here only weakens its durability
        with contextlib.suppress(OSError):
            fsync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_file(
    target: Path,
    content: str | bytes,
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
    mode: int = 0o644,
    what: str = "the file",
) -> Path:
    """Write ``content`` to ``target`` whole or not at all (see the module doc).

    Text is encoded with ``encoding``; ``newline`` (as for ``open``) translates "\\n"
    when given, and text is written unchanged otherwise.
    """
    if isinstance(content, str):
        if newline:
            content = content.replace("\n", newline)
        data = content.encode(encoding)
    else:
        data = content
    with atomic_target(target, mode=mode, what=what) as temporary, temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
    return Path(target)
