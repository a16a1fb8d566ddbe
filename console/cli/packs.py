"""``pack ...`` (keys, signed content packs) and ``verify`` (any signed artifact)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from console.cli.common import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, Parser, emit

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

    build = pack.add_parser(
        "build",
        help="build a signed content pack (FILE and FILE.minisig)",
        description="From the current data (runbooks, catalog and on-call source files, the "
        "team's checklist and communication templates) or from a folder laid out as "
        "runbooks/, catalog/, contacts/, oncall/, templates/checklists/, templates/comms/. "
        f"The secret key's passphrase is asked for, or read from ${PASSPHRASE_ENV}.",
    )
    build.add_argument("--out", required=True, metavar="FILE")
    build.add_argument("--key", required=True, metavar="SECRET", help="minisign secret key")
    build.add_argument("--from", dest="source", metavar="FOLDER", help="pack this folder")
    build.add_argument(
        "--expires", type=_days, metavar="DAYS", help="expire after DAYS days (at most 36500)"
    )
    build.add_argument(
        "--pack-version",
        type=_version,
        metavar="N",
        help="the pack's version, 1 to 4294967295 (default: the creation time in seconds "
        "since 1970)",
    )
    build.add_argument("--publisher", metavar="NAME", help="default: the key id")
    build.add_argument("--json", action="store_true")
    check = pack.add_parser(
        "verify",
        help="check a pack completely against a public key (exit 0 valid, 1 invalid)",
    )
    check.add_argument("file", metavar="FILE")
    check.add_argument("--key", required=True, metavar="PUB")
    check.add_argument("--json", action="store_true")
    trust = pack.add_parser("trust", help="pin a team's public key for pack import")
    trust.add_argument("key", metavar="PUB")
    trust.add_argument("--json", action="store_true")
    untrust = pack.add_parser("untrust", help="unpin a key (by its id)")
    untrust.add_argument("key_id", metavar="KEY_ID")
    pack.add_parser("trusted", help="the pinned keys").add_argument("--json", action="store_true")
    pack.add_parser("installed", help="the packs applied, newest first").add_argument(
        "--json", action="store_true"
    )
    load = pack.add_parser(
        "import",
        help="verify a pack against the pinned keys, then apply it in one transaction",
    )
    load.add_argument("file", metavar="FILE")
    load.add_argument("--json", action="store_true")

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


def _whole(text: str, largest: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= largest:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {largest}")
    return value


def _days(text: str) -> int:
    from console.packs.archive import MAX_EXPIRES_DAYS

    return _whole(text, MAX_EXPIRES_DAYS)


def _version(text: str) -> int:
    from console.packs.archive import MAX_VERSION

    return _whole(text, MAX_VERSION)


def _fail(message: object) -> int:
    print(f"responder-console: {message}", file=sys.stderr)
    return EXIT_FAILED


def _pack(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    if args.action == "keygen":
        return _keygen(args, out)
    if args.action == "build":
        return _build(args, folder, out)
    if args.action == "verify":
        return _pack_verify(args, out)
    return _with_workspace(args, folder, out)


def manifest_json(pack: Any) -> dict[str, Any]:
    """The ``pack verify``/``pack import`` JSON shape of a checked pack."""
    manifest = pack.manifest
    return {
        "file": str(pack.path),
        "publisher": manifest.publisher,
        "version": manifest.version,
        "created": manifest.as_json()["created"],
        "expires": manifest.as_json()["expires"],
        "files": len(manifest.files),
        "bytes": pack.bytes,
        "key_id": pack.key_id,
    }


def _build(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.domain.clock import utc_now
    from console.packs import PackError, build_pack, folder_files, workspace_files
    from console.signing import SecretKey, SignatureError

    passphrase = read_passphrase(confirm=False)
    if passphrase is None:
        return EXIT_FAILED
    try:
        secret = SecretKey.load(Path(args.key), passphrase)
        if args.source:
            files = folder_files(Path(args.source))
        else:
            files = _workspace_files(args, folder, workspace_files)
        now = utc_now().replace(microsecond=0)
        built = build_pack(
            Path(args.out),
            files,
            secret,
            version=args.pack_version or int(now.timestamp()),
            publisher=args.publisher or f"key {secret.id_hex}",
            now=now,
            expires_days=args.expires,
        )
    except (PackError, SignatureError) as error:
        return _fail(error)
    manifest = built.manifest.as_json()
    emit(
        out,
        args.json,
        {
            "file": str(built.path),
            "signature": str(built.signature),
            "publisher": manifest["publisher"],
            "version": manifest["version"],
            "created": manifest["created"],
            "expires": manifest["expires"],
            "files": len(manifest["files"]),
            "key_id": built.key_id,
        },
        f"Built {built.path} (v{manifest['version']}, {len(manifest['files'])} files, "
        f"expires {manifest['expires'] or 'never'}) signed by {built.key_id}: {built.signature}",
    )
    return EXIT_OK


def _workspace_files(args: argparse.Namespace, folder: Path, collect: Any) -> dict[str, Path]:
    from console.cli.common import open_workspace
    from console.ops.templates import default_templates_dir

    workspace = open_workspace(args, folder)
    try:
        team = folder / "templates" / "checklists"
        checklists = team if any(team.glob("*.yaml")) else default_templates_dir()
        with workspace.db.raw_reader() as raw:
            files: dict[str, Path] = collect(raw, folder, checklists)
        return files
    finally:
        workspace.close()


def _pack_verify(args: argparse.Namespace, out: TextIO) -> int:
    from console.domain.clock import utc_now
    from console.packs import PackError, verify_pack
    from console.signing import PublicKey, SignatureError

    try:
        pack = verify_pack(Path(args.file), PublicKey.load(Path(args.key)), now=utc_now())
    except (PackError, SignatureError) as error:
        emit(out, args.json, {"valid": False, "file": args.file, "reason": str(error)}, "")
        return _fail(f"invalid: {error}")
    document = {"valid": True, **manifest_json(pack)}
    emit(
        out,
        args.json,
        document,
        f"{pack.path}: valid pack '{document['publisher']}' v{document['version']} "
        f"({document['files']} files, expires {document['expires'] or 'never'}) "
        f"signed by {pack.key_id}",
    )
    return EXIT_OK


def _with_workspace(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.cli.common import open_workspace
    from console.packs import PackError
    from console.signing import SignatureError

    workspace = open_workspace(args, folder)
    try:
        return _workspace_action(args, workspace, out)
    except (PackError, SignatureError) as error:
        if args.action == "import" and args.json:
            emit(out, True, {"imported": False, "file": args.file, "reason": str(error)}, "")
        return _fail(error)
    finally:
        workspace.close()


def _workspace_action(args: argparse.Namespace, workspace: Any, out: TextIO) -> int:
    from console.packs import import_pack, installed_packs, trust_key, trusted_keys, untrust_key
    from console.signing import PublicKey

    db, now = workspace.db, workspace.clock()
    if args.action == "trust":
        key = PublicKey.load(Path(args.key))
        added = trust_key(db, key, now)
        emit(
            out,
            args.json,
            {"key_id": key.id_hex, "added": added},
            f"Key {key.id_hex} {'pinned' if added else 'was already pinned'}",
        )
        return EXIT_OK
    if args.action == "untrust":
        if not untrust_key(db, args.key_id):
            return _fail(f"no pinned key {args.key_id}")
        print(f"Key {args.key_id.upper()} unpinned", file=out)
        return EXIT_OK
    if args.action == "trusted":
        keys = trusted_keys(db)
        emit(
            out,
            args.json,
            {
                "keys": [
                    {"key_id": k.key_id, "comment": k.comment, "added_at": _iso(k.added_at)}
                    for k in keys
                ]
            },
            "\n".join(f"{k.key_id}  {k.comment}  (pinned {_iso(k.added_at)})" for k in keys)
            or "No pinned keys (pin one with: pack trust PUB)",
        )
        return EXIT_OK
    if args.action == "installed":
        packs = installed_packs(db)
        emit(
            out,
            args.json,
            {
                "packs": [
                    {
                        "publisher": p.publisher,
                        "version": p.version,
                        "key_id": p.key_id,
                        "file": p.file_name,
                        "files": p.files,
                        "created": _iso(p.created),
                        "expires": _iso(p.expires) if p.expires else None,
                        "installed_at": _iso(p.installed_at),
                    }
                    for p in packs
                ]
            },
            "\n".join(
                f"{p.publisher} v{p.version}  {p.files} files  installed {_iso(p.installed_at)}"
                f"  expires {_iso(p.expires) if p.expires else 'never'}"
                for p in packs
            )
            or "No packs installed",
        )
        return EXIT_OK
    report = import_pack(db, workspace.folder, Path(args.file), now=now)
    document = {
        "imported": True,
        **manifest_json(report.pack),
        "runbooks": report.runbooks,
        "services": report.services,
        "contacts": report.contacts,
        "schedules": report.schedules,
        "policies": report.policies,
        "templates": report.templates,
        "refused": [{"path": path, "reason": reason} for path, reason in report.refused],
    }
    emit(
        out,
        args.json,
        document,
        f"Imported '{document['publisher']}' v{document['version']}: {report.runbooks} runbooks, "
        f"{report.services} services, {report.contacts} contacts, {report.schedules} schedules, "
        f"{report.policies} policies, {report.templates} templates",
    )
    for path, reason in report.refused:
        print(f"{path}: {reason}", file=sys.stderr)
    return EXIT_PARTIAL if report.refused else EXIT_OK


def _iso(value: Any) -> str:
    from console.packs.archive import format_utc

    return str(format_utc(value))


def _verify_command(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    del folder
    return _verify(args, out)


HANDLERS = {"pack": _pack, "verify": _verify_command}
