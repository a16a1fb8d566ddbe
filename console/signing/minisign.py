"""Ed25519 keys and detached signatures in minisign's file formats.

The formats (https://jedisct1.github.io/minisign/), byte for byte, so the stock
``minisign`` verifies what we sign and we verify what it signs:

* public key: ``untrusted comment: ...`` then base64(``Ed`` ‖ key id (8) ‖ key (32));
* secret key: ``untrusted comment: ...`` then base64(``Ed`` ‖ ``Sc`` ‖ ``B2`` ‖ salt (32) ‖
  opslimit (u64 LE) ‖ memlimit (u64 LE) ‖ key id (8) ‖ secret key (64) ‖ checksum (32)),
  the last 104 bytes XORed with scrypt(passphrase, salt) (libsodium's
  ``crypto_pwhash_scryptsalsa208sha256`` parameters), checksum = BLAKE2b-256(``Ed`` ‖ key id ‖
  secret key);
* signature: ``untrusted comment: ...``, base64(``ED`` ‖ key id ‖ Ed25519(BLAKE2b-512(file))),
  ``trusted comment: ...``, base64(Ed25519(signature ‖ trusted comment)).

We only write prehashed (``ED``) signatures; legacy ``Ed`` signatures (over the whole file)
are verified too. Only ``cryptography`` and ``hashlib`` are used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from console.domain.errors import FileWriteError

UNTRUSTED_PREFIX = "untrusted comment: "
TRUSTED_PREFIX = "trusted comment: "
SIGNATURE_SUFFIX = ".minisig"
#: Read size for hashing: large reads keep the hash the only cost (see the benchmark).
CHUNK = 1 << 20

_ALG_ED = b"Ed"  # key algorithm; also the legacy (whole-file) signature algorithm
_ALG_PREHASHED = b"ED"
_KDF_SCRYPT = b"Sc"
_KDF_NONE = b"\x00\x00"
_CHK_BLAKE2B = b"B2"
_KEY_ID_BYTES = 8
_SALT_BYTES = 32
_KEYNUM_SK_BYTES = _KEY_ID_BYTES + 64 + 32
_SECRET_KEY_BYTES = 2 + 2 + 2 + _SALT_BYTES + 8 + 8 + _KEYNUM_SK_BYTES
_MAX_SIGNATURE_FILE = 64 * 1024


class SignatureError(Exception):
    """A key or signature is missing, malformed, from another key, or does not match."""


@dataclass(frozen=True)
class KdfLimits:
    """libsodium's scrypt cost (``opslimit``/``memlimit``), as minisign stores it."""

    opslimit: int
    memlimit: int


#: What ``minisign -G`` uses: N=2^20, r=8, p=1 (1 GiB, about a second or two).
SENSITIVE = KdfLimits(opslimit=33554432, memlimit=1073741824)
#: libsodium's interactive limits: N=2^14, r=8, p=1 (16 MiB); for tests and throw-away keys.
INTERACTIVE = KdfLimits(opslimit=524288, memlimit=16777216)


def format_key_id(key_id: bytes) -> str:
    """The key id as minisign prints it (the 8 bytes as a little-endian number, hex)."""
    return f"{int.from_bytes(key_id, 'little'):016X}"


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes
    key: bytes
    comment: str = "minisign public key"

    @property
    def id_hex(self) -> str:
        return format_key_id(self.key_id)

    def encoded(self) -> str:
        """The base64 line (what ``minisign -P`` takes)."""
        return base64.b64encode(_ALG_ED + self.key_id + self.key).decode("ascii")

    def text(self) -> str:
        return f"{UNTRUSTED_PREFIX}{self.comment}\n{self.encoded()}\n"

    def save(self, path: Path) -> Path:
        _write_new(path, self.text(), mode=0o644)
        return path

    @classmethod
    def parse(cls, text: str, source: str = "public key") -> PublicKey:
        """A public key file's text, or its bare base64 line."""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        comment = "minisign public key"
        if lines and lines[0].startswith(UNTRUSTED_PREFIX):
            comment = lines[0][len(UNTRUSTED_PREFIX) :]
            lines = lines[1:]
        if len(lines) != 1:
            raise SignatureError(f"{source}: not a minisign public key (expected one base64 line)")
        raw = _b64(lines[0], source)
        if len(raw) != 2 + _KEY_ID_BYTES + 32 or raw[:2] != _ALG_ED:
            raise SignatureError(f"{source}: not a minisign Ed25519 public key")
        return cls(key_id=raw[2:10], key=raw[10:], comment=comment)

    @classmethod
    def load(cls, path: Path) -> PublicKey:
        return cls.parse(_read_small(path, "public key"), str(path))


