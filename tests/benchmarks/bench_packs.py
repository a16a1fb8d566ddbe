"""Content pack benchmarks: verifying a 100 MB pack, building a pack of 10,000 runbooks."""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from console.packs import build_pack, verify_pack
from console.signing import INTERACTIVE, generate_keypair
from tests.benchmarks.fixtures import (
    BenchResult,
    Target,
    log,
    median,
    quick_mode,
    runbook_library,
    stopwatch,
    temp_folder,
    time_ms,
)

NOW = datetime.now(UTC).replace(microsecond=0)
PACK_MB_FULL, PACK_MB_QUICK = 100, 2
ENTRY_MB = 1


def pack_verify_100mb() -> BenchResult:
    """``verify_pack`` (signature BLAKE2b + every entry's SHA-256, one pass) vs ``sha256sum``."""
    megabytes = PACK_MB_QUICK if quick_mode() else PACK_MB_FULL
    runs = 1 if quick_mode() else 5
    public, secret = generate_keypair("bench", INTERACTIVE)
    with temp_folder("rc-bench-pack-") as folder:
        files = {}
        for number in range(megabytes // ENTRY_MB):
            path = folder / "src" / f"{number:04}.md"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(os.urandom(ENTRY_MB * 1024 * 1024))
            files[f"runbooks/{number:04}.md"] = path
        pack = build_pack(
            folder / "team.pack", files, secret, version=1, publisher="bench", now=NOW
        ).path
        sha256sum = shutil.which("sha256sum")
        log.info("pack_verify_100mb: %d MB pack built", pack.stat().st_size >> 20)

        def floor_run() -> None:
            if sha256sum:
                subprocess.run([sha256sum, str(pack)], check=True, capture_output=True)
            else:  # no coreutils: the same single-pass SHA-256 in-process
                with pack.open("rb") as handle:
                    hashlib.file_digest(handle, "sha256")

        floor_run()  # page cache warm for both
        verify_pack(pack, public, now=NOW)
        floors, values = [], []
        for _ in range(runs):
            gc.collect()
            floors.append(time_ms(floor_run))
            values.append(time_ms(lambda: verify_pack(pack, public, now=NOW)))
        size = pack.stat().st_size
    return BenchResult(
        name="pack_verify_100mb",
        value=median(values),
        unit="ms",
        floor=median(floors),
        target=Target("ratio", 1.5),
        samples=runs,
        detail={
            "pack_mib": round(size / 1024 / 1024, 1),
            "entries": megabytes // ENTRY_MB,
            "floor_tool": "sha256sum" if sha256sum else "hashlib.file_digest",
            "values_ms": [round(v, 1) for v in values],
            "floors_ms": [round(f, 1) for f in floors],
        },
    )


def pack_build_10k() -> BenchResult:
    """Building (collect, zip, hash, manifest, sign) a pack of the 10,000-runbook library,
    against reading and SHA-256-hashing the same files."""
    library = runbook_library()
    _, secret = generate_keypair("bench", INTERACTIVE)

    def collect() -> dict[str, Path]:
        return {
            f"runbooks/{path.relative_to(library.folder).as_posix()}": path
            for path in sorted(library.folder.rglob("*"))
            if path.is_file()
        }

    def read_and_hash() -> None:
        for path in collect().values():
            hashlib.sha256(path.read_bytes()).digest()

    read_and_hash()  # warm the page cache
    floor = time_ms(read_and_hash)
    with temp_folder("rc-bench-pack-build-") as folder:
        gc.collect()
        with stopwatch() as elapsed:
            built = build_pack(
                folder / "team.pack", collect(), secret, version=1, publisher="bench", now=NOW
            )
        size = built.path.stat().st_size
    return BenchResult(
        name="pack_build_10k",
        value=elapsed[0],
        unit="ms",
        floor=floor,
        target=Target("value", 10_000.0),
        samples=1,
        detail={
            "library": library.describe(),
            "files": len(built.manifest.files),
            "pack_mib": round(size / 1024 / 1024, 1),
        },
    )
