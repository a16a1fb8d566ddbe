"""Catalog documents → entities, one reader per format (docs/CATALOG_FORMAT.md).

* **Backstage** (``apiVersion: backstage.io/…``, or a Backstage kind): Component,
  Resource, API, System, Domain become graph nodes; Group and User owners;
  Location is followed by the importer; other kinds are reported and skipped.
* **Responder Console catalog** (``catalog: 1``): our own small format for teams
  without Backstage.
* **Docker Compose** (a ``services:`` mapping): one component per service, edges
  from ``depends_on`` and ``links``; the namespace is the project (the file's
  folder, or the top-level ``name``), so two compose projects never collide.
* **Kubernetes manifests** (any other ``apiVersion`` + ``kind``): Deployments,
  StatefulSets and DaemonSets become components; dependencies come from container
  environment variables holding another service's address (``*_ADDR``, ``*_HOST``,
  ``*_URL`` … = ``host:port`` or a URL), resolved through the Services' selectors.

Compose and Kubernetes workloads running a well-known data store image (redis,
postgres, mongo, kafka …) become Resources. Nothing here touches storage: every
reader returns values and lists problems; a malformed entity is refused alone.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from console.domain.catalog import (
    DEFAULT_NAMESPACE,
    OWNER_KINDS,
    SERVICE_KINDS,
    CatalogEntity,
    CatalogError,
    CatalogOwner,
    CatalogProblem,
    CatalogRefusal,
    EntityRef,
    Relation,
    check_name,
    parse_ref,
)

#: our own format's version key and the only version this build reads
FORMAT_KEY = "catalog"
FORMAT_VERSION = 1
BACKSTAGE_KINDS = frozenset(
    {"component", "resource", "api", "system", "domain", "group", "user", "location", "template"}
)
KUBERNETES_WORKLOADS = frozenset({"deployment", "statefulset", "daemonset"})
#: environment variable names that hold another service's address
ADDRESS_ENV = re.compile(r"(ADDR|ADDRESS|HOST|HOSTNAME|URL|URI|ENDPOINT|SERVER|DSN)S?$", re.I)
_HOST_PORT = re.compile(r"^([a-zA-Z0-9](?:[-a-zA-Z0-9.]*[a-zA-Z0-9])?)(?::\d{1,5})?$")
#: image name (last path part, before the tag) → spec.type of the Resource it runs
DATA_STORE_IMAGES = {
    "redis": "cache",
    "memcached": "cache",
    "postgres": "database",
    "postgresql": "database",
    "mysql": "database",
    "mariadb": "database",
    "mongo": "database",
    "mongodb": "database",
    "cassandra": "database",
    "cockroach": "database",
    "elasticsearch": "search",
    "opensearch": "search",
    "kafka": "queue",
    "rabbitmq": "queue",
    "nats": "queue",
    "zookeeper": "coordination",
    "etcd": "coordination",
    "consul": "coordination",
}
#: our format's service keys (with the Backstage spellings accepted as aliases)
SERVICE_KEYS = {
    "name": "name",
    "kind": "kind",
    "namespace": "namespace",
    "title": "title",
    "description": "description",
    "type": "type",
    "lifecycle": "lifecycle",
    "tier": "tier",
    "owner": "owner",
    "system": "system",
    "depends_on": "dependsOn",
    "dependson": "dependsOn",
    "dependency_of": "dependencyOf",
    "dependencyof": "dependencyOf",
    "consumes_apis": "consumesApis",
    "consumesapis": "consumesApis",
    "provides_apis": "providesApis",
    "providesapis": "providesApis",
    "part_of": "partOf",
    "partof": "partOf",
    "subcomponent_of": "subcomponentOf",
    "subcomponentof": "subcomponentOf",
    "domain": "domain",
    "tags": "tags",
    "links": "links",
    "annotations": "annotations",
    "pagerduty": "pagerduty",
    "runbook": "runbook",
}
TEAM_KEYS = frozenset({"name", "title", "email", "members", "parent", "namespace"})
PAGERDUTY_SERVICE = "pagerduty.com/service-id"


@dataclass(frozen=True)
class Document:
    """One YAML document of a file: where it is and what it holds."""

    path: str
    root: str
    number: int  # 1-based within the file
    line: int  # 1-based line where it starts
    data: Any

    @property
    def where(self) -> str:
        return f"document {self.number} (line {self.line})"


@dataclass
class Collected:
    """What the readers found in one import, before resolution."""

    entities: list[CatalogEntity] = field(default_factory=list)
    owners: list[CatalogOwner] = field(default_factory=list)
    problems: list[CatalogProblem] = field(default_factory=list)
    refused: list[CatalogRefusal] = field(default_factory=list)
    #: (Location document, targets as written)
    locations: list[tuple[Document, list[str]]] = field(default_factory=list)
    #: Kubernetes kinds that describe no service (ServiceAccount, ConfigMap …) → count
    ignored: Counter[str] = field(default_factory=Counter)

    def warn(self, document: Document, code: str, message: str, entity: str | None = None) -> None:
        self.problems.append(CatalogProblem(document.path, code, message, entity, document.line))

    def refuse(self, document: Document, reason: str, entity: str | None = None) -> None:
        who = f"{entity} ({document.where})" if entity else document.where
        self.refused.append(CatalogRefusal(document.path, f"{who}: {reason}"))


def detect(data: Any) -> str | None:
    """The format of one document: backstage, responder, compose, kubernetes, or None."""
    if not isinstance(data, dict):
        return None
    if FORMAT_KEY in data and ("services" in data or "teams" in data):
        return "responder"
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if isinstance(api_version, str) and isinstance(kind, str):
        if api_version.startswith("backstage.io/") or kind.lower() in BACKSTAGE_KINDS:
            return "backstage"
        return "kubernetes"
    if isinstance(data.get("services"), dict) and "apiVersion" not in data:
        return "compose"
    return None


# ------------------------------------------------------------------ helpers


def _text(value: Any) -> str | None:
    """A scalar as stripped text; None for missing/empty; containers are not text."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _string_list(
    value: Any, what: str, document: Document, collected: Collected, entity: str
) -> list[str]:
    """A list of plain strings (a single string is a list of one); anything else is
    reported and left out."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        if isinstance(item, dict | list | bool):
            collected.warn(
                document,
                "invalid-reference",
                f"{what} holds a {type(item).__name__} ({_short(item)}); write a reference "
                "like 'component:name'",
                entity,
            )
            continue
        text = _text(item)
        if text is None:
            collected.warn(document, "invalid-reference", f"{what} holds an empty entry", entity)
            continue
        if text not in found:
            found.append(text)
    return found


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _annotations(
    value: Any, document: Document, collected: Collected, entity: str
) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        collected.warn(document, "invalid-entity", "metadata.annotations is not a mapping", entity)
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _links(
    value: Any, document: Document, collected: Collected, entity: str
) -> list[dict[str, str]]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    links: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, str) and item.strip():
            links.append({"url": item.strip(), "title": item.strip()})
        elif isinstance(item, dict) and _text(item.get("url")):
            url = str(item["url"]).strip()
            link = {"url": url, "title": _text(item.get("title")) or url}
            if _text(item.get("icon")):
                link["icon"] = str(item["icon"])
            links.append(link)
        else:
            collected.warn(
                document, "invalid-entity", f"a link without a url ({_short(item)})", entity
            )
    return links


def _tags(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(t for t in (_text(i) for i in items) if t)


def _namespace(value: Any, fallback: str = DEFAULT_NAMESPACE) -> str:
    text = _text(value)
    return check_name(text, "metadata.namespace") if text else fallback


def _relations(
    spec: Mapping[str, Any],
    fields: Iterable[Relation],
    document: Document,
    collected: Collected,
    entity: str,
) -> list[tuple[Relation, str]]:
    found: list[tuple[Relation, str]] = []
    for relation in fields:
        key = relation.value
        for target in _string_list(spec.get(key), key, document, collected, entity):
            found.append((relation, target))
    return found


def service_entity(
    document: Document,
    collected: Collected,
    ref: EntityRef,
    meta: Mapping[str, Any],
    spec: Mapping[str, Any],
    fields: Iterable[Relation],
    origin: str,
    *,
    annotations: Mapping[str, str] | None = None,
    links: list[dict[str, str]] | None = None,
) -> CatalogEntity:
    """An entity from Backstage's ``metadata`` and ``spec`` (our format passes its one
    mapping as both); problems found on the way are reported to ``collected``."""
    label = str(ref)
    if annotations is None:
        annotations = _annotations(meta.get("annotations"), document, collected, label)
    if links is None:
        links = _links(meta.get("links"), document, collected, label)
    return CatalogEntity(
        ref=ref,
        source_file=document.path,
        line=document.line,
        title=_text(meta.get("title")),
        description=_text(meta.get("description")) or "",
        spec_type=_text(spec.get("type")),
        lifecycle=_text(spec.get("lifecycle")),
        tier=_text(spec.get("tier")) or _label(meta.get("labels"), "tier"),
        owner=_text(spec.get("owner")),
        tags=_tags(meta.get("tags")),
        annotations=annotations,
        links=tuple(links),
        relations=tuple(_relations(spec, fields, document, collected, label)),
        origin=origin,
    )


def _image_kind(image: Any) -> tuple[str, str | None]:
    """(kind, spec.type) from a container image: data stores are Resources."""
    text = _text(image)
    if text is None:
        return "component", None
    base = text.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0].lower()
    for prefix, kind in DATA_STORE_IMAGES.items():
        if base == prefix or base.startswith(prefix + "-"):
            return "resource", kind
    return "component", "service"


def _mapping(value: Any) -> dict[Any, Any]:
    """``value`` if it is a mapping, else an empty one (malformed parts read as absent)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _label(labels: Any, key: str) -> str | None:
    return _text(labels.get(key)) if isinstance(labels, dict) else None


