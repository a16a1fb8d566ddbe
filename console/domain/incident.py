"""Incident domain: lifecycle, severities, roles, timeline entry kinds. Pure Python."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from console.domain.errors import IllegalTransitionError, InvalidInputError


class Status(enum.StrEnum):
    OPEN = "open"
    TRIAGE = "triage"
    MITIGATING = "mitigating"
    RESOLVED = "resolved"
    POST_INCIDENT = "post-incident"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ").capitalize()

    @property
    def is_active(self) -> bool:
        """Still being fought (reminders fire, the incident is listed as live)."""
        return self in (Status.OPEN, Status.TRIAGE, Status.MITIGATING)


#: The allowed moves. Forward along the lifecycle, with the steps a real incident
#: takes back: a fix that did not hold reopens mitigation, a resolved incident can
#: regress, and triage may find the mitigation was premature.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.TRIAGE, Status.MITIGATING, Status.RESOLVED}),
    Status.TRIAGE: frozenset({Status.MITIGATING, Status.RESOLVED}),
    Status.MITIGATING: frozenset({Status.TRIAGE, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.MITIGATING, Status.POST_INCIDENT, Status.CLOSED}),
    Status.POST_INCIDENT: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def parse_status(text: str) -> Status:
    cleaned = text.strip().lower().replace("_", "-").replace(" ", "-")
    if cleaned in ("postincident", "post"):
        cleaned = Status.POST_INCIDENT.value
    try:
        return Status(cleaned)
    except ValueError:
        names = ", ".join(s.value for s in Status)
        raise InvalidInputError(f"unknown status {text!r}; use one of: {names}") from None


def check_transition(current: Status, target: Status) -> None:
    """Raise :class:`IllegalTransitionError` with the reason if ``current → target`` is refused."""
    if target == current:
        raise IllegalTransitionError(f"the incident is already {current.value}")
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    if not allowed:
        raise IllegalTransitionError(
            f"the incident is {current.value}: a closed incident cannot change state"
        )
    options = ", ".join(sorted(s.value for s in allowed))
    raise IllegalTransitionError(
        f"cannot move from {current.value} to {target.value}; from {current.value} the "
        f"next state is one of: {options}"
    )


class Severity(enum.StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        return int(self.value[-1])

    @property
    def definition(self) -> str:
        return SEVERITY_DEFINITIONS[self]


SEVERITY_DEFINITIONS: dict[Severity, str] = {
    Severity.SEV1: (
        "Critical: the product is down or unusable for most customers, data is being lost "
        "or exposed, or revenue is stopped. All hands; status page and executives informed."
    ),
    Severity.SEV2: (
        "Major: a core feature is broken or badly degraded for many customers, or a SEV1 is "
        "likely if nothing is done soon. Dedicated responders; customers informed."
    ),
    Severity.SEV3: (
        "Minor: a non-core feature is broken or a small group of customers is affected; "
        "a workaround exists. Fixed in working hours by the owning team."
    ),
    Severity.SEV4: (
        "Low: no customer impact yet (a redundancy lost, a warning trend, an internal tool "
        "degraded). Tracked and fixed as normal work."
    ),
}


def check_severity_change(current: Severity, status: Status, target: Severity) -> None:
    """Raise :class:`InvalidInputError` if the severity cannot move ``current → target``."""
    if current is target:
        raise InvalidInputError(f"the incident is already {target.value}")
    if status is Status.CLOSED:
        raise InvalidInputError("a closed incident's severity cannot change")


def check_role_change(status: Status, role: Role, held_by: str | None, person: str) -> None:
    """Raise :class:`InvalidInputError` if ``person`` cannot be given ``role`` now."""
    if status is Status.CLOSED:
        raise InvalidInputError("roles of a closed incident cannot change")
    if held_by is not None and held_by == person:
        raise InvalidInputError(f"{person} is already {role.label.lower()}")


def parse_severity(text: str) -> Severity:
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    if cleaned.isdigit():
        cleaned = f"SEV{cleaned}"
    if cleaned.startswith("S") and not cleaned.startswith("SEV") and cleaned[1:].isdigit():
        cleaned = f"SEV{cleaned[1:]}"
    try:
        return Severity(cleaned)
    except ValueError:
        raise InvalidInputError(
            f"unknown severity {text!r}; use SEV1, SEV2, SEV3 or SEV4"
        ) from None


class UsersAffected(enum.StrEnum):
    NONE = "none"
    FEW = "few"  # a handful of customers or one small segment
    MANY = "many"  # a large share of customers or a whole region
    ALL = "all"


@dataclass(frozen=True)
class TriageAnswers:
    users_affected: UsersAffected
    revenue_at_risk: bool
    data_at_risk: bool
    workaround_exists: bool


@dataclass(frozen=True)
class TriageSuggestion:
    severity: Severity
    reason: str


def suggest_severity(answers: TriageAnswers) -> TriageSuggestion:
    """The triage helper: impact in, a severity and the reason out."""
    if answers.data_at_risk:
        return TriageSuggestion(Severity.SEV1, "customer data is at risk of loss or exposure")
    if answers.users_affected is UsersAffected.ALL:
        return TriageSuggestion(Severity.SEV1, "all customers are affected")
    if answers.users_affected is UsersAffected.MANY and answers.revenue_at_risk:
        return TriageSuggestion(Severity.SEV1, "many customers are affected and revenue is at risk")
    if answers.users_affected is UsersAffected.MANY:
        if answers.workaround_exists:
            return TriageSuggestion(
                Severity.SEV3, "many customers are affected but a workaround exists"
            )
        return TriageSuggestion(Severity.SEV2, "many customers are affected with no workaround")
    if answers.revenue_at_risk:
        return TriageSuggestion(Severity.SEV2, "revenue is at risk")
    if answers.users_affected is UsersAffected.FEW:
        return TriageSuggestion(Severity.SEV3, "a small group of customers is affected")
    return TriageSuggestion(Severity.SEV4, "no customer impact yet")


class Role(enum.StrEnum):
    INCIDENT_COMMANDER = "incident_commander"
    COMMUNICATIONS_LEAD = "communications_lead"
    OPERATIONS_LEAD = "operations_lead"
    SCRIBE = "scribe"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def short(self) -> str:
        return ROLE_SHORT[self]


ROLE_LABELS = {
    Role.INCIDENT_COMMANDER: "Incident commander",
    Role.COMMUNICATIONS_LEAD: "Communications lead",
    Role.OPERATIONS_LEAD: "Operations lead",
    Role.SCRIBE: "Scribe",
}
ROLE_SHORT = {
    Role.INCIDENT_COMMANDER: "IC",
    Role.COMMUNICATIONS_LEAD: "Comms",
    Role.OPERATIONS_LEAD: "Ops",
    Role.SCRIBE: "Scribe",
}


def parse_role(text: str) -> Role:
    cleaned = text.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {
        "ic": Role.INCIDENT_COMMANDER,
        "commander": Role.INCIDENT_COMMANDER,
        "comms": Role.COMMUNICATIONS_LEAD,
        "cl": Role.COMMUNICATIONS_LEAD,
        "communications": Role.COMMUNICATIONS_LEAD,
        "ops": Role.OPERATIONS_LEAD,
        "ol": Role.OPERATIONS_LEAD,
        "operations": Role.OPERATIONS_LEAD,
        "scribe": Role.SCRIBE,
    }
    if cleaned in aliases:
        return aliases[cleaned]
    try:
        return Role(cleaned)
    except ValueError:
        raise InvalidInputError(f"unknown role {text!r}; use ic, comms, ops or scribe") from None


class EntryKind(enum.StrEnum):
    """What a timeline entry records. Entries are append-only."""

    DECLARED = "declared"
    NOTE = "note"
    STATUS_CHANGE = "status_change"
    SEVERITY_CHANGE = "severity_change"
    ROLE_CHANGE = "role_change"
    CHECKLIST_DONE = "checklist_done"
    RUNBOOK_STEP = "runbook_step"
    COMMAND_COPIED = "command_copied"
    COMMUNICATION = "communication"
    STATUS_UPDATE = "status_update"  # a filled-in communication template, sent
    CORRECTION = "correction"
    REMOTE = "remote"
    IMPORTED = "imported"  # merged from a log or alert export, backdated

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")
