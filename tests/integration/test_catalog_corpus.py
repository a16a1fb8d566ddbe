"""Real service graphs from the shared corpus through the catalog importer and the CLI:
Backstage's example catalog, Online Boutique's Kubernetes manifests (a dangling
address, a release file repeating every manifest) and DeathStarBench's Compose files
(partial depends_on, none at all in mediaMicroservices)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.catalog import ServiceCatalog
from console.importers.catalog import import_catalog
from console.storage.db import Database, open_database
from tests import shared
from tests.integration.test_cli import run

CORPUS = shared.CORPUS
BACKSTAGE = CORPUS / "backstage-catalog-examples" / "examples"
BOUTIQUE = CORPUS / "online-boutique"
DEATHSTAR = CORPUS / "deathstarbench"
pytestmark = shared.needs(BACKSTAGE, BOUTIQUE, DEATHSTAR, what="the service-graph corpus")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "console.db")
    yield database
    database.close()


def names(items: object) -> dict[str, int]:
    return {r.node.label: r.depth for r in items}  # type: ignore[attr-defined]


def test_backstage_examples(db: Database) -> None:
    report = import_catalog(db, [BACKSTAGE])
    assert report.refused == []
    assert report.problems == []
    assert report.services == 28  # 13 components, 11 APIs, 3 systems, 2 domains, 1 resource
    assert report.owners == 25
    assert sorted(Path(s.path).name for s in report.skipped) == [
        "petstore-webhook.oas.yaml",  # OpenAPI definitions beside the APIs
        "petstore.oas.yaml",
    ]
    catalog = ServiceCatalog(db)
    radius = catalog.blast_radius("artists-db")
    assert names(radius.dependents) == {
        "artist-lookup": 1,
        "artist-engagement-portal": 1,  # the system it is part of
        "www-artist": 2,  # consumesApis: ['component:artist-lookup']
        "artists": 2,  # the domain of that system
    }
    # wayback-archive is both a Component and an API: a bare name means the component
    assert catalog.find("wayback-archive").kind == "component"
    assert catalog.find("api:wayback-archive").kind == "api"
    search = catalog.blast_radius("wayback-search")
    assert {(r.node.display_ref, r.depth) for r in search.suspects} == {
        ("api:default/wayback-archive", 1),  # the API it consumes …
        ("component:default/wayback-archive", 2),  # … needs the component providing it …
        ("component:default/wayback-archive-ingestion", 3),  # … which needs its parts
        ("component:default/wayback-archive-storage", 3),
    }


def test_backstage_location_file_alone_reaches_the_same_catalog(db: Database) -> None:
    report = import_catalog(db, [BACKSTAGE / "all.yaml", BACKSTAGE / "acme-corp.yaml"])
    assert report.refused == []
    assert report.services == 28
    assert report.owners == 25


def test_online_boutique_manifests(db: Database) -> None:
    report = import_catalog(db, [BOUTIQUE / "kubernetes-manifests"])
    assert report.refused == []
    assert report.services == 12
    assert report.dependencies == 16
    assert [p.message for p in report.problems] == [
        "dependsOn names 'shoppingassistantservice', which is not in the catalog"
    ]
    assert report.ignored == {"ServiceAccount": 11, "Kustomization": 1}
    catalog = ServiceCatalog(db)
    checkout = catalog.blast_radius("checkoutservice")
    assert set(names(checkout.suspects)) == {
        "productcatalogservice", "shippingservice", "paymentservice", "emailservice",
        "currencyservice", "cartservice", "redis-cart",
    }  # fmt: skip
    assert names(checkout.dependents) == {"frontend": 1, "loadgenerator": 2}
    assert catalog.find("redis-cart").kind == "resource"


def test_online_boutique_release_file_repeats_every_manifest(db: Database) -> None:
    report = import_catalog(db, [BOUTIQUE])
    assert report.services == 12
    assert len(report.refused) == 12
    release = BOUTIQUE / "release" / "kubernetes-manifests.yaml"
    assert {r.path for r in report.refused} == {str(release)}
    assert all("duplicate — already defined in" in r.reason for r in report.refused)


def test_deathstarbench_compose_projects(db: Database) -> None:
    report = import_catalog(db, [DEATHSTAR])
    assert report.refused == []
    assert report.problems == []
    catalog = ServiceCatalog(db)
    namespaces = {n.namespace for n in catalog.graph().nodes}
    assert namespaces == {"hotelreservation", "mediamicroservices", "socialnetwork"}
    graph = catalog.graph()
    by_id = {n.id: n for n in graph.nodes}
    media_edges = [e for e in graph.edges if by_id[e[0]].namespace == "mediamicroservices"]
    assert media_edges == []  # its compose file has no depends_on at all
    consul = catalog.blast_radius("hotelreservation/consul")
    assert len(consul.dependents) >= 9
    assert catalog.find("hotelreservation/mongodb-geo").kind == "resource"


def test_the_whole_corpus_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run(
        "import", "catalog", str(BACKSTAGE), str(BOUTIQUE / "kubernetes-manifests"),
        str(DEATHSTAR), "--json", data_dir=data,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["services"] == 28 + 12 + 84
    again = run("import", "catalog", str(DEATHSTAR), "--json", data_dir=data)
    assert json.loads(again.stdout)["updated"] == 84  # same source: replaced in place
    radius = json.loads(run("blast-radius", "cartservice", "--json", data_dir=data).stdout)
    assert {r["name"] for r in radius["dependents"]} == {
        "checkoutservice", "frontend", "loadgenerator"
    }  # fmt: skip