def _labelled_owner(labels: Any) -> str | None:
    if isinstance(labels, list):  # compose: ["team=payments", …]
        pairs = dict(str(item).partition("=")[::2] for item in labels)
        labels = pairs
    if not isinstance(labels, dict):
        return None
    for key in ("owner", "team", "app.kubernetes.io/owner"):
        if _text(labels.get(key)):
            return str(labels[key]).strip()
    return None


# ------------------------------------------------------------------ Backstage

BACKSTAGE_RELATIONS = (
    Relation.DEPENDS_ON,
    Relation.DEPENDENCY_OF,
    Relation.CONSUMES_APIS,
    Relation.PROVIDES_APIS,
    Relation.SUBCOMPONENT_OF,
    Relation.SYSTEM,
    Relation.DOMAIN,
    Relation.SUBDOMAIN_OF,
    Relation.PART_OF,
)


def read_backstage(document: Document, collected: Collected) -> None:
    data = document.data
    kind_text = str(data.get("kind", "")).strip()
    kind = kind_text.lower()
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        collected.refuse(document, "metadata is missing or not a mapping (it needs a name)")
        return
    try:
        name = check_name(metadata.get("name"))
        namespace = _namespace(metadata.get("namespace"))
    except CatalogError as error:
        collected.refuse(document, str(error), f"{kind_text or 'entity'}")
        return
    label = f"{kind}:{namespace}/{name}"
    spec = data.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        collected.refuse(document, f"spec must be a mapping, not {_short(spec)}", label)
        return
    if kind == "location":
        targets = _string_list(spec.get("targets"), "spec.targets", document, collected, label)
        single = _text(spec.get("target"))
        collected.locations.append((document, ([single] if single else []) + targets))
        return
    if kind in OWNER_KINDS:
        collected.owners.append(_backstage_owner(document, kind, namespace, name, spec, metadata))
        return
    if kind not in SERVICE_KINDS:
        collected.warn(
            document,
            "unknown-kind",
            f"kind {kind_text!r} is not a service, owner or location; not imported",
            f"{kind_text}:{namespace}/{name}",
        )
        return
    collected.entities.append(
        service_entity(
            document,
            collected,
            EntityRef(kind, namespace, name),
            metadata,
            spec,
            BACKSTAGE_RELATIONS,
            "backstage",
        )
    )


