"""A scripted incident history with hand-computed metrics (tests/unit/test_metrics.py
states every expected figure and how it follows from this script).

Five incidents over January–March 2026, on the demo catalog's services:

====  ====  ==========================  =====================================================
 id   sev   services                    script (UTC)
====  ====  ==========================  =====================================================
 A    SEV1  payments-gateway, orders    alert 01-10 09:50, declared 10:00, IC 10:05, triage
                                        10:10, mitigating 10:30, resolved 11:50
 B    SEV2  payments-gateway            declared 01-20 08:00, triage 08:20, mitigating 08:30,
                                        resolved 09:00, mitigating 09:10 (did not hold),
                                        resolved 10:00
 C    SEV2  orders-api                  alert 02-05 11:30, declared 12:00, straight to
                                        resolved 12:45 (no acknowledgement), post-incident
                                        13:00, closed 14:00
 D    SEV3  —                           declared 03-03 09:00, IC 09:06, triage 09:10 (open)
 E    SEV4  postgres-main               declared 03-15 16:00, mitigating 16:03 (open)
====  ====  ==========================  =====================================================

Action items: A one done and one open due 02-01; B one open due 12-31 and one
dropped; D one open due 03-20; not linked: one open due 03-01 and one done.
The report is read on 2026-04-01 12:00 UTC (:data:`TODAY`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from console.comms.actions import ActionItems
from console.domain.clock import ManualClock
from console.domain.incident import Role, Severity, Status
from console.importers.catalog import import_catalog
from console.ops.incidents import ImportedEvent, IncidentService
from console.resources import resources_dir
from console.storage.db import Database

TODAY = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def write_history(db: Database, clock: ManualClock) -> dict[str, int]:
    """Write the history; returns the incident ids by letter. Leaves the clock at TODAY."""
    clock.now = at(1, 1, 0, 0)
    assert (
        import_catalog(db, [resources_dir() / "demo" / "catalog.yaml"], clock=clock).refused == []
    )
    service = IncidentService(db, actor="ana", clock=clock)
    items = ActionItems(db, actor="ana", clock=clock)
    ids: dict[str, int] = {}

    def declare(
        letter: str, when: datetime, severity: Severity, services: list[str], alert: datetime | None
    ) -> int:
        clock.now = when
        incident = service.declare(f"Incident {letter}", severity, services=services).incident
        assert incident is not None
        ids[letter] = incident.id
        if alert is not None:
            service.import_entries(incident.id, [ImportedEvent(alert, "alerts", "first alert")])
        return incident.id

    def status(incident_id: int, when: datetime, target: Status) -> None:
        clock.now = when
        service.change_status(incident_id, target)

    def commander(incident_id: int, when: datetime) -> None:
        clock.now = when
        service.assign_role(incident_id, Role.INCIDENT_COMMANDER, "ana")

    a = declare(
        "A", at(1, 10, 10, 0), Severity.SEV1, ["payments-gateway", "orders-api"], at(1, 10, 9, 50)
    )
    commander(a, at(1, 10, 10, 5))
    status(a, at(1, 10, 10, 10), Status.TRIAGE)
    status(a, at(1, 10, 10, 30), Status.MITIGATING)
    status(a, at(1, 10, 11, 50), Status.RESOLVED)
    done = items.add(
        "Alert on pool saturation", owner="ana", incident_id=a, due_on=date(2026, 1, 31)
    )
    items.done(done.id)
    items.add("Raise the pool limit", owner="ben", incident_id=a, due_on=date(2026, 2, 1))

    b = declare("B", at(1, 20, 8, 0), Severity.SEV2, ["payments-gateway"], None)
    status(b, at(1, 20, 8, 20), Status.TRIAGE)
    status(b, at(1, 20, 8, 30), Status.MITIGATING)
    status(b, at(1, 20, 9, 0), Status.RESOLVED)
    status(b, at(1, 20, 9, 10), Status.MITIGATING)
    status(b, at(1, 20, 10, 0), Status.RESOLVED)
    items.add("Canary the config push", owner="cy", incident_id=b, due_on=date(2026, 12, 31))
    dropped = items.add("Rewrite the gateway", owner="cy", incident_id=b)
    items.set_status(dropped.id, "dropped")

    c = declare("C", at(2, 5, 12, 0), Severity.SEV2, ["orders-api"], at(2, 5, 11, 30))
    status(c, at(2, 5, 12, 45), Status.RESOLVED)
    status(c, at(2, 5, 13, 0), Status.POST_INCIDENT)
    status(c, at(2, 5, 14, 0), Status.CLOSED)

    d = declare("D", at(3, 3, 9, 0), Severity.SEV3, [], None)
    commander(d, at(3, 3, 9, 6))
    status(d, at(3, 3, 9, 10), Status.TRIAGE)
    items.add("Document the failover", owner="dee", incident_id=d, due_on=date(2026, 3, 20))

    e = declare("E", at(3, 15, 16, 0), Severity.SEV4, ["postgres-main"], None)
    status(e, at(3, 15, 16, 3), Status.MITIGATING)

    clock.now = at(3, 1, 0, 0)
    items.add("Review paging rules", owner="eve", due_on=date(2026, 3, 1))
    items.done(items.add("Rotate the pager", owner="eve").id)
    clock.now = TODAY
    return ids
