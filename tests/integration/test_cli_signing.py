"""``pack keygen`` and ``verify`` through the real command line (subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli import REPO, run

PASS = {"RESPONDER_CONSOLE_PACK_PASSPHRASE": "s3cret pass"}


def keygen(tmp_path: Path) -> tuple[Path, Path]:
    public, secret = tmp_path / "team.pub", tmp_path / "team.key"
    result = run(
        "pack", "keygen", "--public", str(public), "--secret", str(secret),
        "--kdf", "interactive", "--json", data_dir=tmp_path / "data", env=PASS,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document == {"key_id": document["key_id"], "public": str(public), "secret": str(secret)}
    assert len(document["key_id"]) == 16
    return public, secret


def test_keygen_then_verify(tmp_path: Path) -> None:
    public, secret = keygen(tmp_path)
    artifact = tmp_path / "console.deb"
    artifact.write_bytes(b"\x00" * 4096)
    from console.signing import SecretKey, sign_file

    sign_file(artifact, SecretKey.load(secret, PASS["RESPONDER_CONSOLE_PACK_PASSPHRASE"]))
    valid = run("verify", str(artifact), "--key", str(public), "--json", data_dir=None)
    assert valid.returncode == 0, valid.stderr
    assert json.loads(valid.stdout)["valid"] is True

    artifact.write_bytes(b"\x01" * 4096)
    invalid = run("verify", str(artifact), "--key", str(public), data_dir=None)
    assert invalid.returncode == 1
    assert "does not match the file" in invalid.stderr

    artifact.with_name("console.deb.minisig").unlink()
    missing = run("verify", str(artifact), "--key", str(public), "--json", data_dir=None)
    assert missing.returncode == 1
    assert "signature missing" in json.loads(missing.stdout)["reason"]


def test_keygen_refuses_to_overwrite_and_empty_passphrase(tmp_path: Path) -> None:
    public, secret = keygen(tmp_path)
    before = secret.read_bytes()
    again = run(
        "pack", "keygen", "--public", str(public), "--secret", str(secret),
        data_dir=None, env=PASS,
    )  # fmt: skip
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert secret.read_bytes() == before
    empty = run(
        "pack", "keygen", "--public", str(tmp_path / "b.pub"), "--secret", str(tmp_path / "b"),
        data_dir=None, env={"RESPONDER_CONSOLE_PACK_PASSPHRASE": ""},
    )  # fmt: skip
    assert empty.returncode == 2
    assert "empty passphrase" in empty.stderr


@pytest.mark.skipif(
    shutil.which("minisign") is None,
    reason="the stock minisign tool is not installed (apt-get install -y minisign; CI installs it)",
)
def test_stock_minisign_accepts_keygen_output(tmp_path: Path) -> None:
    public, secret = keygen(tmp_path)
    artifact = tmp_path / "SHA256SUMS"
    artifact.write_text("abc  file\n")
    subprocess.run(
        ["minisign", "-Sm", str(artifact), "-s", str(secret)],
        input="s3cret pass\n", text=True, capture_output=True, check=True,
    )  # fmt: skip
    result = run("verify", str(artifact), "--key", str(public), data_dir=None)
    assert result.returncode == 0, result.stderr


def test_pack_build_trust_import_through_the_cli(tmp_path: Path) -> None:
    public, secret = keygen(tmp_path)
    data = tmp_path / "data"
    source = tmp_path / "source"
    (source / "runbooks").mkdir(parents=True)
    for name in ("disk-full.md", "dns-failure.md"):
        (source / "runbooks" / name).write_bytes((REPO / "runbooks" / name).read_bytes())
    pack = tmp_path / "team.pack"
    built = run(
        "pack", "build", "--out", str(pack), "--key", str(secret), "--from", str(source),
        "--expires", "30", "--pack-version", "4", "--publisher", "SRE team", "--json",
        data_dir=data, env=PASS,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    document = json.loads(built.stdout)
    assert set(document) == {
        "file", "signature", "publisher", "version", "created", "expires", "files", "key_id",
    }  # fmt: skip
    assert (document["version"], document["files"]) == (4, 2)

    checked = run("pack", "verify", str(pack), "--key", str(public), "--json", data_dir=data)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["valid"] is True

    unpinned = run("pack", "import", str(pack), data_dir=data)
    assert unpinned.returncode == 1
    assert "no trusted keys" in unpinned.stderr
    pinned = run("pack", "trust", str(public), "--json", data_dir=data)
    assert json.loads(pinned.stdout)["added"] is True
    listing = json.loads(run("pack", "trusted", "--json", data_dir=data).stdout)
    assert [k["key_id"] for k in listing["keys"]] == [json.loads(pinned.stdout)["key_id"]]

    imported = run("pack", "import", str(pack), "--json", data_dir=data)
    assert imported.returncode == 0, imported.stderr
    result = json.loads(imported.stdout)
    assert (result["imported"], result["runbooks"], result["version"]) == (True, 2, 4)
    found = run("search", "disk", "--json", data_dir=data)
    assert found.returncode == 0
    assert json.loads(found.stdout)

    again = run("pack", "import", str(pack), "--json", data_dir=data)
    assert again.returncode == 1
    assert "rollback refused" in json.loads(again.stdout)["reason"]
    installed = json.loads(run("pack", "installed", "--json", data_dir=data).stdout)
    assert [(p["publisher"], p["version"]) for p in installed["packs"]] == [("SRE team", 4)]

    pack.write_bytes(pack.read_bytes()[:-10])
    broken = run("pack", "verify", str(pack), "--key", str(public), data_dir=data)
    assert broken.returncode == 1
    assert "invalid" in broken.stderr


# ------------------------------------------------------------------ issue 14, items 9-11


def pinned(tmp_path: Path) -> tuple[Path, Any]:
    """A data folder with the team's key pinned through the CLI, and that secret key."""
    from console.signing import SecretKey

    public, secret = keygen(tmp_path)
    data = tmp_path / "data"
    assert run("pack", "trust", str(public), data_dir=data).returncode == 0
    return data, SecretKey.load(secret, PASS["RESPONDER_CONSOLE_PACK_PASSPHRASE"])


