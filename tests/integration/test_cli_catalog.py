"""The catalog commands through the real CLI: import catalog, blast-radius, declare --service."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli import as_json, ok, run
from tests.unit.support import INCIDENT_KEYS

REPO = Path(__file__).resolve().parents[2]
DEMO_CATALOG = REPO / "resources" / "demo" / "catalog.yaml"

IMPORT_KEYS = {
    "services", "added", "updated", "removed", "owners", "dependencies", "files", "sources",
    "refused", "problems", "skipped", "ignored", "cancelled",
}  # fmt: skip
REACHED_KEYS = {"name", "ref", "kind", "owner", "depth", "via"}


def test_import_catalog_reports_and_exits_by_what_was_refused(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "good.yaml").write_text(
        "catalog: 1\nservices:\n  - {name: api, owner: t, depends_on: [db, ghost]}\n"
        "  - {name: db, kind: resource, owner: t}\n",
        encoding="utf-8",
    )
    (folder / "broken.yaml").write_text("catalog: 1\nservices: [\n", encoding="utf-8")
    data = tmp_path / "data"

    result = run("import", "catalog", str(folder), "--json", data_dir=data)
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == IMPORT_KEYS
    assert (report["services"], report["added"], report["dependencies"]) == (2, 2, 1)
    assert report["sources"] == [str(folder)]
    [refused] = report["refused"]
    assert refused["path"] == str(folder / "broken.yaml")
    assert refused["reason"].startswith("invalid YAML on line 3")
    [problem] = report["problems"]
    assert set(problem) == {"path", "line", "entity", "problem", "message"}
    assert problem["problem"] == "dangling-reference"
    assert problem["entity"] == "component:default/api"
    assert f"{folder / 'broken.yaml'}: invalid YAML on line 3" in result.stderr
    assert "'ghost', which is not in the catalog [dangling-reference]" in result.stderr

    clean = run("import", "catalog", str(folder / "good.yaml"), data_dir=data)
    assert clean.returncode == 0, clean.stderr  # problems alone do not fail an import
    assert "2 services (0 new, 2 updated)" in clean.stdout  # the same file, moved over

    nothing = run("import", "catalog", str(folder / "broken.yaml"), data_dir=data)
    assert nothing.returncode == 1
    missing = run("import", "catalog", str(tmp_path / "nope"), data_dir=data)
    assert missing.returncode == 1
    assert "no such file or folder" in missing.stderr


def test_blast_radius_json_and_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run("import", "catalog", str(DEMO_CATALOG), data_dir=data))
    document = as_json(run("blast-radius", "postgres-main", "--json", data_dir=data))
    assert set(document) == {"service", "catalog", "dependents", "suspects"}
    assert document["service"] == {
        "name": "postgres-main",
        "ref": "resource:default/postgres-main",
        "kind": "resource",
        "owner": "team-data",
        "system": None,
    }
    assert set(document["catalog"]) == {"imported_at", "source", "age_seconds"}
    assert document["catalog"]["source"] == str(DEMO_CATALOG)
    assert 0 <= document["catalog"]["age_seconds"] < 600
    assert document["suspects"] == []
    assert all(set(r) == REACHED_KEYS for r in document["dependents"])
    first = {r["name"]: r for r in document["dependents"]}
    assert first["orders-api"]["depth"] == 1
    assert first["orders-api"]["via"] == "postgres-main"
    assert first["storefront"]["depth"] == 3
    depths = [r["depth"] for r in document["dependents"]]
    assert depths == sorted(depths)

    near = as_json(run("blast-radius", "postgres-main", "--depth", "1", "--json", data_dir=data))
    assert {r["depth"] for r in near["dependents"]} == {1}

    text = ok(run("blast-radius", "orders-api", data_dir=data))
    assert text.startswith("orders-api (component, owner team-orders)\n")
    assert "Catalog imported just now from" in text
    assert "Suspects — it depends on: 11" in text
    assert "   3  card-processor " in text  # through payments-api and payments-gateway

    unknown = run("blast-radius", "order-api", data_dir=data)
    assert unknown.returncode == 1
    assert "no service 'order-api' in the catalog; did you mean orders-api?" in unknown.stderr
    assert run("blast-radius", "x", "--depth", "0", data_dir=data).returncode == 2


def test_blast_radius_on_an_empty_catalog(tmp_path: Path) -> None:
    result = run("blast-radius", "orders-api", data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert "the service catalog is empty" in result.stderr


def test_declare_with_services(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(run("import", "catalog", str(DEMO_CATALOG), data_dir=data))
    declared = as_json(
        run(
            "incident", "declare", "--title", "Checkout 5xx", "--severity", "SEV2",
            "--service", "orders-api", "--service", "payments-gateway", "--json",
            data_dir=data,
        )
    )  # fmt: skip
    assert set(declared) == INCIDENT_KEYS
    assert declared["services"] == [
        {"name": "orders-api", "ref": "component:default/orders-api"},
        {"name": "payments-gateway", "ref": "component:default/payments-gateway"},
    ]
    listed = as_json(run("incident", "list", "--json", data_dir=data))
    assert listed["incidents"][0]["services"] == declared["services"]
    refused = run(
        "incident", "declare", "--title", "x", "--severity", "SEV3", "--service", "nope",
        data_dir=data,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "no service 'nope' in the catalog" in refused.stderr
    assert len(as_json(run("incident", "list", "--json", data_dir=data))["incidents"]) == 1


def test_the_demo_has_its_catalog_and_incidents_name_services(tmp_path: Path) -> None:
    base = tmp_path / "base"
    incidents = as_json(run("--demo", "incident", "list", "--json", data_dir=base))["incidents"]
    named = {i["title"]: [s["name"] for s in i["services"]] for i in incidents}
    assert named["Checkout failing with 5xx — payment confirmations time out"] == [
        "payments-gateway",
        "orders-api",
    ]
    radius = as_json(run("--demo", "blast-radius", "redis-cache", "--json", data_dir=base))
    assert radius["catalog"]["source"].endswith("catalog.yaml")
    assert {"auth-service", "cart-service"} <= {r["name"] for r in radius["dependents"]}
