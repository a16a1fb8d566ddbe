"""SQLAlchemy 2 typed models. The schema is owned by the Alembic migrations.

Every row a user can create carries a UUID so exports from two laptops merge
without conflicts. Timestamps are stored in UTC as fixed-width ISO-8601 text,
which sorts correctly and stays readable in a forensic look at the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_utc(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime reached storage; pass an aware datetime")
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_utc(text: str) -> datetime:
    # fromisoformat (3.11+) reads the trailing Z and is ~50x faster than strptime,
    # which matters when a timeline page converts hundreds of timestamps.
    return datetime.fromisoformat(text)


class UTCDateTime(TypeDecorator[datetime]):
    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else format_utc(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return None if value is None else parse_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        UUID: Uuid(as_uuid=True),
        dict[str, Any]: JSON(),
        str: Text(),
    }


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    title: Mapped[str]
    severity: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))
    declared_at: Mapped[datetime]
    declared_by: Mapped[str]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: highest timeline seq; entries are numbered 1..last_seq without gaps
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(default="")

    __table_args__ = (Index(None, "status"),)


class TimelineEntryRow(Base):
    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    author: Mapped[str]
    text: Mapped[str]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    supersedes: Mapped[UUID | None]
    source: Mapped[str] = mapped_column(String(16), default="local")
    remote_id: Mapped[str | None]

    # Partial indexes: corrections and pulled remote entries are rare, so a plain
    # local note writes no page of these two indexes (the hot path stays lean).
    __table_args__ = (
        UniqueConstraint("incident_id", "seq"),
        Index(
            "uq_timeline_entries_source_remote_id",
            "source",
            "remote_id",
            unique=True,
            sqlite_where=sql_text("remote_id IS NOT NULL"),
        ),
        Index(None, "supersedes", sqlite_where=sql_text("supersedes IS NOT NULL")),
    )


class RoleAssignmentRow(Base):
    __tablename__ = "role_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    person: Mapped[str]
    assigned_at: Mapped[datetime]
    assigned_by: Mapped[str]
    ended_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "incident_id", "role"),)


class ChecklistItemRow(Base):
    __tablename__ = "checklist_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    template_id: Mapped[str]
    item_key: Mapped[str]
    role: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str]
    position: Mapped[int] = mapped_column(Integer)
    every_minutes: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None]

    __table_args__ = (
        UniqueConstraint("incident_id", "item_key"),
        Index(None, "due_at"),
    )


class OutboxRow(Base):
    """One remote operation, written in the same transaction as the local change.

    States: pending → sent → done, or failed (with ``last_error`` shown to the
    user, who retries or discards it). Ordered per incident by ``id``.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    entry_uuid: Mapped[UUID | None]
    operation: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    #: what the vendor calls the thing this operation made (incident or note id), once confirmed
    remote_id: Mapped[str | None]

    __table_args__ = (Index(None, "state", "incident_id", "id"),)


class SyncAccount(Base):
    """A PagerDuty or Opsgenie account the outbox is pushed to. Written only by
    console.sync.accounts (settings) and console.sync.pusher (health). The token is
    never here: it lives in the OS keyring or the environment (console.sync.tokens)."""

    __tablename__ = "sync_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the vendor ("pagerduty", "opsgenie"); one account per vendor for now
    vendor: Mapped[str] = mapped_column(String(16), unique=True)
    base_url: Mapped[str]
    #: PagerDuty's required ``From`` header (a user's e-mail)
    from_email: Mapped[str | None]
    #: the vendor service incidents go to when their services carry no vendor id
    default_service: Mapped[str | None]
    #: Opsgenie: what a local incident becomes there, "alert" or "incident" (0012)
    mode: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: set when the vendor refused the token (401/403): nothing is sent until cleared
    stopped_at: Mapped[datetime | None]
    stopped_reason: Mapped[str | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None]


class RemoteIncidentRow(Base):
    """The vendor's id for a local incident, recorded once its creation is confirmed."""

    __tablename__ = "remote_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("sync_accounts.id", ondelete="CASCADE"))
    remote_id: Mapped[str]
    #: the client dedup handle sent on creation (PagerDuty ``incident_key``, Opsgenie ``alias``)
    dedup_key: Mapped[str]
    html_url: Mapped[str | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("account_id", "incident_id"),
        UniqueConstraint("account_id", "remote_id"),
    )