@dataclass(frozen=True)
class SecretKey:
    key_id: bytes
    seed: bytes  # the Ed25519 private key (32 bytes); libsodium's 64-byte form is seed ‖ public
    public: bytes
    limits: KdfLimits = SENSITIVE
    comment: str = "minisign encrypted secret key"
    #: what ``save`` encrypts with when given none (set by ``generate_keypair`` and ``load``)
    passphrase: str = field(default="", repr=False, compare=False)

    @property
    def id_hex(self) -> str:
        return format_key_id(self.key_id)

    def public_key(self) -> PublicKey:
        return PublicKey(
            key_id=self.key_id, key=self.public, comment=f"minisign public key {self.id_hex}"
        )

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def text(self, passphrase: str) -> str:
        """The secret key file, encrypted with ``passphrase`` (an empty one: unencrypted)."""
        secret = self.seed + self.public
        checksum = hashlib.blake2b(_ALG_ED + self.key_id + secret, digest_size=32).digest()
        keynum_sk = self.key_id + secret + checksum
        salt = secrets.token_bytes(_SALT_BYTES)
        if passphrase:
            kdf = _KDF_SCRYPT
            keynum_sk = _xor(keynum_sk, _scrypt_stream(passphrase, salt, self.limits))
        else:
            kdf = _KDF_NONE
        raw = (
            _ALG_ED
            + kdf
            + _CHK_BLAKE2B
            + salt
            + self.limits.opslimit.to_bytes(8, "little")
            + self.limits.memlimit.to_bytes(8, "little")
            + keynum_sk
        )
        return f"{UNTRUSTED_PREFIX}{self.comment}\n{base64.b64encode(raw).decode('ascii')}\n"

    def save(self, path: Path, passphrase: str | None = None) -> Path:
        text = self.text(self.passphrase if passphrase is None else passphrase)
        _write_new(path, text, mode=0o600)
        return path

    @classmethod
    def parse(cls, text: str, passphrase: str, source: str = "secret key") -> SecretKey:
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if len(lines) != 2 or not lines[0].startswith(UNTRUSTED_PREFIX):
            raise SignatureError(f"{source}: not a minisign secret key")
        raw = _b64(lines[1], source)
        if len(raw) != _SECRET_KEY_BYTES or raw[:2] != _ALG_ED or raw[4:6] != _CHK_BLAKE2B:
            raise SignatureError(f"{source}: not a minisign Ed25519 secret key")
        kdf, salt = raw[2:4], raw[6:38]
        limits = KdfLimits(
            opslimit=int.from_bytes(raw[38:46], "little"),
            memlimit=int.from_bytes(raw[46:54], "little"),
        )
        keynum_sk = raw[54:]
        if kdf == _KDF_SCRYPT:
            if not passphrase:
                raise SignatureError(f"{source}: the key is encrypted; a passphrase is needed")
            keynum_sk = _xor(keynum_sk, _scrypt_stream(passphrase, salt, limits))
        elif kdf != _KDF_NONE:
            raise SignatureError(f"{source}: unknown key derivation {kdf!r}")
        key_id, secret, checksum = keynum_sk[:8], keynum_sk[8:72], keynum_sk[72:]
        expected = hashlib.blake2b(_ALG_ED + key_id + secret, digest_size=32).digest()
        # minisign -W (unencrypted) writes a zero checksum
        unchecked = kdf == _KDF_NONE and checksum == bytes(32)
        if not unchecked and not secrets.compare_digest(checksum, expected):
            raise SignatureError(f"{source}: wrong passphrase (the key checksum does not match)")
        return cls(
            key_id=key_id,
            seed=secret[:32],
            public=secret[32:],
            limits=limits,
            comment=lines[0][len(UNTRUSTED_PREFIX) :],
            passphrase=passphrase,
        )

    @classmethod
    def load(cls, path: Path, passphrase: str) -> SecretKey:
        return cls.parse(_read_small(path, "secret key"), passphrase, str(path))


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that checked out: which key made it and what it vouches for."""

    path: Path
    signature_path: Path
    key_id: str
    trusted_comment: str
    prehashed: bool


@dataclass(frozen=True)
class _SignatureFile:
    algorithm: bytes
    key_id: bytes
    signature: bytes
    untrusted_comment: str
    trusted_comment: str
    global_signature: bytes


def generate_keypair(passphrase: str, limits: KdfLimits = SENSITIVE) -> tuple[PublicKey, SecretKey]:
    """A fresh Ed25519 key pair, random 8-byte key id; ``save`` encrypts with ``passphrase``."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes_raw()
    secret = SecretKey(
        key_id=secrets.token_bytes(_KEY_ID_BYTES),
        seed=seed,
        public=public,
        limits=limits,
        passphrase=passphrase,
    )
    return secret.public_key(), secret


