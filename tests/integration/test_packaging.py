"""The built Linux installers, end to end (issue 7, items 4–5).

One module fixture runs ``packaging/build.py`` (PyInstaller, then the .tar.gz and the .deb,
SHA256SUMS and minisign signatures, with a team key and a content pack baked in): minutes,
once per session. Then the frozen program starts off-screen on the demo workspace until its
first paint, runs CLI commands, and does the same from the .deb unpacked with ``dpkg -x``.
"""

from __future__ import annotations

import faulthandler
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console import __version__
from console.packs import build_pack
from console.signing import INTERACTIVE, PublicKey, SecretKey, generate_keypair

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "packaging" / "build.py"
NAME = "responder-console"
PASSPHRASE = "release passphrase"
#: a word only the baked pack's runbook has: found by search only if the pack was applied
BAKED_WORD = "zanzibarbaked"

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.slow,
    pytest.mark.skipif(
        sys.platform != "linux" or platform.machine() != "x86_64",
        reason="the Linux installers are built on Linux x86-64 (Windows/macOS: packaging/ci/)",
    ),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("PyInstaller") is None,
        reason="PyInstaller is not installed (requirements-dev.txt pins it)",
    ),
]


@dataclass(frozen=True)
class Release:
    dist: Path
    frozen: Path
    public_key: Path
    key: PublicKey
    output: str

    @property
    def tarball(self) -> Path:
        return self.dist / f"{NAME}-{__version__}-linux-x86_64.tar.gz"

    @property
    def deb(self) -> Path:
        return self.dist / f"{NAME}_{__version__}_amd64.deb"

    @property
    def artifacts(self) -> list[Path]:
        return [self.tarball, self.deb, self.dist / "SHA256SUMS"]


def baked_pack(folder: Path, secret: SecretKey) -> Path:
    runbook = folder / "source" / "baked-smoke.md"
    runbook.parent.mkdir(parents=True)
    runbook.write_text(
        "---\nid: baked-smoke\ntitle: Baked smoke runbook\nservices: [api-gateway]\n---\n"
        f"# Baked smoke runbook\n\nShipped inside the installer: {BAKED_WORD}.\n",
        encoding="utf-8",
    )
    out = folder / "team.rcpack"
    now = datetime.now(UTC)
    files = {"runbooks/baked-smoke.md": runbook}
    build_pack(out, files, secret, version=1, publisher="Smoke team", now=now)
    return out


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    # the build takes minutes by nature (faulthandler_timeout would dump every thread's
    # stack halfway through it); the tests that use it are timed as usual
    faulthandler.cancel_dump_traceback_later()
    base = tmp_path_factory.mktemp("release")
    public, secret = generate_keypair(PASSPHRASE, INTERACTIVE)
    public_path = public.save(base / "team.pub")
    secret_path = secret.save(base / "team.key", PASSPHRASE)
    pack = baked_pack(base, secret)
    env = {**os.environ, "RESPONDER_CONSOLE_PACK_PASSPHRASE": PASSPHRASE}
    command = [
        sys.executable,
        str(BUILD),
        "--dist",
        str(base / "dist"),
        "--work",
        str(base / "work"),
    ]
    command += ["--sign-key", str(secret_path), "--bake-key", str(public_path)]
    command += ["--bake-pack", str(pack)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return Release(
        base / "dist", base / "work" / "frozen" / NAME, public_path, public, result.stdout
    )


def run(
    executable: Path, args: Sequence[str], data: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "RESPONDER_CONSOLE_DATA_DIR": str(data),
        **env,
    }
    environment.pop("RESPONDER_CONSOLE_RESOURCES", None)  # the frozen folder's own resources
    return subprocess.run(
        [str(executable), *args], capture_output=True, text=True, env=environment, timeout=300
    )


def smoke(executable: Path, data: Path) -> None:
    """First paint on the demo workspace (first start: migrations, demo, baked content), exit 0;
    then the CLI on the same data."""
    window = run(
        executable, ["--demo", "--no-error-windows"], data, RESPONDER_CONSOLE_BENCH_FIRST_PAINT="1"
    )
    assert window.returncode == 0, window.stderr
    assert window.stdout.splitlines() == ["first-paint"]
    found = run(executable, ["--demo", "search", "disk", "full", "--json"], data)
    assert found.returncode == 0, found.stderr
    assert "disk-full" in [hit["id"] for hit in json.loads(found.stdout)["results"]]
    # the window applied the installer's key and pack at start
    trusted = run(executable, ["--demo", "pack", "trusted", "--json"], data)
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.count('"key_id"') == 1
    baked = run(executable, ["--demo", "search", BAKED_WORD, "--json"], data)
    assert baked.returncode == 0, baked.stderr
    assert [hit["id"] for hit in json.loads(baked.stdout)["results"]] == ["baked-smoke"]
    # the Metrics view's charts draw: pyqtgraph and numpy are bundled and load
    charts = run(
        executable, ["--demo", "--no-error-windows"], data, RESPONDER_CONSOLE_SMOKE_METRICS="1"
    )
    assert charts.returncode == 0, charts.stderr
    assert charts.stdout.splitlines() == ["metrics-charts"]


def test_build_reports_sizes_and_the_installer_stays_small(release: Release) -> None:
    for path in release.artifacts:
        assert f"{path}  " in release.output
    assert "(frozen folder)" in release.output
    assert release.tarball.stat().st_size < 150e6
    assert release.deb.stat().st_size < 150e6
    baked = release.frozen / "_internal" / "resources" / "baked"
    assert (baked / "keys" / "team.pub").read_bytes() == release.public_key.read_bytes()
    assert sorted(p.name for p in (baked / "packs").iterdir()) == [
        "team.rcpack",
        "team.rcpack.minisig",
    ]


def test_frozen_tarball_starts_offscreen_and_runs_the_cli(release: Release, tmp_path: Path) -> None:
    with tarfile.open(release.tarball) as archive:
        top = {member.name.split("/")[0] for member in archive.getmembers()}
        assert top == {f"{NAME}-{__version__}"}
        assert all(member.uid == 0 and member.gid == 0 for member in archive.getmembers())
        archive.extractall(tmp_path / "unpacked", filter="tar")
    smoke(tmp_path / "unpacked" / f"{NAME}-{__version__}" / NAME, tmp_path / "data")


def test_deb_unpacks_into_a_scratch_root_and_runs_from_there(
    release: Release, tmp_path: Path
) -> None:
    fields = subprocess.run(
        ["dpkg-deb", "--field", str(release.deb), "Package", "Version", "Architecture", "Depends"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Package: {NAME}\nVersion: {__version__}\nArchitecture: amd64\n" in fields
    assert "libgl1" in fields
    assert "libxcb1" in fields
    contents = subprocess.run(
        ["dpkg-deb", "--contents", str(release.deb)], capture_output=True, text=True, check=True
    ).stdout
    # computed from the build (packaging/depends.py): each xcb helper Qt's plugin loads is
    # either bundled (PyInstaller copies it where the build machine has it) or depended on
    for soname, package in (
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ):
        assert package in fields or f"/{soname}" in contents, (soname, fields)
    assert all(line.split()[1] == "root/root" for line in contents.splitlines())
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(release.deb), str(root)], check=True)
    link = root / "usr" / "bin" / NAME
    assert os.readlink(link) == f"/opt/{NAME}/{NAME}"
    desktop_file = root / "usr/share/applications" / f"{NAME}.desktop"
    desktop = desktop_file.read_text(encoding="utf-8")
    assert f"\nExec={NAME}\n" in desktop
    assert f"\nIcon={NAME}\n" in desktop
    icon = root / "usr/share/icons/hicolor/scalable/apps" / f"{NAME}.svg"
    assert icon.read_bytes() == (REPO / "resources/icons/app.svg").read_bytes()
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(desktop_file)], check=True)
    # the symlink's target, inside the scratch root
    smoke(root / link.readlink().relative_to("/"), tmp_path / "data")