def _backstage_owner(
    document: Document,
    kind: str,
    namespace: str,
    name: str,
    spec: Mapping[str, Any],
    metadata: Mapping[str, Any],
) -> CatalogOwner:
    profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    member_field, member_kind = ("members", "user") if kind == "group" else ("memberOf", "group")
    members = _owner_refs(spec.get(member_field), member_kind, namespace)
    parents = _owner_refs(spec.get("parent"), "group", namespace)
    return CatalogOwner(
        ref=EntityRef(kind, namespace, name),
        source_file=document.path,
        line=document.line,
        title=_text(profile.get("displayName")) or _text(metadata.get("title")),
        email=_text(profile.get("email")),
        parent=parents[0] if parents else None,
        members=tuple(members),
    )


def _owner_refs(value: Any, default_kind: str, namespace: str) -> list[str]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    keys: list[str] = []
    for item in items:
        try:
            ref = parse_ref(item, default_kind=default_kind, default_namespace=namespace).complete()
        except CatalogError:
            continue
        if ref is not None:
            keys.append(ref.key)
    return keys


# ------------------------------------------------------------------ our own format

RESPONDER_RELATIONS = (
    Relation.DEPENDS_ON,
    Relation.DEPENDENCY_OF,
    Relation.CONSUMES_APIS,
    Relation.PROVIDES_APIS,
    Relation.SUBCOMPONENT_OF,
    Relation.PART_OF,
    Relation.SYSTEM,
    Relation.DOMAIN,
)


