"""The catalog importer: every format, every kind of broken input, atomic re-import."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import console.importers.catalog as catalog_module
from console.domain.catalog import CatalogError, EntityRef, Relation, parse_ref, resolve
from console.importers.catalog import CatalogImportReport, import_catalog, load_documents
from console.importers.catalog_formats import (
    Collected,
    Document,
    read_backstage,
    read_compose,
    read_kubernetes,
    read_responder,
)
from console.storage.db import Database
from tests.unit.support import FakeClock, raw_rows, raw_scalar


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def component(name: str, **spec: Any) -> str:
    """A Backstage Component document."""
    body = {"type": "service", "lifecycle": "production", "owner": "team-a", **spec}
    return json.dumps(
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": name},
         "spec": body}
    )  # fmt: skip


def services(db: Database) -> dict[str, dict[str, Any]]:
    with db.raw_reader() as raw:
        rows = raw.execute(
            "SELECT ref, name, kind, owner, owner_ref, system, annotations, links, source, "
            "source_file, id FROM services"
        ).fetchall()
    return {
        r[0]: {
            "name": r[1],
            "kind": r[2],
            "owner": r[3],
            "owner_ref": r[4],
            "system": r[5],
            "annotations": json.loads(r[6]),
            "links": json.loads(r[7]),
            "source": r[8],
            "source_file": r[9],
            "id": r[10],
        }
        for r in rows
    }


def edges(db: Database) -> set[tuple[str, str, str]]:
    with db.raw_reader() as raw:
        return set(
            raw.execute(
                "SELECT a.name, b.name, e.kind FROM service_dependencies e "
                "JOIN services a ON a.id = e.service_id JOIN services b ON b.id = e.depends_on_id"
            ).fetchall()
        )


def problems(report: CatalogImportReport, code: str) -> list[str]:
    return [f"{p.entity}: {p.message}" for p in report.problems if p.code == code]


# ------------------------------------------------------------------ references


@pytest.mark.parametrize(
    ("text", "default_kind", "expected"),
    [
        ("component:default/orders", None, ("component", "default", "orders")),
        ("Component:orders", None, ("component", "ns", "orders")),
        ("other/orders", "api", ("api", "other", "orders")),
        ("orders", "group", ("group", "ns", "orders")),
        ("orders", None, (None, "ns", "orders")),
        ("  resource:db  ", None, ("resource", "ns", "db")),
        (42, "component", ("component", "ns", "42")),
    ],
)
def test_parse_ref_applies_the_fields_defaults(
    text: object, default_kind: str | None, expected: tuple[str | None, str, str]
) -> None:
    ref = parse_ref(text, default_kind=default_kind, default_namespace="ns")
    assert (ref.kind, ref.namespace, ref.name) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "an empty reference"),
        (":orders", "empty kind"),
        ("component:/orders", "empty namespace"),
        ("component:ns/", "is missing"),
        ("orders api", "contains a space"),
        ("a/b/c", "contains '/'"),
        ({"ref": "x"}, "must be text"),
        (True, "must be text"),
        (None, "must be text"),
    ],
)
def test_parse_ref_refuses_with_a_reason(text: object, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_ref(text, default_kind=None, default_namespace="default")


def test_entity_ref_keys_are_case_insensitive_and_labels_hide_the_default_namespace() -> None:
    ref = EntityRef("component", "Default", "Orders-API")
    assert ref.key == "component:default/orders-api"
    assert ref.label == "Orders-API"
    assert EntityRef("component", "shop", "cart").label == "shop/cart"
    assert str(EntityRef.from_key("api:shop/cart")) == "api:shop/cart"


def test_relations_point_from_the_dependent() -> None:
    assert Relation.DEPENDS_ON.dependent_is_self
    assert Relation.CONSUMES_APIS.dependent_is_self
    assert not Relation.DEPENDENCY_OF.dependent_is_self
    assert not Relation.PROVIDES_APIS.dependent_is_self  # the API depends on its provider
    assert Relation.SYSTEM.edge_kind == "part"
    assert Relation.CONSUMES_APIS.default_kind == "api"
    assert Relation.DEPENDS_ON.default_kind is None


# ------------------------------------------------------------------ Backstage


def test_backstage_multi_document_catalog(db: Database, tmp_path: Path, clock: FakeClock) -> None:
    root = tmp_path / "catalog"
    write(
        root,
        "catalog-info.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: orders-api
          title: Orders API
          description: Checkout and orders
          tags: [python, tier-1]
          annotations:
            pagerduty.com/service-id: PABC123
            pagerduty.com/integration-key: 0123456789abcdef
            backstage.io/techdocs-ref: dir:.
          links:
            - url: https://runbooks.example/orders
              title: Runbook
        spec:
          type: service
          lifecycle: production
          owner: team-orders
          system: checkout
          dependsOn: [resource:orders-db, 'component:payments']
          consumesApis: [payments-api]
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: payments, namespace: default}
        spec: {type: service, owner: user:ana, lifecycle: production, providesApis: [payments-api]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata: {name: payments-api}
        spec: {type: openapi, lifecycle: production, owner: team-payments, definition: "x"}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Resource
        metadata: {name: orders-db}
        spec: {type: database, owner: team-orders, dependencyOf: ['component:reports']}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: reports}
        spec: {type: service, owner: team-orders, lifecycle: production, subcomponentOf: orders-api}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: System
        metadata: {name: checkout}
        spec: {owner: team-orders, domain: commerce}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Domain
        metadata: {name: commerce}
        spec: {owner: team-orders}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: team-orders}
        spec:
          type: team
          profile: {displayName: Orders team, email: orders@example.com}
          members: [ana]
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: team-payments}
        spec: {type: team, children: []}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: ana}
        spec: {profile: {displayName: Ana Lima, email: ana@example.com}, memberOf: [team-payments]}
        """,
    )
    report = import_catalog(db, [root], clock=clock)
    assert report.refused == []
    assert report.problems == []
    assert (report.added, report.updated, report.removed, report.owners) == (7, 0, 0, 3)
    stored = services(db)
    orders = stored["component:default/orders-api"]
    assert orders["annotations"]["pagerduty.com/service-id"] == "PABC123"
    assert orders["annotations"]["backstage.io/techdocs-ref"] == "dir:."
    assert orders["links"] == [{"url": "https://runbooks.example/orders", "title": "Runbook"}]
    assert orders["owner"] == "team-orders"
    assert orders["owner_ref"] == "group:default/team-orders"
    assert orders["system"] == "system:default/checkout"
    assert stored["component:default/payments"]["owner_ref"] == "user:default/ana"
    assert orders["source"] == str(root)
    assert orders["source_file"] == str(root / "catalog-info.yaml")
    assert edges(db) == {
        ("orders-api", "orders-db", "depends"),
        ("orders-api", "payments", "depends"),
        ("orders-api", "payments-api", "api"),  # consumesApis
        ("payments-api", "payments", "api"),  # providesApis: the API needs its provider
        ("reports", "orders-db", "depends"),  # dependencyOf, from the resource's side
        ("orders-api", "reports", "part"),  # subcomponentOf: the whole needs its parts
        ("checkout", "orders-api", "part"),  # spec.system
        ("commerce", "checkout", "part"),  # spec.domain
    }
    assert report.dependencies == 8
    owners = raw_rows(db.path, "SELECT ref, title, email, members FROM catalog_owners ORDER BY ref")
    assert owners[0] == (
        "group:default/team-orders",
        "Orders team",
        "orders@example.com",
        '["user:default/ana"]',
    )
    assert raw_rows(db.path, "SELECT name, fetched_at, source FROM cache_sets") == [
        ("catalog", "2026-03-01T09:00:00.000000Z", str(root))
    ]


