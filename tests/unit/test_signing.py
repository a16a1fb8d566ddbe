"""minisign keys and signatures: round trips, refusals, and the stock tool agreeing with us."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from console.signing import (
    INTERACTIVE,
    PublicKey,
    SecretKey,
    SignatureError,
    generate_keypair,
    sign_file,
    verify_file,
)
from console.signing.minisign import _scrypt_params

MINISIGN = shutil.which("minisign")
needs_minisign = pytest.mark.skipif(
    MINISIGN is None,
    reason="the stock minisign tool is not installed (apt-get install -y minisign; CI installs it)",
)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    public, secret = generate_keypair("correct horse", INTERACTIVE)
    return public.save(tmp_path / "team.pub"), secret.save(tmp_path / "team.key")


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "release.tar.gz"
    path.write_bytes(b"payload " * 5000)
    return path


def test_scrypt_parameters_follow_libsodium() -> None:
    assert _scrypt_params(INTERACTIVE) == (1 << 14, 8, 1)
    from console.signing import SENSITIVE

    assert _scrypt_params(SENSITIVE) == (1 << 20, 8, 1)


def test_key_files_round_trip(keys: tuple[Path, Path]) -> None:
    public_path, secret_path = keys
    public = PublicKey.load(public_path)
    secret = SecretKey.load(secret_path, "correct horse")
    assert secret.public_key().key == public.key
    assert secret.key_id == public.key_id
    assert public_path.read_text().startswith("untrusted comment: minisign public key ")
    raw = base64.b64decode(public_path.read_text().splitlines()[1])
    assert raw[:2] == b"Ed"
    assert len(raw) == 42
    assert secret_path.stat().st_mode & 0o077 == 0


def test_wrong_passphrase_is_refused(keys: tuple[Path, Path]) -> None:
    with pytest.raises(SignatureError, match="wrong passphrase"):
        SecretKey.load(keys[1], "wrong")


def test_key_files_are_never_overwritten(keys: tuple[Path, Path]) -> None:
    public, _ = generate_keypair("x", INTERACTIVE)
    with pytest.raises(SignatureError, match="already exists"):
        public.save(keys[0])


def test_sign_and_verify(keys: tuple[Path, Path], artifact: Path) -> None:
    secret = SecretKey.load(keys[1], "correct horse")
    signature = sign_file(artifact, secret, trusted_comment="release 1.2.3")
    assert signature == artifact.with_name("release.tar.gz.minisig")
    verified = verify_file(artifact, PublicKey.load(keys[0]))
    assert verified.trusted_comment == "release 1.2.3"
    assert verified.key_id == secret.id_hex
    assert verified.prehashed


def test_tampered_file_is_refused(keys: tuple[Path, Path], artifact: Path) -> None:
    sign_file(artifact, SecretKey.load(keys[1], "correct horse"))
    with artifact.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"X")
    with pytest.raises(SignatureError, match="does not match the file"):
        verify_file(artifact, PublicKey.load(keys[0]))


def test_altered_trusted_comment_is_refused(keys: tuple[Path, Path], artifact: Path) -> None:
    signature = sign_file(artifact, SecretKey.load(keys[1], "correct horse"), trusted_comment="v1")
    signature.write_text(
        signature.read_text().replace("trusted comment: v1", "trusted comment: v9")
    )
    with pytest.raises(SignatureError, match="trusted comment was altered"):
        verify_file(artifact, PublicKey.load(keys[0]))


def test_other_key_is_refused(keys: tuple[Path, Path], artifact: Path) -> None:
    sign_file(artifact, SecretKey.load(keys[1], "correct horse"))
    other, _ = generate_keypair("y", INTERACTIVE)
    with pytest.raises(SignatureError, match="not by a trusted key"):
        verify_file(artifact, other)
    # any one of several keys (rotation) is enough
    verify_file(artifact, [other, PublicKey.load(keys[0])])


def test_missing_and_malformed_signatures(keys: tuple[Path, Path], artifact: Path) -> None:
    public = PublicKey.load(keys[0])
    with pytest.raises(SignatureError, match="signature missing"):
        verify_file(artifact, public)
    signature = artifact.with_name(artifact.name + ".minisig")
    for text in ("", "garbage", "untrusted comment: x\n!!!\ntrusted comment: y\nAAAA\n"):
        signature.write_text(text)
        with pytest.raises(SignatureError, match="malformed"):
            verify_file(artifact, public)
    signature.write_bytes(b"\xff\xfe" * 10)
    with pytest.raises(SignatureError, match="malformed"):
        verify_file(artifact, public)


def test_malformed_keys(tmp_path: Path) -> None:
    path = tmp_path / "k.pub"
    path.write_text("untrusted comment: x\nAAAA\n")
    with pytest.raises(SignatureError, match="not a minisign Ed25519 public key"):
        PublicKey.load(path)
    with pytest.raises(SignatureError, match="missing"):
        PublicKey.load(tmp_path / "none.pub")
    with pytest.raises(SignatureError, match=r"not a minisign .*secret key"):
        SecretKey.load(path, "x")


@needs_minisign
def test_minisign_verifies_our_signature(keys: tuple[Path, Path], artifact: Path) -> None:
    sign_file(artifact, SecretKey.load(keys[1], "correct horse"), trusted_comment="ours")
    result = subprocess.run(
        [str(MINISIGN), "-Vm", str(artifact), "-p", str(keys[0])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Trusted comment: ours" in result.stdout
    artifact.write_bytes(artifact.read_bytes() + b"!")
    tampered = subprocess.run(
        [str(MINISIGN), "-Vm", str(artifact), "-p", str(keys[0])],
        capture_output=True,
        check=False,
    )
    assert tampered.returncode != 0


@needs_minisign
def test_minisign_signs_with_our_encrypted_secret_key(
    keys: tuple[Path, Path], artifact: Path
) -> None:
    result = subprocess.run(
        [str(MINISIGN), "-Sm", str(artifact), "-s", str(keys[1]), "-t", "by minisign"],
        input="correct horse\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    verified = verify_file(artifact, PublicKey.load(keys[0]))
    assert verified.trusted_comment == "by minisign"


@needs_minisign
def test_we_verify_and_sign_with_minisign_keys(tmp_path: Path, artifact: Path) -> None:
    public_path, secret_path = tmp_path / "m.pub", tmp_path / "m.key"
    subprocess.run(
        [str(MINISIGN), "-G", "-W", "-p", str(public_path), "-s", str(secret_path)],
        capture_output=True,
        check=True,
    )
    subprocess.run(
        [str(MINISIGN), "-Sm", str(artifact), "-s", str(secret_path), "-t", "stock"],
        capture_output=True,
        check=True,
    )
    public = PublicKey.load(public_path)
    assert verify_file(artifact, public).trusted_comment == "stock"
    # and a legacy (whole-file, "Ed") signature
    subprocess.run(
        [str(MINISIGN), "-Sl", "-m", str(artifact), "-s", str(secret_path)],
        capture_output=True,
        check=True,
    )
    assert not verify_file(artifact, public).prehashed
    # minisign's unencrypted secret key signs here, and minisign verifies that
    sign_file(artifact, SecretKey.load(secret_path, ""), trusted_comment="ours with theirs")
    subprocess.run(
        [str(MINISIGN), "-Vm", str(artifact), "-p", str(public_path)],
        capture_output=True,
        check=True,
    )
