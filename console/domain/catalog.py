"""The service catalog as values: entity references, entities, problems, and resolution.

Pure: reading YAML lives in :mod:`console.importers.catalog`; storing in the
importer too. What both the importer and the readers agree on is here:

* :class:`EntityRef` and :func:`parse_ref` — Backstage's ``[kind:][namespace/]name``
  references. A missing kind takes the field's default (``owner`` → Group,
  ``system`` → System, ``consumesApis`` → API …); a missing namespace takes the
  *referring entity's* namespace (which itself defaults to ``default``), exactly
  as Backstage's ``BuiltinKindsEntityProcessor`` does. Kinds, namespaces and
  names compare case-insensitively (Backstage's rule); :attr:`EntityRef.key` is
  the lower-cased ``kind:namespace/name`` stored as the unique ``services.ref``.
* :class:`Relation` — each relation field, its default kind and which way the
  dependency edge points (the dependent first: "if the second breaks, the first
  breaks").
* :func:`resolve` — relation targets to edges over a set of entities, with the
  problems found (dangling, ambiguous, self-dependencies) for the entities asked.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.domain.freshness import Freshness

DEFAULT_NAMESPACE = "default"

#: Kinds stored as nodes of the dependency graph (``services.kind``).
SERVICE_KINDS = ("component", "resource", "api", "system", "domain")
#: Kinds stored as owners (``catalog_owners.kind``).
OWNER_KINDS = ("group", "user")
#: Kinds recognised and used while reading, never stored (Location: followed).
READER_KINDS = ("location",)
#: When a ``dependsOn``/``partOf`` target has no kind and several entities share the
#: name, the first kind in this order wins (and the choice is reported).
KIND_PREFERENCE = ("component", "resource", "api", "system", "domain")

#: Entity names: Backstage allows letters, digits and ``-_.``; we refuse only what
#: would break a reference (``:`` and ``/``), white space, and absurd lengths.
MAX_NAME = 253


class CatalogError(ValueError):
    """A reference or entity that cannot be read; the message says what to write."""


@dataclass(frozen=True)
class EntityRef:
    kind: str  # lower case: component, resource, api, system, domain, group, user
    namespace: str
    name: str

    @property
    def key(self) -> str:
        """``kind:namespace/name`` in lower case: the unique identity in storage."""
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    @property
    def label(self) -> str:
        """What a person reads: the name, with its namespace when not ``default``."""
        if self.namespace.lower() == DEFAULT_NAMESPACE:
            return self.name
        return f"{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @classmethod
    def from_key(cls, key: str) -> EntityRef:
        kind, _, rest = key.partition(":")
        namespace, _, name = rest.partition("/")
        return cls(kind, namespace, name)


@dataclass(frozen=True)
class PartialRef:
    """A reference as written, defaults applied; ``kind`` is None when the field has no
    default kind and none was written (``dependsOn: [orders-api]``)."""

    kind: str | None
    namespace: str
    name: str

    def complete(self) -> EntityRef | None:
        return None if self.kind is None else EntityRef(self.kind, self.namespace, self.name)


def check_name(name: object, what: str = "metadata.name") -> str:
    """A usable entity name, or :class:`CatalogError` saying what is wrong with it."""
    if name is None or (isinstance(name, str) and not name.strip()):
        raise CatalogError(f"{what} is missing")
    if isinstance(name, bool) or not isinstance(name, str | int | float):
        raise CatalogError(f"{what} must be a plain name, not a {type(name).__name__}")
    text = str(name).strip()
    if len(text) > MAX_NAME:
        raise CatalogError(f"{what} is {len(text)} characters long; the limit is {MAX_NAME}")
    bad = next((ch for ch in text if ch in ":/" or ch.isspace()), None)
    if bad is not None:
        shown = "a space" if bad.isspace() else f"'{bad}'"
        raise CatalogError(f"{what} {text!r} contains {shown}; names are letters, digits, -_.")
    return text


def parse_ref(text: object, *, default_kind: str | None, default_namespace: str) -> PartialRef:
    """``[kind:][namespace/]name`` with the field's defaults (Backstage's parseEntityRef)."""
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        raise CatalogError(f"a reference must be text like 'component:name', not {text!r}")
    raw = str(text).strip()
    if not raw:
        raise CatalogError("an empty reference")
    kind: str | None = default_kind
    rest = raw
    if ":" in raw:
        kind, _, rest = raw.partition(":")
        kind = kind.strip().lower()
        if not kind:
            raise CatalogError(f"reference {raw!r} has an empty kind before ':'")
    namespace = default_namespace
    if "/" in rest:
        namespace, _, rest = rest.partition("/")
        if not namespace.strip():
            raise CatalogError(f"reference {raw!r} has an empty namespace before '/'")
    name = check_name(rest, f"reference {raw!r}")
    return PartialRef(kind.lower() if kind else None, namespace.strip(), name)


class Relation(enum.StrEnum):
    """A relation field. ``default_kind`` as Backstage defines it for the field;
    ``dependent_is_self``: which end of the edge depends on the other."""

    DEPENDS_ON = "dependsOn"
    DEPENDENCY_OF = "dependencyOf"
    CONSUMES_APIS = "consumesApis"
    PROVIDES_APIS = "providesApis"
    SUBCOMPONENT_OF = "subcomponentOf"
    SYSTEM = "system"
    DOMAIN = "domain"
    SUBDOMAIN_OF = "subdomainOf"
    PART_OF = "partOf"

    @property
    def default_kind(self) -> str | None:
        return _DEFAULT_KIND[self]

    @property
    def edge_kind(self) -> str:
        """``depends`` (runtime dependency), ``api`` (through an API), ``part`` (a whole
        depends on its parts: a system on its components)."""
        return _EDGE_KIND[self]

    @property
    def dependent_is_self(self) -> bool:
        """True when the entity declaring the relation is the one that depends."""
        return self in (Relation.DEPENDS_ON, Relation.CONSUMES_APIS)


_DEFAULT_KIND: dict[Relation, str | None] = {
    Relation.DEPENDS_ON: None,
    Relation.DEPENDENCY_OF: None,
    Relation.CONSUMES_APIS: "api",
    Relation.PROVIDES_APIS: "api",
    Relation.SUBCOMPONENT_OF: "component",
    Relation.SYSTEM: "system",
    Relation.DOMAIN: "domain",
    Relation.SUBDOMAIN_OF: "domain",
    Relation.PART_OF: None,
}
_EDGE_KIND: dict[Relation, str] = {
    Relation.DEPENDS_ON: "depends",
    Relation.DEPENDENCY_OF: "depends",
    Relation.CONSUMES_APIS: "api",
    Relation.PROVIDES_APIS: "api",
    Relation.SUBCOMPONENT_OF: "part",
    Relation.SYSTEM: "part",
    Relation.DOMAIN: "part",
    Relation.SUBDOMAIN_OF: "part",
    Relation.PART_OF: "part",
}


@dataclass(frozen=True)
class CatalogEntity:
    """A Component, Resource, API, System or Domain: a node of the dependency graph."""

    ref: EntityRef
    source_file: str
    line: int
    title: str | None = None
    description: str = ""
    spec_type: str | None = None
    lifecycle: str | None = None
    tier: str | None = None
    #: the owner reference as written (``team-a``, ``user:guest``); None when missing
    owner: str | None = None
    tags: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    links: tuple[Mapping[str, str], ...] = field(default=(), hash=False, compare=False)
    #: relation targets as written, in file order
    relations: tuple[tuple[Relation, str], ...] = ()
    #: the file format it came from: backstage, responder, compose, kubernetes
    origin: str = "backstage"

    @property
    def owner_ref(self) -> EntityRef | None:
        """The owner as a full reference (default kind Group), None if unreadable."""
        return None if self.owner is None else self._full(self.owner, "group")

    @property
    def system_ref(self) -> EntityRef | None:
        """The System it belongs to, as a full reference."""
        for relation, target in self.relations:
            if relation is Relation.SYSTEM:
                return self._full(target, "system")
        return None

    def _full(self, target: str, kind: str) -> EntityRef | None:
        try:
            return parse_ref(
                target, default_kind=kind, default_namespace=self.ref.namespace
            ).complete()
        except CatalogError:
            return None

    def relations_json(self) -> dict[str, list[str]]:
        """The declared relations as stored (``services.relations``)."""
        stored: dict[str, list[str]] = {}
        for relation, target in self.relations:
            stored.setdefault(relation.value, []).append(target)
        return stored


@dataclass(frozen=True)
class CatalogOwner:
    """A Group or User: who owns services (their display name and e-mail)."""

    ref: EntityRef
    source_file: str
    line: int
    title: str | None = None
    email: str | None = None
    #: parent group (a Group's ``spec.parent``) as a key, if any
    parent: str | None = None
    #: a Group's members / a User's groups (``memberOf``), as keys
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogProblem:
    """Something a person should fix in a catalog file; the import went on."""

    path: str
    code: str
    message: str
    entity: str | None = None
    line: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "entity": self.entity,
            "problem": self.code,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        who = f" {self.entity}:" if self.entity else ""
        return f"{where}:{who} {self.message}"


@dataclass(frozen=True)
class CatalogRefusal:
    """A file (or an entity in it) the import did not take, and why."""

    path: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Edge:
    """``dependent`` depends on ``dependency`` (both keys): if the second breaks,
    the first is in its blast radius."""

    dependent: str
    dependency: str
    kind: str = "depends"


@dataclass(frozen=True)
class StoredEntity:
    """What resolution needs of an entity already in the catalog (another source)."""

    key: str
    relations: Mapping[str, Sequence[str]]


@dataclass
class Resolution:
    edges: list[Edge] = field(default_factory=list)
    problems: list[CatalogProblem] = field(default_factory=list)


def resolve(
    entities: Sequence[CatalogEntity],
    stored: Sequence[StoredEntity] = (),
    *,
    owners: Collection[str] | None = None,
) -> Resolution:
    """Edges over ``entities`` plus ``stored`` (entities of other sources, whose
    relations are re-resolved so a reference made before its target arrived now
    resolves). Problems are reported for ``entities`` only: dangling and ambiguous
    references, self-dependencies, and — when ``owners`` (keys of the known
    groups and users) is not empty — owners that are not among them.
    """
    by_key: dict[str, EntityRef] = {}
    by_name: dict[tuple[str, str], list[str]] = defaultdict(list)  # (namespace, name) → kinds
    for entity in entities:
        by_key[entity.ref.key] = entity.ref
    for item in stored:
        by_key.setdefault(item.key, EntityRef.from_key(item.key))
    for key, ref in by_key.items():
        by_name[(ref.namespace.lower(), ref.name.lower())].append(key.partition(":")[0])
    result = Resolution()
    seen: set[tuple[str, str]] = set()

    def add(dependent: str, dependency: str, kind: str) -> None:
        if (dependent, dependency) not in seen:
            seen.add((dependent, dependency))
            result.edges.append(Edge(dependent, dependency, kind))

    for item in stored:
        namespace = EntityRef.from_key(item.key).namespace
        for name, targets in item.relations.items():
            try:
                relation = Relation(name)
            except ValueError:
                continue
            for target in targets:
                found = _lookup(target, relation, namespace, by_key, by_name)
                if found.key is not None and found.key != item.key:
                    _connect(add, relation, item.key, found.key)
    for entity in entities:
        problem = _problem_maker(entity)
        for relation, target in entity.relations:
            found = _lookup(target, relation, entity.ref.namespace, by_key, by_name)
            if found.error is not None:
                result.problems.append(problem("invalid-reference", f"{relation}: {found.error}"))
                continue
            if found.key is None:
                result.problems.append(
                    problem(
                        "dangling-reference",
                        f"{relation} names {found.wanted}, which is not in the catalog",
                    )
                )
                continue
            if found.ambiguous:
                result.problems.append(
                    problem(
                        "ambiguous-reference",
                        f"{relation} '{target}' matches {', '.join(found.ambiguous)}; "
                        f"used {found.key} (write the kind to choose)",
                    )
                )
            if found.key == entity.ref.key:
                result.problems.append(
                    problem("self-dependency", f"{relation} names the entity itself; ignored")
                )
                continue
            _connect(add, relation, entity.ref.key, found.key)
        if entity.owner is None:
            if entity.origin in ("backstage", "responder"):
                result.problems.append(problem("missing-owner", "has no owner (spec.owner)"))
        elif owners:
            owner = entity.owner_ref
            if owner is None:
                result.problems.append(
                    problem("invalid-reference", f"owner {entity.owner!r} is not a reference")
                )
            elif owner.key not in owners:
                result.problems.append(
                    problem(
                        "unknown-owner",
                        f"owner {owner} is not a Group or User in the catalog",
                    )
                )
    return result


def _connect(add: Any, relation: Relation, own: str, other: str) -> None:
    if relation.dependent_is_self:
        add(own, other, relation.edge_kind)
    else:
        add(other, own, relation.edge_kind)


def _problem_maker(entity: CatalogEntity) -> Any:
    def make(code: str, message: str) -> CatalogProblem:
        return CatalogProblem(
            path=entity.source_file,
            code=code,
            message=message,
            entity=str(entity.ref),
            line=entity.line,
        )

    return make


@dataclass(frozen=True)
class _Found:
    key: str | None
    wanted: str = ""
    ambiguous: tuple[str, ...] = ()
    error: str | None = None


def _lookup(
    target: str,
    relation: Relation,
    namespace: str,
    by_key: Mapping[str, EntityRef],
    by_name: Mapping[tuple[str, str], Sequence[str]],
) -> _Found:
    try:
        partial = parse_ref(target, default_kind=relation.default_kind, default_namespace=namespace)
    except CatalogError as error:
        return _Found(None, error=str(error))
    complete = partial.complete()
    if complete is not None:
        key = complete.key
        return _Found(key if key in by_key else None, wanted=str(complete))
    kinds = by_name.get((partial.namespace.lower(), partial.name.lower()), ())
    wanted = f"'{partial.name}'" + (
        "" if partial.namespace.lower() == DEFAULT_NAMESPACE else f" in {partial.namespace}"
    )
    choices = [k for k in KIND_PREFERENCE if k in kinds]
    if not choices:
        return _Found(None, wanted=wanted)
    chosen = f"{choices[0]}:{partial.namespace}/{partial.name}".lower()
    others = tuple(f"{k}:{partial.namespace}/{partial.name}" for k in choices)
    return _Found(chosen, wanted=wanted, ambiguous=others if len(choices) > 1 else ())


def describe_cycle(keys: Iterable[str]) -> str:
    """``a → b → c → a`` with labels (namespace shown when not default)."""
    labels = [EntityRef.from_key(k).label for k in keys]
    return " → ".join([*labels, labels[0]]) if labels else ""


# ------------------------------------------------------------------ views


@dataclass(frozen=True)
class ServiceNode:
    """One service of the catalog as the clients see it (map node, CLI row)."""

    id: int
    ref: str  # key: kind:namespace/name, lower case
    kind: str
    namespace: str
    name: str
    title: str | None = None
    owner: str | None = None
    #: key of its System, if any
    system: str | None = None
    tier: str | None = None
    lifecycle: str | None = None
    spec_type: str | None = None

    @property
    def entity_ref(self) -> EntityRef:
        return EntityRef(self.kind, self.namespace, self.name)

    @property
    def label(self) -> str:
        return self.entity_ref.label

    @property
    def display_ref(self) -> str:
        return str(self.entity_ref)

    @property
    def system_label(self) -> str | None:
        return EntityRef.from_key(self.system).label if self.system else None


@dataclass(frozen=True)
class ReachedService:
    """A service ``depth`` steps from the one asked about; ``via`` is its neighbour one
    step closer (the path back is via → … → the service)."""

    node: ServiceNode
    depth: int
    via: ServiceNode


@dataclass(frozen=True)
class CatalogGraph:
    """The whole catalog for the map: nodes and edges (dependent id, dependency id, kind)."""

    nodes: tuple[ServiceNode, ...]
    edges: tuple[tuple[int, int, str], ...]
    freshness: Freshness | None = None


@dataclass(frozen=True)
class BlastRadius:
    """What breaks with ``service`` (dependents) and what could have caused its trouble
    (suspects), nearest first, with how old the catalog answering it is."""

    service: ServiceNode
    dependents: tuple[ReachedService, ...]
    suspects: tuple[ReachedService, ...]
    freshness: Freshness | None = None


@dataclass(frozen=True)
class OwnerInfo:
    ref: str
    name: str
    title: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RunbookMention:
    id: int
    slug: str
    title: str


@dataclass(frozen=True)
class IncidentMention:
    id: int
    title: str
    severity: str
    status: str


@dataclass(frozen=True)
class ServiceDetails:
    """Everything the side panel shows about one service."""

    node: ServiceNode
    description: str
    annotations: Mapping[str, str]
    links: tuple[Mapping[str, str], ...]
    tags: tuple[str, ...]
    source: str
    source_file: str | None
    owner: OwnerInfo | None
    runbooks: tuple[RunbookMention, ...]
    incidents: tuple[IncidentMention, ...]
    imported_at: datetime | None = None

    @property
    def pagerduty_service_id(self) -> str | None:
        return self.annotations.get("pagerduty.com/service-id") or None
