"""ServiceCatalog reads (graph, blast radius, details, lookups) and incidents naming services."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from console.catalog import ServiceCatalog
from console.domain.errors import InvalidInputError, NotFoundError
from console.domain.freshness import describe_age
from console.domain.incident import Severity, Status
from console.graph.traversal import Graph
from console.importers.catalog import import_catalog
from console.importers.runbooks import import_runbooks
from console.ops.export import export_json, export_markdown, incident_json
from console.ops.incidents import IncidentService
from console.ops.queries import Queries
from console.resources import resources_dir
from console.storage.db import Database
from tests.unit.support import FakeClock, raw_rows, raw_scalar

DEMO = resources_dir() / "demo" / "catalog.yaml"


@pytest.fixture
def catalog(db: Database, clock: FakeClock) -> ServiceCatalog:
    report = import_catalog(db, [DEMO], clock=clock)
    assert report.refused == []
    return ServiceCatalog(db, clock=clock)


def labels(items: object) -> list[tuple[str, int]]:
    return [(r.node.label, r.depth) for r in items]  # type: ignore[attr-defined]


def test_blast_radius_and_suspects_of_the_demo(catalog: ServiceCatalog) -> None:
    found = catalog.blast_radius("payments-gateway")
    assert found.service.display_ref == "component:default/payments-gateway"
    assert sorted(labels(found.suspects)) == [("card-processor", 1), ("postgres-main", 1)]
    assert sorted(labels(found.dependents)) == [
        ("checkout", 1),  # its system
        ("mobile-bff", 3),
        ("orders-api", 2),  # consumes the API
        ("payments-api", 1),  # the API it provides
        ("shipping-api", 3),
        ("storefront", 4),  # mobile-bff's system
    ]
    assert [r.depth for r in found.dependents] == sorted(r.depth for r in found.dependents)
    via = {r.node.label: r.via.label for r in found.dependents}
    assert via == {
        "checkout": "payments-gateway",
        "payments-api": "payments-gateway",
        "orders-api": "payments-api",
        "mobile-bff": "orders-api",
        "shipping-api": "orders-api",
        "storefront": "mobile-bff",
    }
    assert found.freshness is not None
    assert found.freshness.source == str(DEMO)


def test_blast_radius_matches_the_in_memory_graph(catalog: ServiceCatalog) -> None:
    view = catalog.graph()
    graph = Graph([(a, b) for a, b, _ in view.edges], [n.id for n in view.nodes])
    for node in view.nodes:
        found = catalog.blast_radius(node.display_ref)
        assert {(r.node.id, r.depth) for r in found.dependents} == {
            (r.node, r.depth) for r in graph.blast_radius(node.id)
        }
        assert {(r.node.id, r.depth) for r in found.suspects} == {
            (r.node, r.depth) for r in graph.suspects(node.id)
        }


def test_depth_limit(catalog: ServiceCatalog) -> None:
    near = catalog.blast_radius("postgres-main", max_depth=1)
    assert {r.depth for r in near.dependents} == {1}
    assert "auth-service" in {r.node.label for r in near.dependents}
    assert "storefront" not in {r.node.label for r in near.dependents}


def test_graph_holds_every_node_and_edge(catalog: ServiceCatalog, db: Database) -> None:
    view = catalog.graph()
    assert len(view.nodes) == raw_scalar(db.path, "SELECT count(*) FROM services")
    assert len(view.edges) == raw_scalar(db.path, "SELECT count(*) FROM service_dependencies")
    assert [n.label for n in view.nodes] == sorted((n.label for n in view.nodes), key=str.lower)
    kinds = {kind for _, _, kind in view.edges}
    assert kinds == {"depends", "api", "part"}
    assert catalog.count() == len(view.nodes)
    assert "payments-gateway" in catalog.names()


def test_find_by_name_namespace_and_ref(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "catalog: 1\nservices:\n"
        "  - {name: petstore, kind: api, owner: a}\n"
        "  - {name: petstore, owner: a}\n"
        "  - {name: petstore, namespace: lab, owner: a}\n"
        "  - {name: Orders-API, owner: a}\n",
        encoding="utf-8",
    )
    import_catalog(db, [path])
    catalog = ServiceCatalog(db)
    assert catalog.find("petstore").display_ref == "component:default/petstore"
    assert catalog.find("api:petstore").kind == "api"
    assert catalog.find("API:default/petstore").kind == "api"
    assert catalog.find("lab/petstore").namespace == "lab"
    assert catalog.find("component:lab/petstore").namespace == "lab"
    assert catalog.find("orders-api").name == "Orders-API"
    with pytest.raises(NotFoundError, match="did you mean Orders-API"):
        catalog.find("order-api")
    with pytest.raises(NotFoundError, match="the name is empty"):
        catalog.find("  ")


def test_an_empty_catalog_says_how_to_fill_it(db: Database) -> None:
    with pytest.raises(NotFoundError, match=r"the service catalog is empty .*import catalog"):
        ServiceCatalog(db).blast_radius("orders-api")
    assert ServiceCatalog(db).freshness() is None
    assert ServiceCatalog(db).graph().nodes == ()


def test_details_name_the_owner_runbooks_and_open_incidents(
    catalog: ServiceCatalog, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    books = tmp_path / "runbooks"
    books.mkdir()
    (books / "pool.md").write_text(
        "---\ntitle: Pool exhausted\nservices: [Payments-Gateway, orders-api]\n---\n# x\n",
        encoding="utf-8",
    )
    (books / "dns.md").write_text("---\ntitle: DNS\nservices: [api-gateway]\n---\n# y\n")
    import_runbooks(db, [books])
    service = IncidentService(db, actor="ana", clock=clock)
    live = service.declare("Checkout 5xx", Severity.SEV2, services=["payments-gateway"])
    over = service.declare("Old one", Severity.SEV3, services=["payments-gateway"])
    assert over.incident is not None
    service.change_status(over.incident.id, Status.RESOLVED)

    node = catalog.find("payments-gateway")
    details = catalog.details(node.id)
    assert details.owner is not None
    assert (details.owner.name, details.owner.title, details.owner.email) == (
        "team-payments",
        "Payments",
        "payments@larkspur.example",
    )
    assert details.pagerduty_service_id == "PPAY001"
    assert [r.title for r in details.runbooks] == ["Pool exhausted"]  # names it, any case
    assert live.incident is not None
    assert [(i.id, i.title) for i in details.incidents] == [(live.incident.id, "Checkout 5xx")]
    assert details.description == "Card payments via the PSP"
    assert details.source == str(DEMO)
    assert details.imported_at == clock.now
    with pytest.raises(NotFoundError):
        catalog.details(99_999)


def test_freshness_reads_as_an_age(catalog: ServiceCatalog, clock: FakeClock) -> None:
    fresh = catalog.freshness()
    assert fresh is not None
    clock.advance(hours=3, minutes=5)
    assert fresh.describe(clock.now) == f"imported 3 h ago from {DEMO}"
    assert fresh.age_seconds(clock.now) == 3 * 3600 + 300
    assert describe_age(clock.now - timedelta(days=2), clock.now) == "2 days ago"


# ------------------------------------------------------------------ incidents naming services


def test_declare_names_services_in_rows_entry_outbox_and_views(
    catalog: ServiceCatalog, db: Database, service: IncidentService, queries: Queries
) -> None:
    outcome = service.declare(
        "Checkout failing",
        Severity.SEV1,
        services=["orders-api", " PAYMENTS-GATEWAY ", "orders-api", ""],
    )
    assert outcome.incident is not None
    incident = outcome.incident
    assert [(s.name, s.ref) for s in incident.services] == [
        ("orders-api", "component:default/orders-api"),
        ("payments-gateway", "component:default/payments-gateway"),
    ]
    assert outcome.entry is not None
    assert outcome.entry.data["services"] == ["orders-api", "payments-gateway"]
    [payload] = raw_rows(db.path, "SELECT payload FROM outbox WHERE operation = 'incident.create'")
    assert json.loads(payload[0])["services"] == [
        {"ref": "component:default/orders-api", "name": "orders-api",
         "pagerduty_service_id": "PORD002"},
        {"ref": "component:default/payments-gateway", "name": "payments-gateway",
         "pagerduty_service_id": "PPAY001"},
    ]  # fmt: skip
    assert queries.incident(incident.id).services == incident.services
    assert queries.incidents()[0].services == incident.services
    assert incident_json(incident)["services"] == [
        {"name": "orders-api", "ref": "component:default/orders-api"},
        {"name": "payments-gateway", "ref": "component:default/payments-gateway"},
    ]
    assert json.loads(export_json(queries, incident.id))["incident"]["services"][0]["name"] == (
        "orders-api"
    )
    assert "- **Services:** orders-api, payments-gateway" in export_markdown(queries, incident.id)


def test_an_unknown_service_refuses_the_declaration(
    catalog: ServiceCatalog, db: Database, service: IncidentService
) -> None:
    with pytest.raises(
        InvalidInputError, match=r"no service 'order-api' .*did you mean orders-api"
    ):
        service.declare("x", Severity.SEV2, services=["orders-api", "order-api"])
    assert raw_scalar(db.path, "SELECT count(*) FROM incidents") == 0
    assert raw_scalar(db.path, "SELECT count(*) FROM incident_services") == 0
    assert raw_scalar(db.path, "SELECT count(*) FROM outbox") == 0


def test_an_incident_keeps_its_services_across_a_reimport(
    db: Database, service: IncidentService, queries: Queries, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("catalog: 1\nservices: [{name: a, owner: t}, {name: b, owner: t}]\n")
    import_catalog(db, [path])
    outcome = service.declare("x", Severity.SEV3, services=["a"])
    assert outcome.incident is not None
    path.write_text("catalog: 1\nservices: [{name: b, owner: t}]\n")
    import_catalog(db, [path])  # a is gone from the catalog …
    assert [s.name for s in queries.incident(outcome.incident.id).services] == ["a"]  # … kept
    path.write_text("catalog: 1\nservices: [{name: a, owner: t}, {name: b, owner: t}]\n")
    import_catalog(db, [path])
    a = ServiceCatalog(db).find("a")
    assert [i.title for i in ServiceCatalog(db).details(a.id).incidents] == ["x"]  # found again
