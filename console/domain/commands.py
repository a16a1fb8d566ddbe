"""The quick-entry line: plain text is a note, a leading slash is a command."""

from __future__ import annotations

from dataclasses import dataclass

from console.domain.errors import InvalidInputError
from console.domain.incident import (
    Role,
    Severity,
    Status,
    check_role_change,
    check_severity_change,
    check_transition,
    parse_role,
    parse_severity,
    parse_status,
)


@dataclass(frozen=True)
class AddNote:
    text: str


@dataclass(frozen=True)
class SetSeverity:
    severity: Severity


@dataclass(frozen=True)
class SetStatus:
    status: Status


@dataclass(frozen=True)
class AssignRole:
    role: Role
    person: str


@dataclass(frozen=True)
class TickItem:
    number: int  # 1-based position in the visible checklist


@dataclass(frozen=True)
class CorrectLast:
    text: str


QuickCommand = AddNote | SetSeverity | SetStatus | AssignRole | TickItem | CorrectLast

ROLE_COMMANDS = {"ic": "ic", "comms": "comms", "cl": "comms", "ops": "ops", "scribe": "scribe"}

HELP = (
    "Type a note and press Enter. Commands: /sev 1-4 · /status triage|mitigating|resolved|"
    "post-incident|closed · /ic NAME · /comms NAME · /ops NAME · /scribe NAME · "
    "/done N (tick checklist item N) · /fix TEXT (correct your last note) · "
    "//text logs a note that starts with a slash"
)


def parse_quick_entry(line: str) -> QuickCommand:
    text = line.strip()
    if not text:
        raise InvalidInputError("nothing to log: type a note or a /command")
    if text.startswith("//"):
        return AddNote(text[1:])
    if not text.startswith("/"):
        return AddNote(text)
    name, _, rest = text[1:].partition(" ")
    name = name.lower()
    rest = rest.strip()
    if name in ("sev", "severity"):
        return SetSeverity(parse_severity(_need(rest, "/sev 1")))
    if name in ("status", "st"):
        return SetStatus(parse_status(_need(rest, "/status mitigating")))
    if name in ("resolve", "resolved"):
        return SetStatus(Status.RESOLVED)
    if name in ROLE_COMMANDS:
        return AssignRole(parse_role(ROLE_COMMANDS[name]), _need(rest, f"/{name} Alex Doe"))
    if name == "role":
        role_name, _, person = rest.partition(" ")
        return AssignRole(
            parse_role(_need(role_name, "/role ic Alex")), _need(person.strip(), "/role ic Alex")
        )
    if name in ("done", "tick"):
        raw = _need(rest, "/done 2")
        if not raw.isdigit() or int(raw) < 1:
            raise InvalidInputError(f"/done takes a checklist item number, not {raw!r}")
        return TickItem(int(raw))
    if name in ("fix", "correct"):
        return CorrectLast(_need(rest, "/fix corrected text"))
    raise InvalidInputError(f"unknown command /{name}. {HELP}")


def _need(value: str, example: str) -> str:
    if not value:
        raise InvalidInputError(f"this command needs a value, e.g. {example}")
    return value


@dataclass(frozen=True)
class KnownState:
    """What the screen knows about the incident when a line is submitted."""

    severity: Severity
    status: Status
    roles: tuple[tuple[Role, str], ...] = ()
    #: the number of checklist items listed (``/done N`` counts in this list)
    checklist_size: int | None = None


def check_quick_entry(line: str, state: KnownState) -> QuickCommand:
    """Parse ``line`` and check it against the incident as known, with the same rules the
    operations apply — so a bad command is refused before the line leaves the input
    (the writer still checks: the state may have moved on since)."""
    command = parse_quick_entry(line)
    match command:
        case SetSeverity(severity=severity):
            check_severity_change(state.severity, state.status, severity)
        case SetStatus(status=status):
            check_transition(state.status, status)
        case AssignRole(role=role, person=person):
            held = dict(state.roles).get(role)
            check_role_change(state.status, role, held, person.strip())
        case TickItem(number=number):
            size = state.checklist_size
            if size is not None and number > size:
                raise InvalidInputError(
                    f"there is no checklist item {number}; the checklist has {size} items"
                )
        case _:
            pass
    return command
