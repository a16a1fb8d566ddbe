"""Load checklist templates (YAML) from resources/ or a team's folder."""

from __future__ import annotations

from pathlib import Path

from console import safe_yaml
from console.domain.checklist import ChecklistTemplate, parse_templates
from console.domain.errors import InvalidInputError
from console.resources import resources_dir


def default_templates_dir() -> Path:
    return resources_dir() / "checklists"


def load_templates(folder: Path | None = None) -> list[ChecklistTemplate]:
    """Every ``*.yaml`` in ``folder``; a broken file raises an error naming it."""
    folder = folder or default_templates_dir()
    templates: list[ChecklistTemplate] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInputError(f"{path}: not valid YAML (not UTF-8: {error})") from error
        try:
            document = safe_yaml.load(text)
        except safe_yaml.NestingError as error:
            raise InvalidInputError(f"{path}: not valid YAML: {error}") from None
        except safe_yaml.LOAD_ERRORS:
            reason = safe_yaml.yaml_error_reason(text)
            raise InvalidInputError(f"{path}: not valid YAML{reason}") from None
        templates.extend(parse_templates(document, source=str(path)))
    ids = [t.id for t in templates]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidInputError(f"{folder}: template ids used twice: {', '.join(duplicates)}")
    return templates
