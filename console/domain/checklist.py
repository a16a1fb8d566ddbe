"""Checklist templates: which items an incident gets, by severity and role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.domain.errors import InvalidInputError
from console.domain.incident import Role, Severity, parse_role, parse_severity

TEMPLATE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class TemplateItem:
    key: str
    title: str
    every_minutes: int | None = None


@dataclass(frozen=True)
class ChecklistTemplate:
    id: str
    title: str
    severities: frozenset[Severity]
    role: Role | None  # None: instantiated when the incident is declared
    items: tuple[TemplateItem, ...]

    def applies(self, severity: Severity, role: Role | None) -> bool:
        return severity in self.severities and self.role == role


def parse_templates(document: Any, *, source: str) -> list[ChecklistTemplate]:
    """Turn a loaded YAML document into templates; errors name ``source`` and the place."""
    if not isinstance(document, Mapping):
        raise InvalidInputError(f"{source}: expected a mapping with 'version' and 'templates'")
    version = document.get("version")
    if version != TEMPLATE_FORMAT_VERSION:
        raise InvalidInputError(
            f"{source}: unsupported template version {version!r} "
            f"(this console reads version {TEMPLATE_FORMAT_VERSION})"
        )
    raw_templates = document.get("templates")
    if not isinstance(raw_templates, list):
        raise InvalidInputError(f"{source}: 'templates' must be a list")
    result: list[ChecklistTemplate] = []
    for index, raw in enumerate(raw_templates):
        where = f"{source}: template #{index + 1}"
        if not isinstance(raw, Mapping):
            raise InvalidInputError(f"{where}: expected a mapping")
        template_id = _required_str(raw, "id", where)
        where = f"{source}: template {template_id!r}"
        severities_raw = raw.get("severities", [s.value for s in Severity])
        if not isinstance(severities_raw, list) or not severities_raw:
            raise InvalidInputError(f"{where}: 'severities' must be a non-empty list")
        role_raw = raw.get("role")
        try:
            severities = frozenset(parse_severity(str(s)) for s in severities_raw)
            role = parse_role(str(role_raw)) if role_raw else None
        except InvalidInputError as error:  # name the file and template, not just the value
            raise InvalidInputError(f"{where}: {error}") from None
        items_raw = raw.get("items")
        if not isinstance(items_raw, list) or not items_raw:
            raise InvalidInputError(f"{where}: 'items' must be a non-empty list")
        items = tuple(
            _parse_item(item, f"{where} item #{n + 1}", template_id, n)
            for n, item in enumerate(items_raw)
        )
        keys = [item.key for item in items]
        if len(set(keys)) != len(keys):
            raise InvalidInputError(f"{where}: item keys must be unique")
        result.append(
            ChecklistTemplate(
                id=template_id,
                title=str(raw.get("title", template_id)),
                severities=severities,
                role=role,
                items=items,
            )
        )
    ids = [t.id for t in result]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(f"{source}: template ids must be unique")
    return result


def _parse_item(raw: Any, where: str, template_id: str, index: int) -> TemplateItem:
    if isinstance(raw, str):
        return TemplateItem(key=f"{template_id}.{index + 1}", title=raw)
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where}: expected text or a mapping")
    title = _required_str(raw, "title", where)
    every = raw.get("every_minutes")
    if every is not None and (not isinstance(every, int) or isinstance(every, bool) or every < 1):
        raise InvalidInputError(f"{where}: 'every_minutes' must be a whole number ≥ 1")
    key = str(raw.get("key") or f"{template_id}.{index + 1}")
    return TemplateItem(key=key, title=title, every_minutes=every)


def _required_str(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where}: '{name}' is required and must be text")
    return value.strip()


def templates_for(
    templates: Iterable[ChecklistTemplate], severity: Severity, role: Role | None
) -> list[ChecklistTemplate]:
    return [t for t in templates if t.applies(severity, role)]


def next_due(previous_due: datetime | None, done_at: datetime, every_minutes: int) -> datetime:
    """When a recurring item is due again after being done at ``done_at``.

    The cadence restarts from the moment it was done: an update posted late
    does not make the next one due sooner.
    """
    del previous_due  # cadence is anchored on completion, not on the old due time
    return done_at + timedelta(minutes=every_minutes)


#: checklist items that naming a role fulfils ("Name an incident commander (/ic NAME)"):
#: assigning the role ticks them (the role-change entry is their record)
ROLE_ITEMS: dict[Role, str] = {
    Role.INCIDENT_COMMANDER: "declare.ic",
    Role.COMMUNICATIONS_LEAD: "major.comms",
}

#: the key suffix of the recurring "post a status update" items (sev1.status-update, …)
STATUS_UPDATE_ITEM = "status-update"


def update_cadence(templates: Iterable[ChecklistTemplate], severity: Severity) -> int | None:
    """Minutes between status updates for ``severity``: the shortest recurring
    ``*.status-update`` item its templates give (SEV1 30, SEV2 60 as shipped), or
    None when updates are sent as needed."""
    minutes = [
        item.every_minutes
        for template in templates
        if severity in template.severities
        for item in template.items
        if item.every_minutes and item.key.endswith(f".{STATUS_UPDATE_ITEM}")
    ]
    return min(minutes) if minutes else None
