"""Build the Linux installers: the PyInstaller one-folder build, a .tar.gz and a .deb.

    python packaging/build.py [--dist DIR] [--sign-key SECRET]
                              [--bake-key PUB]... [--bake-pack FILE]
    python packaging/build.py --sums-only --dist DIR [--sign-key SECRET]    (Windows/macOS CI)

(``./dev package ARGS…`` runs it.) Steps, each in its own function:

1. ``freeze``: PyInstaller with packaging/responder-console.spec →
   ``build/frozen/responder-console/``.
2. ``bake``: team public keys and a content pack copied into the frozen folder's
   ``_internal/resources/baked/`` (``keys/*.pub``, ``packs/*``), where the app looks at start.
3. ``tarball``: ``DIST/responder-console-VERSION-linux-x86_64.tar.gz`` (one top folder).
4. ``debian``: ``DIST/responder-console_VERSION_amd64.deb`` (dpkg-deb): the folder in
   ``/opt/responder-console``, a ``/usr/bin`` symlink, a desktop entry and the hicolor icon.
5. ``checksums``: ``DIST/SHA256SUMS`` (``sha256sum -c`` reads it).
6. ``sign``: a detached minisign signature ``FILE.minisig`` beside every artifact and
   SHA256SUMS, with ``console.signing`` (passphrase from RESPONDER_CONSOLE_PACK_PASSPHRASE).

Exit codes: 0 built · 1 a step failed (its message on stderr) · 2 usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "responder-console.spec"
NAME = "responder-console"
INSTALL_DIR = f"/opt/{NAME}"
#: where the frozen app finds baked files (console.resources.baked_dir)
BAKED = Path("_internal") / "resources" / "baked"
PASSPHRASE_ENV = "RESPONDER_CONSOLE_PACK_PASSPHRASE"
CHUNK = 1 << 20


if str(ROOT) not in sys.path:  # console.signing and the version, from a plain checkout too
    sys.path.insert(0, str(ROOT))


class BuildError(Exception):
    """A step failed; the message says which and why."""


def version() -> str:
    from console import __version__

    return __version__


def freeze(work: Path) -> Path:
    """Run PyInstaller; return the one-folder build."""
    dist = work / "frozen"
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work / "pyinstaller"),
        str(SPEC),
    ]
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise BuildError("PyInstaller failed (its output is above)")
    return dist / NAME


def bake(frozen: Path, keys: Sequence[Path], pack: Path | None) -> None:
    """Copy team public keys and a pack to where the frozen app looks at start."""
    target = frozen / BAKED
    shutil.rmtree(target, ignore_errors=True)
    for key in keys:
        _copy_into(key, target / "keys", key.name if key.suffix == ".pub" else f"{key.name}.pub")
    if pack is not None:  # with its signature: the app verifies it against the pinned keys
        _copy_into(pack, target / "packs", pack.name)
        signature = pack.with_name(pack.name + ".minisig")
        _copy_into(signature, target / "packs", signature.name)


def _copy_into(source: Path, folder: Path, name: str) -> None:
    if not source.is_file():
        raise BuildError(f"{source}: not a file")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / name)


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def tarball(frozen: Path, dist: Path, release: str) -> Path:
    out = dist / f"{NAME}-{release}-linux-x86_64.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as archive:
        archive.add(frozen, arcname=f"{NAME}-{release}", filter=_root_owned)
    return out


def desktop_entry() -> str:
    return (ROOT / "packaging" / "linux" / f"{NAME}.desktop").read_text(encoding="utf-8")


def debian(frozen: Path, dist: Path, work: Path, release: str) -> Path:
    """Lay out the package root and build it with dpkg-deb (owned by root:root)."""
    if shutil.which("dpkg-deb") is None:
        raise BuildError("dpkg-deb is not installed (Debian package dpkg)")
    root = work / "deb"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(frozen, root / INSTALL_DIR.lstrip("/"), symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / NAME).symlink_to(f"{INSTALL_DIR}/{NAME}")
    applications = root / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / f"{NAME}.desktop").write_text(desktop_entry(), encoding="utf-8")
    icons = root / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copyfile(ROOT / "resources" / "icons" / "app.svg", icons / f"{NAME}.svg")
    size_kib = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir()) // 1024
    # what the bundled libraries need and the folder does not hold (packaging/depends.py)
    from depends import DependsError, compute  # packaging/ is the script folder

    try:
        depends = compute(frozen)
    except DependsError as error:
        raise BuildError(f"Depends: {error}") from error
    control = root / "DEBIAN" / "control"
    control.parent.mkdir()
    control.write_text(
        f"Package: {NAME}\n"
        f"Version: {release}\n"
        "Section: utils\n"
        "Priority: optional\n"
        "Architecture: amd64\n"
        "Maintainer: Responder Console maintainers <responder-console@localhost>\n"
        f"Depends: {depends}\n"
        f"Installed-Size: {size_kib}\n"
        "Description: offline-first incident response console\n"
        " Runbooks, service dependency maps, contacts and the live incident on the\n"
        " laptop, synced to PagerDuty or Opsgenie when the network returns.\n",
        encoding="utf-8",
    )
    out = dist / f"{NAME}_{release}_amd64.deb"
    command = ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"dpkg-deb failed: {result.stderr.strip()}")
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksums(artifacts: Sequence[Path], dist: Path) -> Path:
    out = dist / "SHA256SUMS"
    lines = [f"{sha256(path)}  {path.name}\n" for path in sorted(artifacts)]
    out.write_text("".join(lines), encoding="utf-8")
    return out


def sign(files: Sequence[Path], secret_key: Path) -> list[Path]:
    """A detached ``FILE.minisig`` beside each file, with the team's secret key."""
    from console.signing import SecretKey, SignatureError, sign_file

    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None:
        raise BuildError(f"set {PASSPHRASE_ENV} to the secret key's passphrase")
    try:
        key = SecretKey.load(secret_key, passphrase)
        return [sign_file(path, key) for path in files]
    except SignatureError as error:
        raise BuildError(str(error)) from error