def read_responder(document: Document, collected: Collected) -> bool:
    """Our ``catalog: 1`` file. False when the whole file must be refused (the version
    is unknown or the top level is not what the format says): the reason is recorded."""
    data = document.data
    version = data.get(FORMAT_KEY)
    if version != FORMAT_VERSION or isinstance(version, bool):
        collected.refused.append(
            CatalogRefusal(
                document.path,
                f"catalog format version {version!r} is not supported (this version reads "
                f"{FORMAT_VERSION}; see docs/CATALOG_FORMAT.md)",
            )
        )
        return False
    try:
        namespace = _namespace(data.get("namespace"))
    except CatalogError as error:
        collected.refused.append(CatalogRefusal(document.path, f"namespace: {error}"))
        return False
    services = data.get("services") or []
    if isinstance(services, dict):  # name → fields is accepted too
        services = [
            {"name": key, **(value if isinstance(value, dict) else {})}
            for key, value in services.items()
        ]
    teams = data.get("teams") or []
    for what, value in (("services", services), ("teams", teams)):
        if not isinstance(value, list):
            collected.refused.append(
                CatalogRefusal(document.path, f"'{what}' must be a list, not {_short(value)}")
            )
            return False
    for number, raw in enumerate(services, start=1):
        _responder_service(document, collected, namespace, number, raw)
    for number, raw in enumerate(teams, start=1):
        _responder_team(document, collected, namespace, number, raw)
    for key in data:
        if str(key) not in (FORMAT_KEY, "namespace", "services", "teams"):
            collected.warn(document, "unknown-key", f"top-level key {str(key)!r} is not used")
    return True


def _responder_service(
    document: Document, collected: Collected, namespace: str, number: int, raw: Any
) -> None:
    where = f"services[{number}]"
    if not isinstance(raw, dict):
        collected.refuse(document, f"{where} must be a mapping with a name, not {_short(raw)}")
        return
    fields: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in raw.items():
        canonical = SERVICE_KEYS.get(str(key).lower().replace("-", "_"))
        if canonical is None:
            unknown.append(str(key))
        else:
            fields[canonical] = value
    named = _named(document, collected, fields, where, namespace)
    if named is None:
        return
    name, own_namespace = named
    kind = (_text(fields.get("kind")) or "component").lower()
    label = f"{kind}:{own_namespace}/{name}"
    if kind not in SERVICE_KINDS:
        collected.refuse(
            document,
            f"kind {kind!r} is not one of {', '.join(SERVICE_KINDS)}",
            label,
        )
        return
    for key in unknown:
        collected.warn(document, "unknown-key", f"key {key!r} is not used (typo?)", label)
    annotations = _annotations(fields.get("annotations"), document, collected, label)
    if _text(fields.get("pagerduty")):
        annotations.setdefault(PAGERDUTY_SERVICE, str(fields["pagerduty"]).strip())
    links = _links(fields.get("links"), document, collected, label)
    if _text(fields.get("runbook")):
        links.insert(0, {"url": str(fields["runbook"]).strip(), "title": "Runbook"})
    collected.entities.append(
        service_entity(
            document,
            collected,
            EntityRef(kind, own_namespace, name),
            fields,
            fields,
            RESPONDER_RELATIONS,
            "responder",
            annotations=annotations,
            links=links,
        )
    )