def test_pack_import_refuses_a_template_sub_folder_and_applies_nothing(tmp_path: Path) -> None:
    """Was: IsADirectoryError after the commit; the pack listed, half applied, the fixed
    pack refused as a rollback."""
    from tests.unit.test_packs import COMMS, RUNBOOK, craft

    data, secret = pinned(tmp_path)
    good = {"runbooks/a.md": RUNBOOK, "templates/comms/team.md": COMMS}
    bad = craft(tmp_path / "bad.pack", secret, {**good, "templates/comms/old/team.md": COMMS})
    refused = run("pack", "import", str(bad), data_dir=data)
    assert refused.returncode == 1, refused.stderr
    assert "'templates/comms/old/team.md' is in a sub-folder of templates/comms/" in refused.stderr
    assert "Traceback" not in refused.stderr
    installed = json.loads(run("pack", "installed", "--json", data_dir=data).stdout)
    assert installed == {"packs": []}
    assert not (data / "templates").exists()
    fixed = run("pack", "import", str(craft(tmp_path / "good.pack", secret, good)), data_dir=data)
    assert fixed.returncode == 0, fixed.stderr
    assert (data / "templates/comms/team.md").read_bytes() == COMMS


def test_pack_versions_and_validity_are_bounded(tmp_path: Path) -> None:
    """Was: a version of 2^70 built, then its import ended in an OverflowError traceback."""
    from tests.unit.test_packs import RUNBOOK, craft, manifest_with

    data, secret = pinned(tmp_path)
    source = tmp_path / "source"
    (source / "runbooks").mkdir(parents=True)
    (source / "runbooks/a.md").write_bytes(RUNBOOK)
    for option, value, reason in (
        ("--pack-version", str(2**70), "from 1 to 4294967295"),
        ("--expires", str(10**12), "from 1 to 36500"),
    ):
        built = run(
            "pack", "build", "--out", str(tmp_path / "p.pack"), "--key", str(tmp_path / "team.key"),
            "--from", str(source), option, value, data_dir=data, env=PASS,
        )  # fmt: skip
        assert built.returncode == 2, built.stderr
        assert reason in built.stderr
        assert not (tmp_path / "p.pack").exists()
    entries = {"runbooks/a.md": RUNBOOK}
    huge = craft(tmp_path / "huge.pack", secret, entries, manifest_with(version=2**70))
    result = run("pack", "import", str(huge), "--json", data_dir=data)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"version {2**70} is larger than the largest allowed" in json.loads(result.stdout)["reason"]
    )
    later = run("pack", "import", str(craft(tmp_path / "v6.pack", secret, entries)), data_dir=data)
    assert later.returncode == 0, later.stderr


def test_an_untrusted_200mb_pack_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Was: the 200 MB were copied into <data>/pack before the signer was looked at."""
    from console.signing import INTERACTIVE, generate_keypair
    from tests.unit.test_packs import sparse_pack

    data, _ = pinned(tmp_path)
    _, stranger = generate_keypair("s", INTERACTIVE)
    pack = sparse_pack(tmp_path / "big.pack", stranger)
    assert pack.stat().st_size > 200 * 1024**2
    result = run("pack", "import", str(pack), data_dir=data)
    assert result.returncode == 1, result.stderr
    assert f"signed by key {stranger.id_hex}, not by a trusted key" in result.stderr
    assert not (data / "pack").exists()
