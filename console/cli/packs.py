"""``pack ...`` (keys, signed content packs) and ``verify`` (any signed artifact)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from console.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Parser, emit

PASSPHRASE_ENV = "RESPONDER_CONSOLE_PACK_PASSPHRASE"


def add_parsers(commands: Any, importing: Any) -> None:
    del importing  # packs are imported with ``pack import`` (they need the pinned keys)
    pack = commands.add_parser("pack", help="signing keys and signed content packs").add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=Parser
    )
    keygen = pack.add_parser(
        "keygen",
        help="create an Ed25519 key pair in minisign's formats",
        description=f"The passphrase protecting the secret key is asked for, or read from "
        f"${PASSPHRASE_ENV} when set (head-less).",
    )
    keygen.add_argument("--public", required=True, metavar="PUB", help="public key file to write")
    keygen.add_argument("--secret", required=True, metavar="SEC", help="secret key file to write")
    keygen.add_argument(
        "--kdf",
        choices=("sensitive", "interactive"),
        default="sensitive",
        help="scrypt cost protecting the secret key: sensitive (1 GiB, minisign's default) "
        "or interactive (16 MiB, throw-away keys)",
    )
    keygen.add_argument("--json", action="store_true")

    verify = commands.add_parser(
        "verify",
        help="check a file's detached minisign signature (FILE.minisig)",
        description="Exit 0 when the signature is valid, 1 (with the reason) when not.",
    )
    verify.add_argument("artifact", metavar="ARTIFACT")
    verify.add_argument("--key", required=True, metavar="PUB", help="minisign public key file")
    verify.add_argument(
        "--signature", metavar="SIG", help="signature file (default: ARTIFACT.minisig)"
    )
    verify.add_argument("--json", action="store_true")


def read_passphrase(confirm: bool) -> str | None:
    """The secret key's passphrase: from the environment, else asked on the terminal."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    import getpass

    try:
        first = getpass.getpass("Passphrase: ")
        if confirm and getpass.getpass("Passphrase (again): ") != first:
            print("responder-console: the passphrases differ", file=sys.stderr)
            return None
    except (EOFError, KeyboardInterrupt):
        print(f"responder-console: no passphrase (set ${PASSPHRASE_ENV})", file=sys.stderr)
        return None
    return first


def _keygen(args: argparse.Namespace, out: TextIO) -> int:
    from console.signing import INTERACTIVE, SENSITIVE, SignatureError, generate_keypair

    passphrase = read_passphrase(confirm=True)
    if passphrase is None:
        return EXIT_FAILED
    if not passphrase:
        print(
            "responder-console: an empty passphrase would leave the key unprotected",
            file=sys.stderr,
        )
        return EXIT_USAGE
    public_path, secret_path = Path(args.public), Path(args.secret)
    for path in (public_path, secret_path):
        if path.exists():
            print(
                f"responder-console: {path}: already exists (not overwriting a key)",
                file=sys.stderr,
            )
            return EXIT_FAILED
    public, secret = generate_keypair(
        passphrase, SENSITIVE if args.kdf == "sensitive" else INTERACTIVE
    )
    try:
        secret.save(secret_path)
        public.save(public_path)
    except SignatureError as error:
        print(f"responder-console: {error}", file=sys.stderr)
        return EXIT_FAILED
    emit(
        out,
        args.json,
        {"key_id": public.id_hex, "public": str(public_path), "secret": str(secret_path)},
        f"Key {public.id_hex}: public {public_path}, secret {secret_path} "
        "(keep the secret key and its passphrase safe)",
    )
    return EXIT_OK


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    from console.signing import PublicKey, SignatureError, verify_file

    artifact = Path(args.artifact)
    try:
        key = PublicKey.load(Path(args.key))
        verified = verify_file(artifact, key, Path(args.signature) if args.signature else None)
    except SignatureError as error:
        emit(
            out,
            args.json,
            {"valid": False, "file": str(artifact), "reason": str(error)},
            "",
        )
        print(f"responder-console: invalid: {error}", file=sys.stderr)
        return EXIT_FAILED
    emit(
        out,
        args.json,
        {
            "valid": True,
            "file": str(artifact),
            "key_id": verified.key_id,
            "trusted_comment": verified.trusted_comment,
        },
        f"{artifact}: valid signature by key {verified.key_id}\n"
        f"trusted comment: {verified.trusted_comment}",
    )
    return EXIT_OK


def _pack(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    del folder
    if args.action == "keygen":
        return _keygen(args, out)
    raise AssertionError(args.action)


def _verify_command(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    del folder
    return _verify(args, out)


HANDLERS = {"pack": _pack, "verify": _verify_command}