def _named(
    document: Document, collected: Collected, raw: Mapping[str, Any], where: str, namespace: str
) -> tuple[str, str] | None:
    """(name, namespace) of one list entry, or None with the refusal recorded."""
    try:
        return check_name(raw.get("name"), f"{where}.name"), _namespace(
            raw.get("namespace"), namespace
        )
    except CatalogError as error:
        collected.refuse(document, str(error))
        return None


def _responder_team(
    document: Document, collected: Collected, namespace: str, number: int, raw: Any
) -> None:
    where = f"teams[{number}]"
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        collected.refuse(document, f"{where} must be a mapping with a name, not {_short(raw)}")
        return
    named = _named(document, collected, raw, where, namespace)
    if named is None:
        return
    name, own_namespace = named
    for key in raw:
        if str(key) not in TEAM_KEYS:
            collected.warn(
                document, "unknown-key", f"key {str(key)!r} is not used", f"group:{name}"
            )
    parents = _owner_refs(raw.get("parent"), "group", own_namespace)
    collected.owners.append(
        CatalogOwner(
            ref=EntityRef("group", own_namespace, name),
            source_file=document.path,
            line=document.line,
            title=_text(raw.get("title")),
            email=_text(raw.get("email")),
            parent=parents[0] if parents else None,
            members=tuple(_owner_refs(raw.get("members"), "user", own_namespace)),
        )
    )


# ------------------------------------------------------------------ Docker Compose


def compose_project(document: Document) -> str:
    """The Compose project name: the top-level ``name``, else the file's folder (as
    ``docker compose`` names it: lower case, only letters, digits, ``-`` and ``_``)."""
    named = _text(document.data.get("name"))
    base = named or os.path.basename(os.path.dirname(document.path)) or DEFAULT_NAMESPACE
    cleaned = re.sub(r"[^a-z0-9_-]", "", base.lower())
    return cleaned or DEFAULT_NAMESPACE


def read_compose(document: Document, collected: Collected) -> None:
    project = compose_project(document)
    services = document.data.get("services") or {}
    for raw_name, body in services.items():
        try:
            name = check_name(raw_name, "service name")
        except CatalogError as error:
            collected.refuse(document, str(error))
            continue
        if body is None:
            body = {}
        label = f"component:{project}/{name}"
        if not isinstance(body, dict):
            collected.refuse(document, f"service {name!r} is not a mapping", label)
            continue
        kind, spec_type = _image_kind(body.get("image"))
        depends = body.get("depends_on")
        if isinstance(depends, dict):
            depends = list(depends)
        targets = _string_list(depends, "depends_on", document, collected, label)
        for link in _string_list(body.get("links"), "links", document, collected, label):
            target = link.split(":", 1)[0].strip()
            if target and target not in targets:
                targets.append(target)
        image = _text(body.get("image"))
        collected.entities.append(
            CatalogEntity(
                ref=EntityRef(kind, project, name),
                source_file=document.path,
                line=document.line,
                description=f"image {image}" if image else "",
                spec_type=spec_type,
                owner=_labelled_owner(body.get("labels")),
                relations=tuple((Relation.DEPENDS_ON, t) for t in targets),
                origin="compose",
            )
        )


# ------------------------------------------------------------------ Kubernetes


@dataclass
class _Workload:
    document: Document
    kind: str
    namespace: str
    name: str
    labels: dict[str, str]
    image: Any
    owner: str | None
    #: (environment variable, host it names)
    addresses: list[tuple[str, str]]


