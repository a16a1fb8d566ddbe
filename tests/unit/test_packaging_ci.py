"""The Windows and macOS workflow definitions (packaging/ci/): they cannot run here, so check
that they parse, that every secret they read is documented step by step in
packaging/README.md, and that every file of ours they name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / "packaging" / "ci").glob("*.yml"))
README = (REPO / "packaging" / "README.md").read_text(encoding="utf-8")


def test_both_platforms_have_a_workflow() -> None:
    assert [w.name for w in WORKFLOWS] == ["macos.yml", "windows.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_parses_and_its_secrets_are_documented(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    steps = document["jobs"]["build"]["steps"]
    assert any("PyInstaller" in str(step.get("run", "")) for step in steps)
    assert any("--sums-only" in str(step.get("run", "")) for step in steps)
    assert any(
        "RESPONDER_CONSOLE_BENCH_FIRST_PAINT=1" in str(step.get("run", "")) for step in steps
    )
    secrets = set(re.findall(r"secrets\.([A-Z0-9_]+)", text))
    assert secrets, "a signing workflow reads its certificates from secrets"
    for name in sorted(secrets):
        assert f"`{name}`" in README, f"{workflow.name}: secret {name} not in packaging/README.md"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_files_named_by_the_workflow_exist(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    named = set(re.findall(r"\b((?:packaging|resources)/[\w./-]+\.\w+)", text))
    assert "packaging/responder-console.spec" in named
    for path in sorted(named):
        assert (REPO / path).is_file(), f"{workflow.name} names {path}, which does not exist"
    if workflow.name == "windows.yml":
        assert r"packaging\windows\responder-console.iss" in text
        assert (REPO / "packaging/windows/responder-console.iss").is_file()
