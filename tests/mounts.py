"""Real full disks and real read-only folders for the recovery tests.

A small ``tmpfs`` is a disk that really fills up (ENOSPC from the kernel, SQLITE_FULL
from SQLite), and remounting it read-only makes a folder that even root cannot write
(EROFS), where ``chmod`` would not stop root. Mounting needs root (or CAP_SYS_ADMIN);
where it is not allowed the tests that need it are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False, timeout=30)


def can_mount() -> bool:
    if shutil.which("mount") is None:
        return False
    probe = Path("/tmp") / "responder-console-mount-probe"
    probe.mkdir(exist_ok=True)
    try:
        if _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)).returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=False, timeout=30)
        return True
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


MOUNT_ALLOWED = can_mount()
needs_mount = pytest.mark.skipif(
    not MOUNT_ALLOWED,
    reason="mounting a small tmpfs needs root (CAP_SYS_ADMIN); a real full disk or "
    "read-only folder cannot be made here",
)


@contextlib.contextmanager
def small_disk(folder: Path, size_kb: int) -> Iterator[Path]:
    """``folder`` as a tmpfs of ``size_kb`` KiB: writes past it fail with ENOSPC."""
    folder.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(folder))
    assert done.returncode == 0, done.stderr
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)


def remount_read_only(folder: Path) -> None:
    done = _mount("-o", "remount,ro", str(folder))
    assert done.returncode == 0, done.stderr


def remount_read_write(folder: Path) -> None:
    done = _mount("-o", "remount,rw", str(folder))
    assert done.returncode == 0, done.stderr


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Fill the disk of ``folder`` up to ``leave_bytes`` free (within a page)."""
    filler = folder / "filler"
    chunk = b"\0" * 4096
    with filler.open("ab", buffering=0) as handle:
        while shutil.disk_usage(folder).free > leave_bytes:
            try:
                handle.write(chunk)
            except OSError:
                break
    return filler


HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
for statement in sys.argv[2:]:
    connection.execute(statement).fetchall()
print("ready", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def held(path: Path, *statements: str) -> Iterator[None]:
    """Another process with ``path`` open, having run ``statements`` (e.g. a lock),
    until the block ends: a real second SQLite connection, as a sqlite3 shell would be."""
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), *statements],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        yield
    finally:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.close()
        child.wait(timeout=30)
        child.stdout.close()