def read_kubernetes(documents: Iterable[Document], collected: Collected) -> None:
    """All Kubernetes documents of an import at once: a Service in one file selects
    the workload of another."""
    workloads: list[_Workload] = []
    selectors: dict[tuple[str, str], dict[str, str]] = {}  # (namespace, service) → selector
    for document in documents:
        data = document.data
        kind = str(data.get("kind")).strip()
        if kind.lower() != "service" and kind.lower() not in KUBERNETES_WORKLOADS:
            collected.ignored[kind] += 1
            continue
        metadata = _mapping(data.get("metadata"))
        try:
            name = check_name(metadata.get("name"))
            namespace = _namespace(metadata.get("namespace"))
        except CatalogError as error:
            collected.refuse(document, str(error), kind)
            continue
        spec = _mapping(data.get("spec"))
        if kind.lower() == "service":
            selector = spec.get("selector")
            if isinstance(selector, dict):
                selectors[(namespace.lower(), name.lower())] = {
                    str(k): str(v) for k, v in selector.items()
                }
            continue
        template = _mapping(spec.get("template"))
        pod = _mapping(template.get("spec"))
        labels = _mapping(_mapping(template.get("metadata")).get("labels"))
        containers = [c for c in _list(pod.get("containers")) if isinstance(c, dict)]
        workloads.append(
            _Workload(
                document=document,
                kind=kind,
                namespace=namespace,
                name=name,
                labels={str(k): str(v) for k, v in labels.items()},
                image=containers[0].get("image") if containers else None,
                owner=_labelled_owner(metadata.get("labels")),
                addresses=list(_addresses(containers)),
            )
        )
    by_name = {(w.namespace.lower(), w.name.lower()): w for w in workloads}
    for workload in workloads:
        kind, spec_type = _image_kind(workload.image)
        targets: list[str] = []
        for _env, host in workload.addresses:
            target = _address_target(host, workload.namespace, selectors, workloads, by_name)
            if target is not None and target not in targets:
                targets.append(target)
        image = _text(workload.image)
        collected.entities.append(
            CatalogEntity(
                ref=EntityRef(kind, workload.namespace, workload.name),
                source_file=workload.document.path,
                line=workload.document.line,
                description=f"{workload.kind}" + (f", image {image}" if image else ""),
                spec_type=spec_type,
                owner=workload.owner,
                relations=tuple((Relation.DEPENDS_ON, t) for t in targets),
                origin="kubernetes",
            )
        )


def _addresses(containers: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, str]]:
    for container in containers:
        for variable in _list(container.get("env")):
            if not isinstance(variable, dict):
                continue
            name, value = _text(variable.get("name")), _text(variable.get("value"))
            if name is None or value is None or not ADDRESS_ENV.search(name):
                continue
            host = urlsplit(value).hostname if "://" in value else None
            if host is None:
                match = _HOST_PORT.match(value)
                host = match.group(1) if match else None
            if host and not host.replace(".", "").isdigit() and host != "localhost":
                yield name, host


def _address_target(
    host: str,
    namespace: str,
    selectors: Mapping[tuple[str, str], Mapping[str, str]],
    workloads: Iterable[_Workload],
    by_name: Mapping[tuple[str, str], _Workload],
) -> str | None:
    """``name``, ``name.namespace`` or ``name.namespace.svc[.cluster.local]`` → the
    workload behind that Service (through its selector), else a workload of that
    name. Unresolved in-cluster names are returned as written, so the catalog
    reports them as dangling; external host names (api.stripe.com) give None."""
    internal = re.sub(r"\.svc(\.cluster\.local)?\.?$", "", host.lower())
    parts = internal.split(".")
    known_namespaces = {ns for ns, _ in selectors} | {ns for ns, _ in by_name}
    if len(parts) > 2 or (len(parts) == 2 and parts[1] not in known_namespaces):
        return None
    name = parts[0]
    target_namespace = parts[1] if len(parts) == 2 else namespace.lower()
    selector = selectors.get((target_namespace, name))
    if selector:
        for workload in workloads:
            if workload.namespace.lower() == target_namespace and all(
                workload.labels.get(k) == v for k, v in selector.items()
            ):
                return f"{target_namespace}/{workload.name}"
    if (target_namespace, name) in by_name:
        return f"{target_namespace}/{by_name[(target_namespace, name)].name}"
    return f"{target_namespace}/{name}"


def group_by_format(documents: Iterable[Document]) -> dict[str, list[Document]]:
    grouped: dict[str, list[Document]] = defaultdict(list)
    for document in documents:
        found = detect(document.data)
        if found is not None:
            grouped[found].append(document)
    return grouped
