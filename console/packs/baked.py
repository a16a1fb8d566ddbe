"""What an installer baked in (``packaging/build.py --bake-key/--bake-pack``), applied at start.

The frozen folder carries ``resources/baked/keys/*.pub`` (team public keys) and
``resources/baked/packs/FILE`` with ``FILE.minisig`` (a content pack). At start the keys are
pinned (as ``pack trust`` does; a key already pinned is left alone) and a pack whose file is
not installed yet is imported through ``import_pack``: checked against the pinned keys, refused
with its reason (logged, the database unchanged) when forged, tampered, expired or older than
the installed one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from console.packs.archive import PackError
from console.packs.install import PackImportReport, finish_interrupted, import_pack, trust_key
from console.resources import resources_dir
from console.signing import PublicKey, SignatureError, blake2b_file
from console.signing.minisign import SIGNATURE_SUFFIX
from console.storage.db import Database

log = logging.getLogger(__name__)

KEYS = "keys"
PACKS = "packs"


def baked_dir() -> Path:
    """``resources/baked`` of this installation (inside the frozen folder)."""
    return resources_dir() / "baked"


@dataclass
class BakedReport:
    pinned: list[str] = field(default_factory=list)  # key ids newly pinned
    imported: list[PackImportReport] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "PATH: reason"

    def summary(self) -> str:
        parts = []
        if self.pinned:
            parts.append(f"pinned the installer's key {', '.join(self.pinned)}")
        parts += [
            f"imported the installer's pack '{r.pack.manifest.publisher}' "
            f"v{r.pack.manifest.version}"
            for r in self.imported
        ]
        parts += [f"refused the installer's {reason}" for reason in self.refused]
        return "; ".join(parts)


def apply_baked(
    db: Database, folder: Path, now: datetime, baked: Path | None = None
) -> BakedReport:
    """Pin the baked keys, then import each baked pack not installed yet (in name order)."""
    baked = baked_dir() if baked is None else baked
    report = BakedReport()
    finish_interrupted(db, folder)  # at every start: a crashed import is undone or finished
    for path in _files(baked / KEYS, lambda p: p.suffix == ".pub"):
        try:
            key = PublicKey.load(path)
        except (SignatureError, OSError) as error:
            report.refused.append(f"key {path}: {error}")
            continue
        if trust_key(db, key, now):
            report.pinned.append(key.id_hex)
    for path in _files(baked / PACKS, lambda p: not p.name.endswith(SIGNATURE_SUFFIX)):
        try:
            if _installed(db, blake2b_file(path).hex()):
                continue
            report.imported.append(import_pack(db, folder, path, now=now))
        except (PackError, OSError) as error:
            report.refused.append(f"pack {error}")
    if report.refused:
        log.warning("installer content: %s", report.summary())
    elif report.pinned or report.imported:
        log.info("installer content: %s", report.summary())
    return report


def _files(folder: Path, wanted: Callable[[Path], bool]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and wanted(p))


def _installed(db: Database, digest: str) -> bool:
    with db.raw_reader() as raw:
        row = raw.execute("SELECT 1 FROM pack_installs WHERE digest = ?", (digest,)).fetchone()
    return row is not None
