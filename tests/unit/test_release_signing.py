"""packaging/build.py's checksum and signing step (``--sums-only``, as the Windows and macOS
workflows run it) and its refusals: the real script in a subprocess, no PyInstaller."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console.signing import INTERACTIVE, PublicKey, generate_keypair, verify_file

BUILD = Path(__file__).resolve().parents[2] / "packaging" / "build.py"
PASSPHRASE = "release passphrase"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[PublicKey, Path]:
    folder = tmp_path_factory.mktemp("keys")
    public, secret = generate_keypair(PASSPHRASE, INTERACTIVE)
    return public, secret.save(folder / "release.key", PASSPHRASE)


def build(
    *args: str | Path, passphrase: str | None = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RESPONDER_CONSOLE_PACK_PASSPHRASE"}
    if passphrase is not None:
        env["RESPONDER_CONSOLE_PACK_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, str(BUILD), *map(str, args)], capture_output=True, text=True, env=env
    )


def installers(dist: Path) -> list[Path]:
    dist.mkdir()
    names = ["responder-console-0.1.0-windows-x64-setup.exe", "responder-console-0.1.0-macos.dmg"]
    for index, name in enumerate(names):
        (dist / name).write_bytes(bytes([index]) * 100_000)
    return [dist / name for name in names]


def test_sums_and_signatures_for_every_file(tmp_path: Path, keys: tuple[PublicKey, Path]) -> None:
    public, secret = keys
    artifacts = installers(tmp_path / "dist")
    result = build("--sums-only", "--dist", tmp_path / "dist", "--sign-key", secret)
    assert result.returncode == 0, result.stderr
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"],
        cwd=tmp_path / "dist",
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout
    assert sorted(checked.stdout.splitlines()) == sorted(f"{a.name}: OK" for a in artifacts)
    for path in [*artifacts, tmp_path / "dist" / "SHA256SUMS"]:
        assert verify_file(path, public).key_id == public.id_hex
        if shutil.which("minisign"):
            stock = ["minisign", "-Vm", str(path), "-p", str(public.save(tmp_path / "k.pub"))]
            assert subprocess.run(stock, capture_output=True).returncode == 0
            (tmp_path / "k.pub").unlink()
    # run again: the signatures and sums are not summed or signed themselves
    again = build("--sums-only", "--dist", tmp_path / "dist", "--sign-key", secret)
    assert again.returncode == 0, again.stderr
    sums = (tmp_path / "dist" / "SHA256SUMS").read_text()
    assert len(sums.splitlines()) == 2


def test_without_a_key_sums_only_and_a_warning(tmp_path: Path) -> None:
    installers(tmp_path / "dist")
    result = build("--sums-only", "--dist", tmp_path / "dist")
    assert result.returncode == 0
    assert "not signed" in result.stderr
    assert not list((tmp_path / "dist").glob("*.minisig"))


def test_wrong_passphrase_refused_naming_the_key(
    tmp_path: Path, keys: tuple[PublicKey, Path]
) -> None:
    installers(tmp_path / "dist")
    result = build(
        "--sums-only", "--dist", tmp_path / "dist", "--sign-key", keys[1], passphrase="wrong"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("packaging/build.py: ")
    assert "passphrase" in result.stderr
    assert not list((tmp_path / "dist").glob("*.minisig"))


def test_missing_passphrase_refused(tmp_path: Path, keys: tuple[PublicKey, Path]) -> None:
    installers(tmp_path / "dist")
    result = build(
        "--sums-only", "--dist", tmp_path / "dist", "--sign-key", keys[1], passphrase=None
    )
    assert result.returncode == 1
    assert "RESPONDER_CONSOLE_PACK_PASSPHRASE" in result.stderr


def test_empty_or_missing_dist_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    empty = build("--sums-only", "--dist", tmp_path / "empty")
    assert empty.returncode == 1
    assert "nothing to sum and sign" in empty.stderr
    missing = build("--sums-only", "--dist", tmp_path / "absent")
    assert missing.returncode == 1
    assert "absent" in missing.stderr


def test_bad_key_file_and_usage(tmp_path: Path) -> None:
    installers(tmp_path / "dist")
    (tmp_path / "garbage.key").write_text("not a minisign key\n")
    bad = build("--sums-only", "--dist", tmp_path / "dist", "--sign-key", tmp_path / "garbage.key")
    assert bad.returncode == 1
    assert "garbage.key" in bad.stderr
    assert build("--no-such-option").returncode == 2
