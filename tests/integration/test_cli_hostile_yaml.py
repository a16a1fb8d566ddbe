"""YAML alias bombs through the real CLI (issue 14, item 7).

The command runs under ``prlimit --as`` (1.5 GB of address space): before the fix
the runbook import grew past 2 GB and the catalog import past 1 GB, so the old
code ends in a MemoryError there instead of taking the machine down. Now the
bomb is refused with its file and line, the other files land, and the exit code
says some files were refused (3).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.integration.test_cli import run
from tests.unit.test_yaml_aliases import FIRST_REFUSED, LAUGHS

PRLIMIT = shutil.which("prlimit")
pytestmark = pytest.mark.skipif(PRLIMIT is None, reason="needs prlimit (util-linux)")


def capped() -> list[str]:
    assert PRLIMIT is not None
    return [PRLIMIT, f"--as={1536 * 1024 * 1024}", sys.executable, "-m", "console"]


def test_import_runbooks_refuses_a_bomb_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    bomb = folder / "bomb.md"
    bomb.write_text("---\ntitle: Bomb\n" + "\n".join(LAUGHS) + "\n---\n# Bomb\n", encoding="utf-8")
    (folder / "good.md").write_text("# Good\n\n1. Restart it\n", encoding="utf-8")
    data = tmp_path / "data"

    result = run("import", "runbooks", str(folder), "--json", data_dir=data, program=capped())

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["imported"] == 1
    [refused] = report["refused"]
    assert refused["path"] == str(bomb)
    assert refused["reason"].startswith(f"invalid YAML front matter on line {3 + FIRST_REFUSED}:")
    assert f"{bomb}: invalid YAML front matter on line {3 + FIRST_REFUSED}" in result.stderr


def test_import_catalog_refuses_a_bomb_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "good.yaml").write_text(
        "catalog: 1\nservices:\n  - {name: api, owner: t}\n", encoding="utf-8"
    )
    bomb = folder / "bomb.yaml"
    bomb.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: bomb\n  annotations:\n"
        + "".join(f"    {line}\n" for line in LAUGHS)
        + "spec: {type: service, owner: t}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"

    result = run("import", "catalog", str(folder), "--json", data_dir=data, program=capped())

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert (report["services"], report["added"]) == (1, 1)
    [refused] = report["refused"]
    assert refused["path"] == str(bomb)
    assert refused["reason"].startswith(f"invalid YAML on line {6 + FIRST_REFUSED}: aliases")
