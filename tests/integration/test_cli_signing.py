"""``pack keygen`` and ``verify`` through the real command line (subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

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