def test_locations_are_followed_to_local_files_once(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "examples"
    write(root, "components/a.yaml", component("a", dependsOn=["component:b"]))
    write(root, "components/b.yaml", component("b"))
    write(root, "more/c.yaml", component("c"))
    write(
        root,
        "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: everything}
        spec:
          targets: [./components/a.yaml, ./components/b.yaml, ./more/*.yaml, ./gone.yaml,
                    https://github.com/acme/catalog/blob/main/catalog-info.yaml]
        """,
    )
    report = import_catalog(db, [root / "all.yaml"])  # the file alone: targets are followed
    assert set(services(db)) == {f"component:default/{n}" for n in "abc"}
    assert report.files == 4
    location = sorted(problems(report, "location"))
    assert len(location) == 2
    assert "gone.yaml was not found" in location[0] + location[1]
    assert "is a URL; only local files are read" in location[0] + location[1]
    again = import_catalog(db, [root / "all.yaml"])  # the same source again: replaced
    assert again.refused == []
    assert (again.added, again.updated, again.removed) == (0, 3, 0)
    # the folder now: the same files, reached another way, move over to the new source
    moved = import_catalog(db, [root])
    assert moved.refused == []
    assert (moved.added, moved.updated) == (0, 3)
    assert {v["source"] for v in services(db).values()} == {str(root)}
    assert edges(db) == {("a", "b", "depends")}


def test_a_folder_and_its_location_file_are_read_once(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", component("a"))
    write(
        tmp_path,
        "all.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: all}\n"
        "spec: {targets: [./a.yaml]}\n",
    )
    report = import_catalog(db, [tmp_path])  # a.yaml is walked and targeted: read once
    assert report.files == 2
    assert (report.added, report.refused) == (1, [])


# ------------------------------------------------------------------ broken input


def test_broken_files_are_listed_and_the_rest_imports(db: Database, tmp_path: Path) -> None:
    root = tmp_path / "broken"
    write(root, "good.yaml", component("good", dependsOn=["resource:db"]))
    write(
        root,
        "db.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: db}\n"
        "spec: {type: database, owner: team-a}\n",
    )
    write(root, "invalid.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
          "metadata:\n  name: x\n   bad: indentation\n")  # fmt: skip
    write(
        root,
        "cycle.yaml",
        "\n---\n".join(
            [
                component("a", dependsOn=["component:b"]),
                component("b", dependsOn=["component:c"]),
                component("c", dependsOn=["component:a"]),
            ]
        ),
    )
    write(root, "self.yaml", component("narcissus", dependsOn=["component:narcissus"]))
    write(
        root,
        "owners.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: orphan}\n"
        "spec: {type: service, lifecycle: production}\n",
    )
    write(root, "dup-1.yaml", component("twin"))
    write(root, "dup-2.yaml", component("twin") + "\n---\n" + component("twin"))
    write(root, "dangling.yaml", component("lonely", dependsOn=["component:ghost", "ghost2"]))
    write(
        root,
        "kinds.yaml",
        "apiVersion: backstage.io/v1beta3\nkind: Template\nmetadata: {name: new-service}\n"
        "spec: {owner: team-a}\n",
    )
    write(
        root,
        "empty-deps.yaml",
        "\n---\n".join(
            [
                component("e1", dependsOn=[]),
                component("e2", dependsOn=None),
                component("e3", dependsOn=[""]),
                component("e4", dependsOn=[{"ref": "component:good"}, "component:good"]),
                component("e5", dependsOn="resource:db"),
            ]
        ),
    )
    write(
        root,
        "shapes.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nspec: {owner: a}\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: listspec}\n"
        "spec: [1, 2]\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: 'has space'}\n---\n"
        + component("survivor"),
    )
    write(root, "openapi.yaml", "openapi: 3.0.0\ninfo: {title: Petstore, version: '1'}\n")
    write(root, "blank.yaml", "\n# nothing but a comment\n")
    write(
        root,
        "baddate.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: baddate\n"
        "  created: 2026-13-45\nspec: {type: service, lifecycle: production, owner: team-a}\n",
    )
    (root / "latin1.yaml").write_bytes(b"apiVersion: backstage.io/v1alpha1\nkind: Component\n"
                                       b"metadata: {name: caf\xe9}\n")  # fmt: skip
    (root / "binary.yml").write_bytes(b"\x00\x01\x02apiVersion")
    (root / ".hidden").mkdir()
    write(root, ".hidden/ignored.yaml", component("hidden"))
    write(root, "notes.txt", component("not-yaml-suffix"))

    report = import_catalog(db, [root])
    refused = {Path(r.path).name: r.reason for r in report.refused}
    assert refused["invalid.yaml"].startswith("invalid YAML on line 5:")
    assert refused["latin1.yaml"] == "not UTF-8: byte 0xe9 at byte offset 70"
    assert refused["baddate.yaml"] == (
        "invalid YAML: month must be in 1..12 (a date or time that does not exist?)"
    )
    assert refused["binary.yml"] == "binary file (NUL byte at byte offset 0), not YAML"
    assert "duplicate — already defined in" in refused["dup-2.yaml"]
    assert str(root / "dup-1.yaml") in refused["dup-2.yaml"]
    shapes = [r.reason for r in report.refused if r.path.endswith("shapes.yaml")]
    assert any("document 1 (line 1): metadata is missing" in r for r in shapes)
    assert any("spec must be a mapping" in r for r in shapes)
    assert any("contains a space" in r for r in shapes)
    assert len([r for r in report.refused if r.path.endswith("dup-2.yaml")]) == 2

    imported = services(db)
    for name in ("good", "db", "a", "b", "c", "narcissus", "orphan", "twin", "lonely"):
        assert any(v["name"] == name for v in imported.values()), name
    assert "component:default/survivor" in imported  # the rest of a file with bad entities
    assert "component:default/x" not in imported  # invalid YAML: nothing of that file
    assert not any(v["name"] in ("hidden", "new-service", "not-yaml-suffix")
                   for v in imported.values())  # fmt: skip

    [cycle] = problems(report, "cycle")
    assert "dependency cycle: " in cycle
    assert all(n in cycle for n in ("a →", "b →", "c →"))
    assert {("a", "b", "depends"), ("b", "c", "depends"), ("c", "a", "depends")} <= edges(db)
    assert problems(report, "self-dependency") == [
        "component:default/narcissus: dependsOn names the entity itself; ignored"
    ]
    assert not any(a == b for a, b, _ in edges(db))
    assert problems(report, "missing-owner") == [
        "component:default/orphan: has no owner (spec.owner)"
    ]
    dangling = problems(report, "dangling-reference")
    assert (
        "component:default/lonely: dependsOn names component:default/ghost, which is not in "
        "the catalog"
    ) in dangling
    assert any("'ghost2'" in d for d in dangling)
    assert problems(report, "unknown-kind") == [
        "Template:default/new-service: kind 'Template' is not a service, owner or location; "
        "not imported"
    ]
    invalid = problems(report, "invalid-reference")
    assert any("e3" in p and "empty entry" in p for p in invalid)
    assert any("e4" in p and "holds a dict" in p for p in invalid)
    assert ("e4", "good", "depends") in edges(db)
    assert ("e5", "db", "depends") in edges(db)
    assert {Path(s.path).name for s in report.skipped} == {"openapi.yaml", "blank.yaml"}
    assert report.read_any


def test_a_named_file_that_is_no_catalog_is_refused(db: Database, tmp_path: Path) -> None:
    spec = write(tmp_path, "petstore.oas.yaml", "openapi: 3.0.0\ninfo: {title: x}\n")
    empty = write(tmp_path, "empty.yaml", "")
    report = import_catalog(db, [spec, empty, tmp_path / "missing.yaml"])
    reasons = {Path(r.path).name: r.reason for r in report.refused}
    assert reasons["petstore.oas.yaml"].startswith("no catalog entity in it")
    assert reasons["empty.yaml"] == "empty file"
    assert reasons["missing.yaml"] == "no such file or folder (or a broken symlink)"
    assert not report.read_any


def test_load_documents_survives_hostile_yaml() -> None:
    # libyaml recurses on the C stack: 30,000 brackets would crash the process
    deep = "key: " + "[" * 40_000 + "]" * 40_000
    with pytest.raises(ValueError, match=r"nested too deeply \(40000 levels"):
        load_documents(deep.encode(), "deep.yaml")
    quoted = "a: '" + "[" * 40_000 + "'\n# {{{{{{{{{{{{{{{{{{{{{{{{{{{{{\nb: [[1]]\n"
    assert load_documents(quoted.encode(), "quoted.yaml")[0][1]["b"] == [[1]]
    with pytest.raises(ValueError, match="invalid YAML on line 2"):
        load_documents(b"a: 1\n  b: 2\n", "x.yaml")
    with pytest.raises(ValueError, match="too large"):
        load_documents(b"#" * (5 * 1024 * 1024 + 1), "big.yaml")
    assert load_documents(b"\xef\xbb\xbfa: 1\n---\n---\nb: 2\n", "bom.yaml") == [
        (1, {"a": 1}),
        (3, None),
        (4, {"b": 2}),
    ]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)  # fmt: skip


KINDS = ["Component", "Resource", "API", "System", "Domain", "Group", "User", "Location", "X"]


def backstage(kind: str, metadata: Any, spec: Any) -> Document:
    data = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}
    return Document("f.yaml", "/", 1, 1, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metadata=JSONISH, spec=JSONISH, kind=st.sampled_from(KINDS))
def test_no_backstage_shape_raises(metadata: Any, spec: Any, kind: str) -> None:
    collected = Collected()
    read_backstage(backstage(kind, metadata, spec), collected)
    nested = {"dependsOn": spec, "owner": metadata, "system": spec}
    read_backstage(backstage(kind, {"name": "n"}, nested), collected)
    resolve(collected.entities, owners={"group:default/x"})
    for entity in collected.entities:
        json.dumps(entity.relations_json())
        json.dumps(dict(entity.annotations))


@settings(max_examples=100, deadline=None)
@given(services=JSONISH, teams=JSONISH, compose=JSONISH, workload=JSONISH)
def test_no_other_format_shape_raises(
    services: Any, teams: Any, compose: Any, workload: Any
) -> None:
    collected = Collected()
    ours = {"catalog": 1, "services": services, "teams": teams}
    read_responder(Document("c.yaml", "/", 1, 1, ours), collected)
    read_responder(Document("d.yaml", "/", 1, 1, {"catalog": 1, "services": [services]}), collected)
    composed = {"services": {"svc": compose, "other": {"depends_on": compose, "links": compose}}}
    read_compose(Document("/p/docker-compose.yml", "/", 1, 1, composed), collected)
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}
    read_kubernetes(
        [
            Document("k.yaml", "/", 1, 1, {**deployment, "spec": workload}),
            Document("k.yaml", "/", 2, 9, {**service, "spec": workload}),
        ],
        collected,
    )
    resolve(collected.entities)


# ------------------------------------------------------------------ our own format


def test_our_own_format(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "catalog.yaml",
        """
        catalog: 1
        teams:
          - {name: team-orders, title: Orders, email: orders@example.com}
          - team-data
        services:
          - name: orders-api
            owner: team-orders
            system: checkout
            depends-on: [orders-db, cache]
            pagerduty: PORD001
            runbook: https://runbooks.example/orders
            links: [https://grafana.example/orders]
            colour: blue
          - {name: orders-db, kind: resource, type: database, owner: team-data}
          - {name: cache, kind: resource, owner: team-nobody, dependency_of: [reports]}
          - {name: reports, owner: team-data, consumes_apis: [orders-api]}
          - {name: checkout, kind: system, owner: team-orders}
          - {name: bad-kind, kind: cluster}
          - [not, a, mapping]
        extra: true
        """,
    )
    report = import_catalog(db, [path])
    stored = services(db)
    orders = stored["component:default/orders-api"]
    assert orders["annotations"] == {"pagerduty.com/service-id": "PORD001"}
    assert orders["links"] == [
        {"url": "https://runbooks.example/orders", "title": "Runbook"},
        {"url": "https://grafana.example/orders", "title": "https://grafana.example/orders"},
    ]
    assert ("orders-api", "orders-db", "depends") in edges(db)  # bare names resolve
    assert ("reports", "cache", "depends") in edges(db)
    assert ("checkout", "orders-api", "part") in edges(db)
    assert problems(report, "unknown-key") == [
        "component:default/orders-api: key 'colour' is not used (typo?)",
        "None: top-level key 'extra' is not used",
    ]
    assert problems(report, "unknown-owner") == [
        "resource:default/cache: owner group:default/team-nobody is not a Group or User in "
        "the catalog"
    ]
    # reports consumes "orders-api" as an API: there is none by that name
    assert problems(report, "dangling-reference") == [
        "component:default/reports: consumesApis names api:default/orders-api, which is not "
        "in the catalog"
    ]
    reasons = [r.reason for r in report.refused]
    assert any("kind 'cluster' is not one of component" in r for r in reasons)
    assert any("services[7] must be a mapping" in r for r in reasons)
    assert report.owners == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("catalog: 2\nservices: []\n", "catalog format version 2 is not supported"),
        ("catalog: true\nservices: []\n", "catalog format version True is not supported"),
        ("catalog: 1\nservices: orders\n", "'services' must be a list"),
        ("catalog: 1\nnamespace: 'a b'\nservices: []\n", "namespace: metadata.namespace"),
    ],
)
def test_our_format_refuses_the_file_when_its_top_level_is_wrong(
    db: Database, tmp_path: Path, text: str, reason: str
) -> None:
    report = import_catalog(db, [write(tmp_path, "c.yaml", text)])
    assert [r.reason for r in report.refused if reason in r.reason], report.refused


# ------------------------------------------------------------------ Compose, Kubernetes


def test_compose_projects_get_their_own_namespace(db: Database, tmp_path: Path) -> None:
    write(
        tmp_path,
        "shop/docker-compose.yml",
        """
        version: "3.9"
        services:
          web:
            image: shop/web:1.2
            depends_on: [api]
            labels: ["team=web-team"]
          api:
            image: shop/api
            depends_on:
              db: {condition: service_healthy}
              cache: {condition: service_started}
            links: ["queue:broker"]
          db: {image: "postgres:16"}
          cache: {image: "docker.io/library/redis:7-alpine"}
          queue: {image: rabbitmq}
          worker:
            image: shop/worker
            depends_on: [missing]
        """,
    )
    write(tmp_path, "blog/compose.yaml", "name: Blog\nservices:\n  web: {image: ghost}\n")
    report = import_catalog(db, [tmp_path])
    stored = services(db)
    assert stored["component:shop/web"]["owner"] == "web-team"
    assert stored["resource:shop/db"]["kind"] == "resource"
    assert stored["resource:shop/cache"]["kind"] == "resource"
    assert "component:blog/web" in stored  # no collision with shop/web
    assert {("web", "api", "depends"), ("api", "db", "depends"), ("api", "cache", "depends"),
            ("api", "queue", "depends")} <= edges(db)  # fmt: skip
    assert problems(report, "dangling-reference") == [
        "component:shop/worker: dependsOn names 'missing' in shop, which is not in the catalog"
    ]
    assert problems(report, "missing-owner") == []  # compose has no owners to miss


def test_kubernetes_addresses_resolve_through_service_selectors(
    db: Database, tmp_path: Path
) -> None:
    write(
        tmp_path,
        "k8s.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: frontend, labels: {team: web}}
        spec:
          template:
            metadata: {labels: {app: frontend}}
            spec:
              containers:
                - name: server
                  image: gcr.io/shop/frontend:v1
                  env:
                    - {name: USERS_URL, value: "http://users.default.svc.cluster.local:8080/v1"}
                    - {name: CART_SERVICE_ADDR, value: "cart:7070"}
                    - {name: STRIPE_API_URL, value: "https://api.stripe.com/v1"}
                    - {name: PORT, value: "8080"}
                    - {name: SEARCH_HOST, value: "search-svc"}
                    - {name: BIND_ADDR, value: "0.0.0.0:8080"}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: user-store}
        spec:
          template:
            metadata: {labels: {app: users}}
            spec: {containers: [{name: db, image: "mongo:6"}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: users}
        spec: {selector: {app: users}, ports: [{port: 8080}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: cart}
        spec: {template: {spec: {containers: [{name: c, image: shop/cart}]}}}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: frontend}
        ---
        apiVersion: v1
        kind: ConfigMap
        """,
    )
    report = import_catalog(db, [tmp_path])
    stored = services(db)
    assert stored["component:default/frontend"]["owner"] == "web"
    assert stored["resource:default/user-store"]["kind"] == "resource"  # a mongo image
    assert edges(db) == {
        ("frontend", "user-store", "depends"),  # through the Service's selector
        ("frontend", "cart", "depends"),  # a workload of that name
    }
    assert problems(report, "dangling-reference") == [
        "component:default/frontend: dependsOn names 'search-svc', which is not in the catalog"
    ]
    assert report.ignored == {"ServiceAccount": 1, "ConfigMap": 1}
    assert report.refused == []


# ------------------------------------------------------------------ re-import


def test_reimport_replaces_the_set_from_the_same_source(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    root = tmp_path / "team"
    write(root, "a.yaml", component("a", dependsOn=["component:b"]) + "\n---\n" + component("b"))
    write(root, "c.yaml", component("c", dependsOn=["component:a"]))
    first = import_catalog(db, [root], clock=clock)
    assert (first.added, first.removed) == (3, 0)
    before = services(db)

    clock.advance(hours=2)
    write(root, "a.yaml", component("a") + "\n---\n" + component("d"))  # b gone, d new
    write(root, "c.yaml", "apiVersion: [broken\n")  # refused: c keeps its last version
    second = import_catalog(db, [root], clock=clock)
    assert (second.added, second.updated, second.removed) == (1, 1, 1)
    after = services(db)
    assert set(after) == {"component:default/a", "component:default/c", "component:default/d"}
    assert after["component:default/a"]["id"] == before["component:default/a"]["id"]
    assert after["component:default/c"]["id"] == before["component:default/c"]["id"]
    assert edges(db) == {("c", "a", "depends")}
    assert raw_scalar(db.path, "SELECT fetched_at FROM cache_sets WHERE name = 'catalog'") == (
        "2026-03-01T11:00:00.000000Z"
    )


def test_sources_are_separate_and_references_cross_them(db: Database, tmp_path: Path) -> None:
    platform = write(tmp_path, "platform.yaml", component("db-proxy"))
    shop = write(tmp_path, "shop.yaml", component("shop", dependsOn=["component:db-proxy"]))
    import_catalog(db, [shop])
    assert edges(db) == set()  # db-proxy is not there yet: dangling
    report = import_catalog(db, [platform])
    assert report.removed == 0  # importing one source leaves the other alone
    assert edges(db) == {("shop", "db-proxy", "depends")}  # resolved when its target came
    write(tmp_path, "platform.yaml", component("other"))
    import_catalog(db, [platform])
    assert edges(db) == set()
    assert "component:default/shop" in services(db)
    write(tmp_path, "platform.yaml", component("db-proxy"))
    import_catalog(db, [platform])
    assert edges(db) == {("shop", "db-proxy", "depends")}  # back, shop untouched

    clash = write(tmp_path, "clash.yaml", component("shop"))
    refused = import_catalog(db, [clash])
    [reason] = [r.reason for r in refused.refused]
    assert f"already imported from {shop}" in reason
    assert services(db)["component:default/shop"]["source"] == str(shop)


def test_a_failed_write_changes_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path, "one.yaml", component("one", dependsOn=["component:two"]) + "\n---\n"
                 + component("two"))  # fmt: skip
    import_catalog(db, [root])
    before = (services(db), edges(db), raw_rows(db.path, "SELECT * FROM cache_sets"))
    write(tmp_path, "one.yaml", component("three"))

    def explode(*_args: Any) -> int:
        raise RuntimeError("disk went away half-way")

    monkeypatch.setattr(catalog_module, "_write_edges", explode)
    with pytest.raises(RuntimeError, match="half-way"):
        import_catalog(db, [root])
    assert (services(db), edges(db), raw_rows(db.path, "SELECT * FROM cache_sets")) == before


def test_cancel_before_the_write_changes_nothing(db: Database, tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", component("one"))

    class Cancelled:
        cancelled = True

    report = import_catalog(db, [tmp_path], cancel=Cancelled())
    assert report.cancelled
    assert services(db) == {}
    assert raw_rows(db.path, "SELECT * FROM cache_sets") == []


def test_progress_counts_files(db: Database, tmp_path: Path) -> None:
    for name in "abc":
        write(tmp_path, f"{name}.yaml", component(name))
    seen: list[tuple[int, int]] = []
    import_catalog(db, [tmp_path], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_the_shipped_demo_catalog_is_clean(db: Database) -> None:
    from console.resources import resources_dir

    report = import_catalog(db, [resources_dir() / "demo" / "catalog.yaml"])
    assert report.refused == []
    assert report.problems == []
    assert report.services >= 30
    assert report.owners == 6
