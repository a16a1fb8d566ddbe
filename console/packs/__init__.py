"""Signed content packs: build, verify, pin keys, import (verify first, one transaction)."""

from console.packs.archive import (
    EXPIRY_WARNING_DAYS,
    Manifest,
    PackError,
    VerifiedPack,
    verify_pack,
)
from console.packs.build import BuiltPack, build_pack, folder_files, workspace_files
from console.packs.install import (
    InstalledPack,
    PackImportReport,
    TrustedKey,
    expiry_notice,
    import_pack,
    installed_packs,
    trust_key,
    trusted_keys,
    untrust_key,
)

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "BuiltPack",
    "InstalledPack",
    "Manifest",
    "PackError",
    "PackImportReport",
    "TrustedKey",
    "VerifiedPack",
    "build_pack",
    "expiry_notice",
    "folder_files",
    "import_pack",
    "installed_packs",
    "trust_key",
    "trusted_keys",
    "untrust_key",
    "verify_pack",
    "workspace_files",
]
