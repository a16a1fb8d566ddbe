"""Keys and detached signatures in minisign's formats (a layer beside storage).

Imports only ``cryptography`` and ``hashlib``: packs and release files are signed and
verified here, and the stock ``minisign -Vm FILE -p PUB`` agrees with it.
"""

from console.signing.minisign import (
    CHUNK,
    INTERACTIVE,
    SENSITIVE,
    KdfLimits,
    PublicKey,
    SecretKey,
    SignatureError,
    VerifiedSignature,
    blake2b_file,
    format_key_id,
    generate_keypair,
    sign_digest,
    sign_file,
    signature_path_for,
    trusted_signer,
    verify_file,
    write_signature,
)

__all__ = [
    "CHUNK",
    "INTERACTIVE",
    "SENSITIVE",
    "KdfLimits",
    "PublicKey",
    "SecretKey",
    "SignatureError",
    "VerifiedSignature",
    "blake2b_file",
    "format_key_id",
    "generate_keypair",
    "sign_digest",
    "sign_file",
    "signature_path_for",
    "trusted_signer",
    "verify_file",
    "write_signature",
]