def signature_path_for(path: Path) -> Path:
    return path.with_name(path.name + SIGNATURE_SUFFIX)


def blake2b_file(path: Path, also: Callable[[memoryview], object] | None = None) -> bytes:
    """BLAKE2b-512 of a file in one streaming pass (``also`` sees each chunk, for a 2nd hash)."""
    digest = hashlib.blake2b(digest_size=64)
    try:
        with path.open("rb", buffering=0) as handle:
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            while read := handle.readinto(buffer):
                chunk = view[:read]
                digest.update(chunk)
                if also is not None:
                    also(chunk)
    except OSError as exc:
        raise SignatureError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return digest.digest()


def sign_file(
    path: Path,
    secret_key: SecretKey,
    trusted_comment: str | None = None,
    untrusted_comment: str = "signature from minisign secret key",
) -> Path:
    """Write ``PATH.minisig`` (prehashed) and return its path."""
    if trusted_comment is None:
        trusted_comment = f"timestamp:{int(time.time())}\tfile:{path.name}\thashed"
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise SignatureError("a trusted comment is one line")
    return write_signature(
        path, sign_digest(blake2b_file(path), secret_key, trusted_comment, untrusted_comment)
    )


def sign_digest(
    digest: bytes,
    secret_key: SecretKey,
    trusted_comment: str,
    untrusted_comment: str = "signature from minisign secret key",
) -> str:
    """The text of a prehashed signature for a file whose BLAKE2b-512 is ``digest``."""
    signature = secret_key.sign(digest)
    global_signature = secret_key.sign(signature + trusted_comment.encode("utf-8"))
    encoded = base64.b64encode(_ALG_PREHASHED + secret_key.key_id + signature).decode("ascii")
    return (
        f"{UNTRUSTED_PREFIX}{untrusted_comment}\n{encoded}\n"
        f"{TRUSTED_PREFIX}{trusted_comment}\n"
        f"{base64.b64encode(global_signature).decode('ascii')}\n"
    )


def write_signature(path: Path, text: str) -> Path:
    """Write ``PATH.minisig`` whole or not at all, through the console's one write path
    (console.files: temporary name, fsync, rename, fsync of the folder)."""
    from console.files import write_file

    try:
        return write_file(signature_path_for(path), text, what="the signature")
    except FileWriteError as exc:
        raise SignatureError(str(exc)) from exc


def verify_file(
    path: Path,
    public_key: PublicKey | Iterable[PublicKey],
    signature_path: Path | None = None,
    digest: bytes | None = None,
) -> VerifiedSignature:
    """Check ``PATH.minisig`` (or ``signature_path``) against one key or any of several.

    ``digest``: the file's BLAKE2b-512 when the caller already hashed it in its own pass.
    Raises :class:`SignatureError` saying why: missing, malformed, other key, bad signature.
    """
    signature_path = signature_path or signature_path_for(path)
    if not path.is_file():
        raise SignatureError(f"{path}: no such file")
    key, parsed = _signer(public_key, signature_path)
    verifier = Ed25519PublicKey.from_public_bytes(key.key)
    if parsed.algorithm == _ALG_PREHASHED:
        message = digest if digest is not None else blake2b_file(path)
    else:
        try:
            message = path.read_bytes()
        except OSError as exc:
            raise SignatureError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        verifier.verify(parsed.signature, message)
    except InvalidSignature as exc:
        raise SignatureError(
            f"{path}: signature does not match the file (altered or not what was signed)"
        ) from exc
    try:
        verifier.verify(
            parsed.global_signature, parsed.signature + parsed.trusted_comment.encode("utf-8")
        )
    except InvalidSignature as exc:
        raise SignatureError(f"{signature_path}: the trusted comment was altered") from exc
    return VerifiedSignature(
        path=path,
        signature_path=signature_path,
        key_id=key.id_hex,
        trusted_comment=parsed.trusted_comment,
        prehashed=parsed.algorithm == _ALG_PREHASHED,
    )