def test_sha256sums_check(release: Release, tmp_path: Path) -> None:
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"],
        cwd=release.dist,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert sorted(line.split(": ")[0] for line in checked.stdout.splitlines()) == sorted(
        [release.tarball.name, release.deb.name]
    )
    # a tampered copy fails the same check
    copy = tmp_path / release.deb.name
    shutil.copyfile(release.deb, copy)
    with copy.open("r+b") as deb:
        deb.seek(100)
        byte = deb.read(1)
        deb.seek(100)
        deb.write(bytes([byte[0] ^ 0xFF]))
    sums = (release.dist / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    (tmp_path / "SHA256SUMS").write_text(
        "".join(f"{line}\n" for line in sums if line.endswith(release.deb.name))
    )
    tampered = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=tmp_path, capture_output=True
    )
    assert tampered.returncode == 1


def test_every_artifact_signature_verifies_with_our_verify_and_minisign(
    release: Release, tmp_path: Path
) -> None:
    frozen = release.frozen / NAME
    for artifact in release.artifacts:
        assert (artifact.parent / f"{artifact.name}.minisig").is_file()
        ours = run(
            frozen, ["verify", str(artifact), "--key", str(release.public_key), "--json"], tmp_path
        )
        assert ours.returncode == 0, ours.stderr
        document = json.loads(ours.stdout)
        assert document["valid"] is True
        assert document["key_id"] == release.key.id_hex
        if shutil.which("minisign"):
            stock = subprocess.run(
                ["minisign", "-Vm", str(artifact), "-p", str(release.public_key)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert stock.returncode == 0, stock.stderr
    # a signature does not carry over to another artifact
    swapped = tmp_path / "swapped.deb"
    shutil.copyfile(release.deb, swapped)
    shutil.copyfile(release.dist / f"{release.tarball.name}.minisig", f"{swapped}.minisig")
    refused = run(frozen, ["verify", str(swapped), "--key", str(release.public_key)], tmp_path)
    assert refused.returncode == 1
    assert "invalid" in refused.stderr
