"""Metrics on a scripted history with hand-computed answers (tests/metrics_history.py).

Seconds per incident, each from its first sign (alert or declaration):

=====  =======  ===========  ==========  ==========
 inc   detect   acknowledge  mitigate    resolve
=====  =======  ===========  ==========  ==========
 A     600      900          2400        7200
 B     0        1200         1800        7200 (the last resolve that held)
 C     1800     —            4500        4500 (resolved straight from open)
 D     0        360          —           open
 E     0        180          180         open
=====  =======  ===========  ==========  ==========
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from console.cli import main
from console.comms.actions import parse_day
from console.comms.response import response_times
from console.domain.errors import InvalidInputError
from console.domain.incident import Severity
from console.metrics import MetricsFilter, read_metrics, report_json, report_text
from console.metrics.report import summarize
from console.ops.queries import Queries
from console.storage.db import Database
from tests.metrics_history import TODAY, write_history
from tests.unit.support import FakeClock


def summary(count: int, missing: int, mean: float, median: float, p90: float) -> dict[str, object]:
    return {"count": count, "missing": missing, "mean_s": mean, "median_s": median, "p90_s": p90}


def counts(open_: int, overdue: int, done: int, dropped: int) -> dict[str, int]:
    return {"open": open_, "overdue": overdue, "done": done, "dropped": dropped}


@pytest.fixture
def history(db: Database, clock: FakeClock) -> dict[str, int]:
    return write_history(db, clock)


def test_every_metric_of_the_scripted_history(db: Database, history: dict[str, int]) -> None:
    document = report_json(read_metrics(db, MetricsFilter(), now=TODAY))
    assert document["incidents"] == {"total": 5, "open": 2}
    assert document["times"] == {
        # [0, 0, 0, 600, 1800]: mean 480, median 0, p90 = sorted[ceil(4.5) - 1] = 1800
        "detect": summary(5, 0, 480.0, 0.0, 1800.0),
        # [180, 360, 900, 1200] (C has none): mean 660, median (360 + 900) / 2, p90 sorted[3]
        "acknowledge": summary(4, 1, 660.0, 630.0, 1200.0),
        # [180, 1800, 2400, 4500] (D never mitigating)
        "mitigate": summary(4, 1, 2220.0, 2100.0, 4500.0),
        # [4500, 7200, 7200] (D and E open): mean 6300, p90 sorted[ceil(2.7) - 1]
        "resolve": summary(3, 2, 6300.0, 7200.0, 7200.0),
    }
    assert document["by_severity"] == {"SEV1": 1, "SEV2": 2, "SEV3": 1, "SEV4": 1}
    assert document["by_service"] == {"orders-api": 2, "payments-gateway": 2, "postgres-main": 1}
    assert document["by_month"] == [
        {
            "month": "2026-01",
            "incidents": 2,
            "open": 0,
            "median_s": {
                "detect": 300.0,
                "acknowledge": 1050.0,
                "mitigate": 2100.0,
                "resolve": 7200.0,
            },
            "action_items": counts(2, 1, 1, 1),  # A: done + open due 02-01; B: open, dropped
        },
        {
            "month": "2026-02",
            "incidents": 1,
            "open": 0,
            "median_s": {
                "detect": 1800.0,
                "acknowledge": None,
                "mitigate": 4500.0,
                "resolve": 4500.0,
            },
            "action_items": counts(0, 0, 0, 0),
        },
        {
            "month": "2026-03",
            "incidents": 2,
            "open": 2,
            "median_s": {"detect": 0.0, "acknowledge": 270.0, "mitigate": 180.0, "resolve": None},
            "action_items": counts(1, 1, 0, 0),
        },
    ]
    assert document["action_items"] == {**counts(3, 2, 1, 1), "not_linked": counts(1, 1, 1, 0)}
    per = {row["title"][-1]: row for row in document["per_incident"]}  # type: ignore[attr-defined]
    assert {k: per[k]["seconds"] for k in "ABCDE"} == {
        "A": {"detect": 600.0, "acknowledge": 900.0, "mitigate": 2400.0, "resolve": 7200.0},
        "B": {"detect": 0.0, "acknowledge": 1200.0, "mitigate": 1800.0, "resolve": 7200.0},
        "C": {"detect": 1800.0, "acknowledge": None, "mitigate": 4500.0, "resolve": 4500.0},
        "D": {"detect": 0.0, "acknowledge": 360.0, "mitigate": None, "resolve": None},
        "E": {"detect": 0.0, "acknowledge": 180.0, "mitigate": 180.0, "resolve": None},
    }
    assert [per[k]["open"] for k in "ABCDE"] == [False, False, False, True, True]
    assert per["A"]["started_at"] == "2026-01-10T09:50:00.000000Z"
    assert per["A"]["services"] == ["orders-api", "payments-gateway"]
    assert document["notes"] == [
        "2 incidents still open: not in time to resolve.",
        "1 incident without an acknowledgement (no commander assigned, never moved to "
        "triage or mitigating): not counted in time to acknowledge.",
        "1 incident never mitigating: not in time to mitigate.",
    ]


def test_times_are_the_postmortems_definition(db: Database, history: dict[str, int]) -> None:
    """Reading only the lifecycle entries gives what the postmortem computes from all."""
    report = read_metrics(db, MetricsFilter(), now=TODAY)
    queries = Queries(db)
    for incident in report.incidents:
        full = queries.incident(incident.id)
        assert incident.times == response_times(full.declared_at, queries.timeline(incident.id))


@pytest.mark.parametrize(
    ("chosen", "letters", "actions"),
    [
        (MetricsFilter(since=date(2026, 2, 1)), "CDE", counts(1, 1, 0, 0)),
        (MetricsFilter(until=date(2026, 1, 31)), "AB", counts(2, 1, 1, 1)),
        (MetricsFilter(since=date(2026, 1, 20), until=date(2026, 1, 20)), "B", counts(1, 0, 0, 1)),
        (MetricsFilter(severity=Severity.SEV2), "BC", counts(1, 0, 0, 1)),
        (MetricsFilter(service=" ORDERS-API "), "AC", counts(1, 1, 1, 0)),
        (MetricsFilter(service="Resource:default/postgres-main"), "E", counts(0, 0, 0, 0)),
        (
            MetricsFilter(service="payments-gateway", severity=Severity.SEV1),
            "A",
            counts(1, 1, 1, 0),
        ),
    ],
)
def test_filters(
    db: Database,
    history: dict[str, int],
    chosen: MetricsFilter,
    letters: str,
    actions: dict[str, int],
) -> None:
    report = read_metrics(db, chosen, now=TODAY)
    assert "".join(i.title[-1] for i in report.incidents) == letters
    document = report_json(report)
    assert document["action_items"] == {**actions, "not_linked": counts(1, 1, 1, 0)}


def test_one_incident_gives_its_own_values(db: Database, history: dict[str, int]) -> None:
    report = read_metrics(db, MetricsFilter(severity=Severity.SEV1), now=TODAY)
    times = report_json(report)["times"]
    assert times["resolve"] == summary(1, 0, 7200.0, 7200.0, 7200.0)  # type: ignore[index]
    assert times["acknowledge"] == summary(1, 0, 900.0, 900.0, 900.0)  # type: ignore[index]
    assert report.notes == ()
    assert [m.month for m in report.months] == ["2026-01"]


def test_no_incidents(db: Database) -> None:
    report = read_metrics(db, MetricsFilter(), now=TODAY)
    document = report_json(report)
    empty = {"count": 0, "missing": 0, "mean_s": None, "median_s": None, "p90_s": None}
    assert document["times"] == dict.fromkeys(
        ("detect", "acknowledge", "mitigate", "resolve"), empty
    )
    assert document["incidents"] == {"total": 0, "open": 0}
    assert document["by_severity"] == {"SEV1": 0, "SEV2": 0, "SEV3": 0, "SEV4": 0}
    assert (document["by_month"], document["per_incident"], document["by_service"]) == ([], [], {})
    assert document["notes"] == ["No incident matches."]
    assert "Incidents (all incidents): 0, 0 open" in report_text(report)


def test_months_without_incidents_are_listed_empty(db: Database, history: dict[str, int]) -> None:
    report = read_metrics(db, MetricsFilter(severity=Severity.SEV2), now=TODAY)
    assert [(m.month, m.incidents) for m in report.months] == [("2026-01", 1), ("2026-02", 1)]
    report = read_metrics(db, MetricsFilter(service="payments-gateway"), now=TODAY)
    assert [(m.month, m.incidents) for m in report.months] == [("2026-01", 2)]


def test_damaged_lifecycle_data_moves_nothing(db: Database, history: dict[str, int]) -> None:
    with db.raw_writer() as raw:
        raw.execute(
            "UPDATE timeline_entries SET data = 'not json' WHERE incident_id = ? "
            "AND kind = 'status_change'",
            (history["E"],),
        )
    report = read_metrics(db, MetricsFilter(severity=Severity.SEV4), now=TODAY)
    assert report_json(report)["per_incident"][0]["seconds"] == {  # type: ignore[index]
        "detect": 0.0,
        "acknowledge": None,
        "mitigate": None,
        "resolve": None,
    }


def test_summaries_by_hand() -> None:
    assert summarize([]) == summarize([None]).__class__(0, 0, None, None, None)
    assert summarize([None, 5.0]).missing == 1
    ten = summarize([float(v) for v in range(1, 11)])  # 1..10
    assert (ten.mean, ten.median, ten.p90) == (5.5, 5.5, 9.0)
    eleven = summarize([float(v) for v in range(1, 12)])  # ceil(9.9) = 10th value
    assert (eleven.median, eleven.p90) == (6.0, 10.0)


def test_bad_filters_are_refused_clearly() -> None:
    with pytest.raises(InvalidInputError, match="--since 2026-03-01 is after --until 2026-02-01"):
        MetricsFilter(since=date(2026, 3, 1), until=date(2026, 2, 1))
    with pytest.raises(InvalidInputError, match="the service to filter by is empty"):
        MetricsFilter(service="  ")
    with pytest.raises(InvalidInputError, match="--since '2026-13-01' is not a date"):
        parse_day("2026-13-01", "--since")
    assert parse_day(" ") is None


# --------------------------------------------------------------------------- CLI


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *args], stdout=out)
    return code, out.getvalue()


def test_cli_json_and_text(data_dir: Path, db: Database, history: dict[str, int]) -> None:
    code, text = run(data_dir, "metrics", "--json", "--since", "2026-01-01", "--severity", "2")
    assert code == 0
    document = json.loads(text)
    assert set(document) == {
        "filter",
        "generated_at",
        "incidents",
        "times",
        "by_severity",
        "by_service",
        "by_month",
        "action_items",
        "per_incident",
        "notes",
    }
    assert document["filter"] == {
        "since": "2026-01-01",
        "until": None,
        "severity": "SEV2",
        "service": None,
    }
    assert document["incidents"] == {"total": 2, "open": 0}
    assert document["times"]["resolve"] == summary(2, 0, 5850.0, 5850.0, 7200.0)
    code, text = run(data_dir, "metrics", "--service", "orders-api")
    assert code == 0
    assert text.startswith("Incidents (service orders-api): 2, 0 open\n")
    assert "Time to resolve" in text
    assert "By service: orders-api 2 · payments-gateway 1" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday"), "--since 'yesterday' is not a date like 2026-12-31"),
        (("--severity", "SEV9"), "unknown severity 'SEV9'"),
        (("--since", "2026-02-02", "--until", "2026-02-01"), "is after --until"),
    ],
)
def test_cli_refuses_bad_filters(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, text = run(data_dir, "metrics", *args)
    assert code == 2  # InvalidInputError: a usage problem, nothing read
    assert text == ""
    assert message in capsys.readouterr().err