def trusted_signer(public_key: PublicKey | Iterable[PublicKey], signature_path: Path) -> PublicKey:
    """The key (of ``public_key``) whose id the detached signature names, else SignatureError.

    Reads only the signature file (at most 64 KiB): a file signed by a key nobody trusts is
    refused before a byte of it is read. Says nothing of whether the signature matches."""
    return _signer(public_key, signature_path)[0]


def _signer(
    public_key: PublicKey | Iterable[PublicKey], signature_path: Path
) -> tuple[PublicKey, _SignatureFile]:
    keys = [public_key] if isinstance(public_key, PublicKey) else list(public_key)
    if not signature_path.is_file():
        raise SignatureError(f"{signature_path}: signature missing")
    parsed = _parse_signature(_read_small(signature_path, "signature"), str(signature_path))
    key = next((k for k in keys if k.key_id == parsed.key_id), None)
    if key is None:
        known = ", ".join(k.id_hex for k in keys) or "none"
        raise SignatureError(
            f"{signature_path}: signed by key {format_key_id(parsed.key_id)}, "
            f"not by a trusted key ({known})"
        )
    return key, parsed


def _parse_signature(text: str, source: str) -> _SignatureFile:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if (
        len(lines) != 4
        or not lines[0].startswith(UNTRUSTED_PREFIX)
        or not lines[2].startswith(TRUSTED_PREFIX)
    ):
        raise SignatureError(f"{source}: malformed signature (not a minisign signature file)")
    raw = _b64(lines[1].strip(), source)
    if len(raw) != 2 + _KEY_ID_BYTES + 64 or raw[:2] not in (_ALG_PREHASHED, _ALG_ED):
        raise SignatureError(f"{source}: malformed signature (unknown algorithm or length)")
    global_signature = _b64(lines[3].strip(), source)
    if len(global_signature) != 64:
        raise SignatureError(f"{source}: malformed signature (bad global signature length)")
    return _SignatureFile(
        algorithm=raw[:2],
        key_id=raw[2:10],
        signature=raw[10:],
        untrusted_comment=lines[0][len(UNTRUSTED_PREFIX) :],
        trusted_comment=lines[2][len(TRUSTED_PREFIX) :],
        global_signature=global_signature,
    )


def _scrypt_params(limits: KdfLimits) -> tuple[int, int, int]:
    """libsodium's ``pickparams`` for scryptsalsa208sha256: (N, r, p) from ops/mem limits."""
    opslimit = max(limits.opslimit, 32768)
    r = 8
    if opslimit < limits.memlimit // 32:
        p = 1
        max_n = opslimit // (r * 4)
    else:
        max_n = limits.memlimit // (r * 128)
    n_log2 = 1
    while n_log2 < 63 and (1 << n_log2) <= max_n // 2:
        n_log2 += 1
    if not opslimit < limits.memlimit // 32:
        max_rp = min((opslimit // 4) // (1 << n_log2), 0x3FFFFFFF)
        p = max_rp // r
    return 1 << n_log2, r, p


def _scrypt_stream(passphrase: str, salt: bytes, limits: KdfLimits) -> bytes:
    n, r, p = _scrypt_params(limits)
    needed = 128 * r * n + 128 * r * p + 256 * r + (1 << 20)
    if needed > 2 * SENSITIVE.memlimit + (1 << 24):
        raise SignatureError("the key asks for more scrypt memory than allowed")
    try:
        return hashlib.scrypt(
            passphrase.encode("utf-8"),
            salt=salt,
            n=n,
            r=r,
            p=max(p, 1),
            maxmem=needed,
            dklen=_KEYNUM_SK_BYTES,
        )
    except (ValueError, MemoryError) as exc:
        raise SignatureError(f"cannot derive the key ({exc})") from exc


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _b64(text: str, source: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{source}: malformed base64") from exc


def _read_small(path: Path, what: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_SIGNATURE_FILE + 1)
    except FileNotFoundError as exc:
        raise SignatureError(f"{path}: {what} missing") from exc
    except OSError as exc:
        raise SignatureError(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    if len(data) > _MAX_SIGNATURE_FILE:
        raise SignatureError(f"{path}: too large for a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError(f"{path}: malformed {what} (not UTF-8 text)") from exc


def _write_new(path: Path, text: str, mode: int) -> None:
    """Write a key file; refuse to overwrite one (a lost secret key cannot be recovered)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise SignatureError(f"{path}: already exists (not overwriting a key)") from exc
    except OSError as exc:
        raise SignatureError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
