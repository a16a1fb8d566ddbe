"""The one setting that finds ../shared (tests/shared.py): skip locally, fail in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import shared


def test_the_default_is_the_folder_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(shared.SETTING, raising=False)
    assert shared.REPOSITORY.parent / "shared" == Path(shared.REPOSITORY.parent, "shared")
    assert (shared.REPOSITORY / "pyproject.toml").is_file()


def test_a_missing_path_names_the_setting(tmp_path: Path) -> None:
    reason = shared.missing_reason((tmp_path / "nope",), "the corpus")
    assert reason is not None
    assert shared.SETTING in reason
    assert str(tmp_path / "nope") in reason
    assert shared.missing_reason((tmp_path,), "the corpus") is None


def test_missing_shared_data_skips_locally(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=shared.SETTING):
        shared.require(tmp_path / "absent", what="the specs")


def test_missing_shared_data_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must have the shared folder"):
        shared.require(tmp_path / "absent", what="the specs")


def test_no_path_outside_the_repository_is_written_into_it() -> None:
    """No absolute path to a developer's machine in the tracked text files."""
    import subprocess

    files = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.txt", "*.toml", "*.yaml", "*.yml", "*.spec"],
        cwd=shared.REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = [
        name
        for name in files
        if str(shared.REPOSITORY.parent) + "/"
        in (shared.REPOSITORY / name).read_text(errors="replace")
    ]
    assert offenders == []