class Service(Base):
    """A catalog entity that is a node of the dependency graph: a Component, Resource,
    API, System or Domain (``kind``, lower case). Written only by
    console.importers.catalog (and the demo, through it)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    #: ``kind:namespace/name`` in lower case (console.domain.catalog.EntityRef.key)
    ref: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    namespace: Mapped[str] = mapped_column(default="default")
    kind: Mapped[str] = mapped_column(String(16), default="component")
    title: Mapped[str | None]
    #: ``spec.type``: service, website, library, database, openapi, …
    spec_type: Mapped[str | None]
    lifecycle: Mapped[str | None]
    #: the owner's name (``team-a``); ``owner_ref`` is its full key (``group:default/team-a``)
    owner: Mapped[str | None]
    owner_ref: Mapped[str | None]
    #: key of the System it belongs to
    system: Mapped[str | None]
    tier: Mapped[str | None]
    description: Mapped[str] = mapped_column(default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``metadata.annotations`` as given (``pagerduty.com/service-id``,
    #: ``backstage.io/techdocs-ref``)
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: ``metadata.links``: [{"url", "title"}]
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: the relation targets as written ({"dependsOn": ["resource:db"], …}); the edges in
    #: service_dependencies are rebuilt from these after every import
    relations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the import root (file or folder as given, absolute) or "demo"; a re-import of the
    #: same root replaces its set
    source: Mapped[str] = mapped_column(default="local")
    source_file: Mapped[str | None]
    imported_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "name"), Index(None, "source"))


class ServiceDependency(Base):
    """``service_id`` depends on ``depends_on_id`` (if the second breaks, the first is in
    its blast radius). ``kind``: depends (dependsOn/dependencyOf), api (consumes or
    provides an API), part (a system on its components, a component on its parts)."""

    __tablename__ = "service_dependencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), default="depends")

    __table_args__ = (
        UniqueConstraint("service_id", "depends_on_id"),
        Index(None, "depends_on_id"),
    )


class CatalogOwnerRow(Base):
    """A Backstage Group or User (or a team of our own catalog format): who owns services."""

    __tablename__ = "catalog_owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    #: ``group:namespace/name`` or ``user:namespace/name``, lower case
    ref: Mapped[str] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    namespace: Mapped[str]
    name: Mapped[str]
    #: ``spec.profile.displayName``
    title: Mapped[str | None]
    email: Mapped[str | None]
    #: a Group's parent group key
    parent: Mapped[str | None]
    #: a Group's member keys, a User's group keys (``memberOf``)
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str]
    source_file: Mapped[str | None]
    imported_at: Mapped[datetime]

    __table_args__ = (Index(None, "source"),)


class IncidentServiceRow(Base):
    """A service an incident names as affected. Keyed by the service's ref (text), not
    its row: the incident keeps what was named even if a later catalog import drops
    or re-creates the service, and finds it again when it comes back."""

    __tablename__ = "incident_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    service_ref: Mapped[str]
    #: the name as shown when it was named (the label of the ref)
    service_name: Mapped[str]

    __table_args__ = (UniqueConstraint("incident_id", "service_ref"), Index(None, "service_ref"))


class Person(Base):
    """A contact. Merged on import by e-mail (stored lower-case), then by ``name_key``.

    Reach methods, teams and vendor references live in their own tables
    (migration 0004): one row per number or handle, so a person can have two
    mobiles and a backup line, and a number can be flagged on its own.
    """

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    name: Mapped[str]
    #: casefolded, white space collapsed: the key of the "then by name" merge and match
    name_key: Mapped[str] = mapped_column(index=True)
    email: Mapped[str | None] = mapped_column(unique=True)
    #: the vendor's id, e.g. ``pagerduty:PXPGF42`` (schedule entries name users by id)
    vendor_ref: Mapped[str | None] = mapped_column(unique=True)
    source: Mapped[str] = mapped_column(default="local")
    updated_at: Mapped[datetime]


class ReachMethodRow(Base):
    """One way to reach a person. ``value`` is kept as written; ``e164`` is the
    normalised number when it parsed, and ``problem`` says why it did not."""

    __tablename__ = "reach_methods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str]
    e164: Mapped[str | None] = mapped_column(String(16))
    #: the same number for reading: ``+44 20 7946 0123``
    formatted: Mapped[str | None]
    label: Mapped[str] = mapped_column(default="")
    problem: Mapped[str | None]

    __table_args__ = (UniqueConstraint("person_id", "kind", "value"),)


class ChangeToken(Base):
    """A random value renewed by triggers whenever a watched set changes (migration
    0009): ``people`` (people, reach methods) and ``schedules``. Readers that keep
    something built from a set reuse it while the token is the same."""

    __tablename__ = "change_tokens"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    token: Mapped[bytes] = mapped_column(LargeBinary)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index(None, "person_id"),)


class Schedule(Base):
    """An on-call schedule, cached as concrete shifts. ``key`` names its origin:
    ``pagerduty:PI7DH85``, ``opsgenie:<id>``, ``ical:<calendar name>``."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    key: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    time_zone: Mapped[str | None]
    source: Mapped[str]
    imported_at: Mapped[datetime]
    #: the longest finite shift's length in seconds: bounds the lookup's index range
    longest_shift_s: Mapped[int] = mapped_column(Integer, default=0)
    #: some shift never ends (a vendor's "always on call"): looked up on its own
    has_permanent: Mapped[bool] = mapped_column(default=False)
    #: the end of the last finite shift: how far ahead the cache reaches
    covered_until: Mapped[datetime | None]