def release_files(dist: Path) -> list[Path]:
    """The artifacts already in ``dist`` (not SHA256SUMS, not signatures)."""
    return sorted(
        path
        for path in dist.iterdir()
        if path.is_file() and path.name != "SHA256SUMS" and not path.name.endswith(".minisig")
    )


def sums_and_signatures(
    artifacts: Sequence[Path], dist: Path, secret_key: Path | None
) -> list[Path]:
    """SHA256SUMS over ``artifacts``, then a signature for each artifact and for SHA256SUMS."""
    sums = checksums(artifacts, dist)
    if secret_key is None:
        print("warning: no --sign-key: the artifacts are not signed", file=sys.stderr)
        return [sums]
    return [sums, *sign([*artifacts, sums], secret_key)]


def build(args: argparse.Namespace) -> list[Path]:
    """Every step; return what was written to the dist folder."""
    dist: Path = args.dist.resolve()
    work: Path = args.work.resolve()
    if args.sums_only:  # the Windows and macOS workflows: their installers are already there
        artifacts = release_files(dist)
        if not artifacts:
            raise BuildError(f"{dist}: nothing to sum and sign")
        return _report(sums_and_signatures(artifacts, dist, args.sign_key))
    release = version()
    dist.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    frozen = freeze(work) if not args.reuse_frozen else work / "frozen" / NAME
    if not (frozen / NAME).is_file():
        raise BuildError(f"{frozen}: no frozen build (run without --reuse-frozen)")
    bake(frozen, args.bake_key, args.bake_pack)
    artifacts = [tarball(frozen, dist, release), debian(frozen, dist, work, release)]
    written = _report([*artifacts, *sums_and_signatures(artifacts, dist, args.sign_key)])
    print(f"{frozen}  {folder_size(frozen) / 1e6:.1f} MB (frozen folder)")
    return written


def _report(written: list[Path]) -> list[Path]:
    for path in written:
        print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
    return written


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir())


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="packaging/build.py", description=__doc__.split("\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="scratch folder")
    parser.add_argument(
        "--reuse-frozen", action="store_true", help="skip PyInstaller, use WORK/frozen"
    )
    parser.add_argument(
        "--sums-only",
        action="store_true",
        help="build nothing: SHA256SUMS and signatures for the files already in DIST",
    )
    parser.add_argument(
        "--sign-key",
        type=Path,
        metavar="SECRET",
        help=f"minisign secret key (passphrase from ${PASSPHRASE_ENV})",
    )
    parser.add_argument(
        "--bake-key",
        type=Path,
        action="append",
        default=[],
        metavar="PUB",
        help="team public key the app trusts from the start (repeatable)",
    )
    parser.add_argument(
        "--bake-pack", type=Path, metavar="FILE", help="content pack the app imports at start"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        build(args)
    except (BuildError, OSError) as error:
        print(f"packaging/build.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