class ShiftRow(Base):
    """Someone on call in a schedule from ``start_at`` (inclusive) to ``end_at`` (exclusive).

    Overrides win over layers; among layers the higher ``priority`` wins."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    person_name: Mapped[str]
    #: ``name_key(person_name)``: matches ``people.name_key`` inside the lookup's SQL
    person_key: Mapped[str]
    #: lower-case, as ``people.email``
    person_email: Mapped[str | None]
    person_ref: Mapped[str | None]
    layer: Mapped[str] = mapped_column(default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    override: Mapped[bool] = mapped_column(default=False)

    # start_at: the "who is on call at T" range scan; (schedule_id, start_at, end_at):
    # a schedule's shifts in order without touching the table (gaps: 3x faster than
    # without end_at in the index, measured on 50,000 shifts).
    __table_args__ = (
        Index(None, "start_at"),
        Index(None, "schedule_id", "start_at", "end_at"),
    )


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    #: ``pagerduty:PT20YPA``, or ``local:<name>`` for the demo and hand-made policies
    key: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    #: how many times the whole chain repeats after the last level (PagerDuty num_loops)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str]
    imported_at: Mapped[datetime]


class EscalationLevel(Base):
    __tablename__ = "escalation_levels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policies.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    #: minutes to wait at this level before escalating to the next
    delay_minutes: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("policy_id", "level"),)


class EscalationTarget(Base):
    """Who a level pages: a person (by e-mail or vendor ref), a schedule (by key) or a team."""

    __tablename__ = "escalation_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("escalation_levels.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str]
    name: Mapped[str]

    __table_args__ = (Index(None, "level_id"),)


class ServicePolicy(Base):
    """A service (by name, as in ``services.name``) and the policy that pages for it."""

    __tablename__ = "service_policies"

    service_name: Mapped[str] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="CASCADE"), index=True
    )


class PostmortemRow(Base):
    """An incident's postmortem: editable Markdown, drafted from the timeline once and
    then owned by people (a re-draft is an explicit choice, never automatic)."""

    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    markdown: Mapped[str]
    drafted_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str]


class ActionItemRow(Base):
    """A follow-up from a postmortem. ``due_on`` is a calendar date (YYYY-MM-DD): an
    item is overdue the day after it. kind: detect / prevent / mitigate; status:
    open / in_progress / done / dropped; priority P1..P4."""

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str]
    owner: Mapped[str]
    due_on: Mapped[str | None] = mapped_column(String(10))
    priority: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    created_by: Mapped[str]
    done_at: Mapped[datetime | None]

    __table_args__ = (Index(None, "status", "due_on"),)


class AuditRunRow(Base):
    """One readiness audit (console.audit): the area scores and finding counts, kept so
    the next audit shows the trend. Findings are recomputed each time, not stored."""

    __tablename__ = "audit_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    ran_at: Mapped[datetime] = mapped_column(index=True)
    ran_by: Mapped[str]
    #: area → score 0..100, or null when the area had nothing to check
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: {"severity": {"high": n, …}, "area": {"owned": n, …}}
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    findings: Mapped[int] = mapped_column(Integer)


class CacheSet(Base):
    """When and from where a cached set (catalog, people, schedules, sync) came."""

    __tablename__ = "cache_sets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    fetched_at: Mapped[datetime]
    source: Mapped[str]


class RunbookSource(Base):
    """A folder (or file) of runbooks imported as one: a *source* (migration 0017).

    Runbook ids are unique within their source (``runbooks.local_id``); the public
    id (``runbooks.slug``) is unique across sources. Written only by
    console.importers.runbooks.
    """

    __tablename__ = "runbook_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: short unique name (a slug of the folder's name), the prefix of its ids when
    #: another source already holds the same id
    name: Mapped[str] = mapped_column(unique=True)
    #: absolute folder (or file) as given, symlinks not resolved
    path: Mapped[str] = mapped_column(unique=True)
    #: the format family most of its runbooks were read in (runbook_formats.FORMATS)
    kind: Mapped[str] = mapped_column(String(32))
    #: ``folder``; ``pack`` (a content pack's runbooks); ``legacy`` (made by 0017
    #: from the runbooks imported before sources existed)
    origin: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime]
    imported_at: Mapped[datetime | None]
    #: what the last import of it did: new, updated, unchanged, removed, refused,
    #: skipped, warnings (JSON object; ``{}`` before its first import)
    last_import: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RunbookRow(Base):
    """An imported runbook file. Written only by console.importers.runbooks.

    An FTS5 table indexes it (raw SQL in migrations 0002 … 0015, kept in step by
    triggers, outside this metadata: see :data:`FTS_TABLES`): ``runbooks_fts``,
    unicode61, its words and, in two more columns, its CJK text as pairs.
    """

    __tablename__ = "runbooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(unique=True)
    #: the runbook's id, unique in the library: its ``local_id``, or
    #: ``<source name>:<local_id>`` when another source held that id first (an id
    #: once given never changes: timeline entries name runbooks by it)
    slug: Mapped[str] = mapped_column(unique=True)
    #: the ``runbook_sources`` row it was imported from (never NULL after 0017: the
    #: importer sets it). No declared reference: SQLite adds such a column only
    #: nullable and can never drop it again in place (a rebuilt table would lose
    #: the word index's triggers); the importer is this table's only writer.
    source_id: Mapped[int | None] = mapped_column(Integer)
    #: front-matter ``id``, else the slug of the path relative to the import root:
    #: unique within its source
    local_id: Mapped[str] = mapped_column(Text, server_default=sql_text("''"))
    title: Mapped[str]
    #: absolute source path as given (symlinks not resolved)
    path: Mapped[str] = mapped_column(unique=True)
    source_root: Mapped[str]
    content_hash: Mapped[str] = mapped_column(String(64))
    mtime_ns: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    body: Mapped[str]
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    symptoms: Mapped[list[str]] = mapped_column(JSON, default=list)
    alerts: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity_hint: Mapped[str | None]
    owner: Mapped[str | None]
    #: ISO date (YYYY-MM-DD) or NULL: never reviewed
    last_reviewed: Mapped[str | None] = mapped_column(String(10))
    review_every_days: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime]
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the CJK runs of the name columns (title … owner) as character pairs
    #: (console.domain.runbook.cjk_bigrams): what the word index's ``cjk_names``
    #: takes, stored so that a delete hands it exactly that (migration 0015)
    cjk_names: Mapped[str] = mapped_column(Text, default="", server_default=sql_text("''"))
    #: the same of the body (``cjk_body``)
    cjk_body: Mapped[str] = mapped_column(Text, default="", server_default=sql_text("''"))
    #: the format the file was read as (console.importers.runbook_formats.FORMATS)
    format: Mapped[str] = mapped_column(
        String(32), default="markdown", server_default=sql_text("'markdown'")
    )
    #: a folder's README, ``index.md``, Hugo's ``_index.md`` or a wiki's Home: a landing page
    landing: Mapped[bool] = mapped_column(default=False, server_default=sql_text("0"))
    #: what the import found wrong but showed anyway (texts; migration 0016)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=sql_text("'[]'"))
    #: the page's place in its site's navigation (mkdocs.yml nav, weight, sidebar_position)
    nav_order: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index(None, "owner"),
        Index(None, "source_root"),
        Index(None, "source_id", "local_id", unique=True),
    )


#: FTS5 tables (and their shadow tables) made with raw SQL in the migrations.
#: SQLAlchemy metadata cannot describe virtual tables, so schema comparisons
#: (tests, ``alembic check``) skip them through :func:`include_name`.
FTS_TABLES = ("runbooks_fts",)


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the raw-SQL FTS5 tables out of comparisons."""
    if type_ == "table" and name is not None:
        return not name.startswith(FTS_TABLES)
    return True


class TrustedPackKey(Base):
    """A team's public key pinned for ``pack import`` (several: key rotation)."""

    __tablename__ = "trusted_pack_keys"

    #: minisign's key id as it prints it (16 hex digits)
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: the base64 line of the minisign public key file
    public_key: Mapped[str]
    comment: Mapped[str]
    added_at: Mapped[datetime]


class PackInstall(Base):
    """A content pack applied to this workspace: the newest per publisher bars rollbacks."""

    __tablename__ = "pack_installs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publisher: Mapped[str]
    version: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(16))
    #: BLAKE2b-512 of the pack file (what the signature covers), hex
    digest: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str]
    files: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime]
    expires: Mapped[datetime | None]
    installed_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("publisher", "version"),)
